//! The CPU engine: rayon-parallel Pippenger MSM and four-step NTT on host memory.

pub mod fixed_base;
#[cfg(target_arch = "x86_64")]
pub mod ifma;
pub mod msm;
pub mod ntt;
pub mod xyzz;

use std::sync::Arc;

use halo2_proofs::halo2curves::ff::Field;
use rayon::prelude::*;

use super::program::block::BlockPlan;
use super::program::RowProgram;
use super::{check_program_inputs, ntt_log_size, BaseSource, Bases, Engine, EngineError, EngineId, NttDirection, Result, ScalarBuffer};
use crate::{Fr, G1Affine, G1};

/// Bases as the CPU engine keeps them: shared host points (no copy when loaded with `load_bases_shared`) and
/// whether any is the identity (so the hot loop only checks for it when it can occur).
pub struct CpuBases {
    pub source: Arc<dyn BaseSource>,
    pub has_identity: bool,
}

/// Host-memory engine. Uses the current rayon pool for parallelism.
pub struct CpuEngine {
    id: EngineId,
    tables: ntt::NttTables,
}

impl std::fmt::Debug for CpuEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CpuEngine#{}", self.id.serial)
    }
}

impl Default for CpuEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuEngine {
    pub fn new() -> Self {
        CpuEngine {
            id: EngineId::fresh("cpu"),
            tables: ntt::NttTables::default(),
        }
    }

    fn vec<'a>(&self, buf: &'a ScalarBuffer, op: &'static str) -> Result<&'a Vec<Fr>> {
        buf.downcast::<Vec<Fr>>(self.id, op)
    }

    fn vec_mut<'a>(&self, buf: &'a mut ScalarBuffer, op: &'static str) -> Result<&'a mut Vec<Fr>> {
        buf.downcast_mut::<Vec<Fr>>(self.id, op)
    }

    fn zip_apply(
        &self,
        a: &mut ScalarBuffer,
        b: &ScalarBuffer,
        op: &'static str,
        f: impl Fn(&mut Fr, &Fr) + Sync + Send,
    ) -> Result<()> {
        let b = self.vec(b, op)?;
        let a = self.vec_mut(a, op)?;
        if a.len() != b.len() {
            return Err(EngineError::LengthMismatch {
                op,
                what: "right operand",
                got: b.len(),
                expected: a.len(),
            });
        }
        a.par_iter_mut().zip(b.par_iter()).for_each(|(x, y)| f(x, y));
        Ok(())
    }
}

impl Engine for CpuEngine {
    fn id(&self) -> EngineId {
        self.id
    }

    fn describe(&self) -> String {
        format!("CPU engine, {} rayon threads", rayon::current_num_threads())
    }

    fn load_bases(&self, points: &[G1Affine]) -> Result<Bases> {
        self.load_bases_shared(Arc::new(points.to_vec()))
    }

    fn load_bases_shared(&self, source: Arc<dyn BaseSource>) -> Result<Bases> {
        let points = source.points();
        let has_identity = points.par_iter().any(xyzz::is_affine_identity);
        let len = points.len();
        Ok(Bases::new(self.id, len, Arc::new(CpuBases { source, has_identity })))
    }

    fn msm(&self, bases: &Bases, scalars: &[Fr]) -> Result<G1> {
        const OP: &str = "msm";
        let b = bases.downcast::<CpuBases>(self.id, OP)?;
        let points = b.source.points();
        if scalars.len() > points.len() {
            return Err(EngineError::TooManyScalars {
                op: OP,
                scalars: scalars.len(),
                bases: points.len(),
            });
        }
        Ok(msm::msm(points, b.has_identity, scalars))
    }

    fn msm_buffer(&self, bases: &Bases, scalars: &ScalarBuffer) -> Result<G1> {
        let s = self.vec(scalars, "msm_buffer")?;
        self.msm(bases, s)
    }

    fn ntt(&self, values: &mut [Fr], dir: NttDirection) -> Result<()> {
        let log_n = ntt_log_size(values.len(), "ntt")?;
        self.tables.transform(values, log_n, dir);
        Ok(())
    }

    fn coset_ntt(&self, values: &mut [Fr], coset: Fr, dir: NttDirection) -> Result<()> {
        let (log_n, coset_inv) = coset_transform("coset_ntt", values.len(), coset)?;
        match dir {
            NttDirection::Forward => self.tables.coset_forward(None, values, log_n, coset),
            NttDirection::Inverse => {
                self.tables.transform(values, log_n, dir);
                ntt::distribute_powers(values, coset_inv);
            }
        }
        Ok(())
    }

    fn ntt_buffer(&self, buf: &mut ScalarBuffer, coset: Option<Fr>, dir: NttDirection) -> Result<()> {
        let v = self.vec_mut(buf, "ntt_buffer")?;
        match coset {
            None => self.ntt(v, dir),
            Some(g) => self.coset_ntt(v, g, dir),
        }
    }

    fn evaluate_rows(
        &self,
        program: &RowProgram,
        columns: &[&[Fr]],
        coset: Fr,
        omega: Fr,
        y: Fr,
        out: &mut [Fr],
    ) -> Result<()> {
        check_program_inputs(program, columns, out)?;
        // Block-wise (program/block.rs): each thread takes CHUNK rows with its own scratch.
        const CHUNK: usize = 1 << 12;
        let plan = BlockPlan::new(program);
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, chunk)| {
            let start = ci * CHUNK;
            let x = coset * omega.pow_vartime([start as u64]);
            #[cfg(target_arch = "x86_64")]
            if let Some(ifma) = self.tables.uses_lanes().then(ifma::Ifma::detect).flatten() {
                return plan.eval_rows_lanes(ifma, columns, start, x, omega, y, &mut plan.lane_scratch(ifma), chunk);
            }
            plan.eval_rows(columns, start, x, omega, y, &mut plan.scratch(), chunk);
        });
        Ok(())
    }

    fn alloc(&self, len: usize) -> Result<ScalarBuffer> {
        Ok(ScalarBuffer::new(self.id, len, Box::new(vec![Fr::ZERO; len])))
    }

    fn upload(&self, values: &[Fr]) -> Result<ScalarBuffer> {
        Ok(ScalarBuffer::new(self.id, values.len(), Box::new(values.to_vec())))
    }

    fn write(&self, buf: &mut ScalarBuffer, values: &[Fr]) -> Result<()> {
        const OP: &str = "write";
        copy_into(OP, "values", self.vec_mut(buf, OP)?, values)
    }

    fn write_coset_ntt(&self, buf: &mut ScalarBuffer, values: &[Fr], coset: Fr) -> Result<()> {
        const OP: &str = "write_coset_ntt";
        let out = self.vec_mut(buf, OP)?;
        if out.len() != values.len() {
            return Err(EngineError::LengthMismatch { op: OP, what: "values", expected: out.len(), got: values.len() });
        }
        let (log_n, _) = coset_transform(OP, out.len(), coset)?;
        self.tables.coset_forward(Some(values), out, log_n, coset);
        Ok(())
    }

    fn copy_from(&self, dst: &mut ScalarBuffer, src: &ScalarBuffer) -> Result<()> {
        const OP: &str = "copy_from";
        copy_into(OP, "source", self.vec_mut(dst, OP)?, self.vec(src, OP)?)
    }

    fn evaluate_rows_buffers(
        &self,
        program: &RowProgram,
        columns: &[Option<&ScalarBuffer>],
        coset: Fr,
        omega: Fr,
        y: Fr,
        out: &mut ScalarBuffer,
    ) -> Result<()> {
        const OP: &str = "evaluate_rows_buffers";
        let cols: Vec<&[Fr]> = columns
            .iter()
            .map(|c| c.map_or(Ok(&[][..]), |b| self.vec(b, OP).map(Vec::as_slice)))
            .collect::<Result<_>>()?;
        let out = self.vec_mut(out, OP)?;
        self.evaluate_rows(program, &cols, coset, omega, y, out)
    }

    fn download(&self, buf: &ScalarBuffer, out: &mut [Fr]) -> Result<()> {
        const OP: &str = "download";
        let v = self.vec(buf, OP)?;
        if v.len() != out.len() {
            return Err(EngineError::LengthMismatch {
                op: OP,
                what: "output slice",
                got: out.len(),
                expected: v.len(),
            });
        }
        out.copy_from_slice(v);
        Ok(())
    }

    fn mul_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()> {
        self.zip_apply(a, b, "mul_assign", |x, y| *x *= y)
    }

    fn add_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()> {
        self.zip_apply(a, b, "add_assign", |x, y| *x += y)
    }

    fn sub_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()> {
        self.zip_apply(a, b, "sub_assign", |x, y| *x -= y)
    }

    fn add_scaled(&self, a: &mut ScalarBuffer, c: Fr, b: &ScalarBuffer) -> Result<()> {
        self.zip_apply(a, b, "add_scaled", move |x, y| *x += c * y)
    }

    fn scale(&self, a: &mut ScalarBuffer, c: Fr) -> Result<()> {
        self.vec_mut(a, "scale")?.par_iter_mut().for_each(|x| *x *= c);
        Ok(())
    }

    fn distribute_powers(&self, a: &mut ScalarBuffer, c: Fr) -> Result<()> {
        ntt::distribute_powers(self.vec_mut(a, "distribute_powers")?, c);
        Ok(())
    }
}

/// Whether this CPU runs the IFMA lane kernels (`ifma::available`); false off x86-64.
fn lanes_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return ifma::available();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// A coset transform's log size and 1/coset, refusing a length that is not a power of two and a zero coset.
fn coset_transform(op: &'static str, len: usize, coset: Fr) -> Result<(u32, Fr)> {
    let log_n = ntt_log_size(len, op)?;
    let coset_inv = Option::<Fr>::from(coset.invert()).ok_or(EngineError::ZeroCoset { op })?;
    Ok((log_n, coset_inv))
}

/// `dst = src` in parallel, refusing a length mismatch.
fn copy_into(op: &'static str, what: &'static str, dst: &mut [Fr], src: &[Fr]) -> Result<()> {
    if dst.len() != src.len() {
        return Err(EngineError::LengthMismatch { op, what, got: src.len(), expected: dst.len() });
    }
    dst.par_chunks_mut(1 << 14).zip(src.par_chunks(1 << 14)).for_each(|(d, s)| d.copy_from_slice(s));
    Ok(())
}
