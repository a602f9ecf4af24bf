//! The keys directory `setup` writes and `prove` / `verify` read:
//!
//! - `manifest.json`: what the keys are for (the model's digest — of its architecture when the weights are hidden,
//!   of the ONNX file otherwise — visibility, b, input/output shapes), the chain of segments (layers, the tensors
//!   crossing each cut, which key proves it), one entry per distinct segment circuit (shape, k, circuit digest),
//!   where the SRS came from, and the size and BLAKE2b digest of every other file;
//! - `key-N/pk.bin`, `key-N/vk.bin`: halo2-axiom's proving and verifying keys of distinct circuit N (segments whose
//!   circuits are identical share one);
//! - `srs-kK.params`: the KZG parameters cut to each key's k (all from one SRS).
//!
//! Every file is checked against the manifest's digest before it is parsed, so a corrupt or swapped file is a clear
//! error and never reaches halo2's readers (which panic on truncated input). A hostile directory can make its
//! manifest agree with its files, so the manifest's shapes and chain are bounded and checked against the model, and
//! every key and SRS length is checked before halo2 reads (`zkinfer_backend::key_files`, `params::read_srs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{ProvingKey, VerifyingKey};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use serde::{Deserialize, Serialize};
use zkinfer_backend::key_files::{read_pk, read_vk};
use zkinfer_circuits::{ModelCircuit, Segment, Shape, Visibility};

use crate::encoding::digest_file;

pub const FORMAT: &str = "zkinfer-keys/2";
pub const MANIFEST: &str = "manifest.json";

pub fn srs_file(k: u32) -> String {
    format!("srs-k{k}.params")
}

pub fn pk_file(key: usize) -> String {
    format!("key-{key}/pk.bin")
}
pub fn vk_file(key: usize) -> String {
    format!("key-{key}/vk.bin")
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileEntry {
    pub bytes: u64,
    pub blake2b: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// The ONNX file name at setup (informational).
    pub file: String,
    /// What `digest` covers: "architecture" (hidden weights: the graph with everything learned stripped, so a
    /// retrained model keeps its setup) or "file" (public weights: the whole ONNX file).
    pub digest_of: String,
    /// BLAKE2b-256 of the architecture text or of the file: `prove` refuses any other model.
    pub digest: String,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    /// The int8 output's quantization, to print dequantized logits.
    pub output_scale: f32,
    pub output_zero_point: i32,
    /// The input's quantization, so that whoever holds float inputs (an auditor's test set) can compute the int8
    /// values a proof's public input must hold. Absent in manifests written before it was added (run setup again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_scale: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_zero_point: Option<i32>,
    pub denominator_bits: u32,
}

impl ModelInfo {
    /// The manifest's record of `model` (read from `file`; named by `digest` of its `digest_of`).
    pub fn of(model: &zkinfer_import::QuantModel, file: String, digest_of: &str, digest: String) -> Self {
        let (input, out) = (model.input(), model.output_info());
        ModelInfo {
            file,
            digest_of: digest_of.into(),
            digest,
            input_shape: input.shape.clone(),
            output_shape: out.shape.clone(),
            output_scale: out.q.scale,
            output_zero_point: out.q.zero_point,
            input_scale: Some(input.q.scale),
            input_zero_point: Some(input.q.zero_point),
            denominator_bits: model.denominator_bits,
        }
    }
}

/// One link of the chain: layers start..end, the tensors crossing its cuts, and the key that proves it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SegmentEntry {
    pub start: usize,
    pub end: usize,
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
    /// Names of the tensors in `inputs` / `outputs` (for messages).
    pub input_names: Vec<String>,
    pub output_names: Vec<String>,
    pub key: usize,
    pub rows: usize,
}

impl SegmentEntry {
    pub fn segment(&self) -> Segment {
        Segment { start: self.start, end: self.end, inputs: self.inputs.clone(), outputs: self.outputs.clone() }
    }
}

/// One distinct segment circuit.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    pub k: u32,
    pub shape: Shape,
    /// `ModelCircuit::circuit_digest`: equal digests, identical circuits.
    pub circuit_digest: String,
    pub keygen_s: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub zkinfer_version: String,
    pub model: ModelInfo,
    pub hide: String,
    /// The budget the chain was planned for: GiB per segment (setup and prove), largest k.
    pub memory_gib: f64,
    pub max_k: u32,
    /// Layers split by output channels before chaining, in order: (layer index at that point, parts). Every
    /// command applies them to the imported model (`zkinfer_import::split::apply`).
    #[serde(default)]
    pub splits: Vec<(usize, usize)>,
    pub segments: Vec<SegmentEntry>,
    pub keys: Vec<KeyEntry>,
    /// The largest key's k (the SRS the others are cut from).
    pub srs_k: u32,
    /// "dev (INSECURE: generated locally)" or the path of the ceremony file.
    pub srs: String,
    pub engine: String,
    pub setup_s: f64,
    pub files: BTreeMap<String, FileEntry>,
}

impl Manifest {
    pub fn visibility(&self) -> Result<Visibility> {
        crate::visibility::parse(&self.hide).context("manifest.json: field `hide`")
    }

    /// The imported model as the keys' chain sees it: with the manifest's channel splits applied.
    pub fn prepare(&self, model: &zkinfer_import::QuantModel) -> Result<std::sync::Arc<zkinfer_import::QuantModel>> {
        let m = zkinfer_import::split::apply(model, &self.splits).context("applying the keys' layer splits")?;
        if let Some(s) = self.segments.last() {
            if s.end != m.layers.len() {
                bail!("the keys' chain covers {} layers, the model has {}", s.end, m.layers.len());
            }
        }
        // Every segment crosses the cuts this model has there (the tensor ids index the model's tensors).
        for (i, s) in self.segments.iter().enumerate() {
            if s.segment() != Segment::new(&m, s.start, s.end) {
                bail!("segment {i} (layers {}..{}): its tensors are not the ones this model has at those cuts", s.start, s.end);
            }
        }
        Ok(std::sync::Arc::new(m))
    }

    /// Checks the chain is whole and consistent: consecutive segments from layer 0, each cut's tensors the same
    /// on both sides, every key referenced present, k within the SRS.
    fn check(&self) -> Result<()> {
        if self.segments.is_empty() {
            bail!("no segments");
        }
        if self.segments[0].start != 0 {
            bail!("the first segment starts at layer {}, not 0", self.segments[0].start);
        }
        for (i, s) in self.segments.iter().enumerate() {
            if s.start >= s.end {
                bail!("segment {i} is empty ({}..{})", s.start, s.end);
            }
            if s.key >= self.keys.len() {
                bail!("segment {i} names key {} of {}", s.key, self.keys.len());
            }
            if s.inputs.len() != s.input_names.len() || s.outputs.len() != s.output_names.len() {
                bail!("segment {i}: tensor names do not match its tensors");
            }
            if let Some(next) = self.segments.get(i + 1) {
                if next.start != s.end || next.inputs != s.outputs {
                    bail!("segments {i} and {} do not meet at one cut", i + 1);
                }
            }
        }
        for (what, shape) in [("input_shape", &self.model.input_shape), ("output_shape", &self.model.output_shape)] {
            // Their products size the public input and output: bounded before anyone multiplies or allocates.
            if shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none_or(|n| n > 1 << 32) {
                bail!("model {what} {shape:?} is too large");
            }
        }
        if self.srs_k > MAX_K {
            bail!("srs_k = {} is past the largest circuit zkinfer plans (k = {MAX_K})", self.srs_k);
        }
        for (n, k) in self.keys.iter().enumerate() {
            if k.shape.k != k.k || k.k > self.srs_k {
                bail!("key {n}: inconsistent k ({} vs shape {}, SRS {})", k.k, k.shape.k, self.srs_k);
            }
            check_shape(&k.shape).with_context(|| format!("key {n}: its circuit shape {:?} is not one zkinfer plans", k.shape))?;
            for f in [pk_file(n), vk_file(n), srs_file(k.k)] {
                if !self.files.contains_key(&f) {
                    bail!("no entry for {f}");
                }
            }
        }
        Ok(())
    }
}

/// The largest k zkinfer plans a circuit for (and so the largest a manifest may name).
pub const MAX_K: u32 = zkinfer_circuits::plan::MAX_K;

/// Whether a shape read from a manifest is one the planner could have made, checked before any arithmetic on it
/// (the circuit's configure would otherwise make as many columns as the file says, or overflow).
fn check_shape(s: &Shape) -> Result<()> {
    let small = |what: &str, v: usize, max: usize| -> Result<()> {
        if v > max {
            bail!("{what} = {v} (at most {max})");
        }
        Ok(())
    };
    small("width", s.width, 1024)?;
    small("units", s.units, s.width)?;
    small("limbs", s.limbs, 8)?;
    small("dot_n", s.dot_n, s.width)?;
    small("dot_m", s.dot_m, s.width)?;
    small("clamps", s.clamps.len(), 256)?;
    small("clip_bits", s.clip_bits as usize, 24)?;
    small("functions", s.functions.len(), 256)?;
    if s.functions.iter().any(|f| f.len() != 256 || f.iter().any(|v| !(-128..=127).contains(v))) {
        bail!("an elementwise function table is not 256 int8 values");
    }
    if !(1..=MAX_K).contains(&s.k) {
        bail!("k = {} (1..={MAX_K})", s.k);
    }
    if !s.valid() {
        bail!("its gates do not fit its columns, or one of them has no constraint (units and limbs must be at least 1)");
    }
    if s.table_rows() + zkinfer_circuits::shape::RESERVED_ROWS > 1usize << s.k {
        bail!("its lookup table ({} rows) does not fit 2^{} rows", s.table_rows(), s.k);
    }
    Ok(())
}

pub struct Keys {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Keys {
    /// Reads and sanity-checks `DIR/manifest.json` (the big files are checked when loaded).
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            bail!("keys directory {} does not exist (run `zkinfer setup` first)", dir.display());
        }
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let format = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_string));
        if let Some(f) = format.filter(|f| f != FORMAT) {
            bail!("{}: format `{f}`, this zkinfer reads `{FORMAT}` (run `zkinfer setup` again)", path.display());
        }
        let manifest: Manifest =
            serde_json::from_str(&text).with_context(|| format!("{} is not a zkinfer key manifest", path.display()))?;
        manifest.visibility().with_context(|| path.display().to_string())?;
        manifest.check().with_context(|| format!("{} is inconsistent", path.display()))?;
        Ok(Keys { dir: dir.to_path_buf(), manifest })
    }

    /// Checks a file's size and digest against the manifest and opens it for reading. The file is streamed, never
    /// held in memory twice: a proving key runs to gigabytes.
    fn checked(&self, name: &str) -> Result<(std::io::BufReader<std::fs::File>, u64)> {
        let path = self.dir.join(name);
        let entry = &self.manifest.files[name];
        let meta = std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.len() != entry.bytes {
            bail!(
                "{} is corrupt or from another setup: {} bytes, the manifest says {}",
                path.display(),
                meta.len(),
                entry.bytes
            );
        }
        if digest_file(&path)? != entry.blake2b {
            bail!("{} is corrupt or from another setup: its BLAKE2b digest does not match the manifest", path.display());
        }
        let file = std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok((std::io::BufReader::with_capacity(1 << 20, file), entry.bytes))
    }

    /// The SRS cut to k (one of the keys' k).
    pub fn srs(&self, k: u32) -> Result<ParamsKZG<Bn256>> {
        let name = srs_file(k);
        if !self.manifest.files.contains_key(&name) {
            bail!("the keys hold no SRS for k = {k}");
        }
        let (mut r, len) = self.checked(&name)?;
        let params = guarded(&self.not_a_key(&name), || zkinfer_backend::params::read_srs(&mut r, len, true))?;
        if params.k() != k {
            bail!("{} has k = {}, not {k}", self.dir.join(&name).display(), params.k());
        }
        Ok(params)
    }

    pub fn vk(&self, key: usize) -> Result<VerifyingKey<G1Affine>> {
        let name = vk_file(key);
        let (mut r, len) = self.checked(&name)?;
        let KeyEntry { k, shape, .. } = self.manifest.keys[key].clone();
        guarded(&self.not_a_key(&name), || read_vk::<ModelCircuit>(&mut r, len, k, shape, SerdeFormat::RawBytes))
    }

    pub fn pk(&self, key: usize) -> Result<ProvingKey<G1Affine>> {
        let name = pk_file(key);
        let (mut r, len) = self.checked(&name)?;
        let KeyEntry { k, shape, .. } = self.manifest.keys[key].clone();
        guarded(&self.not_a_key(&name), || read_pk::<ModelCircuit>(&mut r, len, k, shape, SerdeFormat::RawBytesUnchecked))
    }

    fn not_a_key(&self, name: &str) -> String {
        format!("{} is not a valid key file for this circuit", self.dir.join(name).display())
    }
}

/// Runs one of the key readers, turning its errors into errors that start with `what` ("X is not a valid key file
/// for this circuit"). The readers check every length before halo2 reads (`zkinfer_backend::key_files`); a panic
/// that still comes out of halo2 is caught here as a last line of defence.
pub fn guarded<T>(what: &str, read: impl FnOnce() -> std::io::Result<T>) -> Result<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    std::panic::set_hook(hook);
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => bail!("{what}: {e}"),
        Err(_) => bail!("{what} (it ended early or is malformed)"),
    }
}

/// Runs one of halo2's writers: it unwraps I/O errors (a full disk panics inside `ProvingKey::write`), so its
/// panic becomes an error carrying the panic's message.
pub fn guarded_write(what: &str, write: impl FnOnce() -> std::io::Result<()>) -> Result<()> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(write));
    std::panic::set_hook(hook);
    match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => bail!("{what}: {e}"),
        Err(p) => {
            let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            bail!("{what}: {}", msg.unwrap_or_else(|| "the writer failed".into()))
        }
    }
}
