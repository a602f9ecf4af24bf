//! Gemm / MatMul (QDQ) and QLinearMatMul (QOperator) → `Op::Gemm`: y = x · Wᵀ + bias with W stored [out][in].
//! The input is flattened (its element count must equal the weights' K); transA is not supported.

use super::node::{Imported, Node};
use super::weights::per_channel;
use crate::error::Result;
use crate::ir::Op;

/// Gemm: x, DequantizeLinear(B) ([K][N], or [N][K] with transB = 1), optional bias C.
pub(super) fn gemm(node: &Node<'_>) -> Result<Imported> {
    fully_connected(node, false)
}

/// MatMul: a Gemm without bias or attributes (the defaults apply).
pub(super) fn matmul(node: &Node<'_>) -> Result<Imported> {
    fully_connected(node, false)
}

/// QLinearMatMul: a, a_scale, a_zp, b ([K][N]), b_scale, b_zp, y_scale, y_zp; no bias.
pub(super) fn qlinear_matmul(node: &Node<'_>) -> Result<Imported> {
    fully_connected(node, true)
}

/// All three; `qoperator` says where the quantization lives (the node's own inputs, not Q/DQ around it).
fn fully_connected(node: &Node<'_>, qoperator: bool) -> Result<Imported> {
    let x = if qoperator { node.int8_input(0)? } else { node.activation(0)? };
    if node.attr_int("transA", 0) != 0 {
        return Err(node.unsupported("transA = 1"));
    }
    let w = if qoperator {
        // MatMul's B is [K][N]: per-column scales live on axis 1.
        node.int8_weights(node.input(3), node.input(4), node.proto.input.get(5), 1, 2)?
    } else {
        node.dequantized_weights(1, 2)?
    };
    let ws = &w.shape;
    let (weights, out_f, in_f) = if !qoperator && node.attr_int("transB", 0) == 1 {
        (w.values, ws[0], ws[1])
    } else {
        // W is [in][out]: store [out][in].
        let t: Vec<i32> = (0..ws[1] * ws[0]).map(|i| w.values[(i % ws[0]) * ws[1] + i / ws[0]]).collect();
        (t, ws[1], ws[0])
    };
    let in_len: usize = node.shape(x).iter().product();
    if in_len != in_f {
        return Err(node.malformed(format!("input has {in_len} values, weights expect {in_f}")));
    }
    let y = if qoperator { node.qoperator_output(6)? } else { node.quantized_output()? };
    let w_scales = per_channel(w.scales, out_f);
    let sx = node.q(x).scale;
    let bias = if qoperator { vec![0; out_f] } else { node.bias(node.proto.input.get(2), out_f, sx, &w_scales)? };
    let requant = node.per_channel_requant(sx, &w_scales, &y);
    Ok(Imported {
        op: Op::Gemm {
            weights,
            out_features: out_f,
            in_features: in_f,
            weight_zero_point: w.zero_point,
            bias,
            requant,
        },
        inputs: vec![x],
        shape: vec![1, out_f],
        output: y,
    })
}
