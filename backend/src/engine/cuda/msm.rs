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
    if n == 0 {
        return Ok(G1::identity());
    }
    if !(1..=20).contains(&c) {
        return Err(format!("window width {c} outside 1..=20"));
    }
    if scalars % ALIGN != 0 {
        return Err(format!("scalar buffer at {scalars:#x} is not {ALIGN}-byte aligned"));
    }
    if bases.buf.ptr() % ALIGN != 0 {
        return Err(format!("base buffer at {:#x} is not {ALIGN}-byte aligned", bases.buf.ptr()));
    }
    let n32 = u32::try_from(n).map_err(|_| format!("{n} scalars exceed the u32 index range"))?;

    // Prepared scalars (canonical, the shorter of s and r - s) and their longest bit length, which sizes the
    // windows: int8-valued witnesses (r - |v| for negatives) need ceil(9 / c) windows instead of ceil(255 / c), and
    // their upper windows no longer pile every point into one bucket.
    let prep = DevBuf::new(dev, n * 32)?;
    let max_bits = DevBuf::zeroed(dev, 4)?;
    dev.launch("msm_scalar_prep", blocks_for(n, BLOCK), BLOCK, kargs![scalars, n32, prep.ptr(), max_bits.ptr()])?;
    let mut word = [0u8; 4];
    max_bits.read(&mut word)?;
    let bits = u32::from_le_bytes(word);
    if bits > 253 {
        return Err(format!("device reported a prepared scalar of {bits} bits (at most 253 expected)"));
    }
    let windows = num_windows(bits, c);
    if windows == 0 {
        return Ok(G1::identity()); // every scalar is zero
    }
    let nb = 1u32 << (c - 1);
    let buckets = windows * nb;
    let entries = (windows as u64) * (n as u64);
    if entries >= (1u64 << 31) {
        return Err(format!("{n} scalars with {windows} windows exceed the 2^31 pair limit"));
    }
    let entries32 = entries as u32;

    // Digits, pairs and the bucket histogram.
    let keys = DevBuf::new(dev, entries as usize * 4)?;
    let vals = DevBuf::new(dev, entries as usize * 4)?;
    let counts = DevBuf::zeroed(dev, buckets as usize * 4)?;
    dev.launch(
        "msm_digits",
        blocks_for(n, BLOCK),
        BLOCK,
        kargs![prep.ptr(), n32, c, windows, keys.ptr(), vals.ptr(), counts.ptr()],
    )?;
    drop(prep);

    // Counting sort: bucket starts, then scatter.
    let offsets = DevBuf::copy_of(dev, counts.ptr(), buckets as usize * 4)?;
    scan_u32(dev, offsets.ptr(), buckets)?;
    let fill = DevBuf::zeroed(dev, buckets as usize * 4)?;
    let sorted = DevBuf::new(dev, entries as usize * 4)?;
    dev.launch(
        "msm_scatter",
        blocks_for(entries as usize, BLOCK),
        BLOCK,
        kargs![keys.ptr(), vals.ptr(), entries32, offsets.ptr(), fill.ptr(), sorted.ptr()],
    )?;
    drop((keys, vals, fill));

    // Accumulation levels: a bucket holds at most n entries; each level divides that by SEG.
    let (mut cnt, mut off) = (counts, offsets);
    let mut partials: Option<DevBuf> = None;
    let mut bound = entries; // upper bound on the items of the current level
    let mut most = n as u64; // upper bound on one bucket's items
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
    let mut groups = DevBuf::new(dev, (windows * chunks) as usize * XYZZ)?;
    dev.launch(
        "msm_bucket_reduce",
        blocks_for((windows * chunks) as usize, BLOCK_ACC),
        BLOCK_ACC,
        kargs![dense.ptr(), windows, nb, chunks, m, groups.ptr()],
    )?;
    drop(dense);
    let mut len = chunks;
    while len > 1 {
        let len_out = len.div_ceil(SEG);
        let out = DevBuf::new(dev, (windows * len_out) as usize * XYZZ)?;
        dev.launch(
            "msm_reduce_groups",
            blocks_for((windows * len_out) as usize, BLOCK_ACC),
            BLOCK_ACC,
            kargs![groups.ptr(), windows, len, SEG, out.ptr()],
        )?;
        (groups, len) = (out, len_out);
    }
    if combine == Combine::Device {
        let result = DevBuf::new(dev, XYZZ)?;
        dev.launch("msm_window_combine", 1, 1, kargs![groups.ptr(), windows, c, result.ptr()])?;
        let mut bytes = [0u8; XYZZ];
        result.read(&mut bytes)?;
        return xyzz_to_g1(&bytes);
    }
    let mut bytes = vec![0u8; windows as usize * XYZZ];
    groups.read(&mut bytes)?;
    let sums = bytes.chunks(XYZZ).map(xyzz_to_g1).collect::<DevResult<Vec<G1>>>()?;
    let mut acc = G1::identity();
    for w in sums.iter().rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        acc += w;
    }
    Ok(acc)
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
