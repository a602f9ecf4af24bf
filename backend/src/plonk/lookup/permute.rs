//! The lookup's permuted columns: the input and table expressions compressed with θ into single columns A, S
//! (through the engine), then A sorted into A' and S laid out as S' so that every A' row either repeats the row
//! above or equals S' on the same row (halo2's `permute_expression_pair`), blinding rows appended.

use std::cell::RefCell;

use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use rand_core::RngCore;
use rayon::prelude::*;

use crate::engine::program::RowProgram;
use crate::plonk::quotient::{compile_compressed, Layout};
use crate::plonk::{Ctx, ProveError};
use crate::Fr;

/// Evaluates theta-compressed expressions on the Lagrange columns, through the engine.
pub(super) fn compress(
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
pub(super) fn permute(
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
