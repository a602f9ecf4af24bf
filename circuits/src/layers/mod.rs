//! Layers: one file per IR op, each implementing [`Layer`] (its rows, its layout, what it reads from the op).
//! [`of`] is the one registry: adding an op is a new file here plus its `mod` line and its arm in [`of`].

pub mod add;
pub mod conv;
pub mod gemm;
pub mod layer;
pub mod lookup;
pub mod max_pool;
pub mod mul;
pub mod pad;
pub mod pool;
pub mod reshape;
pub mod window;

use zkinfer_import::ir::{self, Op, QuantModel};

pub use layer::{Layer, WeightCells, Weights};

/// The circuit layer of an IR layer of `model`.
pub fn of<'a>(node: &'a ir::Layer, model: &'a QuantModel) -> Box<dyn Layer + 'a> {
    match &node.op {
        Op::Conv { .. } => Box::new(conv::Conv::new(node, model)),
        Op::Gemm { .. } => Box::new(gemm::Gemm::new(node, model)),
        Op::Add { .. } => Box::new(add::Add::new(node, model)),
        Op::GlobalAveragePool { .. } | Op::AveragePool { .. } => Box::new(pool::Pool::new(node, model)),
        Op::Pad { .. } => Box::new(pad::Pad::new(node, model)),
        Op::Reshape => Box::new(reshape::Reshape),
        Op::Slice { start, end } => Box::new(reshape::Slice {
            start: *start,
            end: *end,
            plane: model.tensors[node.inputs[0]].shape[2..].iter().product(),
        }),
        Op::Concat { .. } => Box::new(reshape::Concat::new(node, model)),
        Op::Transpose { perm } => Box::new(reshape::Transpose::new(&model.tensors[node.inputs[0]].shape, perm)),
        Op::Mul { .. } => Box::new(mul::Mul::new(node, model)),
        Op::Lookup { .. } => Box::new(lookup::Lookup::new(node, model)),
        Op::MaxPool { .. } => Box::new(max_pool::MaxPool::new(node, model)),
    }
}

/// The circuit layers of every IR layer of `model`, in order.
pub fn all(model: &QuantModel) -> Vec<Box<dyn Layer + '_>> {
    model.layers.iter().map(|l| of(l, model)).collect()
}
