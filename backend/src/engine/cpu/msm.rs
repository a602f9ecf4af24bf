//! Pippenger MSM over BN254 G1 for the CPU engine.
//!
//! - Scalars are recoded per window with Booth signed digits in [-2^(c-1), 2^(c-1)], so a window needs only
//!   2^(c-1) buckets and a negative digit adds the negated point (negating y is one subtraction). Booth digits of one
//!   window depend only on c+1 bits of the scalar, so windows are independent tasks with no carry chain.
//! - Buckets are accumulated in affine coordinates, in batches: each batch shares one field inversion through
//!   Montgomery's trick, so a point addition costs 5M+1S instead of 8M+2S for the cheapest projective form. A point
//!   whose bucket is already in the pending batch is deferred to the next batch; when the deferral queue is full
//!   (skewed inputs: all scalars equal, repeated bases) it goes to a per-bucket XYZZ accumulator instead, so such
//!   inputs stay correct and never degrade to one inversion per point.
//! - Bucket reduction (running sums) and window combination use XYZZ coordinates.
//! - Several windows may share one task: their buckets form one array and one batch takes every window's digit of a
//!   point (different windows' buckets never collide). With few points per window (a verifier's ~3,000-base MSM),
//!   one window's buckets would cap the batches at a few dozen points and the per-window reduction would dominate;
//!   grouping lets a small window width run with full batches.
//! - The window size c, the windows per task and the split of points into chunks are chosen from n and the thread
//!   count with a cost model (point additions + reduction work, with the makespan over the threads).

use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use rayon::prelude::*;

use super::xyzz::{is_affine_identity, Xyzz};
use crate::{Fq, Fr, G1Affine, G1};

/// Cost-model units: one batched affine point addition (5M+1S) = 16. (The model keeps the scalar path's costs on
/// IFMA lanes too: charging lane additions at their cheaper rate picked narrower windows that measured slower at
/// 2^16 and 2^20, where memory traffic, not arithmetic, prices a bucket update.)
const POINT_COST: usize = 16;
/// One field inversion (Bernstein–Yang) is worth about 20 point additions; a batch of B points shares one.
const INVERSION_COST: usize = 20 * POINT_COST;
/// Reducing one bucket takes one mixed and one full XYZZ addition (~24M), about 4 point additions.
const REDUCTION_COST: usize = 4 * POINT_COST;
/// Per-core L2 size assumed by the cost model.
const L2_BYTES: usize = 1 << 20;

/// Points per batch of affine additions for a window with `buckets` buckets. On IFMA lanes each addition is cheaper,
/// so the one inversion per batch weighs more and batches go up to 1024 (2^20 points: 655 ms at 256, 598 at 1024).
fn batch_cap(buckets: usize, lanes: bool) -> usize {
    (buckets / 4).clamp(1, if lanes { 1024 } else { 256 })
}
/// Windows are grouped only up to this many points: measured with `examples/msm_windows`, grouping took 1,024
/// points from 3.4 to 2.3 ms and 4,096 from 7.8 to 6.7 ms, but at 2^14 the model's grouped pick ran 10-20% slower
/// than one window per task, and at 2^18 it made no difference.
const GROUPED_MAX: usize = 1 << 13;
/// Below this many points the MSM runs on the calling thread.
const PARALLEL_THRESHOLD: usize = 1 << 10;

/// Number of Booth windows of width c for scalars of at most `bits` bits: the windows must reach one zero bit above
/// the top bit so the last digit has no carry.
pub fn num_windows(c: usize, bits: usize) -> usize {
    if bits == 0 {
        0
    } else {
        (bits + 1).div_ceil(c)
    }
}

/// The plan for one MSM: window width, how many windows one task accumulates together (`group`), and how many
/// chunks the points are split into per task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsmPlan {
    pub window: usize,
    pub chunks: usize,
    pub group: usize,
}

impl MsmPlan {
    /// One window per task (the layout for large MSMs).
    pub fn windowed(window: usize, chunks: usize) -> Self {
        MsmPlan { window, chunks, group: 1 }
    }
}

/// Chooses the plan for `n` points of `bits`-bit scalars on `threads` threads by minimising the estimated makespan.
pub fn plan(n: usize, threads: usize, bits: usize) -> MsmPlan {
    let threads = if n < PARALLEL_THRESHOLD { 1 } else { threads.max(1) };
    let mut best = (usize::MAX, MsmPlan::windowed(1, 1));
    for c in 1..=18usize {
        let w = num_windows(c, bits).max(1);
        let buckets = 1usize << (c - 1);
        // `tasks` window groups of `group` windows each (the last may be shorter).
        for tasks in 1..=w {
            let group = w.div_ceil(tasks);
            if group > 1 && n > GROUPED_MAX {
                continue;
            }
            if tasks > 1 && w.div_ceil(tasks - 1) == group {
                continue; // same group size as fewer tasks
            }
            let tasks = w.div_ceil(group);
            let set = buckets * group;
            // More chunks than needed to fill the threads only adds reduction work.
            let max_chunks = (2 * threads).div_ceil(tasks).max(1);
            for chunks in 1..=max_chunks {
                let mut per_point = POINT_COST + INVERSION_COST / batch_cap(set, false);
                // Affine buckets past ~1 MiB (a core's L2 here) turn bucket updates into cache misses, and a busy
                // neighbour on the shared L3 makes it worse: charge a quarter more per point.
                if set * std::mem::size_of::<Affine>() > L2_BYTES {
                    per_point += per_point / 4;
                }
                let per_task = n.div_ceil(chunks) * group * per_point + REDUCTION_COST * set;
                let rounds = (tasks * chunks).div_ceil(threads);
                let cost = rounds.saturating_mul(per_task);
                if cost < best.0 {
                    best = (cost, MsmPlan { window: c, chunks, group });
                }
            }
        }
    }
    best.1
}

/// Canonical little-endian limbs of a scalar (leaves Montgomery form once per MSM, not once per window).
#[inline]
fn limbs(s: &Fr) -> [u64; 4] {
    let repr = s.to_repr();
    let b = repr.as_ref();
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        *limb = u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap());
    }
    out
}

fn bit_len(l: &[u64; 4]) -> usize {
    (0..4).rev().find(|&i| l[i] != 0).map_or(0, |i| 64 * i + 64 - l[i].leading_zeros() as usize)
}

/// Scalars as the windows consume them: s is replaced by r − s (and its point negated) when that is shorter, so
/// small negative values — common in quantized-model witnesses, where −3 is r − 3 — cost as little as small positive
/// ones; `bits` is the longest scalar after that, which bounds the number of windows.
pub struct Prepared {
    pub limbs: Vec<[u64; 4]>,
    pub negated: Vec<bool>,
    pub bits: usize,
}

pub fn prepare(scalars: &[Fr]) -> Prepared {
    let half = {
        let mut h = limbs(&-Fr::ONE); // r − 1, shifted right once: (r − 1) / 2
        for i in 0..4 {
            h[i] = (h[i] >> 1) | if i < 3 { h[i + 1] << 63 } else { 0 };
        }
        h
    };
    let greater = |a: &[u64; 4], b: &[u64; 4]| (0..4).rev().find(|&i| a[i] != b[i]).is_some_and(|i| a[i] > b[i]);
    let one = |s: &Fr| {
        let l = limbs(s);
        if greater(&l, &half) {
            (limbs(&-*s), true)
        } else {
            (l, false)
        }
    };
    let (limbs, negated): (Vec<[u64; 4]>, Vec<bool>) = if scalars.len() >= PARALLEL_THRESHOLD {
        scalars.par_iter().map(one).unzip()
    } else {
        scalars.iter().map(one).unzip()
    };
    let bits = limbs.iter().map(bit_len).max().unwrap_or(0);
    Prepared { limbs, negated, bits }
}

/// `width` (<= 32) bits of the 256-bit little-endian integer starting at bit `pos`.
#[inline]
fn bits(l: &[u64; 4], pos: usize, width: usize) -> u64 {
    if pos >= 256 {
        return 0;
    }
    let (limb, off) = (pos / 64, pos % 64);
    let mut v = l[limb] >> off;
    if off + width > 64 && limb + 1 < 4 {
        v |= l[limb + 1] << (64 - off);
    }
    v & ((1u64 << width) - 1)
}

/// Booth digit of window `w` (width c): bits [wc-1, wc+c-1] with the top bit weighted -2^c.
#[inline]
pub fn booth_digit(l: &[u64; 4], w: usize, c: usize) -> i64 {
    let v = if w == 0 {
        bits(l, 0, c) << 1
    } else {
        bits(l, w * c - 1, c + 1)
    };
    ((v >> 1) + (v & 1)) as i64 - (((v >> c) << c) as i64)
}

const EMPTY: u8 = 0;
const FILLED: u8 = 1;
/// Filled and waiting in the pending batch: new points for it go to the spill accumulator.
const BUSY: u8 = 2;

#[derive(Clone, Copy)]
struct Affine {
    x: Fq,
    y: Fq,
}

/// The buckets of one window (or one chunk of a window) and the pending batch of affine additions.
struct Buckets {
    point: Vec<Affine>,
    state: Vec<u8>,
    batch_bucket: Vec<u32>,
    batch_x2: Vec<Fq>,
    batch_num: Vec<Fq>,
    batch_den: Vec<Fq>,
    batch_prefix: Vec<Fq>,
    batch_cap: usize,
    /// Run the batch's affine additions on IFMA lanes (`flush_lanes`).
    lanes: bool,
    /// Points whose bucket was busy when they arrived; retried after the next flush at the cheap affine rate.
    deferred: Vec<(u32, Affine)>,
    retry: Vec<(u32, Affine)>,
    /// XYZZ accumulators for points that cannot wait (deferral queue full, or left over at the end): keeps skewed
    /// inputs (all scalars equal, repeated bases) linear-time instead of one inversion per point.
    spill: Vec<Xyzz>,
}

impl Buckets {
    fn new(count: usize, lanes: bool) -> Self {
        // Large enough to amortise the inversion, small enough that few points meet their bucket already pending.
        let batch_cap = batch_cap(count, lanes);
        Buckets {
            point: vec![Affine { x: Fq::ZERO, y: Fq::ZERO }; count],
            state: vec![EMPTY; count],
            batch_bucket: Vec::with_capacity(batch_cap),
            batch_x2: Vec::with_capacity(batch_cap),
            batch_num: Vec::with_capacity(batch_cap),
            batch_den: Vec::with_capacity(batch_cap),
            batch_prefix: vec![Fq::ZERO; batch_cap.next_multiple_of(8)],
            batch_cap,
            lanes,
            deferred: Vec::with_capacity(batch_cap),
            retry: Vec::with_capacity(batch_cap),
            spill: Vec::new(),
        }
    }

    #[inline]
    fn add(&mut self, b: usize, x2: Fq, y2: Fq) {
        if self.insert(b, x2, y2) {
            self.flush();
            self.retry_deferred();
        }
    }

    fn spill_add(&mut self, b: usize, p: Affine) {
        if self.spill.is_empty() {
            self.spill = vec![Xyzz::IDENTITY; self.point.len()];
        }
        self.spill[b].add_affine(p.x, p.y);
    }

    /// Adds a point to bucket b without retrying; returns true when the batch is full and must be flushed.
    #[inline]
    fn insert(&mut self, b: usize, x2: Fq, y2: Fq) -> bool {
        match self.state[b] {
            EMPTY => {
                self.point[b] = Affine { x: x2, y: y2 };
                self.state[b] = FILLED;
                false
            }
            BUSY => {
                let p = Affine { x: x2, y: y2 };
                if self.deferred.len() < self.batch_cap {
                    self.deferred.push((b as u32, p));
                } else {
                    self.spill_add(b, p);
                }
                false
            }
            _ => {
                let p = self.point[b];
                let (num, den) = if p.x == x2 {
                    if p.y == y2 {
                        // Doubling: lambda = 3x^2 / 2y.
                        let xx = x2 * x2;
                        (xx.double() + xx, y2.double())
                    } else {
                        // P + (-P): the bucket becomes empty.
                        self.state[b] = EMPTY;
                        return false;
                    }
                } else {
                    (y2 - p.y, x2 - p.x)
                };
                self.batch_bucket.push(b as u32);
                self.batch_x2.push(x2);
                self.batch_num.push(num);
                self.batch_den.push(den);
                self.state[b] = BUSY;
                self.batch_bucket.len() == self.batch_cap
            }
        }
    }

    /// Re-inserts the deferred points now that their buckets are free (some may defer again).
    fn retry_deferred(&mut self) {
        std::mem::swap(&mut self.deferred, &mut self.retry);
        let mut retry = std::mem::take(&mut self.retry);
        for (b, p) in retry.drain(..) {
            if self.insert(b as usize, p.x, p.y) {
                self.flush();
            }
        }
        self.retry = retry;
    }

    /// Executes the pending batch with one inversion (Montgomery's trick).
    fn flush(&mut self) {
        let m = self.batch_bucket.len();
        if m == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.lanes && m >= 16 {
            // SAFETY: `lanes` is only set where `ifma::available()` (see `msm_with_plan`).
            unsafe { self.flush_lanes() };
            return;
        }
        let mut acc = Fq::ONE;
        for i in 0..m {
            self.batch_prefix[i] = acc;
            acc *= self.batch_den[i];
        }
        // Every denominator is non-zero by construction (x2 != x1, or 2y with y != 0 on BN254 G1).
        let mut inv = acc.invert().unwrap();
        for i in (0..m).rev() {
            let inv_i = inv * self.batch_prefix[i];
            inv *= self.batch_den[i];
            let lambda = self.batch_num[i] * inv_i;
            let b = self.batch_bucket[i] as usize;
            let p = self.point[b];
            let x3 = lambda * lambda - p.x - self.batch_x2[i];
            let y3 = lambda * (p.x - x3) - p.y;
            self.point[b] = Affine { x: x3, y: y3 };
            self.state[b] = FILLED;
        }
        self.batch_bucket.clear();
        self.batch_x2.clear();
        self.batch_num.clear();
        self.batch_den.clear();
    }

    /// `flush` on IFMA lanes: eight interleaved Montgomery-trick chains (element i in lane i mod 8), one inversion
    /// of the eight chain products, then λ, x3, y3 for eight buckets per step. Same results as `flush`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn flush_lanes(&mut self) {
        use super::ifma::{load8, mul, store8, sub, BaseField as F};
        use halo2_proofs::halo2curves::ff::BatchInvert;
        let m = self.batch_bucket.len();
        let padded = m.next_multiple_of(8);
        // Padding lanes: denominator 1 so the chains stay invertible; their results are never written back.
        self.batch_den.resize(padded, Fq::ONE);
        self.batch_num.resize(padded, Fq::ZERO);
        self.batch_x2.resize(padded, Fq::ZERO);
        self.batch_prefix.resize(self.batch_prefix.len().max(padded), Fq::ZERO);
        let mut acc = load8([Fq::ONE; 8].as_ptr());
        for at in (0..padded).step_by(8) {
            store8(self.batch_prefix.as_mut_ptr().add(at), &acc);
            acc = mul::<F>(&acc, &load8(self.batch_den.as_ptr().add(at)));
        }
        let mut chains = [Fq::ZERO; 8];
        store8(chains.as_mut_ptr(), &acc);
        // Every denominator is non-zero (see `flush`), so is every chain product.
        chains.iter_mut().batch_invert();
        let mut inv = load8(chains.as_ptr());
        let (mut px, mut py) = ([Fq::ZERO; 8], [Fq::ZERO; 8]);
        for at in (0..padded).step_by(8).rev() {
            let inv_i = mul::<F>(&inv, &load8(self.batch_prefix.as_ptr().add(at)));
            inv = mul::<F>(&inv, &load8(self.batch_den.as_ptr().add(at)));
            let lambda = mul::<F>(&load8(self.batch_num.as_ptr().add(at)), &inv_i);
            let here = &self.batch_bucket[at..m.min(at + 8)];
            for (j, &b) in here.iter().enumerate() {
                let p = self.point[b as usize];
                (px[j], py[j]) = (p.x, p.y);
            }
            let (x, y) = (load8(px.as_ptr()), load8(py.as_ptr()));
            let x3 = sub::<F>(&sub::<F>(&mul::<F>(&lambda, &lambda), &x), &load8(self.batch_x2.as_ptr().add(at)));
            let y3 = sub::<F>(&mul::<F>(&lambda, &sub::<F>(&x, &x3)), &y);
            store8(px.as_mut_ptr(), &x3);
            store8(py.as_mut_ptr(), &y3);
            for (j, &b) in here.iter().enumerate() {
                self.point[b as usize] = Affine { x: px[j], y: py[j] };
                self.state[b as usize] = FILLED;
            }
        }
        self.batch_bucket.clear();
        self.batch_x2.clear();
        self.batch_num.clear();
        self.batch_den.clear();
    }

    /// For each window (consecutive runs of `per_window` buckets), sum_b (b+1) * bucket_b by running sums.
    fn reduce(mut self, per_window: usize) -> Vec<Xyzz> {
        self.flush();
        self.retry_deferred();
        self.flush();
        // Whatever still waits (only on skewed inputs) goes to the XYZZ accumulators.
        for (b, p) in std::mem::take(&mut self.deferred) {
            self.spill_add(b as usize, p);
        }
        let spilled = !self.spill.is_empty();
        (0..self.point.len() / per_window)
            .map(|w| {
                let mut running = Xyzz::IDENTITY;
                let mut sum = Xyzz::IDENTITY;
                for b in (w * per_window..(w + 1) * per_window).rev() {
                    if self.state[b] != EMPTY {
                        running.add_affine(self.point[b].x, self.point[b].y);
                    }
                    if spilled {
                        running.add_assign(&self.spill[b]);
                    }
                    sum.add_assign(&running);
                }
                sum
            })
            .collect()
    }
}

/// The contributions of windows `windows` over `points[range]` (not yet shifted by 2^(wc)), accumulated in one
/// bucket array: window w's buckets are the w-th run of 2^(c-1).
fn windows_sum(
    points: &[G1Affine],
    scalars: &[[u64; 4]],
    negated: &[bool],
    skip_identity: bool,
    windows: std::ops::Range<usize>,
    c: usize,
    lanes: bool,
) -> Vec<Xyzz> {
    let per_window = 1usize << (c - 1);
    let mut buckets = Buckets::new(per_window * windows.len(), lanes);
    for ((p, s), &neg) in points.iter().zip(scalars).zip(negated) {
        if skip_identity && is_affine_identity(p) {
            continue;
        }
        let neg_y = -p.y;
        for (i, w) in windows.clone().enumerate() {
            let d = booth_digit(s, w, c);
            if d == 0 {
                continue;
            }
            let b = i * per_window + d.unsigned_abs() as usize - 1;
            buckets.add(b, p.x, if (d > 0) != neg { p.y } else { neg_y });
        }
    }
    buckets.reduce(per_window)
}

/// MSM with an explicit plan (tests force every window width through this).
pub fn msm_with_plan(points: &[G1Affine], skip_identity: bool, scalars: &[Fr], plan: MsmPlan) -> G1 {
    run(points, skip_identity, &prepare(scalars), plan, super::lanes_available())
}

/// As [`msm_with_plan`], with the batched affine additions on IFMA lanes or not (`lanes` is ignored where the CPU
/// has no IFMA): the tests compare the two.
pub fn msm_with_plan_on(points: &[G1Affine], skip_identity: bool, scalars: &[Fr], plan: MsmPlan, lanes: bool) -> G1 {
    run(points, skip_identity, &prepare(scalars), plan, lanes && super::lanes_available())
}


fn run(points: &[G1Affine], skip_identity: bool, prepared: &Prepared, plan: MsmPlan, lanes: bool) -> G1 {
    let n = prepared.limbs.len();
    assert!(points.len() >= n, "caller checks the bases cover the scalars");
    if n == 0 {
        return G1::default();
    }
    let points = &points[..n];
    let c = plan.window;
    let windows = num_windows(c, prepared.bits);
    let parallel = n >= PARALLEL_THRESHOLD;
    let (limbs, negated) = (&prepared.limbs, &prepared.negated);
    let chunk_len = n.div_ceil(plan.chunks.max(1));
    let group = plan.group.max(1);
    let tasks: Vec<(usize, usize)> = (0..windows.div_ceil(group))
        .flat_map(|g| (0..n.div_ceil(chunk_len)).map(move |ch| (g * group, ch)))
        .collect();
    let run = |&(w0, ch): &(usize, usize)| {
        let (lo, hi) = (ch * chunk_len, ((ch + 1) * chunk_len).min(n));
        let ws = w0..(w0 + group).min(windows);
        (w0, windows_sum(&points[lo..hi], &limbs[lo..hi], &negated[lo..hi], skip_identity, ws, c, lanes))
    };
    let partial: Vec<(usize, Vec<Xyzz>)> = if parallel {
        tasks.par_iter().map(run).collect()
    } else {
        tasks.iter().map(run).collect()
    };
    let mut per_window = vec![Xyzz::IDENTITY; windows];
    for (w0, sums) in &partial {
        for (i, s) in sums.iter().enumerate() {
            per_window[w0 + i].add_assign(s);
        }
    }
    // Horner over windows, most significant first.
    let mut acc = Xyzz::IDENTITY;
    for s in per_window.iter().rev() {
        for _ in 0..c {
            acc.double_in_place();
        }
        acc.add_assign(s);
    }
    acc.to_projective()
}

/// MSM with the plan chosen for this size and the current rayon pool.
pub fn msm(points: &[G1Affine], skip_identity: bool, scalars: &[Fr]) -> G1 {
    let prepared = prepare(scalars);
    let p = plan(scalars.len(), rayon::current_num_threads(), prepared.bits);
    run(points, skip_identity, &prepared, p, super::lanes_available())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_int(l: &[u64; 4]) -> Vec<i128> {
        l.iter().map(|&x| x as i128).collect()
    }

    #[test]
    fn booth_digits_reconstruct_the_scalar() {
        // sum_w d_w 2^(wc) == s, checked limb-free on small scalars and via bit identities on r-1.
        for c in 1..=18 {
            for s in [0u64, 1, 2, 3, 255, 256, 0xdead_beef, u64::MAX] {
                let l = [s, 0, 0, 0];
                let mut acc: i128 = 0;
                for w in (0..num_windows(c, Fr::NUM_BITS as usize)).rev() {
                    if w * c < 100 {
                        acc += (booth_digit(&l, w, c) as i128) << (w * c);
                    } else {
                        assert_eq!(booth_digit(&l, w, c), 0);
                    }
                    let d = booth_digit(&l, w, c);
                    assert!(d.abs() <= 1 << (c - 1), "c={c} d={d}");
                }
                assert_eq!(acc, s as i128, "c={c} s={s} {:?}", to_int(&l));
            }
        }
    }
}
