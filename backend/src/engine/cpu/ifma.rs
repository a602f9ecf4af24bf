//! AVX-512 IFMA arithmetic for the BN254 fields (Fr, Fq): eight elements at once, each as five 52-bit limbs in
//! eight 64-bit lanes. Used by the NTT's stages and twiddles, the quotient's row program (Fr) and the MSM's batched
//! affine bucket additions (Fq, in `msm.rs`).
//!
//! Why: these kernels are bound by Montgomery multiplications. `vpmadd52{lo,hi}uq` multiply eight 52-bit pairs
//! per instruction; on this project's EPYC machines a lane-parallel product costs about a quarter of halo2curves'
//! scalar one (3.2 vs 12.7 ns per element, measured while writing this).
//!
//! Representation: an element x < 2^256 as limbs x_k < 2^52 with x = Σ x_k 2^(52k), in halo2curves' Montgomery
//! form aR (R = 2^256). The lane product reduces by 2^52 four times and by 2^48 the fifth (4·52 + 48 = 256), so
//! it computes exactly halo2's a·b/R: values and constants move between `Fr` and lanes by re-splitting bits only
//! (eight at a time, with two rounds of lane permutes). Every result is canonical (< p), so outputs are bit for
//! bit the scalar path's.
//!
//! Used only where the CPU reports `avx512f` and `avx512ifma` at run time (`available`); everywhere else the
//! scalar path runs. `ZKINFER_NO_IFMA=1` forces the scalar path (A/B measurements).

use std::arch::x86_64::*;
use std::cell::RefCell;
use std::sync::OnceLock;

use halo2_proofs::halo2curves::ff::Field;

use crate::Fr;

const M52: u64 = (1 << 52) - 1;

/// A BN254 field as the lanes compute in it: its modulus and -p^-1 mod 2^64 (halo2curves' MODULUS and INV; only
/// the low 52 bits of INV are used).
pub trait LaneField {
    const P52: [u64; 5];
    const INV: u64;
}

/// The scalar field Fr.
pub enum ScalarField {}
impl LaneField for ScalarField {
    const P52: [u64; 5] = split52([0x43e1f593f0000001, 0x2833e84879b97091, 0xb85045b68181585d, 0x30644e72e131a029]);
    const INV: u64 = 0xc2e1f593efffffff;
}

/// The base field Fq (G1 coordinates).
pub enum BaseField {}
impl LaneField for BaseField {
    const P52: [u64; 5] = split52([0x3c208c16d87cfd47, 0x97816a916871ca8d, 0xb85045b68181585d, 0x30644e72e131a029]);
    const INV: u64 = 0x87d20782e4866389;
}

// Fr and Fq are each one [u64; 4] (Montgomery limbs, little-endian); the conversions below rely on it.
const _: () = assert!(std::mem::size_of::<Fr>() == 32 && std::mem::align_of::<Fr>() == 8);
const _: () = assert!(std::mem::size_of::<crate::Fq>() == 32 && std::mem::align_of::<crate::Fq>() == 8);

/// Element types that are exactly four little-endian Montgomery limbs (asserted above): what `load8` reads.
pub(crate) trait Montgomery4: Copy {}
impl Montgomery4 for Fr {}
impl Montgomery4 for crate::Fq {}

/// Whether this CPU runs the IFMA kernels (checked once), unless `ZKINFER_NO_IFMA` is set.
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        std::env::var_os("ZKINFER_NO_IFMA").is_none_or(|v| v.is_empty() || v == "0")
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512ifma")
    })
}

const fn split52(l: [u64; 4]) -> [u64; 5] {
    [
        l[0] & M52,
        ((l[0] >> 52) | (l[1] << 12)) & M52,
        ((l[1] >> 40) | (l[2] << 24)) & M52,
        ((l[2] >> 28) | (l[3] << 36)) & M52,
        l[3] >> 16,
    ]
}

const fn join52(x: [u64; 5]) -> [u64; 4] {
    [x[0] | (x[1] << 52), (x[1] >> 12) | (x[2] << 40), (x[2] >> 24) | (x[3] << 28), (x[3] >> 36) | (x[4] << 16)]
}

fn limbs(x: &Fr) -> [u64; 4] {
    // SAFETY: Fr is exactly its four Montgomery limbs (size and alignment asserted above).
    unsafe { std::mem::transmute::<Fr, [u64; 4]>(*x) }
}

fn from_limbs(l: [u64; 4]) -> Fr {
    // SAFETY: as in `limbs`; every value written here is canonical (< p), a valid Fr.
    unsafe { std::mem::transmute::<[u64; 4], Fr>(l) }
}

/// The 52-bit limbs of `c` (its Montgomery form, as lanes hold it).
pub fn lanes_constant(c: &Fr) -> [u64; 5] {
    split52(limbs(c))
}

/// Eight elements, limb k of lane i in `.0[k]` lane i.
#[derive(Clone, Copy)]
pub(crate) struct Lanes([__m512i; 5]);

#[inline(always)]
unsafe fn splat(x: u64) -> __m512i {
    _mm512_set1_epi64(x as i64)
}

/// One element (its 52-bit limbs) in all eight lanes.
#[inline(always)]
unsafe fn broadcast(c: &[u64; 5]) -> Lanes {
    Lanes([splat(c[0]), splat(c[1]), splat(c[2]), splat(c[3]), splat(c[4])])
}

#[inline(always)]
unsafe fn modulus<F: LaneField>() -> [__m512i; 5] {
    broadcast(&F::P52).0
}

/// a·b / 2^256 mod p, canonical, for canonical a, b (a·b/R + m·p/R < 2p before the final subtraction). Limb
/// products accumulate unreduced in 64-bit lanes (at most ~20 terms of < 2^52 each); carries are propagated once
/// at the end.
#[inline(always)]
pub(crate) unsafe fn mul<F: LaneField>(a: &Lanes, b: &Lanes) -> Lanes {
    let zero = _mm512_setzero_si512();
    let inv = splat(F::INV & M52);
    let p = modulus::<F>();
    let mut t = [zero; 6];
    for i in 0..5 {
        let bi = b.0[i];
        for j in 0..5 {
            t[j] = _mm512_madd52lo_epu64(t[j], a.0[j], bi);
            t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], a.0[j], bi);
        }
        // m = t0 · (-p^-1) mod 2^52 (mod 2^48 the last time) makes t + m·p divisible by it.
        let mut m = _mm512_madd52lo_epu64(zero, t[0], inv);
        if i == 4 {
            m = _mm512_and_si512(m, splat((1 << 48) - 1));
        }
        for j in 0..5 {
            t[j] = _mm512_madd52lo_epu64(t[j], m, p[j]);
            t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], m, p[j]);
        }
        if i < 4 {
            let carry = _mm512_srli_epi64(t[0], 52);
            t = [_mm512_add_epi64(t[1], carry), t[2], t[3], t[4], t[5], zero];
        }
    }
    // Normalise the six limbs, then shift right by the last 48 bits.
    let mut r = [zero; 6];
    let mut carry = zero;
    for j in 0..6 {
        let v = _mm512_add_epi64(t[j], carry);
        r[j] = _mm512_and_si512(v, splat(M52));
        carry = _mm512_srli_epi64(v, 52);
    }
    let mut out = [zero; 5];
    for j in 0..5 {
        let v = _mm512_or_si512(_mm512_srli_epi64(r[j], 48), _mm512_slli_epi64(r[j + 1], 4));
        out[j] = _mm512_and_si512(v, splat(M52));
    }
    subtract_p_if_above(out, &p)
}

/// r mod p for normalised limbs of r < 2p.
#[inline(always)]
unsafe fn subtract_p_if_above(r: [__m512i; 5], p: &[__m512i; 5]) -> Lanes {
    let mut d = r;
    let mut borrow = _mm512_setzero_si512();
    for j in 0..5 {
        let v = _mm512_sub_epi64(_mm512_sub_epi64(r[j], p[j]), borrow);
        d[j] = _mm512_and_si512(v, splat(M52));
        borrow = _mm512_srli_epi64(v, 63);
    }
    // borrow out of the top limb: r < p, keep r.
    let keep = _mm512_test_epi64_mask(borrow, borrow);
    let mut out = r;
    for j in 0..5 {
        out[j] = _mm512_mask_blend_epi64(keep, d[j], r[j]);
    }
    Lanes(out)
}

/// (a + b) mod p for canonical a, b.
#[inline(always)]
pub(crate) unsafe fn add<F: LaneField>(a: &Lanes, b: &Lanes) -> Lanes {
    let mut r = a.0;
    let mut carry = _mm512_setzero_si512();
    for j in 0..5 {
        let v = _mm512_add_epi64(_mm512_add_epi64(a.0[j], b.0[j]), carry);
        r[j] = _mm512_and_si512(v, splat(M52));
        carry = _mm512_srli_epi64(v, 52);
    }
    subtract_p_if_above(r, &modulus::<F>())
}

/// (a − b) mod p for canonical a, b, as a + p − b ∈ (0, 2p); limbs may go negative, the arithmetic shift carries
/// the borrow.
#[inline(always)]
pub(crate) unsafe fn sub<F: LaneField>(a: &Lanes, b: &Lanes) -> Lanes {
    let p = modulus::<F>();
    let mut r = a.0;
    let mut carry = _mm512_setzero_si512();
    for j in 0..5 {
        let v = _mm512_add_epi64(_mm512_sub_epi64(_mm512_add_epi64(a.0[j], p[j]), b.0[j]), carry);
        r[j] = _mm512_and_si512(v, splat(M52));
        carry = _mm512_srai_epi64(v, 52);
    }
    subtract_p_if_above(r, &p)
}

/// Loads lanes from limb-major storage: limb k of element i at `ptr[k·stride + i]`.
#[inline(always)]
unsafe fn load(ptr: *const u64, stride: usize) -> Lanes {
    let mut v = [_mm512_setzero_si512(); 5];
    for (k, limb) in v.iter_mut().enumerate() {
        *limb = _mm512_loadu_si512(ptr.add(k * stride) as *const _);
    }
    Lanes(v)
}

#[inline(always)]
unsafe fn store(ptr: *mut u64, stride: usize, v: &Lanes) {
    for k in 0..5 {
        _mm512_storeu_si512(ptr.add(k * stride) as *mut _, v.0[k]);
    }
}

/// Eight field elements (Fr or Fq: AoS, 4 limbs each) into lanes: two rounds of permutes transpose limbs, then
/// bits are re-split.
#[inline(always)]
pub(crate) unsafe fn load8<T: Montgomery4>(src: *const T) -> Lanes {
    let src = src as *const u64;
    let (a, b, c, d) = (
        _mm512_loadu_si512(src as *const _),
        _mm512_loadu_si512(src.add(8) as *const _),
        _mm512_loadu_si512(src.add(16) as *const _),
        _mm512_loadu_si512(src.add(24) as *const _),
    );
    let (even, odd) = (_mm512_set_epi64(13, 9, 5, 1, 12, 8, 4, 0), _mm512_set_epi64(15, 11, 7, 3, 14, 10, 6, 2));
    // [x0.0 x1.0 x2.0 x3.0 x0.1 x1.1 x2.1 x3.1] and the same of limbs 2, 3; then of x4..x7.
    let (ab01, ab23) = (_mm512_permutex2var_epi64(a, even, b), _mm512_permutex2var_epi64(a, odd, b));
    let (cd01, cd23) = (_mm512_permutex2var_epi64(c, even, d), _mm512_permutex2var_epi64(c, odd, d));
    let (low, high) = (_mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0), _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4));
    let l0 = _mm512_permutex2var_epi64(ab01, low, cd01);
    let l1 = _mm512_permutex2var_epi64(ab01, high, cd01);
    let l2 = _mm512_permutex2var_epi64(ab23, low, cd23);
    let l3 = _mm512_permutex2var_epi64(ab23, high, cd23);
    let m = splat(M52);
    Lanes([
        _mm512_and_si512(l0, m),
        _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(l0, 52), _mm512_slli_epi64(l1, 12)), m),
        _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(l1, 40), _mm512_slli_epi64(l2, 24)), m),
        _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(l2, 28), _mm512_slli_epi64(l3, 36)), m),
        _mm512_srli_epi64(l3, 16),
    ])
}

/// The inverse of `load8`.
#[inline(always)]
pub(crate) unsafe fn store8<T: Montgomery4>(dst: *mut T, v: &Lanes) {
    let x = &v.0;
    let l0 = _mm512_or_si512(x[0], _mm512_slli_epi64(x[1], 52));
    let l1 = _mm512_or_si512(_mm512_srli_epi64(x[1], 12), _mm512_slli_epi64(x[2], 40));
    let l2 = _mm512_or_si512(_mm512_srli_epi64(x[2], 24), _mm512_slli_epi64(x[3], 28));
    let l3 = _mm512_or_si512(_mm512_srli_epi64(x[3], 36), _mm512_slli_epi64(x[4], 16));
    let (low, high) = (_mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0), _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4));
    let ab01 = _mm512_permutex2var_epi64(l0, low, l1);
    let cd01 = _mm512_permutex2var_epi64(l0, high, l1);
    let ab23 = _mm512_permutex2var_epi64(l2, low, l3);
    let cd23 = _mm512_permutex2var_epi64(l2, high, l3);
    let (even, odd) = (_mm512_set_epi64(13, 9, 5, 1, 12, 8, 4, 0), _mm512_set_epi64(15, 11, 7, 3, 14, 10, 6, 2));
    let dst = dst as *mut u64;
    _mm512_storeu_si512(dst as *mut _, _mm512_permutex2var_epi64(ab01, even, ab23));
    _mm512_storeu_si512(dst.add(8) as *mut _, _mm512_permutex2var_epi64(ab01, odd, ab23));
    _mm512_storeu_si512(dst.add(16) as *mut _, _mm512_permutex2var_epi64(cd01, even, cd23));
    _mm512_storeu_si512(dst.add(24) as *mut _, _mm512_permutex2var_epi64(cd01, odd, cd23));
}

/// Element k of limb-major `data` (m elements, m a multiple of 8) times start·step^k: eight consecutive powers
/// per vector, advanced by step^8 — two lane products per eight elements.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn scale_by_powers(data: &mut [u64], m: usize, start: Fr, step: Fr) {
    debug_assert!(m % 8 == 0 && data.len() == 5 * m);
    let mut first = [Fr::ZERO; 8];
    let mut p = start;
    for f in &mut first {
        *f = p;
        p *= step;
    }
    let mut powers = load8(first.as_ptr());
    let step8 = broadcast(&lanes_constant(&step.pow_vartime([8])));
    let base = data.as_mut_ptr();
    for i in (0..m).step_by(8) {
        let x = mul::<ScalarField>(&load(base.add(i), m), &powers);
        store(base.add(i), m, &x);
        powers = mul::<ScalarField>(&powers, &step8);
    }
}

/// Limb-major lanes (limb k of element i at [k·stride + i]) from `src`, eight at a time, the tail one by one.
#[target_feature(enable = "avx512f")]
unsafe fn to_limb_major(src: &[Fr], dst: *mut u64, stride: usize) {
    let whole = src.len() / 8 * 8;
    for i in (0..whole).step_by(8) {
        store(dst.add(i), stride, &load8(src.as_ptr().add(i)));
    }
    for (i, x) in src.iter().enumerate().skip(whole) {
        for (k, l) in split52(limbs(x)).into_iter().enumerate() {
            *dst.add(k * stride + i) = l;
        }
    }
}

/// The inverse of `to_limb_major`.
#[target_feature(enable = "avx512f")]
unsafe fn from_limb_major(src: *const u64, stride: usize, out: &mut [Fr]) {
    let whole = out.len() / 8 * 8;
    for i in (0..whole).step_by(8) {
        store8(out.as_mut_ptr().add(i), &load(src.add(i), stride));
    }
    for (i, x) in out.iter_mut().enumerate().skip(whole) {
        let l = |k: usize| *src.add(k * stride + i);
        *x = from_limbs(join52([l(0), l(1), l(2), l(3), l(4)]));
    }
}

/// The twiddles of one in-cache transform's radix-2 stages from `FIRST_STAGE` on, limb-major per stage.
pub struct StageTwiddles {
    log_m: u32,
    /// Stage s (half 2^s): 5 · 2^s limbs, limb k of twiddle j at [k·2^s + j].
    stages: Vec<Vec<u64>>,
}

/// The first stage run on lanes: its butterflies span 2^3 = 8 elements, one vector. The three before it run on the
/// scalar path (they hold few multiplications: none in stage 0, half and a quarter of the butterflies skip theirs).
pub const FIRST_STAGE: u32 = 3;

impl StageTwiddles {
    /// `twiddles` as `SmallTables` lays them out: stage s at [2^s − 1, 2^(s+1) − 1).
    pub fn new(twiddles: &[Fr], log_m: u32) -> Self {
        let stages = (FIRST_STAGE..log_m)
            .map(|s| {
                let half = 1usize << s;
                let mut limb_major = vec![0u64; 5 * half];
                for (j, w) in twiddles[half - 1..2 * half - 1].iter().enumerate() {
                    for (k, l) in lanes_constant(w).into_iter().enumerate() {
                        limb_major[k * half + j] = l;
                    }
                }
                limb_major
            })
            .collect();
        StageTwiddles { log_m, stages }
    }

    /// Radix-2 stages FIRST_STAGE.. of a transform whose earlier stages are done (data in the order `stages`
    /// leaves it), then, with `scale` = (start, step), element k times start·step^k (the four-step twiddles).
    /// Converts to limb-major lanes in a per-thread buffer and back. Call only when `available()`.
    pub fn run(&self, a: &mut [Fr], scale: Option<(Fr, Fr)>) {
        assert!(available(), "IFMA stages called on a CPU without avx512ifma");
        let m = 1usize << self.log_m;
        assert_eq!(a.len(), m);
        thread_local! {
            static BUFFER: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
        }
        BUFFER.with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            buffer.resize(5 * m, 0);
            // SAFETY: the CPU has avx512f and avx512ifma (asserted); the buffer holds 5·m limbs.
            unsafe {
                to_limb_major(a, buffer.as_mut_ptr(), m);
                self.stages_on_lanes(&mut buffer);
                if let Some((start, step)) = scale {
                    scale_by_powers(&mut buffer, m, start, step);
                }
                from_limb_major(buffer.as_ptr(), m, a);
            }
        });
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn stages_on_lanes(&self, data: &mut [u64]) {
        let m = 1usize << self.log_m;
        debug_assert_eq!(data.len(), 5 * m);
        let base = data.as_mut_ptr();
        for (s, tw) in (FIRST_STAGE..self.log_m).zip(&self.stages) {
            let half = 1usize << s;
            for block in (0..m).step_by(2 * half) {
                for j in (0..half).step_by(8) {
                    let lo = load(base.add(block + j), m);
                    let hi = load(base.add(block + half + j), m);
                    let t = mul::<ScalarField>(&hi, &load(tw.as_ptr().add(j), half));
                    store(base.add(block + j), m, &add::<ScalarField>(&lo, &t));
                    store(base.add(block + half + j), m, &sub::<ScalarField>(&lo, &t));
                }
            }
        }
    }
}

/// Proof that this CPU runs the IFMA kernels: the element-wise row kernels below take it, so they are safe to call.
#[derive(Clone, Copy, Debug)]
pub struct Ifma(());

/// Rows in one lane block of the row kernels: the row program's block (`program::block::BLOCK`).
pub const ROWS: usize = 64;
/// u64s per value slot of `ROWS` rows: five limb rows of `ROWS`.
pub const SLOT: usize = 5 * ROWS;

impl Ifma {
    pub fn detect() -> Option<Ifma> {
        available().then_some(Ifma(()))
    }

    /// `c` as the row kernels hold it.
    pub fn constant(self, c: &Fr) -> [u64; 5] {
        lanes_constant(c)
    }

    /// Fills every row of a slot with the constant `c` (from [`Self::constant`]).
    pub fn fill(self, dst: &mut [u64], c: &[u64; 5]) {
        assert_eq!(dst.len(), SLOT);
        for (k, limb) in dst.chunks_exact_mut(ROWS).enumerate() {
            limb.fill(c[k]);
        }
    }

    /// The first `src.len()` (≤ ROWS) rows of a slot from field elements; the other rows keep their values.
    pub fn load_rows(self, dst: &mut [u64], src: &[Fr]) {
        assert!(dst.len() == SLOT && src.len() <= ROWS);
        // SAFETY: `Ifma` exists only where the CPU has the features; the slot holds 5·ROWS limbs.
        unsafe { to_limb_major(src, dst.as_mut_ptr(), ROWS) };
    }

    /// The first `out.len()` (≤ ROWS) rows of a slot as field elements.
    pub fn store_rows(self, src: &[u64], out: &mut [Fr]) {
        assert!(src.len() == SLOT && out.len() <= ROWS);
        // SAFETY: as in `load_rows`.
        unsafe { from_limb_major(src.as_ptr(), ROWS, out) };
    }

    /// dst = a ∘ b row by row (∘ one of add, sub, mul); dst may not overlap a or b.
    pub fn binary(self, op: RowOp, dst: &mut [u64], a: &[u64], b: &[u64]) {
        assert!(dst.len() == SLOT && a.len() == SLOT && b.len() == SLOT);
        // SAFETY: as in `load_rows`; three slots of 5·ROWS limbs.
        unsafe { binary_slot(op, dst.as_mut_ptr(), a.as_ptr(), b.as_ptr()) }
    }

    /// dst = a · c for a constant from [`Self::constant`].
    pub fn scale(self, dst: &mut [u64], a: &[u64], c: &[u64; 5]) {
        assert!(dst.len() == SLOT && a.len() == SLOT);
        // SAFETY: as in `load_rows`.
        unsafe { scale_slot(dst.as_mut_ptr(), a.as_ptr(), c) }
    }

    /// acc = acc · y + v (y from [`Self::constant`]).
    pub fn horner(self, acc: &mut [u64], y: &[u64; 5], v: &[u64]) {
        assert!(acc.len() == SLOT && v.len() == SLOT);
        // SAFETY: as in `load_rows`.
        unsafe { horner_slot(acc.as_mut_ptr(), y, v.as_ptr()) }
    }
}

/// The element-wise operations of the row kernels.
#[derive(Clone, Copy, Debug)]
pub enum RowOp {
    Add,
    Sub,
    Mul,
}

#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn binary_slot(op: RowOp, dst: *mut u64, a: *const u64, b: *const u64) {
    for i in (0..ROWS).step_by(8) {
        let (x, y) = (load(a.add(i), ROWS), load(b.add(i), ROWS));
        let r = match op {
            RowOp::Add => add::<ScalarField>(&x, &y),
            RowOp::Sub => sub::<ScalarField>(&x, &y),
            RowOp::Mul => mul::<ScalarField>(&x, &y),
        };
        store(dst.add(i), ROWS, &r);
    }
}

/// dst = a · c.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn scale_slot(dst: *mut u64, a: *const u64, c: &[u64; 5]) {
    let c = broadcast(c);
    for i in (0..ROWS).step_by(8) {
        let r = mul::<ScalarField>(&load(a.add(i), ROWS), &c);
        store(dst.add(i), ROWS, &r);
    }
}

#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn horner_slot(acc: *mut u64, y: &[u64; 5], v: *const u64) {
    let y = broadcast(y);
    for i in (0..ROWS).step_by(8) {
        let r = add::<ScalarField>(&mul::<ScalarField>(&load(acc.add(i), ROWS), &y), &load(v.add(i), ROWS));
        store(acc.add(i), ROWS, &r);
    }
}

/// x^e for every element of `xs` (`exp` little-endian u64s), eight per lane vector and four vectors interleaved, by
/// a fixed 4-bit window from the top: a chain of dependent Montgomery products is latency-bound, four independent
/// chains keep the multipliers busy, and the window trades ~126 multiplications for ~63 plus a 16-entry table. Point
/// decompression takes its square roots this way (y = (x³ + 3)^((q+1)/4) in Fq). None where the CPU has no IFMA
/// ([`available`]).
pub(crate) fn pow_lanes<F: LaneField, T: Montgomery4>(xs: &[T], one: T, exp: &[u64; 4]) -> Option<Vec<T>> {
    if !available() {
        return None;
    }
    let mut out = Vec::with_capacity(xs.len());
    for group in xs.chunks(8 * POW_CHAINS) {
        let mut padded = [one; 8 * POW_CHAINS];
        padded[..group.len()].copy_from_slice(group);
        // SAFETY: the CPU has avx512f and avx512ifma (checked just above); `padded` holds 8·POW_CHAINS elements.
        let r = unsafe { pow_chains::<F, T>(&padded, one, exp) };
        out.extend_from_slice(&r[..group.len()]);
    }
    Some(out)
}

/// Independent exponentiation chains run side by side.
const POW_CHAINS: usize = 4;

#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn pow_chains<F: LaneField, T: Montgomery4>(
    x: &[T; 8 * POW_CHAINS],
    one: T,
    exp: &[u64; 4],
) -> [T; 8 * POW_CHAINS] {
    let one8 = load8([one; 8].as_ptr());
    // table[c][d] = x_c^d for d < 16.
    let mut table = [[one8; 16]; POW_CHAINS];
    for (c, t) in table.iter_mut().enumerate() {
        t[1] = load8(x.as_ptr().add(8 * c));
    }
    for d in 2..16 {
        for t in table.iter_mut() {
            t[d] = mul::<F>(&t[d - 1], &t[1]);
        }
    }
    let nibble_of = |i: usize| ((exp[i / 16] >> (4 * (i % 16))) & 15) as usize;
    let mut acc = [one8; POW_CHAINS];
    let Some(top) = (0..64).rev().find(|&i| nibble_of(i) != 0) else {
        return [one; 8 * POW_CHAINS];
    };
    for nibble in (0..=top).rev() {
        if nibble != top {
            for _ in 0..4 {
                for a in acc.iter_mut() {
                    *a = mul::<F>(a, a);
                }
            }
        }
        let d = nibble_of(nibble);
        if d != 0 {
            for (a, t) in acc.iter_mut().zip(&table) {
                *a = mul::<F>(a, &t[d]);
            }
        }
    }
    let mut out = [one; 8 * POW_CHAINS];
    for (c, a) in acc.iter().enumerate() {
        store8(out.as_mut_ptr().add(8 * c), a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_proofs::halo2curves::ff::PrimeField;
    use rand_chacha::rand_core::SeedableRng;

    fn lanes_of(xs: &[Fr]) -> Vec<u64> {
        let mut v = vec![0u64; 5 * xs.len()];
        // SAFETY: only called after available() (the test returns early without it).
        unsafe { to_limb_major(xs, v.as_mut_ptr(), xs.len()) };
        v
    }

    /// The hard-coded moduli are halo2curves' (the lanes would silently compute mod something else otherwise), and
    /// INV is -p^-1 mod 2^64.
    #[test]
    fn pow_lanes_equals_scalar_pow() {
        use crate::Fq;
        if !available() {
            return;
        }
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let exp = [0x4f082305b61f3f52, 0x65e05aa45a1c72a3, 0x6e14116da0605617, 0x0c19139cb84c680a];
        // Partial and whole groups of four vectors; 0, 1 and −1 among them.
        for n in [1usize, 8, 13, 32, 33, 70] {
            let mut xs: Vec<Fq> = (0..n).map(|_| Fq::random(&mut rng)).collect();
            xs[0] = Fq::ZERO;
            if n > 2 {
                xs[1] = Fq::ONE;
                xs[2] = -Fq::ONE;
            }
            let got = pow_lanes::<BaseField, Fq>(&xs, Fq::ONE, &exp).unwrap();
            assert_eq!(got.len(), n);
            for (x, g) in xs.iter().zip(&got) {
                assert_eq!(*g, x.pow_vartime(exp));
            }
        }
        // Zero nibbles, a short exponent, the top nibble set.
        let fr: Vec<Fr> = (0..20).map(|_| Fr::random(&mut rng)).collect();
        for e in [[12345, 0, 1, 7], [1, 0, 0, 0], [0, 0, 0, 0], [u64::MAX, 0, 0, 1 << 63]] {
            let got = pow_lanes::<ScalarField, Fr>(&fr, Fr::ONE, &e).unwrap();
            for (x, g) in fr.iter().zip(&got) {
                assert_eq!(*g, x.pow_vartime(e), "{e:?}");
            }
        }
    }

    #[test]
    fn lane_moduli_are_the_fields() {
        fn check<F: LaneField, P: PrimeField>() {
            let p = join52(F::P52);
            let hex: String = p.iter().rev().map(|l| format!("{l:016x}")).collect();
            assert_eq!(format!("0x{hex}"), P::MODULUS);
            assert_eq!(p[0].wrapping_mul(F::INV), u64::MAX, "INV");
        }
        check::<ScalarField, Fr>();
        check::<BaseField, crate::Fq>();
    }

    /// The lane arithmetic against halo2curves' scalar arithmetic, at random and at the edges (0, 1, p−1).
    #[test]
    fn lane_arithmetic_equals_scalar() {
        if !available() {
            eprintln!("skipped: this CPU has no avx512ifma (the scalar path runs instead)");
            return;
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let edges = [Fr::ZERO, Fr::ONE, -Fr::ONE, -Fr::from(2), Fr::from(2)];
        let n = 64;
        let mut a: Vec<Fr> = (0..n).map(|_| Fr::random(&mut rng)).collect();
        let mut b: Vec<Fr> = (0..n).map(|_| Fr::random(&mut rng)).collect();
        for (i, e) in edges.iter().enumerate() {
            for (j, f) in edges.iter().enumerate() {
                a[i * edges.len() + j] = *e;
                b[i * edges.len() + j] = *f;
            }
        }
        let (la, lb) = (lanes_of(&a), lanes_of(&b));
        let scaled: Vec<u64> = {
            let mut v = vec![0u64; 5 * n];
            for (i, x) in b.iter().enumerate() {
                for (k, l) in lanes_constant(x).into_iter().enumerate() {
                    v[k * n + i] = l;
                }
            }
            v
        };
        let (mut prod, mut sum, mut diff) = (vec![0u64; 5 * n], vec![0u64; 5 * n], vec![0u64; 5 * n]);
        #[target_feature(enable = "avx512f,avx512ifma")]
        unsafe fn run(n: usize, la: &[u64], lb: &[u64], ls: &[u64], prod: &mut [u64], sum: &mut [u64], diff: &mut [u64]) {
            for i in (0..n).step_by(8) {
                let (x, y, s) = (load(la.as_ptr().add(i), n), load(lb.as_ptr().add(i), n), load(ls.as_ptr().add(i), n));
                store(prod.as_mut_ptr().add(i), n, &mul::<ScalarField>(&x, &s));
                store(sum.as_mut_ptr().add(i), n, &add::<ScalarField>(&x, &y));
                store(diff.as_mut_ptr().add(i), n, &sub::<ScalarField>(&x, &y));
            }
        }
        // SAFETY: available() checked above.
        unsafe { run(n, &la, &lb, &scaled, &mut prod, &mut sum, &mut diff) };
        let back = |v: &[u64]| {
            let mut out = vec![Fr::ZERO; n];
            // SAFETY: as in `lanes_of`.
            unsafe { from_limb_major(v.as_ptr(), n, &mut out) };
            out
        };
        let (prod, sum, diff) = (back(&prod), back(&sum), back(&diff));
        for i in 0..n {
            assert_eq!(prod[i], a[i] * b[i], "product {i}");
            assert_eq!(sum[i], a[i] + b[i], "sum {i}");
            assert_eq!(diff[i], a[i] - b[i], "difference {i}");
        }
    }
}
