//! MaxPool: the window maximum as a chain of pairwise maxima, max(m, w) = m + relu(w − m), each step two
//! requantisation units whose multipliers are the exact constant b (so no rounding): u = w − m clamped to [0, 255]
//! (the relu, a row of the shared table's clamp section), then u = m + relu clamped to the int8 range. Padded taps
//! are the constant −128, which never exceeds a real cell (every window holds one: the importer checks).

use zkinfer_import::ir::{self, Op, QuantModel};

use super::layer::{Layer, WeightCells};
use super::window::window;
use crate::error::Result;
use crate::gadgets::requant::{self, Unit};
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

/// The relu clamp of a difference of two int8 values, and the int8 saturation.
const RELU: (i32, i32) = (0, 255);
const INT8: (i32, i32) = (-128, 127);

pub struct MaxPool<'a> {
    name: &'a str,
    x: &'a [usize],
    out: &'a [usize],
    kernel: [usize; 2],
    stride: [usize; 2],
    pads: [usize; 4],
}

impl<'a> MaxPool<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let Op::MaxPool { kernel, stride, pads } = &node.op else { unreachable!("registered for Op::MaxPool") };
        MaxPool {
            name: &node.name,
            x: &model.tensors[node.inputs[0]].shape,
            out: &model.tensors[node.output].shape,
            kernel: *kernel,
            stride: *stride,
            pads: *pads,
        }
    }

    fn outs(&self) -> usize {
        self.out.iter().product()
    }

    fn taps(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }
}

/// A unit computing clamp(a1·x1 + a2·x2, lo, hi) exactly: multipliers ±b, offset 0.
fn exact(x1: Wire, x2: Wire, a1: Wire, a2: Wire, (lo, hi): (i32, i32)) -> Unit {
    Unit { x1, x2, a1, a2, z1: 0, z2: 0, k: 0, lo, hi }
}

impl Layer for MaxPool<'_> {
    fn rows(&self, s: &Shape) -> usize {
        2 * (self.taps() - 1) * requant::rows(self.outs(), s.units)
    }

    fn clamps(&self) -> Vec<(i32, i32)> {
        vec![RELU, INT8]
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], _: &WeightCells) -> Result<Vec<Wire>> {
        let x = inputs[0];
        let (c, h, w) = (self.x[1], self.x[2], self.x[3]);
        let pad = lay.constant(-128)?;
        let bits = 8 * lay.cols.shape.limbs as u32;
        let plus_b = lay.constant(1i64 << bits)?;
        let minus_b = lay.constant(-(1i64 << bits))?;
        let mut windows = Vec::with_capacity(self.outs());
        for ch in 0..c {
            let plane = &x[ch * h * w..(ch + 1) * h * w];
            for oy in 0..self.out[2] {
                for ox in 0..self.out[3] {
                    let mut win = Vec::with_capacity(self.taps());
                    window(plane, (h, w), (oy, ox), self.kernel, self.stride, self.pads, pad, &mut win);
                    windows.push(win);
                }
            }
        }
        // Step t folds tap t into every window's running maximum.
        let mut best: Vec<Wire> = windows.iter().map(|win| win[0]).collect();
        for t in 1..self.taps() {
            let diffs: Vec<Unit> =
                windows.iter().zip(&best).map(|(win, m)| exact(win[t], *m, plus_b, minus_b, RELU)).collect();
            let relu = requant::assign(lay, self.name, &diffs)?;
            let sums: Vec<Unit> = best.iter().zip(&relu).map(|(m, r)| exact(*m, *r, plus_b, plus_b, INT8)).collect();
            best = requant::assign(lay, self.name, &sums)?;
        }
        Ok(best)
    }
}
