//! One compute node as its op handler sees it, and the Q/DQ pairing around it.
//!
//! QDQ format: an activation input is `DequantizeLinear(t)` of an int8 tensor t already imported; the output goes
//! (through optional Relu / Clip, which only narrow the clamp [lo, hi]) into exactly one `QuantizeLinear`, which
//! names the int8 output tensor. QOperator format (QLinearConv, QLinearMatMul, onnxruntime's com.microsoft QLinear*
//! and QGemm): inputs are int8 tensors, each with its scale and zero point as the node's next two inputs, and the
//! output's scale and zero point are inputs of the node too. Data movement (Reshape, Transpose, MaxPool, …) takes
//! either form: a DequantizeLinear'd input and a QuantizeLinear'd output, or an int8 tensor in and out.

use std::collections::HashMap;

use tract_onnx::pb::NodeProto;

use super::graph::{attr, attr_int, attr_ints, err_malformed, not_quantized, unsupported_attr, Graph};
use crate::error::{ImportError, Result};
use crate::ir::{Op, QParams, TensorInfo};

/// A handler's view: the node, the graph, and the int8 tensors imported before it.
pub(super) struct Node<'a> {
    pub proto: &'a NodeProto,
    pub graph: &'a Graph<'a>,
    pub tensors: &'a [TensorInfo],
    /// int8 tensor name → index into `tensors`.
    pub ids: &'a HashMap<String, usize>,
    /// The shared denominator b = 2^bits of every multiplier.
    pub bits: u32,
}

/// An int8 output tensor: its name, quantization and saturation range [lo, hi].
pub(super) struct Output {
    pub name: String,
    pub q: QParams,
    pub lo: i32,
    pub hi: i32,
}

/// What a handler returns: the IR op, its input tensors, and its output tensor's shape and quantization.
pub(super) struct Imported {
    pub op: Op,
    pub inputs: Vec<usize>,
    pub shape: Vec<usize>,
    pub output: Output,
}

impl<'a> Node<'a> {
    /// The node's input name `i` ("" when it has none: no tensor has that name, so a lookup fails with an error).
    pub fn input(&self, i: usize) -> &'a str {
        self.proto.input.get(i).map_or("", String::as_str)
    }

    /// The node's first output name, or the error that it has none.
    pub fn output_name(&self) -> Result<&'a str> {
        self.proto.output.first().map(String::as_str).ok_or_else(|| self.malformed("no output"))
    }

    pub fn shape(&self, t: usize) -> &'a [usize] {
        &self.tensors[t].shape
    }

    pub fn q(&self, t: usize) -> QParams {
        self.tensors[t].q
    }

    pub fn attr_int(&self, name: &str, default: i64) -> i64 {
        attr_int(self.proto, name, default)
    }

    pub fn attr_ints(&self, name: &str) -> Option<Vec<i64>> {
        attr_ints(self.proto, name)
    }

    /// The node's float attribute `name`, if present.
    pub fn attr_float(&self, name: &str) -> Option<f32> {
        attr(self.proto, name).map(|a| a.f)
    }

    /// The node's input name `i`, or the error that it has none.
    pub fn input_or_err(&self, i: usize) -> Result<&'a str> {
        self.proto.input.get(i).map(String::as_str).ok_or_else(|| self.malformed(format!("missing input {i}")))
    }

    /// The node's string attribute `name`, if present.
    pub fn attr_bytes(&self, name: &str) -> Option<&'a [u8]> {
        attr(self.proto, name).map(|a| a.s.as_slice())
    }

    pub fn malformed(&self, detail: impl Into<String>) -> ImportError {
        err_malformed(self.proto, detail)
    }

    pub fn unsupported(&self, detail: impl Into<String>) -> ImportError {
        unsupported_attr(self.proto, detail)
    }

    /// QDQ activation input `i`: the int8 tensor behind its DequantizeLinear.
    pub fn activation(&self, i: usize) -> Result<usize> {
        let name = self.input_or_err(i)?;
        let dq = self
            .graph
            .node(name)
            .filter(|d| d.op_type == "DequantizeLinear")
            .ok_or_else(|| not_quantized(self.proto, format!("input `{name}` does not come from a DequantizeLinear")))?;
        self.ids
            .get(dq.input.first().map_or("", String::as_str))
            .copied()
            .ok_or_else(|| not_quantized(self.proto, format!("input `{name}` is not a quantized activation")))
    }

    /// QDQ output: through optional Relu / Clip into one QuantizeLinear; Relu / Clip narrow the clamp.
    pub fn quantized_output(&self) -> Result<Output> {
        let (g, n) = (self.graph, self.proto);
        let mut name = self.output_name()?;
        let mut clamp: (Option<f32>, Option<f32>) = (None, None);
        loop {
            let cons = g.consumers.get(name).cloned().unwrap_or_default();
            if cons.is_empty() {
                return Err(not_quantized(n, format!("output `{name}` feeds no QuantizeLinear")));
            }
            let [only] = cons.as_slice() else {
                let feeds: Vec<String> = cons.iter().map(|&c| format!("{} `{}`", g.nodes[c].op_type, g.nodes[c].name)).collect();
                return Err(not_quantized(
                    n,
                    format!(
                        "output `{name}` must feed exactly one QuantizeLinear, not [{}] (a float op reading another's \
                         float output: every op needs its own DequantizeLinear / QuantizeLinear pair)",
                        feeds.join(", ")
                    ),
                ));
            };
            let c = &g.nodes[*only];
            match c.op_type.as_str() {
                "QuantizeLinear" => {
                    let (q, mut lo, mut hi) = g.quant_of(c)?;
                    if let Some(min) = clamp.0 {
                        lo = lo.max(q.zero_point.saturating_add((min / q.scale).round() as i32));
                    }
                    if let Some(max) = clamp.1 {
                        hi = hi.min(q.zero_point.saturating_add((max / q.scale).round() as i32));
                    }
                    let out = c.output.first().ok_or_else(|| err_malformed(c, "no output"))?;
                    return Ok(Output {
                        name: out.clone(),
                        q,
                        lo,
                        hi,
                    });
                }
                "Relu" => clamp.0 = Some(clamp.0.map_or(0.0, |m: f32| m.max(0.0))),
                "Clip" => {
                    let min = c.input.get(1).filter(|s| !s.is_empty()).map(|s| g.scalar_f32(c, s)).transpose()?;
                    let max = c.input.get(2).filter(|s| !s.is_empty()).map(|s| g.scalar_f32(c, s)).transpose()?;
                    if let Some(m) = min {
                        clamp.0 = Some(clamp.0.map_or(m, |x| x.max(m)));
                    }
                    if let Some(m) = max {
                        clamp.1 = Some(clamp.1.map_or(m, |x| x.min(m)));
                    }
                }
                _ => return Err(not_quantized(n, format!("output `{name}` feeds {} `{}`", c.op_type, c.name))),
            }
            name = c.output.first().ok_or_else(|| err_malformed(c, "no output"))?.as_str();
        }
    }

    /// QOperator input `i`: already an int8 tensor.
    pub fn int8_input(&self, i: usize) -> Result<usize> {
        let name = self.input_or_err(i)?;
        self.ids
            .get(name)
            .copied()
            .ok_or_else(|| not_quantized(self.proto, format!("input `{name}` is not an int8 tensor")))
    }

    /// QOperator input `i` with its scale and zero point as inputs `at` and `at + 1`: they must be the quantization
    /// the int8 tensor was made with (onnxruntime passes the producer's own scale and zero point initializers).
    pub fn qlinear_input(&self, i: usize, at: usize) -> Result<usize> {
        let x = self.int8_input(i)?;
        let scale = self.scale(at)?;
        let (zero_point, _, _) = self.graph.zero_point(self.proto, self.proto.input.get(at + 1))?;
        let (had, read) = (self.q(x), QParams { scale, zero_point });
        if had != read {
            return Err(self.malformed(format!(
                "input `{}` is read with scale {} and zero point {}, but it was quantized with scale {} and zero point {}",
                self.input(i),
                read.scale,
                read.zero_point,
                had.scale,
                had.zero_point
            )));
        }
        Ok(x)
    }

    /// QOperator output: scale and zero point are the node's inputs `at` and `at + 1` (an absent zero point is 0);
    /// int8 only, like every activation of the IR.
    pub fn qoperator_output(&self, at: usize) -> Result<Output> {
        let scale = self.scale(at)?;
        let (zero_point, lo, hi) = match self.proto.input.get(at + 1).filter(|s| !s.is_empty()) {
            Some(z) => self.graph.zero_point(self.proto, Some(z))?,
            None => (0, -128, 127),
        };
        if (lo, hi) != (-128, 127) {
            return Err(self.unsupported(format!("a uint8 output (zero point `{}`; int8 activations only)", self.input(at + 1))));
        }
        Ok(Output {
            name: self.output_name()?.to_string(),
            q: QParams { scale, zero_point },
            lo,
            hi,
        })
    }

    /// Input `at`: a positive, finite scalar scale.
    fn scale(&self, at: usize) -> Result<f32> {
        let s = self.graph.scalar_f32(self.proto, self.input_or_err(at)?)?;
        if !(s.is_finite() && s > 0.0) {
            return Err(self.malformed(format!("scale `{}` = {s} (a positive number expected)", self.input(at))));
        }
        Ok(s)
    }

    /// Data movement's input 0 in either form: an int8 tensor (QOperator: `true`) or the DequantizeLinear of one.
    pub fn moved_input(&self) -> Result<(usize, bool)> {
        let name = self.input_or_err(0)?;
        match self.ids.get(name) {
            Some(&x) => Ok((x, true)),
            None => Ok((self.activation(0)?, false)),
        }
    }

    /// Data movement's output, keeping input `x`'s quantization: the node's own int8 output (QOperator), or its
    /// QuantizeLinear, which must neither requantize nor clamp (QDQ).
    pub fn moved_output(&self, x: usize, qoperator: bool) -> Result<Output> {
        if qoperator {
            return Ok(Output {
                name: self.output_name()?.to_string(),
                q: self.q(x),
                lo: -128,
                hi: 127,
            });
        }
        let y = self.quantized_output()?;
        if y.q != self.q(x) || y.lo > -128 || y.hi < 127 {
            return Err(self.unsupported(format!("a {} that changes the quantization or clamps", self.proto.op_type)));
        }
        Ok(y)
    }
}
