//! SHPLONK multi-opening (Boneh–Drake–Fisch–Gabizon), in the exact shape halo2-axiom's `VerifierSHPLONK` checks.
//!
//! Queries (polynomial, point) are grouped as the verifier groups them: each polynomial gets the set of points it
//! is opened at, in order of first appearance; polynomials with equal point sets form one rotation set, sets in
//! order of first appearance. With challenges y (within a set), v (across sets) and u:
//!   H(X) = Σ_i v^i Σ_j y^j (P_ij(X) − R_ij(X)) / Z_Si(X)                          → commit, write
//!   L(X) = Σ_i v^i Z_{T∖Si}(u) Σ_j y^j (P_ij(X) − R_ij(u)) − Z_T(u) H(X)
//!   W(X) = L(X) / ((X − u) Z_{T∖S0}(u))                                          → commit, write
//! where R_ij interpolates P_ij on S_i and T is the union of all points. Both commitments are engine MSMs.

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rayon::prelude::*;

use super::poly;
use super::{Ctx, ProveError};
use crate::{Fr, G1Affine};

/// One opening: polynomial `poly` (an index into the caller's polynomial list) at `point`.
#[derive(Clone, Copy, Debug)]
pub struct Query {
    pub poly: usize,
    pub point: Fr,
}

/// The polynomials and queries of one multi-opening, gathered argument by argument in the verifier's order
/// (polynomial indices and query order both decide the rotation sets, so each argument adds its own in turn).
#[derive(Default)]
pub struct Openings<'a> {
    pub polys: Vec<&'a [Fr]>,
    pub queries: Vec<Query>,
}

impl<'a> Openings<'a> {
    /// Adds a polynomial (coefficient form), returning its index for [`Openings::at`].
    pub fn poly(&mut self, p: &'a [Fr]) -> usize {
        self.polys.push(p);
        self.polys.len() - 1
    }
    /// Opens polynomial `poly` at `point`.
    pub fn at(&mut self, poly: usize, point: Fr) {
        self.queries.push(Query { poly, point });
    }
}

/// Polynomials opened at the same set of points (the verifier's grouping; `verifier::opening` reuses it).
pub(crate) struct RotationSet {
    pub points: Vec<Fr>,
    pub polys: Vec<usize>,
}

fn same_set(a: &[Fr], b: &[Fr]) -> bool {
    a.len() == b.len() && a.iter().all(|p| b.contains(p))
}

pub(crate) fn rotation_sets(queries: &[Query]) -> (Vec<RotationSet>, Vec<Fr>) {
    let mut per_poly: Vec<(usize, Vec<Fr>)> = Vec::new();
    let mut all_points: Vec<Fr> = Vec::new();
    for q in queries {
        if !all_points.contains(&q.point) {
            all_points.push(q.point);
        }
        match per_poly.iter_mut().find(|(p, _)| *p == q.poly) {
            Some((_, pts)) => {
                if !pts.contains(&q.point) {
                    pts.push(q.point)
                }
            }
            None => per_poly.push((q.poly, vec![q.point])),
        }
    }
    let mut sets: Vec<RotationSet> = Vec::new();
    for (p, pts) in per_poly {
        match sets.iter_mut().find(|s| same_set(&s.points, &pts)) {
            Some(s) => s.polys.push(p),
            None => sets.push(RotationSet {
                points: pts,
                polys: vec![p],
            }),
        }
    }
    (sets, all_points)
}

/// Linear combination Σ c_j · p_j of coefficient vectors (lengths may differ).
fn combine(terms: &[(Fr, &[Fr])], len: usize) -> Vec<Fr> {
    let mut out = vec![Fr::ZERO; len];
    out.par_iter_mut().enumerate().for_each(|(i, o)| {
        for (c, p) in terms {
            if let Some(v) = p.get(i) {
                *o += *c * v;
            }
        }
    });
    out
}

pub fn open<E: EncodedChallenge<G1Affine>, T: TranscriptWrite<G1Affine, E>>(
    ctx: &Ctx<'_>,
    polys: &[&[Fr]],
    queries: &[Query],
    transcript: &mut T,
) -> Result<(), ProveError> {
    let n = ctx.n;
    let y = *transcript.squeeze_challenge_scalar::<()>();
    let (sets, all_points) = rotation_sets(queries);

    // Low-degree interpolations R_ij of every polynomial on its set's points.
    let low: Vec<Vec<Vec<Fr>>> = sets
        .iter()
        .map(|s| {
            s.polys
                .par_iter()
                .map(|&p| {
                    // The evaluations phase already computed these (the verifier reads them from the proof).
                    let evals: Vec<Fr> = s.points.iter().map(|&x| ctx.eval(polys[p], x)).collect();
                    poly::interpolate(&s.points, &evals)
                })
                .collect()
        })
        .collect();

    let v = *transcript.squeeze_challenge_scalar::<()>();

    // H(X) = Σ_i v^i (S_i − Σ_j y^j R_ij) / Z_Si with S_i = Σ_j y^j P_ij, kept for L below (each P_ij is read once
    // here instead of once more there).
    let mut h = vec![Fr::ZERO; n];
    let mut sums: Vec<Vec<Fr>> = Vec::with_capacity(sets.len());
    let mut v_pow = Fr::ONE;
    for (s, r) in sets.iter().zip(&low) {
        let mut terms: Vec<(Fr, &[Fr])> = Vec::new();
        let mut y_pow = Fr::ONE;
        for &p in &s.polys {
            terms.push((y_pow, polys[p]));
            y_pow *= y;
        }
        let sum = combine(&terms, n);
        let mut numerator = sum.clone();
        let mut y_pow = Fr::ONE;
        for r_j in r {
            for (c, rc) in numerator.iter_mut().zip(r_j) {
                *c -= y_pow * rc;
            }
            y_pow *= y;
        }
        sums.push(sum);
        let mut q = poly::divide_by_vanishing(numerator, &s.points);
        q.resize(n, Fr::ZERO);
        h.par_iter_mut().zip(q.par_iter()).for_each(|(a, b)| *a += v_pow * b);
        v_pow *= v;
    }
    let h_commitment = ctx.commit_coeff(&[&h])?[0];
    transcript.write_point(h_commitment)?;

    let u = *transcript.squeeze_challenge_scalar::<()>();

    // L(X) = Σ_i v^i z_i(u) (S_i(X) − Σ_j y^j R_ij(u)) − Z_T(u) H(X)
    let mut terms: Vec<(Fr, &[Fr])> = Vec::new();
    let mut constant = Fr::ZERO;
    let mut v_pow = Fr::ONE;
    let mut z0 = Fr::ONE;
    for (i, ((s, r), sum)) in sets.iter().zip(&low).zip(&sums).enumerate() {
        let diffs: Vec<Fr> = all_points.iter().copied().filter(|p| !s.points.contains(p)).collect();
        let z_i = poly::vanishing_at(&diffs, u);
        if i == 0 {
            z0 = z_i;
        }
        let c = v_pow * z_i;
        terms.push((c, sum.as_slice()));
        let mut y_pow = Fr::ONE;
        for r_j in r {
            constant -= c * y_pow * poly::eval(r_j, u);
            y_pow *= y;
        }
        v_pow *= v;
    }
    let zt = poly::vanishing_at(&all_points, u);
    terms.push((-zt, h.as_slice()));
    let mut l = combine(&terms, n);
    l[0] += constant;
    debug_assert_eq!(poly::eval(&l, u), Fr::ZERO);
    let mut w = poly::divide_by_linear(&l, u);
    let z0_inv = z0.invert().unwrap();
    w.par_iter_mut().for_each(|c| *c *= z0_inv);
    let w_commitment = ctx.commit_coeff(&[&w])?[0];
    transcript.write_point(w_commitment)?;
    Ok(())
}
