//! What the verifier derives once per verifying key and reuses for every proof under it: where each (column,
//! rotation) query's evaluation sits in the proof, ω^r for every rotation the protocol opens at, and the argument
//! shapes (permutation chunks, quotient pieces) that fix how many points and scalars a proof holds.

use std::collections::HashMap;
use std::sync::Arc;

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Expression, VerifyingKey};

use crate::{Fr, G1Affine};

/// A verifying key prepared for [`super::proof::read`]: the key (borrowed for one verification, or shared by a
/// verifier that prepares its keys once when it loads them) and what is derived from it.
pub struct PreparedKey<'a> {
    held: Held<'a>,
    data: KeyData,
}

enum Held<'a> {
    Borrowed(&'a VerifyingKey<G1Affine>),
    Shared(Arc<VerifyingKey<G1Affine>>),
}

impl<'a> PreparedKey<'a> {
    /// Refuses what this verifier does not implement (halo2-axiom's `verify_proof` still can):
    /// advice columns or challenges after the first phase.
    pub fn new(vk: &'a VerifyingKey<G1Affine>) -> Result<Self, String> {
        Ok(PreparedKey { data: KeyData::new(vk)?, held: Held::Borrowed(vk) })
    }

    pub fn vk(&self) -> &VerifyingKey<G1Affine> {
        match &self.held {
            Held::Borrowed(vk) => vk,
            Held::Shared(vk) => vk,
        }
    }
}

impl PreparedKey<'static> {
    /// A prepared key that keeps its verifying key alive (for a verifier holding both).
    pub fn shared(vk: Arc<VerifyingKey<G1Affine>>) -> Result<Self, String> {
        Ok(PreparedKey { data: KeyData::new(&vk)?, held: Held::Shared(vk) })
    }
}

impl std::ops::Deref for PreparedKey<'_> {
    type Target = KeyData;
    fn deref(&self) -> &KeyData {
        &self.data
    }
}

/// What the verifier derives from a verifying key.
pub struct KeyData {
    /// Rows: 2^k.
    pub n: u64,
    pub blinding_factors: usize,
    /// Permutation columns per grand product (cs degree − 2), and the number of products.
    pub chunk_len: usize,
    pub perm_sets: usize,
    /// Pieces h_0..h_{d−1} the quotient is committed in.
    pub quotient_pieces: usize,
    advice: QueryIndex,
    fixed: QueryIndex,
    instance: QueryIndex,
    omega_pow: HashMap<i32, Fr>,
    omega: Fr,
    omega_inv: Fr,
    /// Every gate polynomial, in the order the identity folds them.
    gates: GateProgram,
}

impl KeyData {
    fn new(vk: &VerifyingKey<G1Affine>) -> Result<Self, String> {
        let cs = vk.cs();
        if cs.advice_column_phase().iter().any(|&p| p > 0) || cs.challenge_phase().iter().any(|&p| p > 0) {
            return Err("multi-phase advice or challenges (not supported by zkinfer's verifier)".into());
        }
        let domain = vk.get_domain();
        // Columns per product are cs.degree() − 2 (halo2's verifier reads its cached cs_degree). The domain was
        // built from the same degree (its quotient has degree − 1 pieces), and reading it there spares walking every
        // gate per key per verification (7% of verifying a 15-segment bundle). A key where the two differed would
        // only make honest proofs fail to parse: tests/verifier.rs compares with cs.degree() on every sample key.
        let chunk_len = domain.get_quotient_poly_degree().checked_sub(1).filter(|&c| c > 0).ok_or("a degree below 3")?;
        let perm_sets = cs.permutation().get_columns().len().div_ceil(chunk_len);
        let blinding_factors = cs.blinding_factors();
        let mut key = KeyData {
            n: domain.get_n(),
            blinding_factors,
            chunk_len,
            perm_sets,
            quotient_pieces: domain.get_quotient_poly_degree(),
            advice: QueryIndex::new(cs.advice_queries().iter().map(|(c, r)| (c.index(), r.0))),
            fixed: QueryIndex::new(cs.fixed_queries().iter().map(|(c, r)| (c.index(), r.0))),
            instance: QueryIndex::new(cs.instance_queries().iter().map(|(c, r)| (c.index(), r.0))),
            omega_pow: HashMap::new(),
            omega: domain.get_omega(),
            omega_inv: domain.get_omega_inv(),
            gates: GateProgram::default(),
        };
        let polys: Vec<&Expression<Fr>> = cs.gates().iter().flat_map(|g| g.polynomials()).collect();
        key.gates = GateProgram::compile(&key, &polys)?;
        // Every rotation a query uses: the columns' own, next/prev (products, lookups), the last usable row.
        let rotations: Vec<i32> = cs
            .advice_queries()
            .iter()
            .map(|q| q.1 .0)
            .chain(cs.fixed_queries().iter().map(|q| q.1 .0))
            .chain(cs.instance_queries().iter().map(|q| q.1 .0))
            .chain([0, 1, -1, -((blinding_factors + 1) as i32)])
            .collect();
        for r in rotations {
            let w = key.omega_power(r);
            key.omega_pow.insert(r, w);
        }
        Ok(key)
    }

    /// ω^r, r of either sign.
    pub fn omega_power(&self, r: i32) -> Fr {
        if let Some(w) = self.omega_pow.get(&r) {
            return *w;
        }
        let base = if r >= 0 { self.omega } else { self.omega_inv };
        base.pow_vartime([r.unsigned_abs() as u64])
    }

    /// x·ω^r: the point a query at rotation r opens at.
    pub fn rotate(&self, x: Fr, r: i32) -> Fr {
        x * self.omega_power(r)
    }

    /// Index of the (column, rotation) query among the advice / fixed / instance queries, i.e. of its evaluation.
    pub fn advice_query(&self, column: usize, rotation: i32) -> Option<usize> {
        self.advice.get(column, rotation)
    }
    pub fn fixed_query(&self, column: usize, rotation: i32) -> Option<usize> {
        self.fixed.get(column, rotation)
    }
    pub fn instance_query(&self, column: usize, rotation: i32) -> Option<usize> {
        self.instance.get(column, rotation)
    }

    /// Each gate polynomial at x, in order, from the proof's evaluations (`challenges` squeezed from its
    /// transcript).
    pub fn gates_at(&self, advice: &[Fr], fixed: &[Fr], instance: &[Fr], challenges: &[Fr], each: impl FnMut(Fr)) -> Result<(), String> {
        self.gates.run(advice, fixed, instance, challenges, each)
    }

    /// L_j(x) for j in `from .. from + count` (j may be negative: rows counted back from n):
    /// L_j(x) = ω^j (xⁿ − 1) / (n (x − ω^j)). None when x is a root of unity of the domain.
    pub fn lagrange_range(&self, x: Fr, xn: Fr, from: i32, count: usize) -> Option<Vec<Fr>> {
        let common = (xn - Fr::ONE) * Fr::from(self.n).invert().unwrap();
        let mut w = self.omega_power(from);
        let mut ws = Vec::with_capacity(count);
        let mut den = Vec::with_capacity(count);
        for _ in 0..count {
            ws.push(w);
            den.push(x - w);
            w *= self.omega;
        }
        if den.iter().any(|d| bool::from(d.is_zero())) {
            return None;
        }
        crate::plonk::poly::batch_invert(&mut den);
        Some(ws.iter().zip(&den).map(|(w, d)| *w * common * d).collect())
    }
}

/// Query index by column, then by rotation (a column has one to three): the identity looks one up per leaf of
/// every gate expression, so this is a vector walk, not a hash.
struct QueryIndex(Vec<Vec<(i32, usize)>>);

impl QueryIndex {
    fn new(queries: impl Iterator<Item = (usize, i32)>) -> Self {
        let mut by_column: Vec<Vec<(i32, usize)>> = Vec::new();
        for (i, (column, rotation)) in queries.enumerate() {
            if by_column.len() <= column {
                by_column.resize(column + 1, Vec::new());
            }
            by_column[column].push((rotation, i));
        }
        QueryIndex(by_column)
    }

    fn get(&self, column: usize, rotation: i32) -> Option<usize> {
        self.0.get(column)?.iter().find(|q| q.0 == rotation).map(|q| q.1)
    }
}

/// The gate polynomials compiled once per key into one postfix program whose leaves are indices into the proof's
/// evaluations: evaluating it is a loop over a flat array, where walking halo2's expression trees (and looking up
/// every leaf's query by column and rotation) was a fifth of verifying a 15-segment bundle.
#[derive(Default)]
struct GateProgram {
    ops: Vec<Op>,
    /// One past each polynomial's last op.
    ends: Vec<usize>,
    /// The deepest the value stack gets.
    depth: usize,
}

#[derive(Clone, Copy)]
enum Op {
    Const(Fr),
    Advice(u32),
    Fixed(u32),
    Instance(u32),
    Challenge(u32),
    Neg,
    Add,
    Mul,
    Scale(Fr),
}

impl GateProgram {
    fn compile(key: &KeyData, polys: &[&Expression<Fr>]) -> Result<Self, String> {
        let mut p = GateProgram::default();
        for e in polys {
            let depth = p.emit(key, e)?;
            p.depth = p.depth.max(depth);
            p.ends.push(p.ops.len());
        }
        Ok(p)
    }

    /// Appends `e`'s ops; returns the stack depth its evaluation needs.
    fn emit(&mut self, key: &KeyData, e: &Expression<Fr>) -> Result<usize, String> {
        let missing = |kind: &str, column: usize, rotation: i32| {
            format!("the key has no query of {kind} column {column} at rotation {rotation}")
        };
        let (op, depth) = match e {
            Expression::Constant(c) => (Op::Const(*c), 1),
            Expression::Selector(_) => return Err("a selector survived keygen".into()),
            Expression::Fixed(q) => {
                let (c, r) = (q.column_index(), q.rotation().0);
                (Op::Fixed(key.fixed_query(c, r).ok_or_else(|| missing("fixed", c, r))? as u32), 1)
            }
            Expression::Advice(q) => {
                let (c, r) = (q.column_index(), q.rotation().0);
                (Op::Advice(key.advice_query(c, r).ok_or_else(|| missing("advice", c, r))? as u32), 1)
            }
            Expression::Instance(q) => {
                let (c, r) = (q.column_index(), q.rotation().0);
                (Op::Instance(key.instance_query(c, r).ok_or_else(|| missing("instance", c, r))? as u32), 1)
            }
            Expression::Challenge(c) => (Op::Challenge(c.index() as u32), 1),
            Expression::Negated(a) => (Op::Neg, self.emit(key, a)?),
            Expression::Scaled(a, f) => (Op::Scale(*f), self.emit(key, a)?),
            Expression::Sum(a, b) | Expression::Product(a, b) => {
                let da = self.emit(key, a)?;
                let db = self.emit(key, b)?;
                (if matches!(e, Expression::Sum(..)) { Op::Add } else { Op::Mul }, da.max(db + 1))
            }
        };
        self.ops.push(op);
        Ok(depth)
    }

    fn run(&self, advice: &[Fr], fixed: &[Fr], instance: &[Fr], challenges: &[Fr], mut each: impl FnMut(Fr)) -> Result<(), String> {
        let short = |what: &str| format!("the proof has too few {what} evaluations for its key");
        let mut stack: Vec<Fr> = Vec::with_capacity(self.depth);
        let mut start = 0;
        for &end in &self.ends {
            for op in &self.ops[start..end] {
                let v = match *op {
                    Op::Const(c) => c,
                    Op::Advice(i) => *advice.get(i as usize).ok_or_else(|| short("advice"))?,
                    Op::Fixed(i) => *fixed.get(i as usize).ok_or_else(|| short("fixed"))?,
                    Op::Instance(i) => *instance.get(i as usize).ok_or_else(|| short("instance"))?,
                    Op::Challenge(i) => *challenges.get(i as usize).ok_or("unknown challenge")?,
                    Op::Neg => -stack.pop().expect("compiled with an operand"),
                    Op::Scale(f) => stack.pop().expect("compiled with an operand") * f,
                    Op::Add | Op::Mul => {
                        let b = stack.pop().expect("compiled with two operands");
                        let a = stack.pop().expect("compiled with two operands");
                        if matches!(op, Op::Add) {
                            a + b
                        } else {
                            a * b
                        }
                    }
                };
                stack.push(v);
            }
            each(stack.pop().expect("a polynomial leaves one value"));
            start = end;
        }
        Ok(())
    }
}
