//! Peak resident memory of this process per benchmark phase: Linux keeps the high-water mark in `VmHWM`, and
//! writing `5` to `/proc/self/clear_refs` resets it, so each phase can be measured on its own in one process.

/// Resets the high-water mark to the current RSS. Returns false where the kernel does not allow it (the next
/// reading then covers the whole process so far).
pub fn reset() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The high-water mark of resident memory since the last [`reset`], bytes (None off Linux).
pub fn peak() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
