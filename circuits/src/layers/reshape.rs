//! Rewiring layers — no rows, no constraints, only cells passed on: Reshape / Flatten (the same cells in the same
//! row-major order under a new shape), Slice (a range of channels) and Concat (the inputs' channels in order).

use super::layer::{Layer, WeightCells};
use crate::error::Result;
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

pub struct Reshape;

impl Layer for Reshape {
    fn rows(&self, _: &Shape) -> usize {
        0
    }

    fn assign(&self, _: &mut RowLayouter, inputs: &[&[Wire]], _: &WeightCells) -> Result<Vec<Wire>> {
        Ok(inputs[0].to_vec())
    }
}

/// Channels start..end of an NCHW (or N×C) tensor; `plane` cells per channel.
pub struct Slice {
    pub start: usize,
    pub end: usize,
    pub plane: usize,
}

impl Layer for Slice {
    fn rows(&self, _: &Shape) -> usize {
        0
    }

    fn assign(&self, _: &mut RowLayouter, inputs: &[&[Wire]], _: &WeightCells) -> Result<Vec<Wire>> {
        Ok(inputs[0][self.start * self.plane..self.end * self.plane].to_vec())
    }
}

/// The inputs' cells one after the other (channel concatenation of NCHW tensors with batch 1).
pub struct Concat;

impl Layer for Concat {
    fn rows(&self, _: &Shape) -> usize {
        0
    }

    fn assign(&self, _: &mut RowLayouter, inputs: &[&[Wire]], _: &WeightCells) -> Result<Vec<Wire>> {
        Ok(inputs.iter().flat_map(|x| x.iter().copied()).collect())
    }
}
