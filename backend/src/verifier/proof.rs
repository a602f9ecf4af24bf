//! One proof, checked the way halo2-axiom's `verify_proof` with `VerifierSHPLONK` checks it, up to the final
//! pairing: the transcript replayed in the same order (same Blake2b transcript, same challenges), the circuit's
//! identity at x turned into the claimed evaluation of h = Σ xⁿᵏ·h_k, and the SHPLONK multi-opening folded into the
//! two sides of e(left, s·g2) = e(right, g2) as (base, scalar) terms, so that many proofs can share one MSM and one
//! pairing ([`super::verify_batch`]).
//!
//! What makes a proof valid here is exactly what makes it valid there: every check of `verify_proof` is made (points
//! on the curve, the query sets, the identity through h(x), the opening), with the same queries in the same order,
//! because the order decides the powers of y and v. The tests compare both verifiers' verdicts on valid and broken
//! proofs.

use std::collections::HashMap;

use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::plonk::{Any, Expression};
use halo2_proofs::transcript::{Blake2bRead, Challenge255, Transcript, TranscriptRead, TranscriptReadBuffer};

use super::key::PreparedKey;
use super::points;
use crate::plonk::poly::vanishing_at;
use crate::plonk::shplonk::{rotation_sets, Query};
use crate::{Fr, G1Affine};

/// A point of the final MSM: the SRS's g[0], one of the key's commitments, or one read from this proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Base {
    G1,
    Fixed(usize),
    Sigma(usize),
    Own(usize),
}

/// A proof reduced to its pairing check: e(points[left], s·g2) = e(Σ right, g2).
pub struct Opened {
    /// The points the proof carries, in transcript order.
    pub points: Vec<G1Affine>,
    pub left: usize,
    pub right: Vec<(Base, Fr)>,
}

type Reader<'p> = Blake2bRead<&'p [u8], G1Affine, Challenge255<G1Affine>>;

/// The transcript replayed: points come decoded in bulk ([`points::decode`]) and are absorbed as `read_point`
/// would absorb them; scalars are read from the bytes between them.
struct Io<'p> {
    t: Reader<'p>,
    points: Vec<G1Affine>,
    next: usize,
}

impl Io<'_> {
    fn point(&mut self, what: &str) -> Result<usize, String> {
        let i = self.next;
        let p = *self.points.get(i).ok_or_else(|| format!("cannot read {what}: the proof has too few points"))?;
        self.t.common_point(p).map_err(|e| format!("cannot absorb {what}: {e}"))?;
        self.next += 1;
        Ok(i)
    }
    fn points(&mut self, n: usize, what: &str) -> Result<Vec<usize>, String> {
        (0..n).map(|_| self.point(what)).collect()
    }
    fn scalars(&mut self, n: usize, what: &str) -> Result<Vec<Fr>, String> {
        (0..n).map(|_| self.t.read_scalar().map_err(|e| format!("cannot read {what}: {e}"))).collect()
    }
    fn squeeze(&mut self) -> Fr {
        *self.t.squeeze_challenge_scalar::<()>()
    }
}

/// Where a proof's points and scalars sit (in 32-byte words): the points before x, the evaluations, then the two
/// SHPLONK points. Fixed by the key.
fn layout(key: &PreparedKey<'_>) -> (usize, usize) {
    let cs = key.vk().cs();
    let lookups = cs.lookups().len();
    let points = cs.num_advice_columns() + 3 * lookups + key.perm_sets + 1 + key.quotient_pieces;
    let sets = key.perm_sets;
    let scalars = cs.advice_queries().len()
        + cs.fixed_queries().len()
        + 1
        + key.vk().permutation().commitments().len()
        + if sets > 0 { 3 * sets - 1 } else { 0 }
        + 5 * lookups;
    (points, scalars)
}

/// Every point of the proof, decoded at once: the first `before` words, and the two after `scalars` more.
fn decode_points(proof: &[u8], before: usize, scalars: usize) -> Result<Vec<G1Affine>, String> {
    let words = before + scalars + 2;
    if proof.len() < 32 * words {
        return Err(format!("the proof has {} bytes, its key needs at least {}", proof.len(), 32 * words));
    }
    let word = |i: usize| -> [u8; 32] { proof[32 * i..32 * i + 32].try_into().expect("32 bytes") };
    let encodings: Vec<[u8; 32]> = (0..before).chain([before + scalars, before + scalars + 1]).map(word).collect();
    points::decode(&encodings).map_err(|i| format!("point {i} of the proof is not on the curve"))
}

/// A lookup's commitments (indices into the proof's points) and evaluations.
struct Lookup {
    permuted_input: usize,
    permuted_table: usize,
    product: usize,
    product_eval: Fr,
    product_next: Fr,
    input_eval: Fr,
    input_prev: Fr,
    table_eval: Fr,
}

/// A permutation grand product: its commitment and evaluations at x, ωx and (all but the last) ω^(−b−1)x.
struct PermSet {
    commitment: usize,
    eval: Fr,
    next: Fr,
    last: Option<Fr>,
}

/// Replays `proof` against `key` with the public `instances` (one slice per instance column).
pub fn read(key: &PreparedKey<'_>, instances: &[&[Fr]], proof: &[u8]) -> Result<Opened, String> {
    let vk = key.vk();
    let cs = vk.cs();
    if instances.len() != cs.num_instance_columns() {
        return Err(format!("{} instance columns given, the circuit has {}", instances.len(), cs.num_instance_columns()));
    }
    let (before, scalars) = layout(key);
    let points = decode_points(proof, before, scalars)?;
    let mut io = Io { t: Blake2bRead::init(&proof[32 * before..32 * (before + scalars)]), points, next: 0 };
    vk.hash_into(&mut io.t).map_err(|e| e.to_string())?;
    for v in instances.iter().flat_map(|c| c.iter()) {
        io.t.common_scalar(*v).map_err(|e| e.to_string())?;
    }

    let advice = io.points(cs.num_advice_columns(), "an advice commitment")?;
    let challenges: Vec<Fr> = (0..cs.num_challenges()).map(|_| io.squeeze()).collect();
    let theta = io.squeeze();
    let permuted: Vec<(usize, usize)> = (0..cs.lookups().len())
        .map(|_| Ok((io.point("a permuted lookup input")?, io.point("a permuted lookup table")?)))
        .collect::<Result<_, String>>()?;
    let beta = io.squeeze();
    let gamma = io.squeeze();
    let perm_products = io.points(key.perm_sets, "a permutation product")?;
    let lookup_products = io.points(cs.lookups().len(), "a lookup product")?;
    let random_poly = io.point("the vanishing argument's random polynomial")?;
    let y = io.squeeze();
    let h_pieces = io.points(key.quotient_pieces, "a quotient piece")?;
    let x = io.squeeze();

    let xn = x.pow_vartime([key.n]);
    let instance_evals = cs
        .instance_queries()
        .iter()
        .map(|(column, rotation)| {
            let values = instances[column.index()];
            let l = key.lagrange_range(x, xn, -rotation.0, values.len()).ok_or("x is a root of unity")?;
            Ok(values.iter().zip(&l).fold(Fr::ZERO, |acc, (v, l)| acc + *v * l))
        })
        .collect::<Result<Vec<Fr>, String>>()?;
    let advice_evals = io.scalars(cs.advice_queries().len(), "an advice evaluation")?;
    let fixed_evals = io.scalars(cs.fixed_queries().len(), "a fixed evaluation")?;
    let random_eval = io.scalars(1, "the random polynomial's evaluation")?[0];
    let sigma_evals = io.scalars(vk.permutation().commitments().len(), "a permutation σ evaluation")?;
    let mut sets = Vec::with_capacity(perm_products.len());
    for (s, &commitment) in perm_products.iter().enumerate() {
        let e = io.scalars(if s + 1 < perm_products.len() { 3 } else { 2 }, "a permutation product evaluation")?;
        sets.push(PermSet { commitment, eval: e[0], next: e[1], last: e.get(2).copied() });
    }
    let lookups: Vec<Lookup> = permuted
        .iter()
        .zip(&lookup_products)
        .map(|(&(permuted_input, permuted_table), &product)| {
            let e = io.scalars(5, "a lookup evaluation")?;
            Ok(Lookup {
                permuted_input,
                permuted_table,
                product,
                product_eval: e[0],
                product_next: e[1],
                input_eval: e[2],
                input_prev: e[3],
                table_eval: e[4],
            })
        })
        .collect::<Result<_, String>>()?;

    // The identity: every constraint folded by y must equal h(x)·(xⁿ − 1).
    let evals = Evals { key, advice: &advice_evals, fixed: &fixed_evals, instance: &instance_evals, challenges: &challenges };
    let b = key.blinding_factors;
    let l = key.lagrange_range(x, xn, -((b + 1) as i32), b + 2).ok_or("x is a root of unity")?;
    let (l_last, l_0) = (l[0], l[b + 1]);
    let l_blind = l[1..=b].iter().fold(Fr::ZERO, |a, v| a + v);
    let active = Fr::ONE - (l_last + l_blind);
    let mut folded = Fr::ZERO;
    let mut fold = |v: Fr| folded = folded * y + v;
    key.gates_at(&advice_evals, &fixed_evals, &instance_evals, &challenges, &mut fold)?;
    if let (Some(first), Some(last)) = (sets.first(), sets.last()) {
        fold(l_0 * (Fr::ONE - first.eval));
        fold((last.eval.square() - last.eval) * l_last);
        for (set, prev) in sets.iter().skip(1).zip(&sets) {
            fold((set.eval - prev.last.expect("every set but the last has one")) * l_0);
        }
        let columns = cs.permutation().get_columns();
        for (s, (set, (chunk, sigmas))) in
            sets.iter().zip(columns.chunks(key.chunk_len).zip(sigma_evals.chunks(key.chunk_len))).enumerate()
        {
            let mut left = set.next;
            let mut right = set.eval;
            let mut delta = beta * x * Fr::DELTA.pow_vartime([(s * key.chunk_len) as u64]);
            for (column, sigma) in chunk.iter().zip(sigmas) {
                let v = evals.column(*column.column_type(), column.index(), 0)?;
                left *= v + beta * sigma + gamma;
                right *= v + delta + gamma;
                delta *= Fr::DELTA;
            }
            fold((left - right) * active);
        }
    }
    for (lookup, argument) in lookups.iter().zip(cs.lookups()) {
        let compress = |es: &[Expression<Fr>]| -> Result<Fr, String> {
            es.iter().try_fold(Fr::ZERO, |acc, e| Ok(acc * theta + evals.expression(e)?))
        };
        let left = lookup.product_next * (lookup.input_eval + beta) * (lookup.table_eval + gamma);
        let right = lookup.product_eval
            * (compress(argument.input_expressions())? + beta)
            * (compress(argument.table_expressions())? + gamma);
        fold(l_0 * (Fr::ONE - lookup.product_eval));
        fold(l_last * (lookup.product_eval.square() - lookup.product_eval));
        fold((left - right) * active);
        fold(l_0 * (lookup.input_eval - lookup.table_eval));
        fold((lookup.input_eval - lookup.table_eval) * (lookup.input_eval - lookup.input_prev) * active);
    }
    let vanishing = Option::<Fr>::from((xn - Fr::ONE).invert()).ok_or("x is a root of unity")?;
    let expected_h = folded * vanishing;

    // The openings, in verify_proof's order: advice, permutation products, lookups, fixed, σ, vanishing.
    let mut commitments: Vec<Vec<(Base, Fr)>> = Vec::new();
    let mut single = |base: Base| {
        commitments.push(vec![(base, Fr::ONE)]);
        commitments.len() - 1
    };
    let advice_c: Vec<usize> = advice.iter().map(|&i| single(Base::Own(i))).collect();
    let sets_c: Vec<usize> = sets.iter().map(|s| single(Base::Own(s.commitment))).collect();
    let lookups_c: Vec<(usize, usize, usize)> = lookups
        .iter()
        .map(|l| (single(Base::Own(l.product)), single(Base::Own(l.permuted_input)), single(Base::Own(l.permuted_table))))
        .collect();
    let random_c = single(Base::Own(random_poly));
    let fixed_c: Vec<usize> = (0..vk.fixed_commitments().len()).map(|c| single(Base::Fixed(c))).collect();
    let sigma_c: Vec<usize> = (0..sigma_evals.len()).map(|c| single(Base::Sigma(c))).collect();
    let mut xn_pow = Fr::ONE;
    commitments.push(
        h_pieces
            .iter()
            .map(|&i| {
                let t = (Base::Own(i), xn_pow);
                xn_pow *= xn;
                t
            })
            .collect(),
    );
    let h_c = commitments.len() - 1;

    let (x_next, x_prev, x_last) = (key.rotate(x, 1), key.rotate(x, -1), key.rotate(x, -((b + 1) as i32)));
    let mut queries: Vec<(usize, Fr, Fr)> = Vec::new();
    for (i, (column, rotation)) in cs.advice_queries().iter().enumerate() {
        queries.push((advice_c[column.index()], key.rotate(x, rotation.0), advice_evals[i]));
    }
    for (set, &c) in sets.iter().zip(&sets_c) {
        queries.push((c, x, set.eval));
        queries.push((c, x_next, set.next));
    }
    for (set, &c) in sets.iter().zip(&sets_c).rev().skip(1) {
        queries.push((c, x_last, set.last.expect("every set but the last has one")));
    }
    for (l, &(product, input, table)) in lookups.iter().zip(&lookups_c) {
        queries.push((product, x, l.product_eval));
        queries.push((input, x, l.input_eval));
        queries.push((table, x, l.table_eval));
        queries.push((input, x_prev, l.input_prev));
        queries.push((product, x_next, l.product_next));
    }
    for (i, (column, rotation)) in cs.fixed_queries().iter().enumerate() {
        queries.push((fixed_c[column.index()], key.rotate(x, rotation.0), fixed_evals[i]));
    }
    for (&c, &e) in sigma_c.iter().zip(&sigma_evals) {
        queries.push((c, x, e));
    }
    queries.push((h_c, x, expected_h));
    queries.push((random_c, x, random_eval));

    let right = open(&mut io, &commitments, &queries)?;
    if io.next != io.points.len() {
        return Err(format!("the key's layout has {} points, the transcript read {}", io.points.len(), io.next));
    }
    let left = io.points.len() - 1;
    Ok(Opened { points: io.points, left, right })
}

/// The SHPLONK opening (see `plonk::shplonk` for the prover's side): reads y, v, h1, u, h2 and returns the right
/// side of the pairing, Σ_i v^i z_i(u) Σ_j y^j (C_ij − R_ij(u)·g) − Z_S0(u)·h1 + u·h2, with every z_i divided by
/// z_0 as halo2-axiom normalises it. The left side is h2.
fn open(io: &mut Io<'_>, commitments: &[Vec<(Base, Fr)>], queries: &[(usize, Fr, Fr)]) -> Result<Vec<(Base, Fr)>, String> {
    // halo2-axiom refuses a commitment opened twice at one point.
    let mut eval_at = HashMap::with_capacity(queries.len());
    for &(c, point, eval) in queries {
        if eval_at.insert((c, point), eval).is_some() {
            return Err("a commitment is opened twice at one point".into());
        }
    }
    let y = io.squeeze();
    let v = io.squeeze();
    let h1 = io.point("the SHPLONK quotient commitment")?;
    let u = io.squeeze();
    let h2 = io.point("the SHPLONK opening commitment")?;

    let shaped: Vec<Query> = queries.iter().map(|&(poly, point, _)| Query { poly, point }).collect();
    let (sets, all_points) = rotation_sets(&shaped);
    let mut right = Vec::new();
    let (mut z0, mut z0_diff_inv, mut r_outer, mut v_pow) = (Fr::ZERO, Fr::ZERO, Fr::ZERO, Fr::ONE);
    for (i, set) in sets.iter().enumerate() {
        let diffs: Vec<Fr> = all_points.iter().copied().filter(|p| !set.points.contains(p)).collect();
        let mut z_diff = vanishing_at(&diffs, u);
        if i == 0 {
            z0 = vanishing_at(&set.points, u);
            z0_diff_inv = Option::from(z_diff.invert()).ok_or("u is an opening point")?;
            z_diff = Fr::ONE;
        } else {
            z_diff *= z0_diff_inv;
        }
        let weights = lagrange_at(&set.points, u).ok_or("an opening set repeats a point")?;
        let scale = v_pow * z_diff;
        let (mut y_pow, mut r_inner) = (Fr::ONE, Fr::ZERO);
        for &c in &set.polys {
            let r: Fr = set.points.iter().zip(&weights).map(|(p, w)| eval_at[&(c, *p)] * w).sum();
            r_inner += y_pow * r;
            right.extend(commitments[c].iter().map(|&(b, k)| (b, k * y_pow * scale)));
            y_pow *= y;
        }
        r_outer += scale * r_inner;
        v_pow *= v;
    }
    right.push((Base::G1, -r_outer));
    right.push((Base::Own(h1), -z0));
    right.push((Base::Own(h2), u));
    Ok(right)
}

/// c_k with R(u) = Σ_k e_k·c_k for the polynomial R of degree < m through (points[k], e_k).
fn lagrange_at(points: &[Fr], u: Fr) -> Option<Vec<Fr>> {
    points
        .iter()
        .enumerate()
        .map(|(k, pk)| {
            let (mut num, mut den) = (Fr::ONE, Fr::ONE);
            for (m, pm) in points.iter().enumerate() {
                if m != k {
                    num *= u - pm;
                    den *= *pk - pm;
                }
            }
            Option::<Fr>::from(den.invert()).map(|d| num * d)
        })
        .collect()
}

/// The evaluations a constraint reads.
struct Evals<'e> {
    key: &'e PreparedKey<'e>,
    advice: &'e [Fr],
    fixed: &'e [Fr],
    instance: &'e [Fr],
    challenges: &'e [Fr],
}

impl Evals<'_> {
    fn column(&self, kind: Any, column: usize, rotation: i32) -> Result<Fr, String> {
        let (index, evals) = match kind {
            Any::Advice(_) => (self.key.advice_query(column, rotation), self.advice),
            Any::Fixed => (self.key.fixed_query(column, rotation), self.fixed),
            Any::Instance => (self.key.instance_query(column, rotation), self.instance),
        };
        index
            .map(|i| evals[i])
            .ok_or_else(|| format!("the key has no query of {kind:?} column {column} at rotation {rotation}"))
    }

    /// An expression at x, from the evaluations (what halo2's `Expression::evaluate` computes; a direct walk of
    /// the tree, each query's evaluation looked up by column and rotation).
    fn expression(&self, e: &Expression<Fr>) -> Result<Fr, String> {
        Ok(match e {
            Expression::Constant(c) => *c,
            Expression::Selector(_) => return Err("a selector survived keygen".into()),
            Expression::Fixed(q) => self.column(Any::Fixed, q.column_index(), q.rotation().0)?,
            Expression::Advice(q) => self.column(Any::Advice(Default::default()), q.column_index(), q.rotation().0)?,
            Expression::Instance(q) => self.column(Any::Instance, q.column_index(), q.rotation().0)?,
            Expression::Challenge(c) => *self.challenges.get(c.index()).ok_or("unknown challenge")?,
            Expression::Negated(a) => -self.expression(a)?,
            Expression::Sum(a, b) => self.expression(a)? + self.expression(b)?,
            Expression::Product(a, b) => self.expression(a)? * self.expression(b)?,
            Expression::Scaled(a, f) => self.expression(a)? * f,
        })
    }
}
