//! One compute node as its op handler sees it, and the Q/DQ pairing around it.
//!
//! QDQ format: an activation input is `DequantizeLinear(t)` of an int8 tensor t already imported; the output goes
//! (through optional Relu / Clip, which only narrow the clamp [lo, hi]) into exactly one `QuantizeLinear`, which
//! names the int8 output tensor. QOperator format (QLinearConv / QLinearMatMul): inputs are int8 tensors and the
//! output's scale and zero point are inputs of the node itself.

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
    /// The node's input name `i`.
    pub fn input(&self, i: usize) -> &'a str {
        &self.proto.input[i]
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
        let name = self.input(i);
        let dq = self
            .graph
            .node(name)
            .filter(|d| d.op_type == "DequantizeLinear")
            .ok_or_else(|| not_quantized(self.proto, format!("input `{name}` does not come from a DequantizeLinear")))?;
        self.ids
            .get(dq.input[0].as_str())
            .copied()
            .ok_or_else(|| not_quantized(self.proto, format!("input `{name}` is not a quantized activation")))
    }

    /// QDQ output: through optional Relu / Clip into one QuantizeLinear; Relu / Clip narrow the clamp.
    pub fn quantized_output(&self) -> Result<Output> {
        let (g, n) = (self.graph, self.proto);
        let mut name = n.output[0].as_str();
        let mut clamp: (Option<f32>, Option<f32>) = (None, None);
        loop {
            let cons = g.consumers.get(name).cloned().unwrap_or_default();
            let [only] = cons.as_slice() else {
                return Err(not_quantized(n, format!("output `{name}` must feed exactly one QuantizeLinear")));
            };
            let c = &g.nodes[*only];
            match c.op_type.as_str() {
                "QuantizeLinear" => {
                    let (q, mut lo, mut hi) = g.quant_of(c)?;
                    if let Some(min) = clamp.0 {
                        lo = lo.max(q.zero_point + (min / q.scale).round() as i32);
                    }
                    if let Some(max) = clamp.1 {
                        hi = hi.min(q.zero_point + (max / q.scale).round() as i32);
                    }
                    return Ok(Output {
                        name: c.output[0].clone(),
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
            name = c.output[0].as_str();
        }
    }

    /// QOperator input `i`: already an int8 tensor.
    pub fn int8_input(&self, i: usize) -> Result<usize> {
        let name = self.input(i);
        self.ids
            .get(name)
            .copied()
            .ok_or_else(|| not_quantized(self.proto, format!("input `{name}` is not an int8 tensor")))
    }

    /// QOperator output: scale and zero point are the node's inputs `at` and `at + 1`.
    pub fn qoperator_output(&self, at: usize) -> Result<Output> {
        let scale = self.graph.scalar_f32(self.proto, self.input(at))?;
        let (zero_point, lo, hi) = self.graph.zero_point(self.proto, self.proto.input.get(at + 1))?;
        Ok(Output {
            name: self.proto.output[0].clone(),
            q: QParams { scale, zero_point },
            lo,
            hi,
        })
    }
}
