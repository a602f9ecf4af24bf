//! The Poseidon permutation (`native::poseidon`) as a chip, one permutation per band of WIDTH+1 columns, bands side by
//! side, 2·R_F + R_P + 1 rows per permutation. Round constants are the first WIDTH parameter columns. Every
//! constraint stays within degree 4 (halo2-axiom's cap is 5):
//! * full round, row A (state s):       q_fa · (sq_k[next] − (s_k + c_k)²)
//! * full round, row B (squares sq):    q_fb · (s'_j[next] − Σ_k M_jk · sq_k² · (s_k[prev] + c_k[prev]))
//! * partial round (state s, sq in the band's last column):
//!       q_p · (sq − (s_0 + c_0)²),   q_p · (s'_j[next] − M_j0 · sq² · (s_0 + c_0) − Σ_{k≥1} M_jk (s_k + c_k))
//! The final row holds the output state. `chain` links permutations into `native::poseidon::chain_hash` by copies.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{ConstraintSystem, Expression};

use crate::columns::{constant, Columns, GateQuery};
use crate::error::Result;
use crate::layouter::{FWire, RowLayouter};
use crate::native::poseidon::{self as native, is_full, params, pow5, WIDTH};
use crate::shape::BAND;

pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &Columns) {
    let p = params();
    let m = p.mds;
    for band in 0..cols.shape.bands() {
        let col = |k: usize| band * BAND + k;
        meta.create_gate("poseidon full A", |vc| {
            let mut q = GateQuery { meta: vc, cols };
            let sel = q.fixed(cols.q_full_a, 0);
            (0..WIDTH)
                .map(|k| {
                    let x = q.advice(col(k), 0) + q.param(k, 0);
                    sel.clone() * (q.advice(col(k), 1) - x.clone() * x)
                })
                .collect::<Vec<_>>()
        });
        meta.create_gate("poseidon full B", |vc| {
            let mut q = GateQuery { meta: vc, cols };
            let sel = q.fixed(cols.q_full_b, 0);
            let sbox: Vec<Expression<Fr>> = (0..WIDTH)
                .map(|k| {
                    let sq = q.advice(col(k), 0);
                    sq.clone() * sq * (q.advice(col(k), -1) + q.param(k, -1))
                })
                .collect();
            (0..WIDTH)
                .map(|j| {
                    let mix = (0..WIDTH).map(|k| constant(m[j][k]) * sbox[k].clone()).reduce(|a, b| a + b).unwrap();
                    sel.clone() * (q.advice(col(j), 1) - mix)
                })
                .collect::<Vec<_>>()
        });
        meta.create_gate("poseidon partial", |vc| {
            let mut q = GateQuery { meta: vc, cols };
            let sel = q.fixed(cols.q_partial, 0);
            let x: Vec<Expression<Fr>> = (0..WIDTH).map(|k| q.advice(col(k), 0) + q.param(k, 0)).collect();
            let sq = q.advice(col(WIDTH), 0);
            let s0 = sq.clone() * sq.clone() * x[0].clone();
            let mut polys = vec![sel.clone() * (sq - x[0].clone() * x[0].clone())];
            for j in 0..WIDTH {
                let mut mix = constant(m[j][0]) * s0.clone();
                for k in 1..WIDTH {
                    mix = mix + constant(m[j][k]) * x[k].clone();
                }
                polys.push(sel.clone() * (q.advice(col(j), 1) - mix));
            }
            polys
        });
    }
}

/// Rows of one permutation block: two per full round, one per partial round, one for the output state.
pub fn rows_per_perm() -> usize {
    let p = params();
    2 * p.full_rounds + p.partial_rounds + 1
}

pub fn rows(perms: usize, bands: usize) -> usize {
    perms.div_ceil(bands) * rows_per_perm()
}

/// Lays out one permutation block's fixed columns (selectors, round constants) at `start`.
fn block_fixed(lay: &mut RowLayouter, start: usize) {
    let p = params();
    let mut row = start;
    for r in 0..p.full_rounds + p.partial_rounds {
        for k in 0..WIDTH {
            lay.param(k, row, p.ark[r][k]);
        }
        if is_full(r) {
            lay.set(lay.cols.q_full_a, row);
            lay.set(lay.cols.q_full_b, row + 1);
            row += 2;
        } else {
            lay.set(lay.cols.q_partial, row);
            row += 1;
        }
    }
}

/// One permutation in `band` from input cells; returns the output state's cells.
fn permutation(lay: &mut RowLayouter, band: usize, start: usize, input: &[FWire; WIDTH]) -> Vec<FWire> {
    let p = params();
    let col = |k: usize| band * BAND + k;
    let mut state: [Fr; WIDTH] = std::array::from_fn(|k| input[k].val);
    for (k, w) in input.iter().enumerate() {
        lay.copy_in_f(col(k), start, w);
    }
    let mut row = start;
    for r in 0..p.full_rounds + p.partial_rounds {
        let x: [Fr; WIDTH] = std::array::from_fn(|k| state[k] + p.ark[r][k]);
        if is_full(r) {
            for k in 0..WIDTH {
                lay.put_f(col(k), row + 1, x[k] * x[k]);
            }
            state = native::mds_mul(&std::array::from_fn(|k| pow5(x[k])));
            row += 2;
        } else {
            lay.put_f(col(WIDTH), row, x[0] * x[0]);
            let mut y = x;
            y[0] = pow5(x[0]);
            state = native::mds_mul(&y);
            row += 1;
        }
        for k in 0..WIDTH {
            lay.put_f(col(k), row, state[k]);
        }
    }
    (0..WIDTH).map(|k| FWire { cell: halo2_proofs::circuit::Cell { row_offset: row, column: lay.cols.advice[col(k)].into() }, val: state[k] }).collect()
}

/// `native::poseidon::chain_hash(tag, elems)` in-circuit; returns the final chain value.
pub fn chain(lay: &mut RowLayouter, tag: u64, elems: &[FWire]) -> Result<FWire> {
    let bands = lay.cols.shape.bands();
    let perms = native::chain_blocks(elems.len());
    let zero = FWire { cell: lay.constant_cell(Fr::ZERO)?, val: Fr::ZERO };
    let mut h = FWire { cell: lay.constant_cell(Fr::from(tag))?, val: Fr::from(tag) };
    let per = rows_per_perm();
    let mut i = 0;
    while i < perms {
        let start = lay.alloc(per)?;
        block_fixed(lay, start);
        for band in 0..bands {
            if i < perms {
                let mut input = [zero; WIDTH];
                input[1] = h;
                for (k, e) in elems.iter().skip(i * native::RATE).take(native::RATE).enumerate() {
                    input[2 + k] = *e;
                }
                h = permutation(lay, band, start, &input)[0];
                i += 1;
            } else {
                // An idle band still runs the gates: give it the all-zero permutation, fully determined.
                permutation(lay, band, start, &[zero; WIDTH]);
            }
        }
    }
    Ok(h)
}
