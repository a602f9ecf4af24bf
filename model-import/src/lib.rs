//! ONNX → quantized model IR + integer reference executor.
//!
//! [`import`] reads an int8 ONNX model, QDQ or QOperator format (onnxruntime `quantize_static`), with tract-onnx's
//! parser into a [`ir::QuantModel`]: integer weights and biases, zero points, and fixed-point multipliers a/b with
//! one shared denominator b. [`reference::run`] executes it with exactly the integer arithmetic the circuits prove.

pub mod error;
pub mod ir;
pub mod npy;
pub mod onnx;
pub mod reference;
pub mod split;
pub mod tract_run;

pub use error::{ImportError, Result};
pub use ir::QuantModel;

/// Default shared denominator: b = 2^24 (multiplier relative error below 1e-5 for typical conv scales).
pub const DEFAULT_DENOMINATOR_BITS: u32 = 24;

/// Imports an int8 ONNX file (QDQ or QOperator) with the default shared denominator.
pub fn import(path: impl AsRef<std::path::Path>) -> Result<QuantModel> {
    onnx::import(path.as_ref(), DEFAULT_DENOMINATOR_BITS)
}
