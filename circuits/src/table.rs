//! The ONE lookup table every layer shares: byte-pair range checks and the clamp of the requantisation.
//!
//! Rows are (tag, tag·x, tag·y) so that a lane's input (τ, τ·a, τ·b) is the all-zero row when its tag τ is 0 (lane
//! off) and, for τ ≠ 0, matches only rows of tag τ with x = a, y = b:
//! * tag 1: x, y ∈ [−128, 127] — two int8 values (weights, inputs, remainder bytes) per lane;
//! * tag 2 + i: x = u ∈ [−2^clip_bits, 2^clip_bits), y = clamp(u, lo_i, hi_i) for the model's i-th clamp;
//! * tag 2 + clamps + j: x ∈ [−128, 127], y = f_j(x) for the model's j-th elementwise function (an activation's
//!   table), so a new activation costs 256 table rows and no new lookup argument.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::ConstraintSystem;

use crate::columns::{Columns, GateQuery};
use crate::layouter::{to_field, RowLayouter};

pub const RANGE: u64 = 1;

pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &Columns) {
    for lane in 0..cols.shape.lanes() {
        meta.lookup_any("lane", |m| {
            let mut q = GateQuery { meta: m, cols };
            let tau = q.fixed(cols.tags[lane], 0);
            let a = q.advice(2 * lane, 0);
            let b = q.advice(2 * lane + 1, 0);
            let [t0, t1, t2] = cols.table.map(|col| q.fixed(col, 0));
            vec![(tau.clone(), t0), (tau.clone() * a, t1), (tau * b, t2)]
        });
    }
}

/// Writes the table into its fixed columns (rows past the end stay (0, 0, 0)).
pub fn fill(lay: &mut RowLayouter) {
    let cols = lay.cols;
    let mut row = 0;
    let mut put = |lay: &mut RowLayouter, tag: u64, x: i64, y: i64| {
        let t = tag as i128;
        lay.fixed(cols.table[0], row, Fr::from(tag));
        lay.fixed(cols.table[1], row, to_field(t * x as i128));
        lay.fixed(cols.table[2], row, to_field(t * y as i128));
        row += 1;
    };
    for x in -128..128 {
        for y in -128..128 {
            put(lay, RANGE, x, y);
        }
    }
    let bound = cols.shape.clip_bound();
    for (lo, hi) in cols.shape.clamps.clone() {
        let tag = cols.shape.clamp_tag(lo, hi);
        for u in -bound..bound {
            put(lay, tag, u, u.clamp(lo as i64, hi as i64));
        }
    }
    for f in cols.shape.functions.clone() {
        let tag = cols.shape.function_tag(&f);
        for (x, y) in (-128..128).zip(f) {
            put(lay, tag, x, y as i64);
        }
    }
}
