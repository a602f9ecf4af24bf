//! The CUDA engine: MSM, NTT and element-wise work on an NVIDIA GPU, with bases, twiddles and scalar buffers resident
//! in device memory. Kernels are CUDA C (crate `zkinfer-kernels`), compiled by NVRTC for the device at first use
//! and cached on disk.
//!
//! The orchestration (launch sequences, buffers, windows, twiddles) is written once against [`device::Device`] and
//! runs on the GPU through cudarc (feature `cuda`, [`CudaEngine::new`]) or on the host emulator
//! ([`CudaEngine::emulated`], kernels compiled by g++), which is how it is tested without a GPU.

pub mod buffers;
#[cfg(feature = "cuda")]
pub mod compile;
pub mod device;
#[cfg(feature = "cuda")]
pub mod driver;
pub mod emu;
pub mod msm;
pub mod ntt;
pub mod row_kernel;

use std::sync::{Arc, Mutex, MutexGuard};

use halo2_proofs::halo2curves::group::Group;

use self::buffers::DevScalars;
use self::device::{points_bytes, DevBuf, DevResult, Device, OpErr};
use self::msm::DevBases;
use super::{check_program_inputs, check_program_shape, ntt_log_size, program, Bases, Engine, EngineError, EngineId, NttDirection, Result, ScalarBuffer};
use crate::{Fr, G1Affine, G1};

/// The GPU engine. All methods are thread-safe; device work is serialised per engine.
pub struct CudaEngine {
    id: EngineId,
    dev: Arc<dyn Device>,
    twiddles: ntt::Twiddles,
    /// One operation at a time: launch sequences share the device's single stream.
    lock: Mutex<()>,
}

impl std::fmt::Debug for CudaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CudaEngine#{} ({})", self.id.serial, self.dev.describe())
    }
}

impl CudaEngine {
    /// The engine on CUDA device 0, or `Unavailable` with the reason (no driver, no device, no NVRTC, kernels that
    /// do not compile). Never panics on a machine without a GPU.
    #[cfg(feature = "cuda")]
    pub fn new() -> Result<Self> {
        let dev = driver::CudaDevice::open().map_err(|reason| EngineError::Unavailable {
            op: "CudaEngine::new",
            engine: "cuda",
            reason,
        })?;
        Self::with_device(Arc::new(dev), "cuda")
    }

    /// Without the `cuda` feature there is no GPU engine: always `Unavailable`.
    #[cfg(not(feature = "cuda"))]
    pub fn new() -> Result<Self> {
        Err(EngineError::Unavailable {
            op: "CudaEngine::new",
            engine: "cuda",
            reason: "this build has no CUDA support (rebuild with `--features cuda`)".into(),
        })
    }

    /// The same engine on the host emulator (kernels compiled by g++ and run on the CPU). For tests: slow.
    pub fn emulated() -> Result<Self> {
        let dev = emu::EmuDevice::new().map_err(|reason| EngineError::Unavailable {
            op: "CudaEngine::emulated",
            engine: "cuda-emu",
            reason,
        })?;
        Self::with_device(Arc::new(dev), "cuda-emu")
    }

    /// The emulated engine with `memory` bytes of pretend device memory: for tests of memory plans.
    #[doc(hidden)]
    pub fn emulated_with_memory(memory: u64) -> Result<Self> {
        let dev = emu::EmuDevice::with_memory(memory).map_err(|reason| EngineError::Unavailable {
            op: "CudaEngine::emulated",
            engine: "cuda-emu",
            reason,
        })?;
        Self::with_device(Arc::new(dev), "cuda-emu")
    }

    fn with_device(dev: Arc<dyn Device>, name: &'static str) -> Result<Self> {
        if !device::montgomery_layout_ok() {
            return Err(EngineError::Unavailable {
                op: "CudaEngine::new",
                engine: name,
                reason: "halo2curves' Fr/Fq are not Montgomery [u64; 4] limbs as the kernels expect".into(),
            });
        }
        Ok(CudaEngine {
            id: EngineId::fresh(name),
            dev,
            twiddles: ntt::Twiddles::default(),
            lock: Mutex::new(()),
        })
    }

    fn guard(&self, op: &'static str) -> Result<MutexGuard<'_, ()>> {
        self.lock.lock().map_err(|_| EngineError::Device { op, msg: "engine lock poisoned".into() })
    }

    fn scalars<'a>(&self, buf: &'a ScalarBuffer, op: &'static str) -> Result<&'a DevScalars> {
        buf.downcast::<DevScalars>(self.id, op)
    }

    fn scalars_mut<'a>(&self, buf: &'a mut ScalarBuffer, op: &'static str) -> Result<&'a mut DevScalars> {
        buf.downcast_mut::<DevScalars>(self.id, op)
    }

    fn wrap(&self, s: DevScalars) -> ScalarBuffer {
        let len = s.len;
        ScalarBuffer::new(self.id, len, Box::new(s))
    }

    /// MSM with an explicit window width (1..=20) and place of the window combination: for tests of the digit /
    /// bucket logic and of the device combination kernel.
    #[doc(hidden)]
    pub fn msm_with_options(&self, bases: &Bases, scalars: &[Fr], window: u32, combine: msm::Combine) -> Result<G1> {
        const OP: &str = "msm";
        let b = self.bases(bases, scalars.len(), OP)?;
        let _g = self.guard(OP)?;
        let s = buffers::upload(&self.dev, scalars).op(OP)?;
        msm::msm(&self.dev, b, s.buf.ptr(), s.len, window, combine).op(OP)
    }

    fn bases<'a>(&self, bases: &'a Bases, n: usize, op: &'static str) -> Result<&'a DevBases> {
        let b = bases.downcast::<DevBases>(self.id, op)?;
        if n > b.len {
            return Err(EngineError::TooManyScalars { op, scalars: n, bases: b.len });
        }
        Ok(b)
    }

    fn binary(&self, a: &mut ScalarBuffer, b: &ScalarBuffer, op: &'static str, kernel: &'static str) -> Result<()> {
        let b = self.scalars(b, op)?;
        let a = self.scalars(a, op)?;
        check_len(op, a, b)?;
        let _g = self.guard(op)?;
        buffers::zip(&self.dev, kernel, a, b).op(op)
    }

    /// Field arithmetic through the test kernels: for each i, [a+b, a−b, a·b, a², a⁻¹ (0 for 0), a out of
    /// Montgomery form] as raw 32-byte limbs. `fq` selects Fq (else Fr); inputs are Montgomery limbs.
    /// `Unavailable` unless the program has the test kernels (zkinfer-kernels feature `test-kernels`, which the
    /// backend's tests enable).
    #[doc(hidden)]
    pub fn field_ops_raw(&self, fq: bool, a: &[[u64; 4]], b: &[[u64; 4]]) -> Result<Vec<[u64; 4]>> {
        const OP: &str = "field_ops";
        if !zkinfer_kernels::WITH_TEST_KERNELS {
            return Err(EngineError::Unavailable {
                op: OP,
                engine: "cuda",
                reason: "the kernel program was built without the test kernels (zkinfer-kernels feature `test-kernels`)"
                    .into(),
            });
        }
        let _g = self.guard(OP)?;
        let n = a.len().min(b.len());
        let bytes = |v: &[[u64; 4]]| v.iter().flat_map(|l| l.iter().flat_map(|x| x.to_le_bytes())).collect::<Vec<u8>>();
        let da = DevBuf::from_bytes(&self.dev, &bytes(&a[..n])).op(OP)?;
        let db = DevBuf::from_bytes(&self.dev, &bytes(&b[..n])).op(OP)?;
        let out = DevBuf::new(&self.dev, n * 6 * 32).op(OP)?;
        if n > 0 {
            let kernel = if fq { "test_fq_ops" } else { "test_fr_ops" };
            self.dev
                .launch(kernel, device::blocks_for(n, 64), 64, device::kargs![da.ptr(), db.ptr(), out.ptr(), n as u32])
                .op(OP)?;
        }
        let mut raw = vec![0u8; n * 6 * 32];
        out.read(&mut raw).op(OP)?;
        Ok(raw.chunks(32).map(device::limbs).collect())
    }
}

fn check_len(op: &'static str, a: &DevScalars, b: &DevScalars) -> Result<()> {
    if a.len != b.len {
        return Err(EngineError::LengthMismatch { op, what: "right operand", got: b.len, expected: a.len });
    }
    Ok(())
}

impl Engine for CudaEngine {
    fn id(&self) -> EngineId {
        self.id
    }

    fn describe(&self) -> String {
        format!("CUDA engine: {}", self.dev.describe())
    }

    fn device_memory_peak(&self) -> Option<u64> {
        Some(self.dev.meter().peak())
    }

    fn reset_device_memory_peak(&self) {
        self.dev.meter().reset_peak();
    }

    fn load_bases(&self, points: &[G1Affine]) -> Result<Bases> {
        const OP: &str = "load_bases";
        let _g = self.guard(OP)?;
        let buf = DevBuf::from_bytes(&self.dev, points_bytes(points)).op(OP)?;
        Ok(Bases::new(self.id, points.len(), Arc::new(DevBases { buf, len: points.len() })))
    }

    fn msm(&self, bases: &Bases, scalars: &[Fr]) -> Result<G1> {
        self.msm_with_options(bases, scalars, msm::window_for(scalars.len()), msm::Combine::Host)
    }

    fn msm_buffer(&self, bases: &Bases, scalars: &ScalarBuffer) -> Result<G1> {
        const OP: &str = "msm_buffer";
        let s = self.scalars(scalars, OP)?;
        let b = self.bases(bases, s.len, OP)?;
        let _g = self.guard(OP)?;
        msm::msm(&self.dev, b, s.buf.ptr(), s.len, msm::window_for(s.len), msm::Combine::Host).op(OP)
    }

    /// Host columns go up in chunks of at most a third of the free device memory; each chunk's columns are
    /// prepared in place (the uploads are this call's own) and summed as batches ([`msm::msm_batch`]).
    fn msm_batch(&self, bases: &Bases, scalars: &[&[Fr]]) -> Result<Vec<G1>> {
        const OP: &str = "msm_batch";
        let b = self.bases(bases, scalars.iter().map(|s| s.len()).max().unwrap_or(0), OP)?;
        let _g = self.guard(OP)?;
        let budget = self.dev.memory_free().op(OP)? / 3;
        let mut sums = Vec::with_capacity(scalars.len());
        for range in chunks_within(scalars.iter().map(|s| s.len()), budget) {
            let up: Vec<DevScalars> =
                scalars[range].iter().map(|s| buffers::upload(&self.dev, s)).collect::<DevResult<_>>().op(OP)?;
            let refs: Vec<&DevScalars> = up.iter().collect();
            sums.extend(self.batch_by_width(b, &refs, msm::Prep::InPlace, budget).op(OP)?);
        }
        Ok(sums)
    }

    /// The buffers stay as they are: each column is prepared into a copy, at most a third of the free device
    /// memory of copies at once.
    fn msm_batch_buffers(&self, bases: &Bases, scalars: &[&ScalarBuffer]) -> Result<Vec<G1>> {
        const OP: &str = "msm_batch_buffers";
        let cols = scalars.iter().map(|s| self.scalars(s, OP)).collect::<Result<Vec<_>>>()?;
        let b = self.bases(bases, cols.iter().map(|s| s.len).max().unwrap_or(0), OP)?;
        let _g = self.guard(OP)?;
        let budget = self.dev.memory_free().op(OP)? / 3;
        let mut sums = Vec::with_capacity(cols.len());
        for range in chunks_within(cols.iter().map(|s| s.len), budget) {
            sums.extend(self.batch_by_width(b, &cols[range], msm::Prep::Copy, budget).op(OP)?);
        }
        Ok(sums)
    }

    fn ntt(&self, values: &mut [Fr], dir: NttDirection) -> Result<()> {
        const OP: &str = "ntt";
        let log_n = ntt_log_size(values.len(), OP)?;
        self.ntt_host(values, log_n, dir, None, OP)
    }

    fn coset_ntt(&self, values: &mut [Fr], coset: Fr, dir: NttDirection) -> Result<()> {
        const OP: &str = "coset_ntt";
        let log_n = ntt_log_size(values.len(), OP)?;
        let c = coset_pair(coset, OP)?;
        self.ntt_host(values, log_n, dir, Some(c), OP)
    }

    fn ntt_buffer(&self, buf: &mut ScalarBuffer, coset: Option<Fr>, dir: NttDirection) -> Result<()> {
        const OP: &str = "ntt_buffer";
        let s = self.scalars_mut(buf, OP)?;
        let log_n = ntt_log_size(s.len, OP)?;
        let c = coset.map(|g| coset_pair(g, OP)).transpose()?;
        let _g = self.guard(OP)?;
        ntt::ntt(&self.dev, &self.twiddles, &mut s.buf, log_n, dir, c).op(OP)
    }

    /// Host slices in, host slice out: the columns the program reads are uploaded, the program runs on the device
    /// ([`row_kernel`]), the result comes back.
    fn evaluate_rows(
        &self,
        program: &program::RowProgram,
        columns: &[&[Fr]],
        coset: Fr,
        omega: Fr,
        y: Fr,
        out: &mut [Fr],
    ) -> Result<()> {
        const OP: &str = "evaluate_rows";
        check_program_inputs(program, columns, out)?;
        let kernel = row_kernel::RowKernel::new(program);
        let _g = self.guard(OP)?;
        let mut held = Vec::new();
        let mut ptrs = vec![0u64; columns.len()];
        for (c, col) in columns.iter().enumerate() {
            if kernel.reads[c] {
                let b = buffers::upload(&self.dev, col).op(OP)?;
                ptrs[c] = b.buf.ptr();
                held.push(b);
            }
        }
        let res = buffers::zeros(&self.dev, out.len()).op(OP)?;
        self.run_rows(&kernel, &ptrs, out.len(), res.buf.ptr(), coset, omega, y, OP)?;
        buffers::download(&res.buf, out).op(OP)
    }

    fn evaluate_rows_buffers(
        &self,
        program: &program::RowProgram,
        columns: &[Option<&ScalarBuffer>],
        coset: Fr,
        omega: Fr,
        y: Fr,
        out: &mut ScalarBuffer,
    ) -> Result<()> {
        const OP: &str = "evaluate_rows_buffers";
        let cols: Vec<Option<&DevScalars>> =
            columns.iter().map(|c| c.map(|b| self.scalars(b, OP)).transpose()).collect::<Result<_>>()?;
        let n = out.len();
        let lens: Vec<Option<usize>> = cols.iter().map(|c| c.map(|s| s.len)).collect();
        check_program_shape(program, &lens, n, OP)?;
        let ptrs: Vec<u64> = cols.iter().map(|c| c.map_or(0, |s| s.buf.ptr())).collect();
        let out_ptr = self.scalars(out, OP)?.buf.ptr();
        let kernel = row_kernel::RowKernel::new(program);
        let _g = self.guard(OP)?;
        self.run_rows(&kernel, &ptrs, n, out_ptr, coset, omega, y, OP)
    }

    fn write(&self, buf: &mut ScalarBuffer, values: &[Fr]) -> Result<()> {
        const OP: &str = "write";
        let s = self.scalars(buf, OP)?;
        if s.len != values.len() {
            return Err(EngineError::LengthMismatch { op: OP, what: "values", got: values.len(), expected: s.len });
        }
        let _g = self.guard(OP)?;
        s.buf.write(device::fr_bytes(values)).op(OP)
    }

    fn copy_from(&self, dst: &mut ScalarBuffer, src: &ScalarBuffer) -> Result<()> {
        const OP: &str = "copy_from";
        let s = self.scalars(src, OP)?;
        let d = self.scalars(dst, OP)?;
        check_len(OP, d, s)?;
        if s.len == 0 {
            return Ok(());
        }
        let _g = self.guard(OP)?;
        self.dev.dtod(d.buf.ptr(), s.buf.ptr(), s.len * 32).op(OP)
    }

    fn device_memory_free(&self) -> Option<u64> {
        self.dev.memory_free().ok()
    }

    fn alloc(&self, len: usize) -> Result<ScalarBuffer> {
        let _g = self.guard("alloc")?;
        Ok(self.wrap(buffers::zeros(&self.dev, len).op("alloc")?))
    }

    fn upload(&self, values: &[Fr]) -> Result<ScalarBuffer> {
        let _g = self.guard("upload")?;
        Ok(self.wrap(buffers::upload(&self.dev, values).op("upload")?))
    }

    fn download(&self, buf: &ScalarBuffer, out: &mut [Fr]) -> Result<()> {
        const OP: &str = "download";
        let s = self.scalars(buf, OP)?;
        if s.len != out.len() {
            return Err(EngineError::LengthMismatch { op: OP, what: "output slice", got: out.len(), expected: s.len });
        }
        let _g = self.guard(OP)?;
        buffers::download(&s.buf, out).op(OP)
    }

    fn mul_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()> {
        self.binary(a, b, "mul_assign", "fr_mul_assign")
    }

    fn add_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()> {
        self.binary(a, b, "add_assign", "fr_add_assign")
    }

    fn sub_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()> {
        self.binary(a, b, "sub_assign", "fr_sub_assign")
    }

    fn add_scaled(&self, a: &mut ScalarBuffer, c: Fr, b: &ScalarBuffer) -> Result<()> {
        const OP: &str = "add_scaled";
        let b = self.scalars(b, OP)?;
        let a = self.scalars(a, OP)?;
        check_len(OP, a, b)?;
        let _g = self.guard(OP)?;
        buffers::add_scaled(&self.dev, a, c, b).op(OP)
    }

    fn scale(&self, a: &mut ScalarBuffer, c: Fr) -> Result<()> {
        const OP: &str = "scale";
        let a = self.scalars(a, OP)?;
        let _g = self.guard(OP)?;
        buffers::scale(&self.dev, a, c).op(OP)
    }

    fn distribute_powers(&self, a: &mut ScalarBuffer, c: Fr) -> Result<()> {
        const OP: &str = "distribute_powers";
        let a = self.scalars(a, OP)?;
        let _g = self.guard(OP)?;
        ntt::distribute_powers(&self.dev, a.buf.ptr(), a.len, c).op(OP)
    }

    fn synchronize(&self) -> Result<()> {
        self.dev.synchronize().op("synchronize")
    }
}

impl CudaEngine {
    /// Runs a row program's kernel over `n` rows: column c at device address `ptrs[c]` (0 if unread), results to
    /// `out`. The caller holds the engine lock.
    #[allow(clippy::too_many_arguments)]
    fn run_rows(
        &self,
        kernel: &row_kernel::RowKernel,
        ptrs: &[u64],
        n: usize,
        out: u64,
        coset: Fr,
        omega: Fr,
        y: Fr,
        op: &'static str,
    ) -> Result<()> {
        let h = self.dev.load_generated(&kernel.source, row_kernel::KERNEL).op(op)?;
        if n == 0 {
            return Ok(());
        }
        let ptr_bytes: Vec<u8> = ptrs.iter().flat_map(|p| p.to_le_bytes()).collect();
        let cols = DevBuf::from_bytes(&self.dev, &ptr_bytes).op(op)?;
        let tab = DevBuf::from_bytes(&self.dev, device::fr_bytes(&kernel.table(coset, omega, y))).op(op)?;
        let grid = device::blocks_for(n, row_kernel::BLOCK);
        self.dev
            .launch_generated(h, grid, row_kernel::BLOCK, device::kargs![cols.ptr(), out, n as u32, tab.ptr()])
            .op(op)
    }

    /// [`msm::msm_batch`] over `cols`, one batch per window width (each column keeps the width it would have
    /// alone); sums in the order of `cols`. The caller holds the engine lock.
    fn batch_by_width(
        &self,
        bases: &DevBases,
        cols: &[&DevScalars],
        prep: msm::Prep,
        budget: u64,
    ) -> DevResult<Vec<G1>> {
        let mut sums = vec![G1::identity(); cols.len()];
        let mut widths: Vec<u32> = cols.iter().map(|s| msm::window_for(s.len)).collect();
        widths.sort_unstable();
        widths.dedup();
        for c in widths {
            let at: Vec<usize> = (0..cols.len()).filter(|&i| msm::window_for(cols[i].len) == c).collect();
            let batch: Vec<msm::Column> =
                at.iter().map(|&i| msm::Column { scalars: cols[i].buf.ptr(), n: cols[i].len }).collect();
            let got = msm::msm_batch(&self.dev, bases, &batch, c, msm::Combine::Host, prep, budget)?;
            for (i, g) in at.into_iter().zip(got) {
                sums[i] = g;
            }
        }
        Ok(sums)
    }

    /// Host slice in, host slice out: upload, transform on the device, download.
    fn ntt_host(
        &self,
        values: &mut [Fr],
        log_n: u32,
        dir: NttDirection,
        coset: Option<(Fr, Fr)>,
        op: &'static str,
    ) -> Result<()> {
        let _g = self.guard(op)?;
        let mut s = buffers::upload(&self.dev, values).op(op)?;
        ntt::ntt(&self.dev, &self.twiddles, &mut s.buf, log_n, dir, coset).op(op)?;
        buffers::download(&s.buf, values).op(op)
    }
}

/// Consecutive ranges of columns (lengths `lens`) whose scalars (32 bytes each) fit `budget` bytes together; a
/// column alone may exceed it.
fn chunks_within(lens: impl Iterator<Item = usize>, budget: u64) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    let mut bytes = 0u64;
    for (i, len) in lens.enumerate() {
        let b = len as u64 * 32;
        match out.last_mut() {
            Some(r) if bytes + b <= budget => {
                r.end = i + 1;
                bytes += b;
            }
            _ => {
                out.push(i..i + 1);
                bytes = b;
            }
        }
    }
    out
}

/// (g, g^-1), refusing g = 0.
fn coset_pair(g: Fr, op: &'static str) -> Result<(Fr, Fr)> {
    let inv = Option::<Fr>::from(g.invert()).ok_or(EngineError::ZeroCoset { op })?;
    Ok((g, inv))
}
