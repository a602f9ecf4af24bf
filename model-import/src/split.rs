//! Splitting one layer by output channels, for layers too large to prove in one circuit: the layer becomes `parts`
//! layers, each computing a contiguous range of its output channels (reading a [`Op::Slice`] of its inputs where
//! the op is per-channel), followed by one [`Op::Concat`] that rebuilds the original output tensor. The model
//! computes exactly the same values (the reference executor and the circuits agree on every part), and the chain
//! planner may cut between the parts.

use crate::error::{ImportError, Result};
use crate::ir::{Layer, Op, QuantModel, TensorInfo};

/// The channel ranges of `parts` near-equal parts of `c` channels.
fn ranges(c: usize, parts: usize) -> Vec<(usize, usize)> {
    (0..parts).map(|k| (k * c / parts, (k + 1) * c / parts)).filter(|(a, b)| a < b).collect()
}

/// `model` with layer `index` split into `parts` channel ranges (see the module doc), and the layers (start..end
/// in the new model) that make each part. Layers after it keep reading the original output tensor, now made by the
/// concat right after the last part.
pub fn split_channels(model: &QuantModel, index: usize, parts: usize) -> Result<(QuantModel, Vec<(usize, usize)>)> {
    let layer = model.layers.get(index).ok_or_else(|| ImportError::BadInput(format!("no layer {index} to split")))?;
    let out = &model.tensors[layer.output];
    let bad = |why: &str| ImportError::BadInput(format!("layer '{}' cannot be split by channels: {why}", layer.name));
    if out.shape.len() < 2 || out.shape[0] != 1 {
        return Err(bad("its output is not a batch-1 tensor with channels"));
    }
    let c = out.shape[1];
    if parts < 2 || parts > c {
        return Err(bad(&format!("{parts} parts of {c} channels")));
    }
    let mut m = model.clone();
    let mut new_layers: Vec<Layer> = Vec::new();
    let mut part_outputs = Vec::new();
    let mut part_layers = Vec::new();
    // A new tensor: `like` with `ch` channels.
    let add_tensor = |m: &mut QuantModel, like: &TensorInfo, name: String, ch: usize| {
        let mut shape = like.shape.clone();
        shape[1] = ch;
        m.tensors.push(TensorInfo { name, shape, q: like.q });
        m.tensors.len() - 1
    };
    for (k, (a, b)) in ranges(c, parts).into_iter().enumerate() {
        let n = b - a;
        let first = new_layers.len();
        // Per-channel ops read the same channels of their inputs.
        let slice_input = |m: &mut QuantModel, t: usize, new_layers: &mut Vec<Layer>| {
            let info = m.tensors[t].clone();
            let s = add_tensor(m, &info, format!("{}#{k}", info.name), n);
            new_layers.push(Layer { name: format!("{}#slice{k}", layer.name), op: Op::Slice { start: a, end: b }, inputs: vec![t], output: s });
            s
        };
        let (op, inputs) = match &layer.op {
            Op::Conv { weights, weight_shape, weight_zero_point, bias, stride, pads, groups, requant } => {
                let [co, cig, kh, kw] = *weight_shape;
                let per = cig * kh * kw;
                let depthwise = *groups > 1;
                if depthwise && !(*groups == co && cig == 1) {
                    return Err(bad("grouped convolution"));
                }
                let inputs = if depthwise { vec![slice_input(&mut m, layer.inputs[0], &mut new_layers)] } else { layer.inputs.clone() };
                let op = Op::Conv {
                    weights: weights[a * per..b * per].to_vec(),
                    weight_shape: [n, cig, kh, kw],
                    weight_zero_point: *weight_zero_point,
                    bias: bias[a..b].to_vec(),
                    stride: *stride,
                    pads: *pads,
                    groups: if depthwise { n } else { 1 },
                    requant: requant[a..b].to_vec(),
                };
                (op, inputs)
            }
            Op::Gemm { weights, out_features: _, in_features, weight_zero_point, bias, requant } => (
                Op::Gemm {
                    weights: weights[a * in_features..b * in_features].to_vec(),
                    out_features: n,
                    in_features: *in_features,
                    weight_zero_point: *weight_zero_point,
                    bias: bias[a..b].to_vec(),
                    requant: requant[a..b].to_vec(),
                },
                layer.inputs.clone(),
            ),
            Op::Add { .. }
            | Op::Mul { .. }
            | Op::Lookup { .. }
            | Op::MaxPool { .. }
            | Op::GlobalAveragePool { .. }
            | Op::AveragePool { .. }
            | Op::Pad { .. } => {
                // Per channel only when every input has the output's channels on axis 1 (no channel broadcast).
                if layer.inputs.iter().any(|&t| {
                    let s = &model.tensors[t].shape;
                    s.len() != out.shape.len() || s[1] != c
                }) {
                    return Err(bad("an input is broadcast across channels"));
                }
                let inputs = layer.inputs.clone().into_iter().map(|t| slice_input(&mut m, t, &mut new_layers)).collect();
                (layer.op.clone(), inputs)
            }
            Op::Reshape | Op::Slice { .. } | Op::Concat { .. } | Op::Transpose { .. } => {
                return Err(bad("it only rewires cells"))
            }
        };
        let t = add_tensor(&mut m, out, format!("{}#{k}", out.name), n);
        new_layers.push(Layer { name: format!("{}#{k}", layer.name), op, inputs, output: t });
        part_outputs.push(t);
        part_layers.push((index + first, index + new_layers.len()));
    }
    new_layers.push(Layer { name: format!("{}#concat", layer.name), op: Op::Concat { rescale: vec![None; part_outputs.len()] }, inputs: part_outputs, output: layer.output });
    m.layers.splice(index..index + 1, new_layers);
    Ok((m, part_layers))
}

/// Applies splits `(layer index, parts)` in order (each index into the model as the earlier splits left it).
pub fn apply(model: &QuantModel, splits: &[(usize, usize)]) -> Result<QuantModel> {
    let mut m = model.clone();
    for &(i, p) in splits {
        m = split_channels(&m, i, p)?.0;
    }
    Ok(m)
}
