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

/// The requantisation unit of a linear layer's output: (acc + bias)·a + b/2 + z·b, clamped.
pub fn linear_unit(acc: Wire, bias: Wire, rq: &Requant, bits: u32) -> Unit {
    let b = 1i128 << bits;
    Unit { x1: acc, x2: bias, a1: rq.multiplier.a, a2: rq.multiplier.a, k: b / 2 + rq.out.zero_point as i128 * b, lo: rq.lo, hi: rq.hi }
}
