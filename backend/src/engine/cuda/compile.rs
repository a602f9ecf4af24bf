//! NVRTC compilation of the kernel program for one GPU architecture, with a disk cache of the resulting cubin.
//!
//! The engine (`driver.rs`) and `examples/check_kernels.rs` (what `ci/check-kernels` runs) call the same
//! [`compile`] with the same [`options`], so CI checks exactly what the engine loads.
//! Cache: `$ZKINFER_KERNEL_CACHE`, else `$XDG_CACHE_HOME/zkinfer/kernels`, else `~/.cache/zkinfer/kernels`; the file
//! name is a hash of the source, the options, the architecture and the NVRTC version.

use std::ffi::{c_char, CString};
use std::path::PathBuf;

use cudarc::nvrtc::{result, sys};
use sha2::{Digest, Sha256};

use super::device::DevResult;

/// NVRTC options for `arch` (e.g. "sm_90"): a cubin for that exact architecture, C++17.
pub fn options(arch: &str) -> Vec<String> {
    vec![format!("--gpu-architecture={arch}"), "--std=c++17".into()]
}

/// A compiled program.
pub struct Compiled {
    pub cubin: Vec<u8>,
    /// NVRTC's log (warnings), empty when clean.
    pub log: String,
}

/// Whether libnvrtc can be loaded (calling into a missing library would panic inside cudarc).
pub fn nvrtc_present() -> bool {
    // SAFETY: only tries to dlopen the library.
    unsafe { sys::is_culib_present() }
}

/// NVRTC's version (major, minor).
pub fn nvrtc_version() -> DevResult<(i32, i32)> {
    let (mut major, mut minor) = (0, 0);
    // SAFETY: two valid out-pointers.
    unsafe { sys::nvrtcVersion(&mut major, &mut minor) }
        .result()
        .map_err(|e| format!("nvrtcVersion: {e}"))?;
    Ok((major, minor))
}

/// Compiles the whole kernel program for `arch`; an error carries NVRTC's log.
pub fn compile(arch: &str) -> DevResult<Compiled> {
    compile_source(&zkinfer_kernels::program_source(), c"zkinfer_kernels.cu", arch)
}

/// A generated kernel's whole NVRTC program: the field prelude, then the kernel.
pub fn generated_program(source: &str) -> String {
    format!("{}\n#line 1 \"generated.cu\"\n{source}", zkinfer_kernels::field_prelude())
}

/// Compiles one NVRTC program text for `arch`; an error carries NVRTC's log.
pub fn compile_source(source: &str, name: &std::ffi::CStr, arch: &str) -> DevResult<Compiled> {
    if !nvrtc_present() {
        return Err("NVRTC (libnvrtc.so) not found: install CUDA's NVRTC or add its lib folder to LD_LIBRARY_PATH".into());
    }
    let src = CString::new(source).map_err(|e| e.to_string())?;
    let prog = result::create_program(&src, Some(name)).map_err(|e| format!("nvrtcCreateProgram: {e}"))?;
    let opts = options(arch);
    // SAFETY: `prog` is a live program until destroy_program below.
    let compiled = unsafe { result::compile_program(prog, &opts) };
    let log = unsafe { result::get_program_log(prog) }
        .map(|l| {
            let bytes: Vec<u8> = l.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
            String::from_utf8_lossy(&bytes).trim().to_string()
        })
        .unwrap_or_default();
    let out = compiled
        .map_err(|e| format!("NVRTC failed for {arch} ({e}) with options {opts:?}:\n{log}"))
        .and_then(|()| get_cubin(prog).map(|cubin| Compiled { cubin, log }));
    // SAFETY: destroyed once.
    let _ = unsafe { result::destroy_program(prog) };
    out
}

fn get_cubin(prog: sys::nvrtcProgram) -> DevResult<Vec<u8>> {
    let mut size = 0usize;
    // SAFETY: a compiled program and valid out-pointers / buffers of the reported size.
    unsafe { sys::nvrtcGetCUBINSize(prog, &mut size) }
        .result()
        .map_err(|e| format!("nvrtcGetCUBINSize: {e}"))?;
    let mut buf = vec![0u8; size];
    unsafe { sys::nvrtcGetCUBIN(prog, buf.as_mut_ptr() as *mut c_char) }
        .result()
        .map_err(|e| format!("nvrtcGetCUBIN: {e}"))?;
    if buf.is_empty() {
        return Err("NVRTC produced an empty cubin".into());
    }
    Ok(buf)
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("ZKINFER_KERNEL_CACHE") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("zkinfer/kernels"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/zkinfer/kernels"))
}

/// The cubin for `arch`, from the disk cache or compiled (and then cached; a cache that cannot be written is
/// only logged).
pub fn cubin_cached(arch: &str) -> DevResult<Vec<u8>> {
    cubin_cached_source(&zkinfer_kernels::program_source(), c"zkinfer_kernels.cu", arch)
}

/// The cubin of any program text for `arch`, from the disk cache or compiled (as [`cubin_cached`]).
pub fn cubin_cached_source(source: &str, name: &std::ffi::CStr, arch: &str) -> DevResult<Vec<u8>> {
    let (major, minor) = nvrtc_version()?;
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    for o in options(arch) {
        h.update(o.as_bytes());
        h.update([0]);
    }
    h.update(format!("{arch} nvrtc {major}.{minor}").as_bytes());
    let key: String = h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    let path = cache_dir().map(|d| d.join(format!("{key}.cubin")));
    if let Some(p) = &path {
        if let Ok(bytes) = std::fs::read(p) {
            if !bytes.is_empty() {
                return Ok(bytes);
            }
        }
    }
    let compiled = compile_source(source, name, arch)?;
    if !compiled.log.is_empty() {
        tracing::debug!("NVRTC log for {arch}:\n{}", compiled.log);
    }
    if let Some(p) = &path {
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        let written = p
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, &compiled.cubin))
            .and_then(|()| std::fs::rename(&tmp, p));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            tracing::debug!("kernel cache {} not written: {e}", p.display());
        }
    }
    Ok(compiled.cubin)
}
