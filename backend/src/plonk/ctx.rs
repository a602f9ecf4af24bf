//! What every argument shares during one proof: the engine, the keys, the domain and its row split, the
//! circuit's challenges; plus the commitment, INTT and evaluation-writing helpers they all use.

use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::plonk::{ConstraintSystem, ProvingKey};
use halo2_proofs::poly::{EvaluationDomain, Rotation};
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};

use super::{poly, ProveError};
use crate::engine::{Engine, NttDirection, ScalarBuffer};
use crate::params::EngineParams;
use crate::{Fr, G1Affine, G1};

/// Everything the arguments share during one proof.
pub struct Ctx<'a> {
    pub engine: &'a dyn Engine,
    pub params: &'a EngineParams,
    pub pk: &'a ProvingKey<G1Affine>,
    pub cs: &'a ConstraintSystem<Fr>,
    pub domain: &'a EvaluationDomain<Fr>,
    pub n: usize,
    pub blinding_factors: usize,
    /// Rows 0..usable_rows hold the witness; the rest are blinding rows plus the "last" row.
    pub usable_rows: usize,
    pub challenges: Vec<Fr>,
    /// Witness columns (advice, permutation products, lookups' A', S', Z) kept in the engine's memory from their
    /// commitment to the quotient, by their index in the quotient's column layout; None when not kept (host-memory
    /// engines, or a device without room: see [`keep_witness_on_engine`]).
    pub kept: Option<std::sync::Mutex<Vec<Option<ScalarBuffer>>>>,
    /// Every evaluation of an opened polynomial, computed once: written by the evaluations phase, read back by the
    /// quotient's self-check at x and by SHPLONK's interpolations. See [`Ctx::eval`].
    pub evals: Evaluations,
}

/// Evaluations p(at) by (address and length of p's coefficients, at). Sound to key by address because every
/// polynomial evaluated through [`Ctx::eval`] is owned by the proof's state (advice, the arguments' columns, the key)
/// and lives, unmoved, from its first evaluation to the end of SHPLONK; temporaries are evaluated with
/// [`poly::eval`] directly.
#[derive(Default)]
pub struct Evaluations(std::sync::Mutex<std::collections::HashMap<(usize, usize, [u8; 32]), Fr>>);

/// Whether to keep witness columns on the engine: a device engine whose free memory holds twice every column the
/// quotient reads (`columns`, each of `n` scalars), so the quotient can still keep all its columns resident beside
/// them.
pub fn keep_witness_on_engine(engine: &dyn Engine, columns: usize, n: usize) -> bool {
    engine.device_memory_free().is_some_and(|free| 2 * (columns as u64) * (n as u64) * 32 <= free)
}

pub(crate) fn normalize(points: Vec<G1>) -> Vec<G1Affine> {
    let mut out = vec![G1Affine::default(); points.len()];
    G1::batch_normalize(&points, &mut out);
    out
}

impl Ctx<'_> {
    /// Commitments of Lagrange-form columns (SRS in the Lagrange basis), one batched engine call.
    pub fn commit_lagrange(&self, polys: &[&[Fr]]) -> Result<Vec<G1Affine>, ProveError> {
        Ok(normalize(self.engine.msm_batch(self.params.lagrange_bases(), polys)?))
    }
    /// Commitments of coefficient-form polynomials.
    pub fn commit_coeff(&self, polys: &[&[Fr]]) -> Result<Vec<G1Affine>, ProveError> {
        Ok(normalize(self.engine.msm_batch(self.params.monomial_bases(), polys)?))
    }
    /// Lagrange values → coefficients (engine INTT), consuming the values.
    pub fn to_coeff(&self, mut v: Vec<Fr>) -> Result<Vec<Fr>, ProveError> {
        self.engine.ntt(&mut v, NttDirection::Inverse)?;
        Ok(v)
    }
    /// Commitments of witness columns (Lagrange form) that the quotient reads as layout columns `at`. When witness
    /// columns are kept on the engine, each is uploaded once, all are committed from there in one batch, and kept.
    pub fn commit_witness(&self, polys: &[&[Fr]], at: &[usize]) -> Result<Vec<G1Affine>, ProveError> {
        let Some(kept) = &self.kept else { return self.commit_lagrange(polys) };
        let bufs = polys.iter().map(|p| self.engine.upload(p)).collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&ScalarBuffer> = bufs.iter().collect();
        let points = self.engine.msm_batch_buffers(self.params.lagrange_bases(), &refs)?;
        let mut kept = kept.lock().map_err(|_| ProveError::Unsupported("kept columns poisoned".into()))?;
        for (b, &i) in bufs.into_iter().zip(at) {
            kept[i] = Some(b);
        }
        Ok(normalize(points))
    }
    /// [`Ctx::to_coeff`] of the witness column at layout index `at`: on the engine when it is kept there (the
    /// coefficients are downloaded into `v` for the host's evaluations and stay kept for the quotient).
    pub fn witness_to_coeff(&self, mut v: Vec<Fr>, at: usize) -> Result<Vec<Fr>, ProveError> {
        if let Some(kept) = &self.kept {
            let mut kept = kept.lock().map_err(|_| ProveError::Unsupported("kept columns poisoned".into()))?;
            if let Some(b) = kept[at].as_mut() {
                self.engine.ntt_buffer(b, None, NttDirection::Inverse)?;
                self.engine.download(b, &mut v)?;
                return Ok(v);
            }
        }
        self.to_coeff(v)
    }
    /// The kept columns, by layout index (empty when none are kept), handed to the quotient.
    pub fn take_kept(&self) -> Vec<Option<ScalarBuffer>> {
        self.kept.as_ref().and_then(|k| k.lock().ok().map(|mut v| std::mem::take(&mut *v))).unwrap_or_default()
    }
    /// p(at), evaluated at most once per proof (see [`Evaluations`]).
    pub fn eval(&self, p: &[Fr], at: Fr) -> Fr {
        use halo2_proofs::halo2curves::ff::PrimeField;
        let key = (p.as_ptr() as usize, p.len(), at.to_repr());
        if let Some(v) = self.evals.0.lock().ok().and_then(|m| m.get(&key).copied()) {
            return v;
        }
        let v = poly::eval(p, at);
        if let Ok(mut m) = self.evals.0.lock() {
            m.insert(key, v);
        }
        v
    }
    /// Writes p(at) (p in coefficient form) to the transcript.
    pub fn write_eval<E, T>(&self, transcript: &mut T, p: &[Fr], at: Fr) -> Result<(), ProveError>
    where
        E: EncodedChallenge<G1Affine>,
        T: TranscriptWrite<G1Affine, E>,
    {
        transcript.write_scalar(self.eval(p, at))?;
        Ok(())
    }
    /// ω^r x: the point a query at rotation r opens when the challenge is x.
    pub fn rotate(&self, x: Fr, r: i32) -> Fr {
        self.domain.rotate_omega(x, Rotation(r))
    }
    /// ω^-(blinding_factors + 1) x: the last usable row, where one permutation product hands over to the next.
    pub fn rotate_last(&self, x: Fr) -> Fr {
        self.rotate(x, -((self.blinding_factors + 1) as i32))
    }
}

/// Commits witness columns (Lagrange form; the quotient's layout columns `at`) and writes the commitments to the
/// transcript in order.
pub fn write_witness_commitments<E, T>(
    ctx: &Ctx<'_>,
    polys: &[&[Fr]],
    at: &[usize],
    transcript: &mut T,
) -> Result<(), ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    for c in ctx.commit_witness(polys, at)? {
        transcript.write_point(c)?;
    }
    Ok(())
}
