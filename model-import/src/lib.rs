//! ONNX (tract-onnx) → quantized model IR and the integer reference executor.
//!
//! Nothing lives here yet: the importer arrives with the ONNX import issue.
