//! The permutation argument's grand products in Lagrange form: for chunk c,
//!   Z_c(ω^{i+1}) = Z_c(ω^i) Π_j (v_j(ω^i) + β δ^j ω^i + γ) / (v_j(ω^i) + β σ_j(ω^i) + γ),
//! Z_0(1) = 1, Z_c(1) = Z_{c−1} at the last usable row, the blinding rows random.

use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::plonk::Any;
use rand_core::RngCore;
use rayon::prelude::*;

use crate::plonk::{poly, Ctx};
use crate::Fr;

/// Lagrange values of a permuted column (advice, fixed or instance).
fn column_values<'a>(
    column: &halo2_proofs::plonk::Column<Any>,
    advice: &'a [Vec<Fr>],
    fixed: &'a [&'a [Fr]],
    instance: &'a [Vec<Fr>],
) -> &'a [Fr] {
    match column.column_type() {
        Any::Advice(_) => &advice[column.index()],
        Any::Fixed => fixed[column.index()],
        Any::Instance => &instance[column.index()],
    }
}

/// The Z_c of every chunk, Lagrange form with blinding rows, in transcript order.
pub(super) fn products(
    ctx: &Ctx<'_>,
    advice: &[Vec<Fr>],
    fixed: &[&[Fr]],
    instance: &[Vec<Fr>],
    beta: Fr,
    gamma: Fr,
    rng: &mut impl RngCore,
) -> Vec<Vec<Fr>> {
    let n = ctx.n;
    let bf = ctx.blinding_factors;
    let chunk_len = super::chunk_len(ctx.cs);
    let columns = ctx.cs.permutation().get_columns();
    let sigmas = ctx.pk.permutation().permutations();
    let omega = ctx.domain.get_omega();
    let mut delta_power = Fr::ONE; // δ^j for the first column of the current chunk
    let mut last_z = Fr::ONE;
    let mut out = Vec::new();
    for (chunk, sigma_chunk) in columns.chunks(chunk_len).zip(sigmas.chunks(chunk_len)) {
        let mut ratio = vec![Fr::ONE; n];
        for (column, sigma) in chunk.iter().zip(sigma_chunk) {
            let values = column_values(column, advice, fixed, instance);
            ratio.par_iter_mut().enumerate().for_each(|(i, r)| {
                *r *= beta * sigma[i] + gamma + values[i];
            });
        }
        poly::batch_invert(&mut ratio);
        for column in chunk {
            let values = column_values(column, advice, fixed, instance);
            const CH: usize = 1 << 12;
            let dp = delta_power;
            ratio.par_chunks_mut(CH).enumerate().for_each(|(ci, rs)| {
                let start = ci * CH;
                let mut id = dp * omega.pow_vartime([start as u64]);
                for (k, r) in rs.iter_mut().enumerate() {
                    *r *= id * beta + gamma + values[start + k];
                    id *= omega;
                }
            });
            delta_power *= Fr::DELTA;
        }
        let mut z = Vec::with_capacity(n);
        z.push(last_z);
        for row in 1..n {
            let next = z[row - 1] * ratio[row - 1];
            z.push(next);
        }
        for v in &mut z[n - bf..] {
            *v = Fr::random(&mut *rng);
        }
        last_z = z[n - bf - 1];
        out.push(z);
    }
    out
}
