//! Test inputs shared by the backend's integration tests.
#![allow(dead_code)]

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::{Curve, Group};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::{Fr, G1Affine, G1};

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// `n` distinct points P0 + i·Q for random P0, Q (cheap to make at 2^20, unrelated to the generator).
pub fn points(n: usize, seed: u64) -> Vec<G1Affine> {
    let mut r = rng(seed);
    let step = G1::random(&mut r);
    let mut cur = G1::random(&mut r);
    let mut proj = Vec::with_capacity(n);
    for _ in 0..n {
        proj.push(cur);
        cur += step;
    }
    let mut out = vec![G1Affine::default(); n];
    G1::batch_normalize(&proj, &mut out);
    out
}

pub fn scalars(n: usize, seed: u64) -> Vec<Fr> {
    let mut r = rng(seed);
    (0..n).map(|_| Fr::random(&mut r)).collect()
}

/// The definition: sum of scalar multiplications.
pub fn naive_msm(bases: &[G1Affine], scalars: &[Fr]) -> G1 {
    bases
        .iter()
        .zip(scalars)
        .fold(G1::identity(), |acc, (p, s)| acc + *p * *s)
}

/// The definition of the DFT: out[i] = sum_j a[j] * (g * omega^i)^j.
pub fn naive_dft(a: &[Fr], omega: Fr, g: Fr) -> Vec<Fr> {
    let n = a.len();
    let mut x = g;
    (0..n)
        .map(|_| {
            let mut acc = Fr::ZERO;
            for c in a.iter().rev() {
                acc = acc * x + c;
            }
            x *= omega;
            acc
        })
        .collect()
}
