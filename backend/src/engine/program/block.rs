//! Block-wise evaluation of a row program: op by op over a block of rows instead of row by row, so each op's
//! dispatch, operand lookup and rotation arithmetic is paid once per block, and the inner loops are plain
//! element-wise field arithmetic. Values live in slots of one block each, reused once their last reader has run
//! (a register allocation over the program), so the scratch stays small enough for the cache whatever the
//! program's length. Constants are filled once per call. Same results as [`super::eval_row`], bit for bit.

use halo2_proofs::halo2curves::ff::Field;

use super::{Op, RowProgram};
use crate::Fr;

/// Rows per block.
pub const BLOCK: usize = 64;

#[derive(Clone, Copy, Debug)]
enum Step {
    Column { column: usize, rotation: i64, dst: usize },
    X { dst: usize },
    Add { a: usize, b: usize, dst: usize },
    Sub { a: usize, b: usize, dst: usize },
    Mul { a: usize, b: usize, dst: usize },
    Neg { a: usize, dst: usize },
    Scale { a: usize, c: Fr, dst: usize },
}

/// A program laid out for block evaluation: steps over slots, the slots holding constants, the output slots.
#[derive(Clone, Debug)]
pub struct BlockPlan {
    steps: Vec<Step>,
    constants: Vec<(usize, Fr)>,
    outputs: Vec<usize>,
    slots: usize,
}

impl BlockPlan {
    pub fn new(p: &RowProgram) -> Self {
        let n = p.ops.len();
        // Index of the last op reading each node; outputs and constants are never freed.
        const PINNED: usize = usize::MAX;
        let mut last = vec![0usize; n];
        for (i, op) in p.ops.iter().enumerate() {
            for a in op.operands() {
                last[a as usize] = i;
            }
        }
        for (i, op) in p.ops.iter().enumerate() {
            if matches!(op, Op::Constant(_)) {
                last[i] = PINNED;
            }
        }
        for &o in &p.outputs {
            last[o as usize] = PINNED;
        }
        let mut slot = vec![usize::MAX; n];
        // Constants first, in slots of their own: they are filled once, before any step runs.
        let mut constants = Vec::new();
        for (i, op) in p.ops.iter().enumerate() {
            if let Op::Constant(c) = *op {
                slot[i] = constants.len();
                constants.push((slot[i], c));
            }
        }
        let mut slots = constants.len();
        let mut free: Vec<usize> = Vec::new();
        let mut steps = Vec::with_capacity(n);
        for (i, op) in p.ops.iter().enumerate() {
            if matches!(op, Op::Constant(_)) {
                continue;
            }
            let dst = free.pop().unwrap_or_else(|| {
                slots += 1;
                slots - 1
            });
            slot[i] = dst;
            let s = |x: u32| slot[x as usize];
            match *op {
                Op::Column { column, rotation } => {
                    steps.push(Step::Column { column: column as usize, rotation: rotation as i64, dst })
                }
                Op::Constant(_) => unreachable!("constants have their slots"),
                Op::X => steps.push(Step::X { dst }),
                Op::Add(a, b) => steps.push(Step::Add { a: s(a), b: s(b), dst }),
                Op::Sub(a, b) => steps.push(Step::Sub { a: s(a), b: s(b), dst }),
                Op::Mul(a, b) => steps.push(Step::Mul { a: s(a), b: s(b), dst }),
                Op::Neg(a) => steps.push(Step::Neg { a: s(a), dst }),
                Op::Scale(a, c) => steps.push(Step::Scale { a: s(a), c, dst }),
            }
            // Operands whose last reader was this op give their slot back (after dst was taken, so a step never
            // writes a slot it reads: the element-wise loops may then borrow them apart).
            // (An op reading one node twice, a·a, frees its slot once.)
            let mut operands = op.operands();
            let first = operands.next();
            for x in first.into_iter().chain(operands.filter(|&b| Some(b) != first)) {
                if last[x as usize] == i {
                    free.push(slot[x as usize]);
                }
            }
            // A value nobody reads (dead code) frees its slot at once (outputs and constants are pinned).
            if last[i] == 0 {
                free.push(dst);
            }
        }
        let outputs = p.outputs.iter().map(|&o| slot[o as usize]).collect();
        BlockPlan { steps, constants, outputs, slots }
    }

    /// The scratch one evaluating thread needs, constants filled in.
    pub fn scratch(&self) -> Vec<Fr> {
        let mut scratch = vec![Fr::ZERO; self.slots * BLOCK];
        for &(s, c) in &self.constants {
            scratch[s * BLOCK..(s + 1) * BLOCK].fill(c);
        }
        scratch
    }

    /// Rows start..start+out.len() into `out`, BLOCK at a time; `x0` is row start's X, `omega` the step between
    /// rows. `scratch` comes from [`Self::scratch`].
    #[allow(clippy::too_many_arguments)]
    pub fn eval_rows(&self, columns: &[&[Fr]], start: usize, x0: Fr, omega: Fr, y: Fr, scratch: &mut [Fr], out: &mut [Fr]) {
        let step = omega.pow_vartime([BLOCK as u64]);
        let mut x = x0;
        for (bi, block) in out.chunks_mut(BLOCK).enumerate() {
            self.eval_block(columns, start + bi * BLOCK, x, omega, y, scratch, block);
            x *= step;
        }
    }

    /// Rows start..start+out.len() (at most BLOCK) into `out`; `x0` is the first row's X, `omega` the step.
    #[allow(clippy::too_many_arguments)]
    fn eval_block(&self, columns: &[&[Fr]], start: usize, x0: Fr, omega: Fr, y: Fr, scratch: &mut [Fr], out: &mut [Fr]) {
        let len = out.len();
        debug_assert!(len <= BLOCK);
        for step in &self.steps {
            match *step {
                Step::Column { column, rotation, dst } => {
                    let col = columns[column];
                    // This column's length: columns the program does not read may be left empty.
                    let n = col.len();
                    let d = &mut scratch[dst * BLOCK..dst * BLOCK + len];
                    let first = start as i64 + rotation;
                    if first >= 0 && first as usize + len <= n {
                        d.copy_from_slice(&col[first as usize..first as usize + len]);
                    } else {
                        for (i, v) in d.iter_mut().enumerate() {
                            *v = col[(first + i as i64).rem_euclid(n as i64) as usize];
                        }
                    }
                }
                Step::X { dst } => {
                    let mut x = x0;
                    for v in &mut scratch[dst * BLOCK..dst * BLOCK + len] {
                        *v = x;
                        x *= omega;
                    }
                }
                Step::Add { a, b, dst } => binary(scratch, a, b, dst, len, |x, y| x + y),
                Step::Sub { a, b, dst } => binary(scratch, a, b, dst, len, |x, y| x - y),
                Step::Mul { a, b, dst } => binary(scratch, a, b, dst, len, |x, y| x * y),
                Step::Neg { a, dst } => unary(scratch, a, dst, len, |x| -x),
                Step::Scale { a, c, dst } => unary(scratch, a, dst, len, |x| x * c),
            }
        }
        match self.outputs.as_slice() {
            [o] => out.copy_from_slice(&scratch[o * BLOCK..o * BLOCK + len]),
            outputs => {
                out.fill(Fr::ZERO);
                for &o in outputs {
                    for (acc, v) in out.iter_mut().zip(&scratch[o * BLOCK..o * BLOCK + len]) {
                        *acc = *acc * y + v;
                    }
                }
            }
        }
    }
}

/// The same evaluation on AVX-512 IFMA lanes (`engine::cpu::ifma`): slots hold limb-major values, each step is one
/// kernel call over the block's rows. Bit for bit the results of [`BlockPlan::eval_rows`].
#[cfg(target_arch = "x86_64")]
mod lanes {
    use halo2_proofs::halo2curves::ff::Field;

    use super::{BlockPlan, Step, BLOCK};
    use crate::engine::cpu::ifma::{Ifma, RowOp, ROWS, SLOT};
    use crate::Fr;

    const _: () = assert!(ROWS == BLOCK);

    /// Lane scratch for one evaluating thread: the plan's slots, constants filled in, then one accumulator slot.
    pub struct LaneScratch {
        slots: Vec<u64>,
        constants: Vec<[u64; 5]>,
    }

    impl BlockPlan {
        pub fn lane_scratch(&self, ifma: Ifma) -> LaneScratch {
            let mut slots = vec![0u64; (self.slots + 1) * SLOT];
            for &(s, c) in &self.constants {
                ifma.fill(&mut slots[s * SLOT..(s + 1) * SLOT], &ifma.constant(&c));
            }
            let constants = self.steps.iter().filter_map(|s| match s { Step::Scale { c, .. } => Some(ifma.constant(c)), _ => None }).collect();
            LaneScratch { slots, constants }
        }

        /// As [`BlockPlan::eval_rows`], on lanes; `scratch` from [`Self::lane_scratch`].
        #[allow(clippy::too_many_arguments)]
        pub fn eval_rows_lanes(&self, ifma: Ifma, columns: &[&[Fr]], start: usize, x0: Fr, omega: Fr, y: Fr, scratch: &mut LaneScratch, out: &mut [Fr]) {
            let step = omega.pow_vartime([BLOCK as u64]);
            let y = ifma.constant(&y);
            let mut x = x0;
            for (bi, block) in out.chunks_mut(BLOCK).enumerate() {
                self.eval_block_lanes(ifma, columns, start + bi * BLOCK, x, omega, &y, scratch, block);
                x *= step;
            }
        }

        #[allow(clippy::too_many_arguments)]
        fn eval_block_lanes(&self, ifma: Ifma, columns: &[&[Fr]], start: usize, x0: Fr, omega: Fr, y: &[u64; 5], scratch: &mut LaneScratch, out: &mut [Fr]) {
            let len = out.len();
            let mut rows = [Fr::ZERO; BLOCK];
            let mut scales = scratch.constants.iter();
            let slots = &mut scratch.slots;
            for step in &self.steps {
                match *step {
                    Step::Column { column, rotation, dst } => {
                        let col = columns[column];
                        let n = col.len();
                        let first = start as i64 + rotation;
                        let src = if first >= 0 && first as usize + len <= n {
                            &col[first as usize..first as usize + len]
                        } else {
                            for (i, v) in rows[..len].iter_mut().enumerate() {
                                *v = col[(first + i as i64).rem_euclid(n as i64) as usize];
                            }
                            &rows[..len]
                        };
                        ifma.load_rows(&mut slots[dst * SLOT..(dst + 1) * SLOT], src);
                    }
                    Step::X { dst } => {
                        let mut x = x0;
                        for v in &mut rows[..len] {
                            *v = x;
                            x *= omega;
                        }
                        ifma.load_rows(&mut slots[dst * SLOT..(dst + 1) * SLOT], &rows[..len]);
                    }
                    Step::Add { a, b, dst } => binary(ifma, RowOp::Add, slots, a, b, dst),
                    Step::Sub { a, b, dst } => binary(ifma, RowOp::Sub, slots, a, b, dst),
                    Step::Mul { a, b, dst } => binary(ifma, RowOp::Mul, slots, a, b, dst),
                    Step::Neg { a, dst } => {
                        // 0 − a: the accumulator slot (last) serves as the zero, cleared first.
                        let acc = self.slots;
                        slots[acc * SLOT..].fill(0);
                        binary(ifma, RowOp::Sub, slots, acc, a, dst)
                    }
                    Step::Scale { a, dst, .. } => {
                        let c = scales.next().expect("one lane constant per Scale step");
                        let (d, sa, _) = super::split3(slots, SLOT, dst, a, a);
                        ifma.scale(d, sa, c);
                    }
                }
            }
            let acc = self.slots;
            match self.outputs.as_slice() {
                [o] => ifma.store_rows(&slots[o * SLOT..(o + 1) * SLOT], out),
                outputs => {
                    slots[acc * SLOT..].fill(0);
                    for &o in outputs {
                        let (d, v, _) = super::split3(slots, SLOT, acc, o, o);
                        ifma.horner(d, y, v);
                    }
                    ifma.store_rows(&slots[acc * SLOT..], out);
                }
            }
        }
    }

    fn binary(ifma: Ifma, op: RowOp, slots: &mut [u64], a: usize, b: usize, dst: usize) {
        let (d, sa, sb) = super::split3(slots, SLOT, dst, a, b);
        ifma.binary(op, d, sa, sb);
    }
}
#[cfg(target_arch = "x86_64")]
pub use lanes::LaneScratch;

/// scratch[dst] = f(scratch[a], scratch[b]) over `len` rows; dst is neither a nor b (see `BlockPlan::new`).
#[inline(always)]
fn binary(scratch: &mut [Fr], a: usize, b: usize, dst: usize, len: usize, f: impl Fn(Fr, Fr) -> Fr) {
    debug_assert!(dst != a && dst != b);
    let (d, sa, sb) = split3(scratch, BLOCK, dst, a, b);
    for i in 0..len {
        d[i] = f(sa[i], sb[i]);
    }
}

#[inline(always)]
fn unary(scratch: &mut [Fr], a: usize, dst: usize, len: usize, f: impl Fn(Fr) -> Fr) {
    debug_assert!(dst != a);
    let (d, sa, _) = split3(scratch, BLOCK, dst, a, a);
    for i in 0..len {
        d[i] = f(sa[i]);
    }
}

/// The slot `dst` (of `slot` elements) mutably and slots `a`, `b` shared (dst differs from both).
#[inline(always)]
fn split3<T>(scratch: &mut [T], slot: usize, dst: usize, a: usize, b: usize) -> (&mut [T], &[T], &[T]) {
    let ptr = scratch.as_mut_ptr();
    assert!(dst != a && dst != b && (dst.max(a).max(b) + 1) * slot <= scratch.len());
    // SAFETY: three slot-sized windows inside `scratch`; the mutable one is disjoint from the other two
    // (checked above), which may coincide with each other as shared borrows.
    unsafe {
        (
            std::slice::from_raw_parts_mut(ptr.add(dst * slot), slot),
            std::slice::from_raw_parts(ptr.add(a * slot), slot),
            std::slice::from_raw_parts(ptr.add(b * slot), slot),
        )
    }
}

#[cfg(test)]
mod tests {
    use halo2_proofs::halo2curves::ff::Field;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::engine::program::{eval_row, random_program};

    #[test]
    fn block_evaluation_equals_row_by_row() {
        let mut r = ChaCha20Rng::seed_from_u64(9);
        // Sizes below, at and across the block size, so rotations wrap inside and across blocks.
        for (seed, n) in (0..60u64).zip([1usize, 3, 8, 63, 64, 65, 130, 200].into_iter().cycle()) {
            let p = random_program(seed, 4, 80);
            let cols: Vec<Vec<Fr>> = (0..4).map(|_| (0..n).map(|_| Fr::random(&mut r)).collect()).collect();
            let refs: Vec<&[Fr]> = cols.iter().map(Vec::as_slice).collect();
            let (coset, omega, y) = (Fr::random(&mut r), Fr::random(&mut r), Fr::random(&mut r));
            let plan = BlockPlan::new(&p);
            assert!(plan.slots <= p.ops.len());
            let mut got = vec![Fr::ZERO; n];
            plan.eval_rows(&refs, 0, coset, omega, y, &mut plan.scratch(), &mut got);
            #[cfg(target_arch = "x86_64")]
            if let Some(ifma) = crate::engine::cpu::ifma::Ifma::detect() {
                let mut lanes = vec![Fr::ZERO; n];
                plan.eval_rows_lanes(ifma, &refs, 0, coset, omega, y, &mut plan.lane_scratch(ifma), &mut lanes);
                assert!(lanes == got, "IFMA lanes differ from the scalar blocks: seed {seed} n {n}");
            }
            let mut scratch = vec![Fr::ZERO; p.ops.len()];
            let mut x = coset;
            for (row, g) in got.iter().enumerate() {
                assert_eq!(*g, eval_row(&p, &refs, row, x, y, &mut scratch), "seed {seed} n {n} row {row}");
                x *= omega;
            }
        }
    }

    #[test]
    fn slots_are_reused() {
        // A long chain: every value is read once by the next, so a handful of slots serve hundreds of ops.
        let mut p = RowProgram::new(1);
        let mut acc = p.column(0, 0);
        for i in 0..300u64 {
            let c = p.column(0, (i % 5) as i32 - 2);
            let t = p.mul(acc, c);
            acc = p.add(t, c);
        }
        p.output(acc);
        let plan = BlockPlan::new(&p);
        assert!(plan.slots < 10, "{} slots for {} ops", plan.slots, p.ops.len());
    }
}
