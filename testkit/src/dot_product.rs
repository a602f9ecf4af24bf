//! A small real circuit for exercising provers end to end: a byte dot product, the core of a quantized layer.
//!
//! Proves `out = sum_i a_i * b_i` with every a_i, b_i range-checked to [0, 256) by a lookup, the running sum chained
//! by a custom gate, the first accumulator fixed to the constant 0 and the last copied to a public instance cell.
//! It touches every part of the stock prover: custom gate with a rotation, complex selector, lookup, fixed constant,
//! copy constraints (permutation) and an instance column.

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::plonk::{
    Advice, Circuit, Column, ConstraintSystem, Error, Fixed, Instance, Selector, TableColumn,
};
use halo2_proofs::poly::Rotation;
use rand_core::RngCore;

use crate::Fr;

#[derive(Clone, Debug)]
pub struct DotProductConfig {
    a: Column<Advice>,
    b: Column<Advice>,
    acc: Column<Advice>,
    mac: Selector,
    byte: TableColumn,
    out: Column<Instance>,
    #[allow(dead_code)]
    constant: Column<Fixed>,
}

/// Witness: two byte vectors of equal length.
#[derive(Clone, Debug, Default)]
pub struct DotProductCircuit {
    pub a: Vec<u8>,
    pub b: Vec<u8>,
}

impl DotProductCircuit {
    /// Random bytes of length `len`.
    pub fn random(len: usize, rng: &mut impl RngCore) -> Self {
        let mut a = vec![0u8; len];
        let mut b = vec![0u8; len];
        rng.fill_bytes(&mut a);
        rng.fill_bytes(&mut b);
        DotProductCircuit { a, b }
    }

    /// The public output the circuit exposes.
    pub fn output(&self) -> Fr {
        Fr::from(self.a.iter().zip(&self.b).map(|(&x, &y)| x as u64 * y as u64).sum::<u64>())
    }

    /// Smallest k whose usable rows hold the products and the 256-entry table.
    pub fn min_k(len: usize) -> u32 {
        // rows: one for the constant accumulator, one per product; halo2 reserves blinding rows at the end.
        let rows = (len + 1).max(256) + 10;
        rows.next_power_of_two().trailing_zeros()
    }
}

impl Circuit<Fr> for DotProductCircuit {
    type Config = DotProductConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        DotProductCircuit {
            a: vec![0; self.a.len()],
            b: vec![0; self.b.len()],
        }
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> DotProductConfig {
        let a = meta.advice_column();
        let b = meta.advice_column();
        let acc = meta.advice_column();
        let out = meta.instance_column();
        let constant = meta.fixed_column();
        meta.enable_equality(acc);
        meta.enable_equality(out);
        meta.enable_constant(constant);
        let mac = meta.complex_selector();
        let byte = meta.lookup_table_column();

        meta.create_gate("acc = acc_prev + a * b", |m| {
            let s = m.query_selector(mac);
            let a = m.query_advice(a, Rotation::cur());
            let b = m.query_advice(b, Rotation::cur());
            let acc_cur = m.query_advice(acc, Rotation::cur());
            let acc_prev = m.query_advice(acc, Rotation::prev());
            vec![s * (acc_cur - acc_prev - a * b)]
        });
        for (name, col) in [("a is a byte", a), ("b is a byte", b)] {
            meta.lookup(name, |m| {
                let s = m.query_selector(mac);
                vec![(s * m.query_advice(col, Rotation::cur()), byte)]
            });
        }
        DotProductConfig {
            a,
            b,
            acc,
            mac,
            byte,
            out,
            constant,
        }
    }

    fn synthesize(&self, config: DotProductConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        if self.a.len() != self.b.len() {
            return Err(Error::Synthesis);
        }
        layouter.assign_table(
            || "bytes",
            |mut table| {
                for i in 0..256u64 {
                    table.assign_cell(|| "byte", config.byte, i as usize, || Value::known(Fr::from(i)))?;
                }
                Ok(())
            },
        )?;
        let last = layouter.assign_region(
            || "dot product",
            |mut region| {
                let mut last = region
                    .assign_advice_from_constant(|| "acc0", config.acc, 0, Fr::zero())?
                    .cell();
                let mut acc = 0u64;
                for (i, (&x, &y)) in self.a.iter().zip(&self.b).enumerate() {
                    let row = i + 1;
                    config.mac.enable(&mut region, row)?;
                    region.assign_advice(config.a, row, Value::known(Fr::from(x as u64)));
                    region.assign_advice(config.b, row, Value::known(Fr::from(y as u64)));
                    acc += x as u64 * y as u64;
                    last = region.assign_advice(config.acc, row, Value::known(Fr::from(acc))).cell();
                }
                Ok(last)
            },
        )?;
        layouter.constrain_instance(last, config.out, 0);
        Ok(())
    }
}
