//! The public commitments, recomputed natively so a verifier can match the proof's public values: each segment's
//! learned parameters (per layer: its int8 weights, then its int32 biases and requantisation multipliers as 4 bytes
//! each), the model's weights commitment over its segments' commitments, and int8 tensors (input, output, links).
//! Every hiding commitment is salted; the salts of segments and links derive from one private seed each, so the
//! opening a prover keeps is a few field elements. The packing and hash are `native::pack`.

use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_import::QuantModel;

use crate::error::Result;
use crate::layers;
use crate::native::pack::{bias_bytes, check_bias, check_i32, check_i8, commit_bytes};
use crate::native::poseidon::{chain_hash, hash, WIDTH};
use crate::segment::Segment;

/// The learned stream of a segment's layers: per layer in order, its weights, then its biases' bytes, then its
/// multipliers' bytes.
pub fn weight_bytes(model: &QuantModel, seg: &Segment) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for (node, layer) in model.layers[seg.start..seg.end].iter().zip(layers::all(model).into_iter().skip(seg.start)) {
        if let Some(p) = layer.weights() {
            for &w in p.weights {
                out.push(check_i8(&format!("layer '{}' weight", node.name), w as i64)?);
            }
            for &b in p.bias {
                out.extend(bias_bytes(check_bias(&node.name, b)?));
            }
            for &a in &p.multipliers {
                out.extend(bias_bytes(check_i32(&format!("layer '{}' requantisation multiplier", node.name), a)?));
            }
        }
    }
    Ok(out)
}

/// (int8 weights, int32 values: biases + multipliers) of a segment's layers.
pub fn weight_counts(model: &QuantModel, seg: &Segment) -> (usize, usize) {
    layers::all(model)[seg.start..seg.end]
        .iter()
        .filter_map(|l| l.weights())
        .fold((0, 0), |(w, b), p| (w + p.weights.len(), b + p.bias.len() + p.multipliers.len()))
}

/// A segment's weights commitment: its learned stream hashed with its salt.
pub fn commit_weights(model: &QuantModel, seg: &Segment, salt: Fr) -> Result<Fr> {
    Ok(commit_bytes(&weight_bytes(model, seg)?, salt))
}

/// Tag of the model commitment's chain (byte-stream commitments use their byte count, far below this).
const MODEL_TAG: u64 = 1 << 60;

/// The model's weights commitment: a Poseidon chain over its segments' weights commitments, in order.
pub fn model_commitment(segments: &[Fr]) -> Fr {
    chain_hash(MODEL_TAG + segments.len() as u64, segments)
}

/// Commitment to an int8 tensor (the quantized input, the output logits, or a tensor crossing a cut).
pub fn commit_tensor(values: &[i32], salt: Fr) -> Result<Fr> {
    let bytes = values.iter().map(|&v| check_i8("tensor", v as i64)).collect::<Result<Vec<_>>>()?;
    Ok(commit_bytes(&bytes, salt))
}

/// A salt derived from a private seed: Poseidon(seed, domain, a, b) — pseudorandom and distinct per (domain, a, b),
/// so fresh per segment and per link while the prover keeps only the seed.
pub fn derive_salt(seed: Fr, domain: u64, a: u64, b: u64) -> Fr {
    let mut inputs = [Fr::from(0); WIDTH - 1];
    inputs[0] = seed;
    inputs[1] = Fr::from(domain);
    inputs[2] = Fr::from(a);
    inputs[3] = Fr::from(b);
    hash(&inputs)
}

/// Salt of segment `index`'s weights commitment, from the model's weights seed.
pub fn weights_salt(seed: Fr, index: usize) -> Fr {
    derive_salt(seed, 1, index as u64, 0)
}

/// Salt of tensor `tensor`'s link commitment at cut `cut` (the first layer after the cut), from the link seed.
pub fn link_salt(seed: Fr, cut: usize, tensor: usize) -> Fr {
    derive_salt(seed, 2, cut as u64, tensor as u64)
}
