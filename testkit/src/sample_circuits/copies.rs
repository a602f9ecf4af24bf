//! Copy constraints across many columns: `width` advice columns plus a fixed and an instance column, all with
//! equality enabled, so the permutation argument spans several chunks (sets). Cells are tied in a long chain that
//! visits every column; a multiplication gate keeps the constraint degree at 3, i.e. one column per chunk.

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Fixed, Instance, Selector};
use halo2_proofs::poly::Rotation;

use super::{k_for_rows, Sample};
use crate::Fr;

#[derive(Clone, Debug)]
pub struct ManyCopies {
    pub width: usize,
    pub rows: usize,
    pub seed: u64,
    pub tamper: bool,
}

#[derive(Clone, Debug)]
pub struct CopiesConfig {
    cols: Vec<Column<Advice>>,
    fixed: Column<Fixed>,
    inst: Column<Instance>,
    mul: Selector,
}

impl ManyCopies {
    pub fn new(width: usize, rows: usize, seed: u64) -> Self {
        assert!(width >= 3);
        ManyCopies {
            width,
            rows,
            seed,
            tamper: false,
        }
    }
    /// The chained value: a pseudo-random constant derived from the seed.
    fn chained(&self) -> Fr {
        Fr::from(self.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn cell(&self, col: usize, row: usize) -> Fr {
        Fr::from((self.seed + 1) * 1_000_003 + (col * 7919 + row) as u64)
    }
}

impl Sample for ManyCopies {
    fn instances(&self) -> Vec<Vec<Fr>> {
        vec![vec![self.chained()]]
    }
    fn k(&self) -> u32 {
        k_for_rows(self.rows)
    }
    fn tampered(&self) -> Self {
        ManyCopies {
            tamper: true,
            ..self.clone()
        }
    }
}

impl Circuit<Fr> for ManyCopies {
    type Config = CopiesConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> CopiesConfig {
        // The width is fixed at configure time by the type; 12 columns exercise many permutation sets.
        let cols: Vec<Column<Advice>> = (0..12).map(|_| meta.advice_column()).collect();
        let fixed = meta.fixed_column();
        let inst = meta.instance_column();
        for c in &cols {
            meta.enable_equality(*c);
        }
        meta.enable_equality(fixed);
        meta.enable_equality(inst);
        let mul = meta.selector();
        meta.create_gate("c2 = c0 * c1", |m| {
            let s = m.query_selector(mul);
            let a = m.query_advice(cols[0], Rotation::cur());
            let b = m.query_advice(cols[1], Rotation::cur());
            let c = m.query_advice(cols[2], Rotation::cur());
            vec![s * (a * b - c)]
        });
        CopiesConfig { cols, fixed, inst, mul }
    }

    fn synthesize(&self, c: CopiesConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let width = self.width.min(c.cols.len());
        let v = self.chained();
        let first = layouter.assign_region(
            || "copies",
            |mut region| {
                // Fill every cell; row 0 of each column holds the chained value.
                let mut chain = Vec::new();
                for row in 0..self.rows {
                    let a = self.cell(0, row);
                    let b = self.cell(1, row);
                    for (ci, col) in c.cols.iter().enumerate().take(width) {
                        let val = match (ci, row) {
                            (_, 0) if ci >= 3 => v,
                            (0, _) => a,
                            (1, _) => b,
                            (2, _) => a * b,
                            _ => self.cell(ci, row),
                        };
                        let val = if self.tamper && ci == width - 1 && row == 0 { val + Fr::ONE } else { val };
                        let cell = region.assign_advice(*col, row, Value::known(val));
                        if row == 0 && ci >= 3 {
                            chain.push(cell.cell());
                        }
                    }
                    c.mul.enable(&mut region, row)?;
                }
                // Equal cells in a chain through every column, plus the fixed column.
                let f = region.assign_fixed(c.fixed, 0, v);
                region.constrain_equal(f, chain[0]);
                for w in chain.windows(2) {
                    region.constrain_equal(w[0], w[1]);
                }
                Ok(chain[0])
            },
        )?;
        layouter.constrain_instance(first, c.inst, 0);
        Ok(())
    }
}
