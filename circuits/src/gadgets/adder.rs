//! Adder: acc = chain · acc[prev] + Σ_i (v_i − z) over the first W−1 columns, acc in the last column. Sums longer
//! than a row chain through consecutive rows; padding cells hold z. Used for average pooling's window sums.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::ConstraintSystem;

use super::{P_CHAIN, P_ZS};
use crate::config::{ModelConfig, Q};
use crate::error::Result;
use crate::sheet::{fe, Sheet, Wire};

pub fn configure(meta: &mut ConstraintSystem<Fr>, cfg: &ModelConfig) {
    let w = cfg.shape.adder_width();
    meta.create_gate("adder", |vc| {
        let mut q = Q { meta: vc, cfg };
        let sel = q.f(cfg.q_add, 0);
        let (z, chain) = (q.p(P_ZS, 0), q.p(P_CHAIN, 0));
        let sum = (0..w).map(|i| q.a(i, 0) - z.clone()).reduce(|a, b| a + b).unwrap();
        let acc = q.a(w, 0);
        let prev = q.a(w, -1);
        vec![sel * (acc - chain * prev - sum)]
    });
}

pub fn rows(len: usize, width: usize) -> usize {
    len.div_ceil(width).max(1)
}

/// Σ (v − z) over `vals`; returns the final accumulator.
pub fn assign(sheet: &mut Sheet, vals: &[Wire], z: i64) -> Result<Wire> {
    let w = sheet.cfg.shape.adder_width();
    let nrows = rows(vals.len(), w);
    let start = sheet.alloc(nrows)?;
    let pad = sheet.konst(z)?;
    let mut acc = 0i64;
    let mut last = None;
    for r in 0..nrows {
        let row = start + r;
        sheet.set(sheet.cfg.q_add, row);
        sheet.param(P_ZS, row, fe(z as i128));
        if r > 0 {
            sheet.param(P_CHAIN, row, Fr::ONE);
        }
        for i in 0..w {
            let src = vals.get(r * w + i).unwrap_or(&pad);
            acc += sheet.copy_in(i, row, src).val - z;
        }
        last = Some(sheet.put(w, row, acc));
    }
    Ok(last.unwrap())
}
