//! Data movement, no arithmetic: Reshape, Flatten, Squeeze and Unsqueeze → `Op::Reshape` (a shape change only) and
//! Transpose → `Op::Transpose`. Values and quantization pass through. Either form: QDQ (a DequantizeLinear'd input,
//! and an output QuantizeLinear that keeps the input's quantization, as onnxruntime's QDQ export writes it) or
//! QOperator (the op applied to the int8 tensor itself, int8 out).

use super::node::{Imported, Node};
use crate::error::Result;
use crate::ir::Op;

/// Reshape: constant target shape; 0 copies the input's dimension, −1 takes what is left.
pub(super) fn reshape(node: &Node<'_>) -> Result<Imported> {
    let (x, qoperator) = node.moved_input()?;
    let xs = node.shape(x);
    let total: usize = xs.iter().product();
    let target = node.graph.ints(node.proto, node.input_or_err(1)?)?;
    if target.iter().filter(|&&d| d == -1).count() > 1 || target.iter().any(|&d| d < -1) {
        return Err(node.malformed(format!("target shape {target:?}")));
    }
    let mut shape = Vec::with_capacity(target.len());
    for (i, &d) in target.iter().enumerate() {
        shape.push(match d {
            0 => *xs.get(i).ok_or_else(|| node.malformed(format!("target shape {target:?}: 0 at {i} copies no input axis")))?,
            -1 => 0, // filled below
            d => d as usize,
        });
    }
    let known = shape.iter().filter(|&&d| d != 0).try_fold(1usize, |a, &d| a.checked_mul(d));
    let known = known.ok_or_else(|| node.malformed(format!("target shape {target:?} overflows")))?;
    if let Some(i) = target.iter().position(|&d| d == -1) {
        if known == 0 || total % known != 0 {
            return Err(node.malformed(format!("cannot reshape {xs:?} to {target:?}")));
        }
        shape[i] = total / known;
    }
    if shape.iter().product::<usize>() != total || shape.contains(&0) {
        return Err(node.malformed(format!("cannot reshape {xs:?} ({total} values) to {target:?}")));
    }
    same_values(node, x, qoperator, Op::Reshape, shape)
}

/// Flatten: [product of dims before `axis`, product of the rest].
pub(super) fn flatten(node: &Node<'_>) -> Result<Imported> {
    let (x, qoperator) = node.moved_input()?;
    let xs = node.shape(x);
    let (axis, rank) = (node.attr_int("axis", 1), xs.len() as i64);
    if !(-rank..=rank).contains(&axis) {
        return Err(node.malformed(format!("axis {axis} is out of range for rank {rank}")));
    }
    let axis = if axis < 0 { axis + rank } else { axis } as usize;
    same_values(node, x, qoperator, Op::Reshape, vec![xs[..axis].iter().product(), xs[axis..].iter().product()])
}

/// Squeeze: drops the listed axes (all of size 1), or every axis of size 1 when none are listed.
pub(super) fn squeeze(node: &Node<'_>) -> Result<Imported> {
    let (x, qoperator) = node.moved_input()?;
    let xs = node.shape(x);
    let axes = match axes(node)? {
        Some(a) => a.iter().map(|&a| normalise(node, a, xs.len())).collect::<Result<Vec<_>>>()?,
        None => (0..xs.len()).filter(|&i| xs[i] == 1).collect(),
    };
    if let Some(&a) = axes.iter().find(|&&a| xs[a] != 1) {
        return Err(node.malformed(format!("axis {a} of {xs:?} has size {}, not 1", xs[a])));
    }
    let shape = xs.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect();
    same_values(node, x, qoperator, Op::Reshape, shape)
}

/// Unsqueeze: inserts axes of size 1 at the listed positions of the output.
pub(super) fn unsqueeze(node: &Node<'_>) -> Result<Imported> {
    let (x, qoperator) = node.moved_input()?;
    let xs = node.shape(x);
    let listed = axes(node)?.ok_or_else(|| node.malformed("no axes"))?;
    let rank = xs.len() + listed.len();
    let axes = listed
        .iter()
        .map(|&a| normalise(node, a, rank))
        .collect::<Result<Vec<_>>>()?;
    let mut rest = xs.iter();
    let shape = (0..rank).map(|i| if axes.contains(&i) { 1 } else { *rest.next().unwrap_or(&1) }).collect();
    same_values(node, x, qoperator, Op::Reshape, shape)
}

/// Transpose: `perm` (default: reversed axes) must be a permutation of the input's axes.
pub(super) fn transpose(node: &Node<'_>) -> Result<Imported> {
    let (x, qoperator) = node.moved_input()?;
    let xs = node.shape(x);
    let perm: Vec<usize> = match node.attr_ints("perm") {
        Some(p) => p.iter().map(|&a| normalise(node, a, xs.len())).collect::<Result<_>>()?,
        None => (0..xs.len()).rev().collect(),
    };
    let mut seen = vec![false; xs.len()];
    if perm.len() != xs.len() || perm.iter().any(|&a| std::mem::replace(&mut seen[a], true)) {
        return Err(node.malformed(format!("perm {perm:?} is not a permutation of {} axes", xs.len())));
    }
    let shape = perm.iter().map(|&a| xs[a]).collect();
    if perm.iter().enumerate().all(|(i, &a)| i == a || xs[a] == 1) {
        // Moves only axes of size 1: the element order is unchanged.
        return same_values(node, x, qoperator, Op::Reshape, shape);
    }
    same_values(node, x, qoperator, Op::Transpose { perm }, shape)
}

/// The `axes` of Squeeze / Unsqueeze: an attribute before opset 13, an optional input since.
fn axes(node: &Node<'_>) -> Result<Option<Vec<i64>>> {
    if let Some(a) = node.attr_ints("axes") {
        return Ok(Some(a));
    }
    match node.proto.input.get(1).filter(|s| !s.is_empty()) {
        Some(name) => Ok(Some(node.graph.ints(node.proto, name)?)),
        None => Ok(None),
    }
}

/// An axis in [−rank, rank) as an index.
pub(super) fn normalise(node: &Node<'_>, axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if !(-r..r).contains(&axis) {
        return Err(node.malformed(format!("axis {axis} is out of range for rank {rank}")));
    }
    Ok(if axis < 0 { axis + r } else { axis } as usize)
}

/// The output keeps the input's quantization (QDQ: its QuantizeLinear must not requantize or clamp).
fn same_values(node: &Node<'_>, x: usize, qoperator: bool, op: Op, shape: Vec<usize>) -> Result<Imported> {
    let y = node.moved_output(x, qoperator)?;
    Ok(Imported { op, inputs: vec![x], shape, output: y })
}
