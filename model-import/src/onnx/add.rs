//! Add (QDQ) and onnxruntime's QLinearAdd (QOperator, com.microsoft) → `Op::Add`:
//! y = requant(a_mult·(a − z_a) + b_mult·(b − z_b)), each side rescaled by s_side / s_y. The inputs broadcast with
//! numpy's rules.

use super::node::{Imported, Node, Output};
use crate::error::Result;
use crate::ir::{broadcast_shape, Multiplier, Op};

/// Add: two QDQ activations.
pub(super) fn add(node: &Node<'_>) -> Result<Imported> {
    let a = node.activation(0)?;
    let b = node.activation(1)?;
    let shape = broadcast(node, a, b)?;
    sum(node, a, b, shape, node.quantized_output()?)
}

/// QLinearAdd: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point.
pub(super) fn qlinear_add(node: &Node<'_>) -> Result<Imported> {
    let a = node.qlinear_input(0, 1)?;
    let b = node.qlinear_input(3, 4)?;
    let shape = broadcast(node, a, b)?;
    sum(node, a, b, shape, node.qoperator_output(6)?)
}

fn sum(node: &Node<'_>, a: usize, b: usize, shape: Vec<usize>, y: Output) -> Result<Imported> {
    let m = |t: usize| Multiplier::new(node.q(t).scale as f64 / y.q.scale as f64, node.bits);
    Ok(Imported {
        op: Op::Add {
            a_multiplier: m(a),
            b_multiplier: m(b),
            out: y.q,
            lo: y.lo,
            hi: y.hi,
        },
        inputs: vec![a, b],
        shape,
        output: y,
    })
}

/// The shape two inputs broadcast to, or the error naming both shapes.
pub(super) fn broadcast(node: &Node<'_>, a: usize, b: usize) -> Result<Vec<usize>> {
    broadcast_shape(node.shape(a), node.shape(b))
        .ok_or_else(|| node.malformed(format!("shapes {:?} and {:?} do not broadcast", node.shape(a), node.shape(b))))
}
