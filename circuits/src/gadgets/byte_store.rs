//! Byte store: each int8 value of a committed part (weights, bias bytes, input, output) gets one cell, range-checked
//! in pairs through the shared table, and every PACK (30) consecutive bytes are packed into one field element by a
//! chained gate (exactly `native::pack::pack`):
//!     acc = chain · acc[prev] · 256^B + Σ_{i<B} (v_i + 128) · 256^(B−1−i)        (B bytes per row, B | 30)
//! Bytes sit in the lane columns [0, B); acc in column 2L.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::ConstraintSystem;

use crate::columns::{constant, Columns, GateQuery, P_CHAIN};
use crate::error::Result;
use crate::layouter::{FWire, RowLayouter, Wire};
use crate::native::pack::PACK;
use crate::table::RANGE;

pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &Columns) {
    let b = cols.shape.store_bytes_per_row();
    let acc_col = 2 * cols.shape.lanes();
    meta.create_gate("pack", |vc| {
        let mut q = GateQuery { meta: vc, cols };
        let sel = q.fixed(cols.q_pack, 0);
        let chain = q.param(P_CHAIN, 0);
        let mut sum = constant(Fr::ZERO);
        for i in 0..b {
            sum = sum * constant(Fr::from(256)) + q.advice(i, 0) + constant(Fr::from(128));
        }
        let acc = q.advice(acc_col, 0);
        let prev = q.advice(acc_col, -1);
        vec![sel * (acc - chain * prev * constant(Fr::from(256).pow_vartime([b as u64])) - sum)]
    });
}

pub fn rows(bytes: usize, per_row: usize) -> usize {
    bytes.div_ceil(PACK) * (PACK / per_row)
}

/// Stores `vals` (each tied to the matching `link` cell when given) and returns the byte cells and the packed
/// elements.
pub fn assign(lay: &mut RowLayouter, vals: &[i64], link: Option<&[Wire]>) -> Result<(Vec<Wire>, Vec<FWire>)> {
    let b = lay.cols.shape.store_bytes_per_row();
    let acc_col = 2 * lay.cols.shape.lanes();
    let nrows = rows(vals.len(), b);
    let start = lay.alloc(nrows)?;
    let zero = lay.constant(0)?;
    let lanes_used = b.div_ceil(2);
    let mut cells = Vec::with_capacity(vals.len());
    let mut elems = Vec::new();
    let mut acc = Fr::ZERO;
    let scale = Fr::from(256).pow_vartime([b as u64]);
    for r in 0..nrows {
        let row = start + r;
        let first = r % (PACK / b) == 0;
        lay.set(lay.cols.q_pack, row);
        if first {
            acc = Fr::ZERO;
        } else {
            lay.param(P_CHAIN, row, Fr::ONE);
        }
        for l in 0..lanes_used {
            lay.tag(l, row, RANGE);
        }
        let mut sum = Fr::ZERO;
        for i in 0..b {
            let idx = r * b + i;
            let w = match vals.get(idx) {
                Some(&v) => {
                    let w = lay.put(i, row, v);
                    if let Some(link) = link {
                        lay.equal(link[idx].cell, w.cell);
                    }
                    cells.push(w);
                    w
                }
                None => lay.copy_in(i, row, &zero),
            };
            sum = sum * Fr::from(256) + Fr::from((w.val + 128) as u64);
        }
        acc = acc * scale + sum;
        let a = lay.put_f(acc_col, row, acc);
        if r % (PACK / b) == PACK / b - 1 {
            elems.push(a);
        }
    }
    Ok((cells, elems))
}
