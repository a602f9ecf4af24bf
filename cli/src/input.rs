//! Model inputs from files: `.npy` (float32 → quantized with the model's input scale and zero point; int8 → taken
//! as already-quantized values) and PNG / JPEG images (converted, resized and normalised as the model's
//! `zkinfer.input.*` metadata says, then quantized). Wrong shapes, dtypes and out-of-range values are errors.

use std::path::Path;

use anyhow::{bail, Context, Result};
use zkinfer_import::ir::QParams;
use zkinfer_import::{npy, QuantModel};

use crate::ui::Ui;

/// A quantized input ready for the circuit.
#[derive(Debug)]
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
        "npy" => load_npy(path, model.input().q, &model.input().shape, index),
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

/// An input from a .npy file for a model whose input has quantization `q` and shape `want`.
pub fn load_npy(path: &Path, q: QParams, want: &[usize], index: Option<usize>) -> Result<Input> {
    let p = path.to_string_lossy();
    let (dtype, shape) = npy::describe(&p)?;
    match dtype.as_str() {
        "|i1" => {
            let a = npy::read_i8(&p)?;
            let v = select(path, &a.shape, &a.data, want, index)?;
            Ok(Input { values: v.into_iter().map(i32::from).collect(), source: format!("npy int8 {shape:?}{} (quantized)", entry(index)) })
        }
        "<f4" => {
            let a = npy::read_f32(&p)?;
            let v = select(path, &a.shape, &a.data, want, index)?;
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

/// One input of a batch: entry `index` of a batched .npy file, or one file of a folder.
#[derive(Clone, Debug)]
pub struct BatchEntry {
    /// The name its proof file takes: `input-N` for a batch entry, the file stem for a file of a folder.
    pub name: String,
    pub path: std::path::PathBuf,
    pub index: Option<usize>,
}

impl BatchEntry {
    pub fn load(&self, model: &QuantModel, ui: &Ui) -> Result<Input> {
        load(&self.path, model, self.index, ui)
    }
}

/// The inputs of a batch: every entry of a batched .npy file (or those `indices` picks), or every .npy / .png /
/// .jpg file of a folder in name order (or those at positions `indices`).
pub fn batch_entries(path: &Path, model: &QuantModel, indices: Option<&[usize]>) -> Result<Vec<BatchEntry>> {
    let all: Vec<BatchEntry> = if path.is_dir() {
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension().is_some_and(|e| ["npy", "png", "jpg", "jpeg"].contains(&e.to_string_lossy().to_ascii_lowercase().as_str()))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            bail!("input folder {} holds no .npy, .png or .jpg files", path.display());
        }
        let mut seen = std::collections::BTreeSet::new();
        files
            .into_iter()
            .map(|p| {
                let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
                if !seen.insert(name.clone()) {
                    bail!("input folder {}: two files are both named `{name}` (their proofs would collide)", path.display());
                }
                Ok(BatchEntry { name, path: p, index: None })
            })
            .collect::<Result<_>>()?
    } else {
        if !path.is_file() {
            bail!("input {} does not exist", path.display());
        }
        if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy")) {
            bail!("a batch is a batched .npy file or a folder of inputs; {} is neither", path.display());
        }
        let (_, shape) = npy::describe(&path.to_string_lossy())?;
        let want = &model.input().shape;
        if shape.len() < 2 || core(&shape[1..]) != core(want) {
            bail!("input {} has shape {shape:?}; a batch is an array of inputs of shape {want:?}", path.display());
        }
        (0..shape[0]).map(|i| BatchEntry { name: format!("input-{i}"), path: path.to_path_buf(), index: Some(i) }).collect()
    };
    match indices {
        None => Ok(all),
        Some(ix) => ix
            .iter()
            .map(|&i| {
                all.get(i).cloned().with_context(|| format!("--indices: {i} is out of range, {} holds {} inputs", path.display(), all.len()))
            })
            .collect(),
    }
}

/// Parses an index list such as `0,3,5-9` (ranges inclusive; duplicates refused).
pub fn parse_indices(s: &str) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let num = |t: &str| t.trim().parse::<usize>().with_context(|| format!("--indices: `{t}` is not an index"));
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    bail!("--indices: range {part} is empty");
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    if out.is_empty() {
        bail!("--indices is empty");
    }
    let mut sorted = out.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        bail!("--indices: {} is listed twice", w[0]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits() -> QuantModel {
        zkinfer_import::import(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../model-import/fixtures/digits_int8.onnx"))).unwrap()
    }

    #[test]
    fn index_lists() {
        assert_eq!(parse_indices("0,3,5-7").unwrap(), [0, 3, 5, 6, 7]);
        assert_eq!(parse_indices(" 9 , 2 ").unwrap(), [9, 2]);
        for (bad, msg) in [("", "empty"), ("1,x", "not an index"), ("5-3", "empty"), ("1,1-2", "listed twice"), ("-1", "not an index")] {
            let e = format!("{:#}", parse_indices(bad).unwrap_err());
            assert!(e.contains(msg), "{bad}: {e}");
        }
    }

    #[test]
    fn batches_from_an_npy_file_and_a_folder() {
        let m = digits();
        let x = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../model-import/fixtures/digits_test_x.npy"));
        let all = batch_entries(x, &m, None).unwrap();
        assert_eq!(all.len(), 360);
        assert_eq!((all[7].name.as_str(), all[7].index), ("input-7", Some(7)));
        let some = batch_entries(x, &m, Some(&[4, 2])).unwrap();
        assert_eq!(some.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["input-4", "input-2"]);
        assert!(format!("{:#}", batch_entries(x, &m, Some(&[360])).unwrap_err()).contains("out of range"));

        // A folder: images and .npy files in name order, other files ignored, names made safe for file names.
        let d = tempfile::tempdir().unwrap();
        image::GrayImage::from_pixel(8, 8, image::Luma([200])).save(d.path().join("b cat.png")).unwrap();
        image::GrayImage::from_pixel(16, 16, image::Luma([10])).save(d.path().join("a.png")).unwrap();
        std::fs::copy(x, d.path().join("c.npy")).unwrap();
        std::fs::write(d.path().join("notes.txt"), "not an input").unwrap();
        let e = batch_entries(d.path(), &m, None).unwrap();
        assert_eq!(e.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["a", "b_cat", "c"]);
        let ui = Ui { quiet: true, json: false };
        assert_eq!(e[0].load(&m, &ui).unwrap().values.len(), 64);
        // c.npy is a batch: loading it whole is an error that says so.
        assert!(format!("{:#}", e[2].load(&m, &ui).unwrap_err()).contains("--index"));
        // Two files whose names collide once made safe.
        image::GrayImage::from_pixel(8, 8, image::Luma([1])).save(d.path().join("b_cat.png")).unwrap();
        assert!(format!("{:#}", batch_entries(d.path(), &m, None).unwrap_err()).contains("both named"));
        let empty = tempfile::tempdir().unwrap();
        assert!(format!("{:#}", batch_entries(empty.path(), &m, None).unwrap_err()).contains("holds no"));
    }
}
