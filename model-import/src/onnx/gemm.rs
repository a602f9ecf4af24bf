//! Gemm / MatMul (QDQ), QLinearMatMul and onnxruntime's QGemm (QOperator; QGemm in com.microsoft) → `Op::Gemm`:
//! y = x · Wᵀ + bias with W stored [out][in]. The input is flattened (its element count must equal the weights' K);
//! transA is not supported, alpha (and beta, with a bias) must be 1.

use super::node::{Imported, Node};
use super::weights::per_channel;
use crate::error::Result;
use crate::ir::Op;

/// Where a fully connected node keeps its quantization.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    /// Gemm / MatMul between DequantizeLinear inputs and a QuantizeLinear output.
    Qdq,
    /// QLinearMatMul: a, a_scale, a_zp, b ([K][N]), b_scale, b_zp, y_scale, y_zp; no bias.
    QLinearMatMul,
    /// QGemm: A, a_scale, a_zp, B, b_scale, b_zp, optional int32 C, y_scale, y_zp; transB as Gemm's.
    QGemm,
}

/// Gemm: x, DequantizeLinear(B) ([K][N], or [N][K] with transB = 1), optional bias C.
pub(super) fn gemm(node: &Node<'_>) -> Result<Imported> {
    fully_connected(node, Form::Qdq)
}

/// MatMul: a Gemm without bias or attributes (the defaults apply).
pub(super) fn matmul(node: &Node<'_>) -> Result<Imported> {
    fully_connected(node, Form::Qdq)
}

/// QLinearMatMul: a, a_scale, a_zp, b ([K][N]), b_scale, b_zp, y_scale, y_zp; no bias.
pub(super) fn qlinear_matmul(node: &Node<'_>) -> Result<Imported> {
    fully_connected(node, Form::QLinearMatMul)
}

/// QGemm (onnxruntime's QOperator form of Gemm): A, a_scale, a_zp, B, b_scale, b_zp, C (int32, in the scale
/// a_scale · b_scale), y_scale, y_zp.
pub(super) fn qgemm(node: &Node<'_>) -> Result<Imported> {
    fully_connected(node, Form::QGemm)
}

fn fully_connected(node: &Node<'_>, form: Form) -> Result<Imported> {
    let x = if form == Form::Qdq { node.activation(0)? } else { node.qlinear_input(0, 1)? };
    if node.attr_int("transA", 0) != 0 {
        return Err(node.unsupported("transA = 1"));
    }
    let trans_b = match (form, node.attr_int("transB", 0)) {
        (Form::QLinearMatMul, _) => false,
        (_, 0) => false,
        (_, 1) => true,
        (_, t) => return Err(node.malformed(format!("transB = {t}"))),
    };
    if node.attr_float("alpha").is_some_and(|a| a != 1.0) {
        return Err(node.unsupported(format!("alpha = {} (only 1)", node.attr_float("alpha").unwrap_or(1.0))));
    }
    let bias_input = match form {
        Form::Qdq => node.proto.input.get(2),
        Form::QLinearMatMul => None,
        Form::QGemm => node.proto.input.get(6),
    };
    if form == Form::Qdq && bias_input.is_some_and(|b| !b.is_empty()) && node.attr_float("beta").is_some_and(|b| b != 1.0) {
        return Err(node.unsupported(format!("beta = {} (only 1)", node.attr_float("beta").unwrap_or(1.0))));
    }
    // Per-channel scales run along the output features: axis 0 of [N][K] (transB), axis 1 of [K][N].
    let w = match form {
        Form::Qdq => node.dequantized_weights(1, 2)?,
        _ => node.int8_weights(node.input_or_err(3)?, node.input_or_err(4)?, node.proto.input.get(5), usize::from(!trans_b), 2)?,
    };
    let ws = &w.shape;
    let (weights, out_f, in_f) = if trans_b {
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
    let y = match form {
        Form::Qdq => node.quantized_output()?,
        Form::QLinearMatMul => node.qoperator_output(6)?,
        Form::QGemm => {
            if node.proto.input.get(7).is_none_or(|s| s.is_empty()) {
                return Err(node.unsupported("a float output (no y_scale)"));
            }
            node.qoperator_output(7)?
        }
    };
    let w_scales = per_channel(w.scales, out_f);
    let sx = node.q(x).scale;
    let bias = node.bias(bias_input, out_f, sx, &w_scales)?;
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
