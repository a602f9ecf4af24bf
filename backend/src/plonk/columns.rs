//! The circuit's own columns: instance values absorbed into the transcript, advice synthesized, blinded on the
//! unusable rows and committed, fixed columns taken from the proving key; then their evaluations at every queried
//! rotation of x and the matching opening queries. Instance columns are never opened: the verifier evaluates
//! them itself from the public values.

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::Circuit;
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rand_core::RngCore;

use super::ctx::write_witness_commitments;
use super::quotient::Layout;
use super::shplonk::Openings;
use super::{witness, Ctx, ProveError};
use crate::{Fr, G1Affine};

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
    layout: &Layout,
    circuit: &C,
    instances: &[&[Fr]],
    rng: &mut impl RngCore,
    transcript: &mut T,
) -> Result<Vec<Vec<Fr>>, ProveError>
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
    let refs: Vec<&[Fr]> = advice.iter().map(Vec::as_slice).collect();
    let at: Vec<usize> = (0..refs.len()).map(|i| layout.advice + i).collect();
    write_witness_commitments(ctx, &refs, &at, transcript)?;
    Ok(advice)
}

/// Writes each advice query's evaluation (advice in coefficient form), in the constraint system's query order.
pub fn evaluate_advice<E, T>(ctx: &Ctx<'_>, advice: &[Vec<Fr>], x: Fr, transcript: &mut T) -> Result<(), ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    for &(column, rot) in ctx.cs.advice_queries() {
        ctx.write_eval(transcript, &advice[column.index()], ctx.rotate(x, rot.0))?;
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
        ctx.write_eval(transcript, &ctx.pk.fixed_polys()[column.index()][..], ctx.rotate(x, rot.0))?;
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
