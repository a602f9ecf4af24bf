//! Model inputs from files: `.npy` (float32 → quantized with the model's input scale and zero point; int8 → taken
//! as already-quantized values) and PNG / JPEG images (converted, resized and normalised as the model's
//! `zkinfer.input.*` metadata says, then quantized). Wrong shapes, dtypes and out-of-range values are errors.

use std::path::Path;

use anyhow::{bail, Context, Result};
use zkinfer_import::ir::QParams;
use zkinfer_import::{npy, QuantModel};

use crate::ui::Ui;

/// A quantized input ready for the circuit.
pub struct Input {
    pub values: Vec<i32>,
    /// How it was read, for messages: "npy float32 [1, 1, 8, 8]", "png 640×480 → gray 8×8", …
    pub source: String,
}

pub fn load(path: &Path, model: &QuantModel, index: Option<usize>, ui: &Ui) -> Result<Input> {
    if !path.is_file() {
        bail!("input file {} does not exist", path.display());
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "npy" => load_npy(path, model, index),
        "png" | "jpg" | "jpeg" => {
            if index.is_some() {
                bail!("--index selects an entry of a batched .npy file; {} is an image", path.display());
            }
            load_image(path, model, ui)
        }
        _ => bail!(
            "input {}: unsupported file type (expected .npy with int8 or float32 data, or a .png / .jpg image)",
            path.display()
        ),
    }
}

/// The shape without leading 1s (batch and singleton axes do not matter for one input).
fn core(shape: &[usize]) -> &[usize] {
    let skip = shape.iter().take_while(|&&d| d == 1).count();
    &shape[skip..]
}

/// Picks the values of one input from an array: the whole array, or entry `index` of a batch.
fn select<T: Copy>(path: &Path, shape: &[usize], data: &[T], want: &[usize], index: Option<usize>) -> Result<Vec<T>> {
    let n: usize = want.iter().product();
    match index {
        None if core(shape) == core(want) => Ok(data.to_vec()),
        None => bail!(
            "input {} has shape {shape:?}, the model takes {want:?}{}",
            path.display(),
            if shape.len() > 1 && core(&shape[1..]) == core(want) { " (a batch: pick one entry with --index N)" } else { "" }
        ),
        Some(i) => {
            if shape.is_empty() || core(&shape[1..]) != core(want) {
                bail!("input {} has shape {shape:?}; --index needs a batch of {want:?} inputs", path.display());
            }
            if i >= shape[0] {
                bail!("--index {i} is out of range: {} holds {} inputs", path.display(), shape[0]);
            }
            Ok(data[i * n..(i + 1) * n].to_vec())
        }
    }
}

fn entry(index: Option<usize>) -> String {
    index.map(|i| format!(", entry {i}")).unwrap_or_default()
}

/// The float range the input quantization represents, [(−128 − z)·s, (127 − z)·s].
fn representable(q: QParams) -> (f32, f32) {
    ((-128 - q.zero_point) as f32 * q.scale, (127 - q.zero_point) as f32 * q.scale)
}

fn quantize(x: &[f32], q: QParams) -> Vec<i32> {
    zkinfer_import::reference::quantize_input(x, q)
}

fn load_npy(path: &Path, model: &QuantModel, index: Option<usize>) -> Result<Input> {
    let p = path.to_string_lossy();
    let (dtype, shape) = npy::describe(&p)?;
    let want = &model.input().shape;
    match dtype.as_str() {
        "|i1" => {
            let a = npy::read_i8(&p)?;
            let v = select(path, &a.shape, &a.data, want, index)?;
            Ok(Input { values: v.into_iter().map(i32::from).collect(), source: format!("npy int8 {shape:?}{} (quantized)", entry(index)) })
        }
        "<f4" => {
            let a = npy::read_f32(&p)?;
            let v = select(path, &a.shape, &a.data, want, index)?;
            let q = model.input().q;
            let (lo, hi) = representable(q);
            // Half a step of slack: values that round onto the ends are fine, anything further would saturate.
            let slack = q.scale / 2.0;
            if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite() || **x < lo - slack || **x > hi + slack) {
                bail!(
                    "input {}: value {x} at flat index {i} is outside the range the model's input quantization \
                     represents, [{lo}, {hi}] (scale {}, zero point {}); is it normalised the way the model expects?",
                    path.display(),
                    q.scale,
                    q.zero_point
                );
            }
            Ok(Input { values: quantize(&v, q), source: format!("npy float32 {shape:?}{}", entry(index)) })
        }
        other => bail!("input {}: dtype {other} is not supported (int8 or float32 expected)", path.display()),
    }
}

/// Per-channel floats from metadata such as "0.485,0.456,0.406" (one value applies to every channel).
fn channel_values(model: &QuantModel, key: &str, channels: usize, default: f32) -> Result<Vec<f32>> {
    let Some(s) = model.meta(key) else { return Ok(vec![default; channels]) };
    let v: Vec<f32> = s
        .split(',')
        .map(|t| t.trim().parse::<f32>())
        .collect::<std::result::Result<_, _>>()
        .with_context(|| format!("model metadata {key} = `{s}` is not a list of numbers"))?;
    match v.len() {
        1 => Ok(vec![v[0]; channels]),
        n if n == channels => Ok(v),
        n => bail!("model metadata {key} has {n} values for {channels} channels"),
    }
}

fn load_image(path: &Path, model: &QuantModel, ui: &Ui) -> Result<Input> {
    let want = &model.input().shape;
    let (c, h, w) = match want.as_slice() {
        [1, c, h, w] if *c == 1 || *c == 3 => (*c, *h, *w),
        _ => bail!("the model's input has shape {want:?}; images need an NCHW input with 1 or 3 channels"),
    };
    let img = image::ImageReader::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?
        .decode()
        .with_context(|| format!("cannot decode image {}", path.display()))?;
    let color = model.meta("zkinfer.input.image").unwrap_or(if c == 1 { "gray" } else { "rgb" });
    match (color, c) {
        ("gray", 1) | ("rgb", 3) => {}
        _ => bail!("model metadata zkinfer.input.image = `{color}` does not fit its {c}-channel input"),
    }
    if model.meta("zkinfer.input.mean").is_none() || model.meta("zkinfer.input.std").is_none() {
        ui.warn("the model has no zkinfer.input.mean/std metadata: pixels are scaled to [0, 1] without normalisation");
    }
    let mean = channel_values(model, "zkinfer.input.mean", c, 0.0)?;
    let std = channel_values(model, "zkinfer.input.std", c, 1.0)?;
    if std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        bail!("model metadata zkinfer.input.std must be positive");
    }
    let (w0, h0) = (img.width(), img.height());
    let resized = img.resize_exact(w as u32, h as u32, image::imageops::FilterType::Triangle);
    let pixels: Vec<u8> = if c == 1 { resized.to_luma8().into_raw() } else { resized.to_rgb8().into_raw() };
    // HWC bytes → CHW floats.
    let mut x = vec![0f32; c * h * w];
    for (i, p) in pixels.iter().enumerate() {
        let (pos, ch) = (i / c, i % c);
        x[ch * h * w + pos] = (*p as f32 / 255.0 - mean[ch]) / std[ch];
    }
    let q = model.input().q;
    let (lo, hi) = representable(q);
    let saturated = x.iter().filter(|v| **v < lo || **v > hi).count();
    if saturated > 0 {
        ui.warn(format!(
            "{saturated} of {} normalised pixel values fall outside the input quantization's range [{lo}, {hi}] and \
             saturate (as onnxruntime does)",
            x.len()
        ));
    }
    Ok(Input { values: quantize(&x, q), source: format!("image {w0}x{h0} → {color} {w}x{h}") })
}
