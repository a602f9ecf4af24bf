//! Conv (QDQ) and QLinearConv (QOperator) → `Op::Conv`: NCHW input, OIHW int8 weights, groups 1 or depthwise,
//! explicit pads, no dilation. Output size per axis: (in + pad_begin + pad_end − kernel) / stride + 1.

use super::node::{Imported, Node};
use super::weights::per_channel;
use crate::error::Result;
use crate::ir::Op;

/// Conv: x, DequantizeLinear(W), optional bias B; output through a QuantizeLinear.
pub(super) fn conv(node: &Node<'_>) -> Result<Imported> {
    convolution(node, false)
}

/// QLinearConv: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, optional int32 B.
pub(super) fn qlinear_conv(node: &Node<'_>) -> Result<Imported> {
    convolution(node, true)
}

/// Both formats; `qoperator` says where the quantization lives (the node's own inputs, not Q/DQ around it).
fn convolution(node: &Node<'_>, qoperator: bool) -> Result<Imported> {
    let x = if qoperator { node.qlinear_input(0, 1)? } else { node.activation(0)? };
    let xs = node.shape(x);
    if xs.len() != 4 || xs[0] != 1 {
        return Err(node.unsupported(format!("input shape {xs:?} (a batch-1 NCHW tensor expected)")));
    }
    let w = if qoperator {
        node.int8_weights(node.input_or_err(3)?, node.input_or_err(4)?, node.proto.input.get(5), 0, 4)?
    } else {
        node.dequantized_weights(1, 4)?
    };
    let ws = &w.shape;
    let w_scales = per_channel(w.scales, ws[0]);
    let groups = node.attr_int("group", 1).max(0) as usize;
    if groups == 1 && ws[1] != xs[1] {
        return Err(node.malformed(format!("weights {ws:?} do not match the input's {} channels", xs[1])));
    }
    if groups != 1 && !(groups == xs[1] && ws[1] == 1 && ws[0] % groups == 0) {
        return Err(node.unsupported(format!("group = {groups} (only 1 or the channel count)")));
    }
    if let Some(d) = node.attr_ints("dilations") {
        if d.iter().any(|&v| v != 1) {
            return Err(node.unsupported(format!("dilations = {d:?} (only 1)")));
        }
    }
    if node.attr_bytes("auto_pad").is_some_and(|s| !s.is_empty() && s != b"NOTSET") {
        return Err(node.unsupported("auto_pad (explicit pads only)"));
    }
    let strides = node.attr_ints("strides").unwrap_or(vec![1, 1]);
    let pads = node.attr_ints("pads").unwrap_or(vec![0, 0, 0, 0]);
    if strides.len() != 2 || pads.len() != 4 || strides.iter().any(|&s| !(1..=1 << 16).contains(&s)) || pads.iter().any(|&p| !(0..1 << 16).contains(&p)) {
        return Err(node.malformed(format!("strides {strides:?}, pads {pads:?} (2-D, positive strides expected)")));
    }
    let (pt, pl, pb, pr) = (pads[0] as usize, pads[1] as usize, pads[2] as usize, pads[3] as usize);
    let (ph, pw) = (xs[2] + pt + pb, xs[3] + pl + pr);
    if ph < ws[2] || pw < ws[3] {
        return Err(node.malformed(format!("kernel {}×{} is larger than the padded input {ph}×{pw}", ws[2], ws[3])));
    }
    let oh = (ph - ws[2]) / strides[0] as usize + 1;
    let ow = (pw - ws[3]) / strides[1] as usize + 1;
    let y = if qoperator { node.qoperator_output(6)? } else { node.quantized_output()? };
    let bias_input = node.proto.input.get(if qoperator { 8 } else { 2 });
    let sx = node.q(x).scale;
    let bias = node.bias(bias_input, ws[0], sx, &w_scales)?;
    let requant = node.per_channel_requant(sx, &w_scales, &y);
    Ok(Imported {
        op: Op::Conv {
            weights: w.values,
            weight_shape: [ws[0], ws[1], ws[2], ws[3]],
            weight_zero_point: w.zero_point,
            bias,
            stride: [strides[0] as usize, strides[1] as usize],
            pads: [pt, pl, pb, pr],
            groups,
            requant,
        },
        inputs: vec![x],
        shape: vec![1, ws[0], oh, ow],
        output: y,
    })
}
