//! What the verifier derives once per verifying key and reuses for every proof under it: where each (column,
//! rotation) query's evaluation sits in the proof, ω^r for every rotation the protocol opens at, and the argument
//! shapes (permutation chunks, quotient pieces) that fix how many points and scalars a proof holds.

use std::collections::HashMap;

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::VerifyingKey;

use crate::plonk::permutation;
use crate::{Fr, G1Affine};

/// A verifying key prepared for [`super::proof::read`].
pub struct PreparedKey<'a> {
    pub vk: &'a VerifyingKey<G1Affine>,
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
}

impl<'a> PreparedKey<'a> {
    /// Refuses what this verifier does not implement (halo2-axiom's `verify_proof` still can):
    /// advice columns or challenges after the first phase.
    pub fn new(vk: &'a VerifyingKey<G1Affine>) -> Result<Self, String> {
        let cs = vk.cs();
        if cs.advice_column_phase().iter().any(|&p| p > 0) || cs.challenge_phase().iter().any(|&p| p > 0) {
            return Err("multi-phase advice or challenges (not supported by zkinfer's verifier)".into());
        }
        let domain = vk.get_domain();
        // cs.degree() walks every gate: once.
        let chunk_len = permutation::chunk_len(cs);
        let perm_sets = cs.permutation().get_columns().len().div_ceil(chunk_len);
        let blinding_factors = cs.blinding_factors();
        let mut key = PreparedKey {
            vk,
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
        };
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
