//! Prover parameters: the KZG structured reference string (SRS), and halo2-axiom's keygen.
//!
//! The SRS is the powers g·sⁱ (i < 2^k) of a secret s in G1, plus h and s·h in G2. [`EngineParams`] holds halo2-axiom's
//! stock `ParamsKZG<Bn256>` together with the same points (monomial and Lagrange basis) loaded once into an
//! [`Engine`], and implements halo2's `Params` by answering its commitment calls with `Engine::msm`. The SRS comes
//! either from a ceremony file ([`read_srs`], checked by [`check_ceremony_srs`]) or, for development, from a seeded
//! RNG ([`dev_srs`]: whoever knows the seed knows s and can forge proofs). [`keygen`] is halo2-axiom's own keygen
//! (verifying key, then proving key): the oracle `plonk::keygen` is tested against, and the keygen of tests and
//! benchmarks that want halo2's path; `setup`, `bench` and `selftest` use `plonk::keygen`.

use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::halo2curves::pairing::Engine as _;
use halo2_proofs::plonk::{keygen_pk, keygen_vk, Circuit, ProvingKey};
use halo2_proofs::poly::commitment::{Blind, Params, ParamsProver};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::poly::kzg::msm::MSMKZG;
use halo2_proofs::poly::{Coeff, LagrangeCoeff, Polynomial};
use halo2_proofs::halo2curves::serde::SerdeObject;
use halo2_proofs::SerdeCurveAffine;
use halo2_proofs::SerdeFormat;
use halo2_proofs::halo2curves::bn256::G2Affine;
use halo2_proofs::halo2curves::ff::{BatchInvert, Field, PrimeField};
use halo2_proofs::halo2curves::group::Curve;
use rand_core::RngCore;
use rayon::prelude::*;

use crate::engine::cpu::fixed_base::FixedBase;
use crate::engine::{cpu::CpuEngine, BaseSource, Bases, Engine, EngineError};
use crate::{Bn256, Fr, G1Affine, G1};

/// An SRS generated here from `rng`: INSECURE, for development and tests only. The same points as halo2-axiom's
/// `ParamsKZG::setup(k, rng)` (s is the same single draw from `rng`), computed with fixed-base window tables on
/// every core: halo2-axiom does one full scalar multiplication per point (127 s of a 137 s setup at k = 20 here).
pub fn dev_srs(k: u32, mut rng: impl RngCore) -> ParamsKZG<Bn256> {
    assert!(k <= Fr::S, "k = {k} is past the largest power-of-two domain of Fr (2^{})", Fr::S);
    let n = 1usize << k;
    let s = Fr::random(&mut rng);

    // sⁱ, each chunk starting from its own power.
    let mut powers = vec![Fr::ZERO; n];
    powers.par_chunks_mut(SRS_CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut p = s.pow_vartime([(c * SRS_CHUNK) as u64]);
        for x in chunk {
            *x = p;
            p *= s;
        }
    });

    // The Lagrange basis at s: Lᵢ(s) = (sⁿ − 1)/n · ωⁱ/(s − ωⁱ), ω the n-th root of unity halo2 uses.
    let mut omega = Fr::ROOT_OF_UNITY;
    for _ in k..Fr::S {
        omega = omega.square();
    }
    let scale = (powers[n - 1] * s - Fr::ONE) * Fr::from(n as u64).invert().unwrap();
    let mut lagrange = vec![Fr::ZERO; n];
    lagrange.par_chunks_mut(SRS_CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut w = omega.pow_vartime([(c * SRS_CHUNK) as u64]);
        let mut roots = Vec::with_capacity(chunk.len());
        for x in chunk.iter_mut() {
            roots.push(w);
            *x = s - w;
            w *= omega;
        }
        chunk.iter_mut().batch_invert();
        for (x, w) in chunk.iter_mut().zip(roots) {
            *x *= scale * w;
        }
    });

    let table = FixedBase::new(G1::generator(), 2 * n);
    let g = table.mul_batch(&powers);
    drop(powers);
    let g_lagrange = table.mul_batch(&lagrange);
    let g2 = G2Affine::generator();
    let s_g2 = (g2 * s).to_affine();
    // halo2-axiom builds params from parts only as a method of existing params: a k = 0 setup serves (its secret,
    // drawn from a constant stream, is discarded).
    ParamsKZG::<Bn256>::setup(0, ConstantRng).from_parts(k, g, Some(g_lagrange), g2, s_g2)
}

/// Chunk of the SRS scalars computed from one starting power.
const SRS_CHUNK: usize = 1 << 14;

/// An RNG that yields zeros: only for the throwaway params [`dev_srs`] builds its result from.
struct ConstantRng;

impl RngCore for ConstantRng {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(0);
        Ok(())
    }
}

/// The largest k an SRS file may have: BN254's Fr has no larger power-of-two domain (2-adicity 28).
pub const MAX_SRS_K: u32 = Fr::S;

/// Bytes of a raw-format SRS of size 2^k: k (u32), 2^k G1 points twice (monomial and Lagrange), two G2 points.
pub fn srs_bytes(k: u32) -> u64 {
    let g1 = G1Affine::default().to_raw_bytes().len() as u64;
    let g2 = G2Affine::default().to_raw_bytes().len() as u64;
    4 + 2 * (1u64 << k.min(63)) * g1 + 2 * g2
}

/// Reads params in halo2-axiom's raw format from a file of `len` bytes. `trusted`: a file this tool wrote and
/// digest-checked (points taken as they are); otherwise every point is checked to be on the curve (ceremony files).
/// The header's k is checked first, and the length against it, before halo2 reads the points: its reader trusts k
/// (k = 40 reserves 2^40 points up front, and it unwraps on short input), so a damaged or hostile file is an
/// `InvalidData` error, never an allocation or a panic.
pub fn read_srs(reader: &mut impl io::Read, len: u64, trusted: bool) -> io::Result<ParamsKZG<Bn256>> {
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidData, msg);
    if len < 4 {
        return Err(invalid(format!("{len} bytes: too short for an SRS (it starts with k, 4 bytes)")));
    }
    let mut head = [0u8; 4];
    reader.read_exact(&mut head)?;
    let k = u32::from_le_bytes(head);
    if k > MAX_SRS_K {
        return Err(invalid(format!("its header says k = {k}; BN254 allows at most k = {MAX_SRS_K}")));
    }
    if len != srs_bytes(k) {
        return Err(invalid(format!("{len} bytes, but an SRS of k = {k} (its header) takes {}", srs_bytes(k))));
    }
    let format = if trusted { SerdeFormat::RawBytesUnchecked } else { SerdeFormat::RawBytes };
    ParamsKZG::<Bn256>::read_custom(&mut io::Cursor::new(head).chain(reader.take(len - 4)), format)
}

/// Writes params in the raw format [`read_srs`] reads back with `trusted`.
pub fn write_srs(params: &ParamsKZG<Bn256>, writer: &mut impl io::Write) -> io::Result<()> {
    params.write_custom(writer, SerdeFormat::RawBytesUnchecked)
}

/// Why a ceremony SRS cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SrsError {
    #[error("it has k = {have}, the circuit needs k = {need}")]
    TooSmall { have: u32, need: u32 },
    /// The G2 half does not belong to the G1 powers: e(g·s, h) must equal e(g, s·h).
    #[error("it is inconsistent: e(g1, h) != e(g0, s·h)")]
    Inconsistent,
}

/// Checks that ceremony params are a KZG setup of at least `k` and cuts them to `k`.
pub fn check_ceremony_srs(mut params: ParamsKZG<Bn256>, k: u32) -> Result<ParamsKZG<Bn256>, SrsError> {
    if params.k() < k {
        return Err(SrsError::TooSmall { have: params.k(), need: k });
    }
    let g = params.get_g();
    if g.len() < 2 || Bn256::pairing(&g[1], &params.g2()) != Bn256::pairing(&g[0], &params.s_g2()) {
        return Err(SrsError::Inconsistent);
    }
    if params.k() > k {
        params.downsize(k);
    }
    Ok(params)
}

/// Why keygen failed.
#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    #[error("keygen_vk: {0:?}")]
    Vk(halo2_proofs::plonk::Error),
    #[error("keygen_pk: {0:?}")]
    Pk(halo2_proofs::plonk::Error),
    #[error("keygen: circuit synthesis failed: {0:?}")]
    Synthesis(halo2_proofs::plonk::Error),
    #[error("keygen: {0}")]
    Circuit(String),
    #[error("keygen: {0}")]
    Engine(#[from] EngineError),
}

/// What [`keygen`] reports to its observer, in order, as each key is done (progress bars).
pub const KEYGEN_STEPS: [&str; 2] = ["verifying key", "proving key"];

/// halo2-axiom's keygen: the verifying key, then the proving key, of `circuit` (its witness is not used) on
/// `params` (stock `ParamsKZG` or [`EngineParams`]; the keys are the same). `on_step` gets each of [`KEYGEN_STEPS`].
pub fn keygen<'p, P, C>(
    params: &P,
    circuit: &C,
    on_step: &mut dyn FnMut(&'static str),
) -> Result<ProvingKey<G1Affine>, KeygenError>
where
    P: Params<'p, G1Affine> + Sync,
    C: Circuit<Fr>,
{
    let vk = keygen_vk(params, circuit).map_err(KeygenError::Vk)?;
    on_step(KEYGEN_STEPS[0]);
    let pk = keygen_pk(params, vk, circuit).map_err(KeygenError::Pk)?;
    on_step(KEYGEN_STEPS[1]);
    Ok(pk)
}

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
