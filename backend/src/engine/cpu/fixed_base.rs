//! Fixed-base batch scalar multiplication: [kᵢ]·B for many scalars kᵢ and ONE base B (the dev SRS: g·sⁱ and
//! g·Lᵢ(s) for 2·2^k scalars). A table T[w][d] = d·2^(c·w)·B for every c-bit window w and digit d turns each product
//! into one mixed addition per non-zero window of kᵢ — ⌈254/c⌉ additions instead of a 254-step double-and-add.
//! c is chosen to minimise table size plus additions for the batch at hand.

use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::halo2curves::group::{Curve, Group};
use rayon::prelude::*;

use crate::{Fr, G1Affine, G1};

/// Bits of a canonical Fr (its modulus is below 2^254).
const SCALAR_BITS: usize = 254;
/// Points normalised together (one field inversion per chunk).
const CHUNK: usize = 1 << 12;

/// The window table of one base point.
pub struct FixedBase {
    window: usize,
    table: Vec<Vec<G1Affine>>,
}

fn windows(c: usize) -> usize {
    SCALAR_BITS.div_ceil(c)
}

impl FixedBase {
    /// The window width that minimises additions for `count` products: the table costs ⌈254/c⌉·2^c additions, each
    /// product ⌈254/c⌉.
    pub fn window_for(count: usize) -> usize {
        (2..=16).min_by_key(|&c| windows(c) * ((1usize << c) + count)).expect("non-empty range")
    }

    /// The table of `base` sized for about `count` products.
    pub fn new(base: G1, count: usize) -> Self {
        let window = Self::window_for(count);
        let mut window_bases = Vec::with_capacity(windows(window));
        let mut b = base;
        for _ in 0..windows(window) {
            window_bases.push(b);
            for _ in 0..window {
                b = b.double();
            }
        }
        let table = window_bases
            .par_iter()
            .map(|b| {
                let mut multiples = Vec::with_capacity(1 << window);
                let mut acc = G1::identity();
                for _ in 0..1usize << window {
                    multiples.push(acc);
                    acc += b;
                }
                let mut affine = vec![G1Affine::identity(); multiples.len()];
                G1::batch_normalize(&multiples, &mut affine);
                affine
            })
            .collect();
        FixedBase { window, table }
    }

    /// [k]·B.
    pub fn mul(&self, k: &Fr) -> G1 {
        let repr = k.to_repr();
        let bytes = repr.as_ref();
        let mut acc = G1::identity();
        for (w, row) in self.table.iter().enumerate() {
            let d = digit(bytes, w * self.window, self.window);
            if d != 0 {
                acc += row[d];
            }
        }
        acc
    }

    /// [kᵢ]·B for every scalar, in affine form, in parallel.
    pub fn mul_batch(&self, scalars: &[Fr]) -> Vec<G1Affine> {
        let mut out = vec![G1Affine::identity(); scalars.len()];
        out.par_chunks_mut(CHUNK).zip(scalars.par_chunks(CHUNK)).for_each(|(out, scalars)| {
            let products: Vec<G1> = scalars.iter().map(|k| self.mul(k)).collect();
            G1::batch_normalize(&products, out);
        });
        out
    }
}

/// The `c`-bit digit of a little-endian scalar starting at bit `bit` (c ≤ 16, so three bytes hold it).
fn digit(bytes: &[u8], bit: usize, c: usize) -> usize {
    let first = bit / 8;
    let mut word = 0u32;
    for (j, b) in bytes.iter().skip(first).take(3).enumerate() {
        word |= (*b as u32) << (8 * j);
    }
    ((word >> (bit % 8)) & ((1u32 << c) - 1)) as usize
}

#[cfg(test)]
mod tests {
    use halo2_proofs::halo2curves::ff::Field;

    use super::*;

    #[test]
    fn products_equal_double_and_add_for_every_window_width() {
        let g = G1::generator();
        let mut scalars = vec![Fr::ZERO, Fr::ONE, -Fr::ONE, Fr::from(2), Fr::from(u64::MAX)];
        let mut x = Fr::from(0x1234_5678_9abc_def1u64);
        for _ in 0..20 {
            x = x.square() + Fr::from(7);
            scalars.push(x);
        }
        for count in [1usize, 40, 1 << 10, 1 << 16, 1 << 22] {
            let table = FixedBase::new(g, count);
            let got = table.mul_batch(&scalars);
            for (k, p) in scalars.iter().zip(&got) {
                assert_eq!(*p, (g * k).to_affine(), "window {} scalar {k:?}", table.window);
            }
        }
        // A wrong digit would show: the product of 2 is not the product of 1.
        assert_ne!(FixedBase::new(g, 1).mul(&Fr::from(2)), g);
    }
}
