//! halo2's lookup argument (the permuted-columns variant used by halo2-axiom 0.5):
//! compress input and table expressions with theta, permute them into (A', S') so every A' value either repeats
//! the previous row or equals S' on the same row, commit A' and S', then the grand product Z with
//! Z(ωX)(A'(X)+β)(S'(X)+γ) = Z(X)(A(X)+β)(S(X)+γ).

use std::cell::RefCell;

use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use rand_core::RngCore;
use rayon::prelude::*;

use super::quotient::{compile_compressed, Layout};
use super::{Ctx, ProveError};
use crate::engine::program::RowProgram;
use crate::{Fr, G1Affine};

/// A' and S' in Lagrange form, plus the compressed columns the product needs.
pub struct Permuted {
    pub input: Vec<Fr>,
    pub table: Vec<Fr>,
    pub permuted_input: Vec<Fr>,
    pub permuted_table: Vec<Fr>,
}

/// Evaluates theta-compressed expressions on the Lagrange columns, through the engine.
fn compress(
    ctx: &Ctx<'_>,
    exprs: &[halo2_proofs::plonk::Expression<Fr>],
    theta: Fr,
    columns: &[&[Fr]],
    layout: &Layout,
) -> Result<Vec<Fr>, ProveError> {
    let prog = RefCell::new(RowProgram::new(columns.len()));
    let root = compile_compressed(&prog, exprs, theta, layout, &ctx.challenges)?;
    let mut prog = prog.into_inner();
    prog.output(root);
    let mut out = vec![Fr::ZERO; ctx.n];
    ctx.engine.evaluate_rows(&prog, columns, Fr::ONE, ctx.domain.get_omega(), Fr::ONE, &mut out)?;
    Ok(out)
}

/// Sorts the inputs and places a matching table entry next to the first of every run of equal inputs.
fn permute(
    ctx: &Ctx<'_>,
    name: &str,
    input: &[Fr],
    table: &[Fr],
    rng: &mut impl RngCore,
) -> Result<(Vec<Fr>, Vec<Fr>), ProveError> {
    let usable = ctx.usable_rows;
    let key = |v: &Fr| v.to_repr();
    let mut permuted_input: Vec<Fr> = input[..usable].to_vec();
    permuted_input.par_sort_unstable_by_key(key);
    let mut sorted_table: Vec<Fr> = table[..usable].to_vec();
    sorted_table.par_sort_unstable_by_key(key);

    // Walk both sorted lists: each distinct input value consumes one equal table entry; the rest of the table
    // fills the rows where the input repeats.
    let mut permuted_table = vec![Fr::ZERO; usable];
    let mut leftover = Vec::with_capacity(usable);
    let mut repeat_rows = Vec::with_capacity(usable);
    let mut t = 0;
    for (row, v) in permuted_input.iter().enumerate() {
        if row > 0 && permuted_input[row - 1] == *v {
            repeat_rows.push(row);
            continue;
        }
        let kv = key(v);
        while t < sorted_table.len() && key(&sorted_table[t]) < kv {
            leftover.push(sorted_table[t]);
            t += 1;
        }
        if t == sorted_table.len() || sorted_table[t] != *v {
            // Report the first original row holding the missing value.
            let at = input[..usable].iter().position(|x| x == v).unwrap_or(row);
            return Err(ProveError::LookupFailed {
                lookup: name.to_string(),
                row: at,
            });
        }
        permuted_table[row] = sorted_table[t];
        t += 1;
    }
    leftover.extend_from_slice(&sorted_table[t..]);
    debug_assert_eq!(leftover.len(), repeat_rows.len());
    for (row, v) in repeat_rows.into_iter().zip(leftover) {
        permuted_table[row] = v;
    }

    // Blinding rows.
    let mut blind = |mut v: Vec<Fr>| {
        v.extend((usable..ctx.n).map(|_| Fr::random(&mut *rng)));
        v
    };
    let permuted_input = blind(permuted_input);
    let permuted_table = blind(permuted_table);
    Ok((permuted_input, permuted_table))
}

/// Compresses, permutes and commits (A', S') for every lookup; returns the data and the commitments in
/// transcript order (A'_0, S'_0, A'_1, S'_1, ...).
pub fn commit_permuted(
    ctx: &Ctx<'_>,
    theta: Fr,
    columns: &[&[Fr]],
    layout: &Layout,
    rng: &mut impl RngCore,
) -> Result<(Vec<Permuted>, Vec<G1Affine>), ProveError> {
    let mut out = Vec::new();
    let mut polys = Vec::new();
    for arg in ctx.cs.lookups().iter() {
        let input = compress(ctx, arg.input_expressions(), theta, columns, layout)?;
        let table = compress(ctx, arg.table_expressions(), theta, columns, layout)?;
        let (permuted_input, permuted_table) = permute(ctx, arg.name(), &input, &table, rng)?;
        out.push(Permuted {
            input,
            table,
            permuted_input,
            permuted_table,
        });
    }
    for p in &out {
        polys.push(p.permuted_input.as_slice());
        polys.push(p.permuted_table.as_slice());
    }
    let commitments = ctx.commit_lagrange(&polys)?;
    Ok((out, commitments))
}

/// The grand product Z of one lookup, Lagrange form with blinding rows.
pub fn product(ctx: &Ctx<'_>, p: &Permuted, beta: Fr, gamma: Fr, rng: &mut impl RngCore) -> Vec<Fr> {
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
