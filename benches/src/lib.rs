//! Shared helpers for the zkinfer benchmarks: input generation and side-by-side (interleaved) timing.

use std::time::{Duration, Instant};

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

/// Median times of two competitors measured in alternation (A B, B A, A B, ...), so drift and noise on a shared
/// machine hit both alike. Repetitions adapt to the cost of one run, within [min_reps, max_reps].
pub fn compare(
    mut a: impl FnMut(),
    mut b: impl FnMut(),
    budget: Duration,
    min_reps: usize,
    max_reps: usize,
) -> (Duration, Duration, usize) {
    // Warm-up (caches, twiddle tables, page faults) and a first estimate.
    let t0 = Instant::now();
    a();
    b();
    let once = t0.elapsed() / 2;
    let reps = ((budget.as_secs_f64() / 2.0 / once.as_secs_f64().max(1e-6)) as usize).clamp(min_reps, max_reps);
    let (mut ta, mut tb) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    for i in 0..reps {
        let mut run_a = || {
            let t = Instant::now();
            a();
            ta.push(t.elapsed());
        };
        if i % 2 == 0 {
            run_a();
            let t = Instant::now();
            b();
            tb.push(t.elapsed());
        } else {
            let t = Instant::now();
            b();
            tb.push(t.elapsed());
            run_a();
        }
    }
    (median(&mut ta), median(&mut tb), reps)
}

pub fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
