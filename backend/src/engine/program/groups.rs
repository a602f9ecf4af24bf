//! The quotient numerator split into groups of consecutive constraints, so that its evaluation on a coset needs
//! only some columns moved there at a time. Σ_i y^(m−1−i) C_i = Σ_g Σ_{i∈g} y^(m−1−i) C_i, and each group is
//! folded on its own ([`fold_into`]) with its outputs' weights and a running sum: group g's program reads the sum
//! the groups before it left in the accumulator column and adds its share. Evaluated one after another, the groups
//! give exactly the folded numerator.
//!
//! Each column is moved onto the coset when its first group needs it and freed after its last group, so it is
//! transformed once per coset as before, and at most [`Groups::peak`] coset columns are alive at once instead of
//! every column the numerator reads. Groups are cut greedily in output order when the columns a group reads would
//! pass half of all the columns read (a group always takes at least one output). Half, because finer groups cost
//! more than they save: the fold merges terms only within a group, so on the digits circuit half keeps 311
//! multiplications per row of the whole fold's 307 (3 groups, at most 41 of 81 columns at once), while a third cuts
//! the peak only to 34 columns and costs 651 (Poseidon's rounds each read a whole band and end up alone).

use super::fold::fold_into;
use super::{Op, RowProgram};
use crate::Fr;

/// One group: its folded program (the accumulator is column `Groups::acc`) and the columns it reads.
pub struct Group {
    pub program: RowProgram,
    pub columns: Vec<usize>,
}

pub struct Groups {
    pub groups: Vec<Group>,
    /// The accumulator's column index: one past the numerator's columns.
    pub acc: usize,
    /// For each column, the last group that reads it (None if none does).
    pub last_use: Vec<Option<usize>>,
    /// The most coset columns alive at once when the groups run in order.
    pub peak: usize,
    /// Columns the numerator reads.
    pub used: usize,
}

/// Columns (bitsets, one per op) each op depends on.
fn dependencies(p: &RowProgram) -> Vec<Vec<u64>> {
    let words = p.num_columns.div_ceil(64).max(1);
    let mut deps: Vec<Vec<u64>> = Vec::with_capacity(p.ops.len());
    for op in &p.ops {
        let mut d = vec![0u64; words];
        if let Op::Column { column, .. } = op {
            d[*column as usize / 64] |= 1 << (*column % 64);
        }
        for a in op.operands() {
            for (w, v) in d.iter_mut().zip(&deps[a as usize]) {
                *w |= v;
            }
        }
        deps.push(d);
    }
    deps
}

fn count(bits: &[u64]) -> usize {
    bits.iter().map(|w| w.count_ones() as usize).sum()
}

fn columns_of(bits: &[u64]) -> Vec<usize> {
    (0..bits.len() * 64).filter(|&c| bits[c / 64] >> (c % 64) & 1 == 1).collect()
}

/// Splits `p`'s outputs into groups and folds each by `y` (see the module docs).
pub fn split(p: &RowProgram, y: Fr) -> Groups {
    let deps = dependencies(p);
    let words = deps.first().map_or(1, Vec::len);
    let mut all = vec![0u64; words];
    for &o in &p.outputs {
        all.iter_mut().zip(&deps[o as usize]).for_each(|(w, v)| *w |= v);
    }
    let used = count(&all);
    let budget = used.div_ceil(2);
    let m = p.outputs.len();
    let mut ranges: Vec<(usize, usize, Vec<u64>)> = Vec::new();
    let mut start = 0;
    let mut cur = vec![0u64; words];
    for (i, &o) in p.outputs.iter().enumerate() {
        let mut next = cur.clone();
        next.iter_mut().zip(&deps[o as usize]).for_each(|(w, v)| *w |= v);
        if i > start && count(&next) > budget {
            ranges.push((start, i, std::mem::replace(&mut cur, deps[o as usize].clone())));
            start = i;
        } else {
            cur = next;
        }
    }
    if start < m || m == 0 {
        ranges.push((start, m, cur));
    }

    let acc = p.num_columns;
    let mut last_use = vec![None; p.num_columns];
    let groups: Vec<Group> = ranges
        .into_iter()
        .enumerate()
        .map(|(g, (s, e, bits))| {
            let columns = columns_of(&bits);
            for &c in &columns {
                last_use[c] = Some(g);
            }
            let mut sub = RowProgram::new(p.num_columns);
            sub.ops.clone_from(&p.ops);
            sub.outputs = p.outputs[s..e].to_vec();
            let program = fold_into(&sub.pruned(), y, (m - e) as u64, Some(acc));
            Group { program, columns }
        })
        .collect();
    let mut alive = vec![false; p.num_columns];
    let mut peak = 0;
    for (g, group) in groups.iter().enumerate() {
        for &c in &group.columns {
            alive[c] = true;
        }
        peak = peak.max(alive.iter().filter(|a| **a).count());
        for &c in &group.columns {
            if last_use[c] == Some(g) {
                alive[c] = false;
            }
        }
    }
    Groups { groups, acc, last_use, peak, used }
}

#[cfg(test)]
mod tests {
    use halo2_proofs::halo2curves::ff::Field;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::engine::program::{eval_row, random_program, Node};

    /// Four blocks of gates, each on its own four columns (rotations included), plus one constraint reading all.
    fn blocks() -> RowProgram {
        let mut p = RowProgram::new(16);
        for b in 0..4 {
            let (q, a, c, d) = (p.column(4 * b, 0), p.column(4 * b + 1, 1), p.column(4 * b + 2, -1), p.column(4 * b + 3, 0));
            let ac = p.mul(a, c);
            let t = p.sub(ac, d);
            let o = p.mul(q, t);
            p.output(o);
            let a2 = p.mul(a, a);
            let a3 = p.mul(a2, a);
            let o = p.add(a3, d);
            p.output(o);
        }
        let firsts: Vec<Node> = (0..4).map(|b| p.column(4 * b, 0)).collect();
        let s = firsts.into_iter().reduce(|a, b| p.add(a, b)).unwrap();
        p.output(s);
        p
    }

    /// The groups run one after another into the accumulator give, on every row, the program's outputs folded by y.
    fn check(p: &RowProgram, seed: u64) -> Groups {
        let mut r = ChaCha20Rng::seed_from_u64(seed);
        let y = Fr::random(&mut r);
        let groups = split(p, y);
        let rows = 9;
        let cols: Vec<Vec<Fr>> = (0..p.num_columns).map(|_| (0..rows).map(|_| Fr::random(&mut r)).collect()).collect();
        let refs: Vec<&[Fr]> = cols.iter().map(Vec::as_slice).collect();
        let mut acc = vec![Fr::ZERO; rows];
        let x = Fr::random(&mut r);
        for g in &groups.groups {
            assert_eq!(g.program.outputs.len(), 1);
            let mut with_acc = refs.clone();
            with_acc.push(&acc);
            let mut scratch = vec![Fr::ZERO; g.program.ops.len()];
            let next: Vec<Fr> = (0..rows).map(|row| eval_row(&g.program, &with_acc, row, x, y, &mut scratch)).collect();
            acc = next;
        }
        let mut scratch = vec![Fr::ZERO; p.ops.len()];
        for (row, got) in acc.iter().enumerate() {
            assert_eq!(*got, eval_row(p, &refs, row, x, y, &mut scratch), "seed {seed}, row {row}");
        }
        // Every column a group reads is listed, and freed only after the last group that reads it.
        for (gi, g) in groups.groups.iter().enumerate() {
            for op in &g.program.ops {
                if let Op::Column { column, .. } = op {
                    let c = *column as usize;
                    if c != groups.acc {
                        assert!(g.columns.contains(&c), "group {gi} reads column {c} it does not list");
                        assert!(groups.last_use[c] >= Some(gi));
                    }
                }
            }
        }
        groups
    }

    #[test]
    fn groups_sum_to_the_fold_and_hold_fewer_columns() {
        let g = check(&blocks(), 1);
        assert!(g.groups.len() >= 2, "{} groups", g.groups.len());
        assert!(g.peak < g.used, "peak {} of {}", g.peak, g.used);
        for seed in 0..40 {
            check(&random_program(seed, 12, 120), seed);
        }
    }
}
