//! Bias compose: an int32 bias cell from its four range-checked store bytes (little-endian, each stored minus 128):
//!     bias = Σ_{i<4} 256^i (β_i + 128) − 2^31
//! Groups of five columns (β0..β3, bias), W/5 per row.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::ConstraintSystem;

use crate::config::{c, ModelConfig, Q};
use crate::error::Result;
use crate::sheet::{Sheet, Wire};

pub fn configure(meta: &mut ConstraintSystem<Fr>, cfg: &ModelConfig) {
    let groups = cfg.shape.bias_groups();
    meta.create_gate("bias", |vc| {
        let mut q = Q { meta: vc, cfg };
        let sel = q.f(cfg.q_bias, 0);
        (0..groups)
            .map(|g| {
                let mut v = c(-Fr::from(1u64 << 31));
                for i in 0..4 {
                    v = v + c(Fr::from(1u64 << (8 * i))) * (q.a(5 * g + i, 0) + c(Fr::from(128)));
                }
                sel.clone() * (q.a(5 * g + 4, 0) - v)
            })
            .collect::<Vec<_>>()
    });
}

pub fn rows(n: usize, groups: usize) -> usize {
    n.div_ceil(groups)
}

/// Composes biases from their byte cells (4 per bias, in order); returns the bias cells.
pub fn assign(sheet: &mut Sheet, bytes: &[Wire]) -> Result<Vec<Wire>> {
    let groups = sheet.cfg.shape.bias_groups();
    let n = bytes.len() / 4;
    let start = sheet.alloc(rows(n, groups))?;
    // Unused groups of the last row compose the constant bias of four zero bytes' cells.
    let zero = sheet.konst(0)?;
    let pad = [zero; 4];
    let mut out = Vec::with_capacity(n);
    for r in 0..rows(n, groups) {
        let row = start + r;
        sheet.set(sheet.cfg.q_bias, row);
        for g in 0..groups {
            let idx = r * groups + g;
            let bs: &[Wire] = if idx < n { &bytes[4 * idx..4 * idx + 4] } else { &pad };
            let mut v = -(1i64 << 31);
            for (i, b) in bs.iter().enumerate() {
                sheet.copy_in(5 * g + i, row, b);
                v += (b.val + 128) << (8 * i);
            }
            let w = sheet.put(5 * g + 4, row, v);
            if idx < n {
                out.push(w);
            }
        }
    }
    Ok(out)
}
