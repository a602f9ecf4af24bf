//! Residual Add: y = clamp(floor((a_p·(p − zp) + a_q·(q − zq) + b/2) / b) + z) — one requantisation unit per
//! element with both activations as inputs (broadcast: a repeated element is the same cell); the two multipliers
//! are the layer's (committed) weights.

use zkinfer_import::ir::{self, Op, QuantModel};
use zkinfer_import::reference::broadcast_pair;

use super::layer::{Layer, WeightCells, Weights};
use crate::error::Result;
use crate::gadgets::requant::{self, Unit};
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

pub struct Add<'a> {
    name: &'a str,
    /// Per output element: the element of each input it adds.
    ip: Vec<usize>,
    iq: Vec<usize>,
    /// Multipliers of the two inputs.
    ap: i64,
    aq: i64,
    /// Zero points of the two inputs.
    zp: i64,
    zq: i64,
    k: i128,
    lo: i32,
    hi: i32,
}

impl<'a> Add<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let Op::Add { a_multiplier, b_multiplier, out, lo, hi } = &node.op else { unreachable!("registered for Op::Add") };
        let (ip, iq) = broadcast_pair(model, node);
        Add {
            name: &node.name,
            ip,
            iq,
            ap: a_multiplier.a,
            aq: b_multiplier.a,
            zp: model.tensors[node.inputs[0]].q.zero_point as i64,
            zq: model.tensors[node.inputs[1]].q.zero_point as i64,
            k: requant::offset(out.zero_point, model.denominator_bits),
            lo: *lo,
            hi: *hi,
        }
    }
}

impl Layer for Add<'_> {
    fn rows(&self, s: &Shape) -> usize {
        requant::rows(self.ip.len(), s.units)
    }

    fn clamps(&self) -> Vec<(i32, i32)> {
        vec![(self.lo, self.hi)]
    }

    fn weights(&self) -> Option<Weights<'_>> {
        Some(Weights { weights: &[], bias: &[], multipliers: vec![self.ap, self.aq] })
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], params: &WeightCells) -> Result<Vec<Wire>> {
        let (p, q) = (inputs[0], inputs[1]);
        let (a1, a2) = (params.multipliers[0], params.multipliers[1]);
        let units: Vec<_> = self
            .ip
            .iter()
            .zip(&self.iq)
            .map(|(&i, &j)| Unit { x1: p[i], x2: q[j], a1, a2, z1: self.zp, z2: self.zq, k: self.k, lo: self.lo, hi: self.hi })
            .collect();
        requant::assign(lay, self.name, &units)
    }
}
