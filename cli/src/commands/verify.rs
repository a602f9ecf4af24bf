//! `zkinfer verify`: rebuild every segment's instance column from the proof file's values and the keys' manifest,
//! check that the chain is whole (every segment once, in order), that both sides of every cut carry the same
//! commitments, that the first and last segments bind the model's input and output and that the segments' weights
//! commitments hash to the model's — then check every segment's halo2 proof with ONE final pairing (zkinfer's batch
//! verifier, `zkinfer_backend::bundle`). A rejection names the segment or link.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use rayon::prelude::*;
use serde::Serialize;
use zkinfer_backend::bundle::{verify_bundle_with, BundleError, BundleItem};
use zkinfer_backend::verifier::PreparedKey;
use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkinfer_circuits::commit;

use crate::chain;
use crate::encoding::{fr_from_hex, from_hex};
use crate::keys::Keys;
use crate::proof_file::{Endpoint, ProofFile, PublicValues, FORMAT};

#[derive(Serialize)]
pub struct VerifyReport {
    pub verified: bool,
    pub model: String,
    pub hide: String,
    pub segments: usize,
    pub pairings: usize,
    pub public: PublicValues,
    /// The output logits dequantized with the model's output scale and zero point (public output only).
    pub logits: Option<Vec<f32>>,
    /// The whole check: parsing the proofs, the links, and the accumulated pairing.
    pub verify_ms: f64,
    pub proof_bytes: usize,
}

pub fn read_proof_file(path: &Path) -> Result<ProofFile> {
    if !path.is_file() {
        bail!("proof file {} does not exist", path.display());
    }
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(f) = serde_json::from_slice::<serde_json::Value>(&text).ok().and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_string)) {
        if f != FORMAT {
            bail!("{}: format `{f}`, this zkinfer reads `{FORMAT}`", path.display());
        }
    }
    serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a zkinfer proof file (malformed JSON or unknown fields)", path.display()))
}

/// The keys a verifier holds: manifest, the SRS of every key's k and the verifying keys, read once (a folder of
/// proofs is checked against one `Verifier`).
pub struct Verifier {
    pub keys: Keys,
    /// The SRS cut to each distinct k among the keys (a 15-key chain has two), and which one each key uses.
    params: Vec<ParamsKZG<Bn256>>,
    params_of: Vec<usize>,
    vks: Vec<Arc<VerifyingKey<G1Affine>>>,
    /// The verifying keys prepared for zkinfer's batch verifier once, at load (a key it does not support is left
    /// out and goes through halo2-axiom's verifier).
    prepared: Vec<PreparedKey<'static>>,
}

pub fn run(proof_path: &Path, keys_dir: &Path, weights_commitment: Option<&str>) -> Result<VerifyReport> {
    let file = read_proof_file(proof_path)?;
    let v = Verifier::open(keys_dir)?;
    // A rejection names the segment or link; the file it is in comes first.
    v.check(file, weights_commitment).with_context(|| format!("proof file {}", proof_path.display()))
}

impl Verifier {
    pub fn open(keys_dir: &Path) -> Result<Verifier> {
        let keys = Keys::open(keys_dir)?;
        let man = &keys.manifest;
        // Reading files is not verifying: the SRS of each key's k and the verifying keys, before any timing.
        // Each SRS file is read once, however many keys share its k; the keys are read in parallel (halo2's
        // VerifyingKey::read rebuilds each key's evaluation domain, most of the time this takes).
        let mut ks: Vec<u32> = man.keys.iter().map(|k| k.k).collect();
        ks.sort_unstable();
        ks.dedup();
        let params = ks.par_iter().map(|&k| keys.srs(k)).collect::<Result<Vec<_>>>()?;
        let params_of = man.keys.iter().map(|k| ks.binary_search(&k.k).expect("every k is in ks")).collect();
        let vks = (0..man.keys.len()).into_par_iter().map(|k| keys.vk(k).map(Arc::new)).collect::<Result<Vec<_>>>()?;
        let prepared = vks.iter().filter_map(|vk| PreparedKey::shared(vk.clone()).ok()).collect();
        Ok(Verifier { keys, params, params_of, vks, prepared })
    }

    /// Checks one proof file (see the module doc); `weights_commitment`, when given, must be the proof's.
    pub fn check(&self, file: ProofFile, weights_commitment: Option<&str>) -> Result<VerifyReport> {
        let (keys, params, vks) = (&self.keys, &self.params, &self.vks);
        let man = &keys.manifest;
        let t = Instant::now();
        let Checked { instances, proofs } = check_links(keys, &file, weights_commitment)?;
        tracing::debug!("verify: proof file and links checked in {:.2} ms", t.elapsed().as_secs_f64() * 1e3);
        let n = man.segments.len();
        let items: Vec<BundleItem> = (0..n)
            .map(|i| {
                let key = man.segments[i].key;
                let params = &params[self.params_of[key]];
                BundleItem { params, vk: &vks[key], instances: &instances[i], proof: &proofs[i] }
            })
            .collect();
        let stats = verify_bundle_with(&items, &self.prepared).map_err(|e| match e {
            BundleError::Proof { index, reason } => anyhow::anyhow!(
                "rejected: segment {index}'s proof does not verify against its public values and key ({reason})"
            ),
            other => anyhow::anyhow!("rejected: {other}"),
        })?;
        let verify_ms = t.elapsed().as_secs_f64() * 1e3;
        let logits = file.public.output.as_ref().map(|o| {
            o.iter().map(|&q| (q - man.model.output_zero_point) as f32 * man.model.output_scale).collect()
        });
        Ok(VerifyReport {
            verified: true,
            model: man.model.file.clone(),
            hide: man.hide.clone(),
            segments: n,
            pairings: stats.pairings,
            public: file.public,
            logits,
            verify_ms,
            proof_bytes: proofs.iter().map(Vec::len).sum(),
        })
    }
}

/// What a proof file's checks against the manifest yield: every segment's instance column and its halo2 proof.
pub struct Checked {
    pub instances: Vec<Vec<Fr>>,
    pub proofs: Vec<Vec<u8>>,
}

/// Everything `verify` checks before the pairing, from the manifest alone: the model and visibility, the chain
/// whole and in order, the public values, every link, the endpoints, the weights commitment, the proofs' hex.
pub fn check_links(keys: &Keys, file: &ProofFile, weights_commitment: Option<&str>) -> Result<Checked> {
    let keys_dir = &keys.dir;
    let man = &keys.manifest;
    if file.model_digest != man.model.digest {
        bail!(
            "the proof is for another model (digest {}) than the keys in {} ({}, {} digest {})",
            file.model_digest,
            keys_dir.display(),
            man.model.file,
            man.model.digest_of,
            man.model.digest
        );
    }
    if file.hide != man.hide {
        bail!("the proof (hide {}) was not made with the keys in {} (hide {})", file.hide, keys_dir.display(), man.hide);
    }
    let vis = man.visibility()?;
    let expected = weights_commitment.map(|c| fr_from_hex(c, "--weights-commitment")).transpose()?;
    if expected.is_some() && !vis.hide_weights {
        bail!("--weights-commitment applies to hidden weights; these keys make the weights public");
    }
    let n = man.segments.len();
    // The chain is whole: every segment once, in order.
    for (pos, sp) in file.segments.iter().enumerate() {
        if sp.segment != pos {
            bail!(
                "rejected: position {pos} holds segment {} — segments are missing, duplicated or out of order",
                sp.segment
            );
        }
    }
    if file.segments.len() != n {
        bail!(
            "rejected: the proof holds {} segment(s), the keys' chain has {n}{}",
            file.segments.len(),
            if file.segments.len() < n { " (a dropped segment, or a part file: join parts with `zkinfer bundle`)" } else { "" }
        );
    }
    let input_len = man.model.input_shape.iter().product();
    let output_len = man.model.output_shape.iter().product();
    let (input, output) = file.public.endpoints(&vis, input_len, output_len)?;
    let instances: Vec<Vec<Fr>> = file
        .segments
        .iter()
        .map(|sp| chain::instances_of(man, &vis, sp, &input, &output))
        .collect::<Result<_>>()
        .map_err(|e| anyhow::anyhow!("rejected: {e:#}"))?;
    // Links: what segment i committed to leaving is what segment i+1 committed to entering.
    for i in 0..n.saturating_sub(1) {
        let (a, b) = (&file.segments[i], &file.segments[i + 1]);
        for (j, name) in man.segments[i].output_names.iter().enumerate() {
            // Compared as field elements, not as text (the same value may be written in another case).
            let parse = |c: &Option<String>, what: &str| c.as_deref().map(|s| fr_from_hex(s, what)).transpose();
            if parse(&a.outputs[j], &format!("segment {i} output {j}"))? != parse(&b.inputs[j], &format!("segment {} input {j}", i + 1))? {
                bail!(
                    "rejected: link {i} → {} (tensor '{name}') is broken: segment {} was proved on another tensor (or \
                     salt) than segment {i} produced",
                    i + 1,
                    i + 1
                );
            }
        }
    }
    // Endpoints: the first segment binds the model input, the last the output.
    let first = &man.segments[0];
    if let (Endpoint::Commitment(c), Some(j)) = (&input, first.inputs.iter().position(|&t| t == 0)) {
        let got = file.segments[0].inputs[j].as_deref().map(|s| fr_from_hex(s, "segment 0 input")).transpose()?;
        if got != Some(*c) {
            bail!("rejected: segment 0 was proved on another input than the proof's input commitment");
        }
    }
    if let Endpoint::Commitment(c) = &output {
        let got = file.segments[n - 1].outputs[0].as_deref().map(|s| fr_from_hex(s, "last segment output")).transpose()?;
        if got != Some(*c) {
            bail!("rejected: segment {} produced another output than the proof's output commitment", n - 1);
        }
    }
    // The model's weights commitment is the hash over the segments' commitments.
    if vis.hide_weights {
        let per: Vec<Fr> = instances.iter().map(|inst| inst[0]).collect();
        let model = commit::model_commitment(&per);
        let claimed = fr_from_hex(file.public.weights_commitment.as_deref().unwrap_or_default(), "weights_commitment")?;
        if model != claimed {
            bail!("rejected: the segments' weights commitments do not hash to the proof's weights commitment (a segment of another model?)");
        }
        if let Some(e) = expected {
            if e != model {
                bail!("rejected: the proof is under another weights commitment than --weights-commitment (another model's weights)");
            }
        }
    }
    let proofs: Vec<Vec<u8>> = file
        .segments
        .iter()
        .map(|sp| from_hex(&sp.proof).with_context(|| format!("rejected: segment {}: the proof field is not valid hex", sp.segment)))
        .collect::<Result<_>>()?;
    Ok(Checked { instances, proofs })
}

/// One file's result in a folder check.
#[derive(Serialize)]
pub struct FileResult {
    pub proof: String,
    pub verified: bool,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<PublicValues>,
    /// This file's verification with the keys loaded (links, every segment proof, the pairing), as `verify FILE`
    /// reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_ms: Option<f64>,
}

#[derive(Serialize)]
pub struct FolderReport {
    pub folder: String,
    pub verified: usize,
    pub rejected: usize,
    pub files: Vec<FileResult>,
    pub verify_ms: f64,
}

/// `verify DIR`: every `*.proof.json` of a folder against one set of keys; a rejected file is named with its
/// reason and does not stop the others.
pub fn run_folder(dir: &Path, keys_dir: &Path, weights_commitment: Option<&str>, ui: &crate::ui::Ui) -> Result<FolderReport> {
    let files = super::batch::proof_files(dir)?;
    if files.is_empty() {
        bail!("{} holds no proof files (*.proof.json)", dir.display());
    }
    let v = Verifier::open(keys_dir)?;
    let t = Instant::now();
    let bar = ui.stage(&format!("verify {} proof(s)", files.len()), files.len() as u64);
    let mut out = Vec::with_capacity(files.len());
    for f in &files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let r = read_proof_file(f).and_then(|file| v.check(file, weights_commitment));
        bar.step(&name, "");
        out.push(match r {
            Ok(r) => FileResult { proof: name, verified: true, error: None, public: Some(r.public), verify_ms: Some(r.verify_ms) },
            Err(e) => FileResult { proof: name, verified: false, error: Some(format!("{e:#}")), public: None, verify_ms: None },
        });
    }
    bar.finish();
    let verified = out.iter().filter(|r| r.verified).count();
    Ok(FolderReport {
        folder: dir.display().to_string(),
        verified,
        rejected: out.len() - verified,
        files: out,
        verify_ms: t.elapsed().as_secs_f64() * 1e3,
    })
}
