//! Elementwise Mul of two activations (squeeze-and-excite): p = (a − z_a)·(b − z_b) by the dot gate — terms that
//! share the same b (a broadcast operand) share one row, up to `dot_m` per row — then one requantisation unit per
//! element with the layer's (committed) multiplier.

use zkinfer_import::ir::{self, Op, QuantModel, Requant};
use zkinfer_import::reference::broadcast_pair;

use super::layer::{Layer, WeightCells, Weights};
use crate::error::Result;
use crate::gadgets::dot;
use crate::gadgets::requant::{self, Unit};
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

pub struct Mul<'a> {
    name: &'a str,
    denominator_bits: u32,
    za: i64,
    zb: i64,
    /// Per output element: the element of a and of b it multiplies.
    ia: Vec<usize>,
    ib: Vec<usize>,
    requant: &'a Requant,
}

impl<'a> Mul<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let Op::Mul { requant } = &node.op else { unreachable!("registered for Op::Mul") };
        let (ia, ib) = broadcast_pair(model, node);
        Mul {
            name: &node.name,
            denominator_bits: model.denominator_bits,
            za: model.tensors[node.inputs[0]].q.zero_point as i64,
            zb: model.tensors[node.inputs[1]].q.zero_point as i64,
            ia,
            ib,
            requant,
        }
    }

    /// Output elements grouped into dot rows: consecutive elements reading the same b, at most m per row.
    fn groups(&self, m: usize) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=self.ib.len() {
            if i == self.ib.len() || self.ib[i] != self.ib[start] || i - start == m {
                out.push(start..i);
                start = i;
            }
        }
        out
    }
}

impl Layer for Mul<'_> {
    fn rows(&self, s: &Shape) -> usize {
        self.dot_rows(s.dot_n, s.dot_m) + requant::rows(self.ia.len(), s.units)
    }

    fn dot_rows(&self, _n: usize, m: usize) -> usize {
        self.groups(m).len()
    }

    fn clamps(&self) -> Vec<(i32, i32)> {
        vec![(self.requant.lo, self.requant.hi)]
    }

    fn weights(&self) -> Option<Weights<'_>> {
        Some(Weights { weights: &[], bias: &[], multipliers: vec![self.requant.multiplier.a] })
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], params: &WeightCells) -> Result<Vec<Wire>> {
        let (a, b) = (inputs[0], inputs[1]);
        let m = lay.cols.shape.dot_m;
        let mut products = Vec::with_capacity(self.ia.len());
        for g in self.groups(m) {
            // The shared operand is b's element; each group of the dot gate is one a element.
            let ts: Vec<Vec<Wire>> = g.clone().map(|i| vec![a[self.ia[i]]]).collect();
            products.extend(dot::assign(lay, &[b[self.ib[g.start]]], &ts, self.zb, self.za)?);
        }
        let zero = lay.constant(0)?;
        let units: Vec<Unit> = products
            .into_iter()
            .map(|p| Unit::single(p, 0, params.multipliers[0], zero, self.requant, self.denominator_bits))
            .collect();
        requant::assign(lay, self.name, &units)
    }
}
