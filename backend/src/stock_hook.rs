//! Stage A: halo2-axiom's stock `create_proof` with its commitment MSMs running through an [`Engine`].
//!
//! halo2's prover commits only through the `Params` trait (`commit_lagrange` for advice, instance, lookup and
//! permutation columns; `commit` for the vanishing argument's pieces). [`EngineKzg`] is a commitment scheme whose
//! prover parameters, [`EngineParams`], wrap the stock `ParamsKZG<Bn256>` and answer those two calls with
//! `Engine::msm` against bases loaded once into the engine. Its verifier parameters ARE the stock `ParamsKZG`, and
//! the multi-opening prover delegates to the stock `ProverSHPLONK` (its two MSMs stay stock), so proofs are
//! byte-identical to stock ones and verify with `verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK, ..>`.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::poly::commitment::{Blind, CommitmentScheme, Params, ParamsProver, Prover};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::poly::kzg::msm::MSMKZG;
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::poly::{Coeff, LagrangeCoeff, Polynomial, ProverQuery};
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use halo2_proofs::SerdeCurveAffine;
use halo2_proofs::SerdeFormat;
use rand_core::RngCore;

use crate::engine::{cpu::CpuEngine, BaseSource, Bases, Engine, EngineError};
use crate::{Bn256, Fr, G1Affine, G1};

/// Stock KZG prover parameters plus the same SRS loaded into an engine.
pub struct EngineParams {
    /// Shared with the engine, which may read the monomial SRS from it in place.
    inner: Arc<ParamsKZG<Bn256>>,
    engine: Arc<dyn Engine>,
    g: Bases,
    g_lagrange: Bases,
    /// Commitment MSMs answered by the engine (observability; also lets tests prove the hook is used).
    engine_msms: Arc<AtomicUsize>,
    /// Commitment MSMs that fell back to halo2curves because the engine returned an error.
    fallback_msms: Arc<AtomicUsize>,
}

impl Clone for EngineParams {
    fn clone(&self) -> Self {
        EngineParams {
            inner: self.inner.clone(),
            engine: self.engine.clone(),
            g: self.g.clone(),
            g_lagrange: self.g_lagrange.clone(),
            engine_msms: self.engine_msms.clone(),
            fallback_msms: self.fallback_msms.clone(),
        }
    }
}

impl std::fmt::Debug for EngineParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EngineParams(k = {}, engine = {:?})", self.inner.k(), self.engine)
    }
}

/// The Lagrange-basis SRS points of stock params. halo2-axiom keeps them private, so they are read back from the
/// params' own raw serialisation (k, g, g_lagrange, g2, s_g2) once, at load time.
fn lagrange_points(params: &ParamsKZG<Bn256>) -> io::Result<Vec<G1Affine>> {
    let mut bytes = Vec::new();
    params.write_custom(&mut bytes, SerdeFormat::RawBytesUnchecked)?;
    let n = params.n() as usize;
    let point_len = (bytes.len() - 4 - 2 * 128) / (2 * n); // G2 points take 128 bytes each in raw form
    let mut reader = &bytes[4 + n * point_len..4 + 2 * n * point_len];
    (0..n)
        .map(|_| <G1Affine as SerdeCurveAffine>::read(&mut reader, SerdeFormat::RawBytesUnchecked))
        .collect()
}

/// The monomial SRS of shared stock params, as engine bases.
struct MonomialSrs(Arc<ParamsKZG<Bn256>>);

impl BaseSource for MonomialSrs {
    fn points(&self) -> &[G1Affine] {
        self.0.get_g()
    }
}

impl EngineParams {
    /// Loads the SRS (`g` and `g_lagrange`) of `params` into `engine` once.
    pub fn new(params: ParamsKZG<Bn256>, engine: Arc<dyn Engine>) -> Result<Self, EngineError> {
        let params = Arc::new(params);
        let g = engine.load_bases_shared(Arc::new(MonomialSrs(params.clone())))?;
        let lagrange = lagrange_points(&params).map_err(|e| EngineError::Device {
            op: "EngineParams::new",
            msg: format!("cannot read the Lagrange SRS back from params: {e}"),
        })?;
        let g_lagrange = engine.load_bases_shared(Arc::new(lagrange))?;
        Ok(EngineParams {
            inner: params,
            engine,
            g,
            g_lagrange,
            engine_msms: Arc::new(AtomicUsize::new(0)),
            fallback_msms: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Wraps params with a fresh CPU engine (infallible in practice: the CPU engine's loads cannot fail).
    fn with_cpu(params: ParamsKZG<Bn256>) -> io::Result<Self> {
        Self::new(params, Arc::new(CpuEngine::new())).map_err(io::Error::other)
    }

    /// The stock parameters (also the verifier parameters).
    pub fn stock(&self) -> &ParamsKZG<Bn256> {
        &self.inner
    }

    pub fn engine(&self) -> &Arc<dyn Engine> {
        &self.engine
    }

    /// The SRS in the monomial basis, resident in the engine.
    pub fn monomial_bases(&self) -> &Bases {
        &self.g
    }

    /// The SRS in the Lagrange basis, resident in the engine.
    pub fn lagrange_bases(&self) -> &Bases {
        &self.g_lagrange
    }

    /// Number of commitment MSMs the engine has answered through these params.
    pub fn engine_msm_count(&self) -> usize {
        self.engine_msms.load(Ordering::Relaxed)
    }

    /// Number of commitment MSMs that fell back to halo2curves after an engine error.
    pub fn fallback_msm_count(&self) -> usize {
        self.fallback_msms.load(Ordering::Relaxed)
    }

    /// MSM through the engine; if the engine fails (device lost, out of memory) the commitment is computed by
    /// halo2curves instead, with a warning — a failure never yields a wrong commitment, and the halo2 `Params`
    /// interface has no error channel to report it through.
    fn commit_with(&self, bases: &Bases, lagrange: bool, scalars: &[Fr]) -> G1 {
        match self.engine.msm(bases, scalars) {
            Ok(p) => {
                self.engine_msms.fetch_add(1, Ordering::Relaxed);
                p
            }
            Err(e) => {
                tracing::warn!("engine MSM failed ({e}); computing this commitment on the CPU with halo2curves");
                self.fallback_msms.fetch_add(1, Ordering::Relaxed);
                if lagrange {
                    // No host copy is kept (memory): read the Lagrange SRS back from the stock params.
                    let points = lagrange_points(&self.inner).expect("stock params serialise to memory");
                    best_multiexp(scalars, &points[..scalars.len()])
                } else {
                    best_multiexp(scalars, &self.inner.get_g()[..scalars.len()])
                }
            }
        }
    }
}

impl<'params> Params<'params, G1Affine> for EngineParams {
    type MSM = MSMKZG<Bn256>;

    fn k(&self) -> u32 {
        self.inner.k()
    }

    fn n(&self) -> u64 {
        self.inner.n()
    }

    fn downsize(&mut self, k: u32) {
        let mut smaller = (*self.inner).clone();
        smaller.downsize(k);
        let counters = (self.engine_msms.clone(), self.fallback_msms.clone());
        *self = match Self::new(smaller.clone(), self.engine.clone()) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("engine could not reload the downsized SRS ({e}); switching to the CPU engine");
                Self::with_cpu(smaller).expect("CPU engine loads cannot fail")
            }
        };
        (self.engine_msms, self.fallback_msms) = counters;
    }

    fn empty_msm(&'params self) -> MSMKZG<Bn256> {
        MSMKZG::new()
    }

    fn commit_lagrange(&self, poly: &Polynomial<Fr, LagrangeCoeff>, _: Blind<Fr>) -> G1 {
        self.commit_with(&self.g_lagrange, true, poly)
    }

    fn write<W: io::Write>(&self, writer: &mut W) -> io::Result<()> {
        self.inner.write(writer)
    }

    fn read<R: io::Read>(reader: &mut R) -> io::Result<Self> {
        Self::with_cpu(ParamsKZG::read(reader)?)
    }
}

impl<'params> ParamsProver<'params, G1Affine> for EngineParams {
    type ParamsVerifier = ParamsKZG<Bn256>;

    fn new(k: u32) -> Self {
        Self::with_cpu(ParamsKZG::<Bn256>::new(k)).expect("CPU engine loads cannot fail")
    }

    fn commit(&self, poly: &Polynomial<Fr, Coeff>, _: Blind<Fr>) -> G1 {
        self.commit_with(&self.g, false, poly)
    }

    fn get_g(&self) -> &[G1Affine] {
        self.inner.get_g()
    }

    fn verifier_params(&'params self) -> &'params ParamsKZG<Bn256> {
        &self.inner
    }
}

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
        ProverSHPLONK::new(&self.params.inner).create_proof(rng, transcript, queries)
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
