//! Our layouter: the whole circuit is one region filled row by row. [`RowLayouter`] allocates rows, assigns cells,
//! deduplicates constants and records public values and per-section row counts; it writes through a [`Sink`] — a
//! halo2 region when proving, a counter or recorder otherwise (the public seam tests wrap to change cells).

use std::collections::HashMap;

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::plonk::{Advice, Any, Column, Fixed};

use crate::columns::Columns;
use crate::error::{CircuitError, Result};

/// An integer as a field element (negative values as p − |v|).
pub fn to_field(v: i128) -> Fr {
    // ff's `from_u128` doubles 128 times; almost every cell fits a u64, which converts in one Montgomery step.
    let m = v.unsigned_abs();
    let f = if m >> 64 == 0 { Fr::from(m as u64) } else { Fr::from(m as u64) + Fr::from((m >> 64) as u64) * Fr::from_u128(1 << 64) };
    if v >= 0 {
        f
    } else {
        -f
    }
}

/// The destination of the layout's writes.
pub trait Sink {
    fn advice(&mut self, col: Column<Advice>, row: usize, v: Fr);
    fn fixed(&mut self, col: Column<Fixed>, row: usize, v: Fr);
    fn copy(&mut self, a: Cell, b: Cell);
}

/// Writes into a halo2 region (the whole circuit is one region at offset 0).
pub struct RegionSink<'r, 'a> {
    pub region: &'r mut Region<'a, Fr>,
}

impl Sink for RegionSink<'_, '_> {
    fn advice(&mut self, col: Column<Advice>, row: usize, v: Fr) {
        self.region.assign_advice(col, row, Value::known(v));
    }
    fn fixed(&mut self, col: Column<Fixed>, row: usize, v: Fr) {
        self.region.assign_fixed(col, row, v);
    }
    fn copy(&mut self, a: Cell, b: Cell) {
        self.region.constrain_equal(a, b);
    }
}

/// Counts only (circuit_stats).
#[derive(Default)]
pub struct CountSink {
    pub advice: usize,
    pub copies: usize,
}

impl Sink for CountSink {
    fn advice(&mut self, _: Column<Advice>, _: usize, _: Fr) {
        self.advice += 1;
    }
    fn fixed(&mut self, _: Column<Fixed>, _: usize, _: Fr) {}
    fn copy(&mut self, _: Cell, _: Cell) {
        self.copies += 1;
    }
}

/// Records every advice cell the layout assigns (the mutation tests sample from these).
#[derive(Default)]
pub struct RecordSink {
    pub cells: Vec<(usize, usize)>,
}

impl Sink for RecordSink {
    fn advice(&mut self, col: Column<Advice>, row: usize, _: Fr) {
        self.cells.push((col.index(), row));
    }
    fn fixed(&mut self, _: Column<Fixed>, _: usize, _: Fr) {}
    fn copy(&mut self, _: Cell, _: Cell) {}
}

/// Hashes everything that fixes the circuit apart from its columns: every fixed value and every copy constraint,
/// in layout order. Two segments with equal digests (and equal shapes) have identical keys.
pub struct DigestSink {
    pub state: blake2b_simd::State,
}

impl DigestSink {
    fn cell(&mut self, c: Cell) {
        let kind: u8 = match c.column.column_type() {
            halo2_proofs::plonk::Any::Advice(_) => 0,
            halo2_proofs::plonk::Any::Fixed => 1,
            halo2_proofs::plonk::Any::Instance => 2,
        };
        self.state.update(&[kind]);
        self.state.update(&(c.column.index() as u64).to_le_bytes());
        self.state.update(&(c.row_offset as u64).to_le_bytes());
    }
}

impl Sink for DigestSink {
    fn advice(&mut self, _: Column<Advice>, _: usize, _: Fr) {}
    fn fixed(&mut self, col: Column<Fixed>, row: usize, v: Fr) {
        self.state.update(b"f");
        self.state.update(&(col.index() as u64).to_le_bytes());
        self.state.update(&(row as u64).to_le_bytes());
        self.state.update(v.to_repr().as_ref());
    }
    fn copy(&mut self, a: Cell, b: Cell) {
        self.state.update(b"c");
        self.cell(a);
        self.cell(b);
    }
}

/// An assigned cell holding a small integer.
#[derive(Clone, Copy, Debug)]
pub struct Wire {
    pub cell: Cell,
    pub val: i64,
}

/// An assigned cell holding any field element.
#[derive(Clone, Copy, Debug)]
pub struct FWire {
    pub cell: Cell,
    pub val: Fr,
}

pub struct RowLayouter<'s> {
    pub sink: &'s mut dyn Sink,
    pub cols: &'s Columns,
    next_row: usize,
    constants: HashMap<[u8; 32], Cell>,
    constants_row: usize,
    /// Public values, in instance-column order.
    pub public: Vec<Fr>,
    /// Rows used per section (layer or commitment), in layout order.
    pub sections: Vec<(String, usize)>,
    section_start: usize,
}

impl<'s> RowLayouter<'s> {
    pub fn new(sink: &'s mut dyn Sink, cols: &'s Columns) -> Self {
        RowLayouter { sink, cols, next_row: 0, constants: HashMap::new(), constants_row: 0, public: Vec::new(), sections: Vec::new(), section_start: 0 }
    }

    pub fn rows_used(&self) -> usize {
        self.next_row
    }

    /// Closes the current section under `name`.
    pub fn end_section(&mut self, name: &str) {
        self.sections.push((name.to_string(), self.next_row - self.section_start));
        self.section_start = self.next_row;
    }

    pub fn alloc(&mut self, rows: usize) -> Result<usize> {
        let start = self.next_row;
        self.next_row += rows;
        let usable = self.cols.shape.usable_rows();
        if self.next_row > usable {
            return Err(CircuitError::TooLarge { need: self.cols.shape.k + 1, max: self.cols.shape.k });
        }
        Ok(start)
    }

    fn cell(col: Column<Any>, row: usize) -> Cell {
        Cell { row_offset: row, column: col }
    }

    pub fn put_f(&mut self, col: usize, row: usize, v: Fr) -> FWire {
        let c = self.cols.advice[col];
        self.sink.advice(c, row, v);
        FWire { cell: Self::cell(c.into(), row), val: v }
    }

    pub fn put(&mut self, col: usize, row: usize, v: i64) -> Wire {
        let w = self.put_f(col, row, to_field(v as i128));
        Wire { cell: w.cell, val: v }
    }

    /// A witness cell no gate reads (a salt), alone in the last column of a fresh row.
    pub fn put_free(&mut self, v: Fr) -> Result<FWire> {
        let row = self.alloc(1)?;
        Ok(self.put_f(self.cols.shape.width - 1, row, v))
    }

    /// A new cell equal to `src` (copy-constrained).
    pub fn copy_in(&mut self, col: usize, row: usize, src: &Wire) -> Wire {
        let w = self.put(col, row, src.val);
        self.sink.copy(src.cell, w.cell);
        w
    }

    pub fn copy_in_f(&mut self, col: usize, row: usize, src: &FWire) -> FWire {
        let w = self.put_f(col, row, src.val);
        self.sink.copy(src.cell, w.cell);
        w
    }

    pub fn equal(&mut self, a: Cell, b: Cell) {
        self.sink.copy(a, b);
    }

    pub fn fixed(&mut self, col: Column<Fixed>, row: usize, v: Fr) {
        if v != Fr::ZERO {
            self.sink.fixed(col, row, v);
        }
    }

    pub fn set(&mut self, sel: Column<Fixed>, row: usize) {
        self.sink.fixed(sel, row, Fr::ONE);
    }

    pub fn param(&mut self, i: usize, row: usize, v: Fr) {
        self.fixed(self.cols.params[i], row, v);
    }

    pub fn tag(&mut self, lane: usize, row: usize, tag: u64) {
        self.fixed(self.cols.tags[lane], row, Fr::from(tag));
    }

    /// The constants-column cell holding `v` (one per distinct value).
    pub fn constant_cell(&mut self, v: Fr) -> Result<Cell> {
        let key = v.to_repr();
        if let Some(c) = self.constants.get(&key) {
            return Ok(*c);
        }
        if self.constants_row >= self.cols.shape.usable_rows() {
            return Err(CircuitError::TooLarge { need: self.cols.shape.k + 1, max: self.cols.shape.k });
        }
        let row = self.constants_row;
        self.constants_row += 1;
        self.sink.fixed(self.cols.constants, row, v);
        let c = Self::cell(self.cols.constants.into(), row);
        self.constants.insert(key, c);
        Ok(c)
    }

    pub fn constant(&mut self, v: i64) -> Result<Wire> {
        Ok(Wire { cell: self.constant_cell(to_field(v as i128))?, val: v })
    }

    /// Exposes a cell as the next public (instance) value.
    pub fn publish(&mut self, cell: Cell, v: Fr) {
        let row = self.public.len();
        self.public.push(v);
        self.sink.copy(cell, Self::cell(self.cols.instance.into(), row));
    }
}
