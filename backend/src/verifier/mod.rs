//! zkinfer's verifier for halo2-axiom KZG proofs (SHPLONK): many proofs, checked in parallel, ONE MSM and ONE
//! pairing.
//!
//! halo2-axiom's `AccumulatorStrategy` also ends in one pairing, but it replays proofs one after another on one
//! core (its accumulator is threaded through `verify_proof` by value), and its final MSM carries every key
//! commitment once per proof. Here each proof is reduced to its pairing terms on its own thread ([`proof::read`]);
//! the terms are then combined with fresh random weights r_p: Σ r_p·e(left_p, s·g2) = Σ r_p·e(right_p, g2) fails
//! with probability ≤ 1/|Fr| unless every proof's check holds. Bases shared by proofs (g[0]; the fixed and σ
//! commitments of a key used by several proofs) are merged before the MSM, which runs on the CPU engine.
//!
//! Soundness rests on doing every check `verify_proof` does; `tests/verifier.rs` holds this verifier to the stock
//! one, verdict for verdict, on valid proofs and on proofs broken byte by byte.

pub mod key;
pub mod points;
pub mod proof;

use std::collections::HashMap;

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::{Curve, Group};
use halo2_proofs::halo2curves::pairing::{MillerLoopResult, MultiMillerLoop};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::commitment::ParamsProver;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_core::OsRng;
use rayon::prelude::*;

use crate::engine::cpu::msm::msm;
use crate::{Bn256, Fr, G1Affine};
pub use key::PreparedKey;
use proof::{Base, Opened};

/// Why a batch was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The key uses something this verifier does not implement (the caller may fall back to halo2-axiom's).
    #[error("unsupported key for item {index}: {reason}")]
    Unsupported { index: usize, reason: String },
    /// Proof `index` failed before the pairing: a transcript that does not parse, a point off the curve, a
    /// degenerate challenge.
    #[error("proof {index} is invalid: {reason}")]
    Proof { index: usize, reason: String },
    /// The one pairing failed: at least one proof is invalid (which one takes a pairing per proof to tell).
    #[error("the batch's pairing check failed")]
    Pairing,
}

/// One proof to verify: its key, public values (one slice per instance column) and bytes.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    pub vk: &'a VerifyingKey<G1Affine>,
    pub instances: &'a [&'a [Fr]],
    pub proof: &'a [u8],
}

/// Verifies every item against `srs` (only g[0], g2 and s·g2 are read: params cut from one SRS to any k serve;
/// `bundle::verify_bundle` checks that) with one MSM and one pairing. Items with the same verifying key (by
/// address) share its prepared form and its bases.
pub fn verify_batch(srs: &ParamsKZG<Bn256>, items: &[Item<'_>]) -> Result<(), BatchError> {
    verify_batch_with(srs, items, &[])
}

/// [`verify_batch`] with keys prepared beforehand (a verifier that holds its keys prepares them once, when it loads
/// them); an item's key is found among `prepared` by address, and prepared here when it is not there.
pub fn verify_batch_with(srs: &ParamsKZG<Bn256>, items: &[Item<'_>], prepared: &[PreparedKey<'_>]) -> Result<(), BatchError> {
    // One prepared key per distinct verifying key (the first item using it names it); missing ones in parallel.
    let mut key_of: Vec<usize> = Vec::with_capacity(items.len());
    let mut firsts: Vec<usize> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match firsts.iter().position(|&f| std::ptr::eq(items[f].vk, item.vk)) {
            Some(k) => key_of.push(k),
            None => {
                firsts.push(index);
                key_of.push(firsts.len() - 1);
            }
        }
    }
    let held = |index: usize| prepared.iter().find(|p| std::ptr::eq(p.vk(), items[index].vk));
    let fresh: Vec<PreparedKey<'_>> = firsts
        .par_iter()
        .filter(|&&index| held(index).is_none())
        .map(|&index| PreparedKey::new(items[index].vk).map_err(|reason| BatchError::Unsupported { index, reason }))
        .collect::<Result<_, _>>()?;
    let keys: Vec<&PreparedKey<'_>> = firsts
        .iter()
        .map(|&index| {
            held(index)
                .or_else(|| fresh.iter().find(|p| std::ptr::eq(p.vk(), items[index].vk)))
                .expect("every key is held or prepared above")
        })
        .collect();
    let t0 = std::time::Instant::now();
    let opened: Vec<Opened> = items
        .par_iter()
        .enumerate()
        .map(|(index, item)| {
            proof::read(keys[key_of[index]], item.instances, item.proof)
                .map_err(|reason| BatchError::Proof { index, reason })
        })
        .collect::<Result<_, _>>()?;

    let t1 = std::time::Instant::now();
    // Random weights (r_0 = 1 costs nothing and keeps a single proof's check exact).
    let weights: Vec<Fr> = (0..items.len())
        .map(|p| if p == 0 { Fr::ONE } else { Fr::random(OsRng) })
        .collect();
    let mut left_bases = Vec::with_capacity(items.len());
    let mut left_scalars = Vec::with_capacity(items.len());
    // Bases by identity: (key, base) for shared ones, the proof's own points by (proof, index).
    let mut slot: HashMap<(usize, Base), usize> = HashMap::new();
    let mut bases: Vec<G1Affine> = Vec::new();
    let mut scalars: Vec<Fr> = Vec::new();
    for (p, (o, r)) in opened.iter().zip(&weights).enumerate() {
        left_bases.push(o.points[o.left]);
        left_scalars.push(*r);
        let k = key_of[p];
        let vk = keys[k].vk();
        for &(base, s) in &o.right {
            let (owner, point) = match base {
                Base::G1 => (usize::MAX, srs.get_g()[0]),
                Base::Fixed(c) => (k, vk.fixed_commitments()[c]),
                Base::Sigma(c) => (k, vk.permutation().commitments()[c]),
                Base::Own(i) => (usize::MAX - 1 - p, o.points[i]),
            };
            let at = *slot.entry((owner, base)).or_insert_with(|| {
                bases.push(point);
                scalars.push(Fr::ZERO);
                bases.len() - 1
            });
            scalars[at] += *r * s;
        }
    }
    let t2 = std::time::Instant::now();
    let (left, right) = rayon::join(|| msm(&left_bases, true, &left_scalars), || split_msm(&bases, &scalars));
    let (left, right) = (left.to_affine(), right.to_affine());
    let t3 = std::time::Instant::now();
    let ok = pairing_holds(srs, &left, &right);
    tracing::debug!(
        "verify {} proof(s): transcripts {:.2} ms, merge {:.2} ms, MSM of {} bases {:.2} ms, pairing {:.2} ms",
        items.len(),
        ms(t1 - t0),
        ms(t2 - t1),
        bases.len(),
        ms(t3 - t2),
        ms(t3.elapsed())
    );
    if ok {
        Ok(())
    } else {
        Err(BatchError::Pairing)
    }
}

/// The engine's MSM runs fewer than 1024 points on one thread (right for the prover's many small MSMs); a verifier
/// has one such MSM and idle cores, so it is cut into one part per thread.
fn split_msm(bases: &[G1Affine], scalars: &[Fr]) -> crate::G1 {
    if bases.len() >= 1024 {
        // The engine's own plan runs this size in parallel.
        return msm(bases, true, scalars);
    }
    let part = bases.len().div_ceil(rayon::current_num_threads()).max(64);
    bases.par_chunks(part).zip(scalars.par_chunks(part)).map(|(b, s)| msm(b, true, s)).reduce(crate::G1::identity, |a, b| a + b)
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// e(left, s·g2) · e(right, −g2) = 1.
fn pairing_holds(srs: &ParamsKZG<Bn256>, left: &G1Affine, right: &G1Affine) -> bool {
    use halo2_proofs::halo2curves::bn256::G2Prepared;
    let s_g2 = G2Prepared::from(srs.s_g2());
    let neg_g2 = G2Prepared::from(-srs.g2());
    bool::from(Bn256::multi_miller_loop(&[(left, &s_g2), (right, &neg_g2)]).final_exponentiation().is_identity())
}
