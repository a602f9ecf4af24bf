//! ONNX → IR importer over the raw ONNX proto (tract-onnx's parser). QDQ format: every compute node reads
//! activations through `DequantizeLinear(QuantizeLinear(..))` and constant weights through
//! `DequantizeLinear(initializer)`, and its result goes (optionally through Relu / Clip) into one `QuantizeLinear`,
//! which defines the int8 output tensor. QOperator format: int8 tensors flow straight between QLinearConv,
//! QLinearMatMul and onnxruntime's com.microsoft QGemm, QLinearAdd, QLinearMul, QLinearConcat,
//! QLinearGlobalAveragePool, QLinearAveragePool, QLinearSigmoid and QLinearLeakyRelu, which carry the quantization
//! in their inputs, and data movement (MaxPool, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Pad) applies to
//! the int8 tensors; ops with no QLinear form are float islands between a DequantizeLinear and a QuantizeLinear.
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
