//! The public commitments, recomputed natively so a verifier can match the proof's public values: the model's
//! weights (each layer's weights then its biases' bytes, in layer order) and int8 tensors (input, output). The
//! packing and hash are `native::pack`.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use zkinfer_import::QuantModel;

use crate::error::Result;
use crate::layers;
use crate::native::pack::{bias_bytes, check_bias, check_i8, commit_bytes};

/// The model's weight stream: per layer in order, its weights then its biases' bytes.
pub fn weight_bytes(model: &QuantModel) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for (node, layer) in model.layers.iter().zip(layers::all(model)) {
        if let Some(p) = layer.weights() {
            for &w in p.weights {
                out.push(check_i8(&format!("layer '{}' weight", node.name), w as i64)?);
            }
            for &b in p.bias {
                out.extend(bias_bytes(check_bias(&node.name, b)?));
            }
        }
    }
    Ok(out)
}

/// (weights, biases) of the whole model.
pub fn weight_counts(model: &QuantModel) -> (usize, usize) {
    layers::all(model).iter().filter_map(|l| l.weights()).fold((0, 0), |(w, b), p| (w + p.weights.len(), b + p.bias.len()))
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
