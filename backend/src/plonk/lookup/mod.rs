//! halo2's lookup argument (the permuted-columns variant used by halo2-axiom 0.5):
//! compress input and table expressions with theta, permute them into (A', S') so every A' value either repeats
//! the previous row or equals S' on the same row, commit A' and S', then the grand product Z with
//! Z(ωX)(A'(X)+β)(S'(X)+γ) = Z(X)(A(X)+β)(S(X)+γ).
//!
//! Life of one lookup: [`commit_permuted`] (A', S' committed after θ) → [`commit_products`] (Z committed after
//! β, γ) → [`Committed::construct`] (coefficient form) → [`constraints`] (its part of the quotient) →
//! [`Constructed::evaluate`] (Z at x and ωx, A' at x and ω⁻¹x, S' at x) → [`Evaluated::open`].

mod permute;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rand_core::RngCore;
use rayon::prelude::*;

use super::ctx::write_witness_commitments;
use super::quotient::{compile_compressed, Challenges, Common, Layout};
use super::shplonk::Openings;
use super::{Ctx, ProveError};
use crate::engine::program::{Node, RowProgram};
use crate::{Fr, G1Affine};

/// A' and S' in Lagrange form, plus the compressed columns the product needs.
pub struct Permuted {
    pub input: Vec<Fr>,
    /// Shared by every lookup into the same table (one compression for all of them).
    pub table: Arc<Vec<Fr>>,
    pub permuted_input: Vec<Fr>,
    pub permuted_table: Vec<Fr>,
}

/// Compresses, permutes and commits (A', S') for every lookup, writing the commitments in transcript order
/// (A'_0, S'_0, A'_1, S'_1, ...). `columns` are the fixed | advice | instance Lagrange values of `layout`.
pub fn commit_permuted<E, T>(
    ctx: &Ctx<'_>,
    theta: Fr,
    columns: &[&[Fr]],
    layout: &Layout,
    at: usize,
    rng: &mut impl RngCore,
    transcript: &mut T,
) -> Result<Vec<Permuted>, ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    let mut out = Vec::new();
    // Lookups into the same table expressions (every lane of the model circuit reads the one shared table) share
    // its compressed column and its sorted copy: compressed and sorted once, not once per lookup.
    let mut tables: HashMap<String, (Arc<Vec<Fr>>, Arc<permute::SortedTable>)> = HashMap::new();
    for arg in ctx.cs.lookups().iter() {
        let input = permute::compress(ctx, arg.input_expressions(), theta, columns, layout)?;
        let key = format!("{:?}", arg.table_expressions());
        let (table, sorted) = match tables.get(&key) {
            Some(t) => t.clone(),
            None => {
                let table = permute::compress(ctx, arg.table_expressions(), theta, columns, layout)?;
                let sorted = Arc::new(permute::SortedTable::new(&table[..ctx.usable_rows]));
                let entry = (Arc::new(table), sorted);
                tables.insert(key, entry.clone());
                entry
            }
        };
        let (permuted_input, permuted_table) = permute::permute(ctx, arg.name(), &input, &sorted, rng)?;
        out.push(Permuted {
            input,
            table,
            permuted_input,
            permuted_table,
        });
    }
    let polys: Vec<&[Fr]> =
        out.iter().flat_map(|p| [p.permuted_input.as_slice(), p.permuted_table.as_slice()]).collect();
    // A' and S' of lookup j are layout columns at + 3j and at + 3j + 1 (Z is at + 3j + 2).
    let cols: Vec<usize> = (0..out.len()).flat_map(|j| [at + 3 * j, at + 3 * j + 1]).collect();
    write_witness_commitments(ctx, &polys, &cols, transcript)?;
    Ok(out)
}

/// The grand product Z of one lookup, Lagrange form with blinding rows.
fn product(ctx: &Ctx<'_>, p: &Permuted, beta: Fr, gamma: Fr, rng: &mut impl RngCore) -> Vec<Fr> {
    let n = ctx.n;
    let mut ratio: Vec<Fr> = (0..n)
        .into_par_iter()
        .map(|i| (beta + p.permuted_input[i]) * (gamma + p.permuted_table[i]))
        .collect();
    super::poly::batch_invert(&mut ratio);
    ratio.par_iter_mut().enumerate().for_each(|(i, r)| {
        *r *= (p.input[i] + beta) * (p.table[i] + gamma);
    });
    let bf = ctx.blinding_factors;
    let mut z = Vec::with_capacity(n);
    let mut acc = Fr::ONE;
    z.push(acc);
    for r in ratio.iter().take(n - bf - 1) {
        acc *= r;
        z.push(acc);
    }
    z.extend((0..bf).map(|_| Fr::random(&mut *rng)));
    debug_assert_eq!(z.len(), n);
    z
}

/// One lookup's A', S' and Z in Lagrange form, all committed.
pub struct Committed {
    permuted_input: Vec<Fr>,
    permuted_table: Vec<Fr>,
    z: Vec<Fr>,
}

/// Builds every lookup's product (in lookup order, so the blinding draws keep their order) and writes their
/// commitments, one batch.
pub fn commit_products<E, T>(
    ctx: &Ctx<'_>,
    at: usize,
    permuted: Vec<Permuted>,
    beta: Fr,
    gamma: Fr,
    rng: &mut impl RngCore,
    transcript: &mut T,
) -> Result<Vec<Committed>, ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    let z: Vec<Vec<Fr>> = permuted.iter().map(|p| product(ctx, p, beta, gamma, rng)).collect();
    let refs: Vec<&[Fr]> = z.iter().map(Vec::as_slice).collect();
    let cols: Vec<usize> = (0..refs.len()).map(|j| at + 3 * j + 2).collect();
    write_witness_commitments(ctx, &refs, &cols, transcript)?;
    Ok(permuted
        .into_iter()
        .zip(z)
        .map(|(p, z)| Committed {
            permuted_input: p.permuted_input,
            permuted_table: p.permuted_table,
            z,
        })
        .collect())
}

impl Committed {
    /// A', S', Z in coefficient form (engine INTTs); `at` is this lookup's first layout column (A').
    pub fn construct(self, ctx: &Ctx<'_>, at: usize) -> Result<Constructed, ProveError> {
        Ok(Constructed {
            permuted_input: ctx.witness_to_coeff(self.permuted_input, at)?,
            permuted_table: ctx.witness_to_coeff(self.permuted_table, at + 1)?,
            z: ctx.witness_to_coeff(self.z, at + 2)?,
        })
    }
}

/// One lookup's A', S', Z in coefficient form.
pub struct Constructed {
    permuted_input: Vec<Fr>,
    permuted_table: Vec<Fr>,
    z: Vec<Fr>,
}

impl Constructed {
    /// A', S', Z: the quotient layout's three columns for this lookup.
    pub fn polys(&self) -> [&[Fr]; 3] {
        [&self.permuted_input, &self.permuted_table, &self.z]
    }
    /// Writes Z(x), Z(ωx), A'(x), A'(ω⁻¹x), S'(x).
    pub fn evaluate<E, T>(self, ctx: &Ctx<'_>, x: Fr, transcript: &mut T) -> Result<Evaluated, ProveError>
    where
        E: EncodedChallenge<G1Affine>,
        T: TranscriptWrite<G1Affine, E>,
    {
        ctx.write_eval(transcript, &self.z, x)?;
        ctx.write_eval(transcript, &self.z, ctx.rotate(x, 1))?;
        ctx.write_eval(transcript, &self.permuted_input, x)?;
        ctx.write_eval(transcript, &self.permuted_input, ctx.rotate(x, -1))?;
        ctx.write_eval(transcript, &self.permuted_table, x)?;
        Ok(Evaluated(self))
    }
}

/// One lookup after its evaluations were written.
pub struct Evaluated(Constructed);

impl Evaluated {
    /// A', S', Z: the quotient layout's three columns for this lookup.
    pub fn polys(&self) -> [&[Fr]; 3] {
        self.0.polys()
    }
    /// A', S', Z, opened in the verifier's order: Z, A', S' at x, A' at ω⁻¹x, Z at ωx.
    pub fn open<'a>(&'a self, o: &mut Openings<'a>, ctx: &Ctx<'_>, x: Fr) {
        let [a, s, z] = self.0.polys().map(|p| o.poly(p));
        o.at(z, x);
        o.at(a, x);
        o.at(s, x);
        o.at(a, ctx.rotate(x, -1));
        o.at(z, ctx.rotate(x, 1));
    }
}

/// Every lookup's constraints: l0 (1 − Z), l_last (Z² − Z), l_active (Z(ωX)(A'+β)(S'+γ) − Z(X)(A+β)(S+γ)),
/// l0 (A' − S'), l_active (A' − S')(A' − A'(ω⁻¹X)), with A and S the θ-compressed input and table expressions.
pub fn constraints(
    ctx: &Ctx<'_>,
    prog: &RefCell<RowProgram>,
    layout: &Layout,
    common: &Common,
    ch: &Challenges,
) -> Result<Vec<Node>, ProveError> {
    let Common {
        one,
        l0,
        l_last,
        l_active,
        beta,
        gamma,
    } = *common;
    let mut outputs = Vec::new();
    for (l, arg) in ctx.cs.lookups().iter().enumerate() {
        let input = compile_compressed(prog, arg.input_expressions(), ch.theta, layout, &ctx.challenges)?;
        let table = compile_compressed(prog, arg.table_expressions(), ch.theta, layout, &ctx.challenges)?;
        let p = &mut *prog.borrow_mut();
        let a = p.column(layout.lookup + 3 * l, 0);
        let a_prev = p.column(layout.lookup + 3 * l, -1);
        let s = p.column(layout.lookup + 3 * l + 1, 0);
        let z = p.column(layout.lookup + 3 * l + 2, 0);
        let z_next = p.column(layout.lookup + 3 * l + 2, 1);
        let t = p.sub(one, z);
        outputs.push(p.mul(l0, t));
        let sq = p.mul(z, z);
        let t = p.sub(sq, z);
        outputs.push(p.mul(l_last, t));
        let ab = p.add(a, beta);
        let sg = p.add(s, gamma);
        let left = p.mul(z_next, ab);
        let left = p.mul(left, sg);
        let ib = p.add(input, beta);
        let tg = p.add(table, gamma);
        let right = p.mul(z, ib);
        let right = p.mul(right, tg);
        let t = p.sub(left, right);
        outputs.push(p.mul(t, l_active));
        let diff = p.sub(a, s);
        outputs.push(p.mul(l0, diff));
        let d2 = p.sub(a, a_prev);
        let t = p.mul(diff, d2);
        outputs.push(p.mul(t, l_active));
    }
    Ok(outputs)
}
