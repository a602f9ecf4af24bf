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

/// Why a GPU engine cannot be used in this build or on this machine.
fn cuda_unavailable_reason() -> String {
    "this build has no CUDA engine (it lands with the CUDA engine issue; rebuild with `--features cuda` then)".into()
}

/// Returns the engine for `kind`. `Auto` never fails: it falls back to the CPU engine and logs one warning line
/// saying why. An explicit `Cuda` request that cannot be met is an error.
pub fn select_engine(kind: EngineKind) -> Result<Arc<dyn Engine>> {
    match kind {
        EngineKind::Cpu => Ok(Arc::new(CpuEngine::new())),
        EngineKind::Auto => {
            tracing::warn!("engine auto: using the CPU engine: {}", cuda_unavailable_reason());
            Ok(Arc::new(CpuEngine::new()))
        }
        EngineKind::Cuda => Err(EngineError::Unavailable {
            op: "select_engine",
            engine: "cuda",
            reason: cuda_unavailable_reason(),
        }),
    }
}
