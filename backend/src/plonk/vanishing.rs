//! halo2's vanishing argument: a random blinding polynomial committed before y, and h(X) split into
//! `quotient_poly_degree` pieces of n coefficients, each committed; at x the prover opens h = Σ x^{n i} h_i and the
//! random polynomial.

use halo2_proofs::halo2curves::ff::Field;
use rand_core::RngCore;

use crate::Fr;

/// n random coefficients (drawn from the prover's RNG, so proofs are reproducible for a seeded RNG).
pub fn random_poly(n: usize, rng: &mut impl RngCore) -> Vec<Fr> {
    (0..n).map(|_| Fr::random(&mut *rng)).collect()
}

/// h's pieces of n coefficients each.
pub fn pieces(h: &[Fr], n: usize) -> Vec<&[Fr]> {
    h.chunks(n).collect()
}

/// Σ xn^i h_i: the single polynomial opened at x.
pub fn combine_pieces(pieces: &[&[Fr]], xn: Fr, n: usize) -> Vec<Fr> {
    let mut out = vec![Fr::ZERO; n];
    for piece in pieces.iter().rev() {
        for (o, c) in out.iter_mut().zip(piece.iter()) {
            *o = *o * xn + c;
        }
    }
    out
}
