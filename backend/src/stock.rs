//! halo2-axiom's stock prover and verifier, with the stock prover's commitment MSMs running through an [`Engine`].
//!
//! halo2's prover commits only through the `Params` trait (`commit_lagrange` for advice, instance, lookup and
//! permutation columns; `commit` for the vanishing argument's pieces). [`EngineKzg`] is a commitment scheme whose
//! prover parameters, [`EngineParams`], wrap the stock `ParamsKZG<Bn256>` and answer those two calls with
//! `Engine::msm` against bases loaded once into the engine. Its verifier parameters ARE the stock `ParamsKZG`, and
//! the multi-opening prover delegates to the stock `ProverSHPLONK` (its two MSMs stay stock), so proofs are
//! byte-identical to stock ones and verify with `verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK, ..>`.
//! [`prove_stock`] is the untouched baseline and [`verify_stock`] the verifier every proof is judged by.
//!
//! [`Engine`]: crate::Engine

use std::io;

use halo2_proofs::poly::commitment::{CommitmentScheme, Params, ParamsProver, Prover};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::poly::ProverQuery;
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rand_core::RngCore;

use crate::params::EngineParams;
use crate::{Bn256, Fr, G1Affine};

/// KZG over BN254 with commitments computed by an [`Engine`]; verifier side identical to `KZGCommitmentScheme<Bn256>`.
#[derive(Debug)]
pub struct EngineKzg;

impl CommitmentScheme for EngineKzg {
    type Scalar = Fr;
    type Curve = G1Affine;
    type ParamsProver = EngineParams;
    type ParamsVerifier = ParamsKZG<Bn256>;

    fn new_params(k: u32) -> EngineParams {
        <EngineParams as ParamsProver<G1Affine>>::new(k)
    }

    fn read_params<R: io::Read>(reader: &mut R) -> io::Result<EngineParams> {
        <EngineParams as Params<G1Affine>>::read(reader)
    }
}

/// SHPLONK multi-opening for [`EngineKzg`]: the stock prover on the wrapped stock params.
#[derive(Debug)]
pub struct EngineProverShplonk<'params> {
    params: &'params EngineParams,
}

impl<'params> Prover<'params, EngineKzg> for EngineProverShplonk<'params> {
    const QUERY_INSTANCE: bool = false;

    fn new(params: &'params EngineParams) -> Self {
        EngineProverShplonk { params }
    }

    fn create_proof<'com, Ch, T, R, I>(&self, rng: R, transcript: &mut T, queries: I) -> io::Result<()>
    where
        Ch: EncodedChallenge<G1Affine>,
        T: TranscriptWrite<G1Affine, Ch>,
        I: IntoIterator<Item = ProverQuery<'com, G1Affine>> + Clone,
        R: RngCore,
    {
        ProverSHPLONK::new(self.params.stock()).create_proof(rng, transcript, queries)
    }
}

/// halo2-axiom's `create_proof` for commitment scheme `S` and multi-opening prover `P` over a Blake2b transcript.
fn create_proof_blake2b<'params, S, P, C>(
    params: &'params S::ParamsProver,
    pk: &halo2_proofs::plonk::ProvingKey<G1Affine>,
    circuit: C,
    instances: &[&[Fr]],
    rng: impl RngCore,
) -> Result<Vec<u8>, halo2_proofs::plonk::Error>
where
    S: CommitmentScheme<Curve = G1Affine, Scalar = Fr>,
    S::ParamsProver: Sync,
    P: Prover<'params, S>,
    C: halo2_proofs::plonk::Circuit<Fr>,
{
    use halo2_proofs::transcript::{Blake2bWrite, Challenge255, TranscriptWriterBuffer};
    let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(Vec::new());
    halo2_proofs::plonk::create_proof::<S, P, _, _, _, _>(params, pk, &[circuit], &[instances], rng, &mut transcript)?;
    Ok(transcript.finalize())
}

/// Proves one circuit with halo2-axiom's stock `create_proof`, commitments through `params`' engine, SHPLONK and
/// the Blake2b transcript. `instances` holds one slice per instance column.
pub fn prove_stock_with_engine<C: halo2_proofs::plonk::Circuit<Fr>>(
    params: &EngineParams,
    pk: &halo2_proofs::plonk::ProvingKey<G1Affine>,
    circuit: C,
    instances: &[&[Fr]],
    rng: impl RngCore,
) -> Result<Vec<u8>, halo2_proofs::plonk::Error> {
    create_proof_blake2b::<EngineKzg, EngineProverShplonk<'_>, _>(params, pk, circuit, instances, rng)
}

/// halo2-axiom's stock `create_proof` untouched (its own MSMs and FFTs, KZG, SHPLONK, Blake2b): the baseline the
/// benchmarks compare against.
pub fn prove_stock<C: halo2_proofs::plonk::Circuit<Fr>>(
    params: &ParamsKZG<Bn256>,
    pk: &halo2_proofs::plonk::ProvingKey<G1Affine>,
    circuit: C,
    instances: &[&[Fr]],
    rng: impl RngCore,
) -> Result<Vec<u8>, halo2_proofs::plonk::Error> {
    use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
    create_proof_blake2b::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _>(params, pk, circuit, instances, rng)
}

/// halo2-axiom's stock verifier (KZG, SHPLONK, Blake2b) on one proof.
pub fn verify_stock(
    params: &ParamsKZG<Bn256>,
    vk: &halo2_proofs::plonk::VerifyingKey<G1Affine>,
    instances: &[&[Fr]],
    proof: &[u8],
) -> Result<(), halo2_proofs::plonk::Error> {
    use halo2_proofs::poly::kzg::{
        commitment::KZGCommitmentScheme, multiopen::VerifierSHPLONK, strategy::SingleStrategy,
    };
    use halo2_proofs::transcript::{Blake2bRead, Challenge255, TranscriptReadBuffer};
    let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(proof);
    halo2_proofs::plonk::verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        params,
        vk,
        SingleStrategy::new(params),
        &[instances],
        &mut transcript,
    )
}
