//! Resident scalar buffers: upload / download and the element-wise kernels (kernels/cuda/elementwise.cu).

use std::sync::Arc;

use rayon::prelude::*;

use super::device::{blocks_for, fr_bytes, fr_bytes_mut, fr_from_device, kargs, DevBuf, DevResult, Device};
use crate::Fr;

const BLOCK: u32 = 256;

/// A device buffer of Fr (the representation inside a CUDA engine's `ScalarBuffer`).
pub struct DevScalars {
    pub buf: DevBuf,
    pub len: usize,
}

pub fn upload(dev: &Arc<dyn Device>, values: &[Fr]) -> DevResult<DevScalars> {
    Ok(DevScalars { buf: DevBuf::from_bytes(dev, fr_bytes(values))?, len: values.len() })
}

pub fn zeros(dev: &Arc<dyn Device>, len: usize) -> DevResult<DevScalars> {
    // All-zero bytes are Fr::ZERO in Montgomery form.
    Ok(DevScalars { buf: DevBuf::zeroed(dev, len * 32)?, len })
}

/// Copies `len` scalars out, refusing unreduced values (a device fault must not become a wrong Fr).
pub fn download(buf: &DevBuf, out: &mut [Fr]) -> DevResult<()> {
    buf.read(fr_bytes_mut(out))?;
    let bad = out.par_chunks(1 << 12).any(|c| c.iter().any(|x| fr_from_device(fr_bytes(std::slice::from_ref(x))).is_err()));
    if bad {
        return Err("device returned unreduced Fr elements".into());
    }
    Ok(())
}

/// `kernel(a, b, n)` for a binary element-wise op.
pub fn zip(dev: &Arc<dyn Device>, kernel: &'static str, a: &DevScalars, b: &DevScalars) -> DevResult<()> {
    if a.len == 0 {
        return Ok(());
    }
    dev.launch(kernel, blocks_for(a.len, BLOCK), BLOCK, kargs![a.buf.ptr(), b.buf.ptr(), a.len as u32])
}

pub fn add_scaled(dev: &Arc<dyn Device>, a: &DevScalars, c: Fr, b: &DevScalars) -> DevResult<()> {
    if a.len == 0 {
        return Ok(());
    }
    dev.launch("fr_add_scaled", blocks_for(a.len, BLOCK), BLOCK, kargs![a.buf.ptr(), c, b.buf.ptr(), a.len as u32])
}

pub fn scale(dev: &Arc<dyn Device>, a: &DevScalars, c: Fr) -> DevResult<()> {
    if a.len == 0 {
        return Ok(());
    }
    dev.launch("fr_scale", blocks_for(a.len, BLOCK), BLOCK, kargs![a.buf.ptr(), c, a.len as u32])
}
