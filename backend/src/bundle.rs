//! Many proofs, one pairing: a bundle of halo2 proofs (each with its own verifying key, k and single instance
//! column) verified by zkinfer's batch verifier ([`crate::verifier`]: proofs in parallel, shared bases merged, one
//! MSM) or, for keys it does not support and as the tests' reference, with halo2-axiom's KZG `AccumulatorStrategy`,
//! so every proof's KZG opening check is folded into one check and the bundle costs ONE final pairing instead of
//! one per proof.
//!
//! Why proofs of different k can share one accumulator (read in halo2-axiom 0.5.3):
//! - `plonk::verify_proof` uses its `params` for `n()` (x^n in the vanishing and instance checks) and hands them to
//!   `VerifierSHPLONK`, which reads only `g[0]` from them. With SHPLONK `QUERY_INSTANCE = false`, so nothing is
//!   committed with `g_lagrange`. Hence each item is verified with params of ITS OWN k.
//! - `DualMSM` keeps the params it was created with only for `g2` and `s_g2` in `check()` (the final pairing
//!   e(left, s·h)·e(right, −h) = 1); `AccumulatorStrategy::process` scales the accumulator by a fresh random scalar
//!   before each proof is added, so the sum is a random linear combination of the individual checks.
//! - Params cut from one SRS with `Params::downsize(k)` (truncates `g`, recomputes `g_lagrange`) share `g[0]`, `g2`
//!   and `s_g2`: exactly the points verification depends on. halo2 checks nothing of the kind, so
//!   [`verify_bundle`] does: an item whose params differ in any of the three from item 0's is refused.
//! - Lifetimes: the strategy's `DualMSM` and each `VerifierSHPLONK` borrow params for one `'params`, here the items'
//!   shared `'a`, so the accumulator can outlive any one item's verification.

use halo2_proofs::plonk::{verify_proof, VerifyingKey};
use halo2_proofs::poly::commitment::{Params, ParamsProver};
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::VerifierSHPLONK;
use halo2_proofs::poly::kzg::strategy::{AccumulatorStrategy, SingleStrategy};
use halo2_proofs::poly::VerificationStrategy;
use halo2_proofs::transcript::{Blake2bRead, Challenge255, TranscriptReadBuffer};

use crate::verifier::{verify_batch_with, BatchError, Item, PreparedKey};
use crate::{Bn256, Fr, G1Affine};

/// One proof of a bundle.
#[derive(Clone, Copy, Debug)]
pub struct BundleItem<'a> {
    /// The SRS cut to this proof's k (e.g. with `Params::downsize`); every item's params from the same SRS.
    pub params: &'a ParamsKZG<Bn256>,
    pub vk: &'a VerifyingKey<G1Affine>,
    /// The circuit's one instance column.
    pub instances: &'a [Fr],
    pub proof: &'a [u8],
}

/// Why a bundle was rejected.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Proof `index` failed on its own (bad transcript, wrong instance count, other SRS, or its pairing fails alone).
    #[error("proof {index} is invalid: {reason}")]
    Proof { index: usize, reason: String },
    /// The accumulated pairing failed but every proof passed alone: should not happen (a bug, or a failure whose
    /// random combination cancelled, with negligible probability).
    #[error("the bundle's pairing failed, yet every proof verifies alone (should not happen)")]
    Pairing,
    #[error("the bundle is empty")]
    Empty,
}

/// What verifying a bundle cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleStats {
    pub proofs: usize,
    /// Final pairing checks made: 1 on success.
    pub pairings: usize,
}

type Scheme = KZGCommitmentScheme<Bn256>;
type Verifier<'p> = VerifierSHPLONK<'p, Bn256>;

/// Verifies every item with zkinfer's batch verifier ([`crate::verifier`]): each proof replayed on its own thread,
/// one MSM, ONE pairing. A key it does not support goes through halo2-axiom's accumulator instead
/// ([`verify_bundle_stock`]). When the pairing fails, each item is re-verified alone with halo2-axiom's
/// `SingleStrategy` to name the failing one.
pub fn verify_bundle(items: &[BundleItem<'_>]) -> Result<BundleStats, BundleError> {
    verify_bundle_with(items, &[])
}

/// [`verify_bundle`] with the verifying keys prepared beforehand (see [`crate::verifier::verify_batch_with`]).
pub fn verify_bundle_with(items: &[BundleItem<'_>], prepared: &[PreparedKey<'_>]) -> Result<BundleStats, BundleError> {
    let first = check_items(items)?;
    let columns: Vec<[&[Fr]; 1]> = items.iter().map(|i| [i.instances]).collect();
    let batch: Vec<Item<'_>> = items
        .iter()
        .zip(&columns)
        .map(|(i, c)| Item { vk: i.vk, instances: c, proof: i.proof })
        .collect();
    match verify_batch_with(first.params, &batch, prepared) {
        Ok(()) => Ok(BundleStats { proofs: items.len(), pairings: 1 }),
        Err(BatchError::Proof { index, reason }) => Err(BundleError::Proof { index, reason }),
        Err(BatchError::Unsupported { .. }) => accumulate_stock(items),
        Err(BatchError::Pairing) => Err(blame(items)),
    }
}

/// [`verify_bundle`] through halo2-axiom's `AccumulatorStrategy` alone: every proof's KZG check folded into one
/// `DualMSM`, proofs one after another, then one pairing. The reference the batch verifier is tested against.
pub fn verify_bundle_stock(items: &[BundleItem<'_>]) -> Result<BundleStats, BundleError> {
    check_items(items)?;
    accumulate_stock(items)
}

fn check_items<'i, 'a>(items: &'i [BundleItem<'a>]) -> Result<&'i BundleItem<'a>, BundleError> {
    let first = items.first().ok_or(BundleError::Empty)?;
    for (index, item) in items.iter().enumerate() {
        check_item(first.params, item).map_err(|reason| BundleError::Proof { index, reason })?;
    }
    Ok(first)
}

fn accumulate_stock(items: &[BundleItem<'_>]) -> Result<BundleStats, BundleError> {
    let first = &items[0];
    // g2 and s_g2 are equal in every item's params (checked above), so item 0's serve the final pairing.
    let mut strategy = AccumulatorStrategy::new(first.params);
    for (index, item) in items.iter().enumerate() {
        let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(item.proof);
        strategy = verify_proof::<Scheme, Verifier<'_>, _, _, _>(
            item.params,
            item.vk,
            strategy,
            &[&[item.instances]],
            &mut transcript,
        )
        .map_err(|e| BundleError::Proof { index, reason: e.to_string() })?;
    }
    if VerificationStrategy::<Scheme, Verifier<'_>>::finalize(strategy) {
        return Ok(BundleStats { proofs: items.len(), pairings: 1 });
    }
    Err(blame(items))
}

/// The first item whose own pairing fails (halo2-axiom's `SingleStrategy`), or [`BundleError::Pairing`].
fn blame(items: &[BundleItem<'_>]) -> BundleError {
    for (index, item) in items.iter().enumerate() {
        let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(item.proof);
        if let Err(e) = verify_proof::<Scheme, Verifier<'_>, _, _, _>(
            item.params,
            item.vk,
            SingleStrategy::new(item.params),
            &[&[item.instances]],
            &mut transcript,
        ) {
            return BundleError::Proof { index, reason: format!("fails alone: {e}") };
        }
    }
    BundleError::Pairing
}

/// Cheap checks before any curve arithmetic: same SRS as item 0 (the three points verification reads), params cut
/// to the key's k (halo2 would just fail the proof), one instance column.
fn check_item(reference: &ParamsKZG<Bn256>, item: &BundleItem<'_>) -> Result<(), String> {
    let (p, r) = (item.params, reference);
    if p.g2() != r.g2() || p.s_g2() != r.s_g2() || p.get_g().first() != r.get_g().first() {
        return Err("SRS differs from item 0's (g[0], g2 or s·g2)".into());
    }
    let vk_k = item.vk.get_domain().k();
    if p.k() != vk_k {
        return Err(format!("params have k = {}, the verifying key k = {vk_k}", p.k()));
    }
    let columns = item.vk.cs().num_instance_columns();
    if columns != 1 {
        return Err(format!("the circuit has {columns} instance columns, a bundle item exactly 1"));
    }
    Ok(())
}
