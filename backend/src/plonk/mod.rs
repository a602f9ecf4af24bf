//! zkinfer's own halo2-compatible KZG prover.
//!
//! Makes keys ([`keygen`]: the same keys as stock `keygen_vk` / `keygen_pk`) and proves circuits written against
//! halo2-axiom's frontend; every MSM, NTT, coset NTT and the quotient evaluation go through the
//! [`Engine`](crate::Engine) held by the [`EngineParams`]. The transcript is byte-for-byte the protocol
//! halo2-axiom's `verify_proof` with `VerifierSHPLONK` reads, so the stock verifier accepts our proofs.
//!
//! As in halo2, each argument owns its whole life (commit → construct → its constraints in the quotient →
//! evaluate → its opening queries): [`columns`] (instance, advice, fixed), [`gates`], [`lookup`], [`permutation`],
//! [`vanishing`]; [`prover`] only sequences them in transcript order. Shared machinery: [`ctx`], [`quotient`],
//! [`shplonk`], [`poly`], [`witness`].
//!
//! Not supported (clear error): multi-phase advice (columns in phase > 0).

pub mod columns;
pub mod cosets;
pub mod ctx;
pub mod error;
pub mod gates;
pub mod keygen;
pub mod lookup;
pub mod permutation;
pub mod poly;
pub mod prover;
pub mod quotient;
pub mod shplonk;
pub mod vanishing;
pub mod witness;

use halo2_proofs::plonk::{Circuit, ProvingKey};
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rand_core::RngCore;

use crate::params::EngineParams;
use crate::{Fr, G1Affine};
pub use ctx::Ctx;
pub use error::ProveError;
pub use prover::{ProveStats, PHASES};

/// Proves `circuit` with public `instances` (one slice per instance column) into `transcript`.
/// The proof is accepted by halo2-axiom's `verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK, ..>` with
/// the stock verifier params `params.stock()`. The same RNG seed gives the same proof bytes.
pub fn prove<C, E, T>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: impl RngCore,
    transcript: &mut T,
) -> Result<(), ProveError>
where
    C: Circuit<Fr>,
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    prove_with_stats(params, pk, circuit, instances, rng, transcript).map(|_| ())
}

/// [`prove`], also returning the time spent in each phase.
pub fn prove_with_stats<C, E, T>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: impl RngCore,
    transcript: &mut T,
) -> Result<ProveStats, ProveError>
where
    C: Circuit<Fr>,
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    prove_observed(params, pk, circuit, instances, rng, transcript, &mut |_| {})
}

/// [`prove_with_stats`], calling `on_phase` with each entry of [`PHASES`] as it finishes (progress bars).
pub fn prove_observed<C, E, T>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    mut rng: impl RngCore,
    transcript: &mut T,
    on_phase: &mut dyn FnMut(&'static str),
) -> Result<ProveStats, ProveError>
where
    C: Circuit<Fr>,
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    prover::create_proof(params, pk, circuit, instances, &mut rng, transcript, on_phase)
}

/// [`prove_with_stats`] into a fresh Blake2b transcript (the one halo2's stock verifier reads): the proof bytes.
pub fn prove_blake2b<C: Circuit<Fr>>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: impl RngCore,
) -> Result<(Vec<u8>, ProveStats), ProveError> {
    prove_blake2b_observed(params, pk, circuit, instances, rng, &mut |_| {})
}

/// [`prove_blake2b`] with a phase observer (see [`prove_observed`]).
pub fn prove_blake2b_observed<C: Circuit<Fr>>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: impl RngCore,
    on_phase: &mut dyn FnMut(&'static str),
) -> Result<(Vec<u8>, ProveStats), ProveError> {
    use halo2_proofs::transcript::{Blake2bWrite, Challenge255, TranscriptWriterBuffer};
    let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(Vec::new());
    let stats = prove_observed(params, pk, circuit, instances, rng, &mut transcript, on_phase)?;
    Ok((transcript.finalize(), stats))
}
