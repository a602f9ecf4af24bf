//! Many simple selectors, each switching on its own gate on its own rows, so halo2-axiom's selector compression
//! (keygen with `compress_selectors = true`) folds them into a few fixed columns with degree-raising polynomials.
//! A degree-5 gate (c = a^4 on every row; halo2-axiom caps constraint degree at 5 by default) leaves the
//! compressor room to combine the degree-3 gates' selectors.

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Instance, Selector};
use halo2_proofs::poly::Rotation;

use super::{k_for_rows, Sample};
use crate::Fr;

/// Gate g (0..GATES) proves b = a + (g + 1) * a^2 ... on rows where selector g is on.
pub const GATES: usize = 6;

#[derive(Clone, Debug)]
pub struct ManySelectors {
    pub rows: usize,
    pub tamper: bool,
}

#[derive(Clone, Debug)]
pub struct SelectorsConfig {
    a: Column<Advice>,
    b: Column<Advice>,
    c: Column<Advice>,
    fifth: Selector,
    sels: Vec<Selector>,
    out: Column<Instance>,
}

impl ManySelectors {
    pub fn new(rows: usize) -> Self {
        ManySelectors { rows, tamper: false }
    }
    fn row(&self, i: usize) -> (Fr, Fr) {
        let a = Fr::from(i as u64 + 11);
        let g = (i % GATES) as u64;
        (a, a + Fr::from(g + 1) * a * a)
    }
}

impl Sample for ManySelectors {
    fn instances(&self) -> Vec<Vec<Fr>> {
        vec![vec![self.row(self.rows - 1).1]]
    }
    fn k(&self) -> u32 {
        k_for_rows(self.rows)
    }
    fn tampered(&self) -> Self {
        ManySelectors {
            tamper: true,
            ..self.clone()
        }
    }
}

impl Circuit<Fr> for ManySelectors {
    type Config = SelectorsConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> SelectorsConfig {
        let a = meta.advice_column();
        let b = meta.advice_column();
        let out = meta.instance_column();
        meta.enable_equality(b);
        meta.enable_equality(out);
        let c = meta.advice_column();
        let fifth = meta.complex_selector(); // not compressed: it only raises the degree
        meta.create_gate("c = a^4", |m| {
            let s = m.query_selector(fifth);
            let a = m.query_advice(a, Rotation::cur());
            let c = m.query_advice(c, Rotation::cur());
            vec![s * (c - a.clone() * a.clone() * a.clone() * a)]
        });
        let sels: Vec<Selector> = (0..GATES).map(|_| meta.selector()).collect();
        for (g, &sel) in sels.iter().enumerate() {
            meta.create_gate("b = a + (g+1) a^2", |m| {
                let s = m.query_selector(sel);
                let a = m.query_advice(a, Rotation::cur());
                let b = m.query_advice(b, Rotation::cur());
                let c = halo2_proofs::plonk::Expression::Constant(Fr::from(g as u64 + 1));
                vec![s * (b - a.clone() - c * a.clone() * a)]
            });
        }
        SelectorsConfig { a, b, c, fifth, sels, out }
    }

    fn synthesize(&self, c: SelectorsConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let last = layouter.assign_region(
            || "rows",
            |mut region| {
                let mut last = None;
                for i in 0..self.rows {
                    let (a, mut b) = self.row(i);
                    if self.tamper && i == self.rows / 2 {
                        b += Fr::ONE;
                    }
                    c.sels[i % GATES].enable(&mut region, i)?;
                    region.assign_advice(c.a, i, Value::known(a));
                    c.fifth.enable(&mut region, i)?;
                    region.assign_advice(c.c, i, Value::known(a * a * a * a));
                    last = Some(region.assign_advice(c.b, i, Value::known(b)).cell());
                }
                Ok(last.unwrap())
            },
        )?;
        layouter.constrain_instance(last, c.out, 0);
        Ok(())
    }
}
