//! The circuit's own columns: instance values absorbed into the transcript, advice synthesized, blinded on the
//! unusable rows and committed, fixed columns taken from the proving key; then their evaluations at every queried
//! rotation of x and the matching opening queries. Instance columns are never opened: the verifier evaluates
//! them itself from the public values.

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::plonk::Circuit;
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rand_core::RngCore;

use super::ctx::{write_eval, write_lagrange_commitments};
use super::shplonk::Openings;
use super::{witness, Ctx, ProveError};
use crate::engine::{NttDirection, ScalarBuffer};
use crate::{Fr, G1Affine, G1};

/// Absorbs every instance value, column by column (the verifier does the same before any commitment).
pub fn absorb_instances<E, T>(instances: &[&[Fr]], transcript: &mut T) -> Result<(), ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    for values in instances {
        for v in values.iter() {
            transcript.common_scalar(*v)?;
        }
    }
    Ok(())
}

/// Instance columns in Lagrange form, zero-padded to n rows.
pub fn instance_values(instances: &[&[Fr]], n: usize) -> Vec<Vec<Fr>> {
    instances
        .iter()
        .map(|v| {
            let mut col = v.to_vec();
            col.resize(n, Fr::ZERO);
            col
        })
        .collect()
}

/// Synthesizes the advice columns, fills their unusable rows with randomness and commits them (Lagrange form).
pub fn commit_advice<C, E, T>(
    ctx: &Ctx<'_>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: &mut impl RngCore,
    transcript: &mut T,
) -> Result<(Vec<Vec<Fr>>, Option<ResidentAdvice>), ProveError>
where
    C: Circuit<Fr>,
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    let mut advice = witness::synthesize(ctx.cs, circuit, instances, ctx.domain.k(), ctx.usable_rows)?;
    for col in advice.iter_mut() {
        for cell in &mut col[ctx.usable_rows..] {
            *cell = Fr::random(&mut *rng);
        }
    }
    if ResidentAdvice::wanted(ctx) {
        let resident = ResidentAdvice::commit(ctx, &advice, transcript)?;
        return Ok((advice, Some(resident)));
    }
    let refs: Vec<&[Fr]> = advice.iter().map(Vec::as_slice).collect();
    write_lagrange_commitments(ctx, &refs, transcript)?;
    Ok((advice, None))
}

/// Advice columns kept in the engine's memory from their commitment to the quotient: each column is uploaded once,
/// committed from there, turned into coefficients there, and read there by the quotient — instead of an upload for
/// the commitment, another for the INTT (and a download), and another for the quotient. For device engines with
/// room to spare (see [`ResidentAdvice::wanted`]); host-memory engines gain nothing from it.
pub struct ResidentAdvice {
    pub buffers: Vec<ScalarBuffer>,
}

impl ResidentAdvice {
    /// Whether to keep advice resident: a device engine whose free memory holds twice every column the quotient
    /// can read (so the quotient can still keep all its columns resident beside these).
    pub fn wanted(ctx: &Ctx<'_>) -> bool {
        let Some(free) = ctx.engine.device_memory_free() else { return false };
        let cs = ctx.cs;
        let columns = cs.num_fixed_columns()
            + cs.num_advice_columns()
            + cs.num_instance_columns()
            + 2 * cs.permutation().get_columns().len()
            + 3 * cs.lookups().len()
            + 3;
        2 * (columns as u64) * (ctx.n as u64) * 32 <= free
    }

    /// Uploads the advice (Lagrange form) and commits it from the device, writing the commitments in order.
    pub fn commit<E, T>(ctx: &Ctx<'_>, advice: &[Vec<Fr>], transcript: &mut T) -> Result<ResidentAdvice, ProveError>
    where
        E: EncodedChallenge<G1Affine>,
        T: TranscriptWrite<G1Affine, E>,
    {
        let buffers: Vec<ScalarBuffer> = advice.iter().map(|c| ctx.engine.upload(c)).collect::<Result<_, _>>()?;
        let points: Vec<G1> = buffers
            .iter()
            .map(|b| ctx.engine.msm_buffer(ctx.params.lagrange_bases(), b))
            .collect::<Result<_, _>>()?;
        let mut affine = vec![G1Affine::default(); points.len()];
        G1::batch_normalize(&points, &mut affine);
        for c in affine {
            transcript.write_point(c)?;
        }
        Ok(ResidentAdvice { buffers })
    }

    /// Lagrange values → coefficients on the device; the host copies (`advice`) are overwritten with the
    /// coefficients, the buffers keep them for the quotient.
    pub fn to_coeff(&mut self, ctx: &Ctx<'_>, advice: &mut [Vec<Fr>]) -> Result<(), ProveError> {
        for (b, v) in self.buffers.iter_mut().zip(advice.iter_mut()) {
            ctx.engine.ntt_buffer(b, None, NttDirection::Inverse)?;
            ctx.engine.download(b, v)?;
        }
        Ok(())
    }
}

/// Writes each advice query's evaluation (advice in coefficient form), in the constraint system's query order.
pub fn evaluate_advice<E, T>(ctx: &Ctx<'_>, advice: &[Vec<Fr>], x: Fr, transcript: &mut T) -> Result<(), ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    for &(column, rot) in ctx.cs.advice_queries() {
        write_eval(transcript, &advice[column.index()], ctx.rotate(x, rot.0))?;
    }
    Ok(())
}

/// Writes each fixed query's evaluation, in the constraint system's query order.
pub fn evaluate_fixed<E, T>(ctx: &Ctx<'_>, x: Fr, transcript: &mut T) -> Result<(), ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    for &(column, rot) in ctx.cs.fixed_queries() {
        write_eval(transcript, &ctx.pk.fixed_polys()[column.index()][..], ctx.rotate(x, rot.0))?;
    }
    Ok(())
}

/// The advice columns' openings: every advice column, then each advice query.
pub fn open_advice<'a>(o: &mut Openings<'a>, ctx: &Ctx<'_>, advice: &'a [Vec<Fr>], x: Fr) {
    let base = o.polys.len();
    for a in advice {
        o.poly(a);
    }
    for &(column, rot) in ctx.cs.advice_queries() {
        o.at(base + column.index(), ctx.rotate(x, rot.0));
    }
}

/// The fixed columns' openings: every fixed column, then each fixed query.
pub fn open_fixed<'a>(o: &mut Openings<'a>, ctx: &Ctx<'a>, x: Fr) {
    let base = o.polys.len();
    for f in ctx.pk.fixed_polys() {
        o.poly(&f[..]);
    }
    for &(column, rot) in ctx.cs.fixed_queries() {
        o.at(base + column.index(), ctx.rotate(x, rot.0));
    }
}
