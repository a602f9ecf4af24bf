//! Folding y into a row program: the quotient numerator Σ y^(m−1−i) C_i becomes ONE output, computed with far fewer
//! multiplications than the outputs one by one.
//!
//! Every value is kept as a linear form Σ c_k·atom_k + c over atoms (columns, X, products) while it is only added,
//! negated or scaled; constants fold away, and a product is made only when both factors vary. The fold then
//! works on forms: each constraint whose top is a product with a one-atom factor (a gate's selector, l_active,
//! l0, ...) is grouped by that factor, so the group costs one product, q·(Σ y^e·inner), and the inner forms merge
//! term by term — Poseidon's MDS rows, for instance, collapse into one coefficient per S-box output because y is
//! known here. Forms are written back as program ops (coefficient ±1 as add/sub, others as one scale each).
//!
//! The result has the same semantics as [`RowProgram`] with a single output: evaluated with any y it returns
//! what the input program returns with the y it was folded with.

use std::collections::HashMap;

use halo2_proofs::halo2curves::ff::Field;

use super::{Node, Op, RowProgram};
use crate::Fr;

/// Σ coef·atom + constant, atoms being nodes of the program under construction; terms sorted by atom, no zero
/// coefficient.
#[derive(Clone, Debug, Default)]
struct Form {
    terms: Vec<(Node, Fr)>,
    constant: Fr,
}

impl Form {
    fn atom(n: Node) -> Self {
        Form { terms: vec![(n, Fr::ONE)], constant: Fr::ZERO }
    }

    fn constant(c: Fr) -> Self {
        Form { terms: Vec::new(), constant: c }
    }

    fn as_constant(&self) -> Option<Fr> {
        self.terms.is_empty().then_some(self.constant)
    }

    /// The atom, if the form is exactly one atom with coefficient 1.
    fn as_atom(&self) -> Option<Node> {
        match self.terms.as_slice() {
            [(n, c)] if *c == Fr::ONE && self.constant == Fr::ZERO => Some(*n),
            _ => None,
        }
    }

    fn scaled(&self, s: Fr) -> Self {
        if s == Fr::ZERO {
            return Form::default();
        }
        Form { terms: self.terms.iter().map(|&(n, c)| (n, c * s)).collect(), constant: self.constant * s }
    }

    /// self + s·other.
    fn add_scaled(&self, other: &Form, s: Fr) -> Self {
        let mut terms = Vec::with_capacity(self.terms.len() + other.terms.len());
        let (mut i, mut j) = (0, 0);
        while i < self.terms.len() || j < other.terms.len() {
            let take_left = j == other.terms.len() || (i < self.terms.len() && self.terms[i].0 < other.terms[j].0);
            let take_right = i == self.terms.len() || (j < other.terms.len() && other.terms[j].0 < self.terms[i].0);
            if take_left {
                terms.push(self.terms[i]);
                i += 1;
            } else if take_right {
                terms.push((other.terms[j].0, other.terms[j].1 * s));
                j += 1;
            } else {
                let c = self.terms[i].1 + other.terms[j].1 * s;
                if c != Fr::ZERO {
                    terms.push((self.terms[i].0, c));
                }
                i += 1;
                j += 1;
            }
        }
        Form { terms, constant: self.constant + other.constant * s }
    }
}

/// The constraints sharing one factor (None: those with no factor), as (exponent of y, inner node) in output order.
struct Group {
    factor: Option<Node>,
    members: Vec<(u64, Node)>,
}

/// Multiplications to write a form: one per coefficient other than ±1.
fn cost(f: &Form) -> usize {
    f.terms.iter().filter(|(_, c)| *c != Fr::ONE && *c != -Fr::ONE).count()
}

/// Writes a form as program ops and returns its node.
fn emit(out: &mut RowProgram, f: &Form) -> Node {
    let mut acc: Option<Node> = None;
    for &(n, c) in &f.terms {
        acc = Some(match acc {
            None if c == Fr::ONE => n,
            None if c == -Fr::ONE => out.neg(n),
            None => out.scale(n, c),
            Some(a) if c == Fr::ONE => out.add(a, n),
            Some(a) if c == -Fr::ONE => out.sub(a, n),
            Some(a) => {
                let t = out.scale(n, c);
                out.add(a, t)
            }
        });
    }
    match acc {
        None => out.constant(f.constant),
        Some(a) if f.constant == Fr::ZERO => a,
        Some(a) => {
            let c = out.constant(f.constant);
            out.add(a, c)
        }
    }
}

/// The program `p` with its outputs folded by `y` into one output (see the module docs).
pub fn fold(p: &RowProgram, y: Fr) -> RowProgram {
    fold_into(p, y, 0, None)
}

/// [`fold`] with every output's weight multiplied by y^`offset`, plus column `acc` (rotation 0) when given: the
/// program of one group of a larger fold, adding its share to the running sum the previous groups left in `acc`.
pub fn fold_into(p: &RowProgram, y: Fr, offset: u64, acc: Option<usize>) -> RowProgram {
    let mut out = RowProgram::new(p.num_columns.max(acc.map_or(0, |a| a + 1)));
    let mut forms: Vec<Form> = Vec::with_capacity(p.ops.len());
    // Each input node written back at most once.
    let mut written: Vec<Option<Node>> = vec![None; p.ops.len()];
    let mut node_of = |i: Node, forms: &[Form], out: &mut RowProgram| -> Node {
        *written[i as usize].get_or_insert_with(|| emit(out, &forms[i as usize]))
    };
    for op in &p.ops {
        let f = match *op {
            Op::Column { column, rotation } => Form::atom(out.column(column as usize, rotation)),
            Op::Constant(c) => Form::constant(c),
            Op::X => Form::atom(out.x()),
            Op::Add(a, b) => forms[a as usize].add_scaled(&forms[b as usize], Fr::ONE),
            Op::Sub(a, b) => forms[a as usize].add_scaled(&forms[b as usize], -Fr::ONE),
            Op::Neg(a) => forms[a as usize].scaled(-Fr::ONE),
            Op::Scale(a, c) => forms[a as usize].scaled(c),
            Op::Mul(a, b) => match (forms[a as usize].as_constant(), forms[b as usize].as_constant()) {
                (Some(c), _) => forms[b as usize].scaled(c),
                (_, Some(c)) => forms[a as usize].scaled(c),
                _ => {
                    let na = node_of(a, &forms, &mut out);
                    let nb = node_of(b, &forms, &mut out);
                    Form::atom(out.mul(na, nb))
                }
            },
        };
        forms.push(f);
    }

    // A constraint a·b with a one-atom factor can be grouped by that factor; the factor shared by most
    // constraints wins, so all of a gate's polynomials land in its selector's group.
    let factors = |o: Node| -> Vec<(Node, Node)> {
        match p.ops[o as usize] {
            Op::Mul(a, b) if forms[a as usize].as_constant().is_none() && forms[b as usize].as_constant().is_none() => {
                let mut v = Vec::new();
                if let Some(q) = forms[a as usize].as_atom() {
                    v.push((q, b));
                }
                if let Some(q) = forms[b as usize].as_atom() {
                    v.push((q, a));
                }
                v
            }
            _ => Vec::new(),
        }
    };
    let mut count: HashMap<Node, usize> = HashMap::new();
    for &o in &p.outputs {
        for (q, _) in factors(o) {
            *count.entry(q).or_default() += 1;
        }
    }
    // Output i weighs y^(m−1−i). Each group (a factor's constraints, and the rest) is written the cheaper of two
    // ways: merged into one form (shared atoms get one coefficient — pays when the members share atoms, as
    // Poseidon's MDS rows do), or Horner over its members (acc·y^d + member: one multiplication per member —
    // pays when they share nothing, e.g. simple gates q·(a − b)).
    let m = p.outputs.len();
    let mut group_of: HashMap<Option<Node>, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (i, &o) in p.outputs.iter().enumerate() {
        let best = factors(o).into_iter().max_by_key(|&(q, _)| (count[&q], std::cmp::Reverse(q)));
        let (factor, inner) = match best {
            Some((q, inner)) => (Some(q), inner),
            None => (None, o),
        };
        let g = *group_of.entry(factor).or_insert_with(|| {
            groups.push(Group { factor, members: Vec::new() });
            groups.len() - 1
        });
        groups[g].members.push(((m - 1 - i) as u64 + offset, inner));
    }
    let mut total = Form::default();
    for g in &groups {
        let mut merged = Form::default();
        for &(e, inner) in &g.members {
            merged = merged.add_scaled(&forms[inner as usize], y.pow_vartime([e]));
        }
        let horner_cost: usize = g.members.iter().map(|&(_, inner)| cost(&forms[inner as usize]) + 1).sum();
        let n = if cost(&merged) <= horner_cost {
            emit(&mut out, &merged)
        } else {
            // Members in falling exponent (output order): acc = acc·y^(e_prev − e) + member; then · y^e_last.
            let mut acc: Option<(Node, u64)> = None;
            for &(e, inner) in &g.members {
                let v = emit(&mut out, &forms[inner as usize]);
                acc = Some(match acc {
                    None => (v, e),
                    Some((a, e_prev)) => {
                        let t = out.scale(a, y.pow_vartime([e_prev - e]));
                        (out.add(t, v), e)
                    }
                });
            }
            let (a, e) = acc.expect("a group has a member");
            if e == 0 { a } else { out.scale(a, y.pow_vartime([e])) }
        };
        let n = match g.factor {
            Some(q) => out.mul(q, n),
            None => n,
        };
        total = total.add_scaled(&Form::atom(n), Fr::ONE);
    }
    if let Some(a) = acc {
        total = total.add_scaled(&Form::atom(out.column(a, 0)), Fr::ONE);
    }
    let total = emit(&mut out, &total);
    out.output(total);
    // Products made while reading the program but then regrouped (a gate's q·inner) are dead: drop them.
    out.pruned()
}

#[cfg(test)]
mod tests {
    use halo2_proofs::halo2curves::ff::Field;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::engine::program::eval_row;

    /// Two "gates" under one selector (a Poseidon-like MDS row pair), a product chain, a constant-only output and
    /// an output with no factor.
    fn sample() -> RowProgram {
        let mut p = RowProgram::new(4);
        let q = p.column(0, 0);
        let a = p.column(1, 0);
        let b = p.column(2, 1);
        let c = p.column(3, -1);
        let x = p.x();
        let a5 = {
            let a2 = p.mul(a, a);
            let a4 = p.mul(a2, a2);
            p.mul(a4, a)
        };
        let b5 = {
            let b2 = p.mul(b, b);
            let b4 = p.mul(b2, b2);
            p.mul(b4, b)
        };
        for (m0, m1) in [(Fr::from(3), Fr::from(5)), (Fr::from(7), -Fr::from(11))] {
            let s0 = p.scale(a5, m0);
            let s1 = p.scale(b5, m1);
            let s = p.add(s0, s1);
            let t = p.sub(s, c);
            let o = p.mul(q, t);
            p.output(o);
        }
        let k = p.constant(Fr::from(9));
        let t = p.mul(k, x);
        let o = p.add(t, a);
        p.output(o);
        let z = p.constant(Fr::from(4));
        p.output(z);
        let ab = p.mul(a, b);
        let o = p.mul(ab, c);
        p.output(o);
        p
    }

    #[test]
    fn folded_program_equals_the_fold_of_its_outputs() {
        let p = sample();
        let mut r = ChaCha20Rng::seed_from_u64(5);
        let n = 8;
        let cols: Vec<Vec<Fr>> = (0..4).map(|_| (0..n).map(|_| Fr::random(&mut r)).collect()).collect();
        let refs: Vec<&[Fr]> = cols.iter().map(Vec::as_slice).collect();
        let y = Fr::random(&mut r);
        let f = fold(&p, y);
        assert_eq!(f.outputs.len(), 1);
        let muls = crate::engine::program::multiplications;
        assert!(muls(&f) < muls(&p), "folding saves multiplications: {} vs {}", muls(&f), muls(&p));
        let mut s1 = vec![Fr::ZERO; p.ops.len()];
        let mut s2 = vec![Fr::ZERO; f.ops.len()];
        for row in 0..n {
            let x = Fr::random(&mut r);
            let want = eval_row(&p, &refs, row, x, y, &mut s1);
            // Any y: the folded program has one output.
            assert_eq!(eval_row(&f, &refs, row, x, Fr::random(&mut r), &mut s2), want, "row {row}");
            // A different y gives a different fold: the folded program is specific to its y.
            assert_ne!(eval_row(&p, &refs, row, x, y + Fr::ONE, &mut s1), want);
        }
    }

    #[test]
    fn folded_random_programs_equal_their_fold() {
        let mut r = ChaCha20Rng::seed_from_u64(6);
        let n = 16;
        for seed in 0..200 {
            let p = crate::engine::program::random_program(seed, 5, 60);
            let cols: Vec<Vec<Fr>> = (0..5).map(|_| (0..n).map(|_| Fr::random(&mut r)).collect()).collect();
            let refs: Vec<&[Fr]> = cols.iter().map(Vec::as_slice).collect();
            let y = Fr::random(&mut r);
            let f = fold(&p, y);
            let (mut s1, mut s2) = (vec![Fr::ZERO; p.ops.len()], vec![Fr::ZERO; f.ops.len()]);
            for row in 0..n {
                let x = Fr::random(&mut r);
                assert_eq!(eval_row(&f, &refs, row, x, y, &mut s2), eval_row(&p, &refs, row, x, y, &mut s1), "seed {seed} row {row}");
            }
        }
    }

    #[test]
    fn constants_and_cancellations_fold_away() {
        let mut p = RowProgram::new(1);
        let a = p.column(0, 0);
        let na = p.neg(a);
        let z = p.add(a, na);
        let two = p.constant(Fr::from(2));
        let t = p.mul(two, z);
        p.output(t);
        let f = fold(&p, Fr::from(3));
        assert!(f.ops.iter().all(|o| !matches!(o, Op::Mul(..) | Op::Scale(..))), "{:?}", f.ops);
        let col = vec![Fr::from(17)];
        let mut s = vec![Fr::ZERO; f.ops.len()];
        assert_eq!(eval_row(&f, &[&col], 0, Fr::ONE, Fr::ONE, &mut s), Fr::ZERO);
    }
}
