//! Reshape and Flatten (QDQ) → `Op::Reshape`: a shape change only; values and quantization pass through.

use super::node::{Imported, Node};
use crate::error::Result;
use crate::ir::Op;

/// Reshape: constant target shape; 0 copies the input's dimension, −1 takes what is left.
pub(super) fn reshape(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let xs = node.shape(x);
    let total: usize = xs.iter().product();
    let target = node.graph.ints(node.proto, node.input(1))?;
    let known: usize = target
        .iter()
        .enumerate()
        .map(|(i, &d)| if d == 0 { xs[i] } else if d < 0 { 1 } else { d as usize })
        .product();
    let shape = target
        .iter()
        .enumerate()
        .map(|(i, &d)| if d == 0 { xs[i] } else if d < 0 { total / known } else { d as usize })
        .collect();
    same_values(node, x, shape)
}

/// Flatten: [product of dims before `axis`, product of the rest].
pub(super) fn flatten(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let xs = node.shape(x);
    let axis = node.attr_int("axis", 1) as usize;
    same_values(node, x, vec![xs[..axis].iter().product(), xs[axis..].iter().product()])
}

/// The output QuantizeLinear must keep the input's quantization.
fn same_values(node: &Node<'_>, x: usize, shape: Vec<usize>) -> Result<Imported> {
    let y = node.quantized_output()?;
    if y.q != node.q(x) {
        return Err(node.unsupported("a reshape that changes the quantization"));
    }
    Ok(Imported {
        op: Op::Reshape,
        inputs: vec![x],
        shape,
        output: y,
    })
}
