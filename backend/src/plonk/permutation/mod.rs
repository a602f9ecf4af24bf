//! halo2's permutation (copy-constraint) argument: the permuted columns are split into chunks of
//! `degree - 2` columns; chunk c has a grand product Z_c with
//!   Z_c(ωX) Π (v_j + β σ_j(X) + γ) = Z_c(X) Π (v_j + β δ^j X + γ)   on active rows,
//! Z_0 starting at 1, each Z_c starting where Z_{c-1} ended, and the last one ending in {0, 1}.
//!
//! Life of the argument: [`commit`] (Z's in Lagrange form, committed after β, γ) → [`Committed::construct`]
//! (coefficient form) → [`constraints`] (its part of the quotient) → [`Constructed::evaluate`] (Z at x, ωx and,
//! for all but the last, at the last usable row) → [`Evaluated::open`]. The σ polynomials belong to the proving
//! key: [`evaluate_common`] and [`open_common`].

mod product;

use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::plonk::Any;
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rand_core::RngCore;

use super::ctx::write_witness_commitments;
use super::quotient::{Challenges, Common, Layout};
use super::shplonk::Openings;
use super::{Ctx, ProveError};
use crate::engine::program::{Node, RowProgram};
use crate::{Fr, G1Affine};

/// Columns per product: halo2 chunks the permutation so each product's constraint stays within cs.degree().
pub fn chunk_len(cs: &halo2_proofs::plonk::ConstraintSystem<Fr>) -> usize {
    cs.degree() - 2
}

/// Number of products (chunks) for the constraint system's permutation columns.
pub fn sets(cs: &halo2_proofs::plonk::ConstraintSystem<Fr>) -> usize {
    cs.permutation().get_columns().len().div_ceil(chunk_len(cs))
}

/// The products in Lagrange form, committed.
pub struct Committed {
    z: Vec<Vec<Fr>>,
}

/// Builds every chunk's product and writes their commitments.
#[allow(clippy::too_many_arguments)]
pub fn commit<E, T>(
    ctx: &Ctx<'_>,
    at: usize,
    advice: &[Vec<Fr>],
    fixed: &[&[Fr]],
    instance: &[Vec<Fr>],
    beta: Fr,
    gamma: Fr,
    rng: &mut impl RngCore,
    transcript: &mut T,
) -> Result<Committed, ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    let z = product::products(ctx, advice, fixed, instance, beta, gamma, rng);
    let refs: Vec<&[Fr]> = z.iter().map(Vec::as_slice).collect();
    let cols: Vec<usize> = (0..refs.len()).map(|i| at + i).collect();
    write_witness_commitments(ctx, &refs, &cols, transcript)?;
    Ok(Committed { z })
}

impl Committed {
    /// The products in coefficient form (engine INTTs); `at` is the first product's layout column.
    pub fn construct(self, ctx: &Ctx<'_>, at: usize) -> Result<Constructed, ProveError> {
        let z = self.z.into_iter().enumerate().map(|(i, v)| ctx.witness_to_coeff(v, at + i)).collect::<Result<_, _>>()?;
        Ok(Constructed { z })
    }
}

/// The products in coefficient form.
pub struct Constructed {
    z: Vec<Vec<Fr>>,
}

impl Constructed {
    /// Number of chunks (one product each).
    pub fn sets(&self) -> usize {
        self.z.len()
    }
    /// The products, in the quotient layout's order.
    pub fn polys(&self) -> impl Iterator<Item = &[Fr]> {
        self.z.iter().map(Vec::as_slice)
    }
    /// Writes Z_c(x), Z_c(ωx) and, for every chunk but the last, Z_c at the last usable row.
    pub fn evaluate<E, T>(self, ctx: &Ctx<'_>, x: Fr, transcript: &mut T) -> Result<Evaluated, ProveError>
    where
        E: EncodedChallenge<G1Affine>,
        T: TranscriptWrite<G1Affine, E>,
    {
        let (x_next, x_last) = (ctx.rotate(x, 1), ctx.rotate_last(x));
        for (i, z) in self.z.iter().enumerate() {
            ctx.write_eval(transcript, z, x)?;
            ctx.write_eval(transcript, z, x_next)?;
            if i + 1 < self.z.len() {
                ctx.write_eval(transcript, z, x_last)?;
            }
        }
        Ok(Evaluated { z: self.z })
    }
}

/// The products after their evaluations were written.
pub struct Evaluated {
    z: Vec<Vec<Fr>>,
}

impl Evaluated {
    /// The products, in the quotient layout's order.
    pub fn polys(&self) -> impl Iterator<Item = &[Fr]> {
        self.z.iter().map(Vec::as_slice)
    }
    /// Every Z_c at x and ωx, then (last chunk first, as the verifier lists them) at the last usable row.
    pub fn open<'a>(&'a self, o: &mut Openings<'a>, ctx: &Ctx<'_>, x: Fr) {
        let (x_next, x_last) = (ctx.rotate(x, 1), ctx.rotate_last(x));
        let base = o.polys.len();
        for z in &self.z {
            o.poly(z);
        }
        for i in 0..self.z.len() {
            o.at(base + i, x);
            o.at(base + i, x_next);
        }
        for i in (0..self.z.len()).rev().skip(1) {
            o.at(base + i, x_last);
        }
    }
}

/// Writes σ_j(x) for every permuted column (the proving key's polynomials).
pub fn evaluate_common<E, T>(ctx: &Ctx<'_>, x: Fr, transcript: &mut T) -> Result<(), ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    for s in ctx.pk.permutation().polys() {
        ctx.write_eval(transcript, s, x)?;
    }
    Ok(())
}

/// Every σ_j at x.
pub fn open_common<'a>(o: &mut Openings<'a>, ctx: &Ctx<'a>, x: Fr) {
    for s in ctx.pk.permutation().polys() {
        let i = o.poly(&s[..]);
        o.at(i, x);
    }
}

/// The argument's constraints: l0 (1 − Z_0), l_last (Z_last² − Z_last), l0 (Z_c − Z_{c−1}(ω^last X)) for c > 0,
/// and per chunk l_active (Z_c(ωX) Π (v + βσ + γ) − Z_c(X) Π (v + βδ^j X + γ)).
pub fn constraints(ctx: &Ctx<'_>, p: &mut RowProgram, layout: &Layout, common: &Common, ch: &Challenges) -> Vec<Node> {
    let mut outputs = Vec::new();
    let perm_sets = layout.lookup - layout.perm_z;
    if perm_sets == 0 {
        return outputs;
    }
    let Common {
        one,
        l0,
        l_last,
        l_active,
        gamma,
        ..
    } = *common;
    let last_rotation = -((ctx.blinding_factors + 1) as i32);
    let z = |p: &mut RowProgram, s: usize, rot: i32| p.column(layout.perm_z + s, rot);
    let z0 = z(p, 0, 0);
    let t = p.sub(one, z0);
    outputs.push(p.mul(l0, t));
    let zl = z(p, perm_sets - 1, 0);
    let sq = p.mul(zl, zl);
    let t = p.sub(sq, zl);
    outputs.push(p.mul(t, l_last));
    for s in 1..perm_sets {
        let cur = z(p, s, 0);
        let prev_last = z(p, s - 1, last_rotation);
        let t = p.sub(cur, prev_last);
        outputs.push(p.mul(t, l0));
    }
    let chunk_len = chunk_len(ctx.cs);
    let columns = ctx.cs.permutation().get_columns();
    let x = p.x();
    for (s, chunk) in columns.chunks(chunk_len).enumerate() {
        let mut left = z(p, s, 1);
        let mut right = z(p, s, 0);
        for (j, column) in chunk.iter().enumerate() {
            let idx = s * chunk_len + j;
            let base = match column.column_type() {
                Any::Advice(_) => layout.advice,
                Any::Fixed => layout.fixed,
                Any::Instance => layout.instance,
            };
            let v = p.column(base + column.index(), 0);
            let sigma = p.column(layout.sigma + idx, 0);
            let bs = p.scale(sigma, ch.beta);
            let t = p.add(v, bs);
            let t = p.add(t, gamma);
            left = p.mul(left, t);
            let delta = Fr::DELTA.pow_vartime([idx as u64]);
            let id = p.scale(x, ch.beta * delta);
            let t = p.add(v, id);
            let t = p.add(t, gamma);
            right = p.mul(right, t);
        }
        let t = p.sub(left, right);
        outputs.push(p.mul(t, l_active));
    }
    outputs
}
