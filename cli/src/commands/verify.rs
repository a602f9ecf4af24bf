//! `zkinfer verify`: rebuild the instance column from the proof file's public values and the keys' manifest, and
//! run halo2-axiom's stock verifier.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use zkinfer_backend::stock::verify_stock;

use crate::encoding::from_hex;
use crate::keys::Keys;
use crate::proof_file::{ProofFile, PublicValues, FORMAT};

#[derive(Serialize)]
pub struct VerifyReport {
    pub verified: bool,
    pub model: String,
    pub hide: String,
    pub public: PublicValues,
    /// The output logits dequantized with the model's output scale and zero point (public output only).
    pub logits: Option<Vec<f32>>,
    pub verify_ms: f64,
    pub proof_bytes: usize,
}

pub fn read_proof_file(path: &Path) -> Result<ProofFile> {
    if !path.is_file() {
        bail!("proof file {} does not exist", path.display());
    }
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: ProofFile = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a zkinfer proof file (malformed JSON or unknown fields)", path.display()))?;
    if file.format != FORMAT {
        bail!("{}: format `{}`, this zkinfer reads `{FORMAT}`", path.display(), file.format);
    }
    Ok(file)
}

pub fn run(proof_path: &Path, keys_dir: &Path) -> Result<VerifyReport> {
    let file = read_proof_file(proof_path)?;
    let keys = Keys::open(keys_dir)?;
    let man = &keys.manifest;
    if file.model_blake2b != man.model.blake2b {
        bail!(
            "the proof is for another model (BLAKE2b {}) than the keys in {} ({}, BLAKE2b {})",
            file.model_blake2b,
            keys_dir.display(),
            man.model.file,
            man.model.blake2b
        );
    }
    if file.hide != man.hide || file.k != man.k {
        bail!(
            "the proof (hide {}, k = {}) was not made with the keys in {} (hide {}, k = {})",
            file.hide,
            file.k,
            keys_dir.display(),
            man.hide,
            man.k
        );
    }
    let vis = man.visibility()?;
    if file.public.weights_commitment != man.weights_commitment {
        bail!("rejected: the proof's weights commitment is not the committed model's (see the keys' manifest)");
    }
    let input_len = man.model.input_shape.iter().product();
    let output_len = man.model.output_shape.iter().product();
    let instances = file.public.instances(&vis, input_len, output_len)?;
    let proof = from_hex(&file.proof).context("the proof field is not valid hex")?;
    let srs = keys.srs()?;
    let vk = keys.vk()?;
    let t = Instant::now();
    verify_stock(&srs, &vk, &[&instances], &proof)
        .map_err(|e| anyhow::anyhow!("rejected: the proof does not verify against these public values and keys ({e:?})"))?;
    let verify_ms = t.elapsed().as_secs_f64() * 1e3;
    let logits = file.public.output.as_ref().map(|o| {
        o.iter().map(|&q| (q - man.model.output_zero_point) as f32 * man.model.output_scale).collect()
    });
    Ok(VerifyReport {
        verified: true,
        model: man.model.file.clone(),
        hide: man.hide.clone(),
        public: file.public,
        logits,
        verify_ms,
        proof_bytes: proof.len(),
    })
}
