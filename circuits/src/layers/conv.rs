//! Conv2D chip: standard (groups = 1, including pointwise 1×1) and depthwise (groups = channels) convolutions with
//! stride and zero padding. Each output is a dot product over its receptive field (padding taps are the input zero
//! point, so they add nothing); the shared operand is the output channel's weights across `m` pixels, or — for
//! groups = 1 when cheaper — one pixel's patch across `m` output channels. Then bias add + requant per output.

use zkinfer_import::ir::{Layer, Op, QuantModel};

use super::{linear_unit, window};
use crate::error::{CircuitError, Result};
use crate::gadgets::{div_clip, dot};
use crate::shape::dot_plan;
use crate::sheet::{Sheet, Wire};

pub fn assign(sheet: &mut Sheet, model: &QuantModel, layer: &Layer, x: &[Wire], w: &[Wire], bias: &[Wire]) -> Result<Vec<Wire>> {
    let Op::Conv { weight_shape, weight_zero_point, stride, pads, groups, requant, .. } = &layer.op else {
        unreachable!()
    };
    let [co, cig, kh, kw] = *weight_shape;
    let xi = &model.tensors[layer.inputs[0]];
    let (ci, h, wd) = (xi.shape[1], xi.shape[2], xi.shape[3]);
    let out = &model.tensors[layer.output].shape;
    let (oh, ow) = (out[2], out[3]);
    if !(*groups == 1 || (*groups == ci && cig == 1 && co == ci)) {
        return Err(CircuitError::Unsupported { layer: layer.name.clone(), what: format!("groups = {groups} (only 1 or depthwise)") });
    }
    let zx = xi.q.zero_point as i64;
    let zw = *weight_zero_point as i64;
    let pad_x = sheet.konst(zx)?;
    let co_g = co / groups;
    // The receptive field of output (group g, pixel) as input cells, in the weights' (icg, ky, kx) order.
    let patch = |g: usize, p: usize| -> Vec<Wire> {
        let mut v = Vec::with_capacity(cig * kh * kw);
        for icg in 0..cig {
            let ic = g * cig + icg;
            window(&x[ic * h * wd..(ic + 1) * h * wd], (h, wd), (p / ow, p % ow), [kh, kw], *stride, *pads, pad_x, &mut v);
        }
        v
    };
    let taps = cig * kh * kw;
    let wrow = |oc: usize| w[oc * taps..(oc + 1) * taps].to_vec();
    let (m, pixels) = (sheet.cfg.shape.dot_m, oh * ow);
    let mut acc = vec![None; co * pixels];
    let (_, share_w) = dot_plan(&layer.op, out, sheet.cfg.shape.dot_n, m);
    if share_w {
        // Every output channel of a group reads the same patches: build them once per group.
        let mut patches: Vec<Vec<Wire>> = Vec::new();
        for oc in 0..co {
            if oc % co_g == 0 {
                patches = (0..pixels).map(|p| patch(oc / co_g, p)).collect();
            }
            let s = wrow(oc);
            for p0 in (0..pixels).step_by(m) {
                let ts: Vec<Vec<Wire>> = patches[p0..(p0 + m).min(pixels)].to_vec();
                for (j, a) in dot::assign(sheet, &s, &ts, zw, zx)?.into_iter().enumerate() {
                    acc[oc * pixels + p0 + j] = Some(a);
                }
            }
        }
    } else {
        for p in 0..pixels {
            let s = patch(0, p);
            for o0 in (0..co).step_by(m) {
                let ts: Vec<Vec<Wire>> = (o0..(o0 + m).min(co)).map(wrow).collect();
                for (j, a) in dot::assign(sheet, &s, &ts, zx, zw)?.into_iter().enumerate() {
                    acc[(o0 + j) * pixels + p] = Some(a);
                }
            }
        }
    }
    let bits = model.denominator_bits;
    let units: Vec<_> =
        acc.into_iter().enumerate().map(|(i, a)| linear_unit(a.unwrap(), bias[i / pixels], &requant[i / pixels], bits)).collect();
    div_clip::assign(sheet, &layer.name, &units)
}
