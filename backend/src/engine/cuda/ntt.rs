//! NTT launch sequence (kernels/cuda/ntt.cu): one permutation pass (bit reversal with the pre-scaling folded in),
//! then radix-2 DIT stages in shared-memory passes of up to 10 stages (the first, on contiguous tiles) and 7 stages
//! x 8 adjacent columns (the later ones, coalesced), and for the inverse coset transform one distribute-powers pass.
//! Twiddles omega^t (t < n/2) are computed on the device once per domain size.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use halo2_proofs::halo2curves::ff::Field;

use super::device::{blocks_for, fr_bytes, kargs, DevBuf, DevResult, Device};
use crate::engine::{root_of_unity, NttDirection};
use crate::Fr;

const BLOCK: u32 = 256;
/// Stages of the first pass (a 2^10-element tile: 32 KiB of shared memory).
const FIRST_STAGES: u32 = 10;
/// Stages of a later pass: 2^7 rows x 2^3 columns = the same tile size.
const LATER_STAGES: u32 = 7;
const LATER_COLS_LOG: u32 = 3;
/// Threads of the grid-stride kernels (permute, distribute powers).
const MAX_STRIDE_THREADS: usize = 1 << 18;

/// Per-size twiddle tables, computed once.
#[derive(Default)]
pub struct Twiddles {
    tables: Mutex<HashMap<u32, Arc<DevBuf>>>,
}

impl Twiddles {
    pub fn get(&self, dev: &Arc<dyn Device>, log_n: u32) -> DevResult<Arc<DevBuf>> {
        let mut tables = self.tables.lock().map_err(|_| "twiddle cache poisoned".to_string())?;
        if let Some(t) = tables.get(&log_n) {
            return Ok(t.clone());
        }
        let half = 1usize << (log_n - 1);
        let omega = root_of_unity(log_n);
        let pow2: Vec<Fr> = std::iter::successors(Some(omega), |w| Some(w.square())).take(log_n as usize).collect();
        let pow2 = DevBuf::from_bytes(dev, fr_bytes(&pow2))?;
        let tw = DevBuf::new(dev, half * 32)?;
        dev.launch("ntt_twiddles", blocks_for(half, BLOCK), BLOCK, kargs![tw.ptr(), half as u32, pow2.ptr()])?;
        let tw = Arc::new(tw);
        tables.insert(log_n, tw.clone());
        Ok(tw)
    }
}

/// g^(2^b) for b < 32: the table the grid-stride kernels build g^t from (t < 2^32).
fn pow2_table(dev: &Arc<dyn Device>, g: Fr) -> DevResult<DevBuf> {
    let table: Vec<Fr> = std::iter::successors(Some(g), |x| Some(x.square())).take(32).collect();
    DevBuf::from_bytes(dev, fr_bytes(&table))
}

/// Grid of a grid-stride kernel over n elements: (blocks, total threads).
fn stride_grid(n: usize) -> (u32, u64) {
    let blocks = blocks_for(n.min(MAX_STRIDE_THREADS), BLOCK);
    (blocks, blocks as u64 * BLOCK as u64)
}

/// `a[j] *= g^j` for the n scalars at `data`.
pub fn distribute_powers(dev: &Arc<dyn Device>, data: u64, n: usize, g: Fr) -> DevResult<()> {
    if n == 0 {
        return Ok(());
    }
    let (blocks, threads) = stride_grid(n);
    let table = pow2_table(dev, g)?;
    let stride = g.pow_vartime([threads]);
    dev.launch("fr_distribute_powers", blocks, BLOCK, kargs![data, n as u32, table.ptr(), stride])
}

/// Transforms the 2^log_n scalars in `buf` (replaced by a new allocation holding the result).
/// `coset`: `None` for the plain domain, else (g, g^-1).
pub fn ntt(
    dev: &Arc<dyn Device>,
    twiddles: &Twiddles,
    buf: &mut DevBuf,
    log_n: u32,
    dir: NttDirection,
    coset: Option<(Fr, Fr)>,
) -> DevResult<()> {
    if log_n == 0 {
        return Ok(()); // every size-1 transform (plain, inverse, coset) is the identity
    }
    let n = 1usize << log_n;
    let tw = twiddles.get(dev, log_n)?;
    let out = DevBuf::new(dev, n * 32)?;

    // Permutation with the pre-scaling.
    let (blocks, threads) = stride_grid(n);
    let (flags, scale, table, stride) = match (dir, coset) {
        (NttDirection::Forward, None) => (0u32, Fr::ONE, None, Fr::ONE),
        (NttDirection::Forward, Some((g, _))) => (4, Fr::ONE, Some(pow2_table(dev, g)?), g.pow_vartime([threads])),
        (NttDirection::Inverse, _) => {
            let n_inv = Fr::from(n as u64).invert().expect("n < r is invertible");
            (1 | 2, n_inv, None, Fr::ONE)
        }
    };
    let table_ptr = table.as_ref().map_or(0, DevBuf::ptr);
    dev.launch(
        "ntt_permute",
        blocks,
        BLOCK,
        kargs![buf.ptr(), out.ptr(), log_n, flags, scale, table_ptr, stride],
    )?;

    for (st0, k, m) in pass_plan(log_n) {
        let tile_log = k + m;
        dev.launch(
            "ntt_pass",
            (n >> tile_log) as u32,
            1 << (tile_log - 1),
            kargs![out.ptr(), tw.ptr(), log_n, st0, k, m],
        )?;
    }

    if let (NttDirection::Inverse, Some((_, g_inv))) = (dir, coset) {
        distribute_powers(dev, out.ptr(), n, g_inv)?;
    }
    *buf = out;
    Ok(())
}

/// (first stage, stages, log2 columns) of each shared-memory pass: FIRST_STAGES on contiguous tiles, then the
/// rest split evenly into passes of at most LATER_STAGES.
pub fn pass_plan(log_n: u32) -> Vec<(u32, u32, u32)> {
    let first = log_n.min(FIRST_STAGES);
    let mut plan = vec![(0, first, 0)];
    let rest = log_n - first;
    if rest > 0 {
        let passes = rest.div_ceil(LATER_STAGES);
        let mut st = first;
        for i in 0..passes {
            let k = rest / passes + u32::from(i < rest % passes);
            plan.push((st, k, LATER_COLS_LOG.min(st)));
            st += k;
        }
    }
    plan
}
