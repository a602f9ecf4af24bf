//! Engine selection by name (`auto`, `cpu`, `cuda`), with a one-line reason whenever `auto` falls back to the CPU.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::{cpu::CpuEngine, Engine, EngineError, Result};

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// The fastest engine that works on this machine.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(EngineKind::Auto),
            "cpu" => Ok(EngineKind::Cpu),
            "cuda" | "gpu" => Ok(EngineKind::Cuda),
            other => Err(format!("unknown engine `{other}` (expected auto, cpu or cuda)")),
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EngineKind::Auto => "auto",
            EngineKind::Cpu => "cpu",
            EngineKind::Cuda => "cuda",
        })
    }
}

/// The CUDA engine, or why it cannot be used in this build (no `cuda` feature) or on this machine.
fn cuda_engine() -> std::result::Result<Arc<dyn Engine>, String> {
    match super::cuda::CudaEngine::new() {
        Ok(e) => Ok(Arc::new(e)),
        Err(EngineError::Unavailable { reason, .. }) => Err(reason),
        Err(e) => Err(e.to_string()),
    }
}

/// Returns the engine for `kind`. `Auto` never fails: it uses the CUDA engine when the driver, a device and the
/// kernels (NVRTC compile) are all available, and otherwise the CPU engine with one warning line saying why. An
/// explicit `Cuda` request that cannot be met is an `Unavailable` error with the reason.
pub fn select_engine(kind: EngineKind) -> Result<Arc<dyn Engine>> {
    match kind {
        EngineKind::Cpu => Ok(Arc::new(CpuEngine::new())),
        EngineKind::Auto => match cuda_engine() {
            Ok(e) => Ok(e),
            Err(reason) => {
                tracing::warn!("engine auto: using the CPU engine: {reason}");
                Ok(Arc::new(CpuEngine::new()))
            }
        },
        EngineKind::Cuda => cuda_engine().map_err(|reason| EngineError::Unavailable {
            op: "select_engine",
            engine: "cuda",
            reason,
        }),
    }
}
