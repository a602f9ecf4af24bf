//! Adder: acc = chain · acc[prev] + Σ_i (v_i − z) over the first W−1 columns, acc in the last column. Sums longer
//! than a row chain through consecutive rows; padding cells hold z. Used for average pooling's window sums.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::ConstraintSystem;

use crate::columns::{Columns, GateQuery, P_CHAIN, P_ZS};
use crate::error::Result;
use crate::layouter::{to_field, RowLayouter, Wire};

pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &Columns) {
    let w = cols.shape.adder_width();
    meta.create_gate("adder", |vc| {
        let mut q = GateQuery { meta: vc, cols };
        let sel = q.fixed(cols.q_add, 0);
        let (z, chain) = (q.param(P_ZS, 0), q.param(P_CHAIN, 0));
        let sum = (0..w).map(|i| q.advice(i, 0) - z.clone()).reduce(|a, b| a + b).unwrap();
        let acc = q.advice(w, 0);
        let prev = q.advice(w, -1);
        vec![sel * (acc - chain * prev - sum)]
    });
}

pub fn rows(len: usize, width: usize) -> usize {
    len.div_ceil(width).max(1)
}

/// Σ (v − z) over `vals`; returns the final accumulator.
pub fn assign(lay: &mut RowLayouter, vals: &[Wire], z: i64) -> Result<Wire> {
    let w = lay.cols.shape.adder_width();
    let nrows = rows(vals.len(), w);
    let start = lay.alloc(nrows)?;
    let pad = lay.constant(z)?;
    let mut acc = 0i64;
    let mut last = None;
    for r in 0..nrows {
        let row = start + r;
        lay.set(lay.cols.q_add, row);
        lay.param(P_ZS, row, to_field(z as i128));
        if r > 0 {
            lay.param(P_CHAIN, row, Fr::ONE);
        }
        for i in 0..w {
            let src = vals.get(r * w + i).unwrap_or(&pad);
            acc += lay.copy_in(i, row, src).val - z;
        }
        last = Some(lay.put(w, row, acc));
    }
    Ok(last.unwrap())
}
