//! Average pooling: GlobalAveragePool and AveragePool (zero-padded windows count as the zero point, i.e. add
//! nothing, matching count_include_pad). Each output is an adder sum of (x − zx) then one requantisation unit with
//! multiplier s_x / (s_y · window).

use zkinfer_import::ir::{self, Op, QuantModel, Requant, TensorInfo};

use super::layer::{Layer, WeightCells, Weights};
use super::window::window;
use crate::error::Result;
use crate::gadgets::adder;
use crate::gadgets::requant::{self, Unit};
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

/// A sliding window: kernel, stride, pads (top, left, bottom, right).
type Window = ([usize; 2], [usize; 2], [usize; 4]);

pub struct Pool<'a> {
    name: &'a str,
    denominator_bits: u32,
    x: &'a TensorInfo,
    out: &'a [usize],
    /// None: global (one window per channel, the whole plane).
    window: Option<Window>,
    requant: &'a Requant,
}

impl<'a> Pool<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let (window, requant) = match &node.op {
            Op::GlobalAveragePool { requant } => (None, requant),
            Op::AveragePool { kernel, stride, pads, requant } => (Some((*kernel, *stride, *pads)), requant),
            _ => unreachable!("registered for Op::GlobalAveragePool and Op::AveragePool"),
        };
        Pool {
            name: &node.name,
            denominator_bits: model.denominator_bits,
            x: &model.tensors[node.inputs[0]],
            out: &model.tensors[node.output].shape,
            window,
            requant,
        }
    }

    /// Cells summed per output.
    fn window_len(&self) -> usize {
        match self.window {
            None => self.x.shape[2] * self.x.shape[3],
            Some((kernel, ..)) => kernel[0] * kernel[1],
        }
    }
}

impl Layer for Pool<'_> {
    fn rows(&self, s: &Shape) -> usize {
        let outs: usize = self.out.iter().product();
        outs * adder::rows(self.window_len(), s.adder_width()) + requant::rows(outs, s.units)
    }

    fn clamps(&self) -> Vec<(i32, i32)> {
        vec![(self.requant.lo, self.requant.hi)]
    }

    fn weights(&self) -> Option<Weights<'_>> {
        Some(Weights { weights: &[], bias: &[], multipliers: vec![self.requant.multiplier.a] })
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], params: &WeightCells) -> Result<Vec<Wire>> {
        let x = inputs[0];
        let zx = self.x.q.zero_point as i64;
        let (c, h, w) = (self.x.shape[1], self.x.shape[2], self.x.shape[3]);
        let windows: Vec<Vec<Wire>> = match self.window {
            None => (0..c).map(|ch| x[ch * h * w..(ch + 1) * h * w].to_vec()).collect(),
            Some((kernel, stride, pads)) => {
                let pad = lay.constant(zx)?;
                let mut v = Vec::new();
                for ch in 0..c {
                    for oy in 0..self.out[2] {
                        for ox in 0..self.out[3] {
                            let mut win = Vec::new();
                            let plane = &x[ch * h * w..(ch + 1) * h * w];
                            window(plane, (h, w), (oy, ox), kernel, stride, pads, pad, &mut win);
                            v.push(win);
                        }
                    }
                }
                v
            }
        };
        let zero = lay.constant(0)?;
        let mut units = Vec::with_capacity(windows.len());
        for win in &windows {
            let sum = adder::assign(lay, win, zx)?;
            units.push(Unit::single(sum, 0, params.multipliers[0], zero, self.requant, self.denominator_bits));
        }
        requant::assign(lay, self.name, &units)
    }
}
