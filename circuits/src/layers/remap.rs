//! Pad and Reshape/Flatten: no rows, only a new arrangement of existing cells (padding cells are the zero-point
//! constant).

use zkinfer_import::ir::{Layer, Op, QuantModel};

use crate::error::Result;
use crate::sheet::{Sheet, Wire};

pub fn assign(sheet: &mut Sheet, model: &QuantModel, layer: &Layer, x: &[Wire]) -> Result<Vec<Wire>> {
    match &layer.op {
        Op::Reshape => Ok(x.to_vec()),
        Op::Pad { pads } => {
            let xi = &model.tensors[layer.inputs[0]];
            let (c, h, w) = (xi.shape[1], xi.shape[2], xi.shape[3]);
            let out = &model.tensors[layer.output].shape;
            let (oh, ow) = (out[2], out[3]);
            let z = sheet.konst(xi.q.zero_point as i64)?;
            let mut y = vec![z; c * oh * ow];
            for ch in 0..c {
                for iy in 0..h {
                    for ix in 0..w {
                        y[(ch * oh + iy + pads[0]) * ow + ix + pads[1]] = x[(ch * h + iy) * w + ix];
                    }
                }
            }
            Ok(y)
        }
        _ => unreachable!(),
    }
}
