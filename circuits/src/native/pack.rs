//! Byte packing and the hash of a committed byte stream, natively — exactly what the byte store and the Poseidon chip
//! lay out in the circuit.
//!
//! A committed part is a stream of signed bytes (int8 values; int32 biases as 4 little-endian bytes of bias + 2^31,
//! each minus 128). Every [`PACK`] bytes become one field element Σ (v + 128)·256^(PACK−1−i) (the last one padded
//! with zeros), and the commitment is `chain_hash(byte count, [salt, elements…])`.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;

use crate::error::{CircuitError, Result};
use super::poseidon::chain_hash;

/// Bytes per field element (240 bits, below the 254-bit modulus).
pub const PACK: usize = 30;

/// Packs signed bytes into field elements, PACK per element, big-endian within an element.
pub fn pack(bytes: &[i64]) -> Vec<Fr> {
    bytes
        .chunks(PACK)
        .map(|chunk| {
            let mut acc = Fr::ZERO;
            let base = Fr::from(256);
            for i in 0..PACK {
                let v = chunk.get(i).copied().unwrap_or(0);
                acc = acc * base + Fr::from((v + 128) as u64);
            }
            acc
        })
        .collect()
}

/// The commitment to a byte stream with a salt (0 when the part need not be hiding against guessing).
pub fn commit_bytes(bytes: &[i64], salt: Fr) -> Fr {
    let mut elems = vec![salt];
    elems.extend(pack(bytes));
    chain_hash(bytes.len() as u64, &elems)
}

/// An int32 bias as the 4 signed bytes the circuit range-checks.
pub fn bias_bytes(bias: i64) -> [i64; 4] {
    let u = (bias + (1i64 << 31)) as u64;
    std::array::from_fn(|i| ((u >> (8 * i)) & 255) as i64 - 128)
}

/// An int8 value of a committed part, or an error naming it.
pub fn check_i8(what: &str, v: i64) -> Result<i64> {
    if (-128..=127).contains(&v) {
        Ok(v)
    } else {
        Err(CircuitError::OutOfRange { what: what.into(), value: v, bits: 8 })
    }
}

/// An int32 bias of `layer`, or an error.
pub fn check_bias(layer: &str, v: i64) -> Result<i64> {
    check_i32(&format!("layer '{layer}' bias"), v)
}

/// An int32 value of a committed part (a bias or a requantisation multiplier), or an error naming it.
pub fn check_i32(what: &str, v: i64) -> Result<i64> {
    if (-(1i64 << 31)..(1i64 << 31)).contains(&v) {
        Ok(v)
    } else {
        Err(CircuitError::OutOfRange { what: what.into(), value: v, bits: 32 })
    }
}
