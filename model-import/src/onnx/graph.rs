//! The raw ONNX graph indexed for pattern matching: which node produces / consumes each tensor name, the constant
//! initializers as tract tensors, node attributes, and the node-naming error constructors every handler uses.

use std::collections::HashMap;

use tract_onnx::pb::{self, NodeProto};
use tract_onnx::prelude::{Datum, DatumType, Tensor};

use crate::error::{ImportError, Result};
use crate::ir::QParams;

pub(super) struct Graph<'a> {
    pub nodes: &'a [NodeProto],
    pub inits: HashMap<&'a str, Tensor>,
    /// Tensor name → index of the node that writes it.
    pub producer: HashMap<&'a str, usize>,
    /// Tensor name → indices of the nodes that read it.
    pub consumers: HashMap<&'a str, Vec<usize>>,
}

pub(super) fn err_malformed(n: &NodeProto, detail: impl Into<String>) -> ImportError {
    ImportError::Malformed {
        node: n.name.clone(),
        op: n.op_type.clone(),
        detail: detail.into(),
    }
}

pub(super) fn not_quantized(n: &NodeProto, detail: impl Into<String>) -> ImportError {
    ImportError::NotQuantized {
        node: n.name.clone(),
        op: n.op_type.clone(),
        detail: detail.into(),
    }
}

pub(super) fn unsupported_attr(n: &NodeProto, detail: impl Into<String>) -> ImportError {
    ImportError::UnsupportedAttribute {
        node: n.name.clone(),
        op: n.op_type.clone(),
        detail: detail.into(),
    }
}

/// A constant tensor's values converted to T.
pub(super) fn values<T: Datum + Copy>(t: &Tensor) -> std::result::Result<Vec<T>, String> {
    let c = t.cast_to::<T>().map_err(|e| e.to_string())?;
    let v = c.to_plain_array_view::<T>().map_err(|e| e.to_string())?;
    Ok(v.iter().copied().collect())
}

pub(super) fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a pb::AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

pub(super) fn attr_ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}

pub(super) fn attr_int(n: &NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map_or(default, |a| a.i)
}

impl<'a> Graph<'a> {
    /// The node that produces tensor `output`.
    pub fn node(&self, output: &str) -> Option<&'a NodeProto> {
        self.producer.get(output).map(|&i| &self.nodes[i])
    }

    pub fn init(&self, n: &NodeProto, name: &str) -> Result<&Tensor> {
        self.inits.get(name).ok_or_else(|| err_malformed(n, format!("`{name}` is not a constant initializer")))
    }

    pub fn scalar_f32(&self, n: &NodeProto, name: &str) -> Result<f32> {
        let s = values::<f32>(self.init(n, name)?).map_err(|e| err_malformed(n, e))?;
        match s.as_slice() {
            [x] => Ok(*x),
            _ => Err(err_malformed(n, format!("`{name}` should be a scalar, has {} values", s.len()))),
        }
    }

    pub fn ints(&self, n: &NodeProto, name: &str) -> Result<Vec<i64>> {
        values::<i64>(self.init(n, name)?).map_err(|e| err_malformed(n, e))
    }

    /// Zero point value and the saturation range its type implies.
    pub fn zero_point(&self, n: &NodeProto, input: Option<&String>) -> Result<(i32, i32, i32)> {
        let Some(name) = input.filter(|s| !s.is_empty()) else {
            return Ok((0, 0, 255)); // ONNX default: uint8 zero point 0
        };
        let t = self.init(n, name)?;
        let range = match t.datum_type() {
            DatumType::I8 => (-128, 127),
            DatumType::U8 => (0, 255),
            other => return Err(unsupported_attr(n, format!("zero point of type {other:?} (int8/uint8 only)"))),
        };
        let z = self.ints(n, name)?;
        if z.len() != 1 {
            return Err(unsupported_attr(n, "per-channel activation zero points"));
        }
        Ok((z[0] as i32, range.0, range.1))
    }

    /// A QuantizeLinear node's output quantization and saturation range.
    pub fn quant_of(&self, q: &NodeProto) -> Result<(QParams, i32, i32)> {
        let name = q.input.get(1).ok_or_else(|| err_malformed(q, "missing input 1 (the scale)"))?;
        let scale = self.scalar_f32(q, name)?;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(err_malformed(q, format!("scale `{name}` = {scale} (a positive number expected)")));
        }
        let (zp, lo, hi) = self.zero_point(q, q.input.get(2))?;
        Ok((QParams { scale, zero_point: zp }, lo, hi))
    }
}
