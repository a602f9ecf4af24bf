//! Elementwise activations → `Op::Lookup`: the whole int8 → int8 map tabulated over the 256 inputs, computed as
//! onnxruntime computes it (dequantize, the function in f32, quantize with round half to even, saturate to the
//! output's clamp). QDQ: Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh between Q/DQ pairs (a float
//! island); QOperator: onnxruntime's QLinearSigmoid and QLinearLeakyRelu (com.microsoft), which build the same
//! 256-entry table. The circuit proves each element as one row of that table, a tagged section of the shared
//! lookup table.

use super::node::{Imported, Node, Output};
use crate::error::Result;
use crate::ir::Op;

/// One activation node: a QDQ input and a quantized output.
pub(super) fn activation(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let name = node.proto.op_type.as_str();
    let f = function(node, name)?;
    let y = node.quantized_output()?;
    tabulate(node, name, f, x, y)
}

/// QLinearSigmoid / QLinearLeakyRelu (alpha): X, X_scale, X_zero_point, Y_scale, Y_zero_point.
pub(super) fn qlinear_activation(node: &Node<'_>) -> Result<Imported> {
    let name = match node.proto.op_type.as_str() {
        "QLinearSigmoid" => "Sigmoid",
        "QLinearLeakyRelu" => "LeakyRelu",
        other => return Err(node.unsupported(format!("`{other}` is not a QLinear activation"))),
    };
    let x = node.qlinear_input(0, 1)?;
    let f = function(node, name)?;
    let y = node.qoperator_output(3)?;
    tabulate(node, name, f, x, y)
}

/// y = table[x + 128] over x = −128..127; `name` (the ONNX function's op type) names the layer's function.
fn tabulate(node: &Node<'_>, name: &str, f: Box<dyn Fn(f32) -> f32>, x: usize, y: Output) -> Result<Imported> {
    let (qx, qy) = (node.q(x), y.q);
    let table = (-128..=127)
        .map(|v: i32| {
            let real = (v - qx.zero_point) as f32 * qx.scale;
            // f32 → i64 saturates (NaN → 0), so an extreme scale cannot overflow.
            let r = ((f(real) / qy.scale).round_ties_even() as i64).saturating_add(qy.zero_point as i64);
            r.clamp(y.lo as i64, y.hi as i64) as i32
        })
        .collect();
    Ok(Imported {
        op: Op::Lookup { function: name.to_string(), table },
        inputs: vec![x],
        shape: node.shape(x).to_vec(),
        output: y,
    })
}

/// The real function `name` (an ONNX op type) with the node's attributes (ONNX defaults where absent).
fn function(node: &Node<'_>, name: &str) -> Result<Box<dyn Fn(f32) -> f32>> {
    let alpha = |default: f32| node.attr_float("alpha").unwrap_or(default);
    Ok(match name {
        "Relu" => Box::new(|x: f32| x.max(0.0)),
        "Clip" => {
            // Opset ≥ 11: min / max are optional inputs; before: attributes.
            let bound = |i: usize, attr: &str| -> Result<Option<f32>> {
                match node.proto.input.get(i).filter(|s| !s.is_empty()) {
                    Some(name) => Ok(Some(node.graph.scalar_f32(node.proto, name)?)),
                    None => Ok(node.attr_float(attr)),
                }
            };
            let (lo, hi) = (bound(1, "min")?.unwrap_or(f32::MIN), bound(2, "max")?.unwrap_or(f32::MAX));
            if lo.is_nan() || hi.is_nan() || lo > hi {
                // f32::clamp would panic.
                return Err(node.malformed(format!("min {lo} > max {hi}")));
            }
            Box::new(move |x: f32| x.clamp(lo, hi))
        }
        "LeakyRelu" => {
            let a = alpha(0.01);
            Box::new(move |x: f32| if x < 0.0 { a * x } else { x })
        }
        "HardSigmoid" => {
            let (a, b) = (alpha(0.2), node.attr_float("beta").unwrap_or(0.5));
            Box::new(move |x: f32| (a * x + b).clamp(0.0, 1.0))
        }
        "HardSwish" => Box::new(|x: f32| x * (x / 6.0 + 0.5).clamp(0.0, 1.0)),
        "Sigmoid" => Box::new(|x: f32| 1.0 / (1.0 + (-x).exp())),
        "Tanh" => Box::new(f32::tanh),
        other => return Err(node.unsupported(format!("`{other}` is not an elementwise activation"))),
    })
}
