//! The integer reference executor: exactly the arithmetic the circuits prove (see [`crate::ir`]), batch 1, NCHW.
//! It is the ground truth the circuits must match bit for bit.

use crate::error::{ImportError, Result};
use crate::ir::{broadcast_index, transpose_index, Layer, Op, QParams, QuantModel, Requant};

/// floor((c·a + b/2) / b) + z, clamped to [lo, hi].
#[inline]
pub fn rescale(c: i64, a: i64, bits: u32, zero_point: i32, lo: i32, hi: i32) -> i32 {
    let b = 1i128 << bits;
    let v = (c as i128 * a as i128 + b / 2).div_euclid(b) + zero_point as i128;
    v.clamp(lo as i128, hi as i128) as i32
}

#[inline]
fn requant(c: i64, r: &Requant, bits: u32) -> i32 {
    rescale(c, r.multiplier.a, bits, r.out.zero_point, r.lo, r.hi)
}

/// ONNX QuantizeLinear on the float input: round half to even(x / scale) + zero_point, saturated to int8.
pub fn quantize_input(x: &[f32], q: QParams) -> Vec<i32> {
    x.iter()
        .map(|&v| {
            let r = (v / q.scale).round_ties_even() as i64 + q.zero_point as i64;
            r.clamp(-128, 127) as i32
        })
        .collect()
}

/// Runs the model on an int8 input (already quantized, `model.input().shape` elements) and returns every tensor.
pub fn run_all(model: &QuantModel, input: &[i32]) -> Result<Vec<Vec<i32>>> {
    let want: usize = model.input().shape.iter().product();
    if input.len() != want {
        return Err(ImportError::BadInput(format!(
            "expected {} values for shape {:?}, got {}",
            want,
            model.input().shape,
            input.len()
        )));
    }
    if let Some(v) = input.iter().find(|v| !(-128..=127).contains(*v)) {
        return Err(ImportError::BadInput(format!("value {v} is outside int8")));
    }
    let mut values: Vec<Vec<i32>> = vec![Vec::new(); model.tensors.len()];
    values[0] = input.to_vec();
    for layer in &model.layers {
        values[layer.output] = eval_layer(model, layer, &values);
    }
    Ok(values)
}

/// One layer's int8 output from the values of its input tensors (indexed like `model.tensors`).
pub fn eval_layer(model: &QuantModel, layer: &Layer, values: &[Vec<i32>]) -> Vec<i32> {
    let bits = model.denominator_bits;
    let out_shape = &model.tensors[layer.output].shape;
    let x_info = &model.tensors[layer.inputs[0]];
    let x = &values[layer.inputs[0]];
    let zx = x_info.q.zero_point as i64;
    match &layer.op {
        Op::Conv { weights, weight_shape, weight_zero_point, bias, stride, pads, groups, requant: rq } => {
            let [co, ci_g, kh, kw] = *weight_shape;
            let (h, w) = (x_info.shape[2], x_info.shape[3]);
            let (oh, ow) = (out_shape[2], out_shape[3]);
            let co_g = co / groups;
            let zw = *weight_zero_point as i64;
            let mut y = vec![0i32; co * oh * ow];
            for oc in 0..co {
                let g = oc / co_g;
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = bias[oc];
                        for icg in 0..ci_g {
                            let ic = g * ci_g + icg;
                            for ky in 0..kh {
                                let iy = (oy * stride[0] + ky) as isize - pads[0] as isize;
                                if iy < 0 || iy >= h as isize {
                                    continue; // zero padding: x − zx = 0
                                }
                                for kx in 0..kw {
                                    let ix = (ox * stride[1] + kx) as isize - pads[1] as isize;
                                    if ix < 0 || ix >= w as isize {
                                        continue;
                                    }
                                    let xv = x[(ic * h + iy as usize) * w + ix as usize] as i64 - zx;
                                    let wv = weights[((oc * ci_g + icg) * kh + ky) * kw + kx] as i64 - zw;
                                    acc += xv * wv;
                                }
                            }
                        }
                        y[(oc * oh + oy) * ow + ox] = requant(acc, &rq[oc], bits);
                    }
                }
            }
            y
        }
        Op::Gemm { weights, out_features, in_features, weight_zero_point, bias, requant: rq } => {
            let zw = *weight_zero_point as i64;
            (0..*out_features)
                .map(|o| {
                    let row = &weights[o * in_features..(o + 1) * in_features];
                    let acc = x.iter().zip(row).map(|(&a, &b)| (a as i64 - zx) * (b as i64 - zw)).sum::<i64>()
                        + bias[o];
                    requant(acc, &rq[o], bits)
                })
                .collect()
        }
        Op::Add { a_multiplier, b_multiplier, out, lo, hi } => {
            let (ia, ib) = broadcast_pair(model, layer);
            let bv = &values[layer.inputs[1]];
            let zb = model.tensors[layer.inputs[1]].q.zero_point as i64;
            let den = 1i128 << bits;
            ia.iter()
                .zip(&ib)
                .map(|(&i, &j)| {
                    let s = (x[i] as i64 - zx) as i128 * a_multiplier.a as i128
                        + (bv[j] as i64 - zb) as i128 * b_multiplier.a as i128;
                    let v = (s + den / 2).div_euclid(den) + out.zero_point as i128;
                    v.clamp(*lo as i128, *hi as i128) as i32
                })
                .collect()
        }
        Op::Mul { requant: rq } => {
            let (ia, ib) = broadcast_pair(model, layer);
            let bv = &values[layer.inputs[1]];
            let zb = model.tensors[layer.inputs[1]].q.zero_point as i64;
            ia.iter().zip(&ib).map(|(&i, &j)| requant((x[i] as i64 - zx) * (bv[j] as i64 - zb), rq, bits)).collect()
        }
        Op::Lookup { table, .. } => x.iter().map(|&v| table[(v + 128) as usize]).collect(),
        Op::MaxPool { kernel, stride, pads } => {
            // Padded taps count as −128: never above a real cell (every window holds one).
            pool_windows(x_info, out_shape, *kernel, *stride, *pads, |taps| {
                taps.map(|i| i.map_or(-128, |i| x[i])).max().unwrap_or(-128)
            })
        }
        Op::Transpose { perm } => transpose_index(&x_info.shape, perm).into_iter().map(|i| x[i]).collect(),
        Op::GlobalAveragePool { requant: rq } => {
            let c = x_info.shape[1];
            let hw = x_info.shape[2] * x_info.shape[3];
            (0..c)
                .map(|ch| {
                    let acc: i64 = x[ch * hw..(ch + 1) * hw].iter().map(|&v| v as i64 - zx).sum();
                    requant(acc, rq, bits)
                })
                .collect()
        }
        Op::AveragePool { kernel, stride, pads, requant: rq } => {
            // Padded taps add nothing (count_include_pad: the divisor is the whole window).
            pool_windows(x_info, out_shape, *kernel, *stride, *pads, |taps| {
                requant(taps.flatten().map(|i| x[i] as i64 - zx).sum(), rq, bits)
            })
        }
        Op::Pad { pads } => {
            let (c, h, w) = (x_info.shape[1], x_info.shape[2], x_info.shape[3]);
            let (oh, ow) = (out_shape[2], out_shape[3]);
            let mut y = vec![x_info.q.zero_point; c * oh * ow];
            for ch in 0..c {
                for iy in 0..h {
                    for ix in 0..w {
                        y[(ch * oh + iy + pads[0]) * ow + ix + pads[1]] = x[(ch * h + iy) * w + ix];
                    }
                }
            }
            y
        }
        Op::Reshape => x.clone(),
        Op::Slice { start, end } => {
            let plane: usize = x_info.shape[2..].iter().product();
            x[start * plane..end * plane].to_vec()
        }
        Op::Concat { rescale } => layer
            .inputs
            .iter()
            .zip(rescale)
            .flat_map(|(&t, r)| {
                let z = model.tensors[t].q.zero_point as i64;
                values[t].iter().map(move |&v| match r {
                    Some(r) => requant(v as i64 - z, r, bits),
                    None => v,
                })
            })
            .collect(),
    }
}

/// Runs `f` over every pooling window of an NCHW input (output order): the window's taps row-major, each the
/// index of its input cell or None where it falls in the padding.
fn pool_windows(
    x: &crate::ir::TensorInfo,
    out: &[usize],
    kernel: [usize; 2],
    stride: [usize; 2],
    pads: [usize; 4],
    f: impl Fn(&mut dyn Iterator<Item = Option<usize>>) -> i32,
) -> Vec<i32> {
    let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3]);
    let mut y = Vec::with_capacity(c * out[2] * out[3]);
    for ch in 0..c {
        for oy in 0..out[2] {
            for ox in 0..out[3] {
                let mut taps = (0..kernel[0]).flat_map(|ky| (0..kernel[1]).map(move |kx| (ky, kx))).map(|(ky, kx)| {
                    let iy = (oy * stride[0] + ky) as isize - pads[0] as isize;
                    let ix = (ox * stride[1] + kx) as isize - pads[1] as isize;
                    (iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w)
                        .then(|| (ch * h + iy as usize) * w + ix as usize)
                });
                y.push(f(&mut taps));
            }
        }
    }
    y
}

/// For each output element of a two-input elementwise layer, the element each input reads (numpy broadcasting).
pub fn broadcast_pair(model: &QuantModel, layer: &Layer) -> (Vec<usize>, Vec<usize>) {
    let out = &model.tensors[layer.output].shape;
    let idx = |t: usize| broadcast_index(out, &model.tensors[t].shape).expect("the importer checked the broadcast");
    (idx(layer.inputs[0]), idx(layer.inputs[1]))
}

/// The int8 output tensor (logits) for an int8 input.
pub fn run(model: &QuantModel, input: &[i32]) -> Result<Vec<i32>> {
    Ok(run_all(model, input)?.swap_remove(model.output))
}

/// Runs layers `start..end` from the values of the tensors entering them (`(tensor id, values)`, e.g. one
/// segment of a chain) and returns the values of `wanted` tensors, in that order.
pub fn run_layers(
    model: &QuantModel,
    start: usize,
    end: usize,
    entering: &[(usize, &[i32])],
    wanted: &[usize],
) -> Result<Vec<Vec<i32>>> {
    let mut values: Vec<Vec<i32>> = vec![Vec::new(); model.tensors.len()];
    for &(t, v) in entering {
        let want: usize = model.tensors[t].shape.iter().product();
        if v.len() != want {
            return Err(ImportError::BadInput(format!(
                "tensor '{}' needs {want} values, got {}",
                model.tensors[t].name,
                v.len()
            )));
        }
        if let Some(x) = v.iter().find(|x| !(-128..=127).contains(*x)) {
            return Err(ImportError::BadInput(format!("tensor '{}': value {x} is outside int8", model.tensors[t].name)));
        }
        values[t] = v.to_vec();
    }
    for layer in &model.layers[start..end] {
        if let Some(&t) = layer.inputs.iter().find(|&&t| values[t].is_empty()) {
            return Err(ImportError::BadInput(format!("layer '{}' reads tensor '{}', which was not given", layer.name, model.tensors[t].name)));
        }
        values[layer.output] = eval_layer(model, layer, &values);
    }
    Ok(wanted.iter().map(|&t| std::mem::take(&mut values[t])).collect())
}

/// Float input → quantize → run → int8 logits.
pub fn run_float(model: &QuantModel, input: &[f32]) -> Result<Vec<i32>> {
    run(model, &quantize_input(input, model.input().q))
}
