//! Average pooling chips: GlobalAveragePool and AveragePool (zero-padded windows count as the zero point, i.e. add
//! nothing, matching count_include_pad). Each output is an adder sum of (x − zx) then one division-and-clip unit
//! with multiplier s_x / (s_y · window).

use zkinfer_import::ir::{Layer, Op, QuantModel};

use crate::error::Result;
use crate::gadgets::{adder, div_clip};
use crate::sheet::{Sheet, Wire};

pub fn assign(sheet: &mut Sheet, model: &QuantModel, layer: &Layer, x: &[Wire]) -> Result<Vec<Wire>> {
    let xi = &model.tensors[layer.inputs[0]];
    let zx = xi.q.zero_point as i64;
    let (c, h, w) = (xi.shape[1], xi.shape[2], xi.shape[3]);
    let (windows, rq): (Vec<Vec<Wire>>, _) = match &layer.op {
        Op::GlobalAveragePool { requant } => ((0..c).map(|ch| x[ch * h * w..(ch + 1) * h * w].to_vec()).collect(), requant),
        Op::AveragePool { kernel, stride, pads, requant } => {
            let out = &model.tensors[layer.output].shape;
            let pad = sheet.konst(zx)?;
            let mut v = Vec::new();
            for ch in 0..c {
                for oy in 0..out[2] {
                    for ox in 0..out[3] {
                        let mut win = Vec::new();
                        let plane = &x[ch * h * w..(ch + 1) * h * w];
                        super::window(plane, (h, w), (oy, ox), *kernel, *stride, *pads, pad, &mut win);
                        v.push(win);
                    }
                }
            }
            (v, requant)
        }
        _ => unreachable!(),
    };
    let zero = sheet.konst(0)?;
    let mut units = Vec::with_capacity(windows.len());
    for win in &windows {
        let sum = adder::assign(sheet, win, zx)?;
        let mut u = super::linear_unit(sum, zero, rq, model.denominator_bits);
        u.a2 = 0;
        units.push(u);
    }
    div_clip::assign(sheet, &layer.name, &units)
}
