//! Batch proving (`prove --out-dir`): many inputs proved with the keys loaded once, one proof file and one private
//! opening per input, and a summary. Resumable: an input whose proof file exists is not proved again, and every
//! file appears whole or not at all (the opening is written before its proof, so a proof never lacks its opening).
//! The protocols (`zkinfer protocol ...`) prove their samples through this loop.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::prove::{opening_path, Session};
use super::verify::read_proof_file;
use crate::atomic;
use crate::chain::Seeds;
use crate::ui::Ui;

pub const SUMMARY: &str = "summary.json";
pub const SUMMARY_FORMAT: &str = "zkinfer-batch/1";

/// One input to prove: its name (the proof is `NAME.proof.json`), int8 values, where it came from, and the salts
/// of its commitments.
pub struct BatchItem {
    pub name: String,
    pub values: Vec<i32>,
    pub source: String,
    pub seeds: Seeds,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryItem {
    pub name: String,
    pub input: String,
    /// The proof file, relative to the batch folder.
    pub proof: String,
    /// "proved" (by this run) or "existing" (found from an earlier run and kept).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prove_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_class: Option<usize>,
}

/// `summary.json` of a batch folder.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSummary {
    pub format: String,
    pub model_digest: String,
    pub hide: String,
    pub prover: String,
    pub engine: String,
    pub items: Vec<SummaryItem>,
    /// Inputs proved by this run, and found already proved.
    pub proved: usize,
    pub existing: usize,
    /// Seconds proving in this run (sum over its proofs) and the run's wall time.
    pub prove_s: f64,
    pub wall_s: f64,
    /// Proofs made per hour of wall time by this run.
    pub proofs_per_hour: Option<f64>,
}

pub fn proof_name(name: &str) -> String {
    format!("{name}.proof.json")
}

/// Proves every item into `dir` (created if missing), skipping those whose proof file exists; the summary is
/// rewritten after every item, so an interrupted run leaves one that lists what is done.
pub fn prove_batch(session: &mut Session, items: Vec<BatchItem>, dir: &Path, ui: &Ui) -> Result<BatchSummary> {
    let t0 = Instant::now();
    if dir.exists() && !dir.is_dir() {
        bail!("--out-dir {} is a file, not a folder", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let man = &session.keys.manifest;
    let mut summary = BatchSummary {
        format: SUMMARY_FORMAT.into(),
        model_digest: man.model.digest.clone(),
        hide: man.hide.clone(),
        prover: session.prover.name().into(),
        engine: session.engine_name(),
        items: Vec::new(),
        proved: 0,
        existing: 0,
        prove_s: 0.0,
        wall_s: 0.0,
        proofs_per_hour: None,
    };
    // Quiet inner stages: the batch's own bar is the progress display.
    let inner = Ui { quiet: true, json: ui.json };
    let bar = ui.stage(&format!("prove {} input(s)", items.len()), items.len() as u64);
    for item in items {
        bar.message(&format!("{}: proving", item.name));
        let name = item.name.clone();
        let done = prove_item(session, &inner, item, dir)?;
        match done.status.as_str() {
            "existing" => summary.existing += 1,
            _ => {
                summary.proved += 1;
                summary.prove_s += done.prove_s.unwrap_or(0.0);
            }
        }
        summary.items.push(done);
        summary.wall_s = t0.elapsed().as_secs_f64();
        summary.proofs_per_hour = (summary.proved > 0).then(|| summary.proved as f64 * 3600.0 / summary.wall_s);
        write_summary(dir, &summary)?;
        bar.step(&name, "");
    }
    bar.finish();
    summary.wall_s = t0.elapsed().as_secs_f64();
    summary.proofs_per_hour = (summary.proved > 0).then(|| summary.proved as f64 * 3600.0 / summary.wall_s);
    write_summary(dir, &summary)?;
    Ok(summary)
}

/// Proves one input into `dir` (NAME.proof.json, its opening first), or keeps the proof already there (after
/// checking it is a whole proof file for these keys).
pub fn prove_item(session: &mut Session, ui: &Ui, item: BatchItem, dir: &Path) -> Result<SummaryItem> {
    let file = proof_name(&item.name);
    let path = dir.join(&file);
    if path.exists() {
        let old = read_proof_file(&path).with_context(|| format!("{} exists but is not a whole proof file; remove it to prove {} again", path.display(), item.name))?;
        let man = &session.keys.manifest;
        if old.model_digest != man.model.digest || old.hide != man.hide {
            bail!("{} holds a proof for other keys (model digest or visibility differ); use another --out-dir", path.display());
        }
        return Ok(SummaryItem {
            name: item.name,
            input: item.source,
            proof: file,
            status: "existing".into(),
            prove_s: None,
            predicted_class: old.public.predicted_class,
        });
    }
    let proved = session.prove(ui, &item.values, &item.seeds, None).with_context(|| format!("input {} ({})", item.name, item.source))?;
    // The opening first: a proof on disk always has its opening next to it.
    if proved.opening != Default::default() {
        atomic::write_private(&opening_path(&path), serde_json::to_string_pretty(&proved.opening)?.as_bytes())?;
    }
    atomic::write(&path, format!("{}\n", serde_json::to_string(&proved.file)?).as_bytes())?;
    Ok(SummaryItem {
        name: item.name,
        input: item.source,
        proof: file,
        status: "proved".into(),
        prove_s: Some(proved.prove_s),
        predicted_class: proved.file.public.predicted_class,
    })
}

fn write_summary(dir: &Path, s: &BatchSummary) -> Result<()> {
    atomic::write(&dir.join(SUMMARY), format!("{}\n", serde_json::to_string_pretty(s)?).as_bytes())
}

/// The proof files of a folder (`*.proof.json`), in name order.
pub fn proof_files(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".proof.json")))
        .collect();
    v.sort();
    Ok(v)
}
