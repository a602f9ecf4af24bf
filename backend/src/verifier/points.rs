//! Compressed G1 points decoded in bulk: the same encoding and the same verdicts as halo2curves'
//! `G1Affine::from_bytes` (what halo2's transcript `read_point` calls), with the square roots on IFMA lanes where
//! the CPU has them (32 at a time: four interleaved chains of eight). A proof's points sit at offsets its key fixes,
//! so they are all decoded before the transcript is replayed; the square roots were most of a proof's verification
//! time.
//!
//! Encoding (32 bytes): x little-endian and canonical, bit 255 "infinity", bit 254 the parity of y. Infinity with
//! x = 0 is the identity; otherwise y = ±√(x³ + 3) (p ≡ 3 mod 4: √a = a^((p+1)/4), checked by squaring), the root
//! whose parity is the flag. As in halo2curves, the infinity bit with x ≠ 0 is ignored.

use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::halo2curves::CurveAffine;

use crate::engine::cpu::ifma::{pow_lanes, BaseField};
use crate::{Fq, G1Affine};

/// (p+1)/4 for BN254's base field, little-endian.
const SQRT_EXP: [u64; 4] = [0x4f082305b61f3f52, 0x65e05aa45a1c72a3, 0x6e14116da0605617, 0x0c19139cb84c680a];

/// Decodes every encoding, or returns the index of the first that is not a point.
pub fn decode(encodings: &[[u8; 32]]) -> Result<Vec<G1Affine>, usize> {
    // x, the wanted parity of y, and x³ + 3 (None: the identity).
    let mut parsed: Vec<(Fq, u8, Option<Fq>)> = Vec::with_capacity(encodings.len());
    for (i, e) in encodings.iter().enumerate() {
        let mut bytes = *e;
        let infinity = bytes[31] >> 7;
        let parity = (bytes[31] >> 6) & 1;
        bytes[31] &= 0b0011_1111;
        let mut repr = <Fq as PrimeField>::Repr::default();
        repr.as_mut().copy_from_slice(&bytes);
        let x = Option::<Fq>::from(Fq::from_repr(repr)).ok_or(i)?;
        if infinity == 1 && bool::from(x.is_zero()) {
            parsed.push((x, parity, None));
        } else {
            parsed.push((x, parity, Some(x.square() * x + G1Affine::b())));
        }
    }
    let squares: Vec<Fq> = parsed.iter().map(|p| p.2.unwrap_or(Fq::ONE)).collect();
    let roots = roots(&squares);
    parsed
        .iter()
        .zip(&roots)
        .enumerate()
        .map(|(i, (&(x, parity, square), &y))| {
            let Some(square) = square else { return Ok(G1Affine::identity()) };
            if y.square() != square {
                return Err(i);
            }
            let y = if (y.to_repr().as_ref()[0] & 1) == parity { y } else { -y };
            Option::from(G1Affine::from_xy(x, y)).ok_or(i)
        })
        .collect()
}

/// a^((p+1)/4) for each a: the square root when one exists.
fn roots(a: &[Fq]) -> Vec<Fq> {
    pow_lanes::<BaseField, Fq>(a, Fq::ONE, &SQRT_EXP)
        .unwrap_or_else(|| a.iter().map(|x| x.pow_vartime(SQRT_EXP)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_proofs::halo2curves::group::{Curve, Group, GroupEncoding};
    use rand_chacha::rand_core::{RngCore, SeedableRng};

    /// Same verdict and point as halo2curves on real points (and the identity) and on random bytes, including
    /// every flag combination and x ≥ p.
    #[test]
    fn decode_equals_halo2curves() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let bytes = |p: G1Affine| -> [u8; 32] { p.to_bytes().as_ref().try_into().unwrap() };
        let mut encodings: Vec<[u8; 32]> = (0..100).map(|_| bytes(crate::G1::random(&mut rng).to_affine())).collect();
        encodings.push(bytes(G1Affine::identity()));
        encodings.push([0; 32]);
        let mut zero_x_inf_parity = [0u8; 32];
        zero_x_inf_parity[31] = 0b1100_0000;
        encodings.push(zero_x_inf_parity);
        for _ in 0..400 {
            let mut e = [0u8; 32];
            rng.fill_bytes(&mut e);
            encodings.push(e);
        }
        for e in encodings.clone().iter().take(100) {
            for flags in [0u8, 0x40, 0x80, 0xc0] {
                let mut f = *e;
                f[31] = (f[31] & 0x3f) | flags;
                encodings.push(f);
            }
        }
        let mut valid = 0;
        let stock_decode = |e: &[u8; 32]| -> Option<G1Affine> {
            let mut c = halo2_proofs::halo2curves::bn256::G1Compressed::default();
            c.as_mut().copy_from_slice(e);
            Option::from(G1Affine::from_bytes(&c))
        };
        for e in &encodings {
            let stock = stock_decode(e);
            let ours = decode(std::slice::from_ref(e)).ok().map(|v| v[0]);
            assert_eq!(stock, ours, "{e:?}");
            valid += stock.is_some() as usize;
        }
        assert!(valid > 300, "{valid} valid encodings");
        // In bulk (the lanes take eight at a time): the first invalid one is named.
        let good: Vec<[u8; 32]> = encodings[..101].to_vec();
        let all = decode(&good).unwrap();
        assert_eq!(all.len(), 101);
        let mut bad = good.clone();
        bad[37][0] ^= 1;
        bad[37][31] &= 0x3f;
        if stock_decode(&bad[37]).is_none() {
            assert_eq!(decode(&bad), Err(37));
        }
    }
}
