//! The CUDA driver device (cudarc, dynamic loading): one primary context, the legacy default stream, the kernel
//! program compiled by NVRTC for this device's architecture. Every driver error becomes a `DevResult` error.

use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use cudarc::driver::{result, sys, CudaContext};

use super::compile;
use super::device::{DevResult, Device, GeneratedKernels, MemoryMeter};

pub struct CudaDevice {
    ctx: Arc<CudaContext>,
    module: sys::CUmodule,
    kernels: HashMap<&'static str, sys::CUfunction>,
    describe: String,
    pool: Mutex<Pool>,
    meter: MemoryMeter,
    /// This device's architecture ("sm_90"), for compiling generated kernels.
    arch: String,
    /// Pinned staging for large host <-> device copies (None: pageable synchronous copies only).
    staging: Option<Mutex<Staging>>,
    /// Generated kernels: (module, function) of each.
    generated: Mutex<GeneratedKernels<(sys::CUmodule, sys::CUfunction)>>,
    /// `ZKINFER_CUDA_SYNC=1`: synchronise after every launch, so an asynchronous fault is reported under the name
    /// of the kernel that caused it rather than at the next copy.
    sync_launches: bool,
}

/// Freed allocations kept for reuse by size: an MSM or NTT allocates the same scratch sizes call after call, and
/// cuMemAlloc / cuMemFree are slow (cuMemFree also waits for the device). Reuse is safe because all work runs in
/// order on the legacy default stream. At most `limit` bytes are kept; all are released when an allocation fails.
struct Pool {
    free: HashMap<usize, Vec<u64>>,
    cached: usize,
    limit: usize,
}

impl Pool {
    fn release_all(&mut self, meter: &MemoryMeter) {
        for (bytes, ptrs) in self.free.drain() {
            for p in ptrs {
                // SAFETY: allocations owned by the pool, freed once.
                if unsafe { result::free_sync(p) }.is_ok() {
                    meter.released(bytes);
                }
            }
        }
        self.cached = 0;
    }
}

// SAFETY: CUmodule / CUfunction are driver handles valid in any thread once the context is current (every method
// binds it first); the driver API is thread-safe.
unsafe impl Send for CudaDevice {}
unsafe impl Sync for CudaDevice {}

fn err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

impl CudaDevice {
    /// Opens device 0, or says why not. Never panics: the driver and NVRTC libraries are probed before any call
    /// into them, and initialisation runs under catch_unwind as well.
    pub fn open() -> DevResult<CudaDevice> {
        // SAFETY: only tries to dlopen libcuda.
        if !unsafe { sys::is_culib_present() } {
            return Err("no CUDA driver on this machine (libcuda.so not found)".into());
        }
        if !compile::nvrtc_present() {
            return Err("the CUDA driver is present but NVRTC (libnvrtc.so) is not: install CUDA's NVRTC or add its \
                        lib folder to LD_LIBRARY_PATH"
                .into());
        }
        match catch_unwind(AssertUnwindSafe(Self::open_inner)) {
            Ok(r) => r,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                Err(format!("CUDA initialisation panicked: {msg}"))
            }
        }
    }

    fn open_inner() -> DevResult<CudaDevice> {
        result::init().map_err(err("cuInit"))?;
        let count = result::device::get_count().map_err(err("cuDeviceGetCount"))?;
        if count < 1 {
            return Err("no CUDA device".into());
        }
        let ctx = CudaContext::new(0).map_err(err("creating the CUDA context"))?;
        let (major, minor) = ctx.compute_capability().map_err(err("compute capability"))?;
        let arch = format!("sm_{major}{minor}");
        let name = ctx.name().unwrap_or_else(|_| "CUDA device".into());
        let mem = ctx.total_mem().unwrap_or(0);
        let cubin = compile::cubin_cached(&arch)?;
        ctx.bind_to_thread().map_err(err("binding the context"))?;
        // SAFETY: a complete cubin image produced by NVRTC for this architecture.
        let module = unsafe { result::module::load_data(cubin.as_ptr() as *const c_void) }
            .map_err(err("loading the kernel module"))?;
        let mut kernels = HashMap::new();
        for k in zkinfer_kernels::program_kernels() {
            // SAFETY: a live module.
            let f = unsafe { result::module::get_function(module, CString::new(k).unwrap()) }
                .map_err(|e| format!("kernel `{k}` not in the module: {e}"))?;
            kernels.insert(k, f);
        }
        let describe = format!("{name}, {:.1} GiB, {arch}", mem as f64 / (1u64 << 30) as f64);
        let pool = Mutex::new(Pool { free: HashMap::new(), cached: 0, limit: mem / 4 });
        let sync_launches = std::env::var("ZKINFER_CUDA_SYNC").is_ok_and(|v| v == "1");
        Ok(CudaDevice {
            ctx,
            module,
            kernels,
            describe,
            pool,
            meter: MemoryMeter::default(),
            arch,
            staging: Staging::new().map(Mutex::new),
            generated: Mutex::default(),
            sync_launches,
        })
    }

    fn bind(&self) -> DevResult<()> {
        self.ctx.bind_to_thread().map_err(err("binding the context"))
    }

    /// Launches a loaded function on the legacy default stream (checked at once under ZKINFER_CUDA_SYNC=1).
    fn launch_function(&self, f: sys::CUfunction, kernel: &str, grid: u32, block: u32, args: &[&[u8]]) -> DevResult<()> {
        self.bind()?;
        let mut params: Vec<*mut c_void> = args.iter().map(|a| a.as_ptr() as *mut c_void).collect();
        // SAFETY: `params` point at the bytes of each parameter of `kernel` (the orchestration passes the kernel's
        // exact signature, which the emulator checks for count in the tests); the legacy default stream orders the
        // launch before any later copy.
        unsafe { result::launch_kernel(f, (grid, 1, 1), (block, 1, 1), 0, std::ptr::null_mut(), &mut params) }
            .map_err(|e| format!("launching `{kernel}` (grid {grid}, block {block}): {e}"))?;
        if self.sync_launches {
            result::ctx::synchronize()
                .map_err(|e| format!("kernel `{kernel}` (grid {grid}, block {block}) failed (ZKINFER_CUDA_SYNC=1): {e}"))?;
        }
        Ok(())
    }
}

impl Drop for CudaDevice {
    fn drop(&mut self) {
        if self.bind().is_ok() {
            if let Ok(mut p) = self.pool.lock() {
                p.release_all(&self.meter);
            }
            // SAFETY: loaded in open_inner, unloaded once; no kernel runs after the engine is dropped.
            let _ = unsafe { result::module::unload(self.module) };
            if let Some(Ok(st)) = self.staging.as_ref().map(Mutex::lock) {
                st.release();
            }
            if let Ok(g) = self.generated.lock() {
                for (m, _) in g.all() {
                    // SAFETY: loaded by load_generated, unloaded once.
                    let _ = unsafe { result::module::unload(*m) };
                }
            }
        }
    }
}

impl Device for CudaDevice {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn alloc(&self, bytes: usize) -> DevResult<u64> {
        self.bind()?;
        let mut pool = self.pool.lock().map_err(|_| "allocation pool poisoned".to_string())?;
        if let Some(p) = pool.free.get_mut(&bytes).and_then(Vec::pop) {
            pool.cached -= bytes;
            return Ok(p);
        }
        // SAFETY: plain allocation.
        let p = match unsafe { result::malloc_sync(bytes) } {
            Ok(p) => p,
            Err(_) => {
                pool.release_all(&self.meter);
                // SAFETY: as above.
                unsafe { result::malloc_sync(bytes) }.map_err(|e| format!("cuMemAlloc of {bytes} bytes: {e}"))?
            }
        };
        self.meter.allocated(bytes);
        Ok(p)
    }

    fn free(&self, ptr: u64, bytes: usize) {
        if let Ok(mut pool) = self.pool.lock() {
            if pool.cached + bytes <= pool.limit {
                pool.cached += bytes;
                pool.free.entry(bytes).or_default().push(ptr);
                return;
            }
        }
        if self.bind().is_ok() {
            // SAFETY: allocated by `alloc`, freed once (DevBuf).
            match unsafe { result::free_sync(ptr) } {
                Ok(()) => self.meter.released(bytes),
                Err(e) => tracing::warn!("cuMemFree: {e}"),
            }
        }
    }

    fn htod(&self, dst: u64, src: &[u8]) -> DevResult<()> {
        self.bind()?;
        if let Some(st) = self.staging.as_ref().filter(|_| src.len() >= STAGED_FROM) {
            let st = st.lock().map_err(|_| "staging buffers poisoned".to_string())?;
            return st.htod(dst, src);
        }
        // SAFETY: dst holds at least src.len() bytes (DevBuf checks sizes).
        unsafe { result::memcpy_htod_sync(dst, src) }.map_err(err("cuMemcpyHtoD"))
    }

    fn dtoh(&self, dst: &mut [u8], src: u64) -> DevResult<()> {
        self.bind()?;
        if let Some(st) = self.staging.as_ref().filter(|_| dst.len() >= STAGED_FROM) {
            let st = st.lock().map_err(|_| "staging buffers poisoned".to_string())?;
            return st.dtoh(dst, src);
        }
        // SAFETY: src holds at least dst.len() bytes.
        unsafe { result::memcpy_dtoh_sync(dst, src) }.map_err(err("cuMemcpyDtoH"))
    }

    fn dtod(&self, dst: u64, src: u64, bytes: usize) -> DevResult<()> {
        self.bind()?;
        // SAFETY: both hold at least `bytes` bytes.
        unsafe { result::memcpy_dtod_sync(dst, src, bytes) }.map_err(err("cuMemcpyDtoD"))
    }

    fn memset_zero(&self, dst: u64, bytes: usize) -> DevResult<()> {
        self.bind()?;
        // SAFETY: dst holds at least `bytes` bytes.
        unsafe { result::memset_d8_sync(dst, 0, bytes) }.map_err(err("cuMemsetD8"))
    }

    fn launch(&self, kernel: &'static str, grid: u32, block: u32, args: &[&[u8]]) -> DevResult<()> {
        let f = *self.kernels.get(kernel).ok_or_else(|| format!("unknown kernel `{kernel}`"))?;
        self.launch_function(f, kernel, grid, block, args)
    }

    fn meter(&self) -> &MemoryMeter {
        &self.meter
    }

    fn load_generated(&self, source: &str, kernel: &str) -> DevResult<usize> {
        let mut g = self.generated.lock().map_err(|_| "generated-kernel table poisoned".to_string())?;
        g.handle(source, kernel, || {
            let t = std::time::Instant::now();
            let cubin = compile::cubin_cached_source(&compile::generated_program(source), c"generated.cu", &self.arch)?;
            self.bind()?;
            // SAFETY: a complete cubin image produced by NVRTC for this architecture.
            let module = unsafe { result::module::load_data(cubin.as_ptr() as *const c_void) }
                .map_err(err("loading a generated kernel module"))?;
            // SAFETY: a live module.
            let f = match unsafe { result::module::get_function(module, CString::new(kernel).map_err(|e| e.to_string())?) } {
                Ok(f) => f,
                Err(e) => {
                    // SAFETY: loaded just above, unloaded once.
                    let _ = unsafe { result::module::unload(module) };
                    return Err(format!("generated kernel `{kernel}` not in its module: {e}"));
                }
            };
            tracing::debug!(
                "generated kernel `{kernel}` ({} bytes of source) ready in {:.2} s",
                source.len(),
                t.elapsed().as_secs_f64()
            );
            Ok((module, f))
        })
    }

    fn launch_generated(&self, handle: usize, grid: u32, block: u32, args: &[&[u8]]) -> DevResult<()> {
        let f = self.generated.lock().map_err(|_| "generated-kernel table poisoned".to_string())?.get(handle)?.1;
        self.launch_function(f, "generated row program", grid, block, args)
    }

    fn memory_free(&self) -> DevResult<u64> {
        self.bind()?;
        let (free, _total) = result::mem_get_info().map_err(err("cuMemGetInfo"))?;
        // Allocations the pool keeps for reuse are free for our purposes.
        let cached = self.pool.lock().map(|p| p.cached).unwrap_or(0);
        Ok((free + cached) as u64)
    }

    fn synchronize(&self) -> DevResult<()> {
        self.bind()?;
        result::ctx::synchronize().map_err(err("cuCtxSynchronize"))
    }
}

/// Copies of at least this many bytes go through the pinned staging buffers.
const STAGED_FROM: usize = 1 << 20;
/// Bytes per staging buffer.
const STAGE: usize = 16 << 20;

/// Two pinned host buffers and a copy stream: a large copy moves in STAGE-sized chunks, the host copying one chunk
/// (in parallel) between pageable memory and one buffer while the copy engine moves the other at pinned-memory
/// speed. The stream is a blocking one, so it is ordered with the legacy default stream the kernels run on: a copy
/// starts after the kernels issued before it, and `htod` / `dtoh` return only when their copy is complete, as the
/// synchronous copies they replace did. `ZKINFER_CUDA_PINNED=0` turns this off.
struct Staging {
    bufs: [*mut u8; 2],
    events: [sys::CUevent; 2],
    stream: sys::CUstream,
}

// SAFETY: driver handles and pinned host memory, used only under the device's staging mutex.
unsafe impl Send for Staging {}

impl Staging {
    /// The staging buffers, or None (logged) when turned off or when pinned memory or a stream cannot be had.
    fn new() -> Option<Staging> {
        if std::env::var("ZKINFER_CUDA_PINNED").is_ok_and(|v| v == "0") {
            return None;
        }
        let made = (|| -> Result<Staging, String> {
            let stream = result::stream::create(result::stream::StreamKind::Default).map_err(err("cuStreamCreate"))?;
            let mut st = Staging { bufs: [std::ptr::null_mut(); 2], events: [std::ptr::null_mut(); 2], stream };
            for i in 0..2 {
                // SAFETY: a plain pinned allocation, freed in release().
                let b = unsafe { result::malloc_host(STAGE, 0) };
                match b {
                    Ok(b) => st.bufs[i] = b as *mut u8,
                    Err(e) => {
                        st.release();
                        return Err(format!("cuMemHostAlloc: {e}"));
                    }
                }
                match result::event::create(sys::CUevent_flags::CU_EVENT_DISABLE_TIMING) {
                    Ok(e) => st.events[i] = e,
                    Err(e) => {
                        st.release();
                        return Err(format!("cuEventCreate: {e}"));
                    }
                }
            }
            Ok(st)
        })();
        match made {
            Ok(st) => Some(st),
            Err(e) => {
                tracing::warn!("CUDA: pinned staging unavailable, using pageable copies ({e})");
                None
            }
        }
    }

    fn buf(&self, i: usize, len: usize) -> &mut [u8] {
        // SAFETY: bufs[i] is a live pinned allocation of STAGE >= len bytes, only touched under the staging mutex.
        unsafe { std::slice::from_raw_parts_mut(self.bufs[i], len) }
    }

    fn host_copy(dst: &mut [u8], src: &[u8]) {
        use rayon::prelude::*;
        dst.par_chunks_mut(1 << 18).zip(src.par_chunks(1 << 18)).for_each(|(d, s)| d.copy_from_slice(s));
    }

    fn htod(&self, dst: u64, src: &[u8]) -> DevResult<()> {
        for (i, chunk) in src.chunks(STAGE).enumerate() {
            let b = i % 2;
            if i >= 2 {
                // SAFETY: a live event; waits for the copy that last read this buffer.
                unsafe { result::event::synchronize(self.events[b]) }.map_err(err("cuEventSynchronize"))?;
            }
            let stage = self.buf(b, chunk.len());
            Self::host_copy(stage, chunk);
            // SAFETY: dst + offset holds chunk.len() bytes (DevBuf checks sizes); the pinned source stays untouched
            // until the event recorded after this copy has completed.
            unsafe {
                result::memcpy_htod_async(dst + (i * STAGE) as u64, &*stage, self.stream).map_err(err("cuMemcpyHtoDAsync"))?;
                result::event::record(self.events[b], self.stream).map_err(err("cuEventRecord"))?;
            }
        }
        // SAFETY: a live stream.
        unsafe { result::stream::synchronize(self.stream) }.map_err(err("cuStreamSynchronize"))
    }

    fn dtoh(&self, dst: &mut [u8], src: u64) -> DevResult<()> {
        let total = dst.len();
        let n = total.div_ceil(STAGE);
        let len = |i: usize| STAGE.min(total - i * STAGE);
        let issue = |i: usize| -> DevResult<()> {
            let b = i % 2;
            let stage = self.buf(b, len(i));
            // SAFETY: src + offset holds len(i) bytes; the host reads the buffer only after the event.
            unsafe {
                result::memcpy_dtoh_async(stage, src + (i * STAGE) as u64, self.stream).map_err(err("cuMemcpyDtoHAsync"))?;
                result::event::record(self.events[b], self.stream).map_err(err("cuEventRecord"))
            }
        };
        issue(0)?;
        for i in 0..n {
            if i + 1 < n {
                // The other buffer's previous chunk was copied out in the last iteration: reuse it.
                issue(i + 1)?;
            }
            // SAFETY: a live event.
            unsafe { result::event::synchronize(self.events[i % 2]) }.map_err(err("cuEventSynchronize"))?;
            let stage = self.buf(i % 2, len(i));
            Self::host_copy(&mut dst[i * STAGE..i * STAGE + len(i)], stage);
        }
        Ok(())
    }

    fn release(&self) {
        // SAFETY: each handle was created by new() and is released once (at device drop, or on a failed new()).
        unsafe {
            for &b in &self.bufs {
                if !b.is_null() {
                    let _ = result::free_host(b as *mut c_void);
                }
            }
            for &e in &self.events {
                if !e.is_null() {
                    let _ = result::event::destroy(e);
                }
            }
            let _ = result::stream::destroy(self.stream);
        }
    }
}
