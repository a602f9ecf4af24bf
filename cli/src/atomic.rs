//! Output files appear whole or not at all: everything is written to a temporary sibling and renamed into place.
//! Temporaries are registered so that Ctrl-C (and any error) removes them; an existing output is only replaced by
//! the rename, so a failed or interrupted run never loses or truncates it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};

static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the Ctrl-C / SIGTERM handler: remove every registered temporary, exit 130.
pub fn install_interrupt_cleanup() {
    let _ = ctrlc::set_handler(|| {
        cleanup();
        eprintln!("\ninterrupted: no output files were written");
        std::process::exit(130);
    });
}

/// Removes every temporary still registered (files and staging directories).
pub fn cleanup() {
    let paths = std::mem::take(&mut *TEMPS.lock().unwrap_or_else(|e| e.into_inner()));
    for p in paths {
        if p.is_dir() {
            let _ = fs::remove_dir_all(&p);
        } else {
            let _ = fs::remove_file(&p);
        }
    }
}

/// Registers a temporary path for removal on Ctrl-C.
pub fn register_temp(p: &Path) {
    register(p)
}

/// Forgets a temporary registered with [`register_temp`].
pub fn unregister_temp(p: &Path) {
    unregister(p)
}

fn register(p: &Path) {
    TEMPS.lock().unwrap_or_else(|e| e.into_inner()).push(p.to_path_buf());
}

fn unregister(p: &Path) {
    TEMPS.lock().unwrap_or_else(|e| e.into_inner()).retain(|q| q != p);
}

/// A hidden temporary next to `target` (same directory, so the rename stays on one file system).
fn temp_sibling(target: &Path, what: &str) -> Result<PathBuf> {
    let name = target
        .file_name()
        .with_context(|| format!("output path {} has no file name", target.display()))?
        .to_string_lossy();
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        anyhow::bail!("output directory {} does not exist", dir.display());
    }
    Ok(dir.join(format!(".{name}.{what}-{}", std::process::id())))
}

/// Writes `bytes` to `target` atomically.
pub fn write(target: &Path, bytes: &[u8]) -> Result<()> {
    write_with(target, |f| f.write_all(bytes).map_err(Into::into))
}

/// Writes a private file (salts: it opens commitments) atomically, readable by its owner only (mode 0600) from
/// the moment it is created.
pub fn write_private(target: &Path, bytes: &[u8]) -> Result<()> {
    write_file(target, true, |f| f.write_all(bytes).map_err(Into::into))
}

/// Writes `target` atomically with a writer callback.
pub fn write_with(target: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    write_file(target, false, fill)
}

/// A new file, mode 0600 when `private` (the umask's default otherwise).
fn create(path: &Path, private: bool) -> std::io::Result<fs::File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

fn write_file(target: &Path, private: bool, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let tmp = temp_sibling(target, "partial")?;
    register(&tmp);
    let result = (|| -> Result<()> {
        let _ = fs::remove_file(&tmp);
        let file = create(&tmp, private).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, target).with_context(|| format!("cannot move the output into {}", target.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    unregister(&tmp);
    result.with_context(|| format!("writing {}", target.display()))
}

/// Creates the private file `target` (mode 0600) with `bytes` only if it does not exist yet, atomically (written
/// aside, then hard-linked into place, which fails when the name is taken): true when this call created it, false
/// when it already existed.
pub fn create_new_private(target: &Path, bytes: &[u8]) -> Result<bool> {
    let tmp = temp_sibling(target, "new")?;
    register(&tmp);
    let result = (|| -> Result<bool> {
        let _ = fs::remove_file(&tmp);
        let mut f = create(&tmp, true).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        match fs::hard_link(&tmp, target) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e).with_context(|| format!("cannot create {}", target.display())),
        }
    })();
    let _ = fs::remove_file(&tmp);
    unregister(&tmp);
    result
}

/// A directory filled in a staging sibling and swapped into place by [`StagedDir::commit`].
pub struct StagedDir {
    pub path: PathBuf,
    target: PathBuf,
}

impl StagedDir {
    pub fn new(target: &Path) -> Result<Self> {
        let path = temp_sibling(target, "staging")?;
        if path.exists() {
            fs::remove_dir_all(&path)?;
        }
        register(&path);
        fs::create_dir(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(StagedDir { path, target: target.to_path_buf() })
    }

    /// Replaces `target` with the staged directory (the old one, if any, is removed only after the swap).
    pub fn commit(self) -> Result<()> {
        let old = temp_sibling(&self.target, "old")?;
        let had_old = self.target.exists();
        if had_old {
            register(&old);
            fs::rename(&self.target, &old)
                .with_context(|| format!("cannot move the old {} aside", self.target.display()))?;
        }
        if let Err(e) = fs::rename(&self.path, &self.target) {
            if had_old {
                let _ = fs::rename(&old, &self.target);
            }
            return Err(e).with_context(|| format!("cannot move the new keys into {}", self.target.display()));
        }
        unregister(&self.path);
        if had_old {
            let _ = fs::remove_dir_all(&old);
            unregister(&old);
        }
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if self.path.exists() {
            let _ = fs::remove_dir_all(&self.path);
        }
        unregister(&self.path);
    }
}

/// A scratch directory removed on drop (and by the Ctrl-C cleanup).
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `$TMPDIR/zkinfer-<purpose>-<pid>`, emptied first if a previous run left it behind.
    pub fn new(purpose: &str) -> Result<Self> {
        let p = std::env::temp_dir().join(format!("zkinfer-{purpose}-{}", std::process::id()));
        if p.exists() {
            std::fs::remove_dir_all(&p)?;
        }
        std::fs::create_dir_all(&p).with_context(|| format!("cannot create {}", p.display()))?;
        register_temp(&p);
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        unregister_temp(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    /// Private files (openings: their salts open the commitments) are 0600 whatever the umask, including one that
    /// replaces a world-readable file, and `create_new_private` never replaces an existing one.
    #[test]
    fn private_files_are_mode_0600() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.opening.json");
        write_private(&p, b"salts").unwrap();
        assert_eq!(mode(&p), 0o600);
        let q = d.path().join("public.json");
        write(&q, b"old").unwrap();
        fs::set_permissions(&q, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&q, b"salts").unwrap();
        assert_eq!(mode(&q), 0o600, "a private file written over a public one keeps its mode");
        let n = d.path().join("new.opening.json");
        assert!(create_new_private(&n, b"first").unwrap());
        assert_eq!(mode(&n), 0o600);
        assert!(!create_new_private(&n, b"second").unwrap());
        assert_eq!(fs::read(&n).unwrap(), b"first");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 3, "a temporary was left behind");
    }
}
