//! Fully connected chip (Gemm / MatMul): y = requant(x · Wᵀ + bias). The input vector is the shared operand across
//! `m` output features.

use zkinfer_import::ir::{Layer, Op, QuantModel};

use super::linear_unit;
use crate::error::Result;
use crate::gadgets::{div_clip, dot};
use crate::sheet::{Sheet, Wire};

pub fn assign(sheet: &mut Sheet, model: &QuantModel, layer: &Layer, x: &[Wire], w: &[Wire], bias: &[Wire]) -> Result<Vec<Wire>> {
    let Op::Gemm { out_features, in_features, weight_zero_point, requant, .. } = &layer.op else { unreachable!() };
    let zx = model.tensors[layer.inputs[0]].q.zero_point as i64;
    let zw = *weight_zero_point as i64;
    let m = sheet.cfg.shape.dot_m;
    let mut acc = Vec::with_capacity(*out_features);
    for o0 in (0..*out_features).step_by(m) {
        let ts: Vec<Vec<Wire>> =
            (o0..(o0 + m).min(*out_features)).map(|o| w[o * in_features..(o + 1) * in_features].to_vec()).collect();
        acc.extend(dot::assign(sheet, x, &ts, zx, zw)?);
    }
    let bits = model.denominator_bits;
    let units: Vec<_> = acc.into_iter().enumerate().map(|(o, a)| linear_unit(a, bias[o], &requant[o], bits)).collect();
    div_clip::assign(sheet, &layer.name, &units)
}
