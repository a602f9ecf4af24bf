//! Layer chips: each turns one IR layer into gadget rows, taking its input tensors' cells and returning its output
//! tensor's cells (values included, so the next layer's witness follows).

pub mod add;
pub mod conv;
pub mod gemm;
pub mod pool;
pub mod remap;

use zkinfer_import::ir::Requant;

use crate::gadgets::div_clip::Unit;
use crate::sheet::Wire;

/// The cells of one channel's kernel window at output (oy, ox), row-major; taps in the zero padding are `pad`.
/// `x` is that channel's h×w plane.
pub fn window(x: &[Wire], (h, w): (usize, usize), (oy, ox): (usize, usize), kernel: [usize; 2], stride: [usize; 2], pads: [usize; 4], pad: Wire, out: &mut Vec<Wire>) {
    for ky in 0..kernel[0] {
        let iy = (oy * stride[0] + ky) as isize - pads[0] as isize;
        for kx in 0..kernel[1] {
            let ix = (ox * stride[1] + kx) as isize - pads[1] as isize;
            out.push(if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                pad
            } else {
                x[iy as usize * w + ix as usize]
            });
        }
    }
}

/// The requantisation unit of a linear layer's output: (acc + bias)·a + b/2 + z·b, clamped.
pub fn linear_unit(acc: Wire, bias: Wire, rq: &Requant, bits: u32) -> Unit {
    let b = 1i128 << bits;
    Unit { x1: acc, x2: bias, a1: rq.multiplier.a, a2: rq.multiplier.a, k: b / 2 + rq.out.zero_point as i128 * b, lo: rq.lo, hi: rq.hi }
}
