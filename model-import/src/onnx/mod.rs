//! ONNX → IR importer over the raw ONNX proto (tract-onnx's parser). QDQ format: every compute node reads
//! activations through `DequantizeLinear(QuantizeLinear(..))` and constant weights through
//! `DequantizeLinear(initializer)`, and its result goes (optionally through Relu / Clip) into one `QuantizeLinear`,
//! which defines the int8 output tensor. QOperator format: QLinearConv / QLinearMatMul carry it in their inputs.
//!
//! `walk` visits the nodes and dispatches on op_type; one handler function per ONNX op, one file per op family.
//! Adding an op: its handler (`fn(&Node) -> Result<Imported>`) and one line in `walk::OPS`.

mod graph;
mod node;
mod walk;
mod weights;

mod activation;
mod add;
mod concat;
mod conv;
mod gemm;
mod mul;
mod pad;
mod pool;
mod reshape;

pub use walk::import;
