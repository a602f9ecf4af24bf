//! Mul (QDQ) of two activations and onnxruntime's QLinearMul (QOperator, com.microsoft) → `Op::Mul`:
//! y = requant((a − z_a)·(b − z_b)) with M = s_a·s_b / s_y, the inputs broadcast with numpy's rules
//! (squeeze-and-excite scales [1,C,H,W] by [1,C,1,1]).

use super::add::broadcast;
use super::node::{Imported, Node, Output};
use crate::error::Result;
use crate::ir::{Multiplier, Op, Requant};

pub(super) fn mul(node: &Node<'_>) -> Result<Imported> {
    let a = node.activation(0)?;
    let b = node.activation(1)?;
    product(node, a, b, node.quantized_output()?)
}

/// QLinearMul: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point.
pub(super) fn qlinear_mul(node: &Node<'_>) -> Result<Imported> {
    let a = node.qlinear_input(0, 1)?;
    let b = node.qlinear_input(3, 4)?;
    product(node, a, b, node.qoperator_output(6)?)
}

fn product(node: &Node<'_>, a: usize, b: usize, y: Output) -> Result<Imported> {
    let shape = broadcast(node, a, b)?;
    let m = node.q(a).scale as f64 * node.q(b).scale as f64 / y.q.scale as f64;
    let requant = Requant { multiplier: Multiplier::new(m, node.bits), out: y.q, lo: y.lo, hi: y.hi };
    Ok(Imported { op: Op::Mul { requant }, inputs: vec![a, b], shape, output: y })
}
