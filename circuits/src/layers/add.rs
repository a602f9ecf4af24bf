//! Residual Add chip: y = clamp(floor((a_p·(p − zp) + a_q·(q − zq) + b/2) / b) + z) — one division-and-clip unit
//! per element with both activations as inputs and the zero points folded into K.

use zkinfer_import::ir::{Layer, Op, QuantModel};

use crate::error::Result;
use crate::gadgets::div_clip::{self, Unit};
use crate::sheet::{Sheet, Wire};

pub fn assign(sheet: &mut Sheet, model: &QuantModel, layer: &Layer, p: &[Wire], q: &[Wire]) -> Result<Vec<Wire>> {
    let Op::Add { a_multiplier, b_multiplier, out, lo, hi } = &layer.op else { unreachable!() };
    let zp = model.tensors[layer.inputs[0]].q.zero_point as i128;
    let zq = model.tensors[layer.inputs[1]].q.zero_point as i128;
    let b = 1i128 << model.denominator_bits;
    let (ap, aq) = (a_multiplier.a, b_multiplier.a);
    let k = b / 2 + out.zero_point as i128 * b - ap as i128 * zp - aq as i128 * zq;
    let units: Vec<_> =
        p.iter().zip(q).map(|(x1, x2)| Unit { x1: *x1, x2: *x2, a1: ap, a2: aq, k, lo: *lo, hi: *hi }).collect();
    div_clip::assign(sheet, &layer.name, &units)
}
