//! The Poseidon permutation (crate::poseidon) as a chip, one permutation per band of WIDTH+1 columns, bands side by
//! side, 2·R_F + R_P + 1 rows per permutation. Round constants are the first WIDTH parameter columns. Every
//! constraint stays within degree 4 (halo2-axiom's cap is 5):
//! * full round, row A (state s):       q_fa · (sq_k[next] − (s_k + c_k)²)
//! * full round, row B (squares sq):    q_fb · (s'_j[next] − Σ_k M_jk · sq_k² · (s_k[prev] + c_k[prev]))
//! * partial round (state s, sq in the band's last column):
//!       q_p · (sq − (s_0 + c_0)²),   q_p · (s'_j[next] − M_j0 · sq² · (s_0 + c_0) − Σ_{k≥1} M_jk (s_k + c_k))
//! The final row holds the output state. `chain` links permutations into `poseidon::chain_hash` by copies.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{ConstraintSystem, Expression};

use crate::config::{c, ModelConfig, Q};
use crate::error::Result;
use crate::poseidon::{self as native, is_full, params, pow5, WIDTH};
use crate::shape::{rows_per_perm, BAND};
use crate::sheet::{FWire, Sheet};

pub fn configure(meta: &mut ConstraintSystem<Fr>, cfg: &ModelConfig) {
    let p = params();
    let m = p.mds;
    for band in 0..cfg.shape.bands() {
        let col = |k: usize| band * BAND + k;
        meta.create_gate("poseidon full A", |vc| {
            let mut q = Q { meta: vc, cfg };
            let sel = q.f(cfg.q_full_a, 0);
            (0..WIDTH)
                .map(|k| {
                    let x = q.a(col(k), 0) + q.p(k, 0);
                    sel.clone() * (q.a(col(k), 1) - x.clone() * x)
                })
                .collect::<Vec<_>>()
        });
        meta.create_gate("poseidon full B", |vc| {
            let mut q = Q { meta: vc, cfg };
            let sel = q.f(cfg.q_full_b, 0);
            let sbox: Vec<Expression<Fr>> = (0..WIDTH)
                .map(|k| {
                    let sq = q.a(col(k), 0);
                    sq.clone() * sq * (q.a(col(k), -1) + q.p(k, -1))
                })
                .collect();
            (0..WIDTH)
                .map(|j| {
                    let mix = (0..WIDTH).map(|k| c(m[j][k]) * sbox[k].clone()).reduce(|a, b| a + b).unwrap();
                    sel.clone() * (q.a(col(j), 1) - mix)
                })
                .collect::<Vec<_>>()
        });
        meta.create_gate("poseidon partial", |vc| {
            let mut q = Q { meta: vc, cfg };
            let sel = q.f(cfg.q_partial, 0);
            let x: Vec<Expression<Fr>> = (0..WIDTH).map(|k| q.a(col(k), 0) + q.p(k, 0)).collect();
            let sq = q.a(col(WIDTH), 0);
            let s0 = sq.clone() * sq.clone() * x[0].clone();
            let mut polys = vec![sel.clone() * (sq - x[0].clone() * x[0].clone())];
            for j in 0..WIDTH {
                let mut mix = c(m[j][0]) * s0.clone();
                for k in 1..WIDTH {
                    mix = mix + c(m[j][k]) * x[k].clone();
                }
                polys.push(sel.clone() * (q.a(col(j), 1) - mix));
            }
            polys
        });
    }
}

pub fn rows(perms: usize, bands: usize) -> usize {
    perms.div_ceil(bands) * rows_per_perm()
}

/// Lays out one permutation block's fixed columns (selectors, round constants) at `start`.
fn block_fixed(sheet: &mut Sheet, start: usize) {
    let p = params();
    let mut row = start;
    for r in 0..p.full_rounds + p.partial_rounds {
        for k in 0..WIDTH {
            sheet.param(k, row, p.ark[r][k]);
        }
        if is_full(r) {
            sheet.set(sheet.cfg.q_full_a, row);
            sheet.set(sheet.cfg.q_full_b, row + 1);
            row += 2;
        } else {
            sheet.set(sheet.cfg.q_partial, row);
            row += 1;
        }
    }
}

/// One permutation in `band` from input cells; returns the output state's cells.
fn permutation(sheet: &mut Sheet, band: usize, start: usize, input: &[FWire; WIDTH]) -> Vec<FWire> {
    let p = params();
    let col = |k: usize| band * BAND + k;
    let mut state: [Fr; WIDTH] = std::array::from_fn(|k| input[k].val);
    for (k, w) in input.iter().enumerate() {
        sheet.copy_in_f(col(k), start, w);
    }
    let mut row = start;
    for r in 0..p.full_rounds + p.partial_rounds {
        let x: [Fr; WIDTH] = std::array::from_fn(|k| state[k] + p.ark[r][k]);
        if is_full(r) {
            for k in 0..WIDTH {
                sheet.put_f(col(k), row + 1, x[k] * x[k]);
            }
            state = native::mds_mul(&std::array::from_fn(|k| pow5(x[k])));
            row += 2;
        } else {
            sheet.put_f(col(WIDTH), row, x[0] * x[0]);
            let mut y = x;
            y[0] = pow5(x[0]);
            state = native::mds_mul(&y);
            row += 1;
        }
        for k in 0..WIDTH {
            sheet.put_f(col(k), row, state[k]);
        }
    }
    (0..WIDTH).map(|k| FWire { cell: halo2_proofs::circuit::Cell { row_offset: row, column: sheet.cfg.advice[col(k)].into() }, val: state[k] }).collect()
}

/// `poseidon::chain_hash(tag, elems)` in-circuit; returns the final chain value.
pub fn chain(sheet: &mut Sheet, tag: u64, elems: &[FWire]) -> Result<FWire> {
    let bands = sheet.cfg.shape.bands();
    let perms = native::chain_blocks(elems.len());
    let zero = FWire { cell: sheet.konst_f(Fr::ZERO)?, val: Fr::ZERO };
    let mut h = FWire { cell: sheet.konst_f(Fr::from(tag))?, val: Fr::from(tag) };
    let per = rows_per_perm();
    let mut i = 0;
    while i < perms {
        let start = sheet.alloc(per)?;
        block_fixed(sheet, start);
        for band in 0..bands {
            if i < perms {
                let mut input = [zero; WIDTH];
                input[1] = h;
                for (k, e) in elems.iter().skip(i * native::RATE).take(native::RATE).enumerate() {
                    input[2 + k] = *e;
                }
                h = permutation(sheet, band, start, &input)[0];
                i += 1;
            } else {
                // An idle band still runs the gates: give it the all-zero permutation, fully determined.
                permutation(sheet, band, start, &[zero; WIDTH]);
            }
        }
    }
    Ok(h)
}
