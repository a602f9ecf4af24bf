//! Native commitments: exactly what the circuit hashes, recomputed from the model file or the input so a verifier
//! can match the public commitment values.
//!
//! A committed part is a stream of signed bytes (int8 values; int32 biases as 4 little-endian bytes of bias + 2^31,
//! each minus 128). Every [`PACK`] bytes become one field element Σ (v + 128)·256^(PACK−1−i) (the last one padded
//! with zeros), and the commitment is `chain_hash(byte count, [salt, elements…])`.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use zkinfer_import::ir::Op;
use zkinfer_import::QuantModel;

use crate::error::{CircuitError, Result};
use crate::poseidon::chain_hash;

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

fn check_i8(what: &str, v: i64) -> Result<i64> {
    if (-128..=127).contains(&v) {
        Ok(v)
    } else {
        Err(CircuitError::OutOfRange { what: what.into(), value: v, bits: 8 })
    }
}

pub fn check_bias(layer: &str, v: i64) -> Result<i64> {
    if (-(1i64 << 31)..(1i64 << 31)).contains(&v) {
        Ok(v)
    } else {
        Err(CircuitError::OutOfRange { what: format!("layer '{layer}' bias"), value: v, bits: 32 })
    }
}

/// The model's weight stream: per layer in order, its weights then its biases' bytes.
pub fn weight_bytes(model: &QuantModel) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for l in &model.layers {
        if let Op::Conv { weights, bias, .. } | Op::Gemm { weights, bias, .. } = &l.op {
            for &w in weights {
                out.push(check_i8(&format!("layer '{}' weight", l.name), w as i64)?);
            }
            for &b in bias {
                out.extend(bias_bytes(check_bias(&l.name, b)?));
            }
        }
    }
    Ok(out)
}

/// Commitment to the model's weights and biases (salt 0: a model commitment is meant to be published).
pub fn commit_weights(model: &QuantModel) -> Result<Fr> {
    Ok(commit_bytes(&weight_bytes(model)?, Fr::ZERO))
}

/// Commitment to an int8 tensor (the quantized input or the output logits).
pub fn commit_tensor(values: &[i32], salt: Fr) -> Result<Fr> {
    let bytes = values.iter().map(|&v| check_i8("tensor", v as i64)).collect::<Result<Vec<_>>>()?;
    Ok(commit_bytes(&bytes, salt))
}
