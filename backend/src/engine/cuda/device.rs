//! The seam under the CUDA engine's orchestration: a [`Device`] runs named kernels on raw device memory. Two
//! implementations: the CUDA driver through cudarc (`driver.rs`, feature `cuda`) and the host emulator
//! (`emu.rs`, always built), so the same launch sequences are tested on machines without a GPU.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::engine::{EngineError, Result};
use crate::{Fq, Fr, G1Affine};

/// A device error before it is tied to an engine operation.
pub type DevResult<T> = std::result::Result<T, String>;

/// Attaches the engine operation to a device error.
pub trait OpErr<T> {
    fn op(self, op: &'static str) -> Result<T>;
}

impl<T> OpErr<T> for DevResult<T> {
    fn op(self, op: &'static str) -> Result<T> {
        self.map_err(|msg| EngineError::Device { op, msg })
    }
}

/// Raw device memory and kernel launches. Pointers are device addresses (host addresses on the emulator).
/// Work is issued in order; copies to the host wait for the work before them.
pub trait Device: Send + Sync {
    /// One line: device name, memory, architecture.
    fn describe(&self) -> String;
    /// `bytes` (> 0) of device memory, contents unspecified.
    fn alloc(&self, bytes: usize) -> DevResult<u64>;
    /// Releases an allocation made by [`Device::alloc`] with the same size.
    fn free(&self, ptr: u64, bytes: usize);
    fn htod(&self, dst: u64, src: &[u8]) -> DevResult<()>;
    fn dtoh(&self, dst: &mut [u8], src: u64) -> DevResult<()>;
    fn dtod(&self, dst: u64, src: u64, bytes: usize) -> DevResult<()>;
    fn memset_zero(&self, dst: u64, bytes: usize) -> DevResult<()>;
    /// Launches `kernel` on a 1-D grid; `args[i]` holds the bytes of the kernel's i-th parameter.
    fn launch(&self, kernel: &'static str, grid: u32, block: u32, args: &[&[u8]]) -> DevResult<()>;
    fn synchronize(&self) -> DevResult<()>;
    /// Compiles a kernel generated at run time (`source` defines `extern "C" __global__ void <kernel>(..)` after
    /// `zkinfer_kernels::field_prelude`, and does not synchronise threads) and returns a handle for
    /// [`Device::launch_generated`]. Compiled once per source text: memoised here, and on disk by the compiler's cache.
    fn load_generated(&self, source: &str, kernel: &str) -> DevResult<usize>;
    /// Launches a kernel loaded by [`Device::load_generated`] (arguments as for [`Device::launch`]).
    fn launch_generated(&self, handle: usize, grid: u32, block: u32, args: &[&[u8]]) -> DevResult<()>;
    /// Device memory free now, bytes (what a memory plan may count on).
    fn memory_free(&self) -> DevResult<u64>;
    /// Device memory this device holds (allocations, including any kept for reuse) and its high-water mark.
    fn meter(&self) -> &MemoryMeter;
}

/// The generated kernels a device has loaded: each distinct (source, kernel) loaded once, handles in load order.
pub struct GeneratedKernels<T> {
    loaded: Vec<T>,
    handles: std::collections::HashMap<(String, String), usize>,
}

impl<T> Default for GeneratedKernels<T> {
    fn default() -> Self {
        GeneratedKernels { loaded: Vec::new(), handles: Default::default() }
    }
}

impl<T> GeneratedKernels<T> {
    /// The handle of (source, kernel), loading it with `load` the first time.
    pub fn handle(&mut self, source: &str, kernel: &str, load: impl FnOnce() -> DevResult<T>) -> DevResult<usize> {
        let key = (source.to_string(), kernel.to_string());
        if let Some(&h) = self.handles.get(&key) {
            return Ok(h);
        }
        self.loaded.push(load()?);
        self.handles.insert(key, self.loaded.len() - 1);
        Ok(self.loaded.len() - 1)
    }

    /// What `handle` refers to.
    pub fn get(&self, handle: usize) -> DevResult<&T> {
        self.loaded.get(handle).ok_or_else(|| format!("no generated kernel #{handle}"))
    }

    /// Everything loaded, in load order.
    pub fn all(&self) -> &[T] {
        &self.loaded
    }
}

/// Bytes of device memory held and the most held at once since the last [`MemoryMeter::reset_peak`].
#[derive(Debug, Default)]
pub struct MemoryMeter {
    held: AtomicU64,
    peak: AtomicU64,
}

impl MemoryMeter {
    pub fn allocated(&self, bytes: usize) {
        let now = self.held.fetch_add(bytes as u64, Ordering::SeqCst) + bytes as u64;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }
    pub fn released(&self, bytes: usize) {
        self.held.fetch_sub(bytes as u64, Ordering::SeqCst);
    }
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::SeqCst)
    }
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::SeqCst)
    }
    pub fn reset_peak(&self) {
        self.peak.store(self.held(), Ordering::SeqCst);
    }
}

/// An owned device allocation, freed on drop. A zero-length buffer holds no allocation (pointer 0).
pub struct DevBuf {
    dev: Arc<dyn Device>,
    ptr: u64,
    bytes: usize,
}

impl DevBuf {
    pub fn new(dev: &Arc<dyn Device>, bytes: usize) -> DevResult<DevBuf> {
        let ptr = if bytes == 0 { 0 } else { dev.alloc(bytes)? };
        Ok(DevBuf { dev: dev.clone(), ptr, bytes })
    }

    pub fn zeroed(dev: &Arc<dyn Device>, bytes: usize) -> DevResult<DevBuf> {
        let b = Self::new(dev, bytes)?;
        if bytes > 0 {
            dev.memset_zero(b.ptr, bytes)?;
        }
        Ok(b)
    }

    pub fn from_bytes(dev: &Arc<dyn Device>, data: &[u8]) -> DevResult<DevBuf> {
        let b = Self::new(dev, data.len())?;
        if !data.is_empty() {
            dev.htod(b.ptr, data)?;
        }
        Ok(b)
    }

    /// A device copy of `bytes` bytes starting at `src`.
    pub fn copy_of(dev: &Arc<dyn Device>, src: u64, bytes: usize) -> DevResult<DevBuf> {
        let b = Self::new(dev, bytes)?;
        if bytes > 0 {
            dev.dtod(b.ptr, src, bytes)?;
        }
        Ok(b)
    }

    pub fn ptr(&self) -> u64 {
        self.ptr
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn read(&self, out: &mut [u8]) -> DevResult<()> {
        if out.len() > self.bytes {
            return Err(format!("read of {} bytes from a {}-byte buffer", out.len(), self.bytes));
        }
        if out.is_empty() {
            return Ok(());
        }
        self.dev.dtoh(out, self.ptr)
    }

    pub fn write(&self, data: &[u8]) -> DevResult<()> {
        if data.len() > self.bytes {
            return Err(format!("write of {} bytes into a {}-byte buffer", data.len(), self.bytes));
        }
        if data.is_empty() {
            return Ok(());
        }
        self.dev.htod(self.ptr, data)
    }
}

impl Drop for DevBuf {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.dev.free(self.ptr, self.bytes);
        }
    }
}

/// A kernel parameter passed by value: its bytes are what the kernel receives.
pub trait KernelArg {
    fn arg_bytes(&self) -> &[u8];
}

impl KernelArg for u32 {
    fn arg_bytes(&self) -> &[u8] {
        bytemuck_like(std::slice::from_ref(self))
    }
}

/// Device pointers are 64-bit.
impl KernelArg for u64 {
    fn arg_bytes(&self) -> &[u8] {
        bytemuck_like(std::slice::from_ref(self))
    }
}

/// Fr by value: its 32 bytes in Montgomery form (the kernels' `Fr` struct).
impl KernelArg for Fr {
    fn arg_bytes(&self) -> &[u8] {
        fr_bytes(std::slice::from_ref(self))
    }
}

/// `[a, b, c]` → the byte slices of kernel arguments.
macro_rules! kargs {
    ($($a:expr),* $(,)?) => {
        &[$($crate::engine::cuda::device::KernelArg::arg_bytes(&$a)),*][..]
    };
}
pub(crate) use kargs;

fn bytemuck_like<T: Copy>(v: &[T]) -> &[u8] {
    // SAFETY: only used for u32 / u64 (no padding, every byte initialised).
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

// halo2curves' types are used on the device as they are: Fr / Fq are [u64; 4] little-endian Montgomery limbs and
// G1Affine is {x, y}. Checked here at compile time (sizes, field offsets) and at engine start-up (Montgomery form:
// `montgomery_layout_ok`).
const _: () = {
    assert!(std::mem::size_of::<Fr>() == 32);
    assert!(std::mem::size_of::<Fq>() == 32);
    assert!(std::mem::size_of::<G1Affine>() == 64);
    assert!(std::mem::offset_of!(G1Affine, x) == 0);
    assert!(std::mem::offset_of!(G1Affine, y) == 32);
};

pub fn fr_bytes(v: &[Fr]) -> &[u8] {
    // SAFETY: Fr is 32 bytes of plain limbs (checked above), no padding.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

pub fn fr_bytes_mut(v: &mut [Fr]) -> &mut [u8] {
    // SAFETY: as above; the device only ever writes reduced Montgomery limbs into Fr buffers (every kernel's outputs
    // are reduced mod r), which are valid Fr values.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, std::mem::size_of_val(v)) }
}

pub fn fq_bytes(v: &[Fq]) -> &[u8] {
    // SAFETY: Fq is 32 bytes of plain limbs.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

pub fn points_bytes(v: &[G1Affine]) -> &[u8] {
    // SAFETY: G1Affine is two Fq (64 bytes, checked above), no padding.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

/// Little-endian u64 limbs of 32 bytes.
pub fn limbs(b: &[u8]) -> [u64; 4] {
    let mut l = [0u64; 4];
    for (i, x) in l.iter_mut().enumerate() {
        *x = u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap());
    }
    l
}

const FQ_MODULUS: [u64; 4] = [0x3c208c16d87cfd47, 0x97816a916871ca8d, 0xb85045b68181585d, 0x30644e72e131a029];
const FR_MODULUS: [u64; 4] = [0x43e1f593f0000001, 0x2833e84879b97091, 0xb85045b68181585d, 0x30644e72e131a029];

fn less_than(a: &[u64; 4], m: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != m[i] {
            return a[i] < m[i];
        }
    }
    false
}

/// Fq from the device's Montgomery limbs, refusing an unreduced value (a kernel bug must not become a wrong point).
pub fn fq_from_device(b: &[u8]) -> DevResult<Fq> {
    let l = limbs(b);
    if !less_than(&l, &FQ_MODULUS) {
        return Err("device returned an unreduced Fq element".into());
    }
    // SAFETY: Fq is [u64; 4] in Montgomery form (size checked above, form checked by montgomery_layout_ok) and the
    // limbs are < q.
    Ok(unsafe { std::mem::transmute::<[u64; 4], Fq>(l) })
}

/// Fr from the device's Montgomery limbs (as `fq_from_device`).
pub fn fr_from_device(b: &[u8]) -> DevResult<Fr> {
    let l = limbs(b);
    if !less_than(&l, &FR_MODULUS) {
        return Err("device returned an unreduced Fr element".into());
    }
    // SAFETY: as for Fq.
    Ok(unsafe { std::mem::transmute::<[u64; 4], Fr>(l) })
}

/// Whether halo2curves still stores Fr / Fq as Montgomery [u64; 4] limbs (1 is R = 2^256 mod p) — the form the
/// kernels assume.
pub fn montgomery_layout_ok() -> bool {
    use halo2_proofs::halo2curves::ff::Field;
    const FR_R: [u64; 4] = [0xac96341c4ffffffb, 0x36fc76959f60cd29, 0x666ea36f7879462e, 0x0e0a77c19a07df2f];
    const FQ_R: [u64; 4] = [0xd35d438dc58f0d9d, 0x0a78eb28f5c70b3d, 0x666ea36f7879462c, 0x0e0a77c19a07df2f];
    limbs(fr_bytes(&[Fr::ONE])) == FR_R && limbs(fq_bytes(&[Fq::ONE])) == FQ_R
}

/// Blocks of `block` threads covering `n` threads (at least one block).
pub fn blocks_for(n: usize, block: u32) -> u32 {
    n.div_ceil(block as usize).max(1) as u32
}
