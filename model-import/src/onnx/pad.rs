//! Pad → `Op::Pad`: constant padding of H and W only; padded cells take the zero point (real 0), so the
//! quantization passes through unchanged. Either form: QDQ (a float constant value, 0), or QOperator (Pad on the
//! int8 tensor, the constant value the input's zero point, as onnxruntime's QOperator format writes it).

use super::node::{Imported, Node};
use crate::error::Result;
use crate::ir::Op;

/// Pad: data, constant `pads` initializer, optional constant value (real 0); mode "constant".
pub(super) fn pad(node: &Node<'_>) -> Result<Imported> {
    let (x, qoperator) = node.moved_input()?;
    let xs = node.shape(x);
    if xs.len() != 4 || xs[0] != 1 {
        return Err(node.unsupported(format!("input shape {xs:?} (a batch-1 NCHW tensor expected)")));
    }
    let mode = node.attr_bytes("mode").unwrap_or(&b"constant"[..]);
    if mode != b"constant" {
        return Err(node.unsupported(format!("mode = {}", String::from_utf8_lossy(mode))));
    }
    let value = node.proto.input.get(2).filter(|s| !s.is_empty());
    if qoperator {
        // int8 padding: the raw value must be the zero point (absent: 0).
        let z = node.q(x).zero_point as i64;
        let v = match value {
            Some(v) => node.graph.ints(node.proto, v)?,
            None => vec![0],
        };
        if v != [z] {
            return Err(node.unsupported(format!("int8 padding with {v:?}, not the input's zero point {z}")));
        }
    } else if let Some(v) = value {
        if node.graph.scalar_f32(node.proto, v)? != 0.0 {
            return Err(node.unsupported("a non-zero constant value"));
        }
    }
    let p = node.graph.ints(node.proto, node.input_or_err(1)?)?;
    // [n_begin, c_begin, h_begin, w_begin, n_end, c_end, h_end, w_end]
    if p.len() != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 || p.iter().any(|&v| !(0..1 << 16).contains(&v)) {
        return Err(node.unsupported(format!("pads {p:?} (non-negative, below 65536, spatial only)")));
    }
    let pads = [p[2] as usize, p[3] as usize, p[6] as usize, p[7] as usize];
    let y = node.moved_output(x, qoperator)?;
    let shape = vec![1, xs[1], xs[2] + pads[0] + pads[2], xs[3] + pads[1] + pads[3]];
    Ok(Imported {
        op: Op::Pad { pads },
        inputs: vec![x],
        shape,
        output: y,
    })
}
