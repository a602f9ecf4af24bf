//! Pad: constant zero padding of H and W. No rows, only a new arrangement of existing cells; the padding cells are
//! the zero-point constant.

use zkinfer_import::ir::{self, Op, QuantModel, TensorInfo};

use super::layer::{Layer, WeightCells};
use crate::error::Result;
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

pub struct Pad<'a> {
    x: &'a TensorInfo,
    out: &'a [usize],
    /// top, left, bottom, right
    pads: [usize; 4],
}

impl<'a> Pad<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let Op::Pad { pads } = &node.op else { unreachable!("registered for Op::Pad") };
        Pad { x: &model.tensors[node.inputs[0]], out: &model.tensors[node.output].shape, pads: *pads }
    }
}

impl Layer for Pad<'_> {
    fn rows(&self, _: &Shape) -> usize {
        0
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], _: &WeightCells) -> Result<Vec<Wire>> {
        let x = inputs[0];
        let (c, h, w) = (self.x.shape[1], self.x.shape[2], self.x.shape[3]);
        let (oh, ow) = (self.out[2], self.out[3]);
        let z = lay.constant(self.x.q.zero_point as i64)?;
        let mut y = vec![z; c * oh * ow];
        for ch in 0..c {
            for iy in 0..h {
                for ix in 0..w {
                    y[(ch * oh + iy + self.pads[0]) * ow + ix + self.pads[1]] = x[(ch * h + iy) * w + ix];
                }
            }
        }
        Ok(y)
    }
}
