//! Test inputs shared by the backend's integration tests.
#![allow(dead_code)]

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::{Curve, Group};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;
use zkinfer_backend::{Fr, G1Affine, G1};

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// `n` distinct points P0 + i·Q for random P0, Q (unrelated to the generator). Made in parallel chunks, each
/// starting at P0 + start·Q, so the values do not depend on the thread count and 2^24 points take seconds.
pub fn points(n: usize, seed: u64) -> Vec<G1Affine> {
    let mut r = rng(seed);
    let step = G1::random(&mut r);
    let first = G1::random(&mut r);
    let mut out = vec![G1Affine::default(); n];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut cur = first + step * Fr::from((c * CHUNK) as u64);
        let mut proj = Vec::with_capacity(chunk.len());
        for _ in 0..chunk.len() {
            proj.push(cur);
            cur += step;
        }
        G1::batch_normalize(&proj, chunk);
    });
    out
}

const CHUNK: usize = 1 << 16;

/// `n` random field elements: chunk c of 2^16 from its own stream (seed, c), in parallel.
pub fn scalars(n: usize, seed: u64) -> Vec<Fr> {
    let mut out = vec![Fr::ZERO; n];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut r = ChaCha20Rng::seed_from_u64(seed);
        r.set_stream(c as u64);
        chunk.iter_mut().for_each(|x| *x = Fr::random(&mut r));
    });
    out
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

/// A test-kit circuit's stock params (dev SRS seeded by k), proving key and instances.
pub fn sample_keys<S: zkinfer_testkit::sample_circuits::Sample>(
    circuit: &S,
) -> (
    halo2_proofs::poly::kzg::commitment::ParamsKZG<zkinfer_backend::Bn256>,
    halo2_proofs::plonk::ProvingKey<G1Affine>,
    Vec<Vec<Fr>>,
) {
    use halo2_proofs::plonk::{keygen_pk, keygen_vk};
    let k = circuit.k();
    let stock = halo2_proofs::poly::kzg::commitment::ParamsKZG::<zkinfer_backend::Bn256>::setup(k, rng(k as u64));
    let vk = keygen_vk(&stock, &circuit.without_witnesses()).unwrap();
    let pk = keygen_pk(&stock, vk, &circuit.without_witnesses()).unwrap();
    (stock, pk, circuit.instances())
}
