//! The cosets of the base domain H the quotient is evaluated on, and h's coefficients from its values there.
//!
//! h has degree < d·n for d = quotient_poly_degree (the circuit's degree − 1), so its values on d·n points off H
//! determine it. halo2 takes the 2^⌈log2 d⌉·n points ζ·⟨ω_ext⟩, four parts for d = 3 or 4. For d = 3 (circuits of
//! degree 4, e.g. any with a lookup of degree-1 inputs) three parts suffice, because 3 divides r − 1: with Z a
//! primitive cube root of unity (halo2curves' `ZETA`) and c = 7 (a generator of F*), the cosets c·Z^i·H for
//! i = 0, 1, 2 are disjoint from H and from each other (their elements' n-th powers u_i = c^n·Z^(i·n) are distinct
//! and not 1, n being a power of two). On coset i, X^n = u_i, so the inverse NTT of h's values there gives the
//! polynomial h_0 + u_i·h_1 + u_i²·h_2 (h = h_0 + X^n h_1 + X^2n h_2): a 3×3 Vandermonde system per coefficient
//! gives the pieces. A quarter fewer coset NTTs and row-program evaluations than four parts; the verifier only sees
//! h's three pieces, as before.

use halo2_proofs::halo2curves::ff::{Field, PrimeField, WithSmallOrderMulGroup};
use rayon::prelude::*;

use super::ProveError;
use crate::engine::{root_of_unity, Engine, NttDirection};
use crate::Fr;

/// How the quotient's parts cover its evaluation points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cosets {
    /// 2^log_parts parts ζ·ω_ext^i·H: together the coset ζ·⟨ω_ext⟩ of the extended domain.
    Radix2 { log_parts: u32 },
    /// Three parts 7·Z^i·H (d = 3).
    Radix3,
}

impl Cosets {
    /// The cover for h of degree < `pieces`·n.
    pub fn for_pieces(pieces: usize) -> Cosets {
        if pieces == 3 {
            Cosets::Radix3
        } else {
            Cosets::Radix2 { log_parts: pieces.next_power_of_two().trailing_zeros() }
        }
    }

    pub fn parts(&self) -> usize {
        match self {
            Cosets::Radix2 { log_parts } => 1 << log_parts,
            Cosets::Radix3 => 3,
        }
    }

    /// Part i's coset generator g_i (the part covers g_i·H).
    pub fn generators(&self, k: u32) -> Vec<Fr> {
        match *self {
            Cosets::Radix2 { log_parts } => {
                let omega_ext = root_of_unity(k + log_parts);
                std::iter::successors(Some(Fr::ZETA), |g| Some(*g * omega_ext)).take(self.parts()).collect()
            }
            Cosets::Radix3 => {
                let c = Fr::MULTIPLICATIVE_GENERATOR;
                vec![c, c * Fr::ZETA, c * Fr::ZETA.square()]
            }
        }
    }

    /// h's coefficients (`pieces`·n of them) from its values on each part (`values[i][j]` = h(g_i·ω^j)).
    pub fn interpolate(&self, engine: &dyn Engine, values: Vec<Vec<Fr>>, k: u32, pieces: usize) -> Result<Vec<Fr>, ProveError> {
        let n = 1usize << k;
        debug_assert_eq!(values.len(), self.parts());
        match *self {
            Cosets::Radix2 { log_parts } => {
                let parts = self.parts();
                let mut ext = vec![Fr::ZERO; n * parts];
                for (i, part) in values.iter().enumerate() {
                    ext.par_chunks_mut(parts).zip(part.par_iter()).for_each(|(dst, v)| dst[i] = *v);
                }
                drop(values);
                debug_assert_eq!(ext.len(), 1 << (k + log_parts));
                engine.coset_ntt(&mut ext, Fr::ZETA, NttDirection::Inverse)?;
                ext.truncate(n * pieces);
                Ok(ext)
            }
            Cosets::Radix3 => {
                debug_assert_eq!(pieces, 3);
                let g = self.generators(k);
                let mut p = values;
                for (v, gi) in p.iter_mut().zip(&g) {
                    engine.coset_ntt(v, *gi, NttDirection::Inverse)?;
                }
                // p_i = h_0 + u_i h_1 + u_i² h_2 with u_i = g_i^n: h_t = Σ_i inv[t][i] p_i.
                let u: Vec<Fr> = g.iter().map(|gi| gi.pow_vartime([n as u64])).collect();
                let inv = vandermonde_inverse([u[0], u[1], u[2]]);
                let mut h = vec![Fr::ZERO; 3 * n];
                let (h0, rest) = h.split_at_mut(n);
                let (h1, h2) = rest.split_at_mut(n);
                h0.par_iter_mut().zip(h1.par_iter_mut()).zip(h2.par_iter_mut()).enumerate().for_each(|(j, ((a, b), c))| {
                    let (x, y, z) = (p[0][j], p[1][j], p[2][j]);
                    *a = inv[0][0] * x + inv[0][1] * y + inv[0][2] * z;
                    *b = inv[1][0] * x + inv[1][1] * y + inv[1][2] * z;
                    *c = inv[2][0] * x + inv[2][1] * y + inv[2][2] * z;
                });
                Ok(h)
            }
        }
    }
}

/// The inverse of V with V[i][t] = u_i^t (distinct u_i): row t of the inverse holds the coefficients of X^t in
/// the Lagrange basis polynomials, inv[t][i] = [X^t] L_i(X), L_i = Π_{m≠i} (X − u_m)/(u_i − u_m).
fn vandermonde_inverse(u: [Fr; 3]) -> [[Fr; 3]; 3] {
    let mut inv = [[Fr::ZERO; 3]; 3];
    for i in 0..3 {
        let (a, b) = (u[(i + 1) % 3], u[(i + 2) % 3]);
        let d = ((u[i] - a) * (u[i] - b)).invert().expect("distinct nodes");
        // (X − a)(X − b) = X² − (a + b)X + ab
        inv[0][i] = a * b * d;
        inv[1][i] = -(a + b) * d;
        inv[2][i] = d;
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuEngine;

    /// Values of a random polynomial of degree < pieces·n on every part interpolate back to it, for both covers.
    #[test]
    fn parts_interpolate_back_to_the_polynomial() {
        let e = CpuEngine::new();
        let mut seed = Fr::from(11);
        for (k, pieces) in [(3u32, 3usize), (5, 3), (4, 2), (4, 4), (3, 1)] {
            let n = 1usize << k;
            let cover = Cosets::for_pieces(pieces);
            let h: Vec<Fr> = (0..pieces * n)
                .map(|_| {
                    seed = seed.square() + Fr::from(3);
                    seed
                })
                .collect();
            let omega = root_of_unity(k);
            let values: Vec<Vec<Fr>> = cover
                .generators(k)
                .iter()
                .map(|g| {
                    (0..n).map(|j| super::super::poly::eval(&h, *g * omega.pow_vartime([j as u64]))).collect()
                })
                .collect();
            for g in cover.generators(k) {
                assert_ne!(g.pow_vartime([n as u64]), Fr::ONE, "a part's coset meets H");
            }
            assert_eq!(cover.interpolate(&e, values, k, pieces).unwrap(), h, "k = {k}, {pieces} pieces ({cover:?})");
        }
        assert_eq!(Cosets::for_pieces(3).parts(), 3);
        assert_eq!(Cosets::for_pieces(4).parts(), 4);
        assert_eq!(Cosets::for_pieces(5).parts(), 8);
    }
}
