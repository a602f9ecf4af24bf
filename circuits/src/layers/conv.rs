//! Conv2D: standard (groups = 1, including pointwise 1×1) and depthwise (groups = channels) convolutions with
//! stride and zero padding. Each output is a dot product over its receptive field (padding taps are the input zero
//! point, so they add nothing); the shared operand is the output channel's weights across `m` pixels, or — for
//! groups = 1 when cheaper — one pixel's patch across `m` output channels. Then bias add + requant per output.

use zkinfer_import::ir::{self, Op, QuantModel, Requant, TensorInfo};

use super::layer::{Layer, WeightCells, Weights};
use super::window::window;
use crate::error::{CircuitError, Result};
use crate::gadgets::requant::{self, Unit};
use crate::gadgets::dot;
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

pub struct Conv<'a> {
    name: &'a str,
    denominator_bits: u32,
    x: &'a TensorInfo,
    out: &'a [usize],
    weights: &'a [i32],
    bias: &'a [i64],
    weight_shape: [usize; 4],
    weight_zero_point: i32,
    stride: [usize; 2],
    pads: [usize; 4],
    groups: usize,
    requant: &'a [Requant],
}

impl<'a> Conv<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let Op::Conv { weights, weight_shape, weight_zero_point, bias, stride, pads, groups, requant } = &node.op else {
            unreachable!("registered for Op::Conv")
        };
        Conv {
            name: &node.name,
            denominator_bits: model.denominator_bits,
            x: &model.tensors[node.inputs[0]],
            out: &model.tensors[node.output].shape,
            weights,
            bias,
            weight_shape: *weight_shape,
            weight_zero_point: *weight_zero_point,
            stride: *stride,
            pads: *pads,
            groups: *groups,
            requant,
        }
    }

    /// Dot-product rows at gate width (n, m) and whether the shared operand is the weights (true) or the input.
    fn dot_plan(&self, n: usize, m: usize) -> (usize, bool) {
        let [co, cig, kh, kw] = self.weight_shape;
        let k = dot::rows(cig * kh * kw, n);
        let p = self.out[2] * self.out[3];
        let share_w = co * p.div_ceil(m) * k;
        if self.groups == 1 {
            let share_x = p * co.div_ceil(m) * k;
            if share_x < share_w {
                return (share_x, false);
            }
        }
        (share_w, true)
    }
}

impl Layer for Conv<'_> {
    fn rows(&self, s: &Shape) -> usize {
        let outs: usize = self.out.iter().product();
        self.dot_plan(s.dot_n, s.dot_m).0 + requant::rows(outs, s.units)
    }

    fn dot_rows(&self, n: usize, m: usize) -> usize {
        self.dot_plan(n, m).0
    }

    fn clamps(&self) -> Vec<(i32, i32)> {
        self.requant.iter().map(|r| (r.lo, r.hi)).collect()
    }

    fn weights(&self) -> Option<Weights<'_>> {
        Some(Weights { weights: self.weights, bias: self.bias, multipliers: self.requant.iter().map(|r| r.multiplier.a).collect() })
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], params: &WeightCells) -> Result<Vec<Wire>> {
        let (x, w, bias, mult) = (inputs[0], params.weights, params.bias, params.multipliers);
        let [co, cig, kh, kw] = self.weight_shape;
        let (ci, h, wd) = (self.x.shape[1], self.x.shape[2], self.x.shape[3]);
        let (oh, ow) = (self.out[2], self.out[3]);
        let (groups, stride, pads) = (self.groups, self.stride, self.pads);
        if !(groups == 1 || (groups == ci && cig == 1 && co == ci)) {
            return Err(CircuitError::Unsupported { layer: self.name.to_string(), what: format!("groups = {groups} (only 1 or depthwise)") });
        }
        let zx = self.x.q.zero_point as i64;
        let zw = self.weight_zero_point as i64;
        let pad_x = lay.constant(zx)?;
        let co_g = co / groups;
        // The receptive field of output (group g, pixel) as input cells, in the weights' (icg, ky, kx) order.
        let patch = |g: usize, p: usize| -> Vec<Wire> {
            let mut v = Vec::with_capacity(cig * kh * kw);
            for icg in 0..cig {
                let ic = g * cig + icg;
                window(&x[ic * h * wd..(ic + 1) * h * wd], (h, wd), (p / ow, p % ow), [kh, kw], stride, pads, pad_x, &mut v);
            }
            v
        };
        let taps = cig * kh * kw;
        let wrow = |oc: usize| w[oc * taps..(oc + 1) * taps].to_vec();
        let (m, pixels) = (lay.cols.shape.dot_m, oh * ow);
        let mut acc = vec![None; co * pixels];
        let (_, share_w) = self.dot_plan(lay.cols.shape.dot_n, m);
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
                    for (j, a) in dot::assign(lay, &s, &ts, zw, zx)?.into_iter().enumerate() {
                        acc[oc * pixels + p0 + j] = Some(a);
                    }
                }
            }
        } else {
            for p in 0..pixels {
                let s = patch(0, p);
                for o0 in (0..co).step_by(m) {
                    let ts: Vec<Vec<Wire>> = (o0..(o0 + m).min(co)).map(wrow).collect();
                    for (j, a) in dot::assign(lay, &s, &ts, zx, zw)?.into_iter().enumerate() {
                        acc[(o0 + j) * pixels + p] = Some(a);
                    }
                }
            }
        }
        let bits = self.denominator_bits;
        let units: Vec<_> = acc
            .into_iter()
            .enumerate()
            .map(|(i, a)| Unit::linear(a.unwrap(), bias[i / pixels], mult[i / pixels], &self.requant[i / pixels], bits))
            .collect();
        requant::assign(lay, self.name, &units)
    }
}
