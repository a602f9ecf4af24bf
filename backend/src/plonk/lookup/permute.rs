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

/// A table column sorted once (shared by every lookup into it), with each entry's sort key.
pub(super) struct SortedTable {
    keys: Vec<Key>,
    values: Vec<Fr>,
}

/// The canonical bytes of a field element, compared as bytes: a total order computed once per element (not in
/// every comparison; `to_repr` leaves Montgomery form).
type Key = <Fr as PrimeField>::Repr;

fn keyed(values: &[Fr]) -> Vec<(Key, Fr)> {
    let mut v: Vec<(Key, Fr)> = values.par_iter().map(|x| (x.to_repr(), *x)).collect();
    v.par_sort_unstable_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    v
}

impl SortedTable {
    pub fn new(table: &[Fr]) -> Self {
        let (keys, values) = keyed(table).into_iter().unzip();
        SortedTable { keys, values }
    }
}

/// Sorts the inputs and places a matching table entry next to the first of every run of equal inputs.
pub(super) fn permute(
    ctx: &Ctx<'_>,
    name: &str,
    input: &[Fr],
    table: &SortedTable,
    rng: &mut impl RngCore,
) -> Result<(Vec<Fr>, Vec<Fr>), ProveError> {
    let usable = ctx.usable_rows;
    let (input_keys, permuted_input): (Vec<Key>, Vec<Fr>) = keyed(&input[..usable]).into_iter().unzip();

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
        let kv = input_keys[row].as_ref();
        while t < table.values.len() && table.keys[t].as_ref() < kv {
            leftover.push(table.values[t]);
            t += 1;
        }
        if t == table.values.len() || table.values[t] != *v {
            // Report the first original row holding the missing value.
            let at = input[..usable].iter().position(|x| x == v).unwrap_or(row);
            return Err(ProveError::LookupFailed {
                lookup: name.to_string(),
                row: at,
            });
        }
        permuted_table[row] = table.values[t];
        t += 1;
    }
    leftover.extend_from_slice(&table.values[t..]);
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
