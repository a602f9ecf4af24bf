//! Dot product with zero points: `m` groups share one operand s (N terms per row) and each has its own t:
//!     acc_j = chain · acc_j[prev] + Σ_i (s_i − zs)(t_ji − zt)
//! Longer dot products chain through consecutive rows (chain = 1); terms past the length are padded with the zero
//! points (so they add nothing), and so are groups past the last output.
//! Columns: s at [0, N), t_j at [N(j+1), N(j+2)), acc_j at N(m+1) + j.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::ConstraintSystem;

use crate::columns::{Columns, GateQuery, P_CHAIN, P_ZS, P_ZT};
use crate::error::Result;
use crate::layouter::{to_field, RowLayouter, Wire};

pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &Columns) {
    let (n, m) = (cols.shape.dot_n, cols.shape.dot_m);
    meta.create_gate("dot", |vc| {
        let mut q = GateQuery { meta: vc, cols };
        let sel = q.fixed(cols.q_dot, 0);
        let (zs, zt, chain) = (q.param(P_ZS, 0), q.param(P_ZT, 0), q.param(P_CHAIN, 0));
        let s: Vec<_> = (0..n).map(|i| q.advice(i, 0) - zs.clone()).collect();
        (0..m)
            .map(|j| {
                let acc = q.advice(n * (m + 1) + j, 0);
                let prev = q.advice(n * (m + 1) + j, -1);
                let sum = (0..n)
                    .map(|i| s[i].clone() * (q.advice(n * (j + 1) + i, 0) - zt.clone()))
                    .reduce(|a, b| a + b)
                    .unwrap();
                sel.clone() * (acc - chain.clone() * prev - sum)
            })
            .collect::<Vec<_>>()
    });
}

pub fn rows(len: usize, n: usize) -> usize {
    len.div_ceil(n).max(1)
}

/// Lays out up to `m` dot products sharing `s`; returns each group's final accumulator.
pub fn assign(lay: &mut RowLayouter, s: &[Wire], ts: &[Vec<Wire>], zs: i64, zt: i64) -> Result<Vec<Wire>> {
    let (n, m) = (lay.cols.shape.dot_n, lay.cols.shape.dot_m);
    assert!(ts.len() <= m && ts.iter().all(|t| t.len() == s.len()));
    let nrows = rows(s.len(), n);
    let start = lay.alloc(nrows)?;
    let pad_s = lay.constant(zs)?;
    let pad_t = lay.constant(zt)?;
    let mut acc = vec![0i64; m];
    let mut out = vec![None; m];
    for r in 0..nrows {
        let row = start + r;
        lay.set(lay.cols.q_dot, row);
        lay.param(P_ZS, row, to_field(zs as i128));
        lay.param(P_ZT, row, to_field(zt as i128));
        if r > 0 {
            lay.param(P_CHAIN, row, Fr::ONE);
        } else {
            acc.iter_mut().for_each(|a| *a = 0);
        }
        let mut svals = vec![0i64; n];
        for i in 0..n {
            let src = s.get(r * n + i).unwrap_or(&pad_s);
            svals[i] = lay.copy_in(i, row, src).val - zs;
        }
        for j in 0..m {
            for i in 0..n {
                let src = ts.get(j).and_then(|t| t.get(r * n + i)).unwrap_or(&pad_t);
                let v = lay.copy_in(n * (j + 1) + i, row, src).val - zt;
                acc[j] += svals[i] * v;
            }
            let w = lay.put(n * (m + 1) + j, row, acc[j]);
            out[j] = Some(w);
        }
    }
    Ok(out.into_iter().take(ts.len()).map(|w| w.unwrap()).collect())
}
