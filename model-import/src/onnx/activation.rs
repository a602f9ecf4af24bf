//! Elementwise activations between Q/DQ pairs (Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh) →
//! `Op::Lookup`: the whole int8 → int8 map tabulated over the 256 inputs, computed as onnxruntime's float island
//! computes it (dequantize, the function in f32, quantize with round half to even, saturate to the output's clamp).
//! The circuit proves each element as one row of that table, a tagged section of the shared lookup table.

use super::node::{Imported, Node};
use crate::error::Result;
use crate::ir::Op;

/// One activation node: a QDQ input and a quantized output.
pub(super) fn activation(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let f = function(node)?;
    let y = node.quantized_output()?;
    let (qx, qy) = (node.q(x), y.q);
    let table = (-128..=127)
        .map(|v: i32| {
            let real = (v - qx.zero_point) as f32 * qx.scale;
            let r = (f(real) / qy.scale).round_ties_even() as i64 + qy.zero_point as i64;
            r.clamp(y.lo as i64, y.hi as i64) as i32
        })
        .collect();
    Ok(Imported {
        op: Op::Lookup { function: node.proto.op_type.clone(), table },
        inputs: vec![x],
        shape: node.shape(x).to_vec(),
        output: y,
    })
}

/// The node's real function with its attributes (ONNX defaults where absent).
fn function(node: &Node<'_>) -> Result<Box<dyn Fn(f32) -> f32>> {
    let alpha = |default: f32| node.attr_float("alpha").unwrap_or(default);
    Ok(match node.proto.op_type.as_str() {
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
            if lo > hi {
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
        other => unreachable!("`{other}` is not registered for this handler"),
    })
}
