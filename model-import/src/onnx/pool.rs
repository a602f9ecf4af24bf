//! Pooling. Means — GlobalAveragePool, AveragePool and ReduceMean over the spatial axes (QDQ), onnxruntime's
//! QLinearGlobalAveragePool and QLinearAveragePool (QOperator, com.microsoft) — are one requantisation of the window
//! sum: requant(Σ (x − z_x)) with M = s_x / (s_y · window size); padded cells count as zeros
//! (count_include_pad = 1). MaxPool (either form: QDQ, or int8 in and out) keeps the quantization and takes the
//! window maximum.

use super::node::{Imported, Node, Output};
use super::reshape::normalise;
use crate::error::Result;
use crate::ir::{Multiplier, Op, Requant};

/// GlobalAveragePool: mean over H·W, output [1, C, 1, 1].
pub(super) fn global_average_pool(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let xs = nchw(node, x)?;
    global_mean(node, x, vec![1, xs[1], 1, 1], node.quantized_output()?)
}

/// QLinearGlobalAveragePool: X, x_scale, x_zero_point, y_scale, y_zero_point; NCHW (channels_last = 0) only.
pub(super) fn qlinear_global_average_pool(node: &Node<'_>) -> Result<Imported> {
    let x = node.qlinear_input(0, 1)?;
    channels_first(node)?;
    let xs = nchw(node, x)?;
    global_mean(node, x, vec![1, xs[1], 1, 1], node.qoperator_output(3)?)
}

/// onnxruntime's QLinear pools read NHWC when channels_last = 1; the IR's tensors are NCHW.
fn channels_first(node: &Node<'_>) -> Result<()> {
    match node.attr_int("channels_last", 0) {
        0 => Ok(()),
        v => Err(node.unsupported(format!("channels_last = {v} (NCHW only)"))),
    }
}

/// ReduceMean over the spatial axes of an NCHW tensor (what torch exports for global average pooling): axes are
/// an attribute before opset 18 and an input since; keepdims (default 1) gives [1, C, 1, 1], else [1, C].
pub(super) fn reduce_mean(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let xs = nchw(node, x)?;
    let axes = match node.attr_ints("axes") {
        Some(a) => a,
        None => match node.proto.input.get(1).filter(|s| !s.is_empty()) {
            Some(name) => node.graph.ints(node.proto, name)?,
            None => return Err(node.unsupported("a mean over every axis (only the spatial axes 2, 3)")),
        },
    };
    let mut axes = axes.iter().map(|&a| normalise(node, a, 4)).collect::<Result<Vec<_>>>()?;
    axes.sort_unstable();
    if axes != [2, 3] {
        return Err(node.unsupported(format!("a mean over axes {axes:?} (only the spatial axes 2, 3)")));
    }
    let shape = if node.attr_int("keepdims", 1) != 0 { vec![1, xs[1], 1, 1] } else { vec![1, xs[1]] };
    global_mean(node, x, shape, node.quantized_output()?)
}

fn global_mean(node: &Node<'_>, x: usize, shape: Vec<usize>, y: Output) -> Result<Imported> {
    let xs = node.shape(x);
    let hw = (xs[2] * xs[3]) as f64;
    let requant = Requant {
        multiplier: Multiplier::new(node.q(x).scale as f64 / (y.q.scale as f64 * hw), node.bits),
        out: y.q,
        lo: y.lo,
        hi: y.hi,
    };
    Ok(Imported { op: Op::GlobalAveragePool { requant }, inputs: vec![x], shape, output: y })
}

/// AveragePool: kh×kw windows with strides and pads; no ceil_mode, no per-position divisor.
pub(super) fn average_pool(node: &Node<'_>) -> Result<Imported> {
    let x = node.activation(0)?;
    let w = window(node, x)?;
    window_mean(node, x, w, node.quantized_output()?)
}

/// QLinearAveragePool: X, x_scale, x_zero_point, y_scale, y_zero_point and AveragePool's attributes; NCHW only.
pub(super) fn qlinear_average_pool(node: &Node<'_>) -> Result<Imported> {
    let x = node.qlinear_input(0, 1)?;
    channels_first(node)?;
    let w = window(node, x)?;
    window_mean(node, x, w, node.qoperator_output(3)?)
}

fn window_mean(node: &Node<'_>, x: usize, w: Window, y: Output) -> Result<Imported> {
    if w.pads.iter().any(|&p| p != 0) && node.attr_int("count_include_pad", 0) == 0 {
        return Err(node.unsupported("padding with count_include_pad = 0 (a per-position divisor)"));
    }
    let requant = Requant {
        multiplier: Multiplier::new(
            node.q(x).scale as f64 / (y.q.scale as f64 * (w.kernel[0] * w.kernel[1]) as f64),
            node.bits,
        ),
        out: y.q,
        lo: y.lo,
        hi: y.hi,
    };
    Ok(Imported {
        op: Op::AveragePool { kernel: w.kernel, stride: w.stride, pads: w.pads, requant },
        inputs: vec![x],
        shape: w.shape,
        output: y,
    })
}

/// MaxPool: the window maximum (padded cells never win); the output keeps the input's quantization. Either form: a
/// DequantizeLinear'd input and a QuantizeLinear'd output, or an int8 tensor in and out (QOperator).
pub(super) fn max_pool(node: &Node<'_>) -> Result<Imported> {
    let (x, qoperator) = node.moved_input()?;
    let w = window(node, x)?;
    if node.attr_ints("dilations").is_some_and(|d| d.iter().any(|&v| v != 1)) {
        return Err(node.unsupported("dilations (only 1)"));
    }
    if node.attr_int("storage_order", 0) != 0 || node.proto.output.len() > 1 {
        return Err(node.unsupported("the Indices output"));
    }
    let y = node.moved_output(x, qoperator)?;
    // Every window holds a real cell (else its maximum would be a padding value) iff every pad is below the kernel.
    let [kh, kw] = w.kernel;
    if w.pads[0] >= kh || w.pads[2] >= kh || w.pads[1] >= kw || w.pads[3] >= kw {
        return Err(node.unsupported(format!("pads {:?} as large as the kernel {:?}", w.pads, w.kernel)));
    }
    Ok(Imported {
        op: Op::MaxPool { kernel: w.kernel, stride: w.stride, pads: w.pads },
        inputs: vec![x],
        shape: w.shape,
        output: y,
    })
}

/// The sliding window of a pooling node over a [1, C, H, W] input, and its output shape.
struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    /// top, left, bottom, right
    pads: [usize; 4],
    shape: Vec<usize>,
}

fn window(node: &Node<'_>, x: usize) -> Result<Window> {
    let xs = nchw(node, x)?;
    let k = node.attr_ints("kernel_shape").ok_or_else(|| node.malformed("no kernel_shape"))?;
    let strides = node.attr_ints("strides").unwrap_or(vec![1, 1]);
    let pads = node.attr_ints("pads").unwrap_or(vec![0, 0, 0, 0]);
    if k.len() != 2 || strides.len() != 2 || pads.len() != 4 {
        return Err(node.malformed(format!("kernel_shape {k:?}, strides {strides:?}, pads {pads:?} (2-D expected)")));
    }
    if k.iter().chain(&strides).any(|&v| !(1..=1 << 16).contains(&v)) || pads.iter().any(|&p| !(0..1 << 16).contains(&p)) {
        return Err(node.malformed(format!("kernel_shape {k:?}, strides {strides:?}, pads {pads:?} out of range")));
    }
    if node.attr_int("ceil_mode", 0) != 0 {
        return Err(node.unsupported("ceil_mode = 1"));
    }
    if node.attr_bytes("auto_pad").is_some_and(|s| !s.is_empty() && s != b"NOTSET") {
        return Err(node.unsupported("auto_pad (explicit pads only)"));
    }
    let [kh, kw, sh, sw] = [k[0], k[1], strides[0], strides[1]].map(|v| v as usize);
    let [pt, pl, pb, pr] = [pads[0], pads[1], pads[2], pads[3]].map(|v| v as usize);
    let (ph, pw) = (xs[2] + pt + pb, xs[3] + pl + pr);
    if ph < kh || pw < kw {
        return Err(node.malformed(format!("kernel {kh}×{kw} is larger than the padded input {ph}×{pw}")));
    }
    Ok(Window {
        kernel: [kh, kw],
        stride: [sh, sw],
        pads: [pt, pl, pb, pr],
        shape: vec![1, xs[1], (ph - kh) / sh + 1, (pw - kw) / sw + 1],
    })
}

/// The input's shape, which must be [1, C, H, W].
fn nchw<'a>(node: &Node<'a>, x: usize) -> Result<&'a [usize]> {
    let xs = node.shape(x);
    if xs.len() != 4 || xs[0] != 1 {
        return Err(node.unsupported(format!("input shape {xs:?} (a batch-1 NCHW tensor expected)")));
    }
    Ok(xs)
}
