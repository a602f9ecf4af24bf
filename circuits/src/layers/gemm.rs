//! Fully connected (Gemm / MatMul): y = requant(x · Wᵀ + bias). The input vector is the shared operand across `m`
//! output features.

use zkinfer_import::ir::{self, Op, QuantModel, Requant};

use super::layer::{Layer, WeightCells, Weights};
use crate::error::Result;
use crate::gadgets::dot;
use crate::gadgets::requant::{self, Unit};
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

pub struct Gemm<'a> {
    name: &'a str,
    denominator_bits: u32,
    zx: i64,
    outs: usize,
    weights: &'a [i32],
    bias: &'a [i64],
    out_features: usize,
    in_features: usize,
    weight_zero_point: i32,
    requant: &'a [Requant],
}

impl<'a> Gemm<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let Op::Gemm { weights, out_features, in_features, weight_zero_point, bias, requant } = &node.op else {
            unreachable!("registered for Op::Gemm")
        };
        Gemm {
            name: &node.name,
            denominator_bits: model.denominator_bits,
            zx: model.tensors[node.inputs[0]].q.zero_point as i64,
            outs: model.tensors[node.output].shape.iter().product(),
            weights,
            bias,
            out_features: *out_features,
            in_features: *in_features,
            weight_zero_point: *weight_zero_point,
            requant,
        }
    }
}

impl Layer for Gemm<'_> {
    fn rows(&self, s: &Shape) -> usize {
        self.dot_rows(s.dot_n, s.dot_m) + requant::rows(self.outs, s.units)
    }

    fn dot_rows(&self, n: usize, m: usize) -> usize {
        self.out_features.div_ceil(m) * dot::rows(self.in_features, n)
    }

    fn clamps(&self) -> Vec<(i32, i32)> {
        self.requant.iter().map(|r| (r.lo, r.hi)).collect()
    }

    fn weights(&self) -> Option<Weights<'_>> {
        Some(Weights { weights: self.weights, bias: self.bias, multipliers: self.requant.iter().map(|r| r.multiplier.a).collect() })
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], params: &WeightCells) -> Result<Vec<Wire>> {
        let (x, w, bias, mult) = (inputs[0], params.weights, params.bias, params.multipliers);
        let (outf, inf) = (self.out_features, self.in_features);
        let zw = self.weight_zero_point as i64;
        let m = lay.cols.shape.dot_m;
        let mut acc = Vec::with_capacity(outf);
        for o0 in (0..outf).step_by(m) {
            let ts: Vec<Vec<Wire>> = (o0..(o0 + m).min(outf)).map(|o| w[o * inf..(o + 1) * inf].to_vec()).collect();
            acc.extend(dot::assign(lay, x, &ts, self.zx, zw)?);
        }
        let bits = self.denominator_bits;
        let units: Vec<_> =
            acc.into_iter().enumerate().map(|(o, a)| Unit::linear(a, bias[o], mult[o], &self.requant[o], bits)).collect();
        requant::assign(lay, self.name, &units)
    }
}
