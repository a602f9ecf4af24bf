//! MSM launch sequence (kernels/cuda/msm.cu): scalar preparation on the device (canonical form, s > (r - 1) / 2
//! replaced by r - s with its point negated, the longest bit length read back to size the number of windows),
//! signed-digit decomposition, counting sort of (bucket, point) pairs, bucket accumulation in levels of at most
//! `SEG` terms per thread, chunked bucket reduction, window combination. One XYZZ point comes back and is
//! normalised on the host.

use std::sync::Arc;

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::halo2curves::group::Group;
use halo2_proofs::halo2curves::CurveAffine;

use super::device::{blocks_for, fq_from_device, kargs, DevBuf, DevResult, Device};
use crate::{Fq, G1Affine, G1};

/// Terms one thread sums per level (bucket accumulation, group reduction).
const SEG: u32 = 32;
/// Most reduction chunks per window (msm_bucket_reduce threads per window).
const MAX_CHUNKS: u32 = 1024;
/// Bytes of an XYZZ point (4 Fq).
const XYZZ: usize = 128;
/// Block sizes; each MSM kernel's __launch_bounds__ in msm.cu is the one it is launched with here (MSM_BLOCK,
/// MSM_BLOCK_ACC; scan.cu SCAN_ADD_BLOCK). BLOCK must stay a multiple of 32: the digit and scatter kernels
/// aggregate their atomics over whole warps.
const BLOCK: u32 = 256;
const BLOCK_ACC: u32 = 128;
/// Device buffers of Fr / Fq / points must be 16-byte aligned (the kernels' field type is __align__(16)).
const ALIGN: u64 = 16;

/// Bases resident on the device (halo2curves G1Affine bytes).
pub struct DevBases {
    pub buf: DevBuf,
    pub len: usize,
}

/// Window width for `n` scalars: ~16 bits at 2^20 (2^15 buckets per window, ~32 points each), narrower for small
/// inputs so the bucket work stays proportional.
pub fn window_for(n: usize) -> u32 {
    let log = usize::BITS - n.max(1).leading_zeros() - 1;
    log.saturating_sub(4).clamp(4, 16)
}

/// Windows of width `c` for prepared scalars of at most `bits` bits: the top window must stay below 2^(c-1) so that
/// its signed digit has no carry out (the same count as the CPU engine's `num_windows`). 0 for `bits` = 0.
pub fn num_windows(bits: u32, c: u32) -> u32 {
    if bits == 0 { 0 } else { (bits + 1).div_ceil(c) }
}

/// In-place exclusive scan of `n` u32 at `data` (scan_block per 1024, block totals scanned recursively).
pub fn scan_u32(dev: &Arc<dyn Device>, data: u64, n: u32) -> DevResult<()> {
    const TILE: u32 = 1024;
    let blocks = n.div_ceil(TILE).max(1);
    if blocks == 1 {
        return dev.launch("scan_block", 1, 512, kargs![data, 0u64, n]);
    }
    let sums = DevBuf::new(dev, blocks as usize * 4)?;
    dev.launch("scan_block", blocks, 512, kargs![data, sums.ptr(), n])?;
    scan_u32(dev, sums.ptr(), blocks)?;
    dev.launch("scan_add", blocks_for(n as usize, BLOCK), BLOCK, kargs![data, sums.ptr(), n])
}

/// Where the window sums are combined (sum_w 2^(c w) W_w). Horner is a chain of ~255 dependent doublings: one
/// GPU thread takes about a millisecond for it, the host tens of microseconds, so the engine downloads the W window
/// sums (W x 128 bytes) and combines them on the host. The device kernel (msm_window_combine) stays for tests and
/// as the fallback for a fully device-resident pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    Host,
    Device,
}

/// `sum scalars[i] * bases[i]` for the `n` scalars at device address `scalars`, with window width `c`.
pub fn msm(dev: &Arc<dyn Device>, bases: &DevBases, scalars: u64, n: usize, c: u32, combine: Combine) -> DevResult<G1> {
    let sums = msm_batch(dev, bases, &[Column { scalars, n }], c, combine, Prep::Copy, u64::MAX)?;
    Ok(sums[0])
}

/// One MSM of a batch: `n` scalars at device address `scalars`, against the first `n` bases.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub scalars: u64,
    pub n: usize,
}

/// Where a batch's prepared scalars go: a fresh buffer per column, or over the scalars themselves (for buffers
/// the engine uploaded for this MSM alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prep {
    Copy,
    InPlace,
}

/// Device bytes a batch needs per (window, scalar) pair: key, value, sorted value, and the first accumulation
/// level's share of an XYZZ partial (one per SEG pairs).
const PAIR_BYTES: u64 = 12 + XYZZ as u64 / SEG as u64;
/// Device bytes per bucket: the histogram, its scan, the fill counters and two levels of segment counts and
/// offsets, plus an XYZZ partial, a dense bucket and (at most) one reduction group.
const BUCKET_BYTES: u64 = 7 * 4 + 3 * XYZZ as u64;

/// Device bytes the bucket phase of a batch with `windows` windows of width `c` and `pairs` (window, scalar) pairs
/// needs beyond its prepared scalars.
pub fn batch_bytes(windows: u64, pairs: u64, c: u32) -> u64 {
    pairs * PAIR_BYTES + windows * (1u64 << (c - 1)) * BUCKET_BYTES
}

/// Several MSMs against the same bases with one window width `c`, as ONE bucket problem: every column's windows
/// become windows of a single bucket array, so the sort, the accumulation levels and the bucket reduction each run
/// once over all columns. For a prover's int8 witness columns (one window each at 2^20) that turns a reduction over
/// one window's 2^15 buckets (a thousand threads) per column into one over every column's buckets. The scalar
/// preparations run first and their bit lengths come back in one read; columns are then grouped so that a group's
/// bucket phase stays within `budget` bytes (a column alone may exceed it). Sums in column order.
pub fn msm_batch(
    dev: &Arc<dyn Device>,
    bases: &DevBases,
    cols: &[Column],
    c: u32,
    combine: Combine,
    prep: Prep,
    budget: u64,
) -> DevResult<Vec<G1>> {
    if !(1..=20).contains(&c) {
        return Err(format!("window width {c} outside 1..=20"));
    }
    if bases.buf.ptr() % ALIGN != 0 {
        return Err(format!("base buffer at {:#x} is not {ALIGN}-byte aligned", bases.buf.ptr()));
    }
    for col in cols {
        if col.n > bases.len {
            return Err(format!("{} scalars for {} bases", col.n, bases.len));
        }
        if col.n > 0 && col.scalars % ALIGN != 0 {
            return Err(format!("scalar buffer at {:#x} is not {ALIGN}-byte aligned", col.scalars));
        }
        u32::try_from(col.n).map_err(|_| format!("{} scalars exceed the u32 index range", col.n))?;
    }
    let live: Vec<usize> = (0..cols.len()).filter(|&j| cols[j].n > 0).collect();
    let mut sums = vec![G1::identity(); cols.len()];
    if live.is_empty() {
        return Ok(sums);
    }

    // Prepared scalars (canonical, the shorter of s and r - s) and each column's longest bit length, which sizes its
    // windows: int8-valued witnesses (r - |v| for negatives) need ceil(9 / c) windows instead of ceil(255 / c), and
    // their upper windows no longer pile every point into one bucket.
    let max_bits = DevBuf::zeroed(dev, cols.len() * 4)?;
    let mut owned: Vec<Option<DevBuf>> = (0..cols.len()).map(|_| None).collect();
    let mut preps = vec![0u64; cols.len()];
    for &j in &live {
        let Column { scalars, n } = cols[j];
        preps[j] = match prep {
            Prep::InPlace => scalars,
            Prep::Copy => {
                let b = DevBuf::new(dev, n * 32)?;
                let p = b.ptr();
                owned[j] = Some(b);
                p
            }
        };
        let slot = max_bits.ptr() + 4 * j as u64;
        dev.launch("msm_scalar_prep", blocks_for(n, BLOCK), BLOCK, kargs![scalars, n as u32, preps[j], slot])?;
    }
    let mut words = vec![0u8; cols.len() * 4];
    max_bits.read(&mut words)?;
    let mut windows = vec![0u32; cols.len()];
    for &j in &live {
        let bits = u32::from_le_bytes(words[4 * j..4 * j + 4].try_into().expect("4 bytes"));
        if bits > 253 {
            return Err(format!("device reported a prepared scalar of {bits} bits (at most 253 expected)"));
        }
        windows[j] = num_windows(bits, c);
    }

    // Groups in column order within the budget (at least one column each); all-zero columns need no group.
    let mut group: Vec<usize> = Vec::new();
    let (mut w, mut pairs) = (0u64, 0u64);
    for &j in live.iter().filter(|&&j| windows[j] > 0) {
        let (wj, pj) = (windows[j] as u64, windows[j] as u64 * cols[j].n as u64);
        let fits = batch_bytes(w + wj, pairs + pj, c) <= budget && pairs + pj < (1u64 << 31) && w + wj <= MAX_WINDOWS;
        if !group.is_empty() && !fits {
            buckets_phase(dev, bases, cols, &preps, &mut owned, &windows, &group, c, combine, &mut sums)?;
            group.clear();
            (w, pairs) = (0, 0);
        }
        group.push(j);
        (w, pairs) = (w + wj, pairs + pj);
    }
    if !group.is_empty() {
        buckets_phase(dev, bases, cols, &preps, &mut owned, &windows, &group, c, combine, &mut sums)?;
    }
    Ok(sums)
}

/// Most windows one bucket problem holds (keeps windows x 2^19 buckets inside u32).
const MAX_WINDOWS: u64 = 1 << 12;

/// The bucket phase for the columns `group` (each with at least one window), their sums into `sums`. The
/// prepared copies in `owned` are released once their digits are taken.
#[allow(clippy::too_many_arguments)]
fn buckets_phase(
    dev: &Arc<dyn Device>,
    bases: &DevBases,
    cols: &[Column],
    preps: &[u64],
    owned: &mut [Option<DevBuf>],
    windows: &[u32],
    group: &[usize],
    c: u32,
    combine: Combine,
    sums: &mut [G1],
) -> DevResult<()> {
    let nb = 1u32 << (c - 1);
    let total: u32 = group.iter().map(|&j| windows[j]).sum();
    let buckets = total * nb;
    let entries: u64 = group.iter().map(|&j| windows[j] as u64 * cols[j].n as u64).sum();
    if entries >= (1u64 << 31) {
        let n = cols[group[0]].n;
        return Err(format!("{n} scalars with {} windows exceed the 2^31 pair limit", windows[group[0]]));
    }
    let most = group.iter().map(|&j| cols[j].n as u64).max().unwrap_or(0);

    // Digits, pairs and the bucket histogram. Column j's pairs start at its entry offset and its buckets at its
    // window offset times nb: the kernels index relative to the pointers they are given, and a pair's value is a
    // point index, the same bases serving every column.
    let keys = DevBuf::new(dev, entries as usize * 4)?;
    let vals = DevBuf::new(dev, entries as usize * 4)?;
    let counts = DevBuf::zeroed(dev, buckets as usize * 4)?;
    let mut at = Vec::with_capacity(group.len()); // (entry offset, first window) per column
    let (mut e0, mut w0) = (0u64, 0u32);
    for &j in group {
        let n = cols[j].n;
        at.push((e0, w0));
        let b0 = 4 * (w0 as u64 * nb as u64);
        dev.launch(
            "msm_digits",
            blocks_for(n, BLOCK),
            BLOCK,
            kargs![preps[j], n as u32, c, windows[j], keys.ptr() + 4 * e0, vals.ptr() + 4 * e0, counts.ptr() + b0],
        )?;
        e0 += windows[j] as u64 * n as u64;
        w0 += windows[j];
    }
    for &j in group {
        owned[j] = None;
    }

    // Counting sort: bucket starts, then scatter.
    let offsets = DevBuf::copy_of(dev, counts.ptr(), buckets as usize * 4)?;
    scan_u32(dev, offsets.ptr(), buckets)?;
    let fill = DevBuf::zeroed(dev, buckets as usize * 4)?;
    let sorted = DevBuf::new(dev, entries as usize * 4)?;
    for (&j, &(e0, w0)) in group.iter().zip(&at) {
        let ej = windows[j] as u64 * cols[j].n as u64;
        let b0 = 4 * (w0 as u64 * nb as u64);
        dev.launch(
            "msm_scatter",
            blocks_for(ej as usize, BLOCK),
            BLOCK,
            kargs![
                keys.ptr() + 4 * e0,
                vals.ptr() + 4 * e0,
                ej as u32,
                offsets.ptr() + b0,
                fill.ptr() + b0,
                sorted.ptr()
            ],
        )?;
    }
    drop((keys, vals, fill));

    // Accumulation levels: a bucket holds at most `most` entries (one per scalar of the longest column); each level
    // divides that by SEG.
    let (mut cnt, mut off) = (counts, offsets);
    let mut partials: Option<DevBuf> = None;
    let mut bound = entries; // upper bound on the items of the current level
    let mut most = most; // upper bound on one bucket's items
    loop {
        let cnt_out = DevBuf::new(dev, buckets as usize * 4)?;
        dev.launch(
            "msm_seg_counts",
            blocks_for(buckets as usize, BLOCK),
            BLOCK,
            kargs![cnt.ptr(), cnt_out.ptr(), buckets, SEG],
        )?;
        let off_out = DevBuf::copy_of(dev, cnt_out.ptr(), buckets as usize * 4)?;
        scan_u32(dev, off_out.ptr(), buckets)?;
        let bound_out = (bound.div_ceil(SEG as u64) + buckets as u64).min(bound);
        let out = DevBuf::new(dev, bound_out as usize * XYZZ)?;
        let grid = blocks_for(bound_out as usize, BLOCK_ACC);
        match &partials {
            None => dev.launch(
                "msm_accumulate_points",
                grid,
                BLOCK_ACC,
                kargs![
                    bases.buf.ptr(),
                    sorted.ptr(),
                    cnt.ptr(),
                    off.ptr(),
                    cnt_out.ptr(),
                    off_out.ptr(),
                    buckets,
                    SEG,
                    out.ptr()
                ],
            )?,
            Some(p) => dev.launch(
                "msm_accumulate_partials",
                grid,
                BLOCK_ACC,
                kargs![p.ptr(), cnt.ptr(), off.ptr(), cnt_out.ptr(), off_out.ptr(), buckets, SEG, out.ptr()],
            )?,
        }
        partials = Some(out);
        (cnt, off, bound) = (cnt_out, off_out, bound_out);
        most = most.div_ceil(SEG as u64);
        if most <= 1 {
            break;
        }
    }
    drop(sorted);
    let partials = partials.expect("at least one level");

    // Dense buckets, then per-window reduction in chunks.
    let dense = DevBuf::new(dev, buckets as usize * XYZZ)?;
    dev.launch(
        "msm_bucket_gather",
        blocks_for(buckets as usize, BLOCK),
        BLOCK,
        kargs![partials.ptr(), cnt.ptr(), off.ptr(), buckets, dense.ptr()],
    )?;
    drop((partials, cnt, off));
    let chunks = nb.min(MAX_CHUNKS);
    let m = nb / chunks;
    let mut groups = DevBuf::new(dev, (total * chunks) as usize * XYZZ)?;
    dev.launch(
        "msm_bucket_reduce",
        blocks_for((total * chunks) as usize, BLOCK_ACC),
        BLOCK_ACC,
        kargs![dense.ptr(), total, nb, chunks, m, groups.ptr()],
    )?;
    drop(dense);
    let mut len = chunks;
    while len > 1 {
        let len_out = len.div_ceil(SEG);
        let out = DevBuf::new(dev, (total * len_out) as usize * XYZZ)?;
        dev.launch(
            "msm_reduce_groups",
            blocks_for((total * len_out) as usize, BLOCK_ACC),
            BLOCK_ACC,
            kargs![groups.ptr(), total, len, SEG, out.ptr()],
        )?;
        (groups, len) = (out, len_out);
    }
    // One sum per window, column j's at its first window.
    if combine == Combine::Device {
        for (&j, &(_, w0)) in group.iter().zip(&at) {
            let result = DevBuf::new(dev, XYZZ)?;
            let first = groups.ptr() + w0 as u64 * XYZZ as u64;
            dev.launch("msm_window_combine", 1, 1, kargs![first, windows[j], c, result.ptr()])?;
            let mut bytes = [0u8; XYZZ];
            result.read(&mut bytes)?;
            sums[j] = xyzz_to_g1(&bytes)?;
        }
        return Ok(());
    }
    let mut bytes = vec![0u8; total as usize * XYZZ];
    groups.read(&mut bytes)?;
    let all = bytes.chunks(XYZZ).map(xyzz_to_g1).collect::<DevResult<Vec<G1>>>()?;
    for (&j, &(_, w0)) in group.iter().zip(&at) {
        let mut acc = G1::identity();
        for w in all[w0 as usize..(w0 + windows[j]) as usize].iter().rev() {
            for _ in 0..c {
                acc = acc.double();
            }
            acc += w;
        }
        sums[j] = acc;
    }
    Ok(())
}

/// XYZZ (x = X/ZZ, y = Y/ZZZ; identity when ZZ = 0) to a halo2curves point, checked to be on the curve.
pub fn xyzz_to_g1(b: &[u8]) -> DevResult<G1> {
    let x = fq_from_device(&b[0..32])?;
    let y = fq_from_device(&b[32..64])?;
    let zz = fq_from_device(&b[64..96])?;
    let zzz = fq_from_device(&b[96..128])?;
    if bool::from(zz.is_zero()) {
        return Ok(G1::identity());
    }
    let (zz_inv, zzz_inv) = match (Option::<Fq>::from(zz.invert()), Option::<Fq>::from(zzz.invert())) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err("device returned an XYZZ point with ZZZ = 0 but ZZ != 0".into()),
    };
    let p: Option<G1Affine> = G1Affine::from_xy(x * zz_inv, y * zzz_inv).into();
    p.map(|p| p.to_curve()).ok_or_else(|| "device returned a point that is not on the curve".into())
}
