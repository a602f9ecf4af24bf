//! Row programs on the device: CUDA C generated from a [`RowProgram`] (one thread per row, the program as
//! straight-line field arithmetic), compiled once per program shape by NVRTC (or g++ on the emulator) and launched
//! over resident columns.
//!
//! The generated source depends only on the program's structure — which ops, which columns and rotations, which
//! constant slot — never on the constants' values: constants and scale factors are read from a table passed at
//! launch. The quotient's programs carry the transcript's challenges (y-powers, β, γ, θ) as constants, so the same
//! circuit gives the same source proof after proof, and the compiled kernel is reused (memoised per device, and on
//! disk by the NVRTC cache).
//!
//! Kernel `row_program(const u64* cols, Fr* out, u32 n, const Fr* tab)`:
//! - `cols[c]` is column c's device address (0 for a column the program does not read), each of `n` scalars;
//! - `tab` = [g, y, ω^(2^0), ω^(2^1), …, ω^(2^31), constants…] (`TAB_CONSTANTS` = 34 is the first constant);
//! - row r: X = g·ω^r, column reads wrap mod n, outputs folded as acc = acc·y + value, `out[r]` = acc.
//!   Same semantics as [`crate::engine::program::eval_row`]; field arithmetic is exact, so the same values bit for
//!   bit.

use std::collections::HashMap;
use std::fmt::Write;

use halo2_proofs::halo2curves::ff::PrimeField;

use crate::engine::program::{Op, RowProgram};
use crate::Fr;

/// The generated kernel's name.
pub const KERNEL: &str = "row_program";
/// Threads per block of a launch.
pub const BLOCK: u32 = 128;
/// Index of the first constant in the launch table (after g, y and 32 powers ω^(2^b)).
pub const TAB_CONSTANTS: usize = 34;

/// A program translated for the device.
pub struct RowKernel {
    /// CUDA C defining [`KERNEL`] (compiled after `zkinfer_kernels::field_prelude`).
    pub source: String,
    /// The constant table's values, slot by slot.
    pub constants: Vec<Fr>,
    /// Whether column c is read.
    pub reads: Vec<bool>,
}

impl RowKernel {
    pub fn new(p: &RowProgram) -> RowKernel {
        let mut constants: Vec<Fr> = Vec::new();
        let mut slot_of: HashMap<[u8; 32], usize> = HashMap::new();
        let mut slot = |c: Fr| {
            *slot_of.entry(c.to_repr()).or_insert_with(|| {
                constants.push(c);
                constants.len() - 1
            })
        };
        let mut reads = vec![false; p.num_columns];
        let uses_x = p.ops.iter().any(|o| matches!(o, Op::X));
        // Values live in a per-thread slot array, each slot reused once its value's last reader has run (outputs
        // are kept to the fold); constants are read from the table in place.
        const PINNED: usize = usize::MAX;
        let mut last = vec![0usize; p.ops.len()];
        for (i, op) in p.ops.iter().enumerate() {
            for a in op.operands() {
                last[a as usize] = i;
            }
        }
        for &o in &p.outputs {
            last[o as usize] = PINNED;
        }
        let mut operand: Vec<String> = Vec::with_capacity(p.ops.len());
        let mut free: Vec<usize> = Vec::new();
        let mut slots = 0usize;
        let mut body = String::with_capacity(48 * p.ops.len());
        for (i, op) in p.ops.iter().enumerate() {
            if let Op::Constant(c) = *op {
                operand.push(format!("tab + {}", TAB_CONSTANTS + slot(c)));
                continue;
            }
            let o = |x: u32| operand[x as usize].clone();
            let (a, b) = {
                let mut it = op.operands();
                (it.next().map(o), it.next().map(o))
            };
            // Operands' slots whose last reader is this op are free for this op's result (calls read first).
            for x in op.operands() {
                if last[x as usize] == i && !matches!(p.ops[x as usize], Op::Constant(_)) {
                    if let Some(sl) = operand[x as usize].strip_prefix("v + ").and_then(|v| v.parse::<usize>().ok()) {
                        if !free.contains(&sl) {
                            free.push(sl);
                        }
                    }
                }
            }
            let d = free.pop().unwrap_or_else(|| {
                slots += 1;
                slots - 1
            });
            let dst = format!("v + {d}");
            let _ = match *op {
                Op::Column { column, rotation } => {
                    reads[column as usize] = true;
                    writeln!(body, "    zk_col({dst}, cols, {column}u, r, {rotation}, n);")
                }
                Op::X => writeln!(body, "    *({dst}) = X;"),
                Op::Add(..) => writeln!(body, "    zk_add({dst}, {}, {});", a.unwrap(), b.unwrap()),
                Op::Sub(..) => writeln!(body, "    zk_sub({dst}, {}, {});", a.unwrap(), b.unwrap()),
                Op::Mul(..) => writeln!(body, "    zk_mul({dst}, {}, {});", a.unwrap(), b.unwrap()),
                Op::Neg(..) => writeln!(body, "    zk_neg({dst}, {});", a.unwrap()),
                Op::Scale(_, c) => writeln!(body, "    zk_mul({dst}, {}, tab + {});", a.unwrap(), TAB_CONSTANTS + slot(c)),
                Op::Constant(_) => unreachable!("constants have no slot"),
            };
            operand.push(dst);
        }
        let mut s = String::with_capacity(body.len() + 2048);
        s.push_str(
            "// Generated by zkinfer (backend/src/engine/cuda/row_kernel.rs) from a row program.\n\
             // Each op is a call on slots of a per-thread array, not inlined arithmetic on named values: a program\n\
             // of thousands of ops inlined is hundreds of thousands of instructions in one function, which takes\n\
             // NVRTC minutes to compile; as calls it compiles in time linear in its length.\n\
             __device__ __noinline__ void zk_add(Fr* d, const Fr* a, const Fr* b) { *d = f_add(*a, *b); }\n\
             __device__ __noinline__ void zk_sub(Fr* d, const Fr* a, const Fr* b) { *d = f_sub(*a, *b); }\n\
             __device__ __noinline__ void zk_mul(Fr* d, const Fr* a, const Fr* b) { *d = f_mul(*a, *b); }\n\
             __device__ __noinline__ void zk_neg(Fr* d, const Fr* a) { *d = f_neg(*a); }\n\
             __device__ __noinline__ void zk_col(Fr* d, const u64* cols, u32 c, u32 r, int rot, u32 n) {\n\
             \x20   long long j = (long long)r + rot;\n\
             \x20   if (j < 0 || j >= (long long)n) j = ((j % (long long)n) + n) % (long long)n;\n\
             \x20   *d = ((const Fr*)cols[c])[j];\n\
             }\n",
        );
        let _ = writeln!(
            s,
            "extern \"C\" __global__ __launch_bounds__({BLOCK}) void {KERNEL}(const u64* cols, Fr* out, u32 n, const Fr* tab) {{"
        );
        s.push_str("    u32 r = blockIdx.x * blockDim.x + threadIdx.x;\n    if (r >= n) return;\n");
        let _ = writeln!(s, "    Fr v[{}];", slots.max(1));
        if uses_x {
            s.push_str(
                "    Fr X = tab[0];\n    for (u32 b = 0, t = r; t != 0; b++, t >>= 1)\n        if (t & 1) zk_mul(&X, &X, tab + 2 + b);\n",
            );
        }
        s.push_str(&body);
        match p.outputs.as_slice() {
            [] => s.push_str("    out[r] = f_zero<FrP>();\n"),
            [o] => {
                let _ = writeln!(s, "    out[r] = *({});", operand[*o as usize]);
            }
            outs => {
                s.push_str("    Fr acc = *(");
                s.push_str(&operand[outs[0] as usize]);
                s.push_str(");\n");
                for o in &outs[1..] {
                    let _ = writeln!(s, "    zk_mul(&acc, &acc, tab + 1);\n    zk_add(&acc, &acc, {});", operand[*o as usize]);
                }
                s.push_str("    out[r] = acc;\n");
            }
        }
        s.push_str("}\n");
        RowKernel { source: s, constants, reads }
    }

    /// The launch table for coset point `g`, step `omega` and fold factor `y`.
    pub fn table(&self, g: Fr, omega: Fr, y: Fr) -> Vec<Fr> {
        let mut t = Vec::with_capacity(TAB_CONSTANTS + self.constants.len());
        t.push(g);
        t.push(y);
        let mut w = omega;
        for _ in 0..32 {
            t.push(w);
            w = w.square();
        }
        t.extend_from_slice(&self.constants);
        t
    }
}

/// A program using every op kind — columns with rotations, a constant, X, each arithmetic op, several outputs
/// to fold — for compile checks (`examples/check_kernels.rs`) and the GPU tests.
#[doc(hidden)]
pub fn every_op_program() -> RowProgram {
    let mut p = RowProgram::new(3);
    let a = p.column(0, 0);
    let b = p.column(1, -1);
    let c = p.column(2, 2);
    let k = p.constant(Fr::from(7));
    let x = p.x();
    let s = p.add(a, b);
    let d = p.sub(s, c);
    let m = p.mul(d, k);
    let q = p.mul(m, m);
    let n = p.neg(q);
    let e = p.scale(n, Fr::from(3));
    let f = p.mul(e, x);
    p.output(f);
    p.output(d);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_proofs::halo2curves::ff::Field;

    #[test]
    fn source_depends_on_the_shape_not_on_the_constants() {
        let build = |c: Fr| {
            let mut p = RowProgram::new(2);
            let a = p.column(0, 0);
            let b = p.column(1, -1);
            let k = p.constant(c);
            let m = p.mul(a, k);
            let s = p.scale(b, c + Fr::ONE);
            let x = p.x();
            let t = p.add(m, s);
            let u = p.mul(t, x);
            p.output(u);
            p.output(m);
            RowKernel::new(&p)
        };
        let (a, b) = (build(Fr::from(5)), build(Fr::from(7)));
        assert_eq!(a.source, b.source);
        assert_eq!(a.constants, vec![Fr::from(5), Fr::from(6)]);
        assert_eq!(b.constants, vec![Fr::from(7), Fr::from(8)]);
        assert_eq!(a.reads, vec![true, true]);
        assert!(a.source.contains("cols, 1u, r, -1, n);"));
        let t = a.table(Fr::from(2), Fr::from(3), Fr::from(4));
        assert_eq!((t[0], t[1], t[2], t[3], t[TAB_CONSTANTS]), (Fr::from(2), Fr::from(4), Fr::from(3), Fr::from(9), Fr::from(5)));
    }

    /// Random programs (every op kind, rotations −3..3, several outputs) on the emulated device equal the CPU
    /// engine's block-wise evaluation bit for bit, through host slices and through resident buffers with unread
    /// columns left out.
    #[test]
    fn emulated_row_programs_match_the_cpu_engine() {
        use crate::engine::cpu::CpuEngine;
        use crate::engine::cuda::CudaEngine;
        use crate::engine::program::random_program;
        use crate::engine::Engine;
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;
        let gpu = CudaEngine::emulated().expect("the CUDA emulator (g++) is required");
        let cpu = CpuEngine::new();
        let mut r = ChaCha20Rng::seed_from_u64(9);
        for (seed, n) in (0..6u64).zip([1usize, 5, 64, 129, 200, 256]) {
            let p = random_program(seed, 4, 60);
            let cols: Vec<Vec<Fr>> = (0..4).map(|_| (0..n).map(|_| Fr::random(&mut r)).collect()).collect();
            let refs: Vec<&[Fr]> = cols.iter().map(Vec::as_slice).collect();
            let (g, w, y) = (Fr::random(&mut r), Fr::random(&mut r), Fr::random(&mut r));
            let mut want = vec![Fr::ZERO; n];
            cpu.evaluate_rows(&p, &refs, g, w, y, &mut want).unwrap();
            let mut got = vec![Fr::ZERO; n];
            gpu.evaluate_rows(&p, &refs, g, w, y, &mut got).unwrap();
            assert_eq!(got, want, "seed {seed} n {n}: host slices");

            let k = RowKernel::new(&p);
            let bufs: Vec<_> = cols.iter().map(|c| gpu.upload(c).unwrap()).collect();
            let opts: Vec<Option<&crate::engine::ScalarBuffer>> =
                bufs.iter().zip(&k.reads).map(|(b, &r)| r.then_some(b)).collect();
            let mut out = gpu.alloc(n).unwrap();
            gpu.evaluate_rows_buffers(&p, &opts, g, w, y, &mut out).unwrap();
            let mut back = vec![Fr::ZERO; n];
            gpu.download(&out, &mut back).unwrap();
            assert_eq!(back, want, "seed {seed} n {n}: resident buffers");
            if let Some(c) = k.reads.iter().position(|&r| r) {
                let mut missing = opts.clone();
                missing[c] = None;
                assert!(gpu.evaluate_rows_buffers(&p, &missing, g, w, y, &mut out).is_err(), "a read column left out");
            }
        }
    }

    /// How long NVRTC takes for a long program (a MobileNet segment's quotient groups run to thousands of ops).
    /// `LD_LIBRARY_PATH=.whl/nvrtc/nvidia/cuda_nvrtc/lib cargo test -p zkinfer-backend --features cuda --lib
    /// nvrtc_time -- --ignored --nocapture`
    #[cfg(feature = "cuda")]
    #[test]
    #[ignore]
    fn nvrtc_time_for_long_programs() {
        use crate::engine::cuda::compile;
        use crate::engine::program::random_program;
        for ops in [500, 2000, 8000] {
            let k = RowKernel::new(&random_program(1, 40, ops));
            let t = std::time::Instant::now();
            let c = compile::compile_source(&compile::generated_program(&k.source), c"generated.cu", "sm_90").unwrap();
            println!("{ops} ops: {} bytes of source, cubin {} bytes, NVRTC {:.1} s", k.source.len(), c.cubin.len(), t.elapsed().as_secs_f64());
        }
    }
}
