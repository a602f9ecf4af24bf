//! Add (QDQ) → `Op::Add`: y = requant(a_mult·(a − z_a) + b_mult·(b − z_b)), each side rescaled by s_side / s_y.
//! Both inputs must have the same shape (no broadcasting).

use super::node::{Imported, Node};
use crate::error::Result;
use crate::ir::{Multiplier, Op};

/// Add: two QDQ activations of equal shape.
pub(super) fn add(node: &Node<'_>) -> Result<Imported> {
    let a = node.activation(0)?;
    let b = node.activation(1)?;
    if node.shape(a) != node.shape(b) {
        return Err(node.unsupported(format!("broadcasting {:?} + {:?}", node.shape(a), node.shape(b))));
    }
    let y = node.quantized_output()?;
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
        shape: node.shape(a).to_vec(),
        output: y,
    })
}
