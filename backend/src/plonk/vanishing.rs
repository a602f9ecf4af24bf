//! halo2's vanishing argument: a random blinding polynomial committed before y, and h(X) split into
//! `quotient_poly_degree` pieces of n coefficients, each committed; at x the prover writes the random
//! polynomial's evaluation and opens h = Σ x^{n i} h_i and the random polynomial (the verifier derives h(x)).
//!
//! Life: [`commit`] → [`Committed::construct`] (commit h's pieces) → [`Constructed::evaluate`] → [`Evaluated::open`].

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rand_core::RngCore;

use super::shplonk::Openings;
use super::{Ctx, ProveError};
use crate::{Fr, G1Affine};

/// The random polynomial, committed.
pub struct Committed {
    random_poly: Vec<Fr>,
}

/// Draws n random coefficients (from the prover's RNG, so a seeded RNG gives reproducible proofs) and writes
/// their commitment.
pub fn commit<E, T>(ctx: &Ctx<'_>, rng: &mut impl RngCore, transcript: &mut T) -> Result<Committed, ProveError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    let random_poly: Vec<Fr> = (0..ctx.n).map(|_| Fr::random(&mut *rng)).collect();
    transcript.write_point(ctx.commit_coeff(&[&random_poly])?[0])?;
    Ok(Committed { random_poly })
}

impl Committed {
    /// Commits h's pieces of n coefficients each (h from [`super::quotient::h`]).
    pub fn construct<E, T>(self, ctx: &Ctx<'_>, h: Vec<Fr>, transcript: &mut T) -> Result<Constructed, ProveError>
    where
        E: EncodedChallenge<G1Affine>,
        T: TranscriptWrite<G1Affine, E>,
    {
        let pieces: Vec<&[Fr]> = h.chunks(ctx.n).collect();
        for c in ctx.commit_coeff(&pieces)? {
            transcript.write_point(c)?;
        }
        Ok(Constructed {
            random_poly: self.random_poly,
            h,
        })
    }
}

/// The random polynomial and h, both committed.
pub struct Constructed {
    random_poly: Vec<Fr>,
    h: Vec<Fr>,
}

impl Constructed {
    /// Writes the random polynomial at x and folds h's pieces into the one polynomial opened at x.
    pub fn evaluate<E, T>(self, ctx: &Ctx<'_>, x: Fr, transcript: &mut T) -> Result<Evaluated, ProveError>
    where
        E: EncodedChallenge<G1Affine>,
        T: TranscriptWrite<G1Affine, E>,
    {
        ctx.write_eval(transcript, &self.random_poly, x)?;
        let xn = x.pow_vartime([ctx.n as u64]);
        let pieces: Vec<&[Fr]> = self.h.chunks(ctx.n).collect();
        let h_x = combine_pieces(&pieces, xn, ctx.n);
        Ok(Evaluated {
            random_poly: self.random_poly,
            h_x,
        })
    }
}

/// Σ xn^i h_i: the single polynomial opened at x.
fn combine_pieces(pieces: &[&[Fr]], xn: Fr, n: usize) -> Vec<Fr> {
    let mut out = vec![Fr::ZERO; n];
    for piece in pieces.iter().rev() {
        for (o, c) in out.iter_mut().zip(piece.iter()) {
            *o = *o * xn + c;
        }
    }
    out
}

/// The folded h and the random polynomial, ready to open.
pub struct Evaluated {
    random_poly: Vec<Fr>,
    h_x: Vec<Fr>,
}

impl Evaluated {
    /// Σ x^{n i} h_i, the polynomial whose value at x is h(x).
    pub fn folded_h(&self) -> &[Fr] {
        &self.h_x
    }
    /// h folded at x, then the random polynomial at x (the verifier's last two queries).
    pub fn open<'a>(&'a self, o: &mut Openings<'a>, x: Fr) {
        let h = o.poly(&self.h_x);
        o.at(h, x);
        let r = o.poly(&self.random_poly);
        o.at(r, x);
    }
}
