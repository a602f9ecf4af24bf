//! What every argument shares during one proof: the engine, the keys, the domain and its row split, the
//! circuit's challenges; plus the commitment, INTT and evaluation-writing helpers they all use.

use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::plonk::{ConstraintSystem, ProvingKey};
use halo2_proofs::poly::{EvaluationDomain, Rotation};
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};

use super::{poly, ProveError};
use crate::engine::{Engine, NttDirection};
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
}

fn normalize(points: Vec<G1>) -> Vec<G1Affine> {
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
    /// ω^r x: the point a query at rotation r opens when the challenge is x.
    pub fn rotate(&self, x: Fr, r: i32) -> Fr {
        self.domain.rotate_omega(x, Rotation(r))
    }
    /// ω^-(blinding_factors + 1) x: the last usable row, where one permutation product hands over to the next.
    pub fn rotate_last(&self, x: Fr) -> Fr {
        self.rotate(x, -((self.blinding_factors + 1) as i32))
    }
}

/// Commits Lagrange-form columns and writes the commitments to the transcript in order.
pub fn write_lagrange_commitments<E, T>(ctx: &Ctx<'_>, polys: &[&[Fr]], transcript: &mut T) -> Result<(), ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    for c in ctx.commit_lagrange(polys)? {
        transcript.write_point(c)?;
    }
    Ok(())
}

/// Writes p(at) (p in coefficient form) to the transcript.
pub fn write_eval<E, T>(transcript: &mut T, p: &[Fr], at: Fr) -> Result<(), ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    transcript.write_scalar(poly::eval(p, at))?;
    Ok(())
}
