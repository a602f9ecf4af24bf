//! NTT over BN254 Fr for the CPU engine.
//!
//! Transforms of up to 2^DIRECT_MAX_LOG points run in place: bit-reversal permutation, then radix-2 stages with
//! precomputed per-stage twiddle tables (each stage reads its twiddles contiguously; the j = 0 butterfly skips its
//! multiplication). Larger transforms use the four-step method, n = n1 * n2 with n1 = 2^floor(k/2):
//!   1. n2 column transforms of length n1 (columns gathered in tiles, bit-reversed on the way in),
//!   2. twiddle multiply by omega^(j2 * k1) (incremental powers, two multiplications per element),
//!   3. n1 row transforms of length n2, written out transposed, so the output is in natural order.
//! Every sub-transform fits in cache, the data crosses memory about twice, and both passes are parallel over tiles.
//! Twiddle memory is O(sqrt(n)) per size, cached per (size, direction).
//! Where the CPU has AVX-512 IFMA, each in-cache transform runs its stages from the fourth on, and step 2's
//! twiddles (or the inverse's 1/n), on eight-element lanes (`ifma.rs`); the results are the same bits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use halo2_proofs::halo2curves::ff::Field;
use rayon::prelude::*;

use crate::engine::{root_of_unity, NttDirection};
use crate::Fr;

/// Largest transform done directly (64 KiB of data: fits in L2).
const DIRECT_MAX_LOG: u32 = 11;
/// Columns (or rows) handled per task in the four-step passes: 8 x 32 B = 256 B contiguous per row access.
const TILE: usize = 8;

/// Twiddles and bit-reversal indices for one in-cache transform size and direction.
pub struct SmallTables {
    log_m: u32,
    /// Stage s (half-size 2^s) occupies [2^s - 1, 2^(s+1) - 1): omega_{2^(s+1)}^j for j < 2^s.
    twiddles: Vec<Fr>,
    bitrev: Vec<u32>,
    /// Stages from `ifma::FIRST_STAGE` on run eight butterflies per instruction where the CPU allows.
    #[cfg(target_arch = "x86_64")]
    lanes: Option<super::ifma::StageTwiddles>,
}

impl SmallTables {
    fn new(log_m: u32, dir: NttDirection, lanes: bool) -> Self {
        let m = 1usize << log_m;
        let mut twiddles = Vec::with_capacity(m.saturating_sub(1));
        for s in 0..log_m {
            let mut w = root_of_unity(s + 1);
            if dir == NttDirection::Inverse {
                w = w.invert().unwrap();
            }
            let mut cur = Fr::ONE;
            for _ in 0..(1usize << s) {
                twiddles.push(cur);
                cur *= w;
            }
        }
        let bitrev = (0..m as u32)
            .map(|i| if log_m == 0 { 0 } else { i.reverse_bits() >> (32 - log_m) })
            .collect();
        #[cfg(target_arch = "x86_64")]
        let lanes = (lanes && log_m > super::ifma::FIRST_STAGE).then(|| super::ifma::StageTwiddles::new(&twiddles, log_m));
        #[cfg(not(target_arch = "x86_64"))]
        let _ = lanes;
        SmallTables {
            log_m,
            twiddles,
            bitrev,
            #[cfg(target_arch = "x86_64")]
            lanes,
        }
    }

    /// Radix-2 stages on data already in bit-reversed order; then, with `scale` = (start, step), element k
    /// times start·step^k.
    fn stages(&self, a: &mut [Fr], scale: Option<(Fr, Fr)>) {
        debug_assert_eq!(a.len(), 1 << self.log_m);
        #[cfg(target_arch = "x86_64")]
        if let Some(lanes) = &self.lanes {
            self.scalar_stages(a, super::ifma::FIRST_STAGE);
            lanes.run(a, scale);
            return;
        }
        self.scalar_stages(a, self.log_m);
        if let Some((start, step)) = scale {
            scale_by_powers(a, start, step);
        }
    }

    /// The first `count` radix-2 stages, one butterfly at a time.
    fn scalar_stages(&self, a: &mut [Fr], count: u32) {
        for s in 0..count {
            let half = 1usize << s;
            let tw = &self.twiddles[half - 1..2 * half - 1];
            for block in a.chunks_exact_mut(2 * half) {
                let (lo, hi) = block.split_at_mut(half);
                let t = hi[0];
                hi[0] = lo[0] - t;
                lo[0] += t;
                for j in 1..half {
                    let t = hi[j] * tw[j];
                    hi[j] = lo[j] - t;
                    lo[j] += t;
                }
            }
        }
    }

    /// In-place transform of a contiguous buffer in natural order.
    fn transform_in_place(&self, a: &mut [Fr]) {
        for (i, &r) in self.bitrev.iter().enumerate() {
            let r = r as usize;
            if i < r {
                a.swap(i, r);
            }
        }
        self.stages(a, None);
    }
}

/// Per-engine cache of twiddle tables, and the four-step scratch buffers (reused: a fresh n-element buffer per
/// transform costs an allocation and a zeroing pass, and the quotient runs hundreds of transforms of one size).
pub struct NttTables {
    small: Mutex<HashMap<(u32, NttDirection), Arc<SmallTables>>>,
    scratch: Mutex<Vec<Vec<Fr>>>,
    /// Whether in-cache stages may run on AVX-512 IFMA lanes (`ifma::available()` unless built `scalar_only`).
    lanes: bool,
}

impl Default for NttTables {
    fn default() -> Self {
        NttTables { small: Mutex::default(), scratch: Mutex::default(), lanes: super::lanes_available() }
    }
}

/// A raw pointer shared across rayon tasks that write provably disjoint positions.
#[derive(Clone, Copy)]
struct SharedMut(*mut Fr);
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl NttTables {
    /// Tables that never use the IFMA lanes: the reference the lane path is tested against.
    pub fn scalar_only() -> Self {
        NttTables { lanes: false, ..Self::default() }
    }

    /// Whether this table set runs stages on IFMA lanes.
    pub fn uses_lanes(&self) -> bool {
        self.lanes
    }

    fn small(&self, log_m: u32, dir: NttDirection) -> Arc<SmallTables> {
        let mut cache = self.small.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry((log_m, dir))
            .or_insert_with(|| Arc::new(SmallTables::new(log_m, dir, self.lanes)))
            .clone()
    }

    /// In-place NTT of `a` (length 2^log_n, natural order in and out). Inverse includes the 1/n factor.
    pub fn transform(&self, a: &mut [Fr], log_n: u32, dir: NttDirection) {
        debug_assert_eq!(a.len(), 1 << log_n);
        if log_n <= DIRECT_MAX_LOG {
            self.small(log_n, dir).transform_in_place(a);
            if dir == NttDirection::Inverse && log_n > 0 {
                let n_inv = n_inverse(log_n);
                a.iter_mut().for_each(|x| *x *= n_inv);
            }
        } else {
            self.four_step(None, a, log_n, dir, None);
        }
    }

    /// `out` ← the forward NTT of `src·(1, g, g², …)`: coefficients evaluated on the coset gH. The four-step method
    /// takes the powers of g without a pass of its own (see `four_step`) and reads `src` in place of a copy.
    /// With `src` None, `out` holds the coefficients and is transformed in place.
    pub fn coset_forward(&self, src: Option<&[Fr]>, out: &mut [Fr], log_n: u32, g: Fr) {
        debug_assert_eq!(out.len(), 1 << log_n);
        debug_assert!(src.is_none_or(|s| s.len() == out.len()));
        if log_n <= DIRECT_MAX_LOG {
            if let Some(src) = src {
                out.copy_from_slice(src);
            }
            distribute_powers(out, g);
            self.small(log_n, NttDirection::Forward).transform_in_place(out);
        } else {
            self.four_step(src, out, log_n, NttDirection::Forward, Some(g));
        }
    }

    /// Four-step transform of `src` (or of `a` itself when None) into `a`. With a coset g, input j = j1·n2 + j2
    /// is scaled by g^j = (g^n2)^j1 · g^j2: the first factor is one table lookup per element as columns are
    /// gathered (the same n1 powers for every column), the second a constant per column, folded into that
    /// column's twiddles in step 2 — so the coset costs one multiplication per element and no extra pass.
    fn four_step(&self, src: Option<&[Fr]>, a: &mut [Fr], log_n: u32, dir: NttDirection, coset: Option<Fr>) {
        let l1 = log_n / 2;
        let l2 = log_n - l1;
        let (n1, n2) = (1usize << l1, 1usize << l2);
        let t1 = self.small(l1, dir);
        let t2 = self.small(l2, dir);
        let mut omega = root_of_unity(log_n);
        if dir == NttDirection::Inverse {
            omega = omega.invert().unwrap();
        }
        let scale = (dir == NttDirection::Inverse).then(|| n_inverse(log_n));

        // Step 1 + 2: columns j2 (elements a[j1 * n2 + j2]) -> scratch[k1 * n2 + j2] * omega^(j2 k1).
        let mut scratch = self.take_scratch(a.len());
        let dst = SharedMut(scratch.as_mut_ptr());
        let src: &[Fr] = src.unwrap_or(a);
        // (g^n2)^j1 for the gather, g^j2 per column.
        let row_powers: Option<Vec<Fr>> = coset.map(|g| {
            let h = g.pow_vartime([n2 as u64]);
            std::iter::successors(Some(Fr::ONE), |p| Some(*p * h)).take(n1).collect()
        });
        (0..n2 / TILE).into_par_iter().for_each_init(
            || vec![Fr::ZERO; TILE * n1],
            |buf, tile| {
                let j0 = tile * TILE;
                for j1 in 0..n1 {
                    let row = &src[j1 * n2 + j0..j1 * n2 + j0 + TILE];
                    let r = t1.bitrev[j1] as usize;
                    match &row_powers {
                        None => row.iter().enumerate().for_each(|(c, v)| buf[c * n1 + r] = *v),
                        Some(p) => row.iter().enumerate().for_each(|(c, v)| buf[c * n1 + r] = *v * p[j1]),
                    }
                }
                let mut w_col = omega.pow_vartime([j0 as u64]);
                let mut g_col = coset.map(|g| g.pow_vartime([j0 as u64]));
                for (c, col) in buf.chunks_exact_mut(n1).enumerate() {
                    // Twiddles (g^j2 ·) omega^(j2 k1), k1 = 0, 1, ...
                    let scale = match g_col.as_mut() {
                        None if j0 + c == 0 => None,
                        None => Some((Fr::ONE, w_col)),
                        Some(gc) => {
                            let s = (*gc, w_col);
                            *gc *= coset.expect("g_col is Some only with a coset");
                            Some(s)
                        }
                    };
                    t1.stages(col, scale);
                    w_col *= omega;
                }
                let dst = dst;
                for k1 in 0..n1 {
                    for c in 0..TILE {
                        // SAFETY: tile columns are disjoint across tasks; index < n.
                        unsafe { *dst.0.add(k1 * n2 + j0 + c) = buf[c * n1 + k1] };
                    }
                }
            },
        );

        // Step 3: rows k1 of scratch (contiguous) -> a[k1 + n1 * k2], natural order.
        let dst = SharedMut(a.as_mut_ptr());
        let src: &[Fr] = &scratch;
        let rows_per_tile = TILE.min(n1);
        (0..n1 / rows_per_tile).into_par_iter().for_each_init(
            || vec![Fr::ZERO; rows_per_tile * n2],
            |buf, tile| {
                let k0 = tile * rows_per_tile;
                for (r, row) in buf.chunks_exact_mut(n2).enumerate() {
                    let s = &src[(k0 + r) * n2..(k0 + r + 1) * n2];
                    for (j2, v) in s.iter().enumerate() {
                        row[t2.bitrev[j2] as usize] = *v;
                    }
                    t2.stages(row, scale.map(|sc| (sc, Fr::ONE)));
                }
                let dst = dst;
                for k2 in 0..n2 {
                    for r in 0..rows_per_tile {
                        // SAFETY: rows k0..k0+rows_per_tile are disjoint across tasks; index < n.
                        unsafe { *dst.0.add(k0 + r + n1 * k2) = buf[r * n2 + k2] };
                    }
                }
            },
        );
        self.give_scratch(scratch);
    }

    /// A buffer of n elements whose contents do not matter (step 1 writes every one).
    fn take_scratch(&self, n: usize) -> Vec<Fr> {
        let mut pool = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        match pool.iter().position(|v| v.len() == n) {
            Some(i) => pool.swap_remove(i),
            None => vec![Fr::ZERO; n],
        }
    }

    /// Keeps a scratch buffer of up to 2^21 elements for the next transform; at most two (the engine's transforms
    /// run one or two at a time), and a new one replaces the oldest.
    fn give_scratch(&self, v: Vec<Fr>) {
        // Larger buffers (the quotient's final 2^(k+2) INTT) go back to the allocator rather than stay held.
        if v.len() > 1 << 21 {
            return;
        }
        let mut pool = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() >= 2 {
            pool.remove(0);
        }
        pool.push(v);
    }
}

/// `a[k] *= start · step^k`.
fn scale_by_powers(a: &mut [Fr], start: Fr, step: Fr) {
    let mut w = start;
    for v in a.iter_mut() {
        *v *= w;
        w *= step;
    }
}

fn n_inverse(log_n: u32) -> Fr {
    Fr::from(1u64 << log_n).invert().unwrap()
}

/// `a[i] *= c^i`, in parallel chunks that each start from c^start.
pub fn distribute_powers(a: &mut [Fr], c: Fr) {
    const CHUNK: usize = 1 << 12;
    a.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(i, chunk)| scale_by_powers(chunk, c.pow_vartime([(i * CHUNK) as u64]), c));
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    /// Transforms on IFMA lanes equal the scalar path bit for bit: forward, inverse and coset, in-cache sizes on
    /// both sides of the first lane stage, and four-step sizes (odd and even log n).
    #[test]
    fn lane_stages_equal_scalar_stages() {
        let lanes = NttTables::default();
        if !lanes.uses_lanes() {
            eprintln!("skipped: this CPU has no avx512ifma (the scalar path runs instead)");
            return;
        }
        let scalar = NttTables::scalar_only();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let g = Fr::from(7);
        for log_n in (1..=14).chain([17]) {
            let v: Vec<Fr> = (0..1usize << log_n).map(|_| Fr::random(&mut rng)).collect();
            for dir in [NttDirection::Forward, NttDirection::Inverse] {
                let (mut a, mut b) = (v.clone(), v.clone());
                lanes.transform(&mut a, log_n, dir);
                scalar.transform(&mut b, log_n, dir);
                assert!(a == b, "log n {log_n}, {dir:?}");
            }
            let (mut a, mut b) = (vec![Fr::ZERO; v.len()], vec![Fr::ZERO; v.len()]);
            lanes.coset_forward(Some(&v), &mut a, log_n, g);
            scalar.coset_forward(Some(&v), &mut b, log_n, g);
            assert!(a == b, "coset, log n {log_n}");
        }
    }
}
