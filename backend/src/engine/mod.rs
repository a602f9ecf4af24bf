//! The `Engine` interface: the only place where the prover touches hardware.
//!
//! Design points:
//! - MSM bases (the SRS `g` and `g_lagrange`) are loaded once with [`Engine::load_bases`] and referred to by a
//!   [`Bases`] handle afterwards, so an engine may keep them resident (in device memory for a GPU) and may
//!   precompute per-base data at load time.
//! - Scalar data can live in engine-owned [`ScalarBuffer`]s across calls (NTT, element-wise ops, MSM) so a prover can
//!   keep polynomials resident instead of copying slices in and out on every call. Slice entry points exist for
//!   callers (like the stock-halo2 hook) that only hold host memory.
//! - Scalars and points are in the Montgomery form halo2curves uses; no engine converts formats on the host per call.
//! - Everything returns [`Result`]: a device or allocation failure is an error, never a wrong value.

pub mod cpu;
pub mod cuda;
pub mod program;
pub mod select;

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use halo2_proofs::halo2curves::ff::PrimeField;

pub use crate::{Fr, G1Affine, G1};
pub use select::EngineKind;

/// Errors an engine reports. Each names the operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{op}: {what} has {got} elements, expected {expected}")]
    LengthMismatch {
        op: &'static str,
        what: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("{op}: {scalars} scalars but the bases handle holds only {bases} points")]
    TooManyScalars {
        op: &'static str,
        scalars: usize,
        bases: usize,
    },
    #[error("{op}: length {len} is not a power of two (NTT domains have 2^k elements, k >= 0)")]
    NotPowerOfTwo { op: &'static str, len: usize },
    #[error("{op}: domain 2^{log_n} exceeds BN254 Fr's largest two-adic subgroup 2^{max_log}")]
    DomainTooLarge {
        op: &'static str,
        log_n: u32,
        max_log: u32,
    },
    #[error("{op}: the coset generator is zero")]
    ZeroCoset { op: &'static str },
    #[error("{op}: handle belongs to engine `{owner}` (#{owner_id}), not to `{engine}` (#{engine_id})")]
    ForeignHandle {
        op: &'static str,
        owner: &'static str,
        owner_id: u64,
        engine: &'static str,
        engine_id: u64,
    },
    #[error("{op}: engine `{engine}` is unavailable: {reason}")]
    Unavailable {
        op: &'static str,
        engine: &'static str,
        reason: String,
    },
    #[error("{op}: device error: {msg}")]
    Device { op: &'static str, msg: String },
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// Direction of a transform. `Forward` evaluates coefficients on the domain; `Inverse` interpolates (and divides by n).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NttDirection {
    Forward,
    Inverse,
}

/// Identifies one engine instance, so a handle made by one engine is never silently used by another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EngineId {
    pub name: &'static str,
    pub serial: u64,
}

impl EngineId {
    pub fn fresh(name: &'static str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        EngineId {
            name,
            serial: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Checks that a handle owned by `owner` may be used by `self`.
    pub fn check_owner(self, owner: EngineId, op: &'static str) -> Result<()> {
        if owner == self {
            Ok(())
        } else {
            Err(EngineError::ForeignHandle {
                op,
                owner: owner.name,
                owner_id: owner.serial,
                engine: self.name,
                engine_id: self.serial,
            })
        }
    }
}

/// Host memory holding MSM bases that an engine may share instead of copying (the CPU engine keeps an `Arc` to
/// it; a GPU engine uploads from it once).
pub trait BaseSource: Send + Sync {
    fn points(&self) -> &[G1Affine];
}

impl BaseSource for Vec<G1Affine> {
    fn points(&self) -> &[G1Affine] {
        self
    }
}

/// A set of MSM bases loaded into an engine. Cheap to clone; the engine's copy lives as long as any clone.
#[derive(Clone)]
pub struct Bases {
    owner: EngineId,
    len: usize,
    inner: Arc<dyn Any + Send + Sync>,
}

impl Bases {
    /// For engine implementations: wrap the engine's own representation.
    pub fn new(owner: EngineId, len: usize, inner: Arc<dyn Any + Send + Sync>) -> Self {
        Bases { owner, len, inner }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn owner(&self) -> EngineId {
        self.owner
    }
    /// For engine implementations: the engine's own representation, after checking ownership.
    pub fn downcast<T: Any>(&self, engine: EngineId, op: &'static str) -> Result<&T> {
        engine.check_owner(self.owner, op)?;
        self.inner.downcast_ref::<T>().ok_or(EngineError::Device {
            op,
            msg: "bases handle has an unexpected representation".into(),
        })
    }
}

impl fmt::Debug for Bases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bases({} points on {}#{})", self.len, self.owner.name, self.owner.serial)
    }
}

/// A vector of Fr owned by an engine (host memory for the CPU engine, device memory for a GPU engine).
pub struct ScalarBuffer {
    owner: EngineId,
    len: usize,
    inner: Box<dyn Any + Send + Sync>,
}

impl ScalarBuffer {
    /// For engine implementations: wrap the engine's own representation.
    pub fn new(owner: EngineId, len: usize, inner: Box<dyn Any + Send + Sync>) -> Self {
        ScalarBuffer { owner, len, inner }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn owner(&self) -> EngineId {
        self.owner
    }
    /// For engine implementations: the engine's own representation, after checking ownership.
    pub fn downcast<T: Any>(&self, engine: EngineId, op: &'static str) -> Result<&T> {
        engine.check_owner(self.owner, op)?;
        self.inner.downcast_ref::<T>().ok_or(EngineError::Device {
            op,
            msg: "buffer has an unexpected representation".into(),
        })
    }
    /// For engine implementations: mutable access to the engine's own representation.
    pub fn downcast_mut<T: Any>(&mut self, engine: EngineId, op: &'static str) -> Result<&mut T> {
        engine.check_owner(self.owner, op)?;
        self.inner.downcast_mut::<T>().ok_or(EngineError::Device {
            op,
            msg: "buffer has an unexpected representation".into(),
        })
    }
}

impl fmt::Debug for ScalarBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScalarBuffer({} scalars on {}#{})", self.len, self.owner.name, self.owner.serial)
    }
}

/// The hardware seam of the prover. All methods take `&self` and are thread-safe, so one engine serves a whole
/// prover (and halo2's internal rayon parallelism) at once.
pub trait Engine: Send + Sync + fmt::Debug {
    /// Identity of this instance (name + serial), used to check handle ownership.
    fn id(&self) -> EngineId;

    /// Short name: "cpu", "cuda".
    fn name(&self) -> &'static str {
        self.id().name
    }

    /// One line describing the hardware (threads, device name, memory).
    fn describe(&self) -> String;

    // ---- multi-scalar multiplication over BN254 G1 ----

    /// Loads MSM bases once; the engine may keep them resident and precompute per-base data.
    fn load_bases(&self, points: &[G1Affine]) -> Result<Bases>;

    /// Like [`Engine::load_bases`], from memory the engine may keep a reference to instead of copying.
    fn load_bases_shared(&self, source: Arc<dyn BaseSource>) -> Result<Bases> {
        self.load_bases(source.points())
    }

    /// `sum_i scalars[i] * bases[i]` over the first `scalars.len()` bases. An empty MSM is the identity.
    fn msm(&self, bases: &Bases, scalars: &[Fr]) -> Result<G1>;

    /// Several MSMs against the same bases (e.g. all advice columns of a phase).
    fn msm_batch(&self, bases: &Bases, scalars: &[&[Fr]]) -> Result<Vec<G1>> {
        scalars.iter().map(|s| self.msm(bases, s)).collect()
    }

    /// MSM whose scalars live in an engine buffer.
    fn msm_buffer(&self, bases: &Bases, scalars: &ScalarBuffer) -> Result<G1>;

    /// Several MSMs over engine buffers against the same bases; the buffers are left as they are.
    fn msm_batch_buffers(&self, bases: &Bases, scalars: &[&ScalarBuffer]) -> Result<Vec<G1>> {
        scalars.iter().map(|s| self.msm_buffer(bases, s)).collect()
    }

    // ---- number-theoretic transforms over Fr ----

    /// In-place NTT over the subgroup of size `values.len()` (a power of two), natural order in and out,
    /// using halo2's root of unity for that size (`Fr::ROOT_OF_UNITY` squared down). Inverse divides by n.
    fn ntt(&self, values: &mut [Fr], dir: NttDirection) -> Result<()>;

    /// NTT on the coset `coset * <omega>`. Forward: coefficients -> evaluations at `coset * omega^i` (scale a_j by
    /// coset^j, then NTT). Inverse: those evaluations -> coefficients.
    fn coset_ntt(&self, values: &mut [Fr], coset: Fr, dir: NttDirection) -> Result<()>;

    /// Several transforms of possibly different sizes.
    fn ntt_batch(&self, polys: &mut [&mut [Fr]], dir: NttDirection) -> Result<()> {
        polys.iter_mut().try_for_each(|p| self.ntt(p, dir))
    }

    /// Several coset transforms with one coset generator.
    fn coset_ntt_batch(&self, polys: &mut [&mut [Fr]], coset: Fr, dir: NttDirection) -> Result<()> {
        polys.iter_mut().try_for_each(|p| self.coset_ntt(p, coset, dir))
    }

    /// NTT of a resident buffer; `coset = None` for the plain domain.
    fn ntt_buffer(&self, buf: &mut ScalarBuffer, coset: Option<Fr>, dir: NttDirection) -> Result<()>;

    // ---- resident buffers and element-wise work ----

    /// A zero-filled buffer of `len` scalars.
    fn alloc(&self, len: usize) -> Result<ScalarBuffer>;
    /// A buffer holding a copy of `values`.
    fn upload(&self, values: &[Fr]) -> Result<ScalarBuffer>;
    /// Overwrites a buffer with `values` (same length), reusing its memory.
    fn write(&self, buf: &mut ScalarBuffer, values: &[Fr]) -> Result<()>;
    /// `buf` ← the forward coset NTT of the coefficients `values` on `coset`·H: [`Engine::write`] then
    /// [`Engine::ntt_buffer`], which an engine may fuse (the CPU engine reads `values` straight into its transform).
    fn write_coset_ntt(&self, buf: &mut ScalarBuffer, values: &[Fr], coset: Fr) -> Result<()> {
        self.write(buf, values)?;
        self.ntt_buffer(buf, Some(coset), NttDirection::Forward)
    }
    /// `dst = src` (same length), within the engine (device to device on a GPU).
    fn copy_from(&self, dst: &mut ScalarBuffer, src: &ScalarBuffer) -> Result<()>;
    /// Copies a buffer out; `out.len()` must equal the buffer's length.
    fn download(&self, buf: &ScalarBuffer, out: &mut [Fr]) -> Result<()>;
    /// `a[i] *= b[i]`.
    fn mul_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()>;
    /// `a[i] += b[i]`.
    fn add_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()>;
    /// `a[i] -= b[i]`.
    fn sub_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()>;
    /// `a[i] += c * b[i]`.
    fn add_scaled(&self, a: &mut ScalarBuffer, c: Fr, b: &ScalarBuffer) -> Result<()>;
    /// `a[i] *= c`.
    fn scale(&self, a: &mut ScalarBuffer, c: Fr) -> Result<()>;
    /// `a[i] *= c^i` (distributing powers, as when moving a polynomial onto a coset).
    fn distribute_powers(&self, a: &mut ScalarBuffer, c: Fr) -> Result<()>;

    /// Evaluates a [`program::RowProgram`] at every row: `out[r]` = the y-fold of the program's outputs at
    /// X = coset * omega^r, reading `columns[c][(r + rotation) mod n]`. All columns and `out` have length n.
    /// The prover's quotient numerator and lookup compressions run through this.
    fn evaluate_rows(
        &self,
        program: &program::RowProgram,
        columns: &[&[Fr]],
        coset: Fr,
        omega: Fr,
        y: Fr,
        out: &mut [Fr],
    ) -> Result<()>;

    /// [`Engine::evaluate_rows`] over resident buffers: `columns[c]` is None for a column the program does not read.
    fn evaluate_rows_buffers(
        &self,
        program: &program::RowProgram,
        columns: &[Option<&ScalarBuffer>],
        coset: Fr,
        omega: Fr,
        y: Fr,
        out: &mut ScalarBuffer,
    ) -> Result<()>;

    /// Device memory free for this engine's buffers now, bytes (None for engines working in host memory), so that
    /// a phase can plan what stays resident.
    fn device_memory_free(&self) -> Option<u64> {
        None
    }

    /// The most device memory this engine has held at once since it was made or since
    /// [`Engine::reset_device_memory_peak`], bytes (None for engines working in host memory).
    fn device_memory_peak(&self) -> Option<u64> {
        None
    }

    /// Starts a new [`Engine::device_memory_peak`] window at the memory held now.
    fn reset_device_memory_peak(&self) {}

    /// Waits for queued work (a no-op on the CPU).
    fn synchronize(&self) -> Result<()> {
        Ok(())
    }
}

/// Checks the shape of an `evaluate_rows` call: every column the program reads has `out`'s length (one it does
/// not read may be empty).
pub fn check_program_inputs(program: &program::RowProgram, columns: &[&[Fr]], out: &[Fr]) -> Result<()> {
    let lens: Vec<Option<usize>> = columns.iter().map(|c| Some(c.len()).filter(|&l| l > 0)).collect();
    check_program_shape(program, &lens, out.len(), "evaluate_rows")
}

/// As [`check_program_inputs`], from the columns' lengths (None: not given).
pub fn check_program_shape(program: &program::RowProgram, columns: &[Option<usize>], n: usize, op: &'static str) -> Result<()> {
    if columns.len() != program.num_columns {
        return Err(EngineError::LengthMismatch {
            op,
            what: "column list",
            got: columns.len(),
            expected: program.num_columns,
        });
    }
    let mut read = vec![false; program.num_columns];
    for o in &program.ops {
        if let program::Op::Column { column, .. } = o {
            read[*column as usize] = true;
        }
    }
    for (c, len) in columns.iter().enumerate() {
        if !read[c] && len.is_none() {
            continue;
        }
        let got = len.unwrap_or(0);
        if got != n {
            return Err(EngineError::LengthMismatch { op, what: "column", got, expected: n });
        }
    }
    Ok(())
}

/// log2 of an NTT length, checking it is a power of two inside Fr's two-adic subgroup.
pub fn ntt_log_size(len: usize, op: &'static str) -> Result<u32> {
    if len == 0 || !len.is_power_of_two() {
        return Err(EngineError::NotPowerOfTwo { op, len });
    }
    let log_n = len.trailing_zeros();
    if log_n > Fr::S {
        return Err(EngineError::DomainTooLarge {
            op,
            log_n,
            max_log: Fr::S,
        });
    }
    Ok(log_n)
}

/// The primitive 2^log_n-th root of unity halo2 uses for a domain of that size.
pub fn root_of_unity(log_n: u32) -> Fr {
    let mut w = Fr::ROOT_OF_UNITY;
    for _ in log_n..Fr::S {
        w = w.square();
    }
    w
}
