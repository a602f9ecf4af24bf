//! Row programs: straight-line arithmetic over the per-row values of a set of columns, evaluated for every row of a
//! domain or coset. This is how the prover hands the quotient numerator (and lookup compressions) to an engine as
//! data, so a GPU engine can evaluate the same program on device-resident columns.
//!
//! Semantics of [`RowProgram`] for a call with columns `c`, coset point `g`, step `omega` and folding factor `y`,
//! at row r of n: `X = g * omega^r`; `Column { column, rotation }` reads `c[column][(r + rotation) mod n]`; the
//! outputs are folded as `acc = acc * y + value(output)` in order, and `acc` is row r's result.

use std::collections::HashMap;

use halo2_proofs::halo2curves::ff::{Field, PrimeField};

use crate::Fr;

/// One instruction; operands index earlier instructions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Column { column: u32, rotation: i32 },
    Constant(Fr),
    /// The row's evaluation point g * omega^r.
    X,
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Neg(u32),
    Scale(u32, Fr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Column(u32, i32),
    Constant([u8; 32]),
    X,
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Neg(u32),
    Scale(u32, [u8; 32]),
}

/// A program plus the builder state that deduplicates identical instructions.
#[derive(Clone, Debug, Default)]
pub struct RowProgram {
    pub ops: Vec<Op>,
    pub outputs: Vec<u32>,
    pub num_columns: usize,
    dedup: HashMap<Key, u32>,
}

/// Handle to an instruction of a program being built.
pub type Node = u32;

impl RowProgram {
    pub fn new(num_columns: usize) -> Self {
        RowProgram {
            num_columns,
            ..Default::default()
        }
    }

    fn push(&mut self, key: Key, op: Op) -> Node {
        if let Some(&n) = self.dedup.get(&key) {
            return n;
        }
        let n = self.ops.len() as Node;
        self.ops.push(op);
        self.dedup.insert(key, n);
        n
    }

    pub fn column(&mut self, column: usize, rotation: i32) -> Node {
        assert!(column < self.num_columns, "column {column} out of range");
        self.push(Key::Column(column as u32, rotation), Op::Column { column: column as u32, rotation })
    }
    pub fn constant(&mut self, c: Fr) -> Node {
        self.push(Key::Constant(c.to_repr()), Op::Constant(c))
    }
    pub fn x(&mut self) -> Node {
        self.push(Key::X, Op::X)
    }
    pub fn add(&mut self, a: Node, b: Node) -> Node {
        let (a, b) = (a.min(b), a.max(b));
        self.push(Key::Add(a, b), Op::Add(a, b))
    }
    pub fn sub(&mut self, a: Node, b: Node) -> Node {
        self.push(Key::Sub(a, b), Op::Sub(a, b))
    }
    pub fn mul(&mut self, a: Node, b: Node) -> Node {
        let (a, b) = (a.min(b), a.max(b));
        self.push(Key::Mul(a, b), Op::Mul(a, b))
    }
    pub fn neg(&mut self, a: Node) -> Node {
        self.push(Key::Neg(a), Op::Neg(a))
    }
    pub fn scale(&mut self, a: Node, c: Fr) -> Node {
        self.push(Key::Scale(a, c.to_repr()), Op::Scale(a, c))
    }
    /// Appends an output to the fold.
    pub fn output(&mut self, n: Node) {
        self.outputs.push(n);
    }

    /// The largest |rotation| used (for callers that size padded buffers).
    pub fn max_rotation(&self) -> i32 {
        self.ops
            .iter()
            .filter_map(|op| match op {
                Op::Column { rotation, .. } => Some(rotation.abs()),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// Reference interpreter, one row at a time, used by the CPU engine. `scratch` holds one value per instruction.
#[inline]
pub fn eval_row(program: &RowProgram, columns: &[&[Fr]], row: usize, x: Fr, y: Fr, scratch: &mut [Fr]) -> Fr {
    let n = columns.first().map_or(1, |c| c.len()) as i64;
    for (i, op) in program.ops.iter().enumerate() {
        let v = match *op {
            Op::Column { column, rotation } => {
                let idx = (row as i64 + rotation as i64).rem_euclid(n) as usize;
                columns[column as usize][idx]
            }
            Op::Constant(c) => c,
            Op::X => x,
            Op::Add(a, b) => scratch[a as usize] + scratch[b as usize],
            Op::Sub(a, b) => scratch[a as usize] - scratch[b as usize],
            Op::Mul(a, b) => scratch[a as usize] * scratch[b as usize],
            Op::Neg(a) => -scratch[a as usize],
            Op::Scale(a, c) => scratch[a as usize] * c,
        };
        scratch[i] = v;
    }
    let mut acc = Fr::ZERO;
    for &o in &program.outputs {
        acc = acc * y + scratch[o as usize];
    }
    acc
}

