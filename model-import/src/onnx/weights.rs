//! Constant operands of Conv / Gemm-like nodes: int8 weights with their scale(s) and zero point, the int32 bias in
//! the accumulator's scale s_x · s_w, and the per-output-channel output stage M_c = s_x · s_w,c / s_y.

use tract_onnx::prelude::DatumType;

use super::graph::{attr_int, err_malformed, not_quantized, unsupported_attr, values};
use super::node::{Node, Output};
use crate::error::Result;
use crate::ir::{Multiplier, Requant};

/// int8 weights: values, shape, zero point, and one scale (per-tensor) or one per output channel.
pub(super) struct Weights {
    pub values: Vec<i32>,
    pub shape: Vec<usize>,
    pub zero_point: i32,
    pub scales: Vec<f32>,
}

impl Node<'_> {
    /// QDQ weights: input `i` is the DequantizeLinear of an int8 initializer of rank `rank`.
    pub fn dequantized_weights(&self, i: usize, rank: usize) -> Result<Weights> {
        let name = self.input(i);
        let dq = self
            .graph
            .node(name)
            .filter(|d| d.op_type == "DequantizeLinear")
            .ok_or_else(|| not_quantized(self.proto, format!("weights `{name}` are not an int8 DequantizeLinear")))?;
        let axis = attr_int(dq, "axis", 1) as usize;
        let [w, scale] = [0, 1].map(|i| dq.input.get(i).map_or("", String::as_str));
        self.int8_weights(w, scale, dq.input.get(2), axis, rank)
    }

    /// int8 weight initializer with its scale(s) and zero point. `channel_axis` is the axis per-channel scales run
    /// along (it must be the output channels: 0 for conv OIHW and Gemm's transB [N][K], 1 for MatMul's [K][N]).
    pub fn int8_weights(
        &self,
        name: &str,
        scale: &str,
        zero_point: Option<&String>,
        channel_axis: usize,
        rank: usize,
    ) -> Result<Weights> {
        let (g, n) = (self.graph, self.proto);
        let t = g.init(n, name)?;
        if !matches!(t.datum_type(), DatumType::I8 | DatumType::U8) {
            return Err(not_quantized(n, format!("weights of type {:?}", t.datum_type())));
        }
        let shape = t.shape().to_vec();
        if shape.len() != rank {
            return Err(err_malformed(n, format!("weights have rank {}, expected {rank}", shape.len())));
        }
        let w: Vec<i32> = g.ints(n, name)?.into_iter().map(|v| v as i32).collect();
        let scales: Vec<f32> = values::<f32>(g.init(n, scale)?).map_err(|e| err_malformed(n, e))?;
        let zps = match zero_point.filter(|s| !s.is_empty()) {
            Some(z) => g.ints(n, z)?,
            None => vec![0],
        };
        let z0 = *zps.first().ok_or_else(|| err_malformed(n, "an empty weight zero point"))?;
        if zps.iter().any(|&z| z != z0) {
            return Err(unsupported_attr(n, "per-channel weight zero points that differ"));
        }
        if scales.is_empty() || scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(err_malformed(n, format!("weight scales `{scale}` must be positive numbers")));
        }
        if scales.len() != 1 && (channel_axis >= rank || scales.len() != shape[channel_axis]) {
            return Err(unsupported_attr(n, "per-channel weight scales on an axis other than the output channels"));
        }
        // One scale (per-tensor) or one per output channel; callers expand the former.
        Ok(Weights {
            values: w,
            shape,
            zero_point: z0 as i32,
            scales,
        })
    }

    /// int32 bias in the accumulator's scale (s_x · s_w per channel): from a DequantizeLinear, an int32 initializer
    /// (QLinearConv), or a float initializer quantized here. No input: zeros.
    pub fn bias(&self, name: Option<&String>, len: usize, sx: f32, sw: &[f32]) -> Result<Vec<i64>> {
        let (g, n) = (self.graph, self.proto);
        let Some(name) = name.filter(|s| !s.is_empty()) else {
            return Ok(vec![0; len]);
        };
        if let Some(dq) = g.node(name).filter(|d| d.op_type == "DequantizeLinear") {
            let v = g.ints(dq, dq.input.first().map_or("", String::as_str))?;
            if v.len() != len {
                return Err(err_malformed(n, format!("bias has {} values, expected {len}", v.len())));
            }
            return Ok(v);
        }
        let t = g.init(n, name)?;
        if t.datum_type() == DatumType::I32 {
            // QLinearConv's B: already int32 in the accumulator's scale.
            let v = g.ints(n, name)?;
            if v.len() != len {
                return Err(err_malformed(n, format!("bias has {} values, expected {len}", v.len())));
            }
            return Ok(v);
        }
        let f = values::<f32>(t).map_err(|e| err_malformed(n, e))?;
        if f.len() != len {
            return Err(err_malformed(n, format!("bias has {} values, expected {len}", f.len())));
        }
        Ok(f.iter().zip(sw).map(|(&b, &s)| (b as f64 / (sx as f64 * s as f64)).round() as i64).collect())
    }

    /// One output stage per output channel: M_c = s_x · s_w,c / s_y.
    pub fn per_channel_requant(&self, sx: f32, w_scales: &[f32], y: &Output) -> Vec<Requant> {
        w_scales
            .iter()
            .map(|&sw| Requant {
                multiplier: Multiplier::new(sx as f64 * sw as f64 / y.q.scale as f64, self.bits),
                out: y.q,
                lo: y.lo,
                hi: y.hi,
            })
            .collect()
    }
}

/// One scale per output channel: a per-tensor scale repeated `channels` times.
pub(super) fn per_channel(scales: Vec<f32>, channels: usize) -> Vec<f32> {
    if scales.len() == 1 {
        vec![scales[0]; channels]
    } else {
        scales
    }
}
