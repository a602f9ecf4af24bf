//! Custom gates with several rotations and a high-degree gate: a Fibonacci-like recurrence
//! a[i+2] = a[i+1] + a[i] (rotations 0, 1, 2) and b = a^3 on every row (degree 4 with its selector); the last
//! element is public.

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Instance, Selector};
use halo2_proofs::poly::Rotation;

use super::{k_for_rows, Sample};
use crate::Fr;

#[derive(Clone, Debug)]
pub struct Fibonacci {
    pub steps: usize,
    pub first: Fr,
    pub second: Fr,
    pub tamper: bool,
}

#[derive(Clone, Debug)]
pub struct FibConfig {
    a: Column<Advice>,
    b: Column<Advice>,
    step: Selector,
    cube: Selector,
    out: Column<Instance>,
}

impl Fibonacci {
    pub fn new(steps: usize, first: u64, second: u64) -> Self {
        Fibonacci {
            steps,
            first: Fr::from(first),
            second: Fr::from(second),
            tamper: false,
        }
    }
    fn sequence(&self) -> Vec<Fr> {
        let mut s = vec![self.first, self.second];
        while s.len() < self.steps + 2 {
            let n = s[s.len() - 1] + s[s.len() - 2];
            s.push(n);
        }
        s
    }
}

impl Sample for Fibonacci {
    fn instances(&self) -> Vec<Vec<Fr>> {
        vec![vec![*self.sequence().last().unwrap()]]
    }
    fn k(&self) -> u32 {
        k_for_rows(self.steps + 2)
    }
    fn tampered(&self) -> Self {
        Fibonacci {
            tamper: true,
            ..self.clone()
        }
    }
}

impl Circuit<Fr> for Fibonacci {
    type Config = FibConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> FibConfig {
        let a = meta.advice_column();
        let b = meta.advice_column();
        let out = meta.instance_column();
        meta.enable_equality(a);
        meta.enable_equality(out);
        let step = meta.selector();
        let cube = meta.selector();
        meta.create_gate("fibonacci step", |m| {
            let s = m.query_selector(step);
            let a0 = m.query_advice(a, Rotation::cur());
            let a1 = m.query_advice(a, Rotation::next());
            let a2 = m.query_advice(a, Rotation(2));
            vec![s * (a2 - a1 - a0)]
        });
        meta.create_gate("b = a^3", |m| {
            let s = m.query_selector(cube);
            let a = m.query_advice(a, Rotation::cur());
            let b = m.query_advice(b, Rotation::cur());
            vec![s * (b - a.clone() * a.clone() * a)]
        });
        FibConfig { a, b, step, cube, out }
    }

    fn synthesize(&self, c: FibConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let seq = self.sequence();
        let last = layouter.assign_region(
            || "fibonacci",
            |mut region| {
                let mut last = None;
                for (i, v) in seq.iter().enumerate() {
                    let mut v = *v;
                    if self.tamper && i == seq.len() / 2 {
                        v += Fr::ONE;
                    }
                    let cell = region.assign_advice(c.a, i, Value::known(v));
                    region.assign_advice(c.b, i, Value::known(v * v * v));
                    c.cube.enable(&mut region, i)?;
                    if i + 2 < seq.len() {
                        c.step.enable(&mut region, i)?;
                    }
                    last = Some(cell.cell());
                }
                Ok(last.unwrap())
            },
        )?;
        layouter.constrain_instance(last, c.out, 0);
        Ok(())
    }
}
