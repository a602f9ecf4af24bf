//! A two-column (tuple) lookup, so the theta compression is exercised: every (x, y) pair in the witness must be a
//! row of the fixed table (t, t^3 + 7) for t < 512, with the pairs' x values repeating (runs of equal inputs in
//! the permuted column) and the sum of y exposed publicly through a running-sum gate.

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Instance, Selector, TableColumn};
use halo2_proofs::poly::Rotation;

use super::{k_for_rows, Sample};
use crate::Fr;

const TABLE: u64 = 512;

#[derive(Clone, Debug)]
pub struct TupleLookup {
    pub rows: usize,
    pub tamper: bool,
}

#[derive(Clone, Debug)]
pub struct TupleConfig {
    x: Column<Advice>,
    y: Column<Advice>,
    acc: Column<Advice>,
    q: Selector,
    tx: TableColumn,
    ty: TableColumn,
    out: Column<Instance>,
}

fn f(t: u64) -> Fr {
    Fr::from(t * t * t + 7)
}

impl TupleLookup {
    pub fn new(rows: usize) -> Self {
        TupleLookup { rows, tamper: false }
    }
    fn x(&self, i: usize) -> u64 {
        ((i as u64 * 37) / 3) % TABLE
    }
    fn total(&self) -> Fr {
        (0..self.rows).map(|i| f(self.x(i))).sum()
    }
}

impl Sample for TupleLookup {
    fn instances(&self) -> Vec<Vec<Fr>> {
        vec![vec![self.total()]]
    }
    fn k(&self) -> u32 {
        k_for_rows(self.rows.max(TABLE as usize) + 1)
    }
    fn tampered(&self) -> Self {
        TupleLookup {
            tamper: true,
            ..self.clone()
        }
    }
}

impl Circuit<Fr> for TupleLookup {
    type Config = TupleConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> TupleConfig {
        let x = meta.advice_column();
        let y = meta.advice_column();
        let acc = meta.advice_column();
        let out = meta.instance_column();
        meta.enable_equality(acc);
        meta.enable_equality(out);
        let constants = meta.fixed_column();
        meta.enable_constant(constants);
        let q = meta.complex_selector();
        let tx = meta.lookup_table_column();
        let ty = meta.lookup_table_column();
        meta.lookup("(x, y) in (t, t^3 + 7)", |m| {
            let q = m.query_selector(q);
            let x = m.query_advice(x, Rotation::cur());
            let y = m.query_advice(y, Rotation::cur());
            // Off rows look up (0, 7), which is the table's first row.
            let off = halo2_proofs::plonk::Expression::Constant(Fr::ONE) - q.clone();
            vec![(q.clone() * x, tx), (q * y + off * f(0), ty)]
        });
        meta.create_gate("acc = acc_prev + y", |m| {
            let q = m.query_selector(q);
            let y = m.query_advice(y, Rotation::cur());
            let cur = m.query_advice(acc, Rotation::cur());
            let prev = m.query_advice(acc, Rotation::prev());
            vec![q * (cur - prev - y)]
        });
        TupleConfig { x, y, acc, q, tx, ty, out }
    }

    fn synthesize(&self, c: TupleConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_table(
            || "(t, t^3 + 7)",
            |mut table| {
                for t in 0..TABLE {
                    table.assign_cell(|| "t", c.tx, t as usize, || Value::known(Fr::from(t)))?;
                    table.assign_cell(|| "f", c.ty, t as usize, || Value::known(f(t)))?;
                }
                Ok(())
            },
        )?;
        let last = layouter.assign_region(
            || "pairs",
            |mut region| {
                let mut last = region.assign_advice_from_constant(|| "acc0", c.acc, 0, Fr::ZERO)?.cell();
                region.assign_advice(c.y, 0, Value::known(Fr::ZERO));
                let mut acc = Fr::ZERO;
                for i in 0..self.rows {
                    let row = i + 1;
                    c.q.enable(&mut region, row)?;
                    let x = self.x(i);
                    let mut y = f(x);
                    if self.tamper && i == self.rows / 3 {
                        y += Fr::ONE; // (x, y) is no longer a table row
                    }
                    acc += y;
                    region.assign_advice(c.x, row, Value::known(Fr::from(x)));
                    region.assign_advice(c.y, row, Value::known(y));
                    last = region.assign_advice(c.acc, row, Value::known(acc)).cell();
                }
                Ok(last)
            },
        )?;
        layouter.constrain_instance(last, c.out, 0);
        Ok(())
    }
}
