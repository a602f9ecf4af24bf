//! The [`Layer`] trait: what one IR op is in the circuit. Each layer file implements it for its op — its row count
//! (what the planner adds up), its layout, and what it reads from the IR (clamps, weights) — and `layers::of` maps
//! an IR layer to its implementation.

use crate::error::Result;
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

/// What a layer learned: int8 weights, int32 biases and the int32 requantisation multipliers a (of a/b).
pub struct Weights<'a> {
    pub weights: &'a [i32],
    pub bias: &'a [i64],
    pub multipliers: Vec<i64>,
}

/// The cells of a layer's weights, biases and multipliers (constants when public, store cells when hidden).
pub struct WeightCells<'a> {
    pub weights: &'a [Wire],
    pub bias: &'a [Wire],
    pub multipliers: &'a [Wire],
}

pub trait Layer {
    /// Rows the layer lays out for `shape` (exactly what [`Layer::assign`] allocates).
    fn rows(&self, shape: &Shape) -> usize;
    /// Dot-product rows for a dot gate of `n` terms × `m` groups; the planner picks the gate width that minimises
    /// their sum. Zero for layers without dot products.
    fn dot_rows(&self, _n: usize, _m: usize) -> usize {
        0
    }
    /// The (lo, hi) clamps its requantisation uses (each one a tag of the shared clip table).
    fn clamps(&self) -> Vec<(i32, i32)> {
        Vec::new()
    }
    /// The elementwise int8 functions it looks up (each a 256-row section of the shared table).
    fn functions(&self) -> Vec<Vec<i32>> {
        Vec::new()
    }
    /// Its weights, biases and multipliers, if it has any (part of the weights commitment, in layer order).
    fn weights(&self) -> Option<Weights<'_>> {
        None
    }
    /// Lays the layer out from its input tensors' cells; returns its output tensor's cells (values included, so the
    /// next layer's witness follows).
    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], weights: &WeightCells) -> Result<Vec<Wire>>;
}
