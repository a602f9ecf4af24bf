//! Import errors. Every error about the model names the node (or tensor) and the op involved.

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read ONNX file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("node `{node}` ({op}): operator domain `{domain}` is not supported (only the default ONNX domain, and onnxruntime's com.microsoft QOperator ops QGemm, QLinearAdd, QLinearMul, QLinearConcat, QLinearGlobalAveragePool, QLinearAveragePool, QLinearSigmoid, QLinearLeakyRelu)")]
    UnsupportedDomain { node: String, op: String, domain: String },
    #[error("node `{node}` ({op}): unsupported operator")]
    UnsupportedOp { node: String, op: String },
    #[error("node `{node}` ({op}): unsupported attribute: {detail}")]
    UnsupportedAttribute { node: String, op: String, detail: String },
    #[error("node `{node}` ({op}): not quantized: {detail} (zkinfer imports int8 QDQ or QLinear models; quantize it with onnxruntime's quantize_static first)")]
    NotQuantized { node: String, op: String, detail: String },
    #[error("input `{name}`: {detail}")]
    BadInputSpec { name: String, detail: String },
    #[error("node `{node}` ({op}): {detail}")]
    Malformed { node: String, op: String, detail: String },
    #[error("input tensor: {0}")]
    BadInput(String),
}

pub type Result<T> = std::result::Result<T, ImportError>;
