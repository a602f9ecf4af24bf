//! Int32 from bytes: an int32 cell (a hidden bias) from its four range-checked store bytes (little-endian, each
//! stored minus 128):
//!     v = Σ_{i<4} 256^i (β_i + 128) − 2^31
//! Groups of five columns (β0..β3, v), W/5 per row. (The gate keeps its historical name "bias".)

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::ConstraintSystem;

use crate::columns::{constant, Columns, GateQuery};
use crate::error::Result;
use crate::layouter::{RowLayouter, Wire};

pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &Columns) {
    let groups = cols.shape.int32_groups();
    meta.create_gate("bias", |vc| {
        let mut q = GateQuery { meta: vc, cols };
        let sel = q.fixed(cols.q_int32, 0);
        (0..groups)
            .map(|g| {
                let mut v = constant(-Fr::from(1u64 << 31));
                for i in 0..4 {
                    v = v + constant(Fr::from(1u64 << (8 * i))) * (q.advice(5 * g + i, 0) + constant(Fr::from(128)));
                }
                sel.clone() * (q.advice(5 * g + 4, 0) - v)
            })
            .collect::<Vec<_>>()
    });
}

pub fn rows(n: usize, groups: usize) -> usize {
    n.div_ceil(groups)
}

/// Composes int32 values from their byte cells (4 per value, in order); returns the int32 cells.
pub fn assign(lay: &mut RowLayouter, bytes: &[Wire]) -> Result<Vec<Wire>> {
    let groups = lay.cols.shape.int32_groups();
    let n = bytes.len() / 4;
    let start = lay.alloc(rows(n, groups))?;
    // Unused groups of the last row compose the int32 of four constant zero-byte cells.
    let zero = lay.constant(0)?;
    let pad = [zero; 4];
    let mut out = Vec::with_capacity(n);
    for r in 0..rows(n, groups) {
        let row = start + r;
        lay.set(lay.cols.q_int32, row);
        for g in 0..groups {
            let idx = r * groups + g;
            let bs: &[Wire] = if idx < n { &bytes[4 * idx..4 * idx + 4] } else { &pad };
            let mut v = -(1i64 << 31);
            for (i, b) in bs.iter().enumerate() {
                lay.copy_in(5 * g + i, row, b);
                v += (b.val + 128) << (8 * i);
            }
            let w = lay.put(5 * g + 4, row, v);
            if idx < n {
                out.push(w);
            }
        }
    }
    Ok(out)
}
