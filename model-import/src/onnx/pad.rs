//! Pad (QDQ) → `Op::Pad`: constant zero padding of H and W only; padded cells take the zero point, so the
//! quantization must pass through unchanged.

use super::node::{Imported, Node};
use crate::error::Result;
use crate::ir::Op;

/// Pad: data, constant `pads` initializer, optional constant value (must be 0); mode "constant".
pub(super) fn pad(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let xs = node.shape(x);
    let mode = node.attr_bytes("mode").unwrap_or(&b"constant"[..]);
    if mode != b"constant" {
        return Err(node.unsupported(format!("mode = {}", String::from_utf8_lossy(mode))));
    }
    if let Some(v) = node.proto.input.get(2).filter(|s| !s.is_empty()) {
        if node.graph.scalar_f32(node.proto, v)? != 0.0 {
            return Err(node.unsupported("a non-zero constant value"));
        }
    }
    let p = node.graph.ints(node.proto, node.input(1))?;
    // [n_begin, c_begin, h_begin, w_begin, n_end, c_end, h_end, w_end]
    if p.len() != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 || p.iter().any(|&v| v < 0) {
        return Err(node.unsupported(format!("pads {p:?} (non-negative, spatial only)")));
    }
    let pads = [p[2] as usize, p[3] as usize, p[6] as usize, p[7] as usize];
    let y = node.quantized_output()?;
    if y.q != node.q(x) {
        return Err(node.unsupported("a pad that changes the quantization"));
    }
    let shape = vec![1, xs[1], xs[2] + pads[0] + pads[2], xs[3] + pads[1] + pads[3]];
    Ok(Imported {
        op: Op::Pad { pads },
        inputs: vec![x],
        shape,
        output: y,
    })
}
