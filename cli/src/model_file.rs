//! Loading an ONNX model for a command: existence check, digest, import with a clear error, and the memory check
//! that refuses work the machine cannot hold.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use zkinfer_import::QuantModel;

use crate::encoding::digest_file;

pub struct LoadedModel {
    pub model: Arc<QuantModel>,
    pub blake2b: String,
    pub file: String,
}

pub fn load(path: &Path) -> Result<LoadedModel> {
    if !path.is_file() {
        bail!("model file {} does not exist", path.display());
    }
    let blake2b = digest_file(path)?;
    let model = zkinfer_import::import(path).with_context(|| format!("cannot import {}", path.display()))?;
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(LoadedModel { model: Arc::new(model), blake2b, file })
}

/// Physical memory available to this process: the smallest of MemTotal, the cgroup limit and `$ZKINFER_MEMORY_GIB`.
pub fn machine_memory() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .and_then(|s| s.trim().parse::<u64>().ok());
    // A user-set cap (GiB), e.g. to leave room for other work or to rehearse a smaller machine.
    let cap = std::env::var(MEMORY_CAP_ENV).ok().and_then(|v| v.trim().parse::<f64>().ok()).filter(|g| *g > 0.0);
    [total, cgroup, cap.map(|g| (g * (1u64 << 30) as f64) as u64)].into_iter().flatten().min()
}

/// Environment variable capping the memory the checks assume this machine has, in GiB.
pub const MEMORY_CAP_ENV: &str = "ZKINFER_MEMORY_GIB";

pub fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// Refuses `what` when its estimated peak memory exceeds the machine's, unless `force`.
pub fn check_memory(what: &str, estimate: u64, force: bool) -> Result<()> {
    let Some(have) = machine_memory() else { return Ok(()) };
    if estimate > have && !force {
        bail!(
            "{what} needs an estimated {:.1} GiB of memory, this machine has {:.1} GiB; refusing before any heavy \
             work (pass --force to try anyway)",
            gib(estimate),
            gib(have)
        );
    }
    Ok(())
}
