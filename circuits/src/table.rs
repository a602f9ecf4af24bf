//! The ONE lookup table every layer shares: byte-pair range checks and the clamp of the division-and-clip step.
//!
//! Rows are (tag, tag·x, tag·y) so that a lane's input (τ, τ·a, τ·b) is the all-zero row when its tag τ is 0 (lane
//! off) and, for τ ≠ 0, matches only rows of tag τ with x = a, y = b:
//! * tag 1: x, y ∈ [−128, 127] — two int8 values (weights, inputs, remainder bytes) per lane;
//! * tag 2 + i: x = u ∈ [−2^clip_bits, 2^clip_bits), y = clamp(u, lo_i, hi_i) for the model's i-th clamp.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::ConstraintSystem;

use crate::config::{ModelConfig, Q};
use crate::sheet::{fe, Sheet};

pub const RANGE: u64 = 1;

pub fn configure(meta: &mut ConstraintSystem<Fr>, cfg: &ModelConfig) {
    for lane in 0..cfg.shape.lanes() {
        meta.lookup_any("lane", |m| {
            let mut q = Q { meta: m, cfg };
            let tau = q.f(cfg.tags[lane], 0);
            let a = q.a(2 * lane, 0);
            let b = q.a(2 * lane + 1, 0);
            let [t0, t1, t2] = cfg.table.map(|col| q.f(col, 0));
            vec![(tau.clone(), t0), (tau.clone() * a, t1), (tau * b, t2)]
        });
    }
}

/// Writes the table into its fixed columns (rows past the end stay (0, 0, 0)).
pub fn fill(sheet: &mut Sheet) {
    let cfg = sheet.cfg;
    let mut row = 0;
    let mut put = |sheet: &mut Sheet, tag: u64, x: i64, y: i64| {
        let t = tag as i128;
        sheet.fixed(cfg.table[0], row, Fr::from(tag));
        sheet.fixed(cfg.table[1], row, fe(t * x as i128));
        sheet.fixed(cfg.table[2], row, fe(t * y as i128));
        row += 1;
    };
    for x in -128..128 {
        for y in -128..128 {
            put(sheet, RANGE, x, y);
        }
    }
    let bound = cfg.shape.clip_bound();
    for (lo, hi) in cfg.shape.clamps.clone() {
        let tag = cfg.shape.clamp_tag(lo, hi);
        for u in -bound..bound {
            put(sheet, tag, u, u.clamp(lo as i64, hi as i64));
        }
    }
}
