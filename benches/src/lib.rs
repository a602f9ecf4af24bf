//! Shared helpers for the zkinfer benchmarks: input generation.


use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::{Curve, Group};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;
use zkinfer_backend::{Fr, G1Affine, G1};

/// `n` distinct pseudo-random points (P0 + i·Q), cheap enough to make at 2^22.
pub fn points(n: usize, seed: u64) -> Vec<G1Affine> {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let step = G1::random(&mut r);
    let start = G1::random(&mut r);
    const CHUNK: usize = 1 << 14;
    let mut out = vec![G1Affine::default(); n];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(i, chunk)| {
        let mut cur = start + step * Fr::from((i * CHUNK) as u64);
        let proj: Vec<G1> = (0..chunk.len())
            .map(|_| {
                let p = cur;
                cur += step;
                p
            })
            .collect();
        G1::batch_normalize(&proj, chunk);
    });
    out
}

/// `n` uniformly random scalars.
pub fn scalars(n: usize, seed: u64) -> Vec<Fr> {
    const CHUNK: usize = 1 << 14;
    let mut out = vec![Fr::ZERO; n];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(i, chunk)| {
        let mut r = ChaCha20Rng::seed_from_u64(seed ^ ((i as u64) << 32));
        chunk.iter_mut().for_each(|x| *x = Fr::random(&mut r));
    });
    out
}
