//! The keys directory `setup` writes and `prove` / `verify` read:
//!
//! - `manifest.json`: what the keys are for (model digest, visibility, circuit shape, k, b, input/output shapes,
//!   the weights commitment when weights are hidden), where the SRS came from, and the size and BLAKE2b digest of
//!   every other file;
//! - `pk.bin`, `vk.bin`: halo2-axiom's proving and verifying keys;
//! - `srs.params`: the KZG parameters cut to k (prover and verifier need them).
//!
//! Every file is checked against the manifest's digest before it is parsed, so a corrupt or swapped file is a clear
//! error and never reaches halo2's readers (which panic on truncated input).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{ProvingKey, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use serde::{Deserialize, Serialize};
use zkinfer_circuits::{ModelCircuit, Shape, Visibility};

use crate::encoding::{digest_file, fr_from_hex};

pub const FORMAT: &str = "zkinfer-keys/1";
pub const MANIFEST: &str = "manifest.json";
pub const PK: &str = "pk.bin";
pub const VK: &str = "vk.bin";
pub const SRS: &str = "srs.params";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileEntry {
    pub bytes: u64,
    pub blake2b: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The ONNX file name at setup (informational).
    pub file: String,
    /// BLAKE2b-256 of the ONNX file: `prove` refuses any other model.
    pub blake2b: String,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    /// The int8 output's quantization, to print dequantized logits.
    pub output_scale: f32,
    pub output_zero_point: i32,
    pub denominator_bits: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub zkinfer_version: String,
    pub model: ModelInfo,
    pub hide: String,
    pub k: u32,
    pub shape: Shape,
    /// Poseidon commitment to the weights (hex), when they are hidden: the public value every proof must carry.
    pub weights_commitment: Option<String>,
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

    pub fn weights_commitment(&self) -> Result<Option<Fr>> {
        self.weights_commitment
            .as_deref()
            .map(|s| fr_from_hex(s, "manifest.json: weights_commitment"))
            .transpose()
    }
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
        let manifest: Manifest =
            serde_json::from_str(&text).with_context(|| format!("{} is not a zkinfer key manifest", path.display()))?;
        if manifest.format != FORMAT {
            bail!("{}: format `{}`, this zkinfer reads `{FORMAT}`", path.display(), manifest.format);
        }
        if manifest.shape.k != manifest.k {
            bail!("{}: inconsistent k ({} vs shape {})", path.display(), manifest.k, manifest.shape.k);
        }
        manifest.visibility()?;
        manifest.weights_commitment()?;
        for name in [PK, VK, SRS] {
            if !manifest.files.contains_key(name) {
                bail!("{}: no entry for {name}", path.display());
            }
        }
        Ok(Keys { dir: dir.to_path_buf(), manifest })
    }

    /// Checks a file's size and digest against the manifest and opens it for reading. The file is streamed, never
    /// held in memory twice: a proving key runs to gigabytes.
    fn checked(&self, name: &str) -> Result<std::io::BufReader<std::fs::File>> {
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
        Ok(std::io::BufReader::with_capacity(1 << 20, file))
    }

    pub fn srs(&self) -> Result<ParamsKZG<Bn256>> {
        let mut r = self.checked(SRS)?;
        let params = guarded(&not_a_key(SRS), || zkinfer_backend::params::read_srs(&mut r, true))?;
        if halo2_proofs::poly::commitment::Params::k(&params) != self.manifest.k {
            bail!("{SRS} has k = {}, the keys need {}", halo2_proofs::poly::commitment::Params::k(&params), self.manifest.k);
        }
        Ok(params)
    }

    pub fn vk(&self) -> Result<VerifyingKey<G1Affine>> {
        let mut r = self.checked(VK)?;
        let shape = self.manifest.shape.clone();
        guarded(&not_a_key(VK), || VerifyingKey::read::<_, ModelCircuit>(&mut r, SerdeFormat::RawBytes, shape))
    }

    pub fn pk(&self) -> Result<ProvingKey<G1Affine>> {
        let mut r = self.checked(PK)?;
        let shape = self.manifest.shape.clone();
        guarded(&not_a_key(PK), || ProvingKey::read::<_, ModelCircuit>(&mut r, SerdeFormat::RawBytesUnchecked, shape))
    }
}

/// Runs one of halo2's readers, turning both its errors and its panics (it unwraps on short input) into errors
/// that start with `what` ("X is not a valid key file for this circuit").
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

fn not_a_key(name: &str) -> String {
    format!("{name} is not a valid key file for this circuit")
}
