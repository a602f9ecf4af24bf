//! Rewiring layers — no constraints, only cells passed on: Reshape / Flatten (the same cells in the same
//! row-major order under a new shape), Transpose (the cells permuted), Slice (a range of channels) and Concat (the
//! inputs' channels in order; an input quantized differently from the output goes through one requantisation unit
//! per element first, the only rows these layers take).

use zkinfer_import::ir::{self, transpose_index, Op, QuantModel, Requant};

use super::layer::{Layer, WeightCells, Weights};
use crate::error::Result;
use crate::gadgets::requant::{self, Unit};
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

/// The cells in transposed order.
pub struct Transpose {
    /// Per output element, its input element.
    pub index: Vec<usize>,
}

impl Transpose {
    pub fn new(input_shape: &[usize], perm: &[usize]) -> Self {
        Transpose { index: transpose_index(input_shape, perm) }
    }
}

impl Layer for Transpose {
    fn rows(&self, _: &Shape) -> usize {
        0
    }

    fn assign(&self, _: &mut RowLayouter, inputs: &[&[Wire]], _: &WeightCells) -> Result<Vec<Wire>> {
        Ok(self.index.iter().map(|&i| inputs[0][i]).collect())
    }
}

/// The inputs' cells one after the other (channel concatenation of NCHW tensors with batch 1), the rescaled ones
/// through requantisation units.
pub struct Concat<'a> {
    name: &'a str,
    denominator_bits: u32,
    /// Per input: its element count, zero point and rescale (None: passed through).
    parts: Vec<(usize, i64, Option<&'a Requant>)>,
}

impl<'a> Concat<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let Op::Concat { rescale } = &node.op else { unreachable!("registered for Op::Concat") };
        let parts = node
            .inputs
            .iter()
            .zip(rescale)
            .map(|(&t, r)| (model.tensors[t].shape.iter().product(), model.tensors[t].q.zero_point as i64, r.as_ref()))
            .collect();
        Concat { name: &node.name, denominator_bits: model.denominator_bits, parts }
    }

    fn rescaled(&self) -> usize {
        self.parts.iter().filter(|p| p.2.is_some()).map(|p| p.0).sum()
    }
}

impl Layer for Concat<'_> {
    fn rows(&self, s: &Shape) -> usize {
        requant::rows(self.rescaled(), s.units)
    }

    fn clamps(&self) -> Vec<(i32, i32)> {
        self.parts.iter().filter_map(|p| p.2).map(|r| (r.lo, r.hi)).collect()
    }

    fn weights(&self) -> Option<Weights<'_>> {
        let multipliers: Vec<i64> = self.parts.iter().filter_map(|p| p.2).map(|r| r.multiplier.a).collect();
        (!multipliers.is_empty()).then_some(Weights { weights: &[], bias: &[], multipliers })
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], params: &WeightCells) -> Result<Vec<Wire>> {
        let zero = lay.constant(0)?;
        let mut units = Vec::with_capacity(self.rescaled());
        let mut mult = params.multipliers.iter();
        for (x, &(_, z, r)) in inputs.iter().zip(&self.parts) {
            if let Some(r) = r {
                let a = *mult.next().expect("one multiplier per rescaled input");
                units.extend(x.iter().map(|&xi| Unit::single(xi, z, a, zero, r, self.denominator_bits)));
            }
        }
        let mut rescaled = requant::assign(lay, self.name, &units)?.into_iter();
        Ok(inputs
            .iter()
            .zip(&self.parts)
            .flat_map(|(x, p)| match p.2 {
                Some(_) => rescaled.by_ref().take(x.len()).collect::<Vec<_>>(),
                None => x.to_vec(),
            })
            .collect())
    }
}
