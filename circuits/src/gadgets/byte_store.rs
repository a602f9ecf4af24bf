//! Byte store: each int8 value of a committed part (weights, bias bytes, input, output) gets one cell, range-checked
//! in pairs through the shared table, and every PACK (30) consecutive bytes are packed into one field element by a
//! chained gate (exactly `commit::pack`):
//!     acc = chain · acc[prev] · 256^B + Σ_{i<B} (v_i + 128) · 256^(B−1−i)        (B bytes per row, B | 30)
//! Bytes sit in the lane columns [0, B); acc in column 2L.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::ConstraintSystem;

use super::P_CHAIN;
use crate::commit::PACK;
use crate::config::{c, ModelConfig, Q};
use crate::error::Result;
use crate::sheet::{FWire, Sheet, Wire};
use crate::table::RANGE;

pub fn configure(meta: &mut ConstraintSystem<Fr>, cfg: &ModelConfig) {
    let b = cfg.shape.store_bytes_per_row();
    let acc_col = 2 * cfg.shape.lanes();
    meta.create_gate("pack", |vc| {
        let mut q = Q { meta: vc, cfg };
        let sel = q.f(cfg.q_pack, 0);
        let chain = q.p(P_CHAIN, 0);
        let mut sum = c(Fr::ZERO);
        for i in 0..b {
            sum = sum * c(Fr::from(256)) + q.a(i, 0) + c(Fr::from(128));
        }
        let acc = q.a(acc_col, 0);
        let prev = q.a(acc_col, -1);
        vec![sel * (acc - chain * prev * c(Fr::from(256).pow_vartime([b as u64])) - sum)]
    });
}

pub fn rows(bytes: usize, per_row: usize) -> usize {
    bytes.div_ceil(PACK) * (PACK / per_row)
}

/// Stores `vals` (each tied to the matching `link` cell when given) and returns the byte cells and the packed
/// elements.
pub fn assign(sheet: &mut Sheet, vals: &[i64], link: Option<&[Wire]>) -> Result<(Vec<Wire>, Vec<FWire>)> {
    let b = sheet.cfg.shape.store_bytes_per_row();
    let acc_col = 2 * sheet.cfg.shape.lanes();
    let nrows = rows(vals.len(), b);
    let start = sheet.alloc(nrows)?;
    let zero = sheet.konst(0)?;
    let lanes_used = b.div_ceil(2);
    let mut cells = Vec::with_capacity(vals.len());
    let mut elems = Vec::new();
    let mut acc = Fr::ZERO;
    let scale = Fr::from(256).pow_vartime([b as u64]);
    for r in 0..nrows {
        let row = start + r;
        let first = r % (PACK / b) == 0;
        sheet.set(sheet.cfg.q_pack, row);
        if first {
            acc = Fr::ZERO;
        } else {
            sheet.param(P_CHAIN, row, Fr::ONE);
        }
        for l in 0..lanes_used {
            sheet.tag(l, row, RANGE);
        }
        let mut sum = Fr::ZERO;
        for i in 0..b {
            let idx = r * b + i;
            let w = match vals.get(idx) {
                Some(&v) => {
                    let w = sheet.put(i, row, v);
                    if let Some(link) = link {
                        sheet.equal(link[idx].cell, w.cell);
                    }
                    cells.push(w);
                    w
                }
                None => sheet.copy_in(i, row, &zero),
            };
            sum = sum * Fr::from(256) + Fr::from((w.val + 128) as u64);
        }
        acc = acc * scale + sum;
        let a = sheet.put_f(acc_col, row, acc);
        if r % (PACK / b) == PACK / b - 1 {
            elems.push(a);
        }
    }
    Ok((cells, elems))
}
