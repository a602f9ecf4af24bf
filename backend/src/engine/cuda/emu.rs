//! The host emulator device: the kernel sources compiled by g++ (C++20) with `kernels/emu/emu.hpp`, loaded with
//! libloading. It runs the CUDA engine's exact launch sequences on the CPU — slowly, for tests on machines without a
//! GPU. The library is built once per source text and cached next to the test binaries (`<target>/<profile>/
//! zkinfer-emu/`, or `$ZKINFER_EMU_DIR`); the compiler is `$ZKINFER_EMU_CXX` or `g++`.

use std::alloc::Layout;
use std::ffi::{c_char, c_void, CString};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::device::{DevResult, Device, GeneratedKernels, MemoryMeter};

type LaunchFn = unsafe extern "C" fn(*const c_char, u32, u32, *mut *mut c_void, u32) -> i32;
type HasKernelFn = unsafe extern "C" fn(*const c_char) -> i32;

struct EmuLib {
    _lib: libloading::Library,
    launch: LaunchFn,
}

const CXX_FLAGS: &[&str] = &["-O2", "-std=c++20", "-shared", "-fPIC", "-pthread", "-w"];

fn emu_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ZKINFER_EMU_DIR") {
        return PathBuf::from(d);
    }
    // Test binaries live in <target>/<profile>/deps: keep the library under <target>/<profile>.
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|p| p.join("zkinfer-emu")))
        .unwrap_or_else(|| std::env::temp_dir().join("zkinfer-emu"))
}

fn build() -> DevResult<PathBuf> {
    build_library(&zkinfer_kernels::emulator_source(), "zkinfer-emu", CXX_FLAGS)
}

/// Generated kernels are long straight-line functions: -O1 compiles them several times faster than -O2.
const GEN_CXX_FLAGS: &[&str] = &["-O1", "-std=c++20", "-shared", "-fPIC", "-pthread", "-w"];

/// `source` compiled by g++ into `<emu dir>/<prefix>-<hash>.so` (kept: the hash covers source, compiler and flags).
fn build_library(source: &str, prefix: &str, flags: &[&str]) -> DevResult<PathBuf> {
    let cxx = std::env::var("ZKINFER_EMU_CXX").unwrap_or_else(|_| "g++".into());
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    h.update(cxx.as_bytes());
    for f in flags {
        h.update(f.as_bytes());
    }
    let hash: String = h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    let dir = emu_dir();
    let lib = dir.join(format!("{prefix}-{hash}.so"));
    if lib.exists() {
        return Ok(lib);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Unique temporary names: several test processes may build at once; the rename makes the result appear whole.
    let tag = format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "");
    let src_path = dir.join(format!("{prefix}-{hash}-{tag}.cpp"));
    let tmp_lib = dir.join(format!("{prefix}-{hash}-{tag}.so.tmp"));
    std::fs::write(&src_path, source).map_err(|e| format!("cannot write {}: {e}", src_path.display()))?;
    let out = Command::new(&cxx)
        .args(flags)
        .arg("-o")
        .arg(&tmp_lib)
        .arg(&src_path)
        .output()
        .map_err(|e| {
            format!("the CUDA host emulator needs a C++20 compiler: cannot run `{cxx}` ({e}); install g++ or set ZKINFER_EMU_CXX")
        })?;
    let _ = std::fs::remove_file(&src_path);
    if !out.status.success() {
        let _ = std::fs::remove_file(&tmp_lib);
        return Err(format!(
            "`{cxx}` failed to build the CUDA host emulator ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::rename(&tmp_lib, &lib).map_err(|e| format!("cannot move the emulator library into place: {e}"))?;
    Ok(lib)
}

/// The emulator's translation unit for a generated kernel: the header, the field prelude, the kernel, and a
/// launcher `zk_gen_launch` (same C signature as the main library's, without the name) that runs the grid serially
/// (generated kernels do not synchronise).
fn generated_source(source: &str, kernel: &str) -> String {
    format!(
        "{header}\n{prelude}\n#line 1 \"generated.cu\"\n{source}\n#line 1 \"emu-generated-launcher\"\n\
thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;\n\
thread_local std::barrier<>* emu_block_barrier = nullptr;\n\
template <class... A, std::size_t... I>\n\
static void zk_call(void (*f)(A...), void** args, std::index_sequence<I...>) {{\n\
    f(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(args[I])...);\n\
}}\n\
template <class... A>\n\
static int zk_run(void (*f)(A...), unsigned grid, unsigned block, void** args, unsigned nargs) {{\n\
    if (block == 0 || block > 1024 || grid == 0) return 2;\n\
    if (nargs != sizeof...(A)) return 3;\n\
    gridDim = dim3{{grid, 1, 1}};\n\
    blockDim = dim3{{block, 1, 1}};\n\
    for (unsigned b = 0; b < grid; b++) {{\n\
        blockIdx = dim3{{b, 0, 0}};\n\
        for (unsigned t = 0; t < block; t++) {{\n\
            threadIdx = dim3{{t, 0, 0}};\n\
            zk_call(f, args, std::index_sequence_for<A...>{{}});\n\
        }}\n\
    }}\n\
    return 0;\n\
}}\n\
extern \"C\" int zk_gen_launch(unsigned grid, unsigned block, void** args, unsigned nargs) {{\n\
    return zk_run({kernel}, grid, block, args, nargs);\n\
}}\n",
        header = zkinfer_kernels::EMU_HEADER,
        prelude = zkinfer_kernels::field_prelude(),
    )
}

type GenLaunchFn = unsafe extern "C" fn(u32, u32, *mut *mut c_void, u32) -> i32;

/// A loaded generated-kernel library.
struct GenLib {
    _lib: libloading::Library,
    launch: GenLaunchFn,
    kernel: String,
}

fn load() -> DevResult<EmuLib> {
    let path = build()?;
    // SAFETY: our own library; its initialisers only build the kernel registry.
    let lib = unsafe { libloading::Library::new(&path) }
        .map_err(|e| format!("cannot load the emulator library {}: {e}", path.display()))?;
    // SAFETY: the symbols have exactly these C signatures in kernels/emu/emu.cpp.
    let (launch, has) = unsafe {
        let launch: LaunchFn = *lib.get::<LaunchFn>(b"zk_emu_launch\0").map_err(|e| e.to_string())?;
        let has: HasKernelFn = *lib.get::<HasKernelFn>(b"zk_emu_has_kernel\0").map_err(|e| e.to_string())?;
        (launch, has)
    };
    for k in zkinfer_kernels::program_kernels() {
        let name = CString::new(k).unwrap();
        // SAFETY: a valid C string.
        if unsafe { has(name.as_ptr()) } != 1 {
            return Err(format!("the emulator has no kernel `{k}`"));
        }
    }
    Ok(EmuLib { _lib: lib, launch })
}

fn library() -> DevResult<&'static EmuLib> {
    static LIB: OnceLock<DevResult<EmuLib>> = OnceLock::new();
    LIB.get_or_init(load).as_ref().map_err(Clone::clone)
}

/// Kernels on the host; device memory is host memory.
pub struct EmuDevice {
    lib: &'static EmuLib,
    meter: MemoryMeter,
    /// Generated kernels: their libraries.
    generated: Mutex<GeneratedKernels<GenLib>>,
    /// The device memory the emulator pretends to have (`ZKINFER_EMU_DEVICE_MEMORY`, bytes; default 16 GiB), so
    /// memory plans can be tested.
    memory: u64,
}

impl EmuDevice {
    /// Builds (first use) and loads the emulator library.
    pub fn new() -> DevResult<EmuDevice> {
        let memory = match std::env::var("ZKINFER_EMU_DEVICE_MEMORY") {
            Ok(v) => v.trim().parse().map_err(|_| format!("ZKINFER_EMU_DEVICE_MEMORY={v:?} is not a number of bytes"))?,
            Err(_) => 16 << 30,
        };
        Self::with_memory(memory)
    }

    /// An emulator that reports `memory` bytes of device memory.
    pub fn with_memory(memory: u64) -> DevResult<EmuDevice> {
        Ok(EmuDevice { lib: library()?, meter: MemoryMeter::default(), generated: Mutex::default(), memory })
    }
}

fn layout(bytes: usize) -> DevResult<Layout> {
    Layout::from_size_align(bytes, 256).map_err(|e| e.to_string())
}

impl Device for EmuDevice {
    fn meter(&self) -> &MemoryMeter {
        &self.meter
    }

    fn describe(&self) -> String {
        "CUDA host emulator (kernels compiled by g++, run on the CPU; for tests)".into()
    }

    fn alloc(&self, bytes: usize) -> DevResult<u64> {
        // SAFETY: non-zero size (DevBuf never allocates 0 bytes).
        let p = unsafe { std::alloc::alloc(layout(bytes)?) };
        if p.is_null() {
            return Err(format!("out of host memory allocating {bytes} bytes"));
        }
        self.meter.allocated(bytes);
        Ok(p as u64)
    }

    fn free(&self, ptr: u64, bytes: usize) {
        if let Ok(l) = layout(bytes) {
            // SAFETY: allocated by `alloc` with this size.
            unsafe { std::alloc::dealloc(ptr as *mut u8, l) };
            self.meter.released(bytes);
        }
    }

    fn htod(&self, dst: u64, src: &[u8]) -> DevResult<()> {
        // SAFETY: dst is an allocation of at least src.len() bytes (DevBuf checks sizes).
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst as *mut u8, src.len()) };
        Ok(())
    }

    fn dtoh(&self, dst: &mut [u8], src: u64) -> DevResult<()> {
        // SAFETY: as for htod.
        unsafe { std::ptr::copy_nonoverlapping(src as *const u8, dst.as_mut_ptr(), dst.len()) };
        Ok(())
    }

    fn dtod(&self, dst: u64, src: u64, bytes: usize) -> DevResult<()> {
        // SAFETY: two live allocations of at least `bytes` bytes.
        unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, bytes) };
        Ok(())
    }

    fn memset_zero(&self, dst: u64, bytes: usize) -> DevResult<()> {
        // SAFETY: a live allocation of at least `bytes` bytes.
        unsafe { std::ptr::write_bytes(dst as *mut u8, 0, bytes) };
        Ok(())
    }

    fn launch(&self, kernel: &'static str, grid: u32, block: u32, args: &[&[u8]]) -> DevResult<()> {
        let name = CString::new(kernel).map_err(|e| e.to_string())?;
        let mut ptrs: Vec<*mut c_void> = args.iter().map(|a| a.as_ptr() as *mut c_void).collect();
        // SAFETY: every argument points at bytes of the kernel's parameter type (checked for count by the library).
        let rc = unsafe { (self.lib.launch)(name.as_ptr(), grid, block, ptrs.as_mut_ptr(), ptrs.len() as u32) };
        match rc {
            0 => Ok(()),
            1 => Err(format!("unknown kernel `{kernel}`")),
            2 => Err(format!("bad launch shape for `{kernel}`: grid {grid}, block {block}")),
            3 => Err(format!("wrong argument count ({}) for `{kernel}`", args.len())),
            other => Err(format!("emulator launch of `{kernel}` failed ({other})")),
        }
    }

    fn synchronize(&self) -> DevResult<()> {
        Ok(())
    }

    fn load_generated(&self, source: &str, kernel: &str) -> DevResult<usize> {
        let mut g = self.generated.lock().map_err(|_| "generated-kernel table poisoned".to_string())?;
        g.handle(source, kernel, || {
            let path = build_library(&generated_source(source, kernel), "zkinfer-emu-gen", GEN_CXX_FLAGS)?;
            // SAFETY: our own library, built from the source above; loading runs no user code.
            let lib = unsafe { libloading::Library::new(&path) }
                .map_err(|e| format!("cannot load the generated kernel library {}: {e}", path.display()))?;
            // SAFETY: zk_gen_launch has exactly this C signature (generated_source).
            let launch: GenLaunchFn = unsafe { *lib.get::<GenLaunchFn>(b"zk_gen_launch\0").map_err(|e| e.to_string())? };
            Ok(GenLib { _lib: lib, launch, kernel: kernel.to_string() })
        })
    }

    fn launch_generated(&self, handle: usize, grid: u32, block: u32, args: &[&[u8]]) -> DevResult<()> {
        let (launch, kernel) = {
            let g = self.generated.lock().map_err(|_| "generated-kernel table poisoned".to_string())?;
            let l = g.get(handle)?;
            (l.launch, l.kernel.clone())
        };
        let mut ptrs: Vec<*mut c_void> = args.iter().map(|a| a.as_ptr() as *mut c_void).collect();
        // SAFETY: every argument points at bytes of the kernel's parameter type (count checked by the launcher).
        let rc = unsafe { launch(grid, block, ptrs.as_mut_ptr(), ptrs.len() as u32) };
        match rc {
            0 => Ok(()),
            2 => Err(format!("bad launch shape for generated `{kernel}`: grid {grid}, block {block}")),
            3 => Err(format!("wrong argument count ({}) for generated `{kernel}`", args.len())),
            other => Err(format!("emulator launch of generated `{kernel}` failed ({other})")),
        }
    }

    fn memory_free(&self) -> DevResult<u64> {
        Ok(self.memory.saturating_sub(self.meter.held()))
    }
}
