//! GlobalAveragePool and AveragePool (QDQ) → window means as one requantisation of the window sum:
//! requant(Σ (x − z_x)) with M = s_x / (s_y · window size). Padded cells count as zeros (count_include_pad = 1).

use super::node::{Imported, Node};
use crate::error::Result;
use crate::ir::{Multiplier, Op, Requant};

/// GlobalAveragePool: mean over H·W, output [1, C, 1, 1].
pub(super) fn global_average_pool(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let xs = node.shape(x);
    let y = node.quantized_output()?;
    let hw = (xs[2] * xs[3]) as f64;
    let requant = Requant {
        multiplier: Multiplier::new(node.q(x).scale as f64 / (y.q.scale as f64 * hw), node.bits),
        out: y.q,
        lo: y.lo,
        hi: y.hi,
    };
    Ok(Imported {
        op: Op::GlobalAveragePool { requant },
        inputs: vec![x],
        shape: vec![1, xs[1], 1, 1],
        output: y,
    })
}

/// AveragePool: kh×kw windows with strides and pads; no ceil_mode, no per-position divisor.
pub(super) fn average_pool(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let xs = node.shape(x);
    let k = node.attr_ints("kernel_shape").ok_or_else(|| node.malformed("no kernel_shape"))?;
    let strides = node.attr_ints("strides").unwrap_or(vec![1, 1]);
    let pads = node.attr_ints("pads").unwrap_or(vec![0, 0, 0, 0]);
    if pads.iter().any(|&p| p != 0) && node.attr_int("count_include_pad", 0) == 0 {
        return Err(node.unsupported("padding with count_include_pad = 0 (a per-position divisor)"));
    }
    if node.attr_int("ceil_mode", 0) != 0 {
        return Err(node.unsupported("ceil_mode = 1"));
    }
    let (pt, pl, pb, pr) = (pads[0] as usize, pads[1] as usize, pads[2] as usize, pads[3] as usize);
    let (kh, kw) = (k[0] as usize, k[1] as usize);
    let oh = (xs[2] + pt + pb - kh) / strides[0] as usize + 1;
    let ow = (xs[3] + pl + pr - kw) / strides[1] as usize + 1;
    let y = node.quantized_output()?;
    let requant = Requant {
        multiplier: Multiplier::new(node.q(x).scale as f64 / (y.q.scale as f64 * (kh * kw) as f64), node.bits),
        out: y.q,
        lo: y.lo,
        hi: y.hi,
    };
    Ok(Imported {
        op: Op::AveragePool {
            kernel: [kh, kw],
            stride: [strides[0] as usize, strides[1] as usize],
            pads: [pt, pl, pb, pr],
            requant,
        },
        inputs: vec![x],
        shape: vec![1, xs[1], oh, ow],
        output: y,
    })
}
