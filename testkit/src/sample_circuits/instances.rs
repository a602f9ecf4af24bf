//! Several instance columns, read both by a gate (instance queries at the current and the next row) and through
//! copy constraints: row i proves a[i] = x[i] + y[i+1] * z[i] with x, y, z public columns, and a[0] is copied to
//! z's last public row.

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Instance, Selector};
use halo2_proofs::poly::Rotation;

use super::{k_for_rows, Sample};
use crate::Fr;

#[derive(Clone, Debug)]
pub struct PublicColumns {
    pub rows: usize,
    pub tamper: bool,
}

#[derive(Clone, Debug)]
pub struct PublicConfig {
    a: Column<Advice>,
    x: Column<Instance>,
    y: Column<Instance>,
    z: Column<Instance>,
    s: Selector,
}

impl PublicColumns {
    pub fn new(rows: usize) -> Self {
        PublicColumns { rows, tamper: false }
    }
    fn columns(&self) -> (Vec<Fr>, Vec<Fr>, Vec<Fr>) {
        let x: Vec<Fr> = (0..self.rows).map(|i| Fr::from(3 * i as u64 + 1)).collect();
        let y: Vec<Fr> = (0..self.rows + 1).map(|i| Fr::from(5 * i as u64 + 2)).collect();
        let mut z: Vec<Fr> = (0..self.rows).map(|i| Fr::from(7 * i as u64 + 3)).collect();
        // The last public z equals a[0] (copy constraint).
        z.push(x[0] + y[1] * z[0]);
        (x, y, z)
    }
    fn a(&self, i: usize) -> Fr {
        let (x, y, z) = self.columns();
        x[i] + y[i + 1] * z[i]
    }
}

impl Sample for PublicColumns {
    fn instances(&self) -> Vec<Vec<Fr>> {
        let (x, y, z) = self.columns();
        vec![x, y, z]
    }
    fn k(&self) -> u32 {
        k_for_rows(self.rows + 2)
    }
    fn tampered(&self) -> Self {
        PublicColumns {
            tamper: true,
            ..self.clone()
        }
    }
}

impl Circuit<Fr> for PublicColumns {
    type Config = PublicConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> PublicConfig {
        let a = meta.advice_column();
        let (x, y, z) = (meta.instance_column(), meta.instance_column(), meta.instance_column());
        meta.enable_equality(a);
        meta.enable_equality(z);
        let s = meta.selector();
        meta.create_gate("a = x + y_next * z", |m| {
            let s = m.query_selector(s);
            let a = m.query_advice(a, Rotation::cur());
            let x = m.query_instance(x, Rotation::cur());
            let y = m.query_instance(y, Rotation::next());
            let z = m.query_instance(z, Rotation::cur());
            vec![s * (a - x - y * z)]
        });
        PublicConfig { a, x, y, z, s }
    }

    fn synthesize(&self, c: PublicConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let first = layouter.assign_region(
            || "rows",
            |mut region| {
                let mut first = None;
                for i in 0..self.rows {
                    c.s.enable(&mut region, i)?;
                    let mut v = self.a(i);
                    if self.tamper && i == self.rows - 1 {
                        v += Fr::ONE;
                    }
                    let cell = region.assign_advice(c.a, i, Value::known(v));
                    first.get_or_insert(cell.cell());
                }
                Ok(first.unwrap())
            },
        )?;
        layouter.constrain_instance(first, c.z, self.rows);
        let _ = (c.x, c.y);
        Ok(())
    }
}
