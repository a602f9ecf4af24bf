//! Residual Add: y = clamp(floor((a_p·(p − zp) + a_q·(q − zq) + b/2) / b) + z) — one requantisation unit per
//! element with both activations as inputs and the zero points folded into K.

use zkinfer_import::ir::{self, Op, QuantModel};

use super::layer::{Layer, WeightCells};
use crate::error::Result;
use crate::gadgets::requant::{self, Unit};
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

pub struct Add<'a> {
    name: &'a str,
    outs: usize,
    /// Multipliers of the two inputs.
    ap: i64,
    aq: i64,
    k: i128,
    lo: i32,
    hi: i32,
}

impl<'a> Add<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let Op::Add { a_multiplier, b_multiplier, out, lo, hi } = &node.op else { unreachable!("registered for Op::Add") };
        let zp = model.tensors[node.inputs[0]].q.zero_point as i128;
        let zq = model.tensors[node.inputs[1]].q.zero_point as i128;
        let b = 1i128 << model.denominator_bits;
        let (ap, aq) = (a_multiplier.a, b_multiplier.a);
        let k = b / 2 + out.zero_point as i128 * b - ap as i128 * zp - aq as i128 * zq;
        Add { name: &node.name, outs: model.tensors[node.output].shape.iter().product(), ap, aq, k, lo: *lo, hi: *hi }
    }
}

impl Layer for Add<'_> {
    fn rows(&self, s: &Shape) -> usize {
        requant::rows(self.outs, s.units)
    }

    fn clamps(&self) -> Vec<(i32, i32)> {
        vec![(self.lo, self.hi)]
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], _: &WeightCells) -> Result<Vec<Wire>> {
        let (p, q) = (inputs[0], inputs[1]);
        let units: Vec<_> = p
            .iter()
            .zip(q)
            .map(|(x1, x2)| Unit { x1: *x1, x2: *x2, a1: self.ap, a2: self.aq, k: self.k, lo: self.lo, hi: self.hi })
            .collect();
        requant::assign(lay, self.name, &units)
    }
}
