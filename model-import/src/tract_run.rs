//! tract's own execution of the same ONNX file (float QDQ semantics), the second oracle for the integer reference.

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::error::{ImportError, Result};

/// A model optimized and planned by tract for one fixed input shape.
pub struct TractModel {
    plan: Arc<TypedRunnableModel>,
    shape: Vec<usize>,
}

impl TractModel {
    pub fn load(path: &Path, shape: &[usize]) -> Result<Self> {
        let fail = |e: TractError| ImportError::Unreadable {
            path: path.display().to_string(),
            reason: format!("tract: {e:#}"),
        };
        let mut model = tract_onnx::onnx().model_for_path(path).map_err(fail)?;
        model.set_input_fact(0, f32::fact(shape).into()).map_err(fail)?;
        let plan = model.into_optimized().and_then(|m| m.into_runnable()).map_err(fail)?;
        Ok(TractModel {
            plan,
            shape: shape.to_vec(),
        })
    }

    /// The float outputs for one float input.
    pub fn run(&self, input: &[f32]) -> Result<Vec<f32>> {
        let fail = |e: TractError| ImportError::BadInput(format!("tract: {e:#}"));
        let t = Tensor::from_shape(&self.shape, input).map_err(fail)?;
        let out = self.plan.run(tvec![t.into_tvalue()]).map_err(fail)?;
        let view = out[0].to_plain_array_view::<f32>().map_err(fail)?;
        Ok(view.iter().copied().collect())
    }
}
