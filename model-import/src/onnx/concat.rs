//! Concat (QDQ) and onnxruntime's QLinearConcat (QOperator, com.microsoft) on the channel axis → `Op::Concat`: each
//! input that is quantized differently from the output is rescaled to it first (y = requant(x − z_x),
//! M = s_x / s_y); an input with the output's quantization passes.

use super::node::{Imported, Node, Output};
use crate::error::Result;
use crate::ir::{Multiplier, Op, Requant};

pub(super) fn concat(node: &Node<'_>) -> Result<Imported> {
    if node.proto.input.is_empty() {
        return Err(node.malformed("no inputs"));
    }
    let xs = (0..node.proto.input.len()).map(|i| node.activation(i)).collect::<Result<Vec<_>>>()?;
    let y = node.quantized_output()?;
    join(node, xs, y)
}

/// QLinearConcat: Y_scale, Y_zero_point, then one (X, X_scale, X_zero_point) triple per input.
pub(super) fn qlinear_concat(node: &Node<'_>) -> Result<Imported> {
    let n = node.proto.input.len();
    if n < 5 || (n - 2) % 3 != 0 {
        return Err(node.malformed(format!(
            "{n} inputs (Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) triples expected)"
        )));
    }
    let xs = (2..n).step_by(3).map(|i| node.qlinear_input(i, i + 1)).collect::<Result<Vec<_>>>()?;
    let y = node.qoperator_output(0)?;
    join(node, xs, y)
}

fn join(node: &Node<'_>, xs: Vec<usize>, y: Output) -> Result<Imported> {
    let first = node.shape(xs[0]);
    let rank = first.len() as i64;
    let axis = node.attr_int("axis", i64::MIN);
    if axis == i64::MIN {
        return Err(node.malformed("no axis"));
    }
    let axis = if axis < 0 { axis.saturating_add(rank) } else { axis };
    if axis != 1 || first.len() < 2 || first[0] != 1 {
        return Err(node.unsupported(format!("axis {axis} of {first:?} (only the channel axis 1 of a batch-1 tensor)")));
    }
    let mut shape = first.to_vec();
    shape[1] = 0;
    for &x in &xs {
        let s = node.shape(x);
        if s.len() != first.len() || s[0] != 1 || s[2..] != first[2..] {
            return Err(node.malformed(format!("input shapes {first:?} and {s:?} do not concatenate on axis 1")));
        }
        shape[1] += s[1];
    }
    let rescale = xs
        .iter()
        .map(|&x| {
            let q = node.q(x);
            // Same quantization and the int8 range: the values pass unchanged.
            (q != y.q || y.lo > -128 || y.hi < 127).then(|| Requant {
                multiplier: Multiplier::new(q.scale as f64 / y.q.scale as f64, node.bits),
                out: y.q,
                lo: y.lo,
                hi: y.hi,
            })
        })
        .collect();
    Ok(Imported { op: Op::Concat { rescale }, inputs: xs, shape, output: y })
}
