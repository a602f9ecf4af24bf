//! Served predictions with contested receipts (`zkinfer protocol serve / contest / answer / check`).
//!
//! 1. `serve` (provider): runs the model natively on a batch — no proofs — and hands out one receipt per input:
//!    the public values its proof would show (weights commitment, input or its commitment, output logits and class).
//!    The salts stay with the provider (a private opening file).
//! 2. `contest` (consumer): draws a uniform sample of receipts, its size from Clopper–Pearson for a tampering
//!    fraction p at confidence 1 − δ — independent of the batch size — bound to the receipts file by its digest.
//! 3. `answer` (provider): proves each contested receipt under that receipt's salts.
//! 4. `check` (consumer): every contested receipt has a proof that verifies and shows exactly the receipt's values;
//!    a mismatch names the receipt. Accepted: with confidence 1 − δ, at most a fraction p of the batch was tampered.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use zkinfer_backend::provers::Prover;
use zkinfer_backend::EngineKind;

use super::sample_size::{clopper_pearson, tamper_upper_bound, Sides};
use super::sampling::sample;
use super::{read_artifact, write_artifact, Finding};
use crate::chain::Seeds;
use crate::commands::batch::{proof_name, prove_batch, BatchItem, BatchSummary};
use crate::commands::prove::{weights_seed, Session};
use crate::commands::verify::{read_proof_file, Verifier};
use crate::encoding::{digest_file, to_hex};
use crate::input::batch_entries;
use crate::proof_file::{Opening, PublicValues};
use crate::ui::Ui;

pub const RECEIPTS_FORMAT: &str = "zkinfer-receipts/1";
pub const RECEIPTS_OPENING_FORMAT: &str = "zkinfer-receipts-opening/1";
pub const CONTEST_FORMAT: &str = "zkinfer-contest/1";
pub const VERDICT_FORMAT: &str = "zkinfer-receipts-verdict/1";

/// `receipts.json`: what the provider served, one receipt per input.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipts {
    pub format: String,
    pub model_digest: String,
    pub hide: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_commitment: Option<String>,
    pub receipts: Vec<Receipt>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The input's name in the batch (`input-N`, or a file's stem): a contested receipt's proof is `ID.proof.json`.
    pub id: String,
    /// The public values a proof of this prediction must show.
    pub public: PublicValues,
}

/// `receipts.json.opening.json` (private, mode 0600): each receipt's salts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptOpenings {
    pub format: String,
    pub openings: BTreeMap<String, Opening>,
}

/// `contest.json`: the receipts the consumer contests.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contest {
    pub format: String,
    /// BLAKE2b-256 of the receipts file contested: the provider cannot swap receipts afterwards.
    pub receipts_digest: String,
    pub batch: usize,
    pub tamper: f64,
    pub delta: f64,
    pub allowed: u64,
    pub sides: Sides,
    /// Clopper–Pearson n (all receipts when the batch is smaller).
    pub sample_size: usize,
    /// The randomness the sample was drawn from (hex), recorded so anyone can recompute it.
    pub seed: String,
    pub ids: Vec<String>,
}

pub struct ServeArgs {
    pub model: PathBuf,
    pub input: PathBuf,
    pub indices: Option<Vec<usize>>,
    pub keys: PathBuf,
    pub opening: Option<PathBuf>,
    pub out: PathBuf,
}

#[derive(Serialize)]
pub struct ServeReport {
    pub receipts: String,
    pub opening: String,
    pub served: usize,
    pub weights_commitment: Option<String>,
    pub serve_s: f64,
}

pub fn serve(a: &ServeArgs, ui: &Ui) -> Result<ServeReport> {
    let t0 = Instant::now();
    // Serving runs the model natively; nothing is proved, so no memory check and no GPU.
    let session = Session::open(&a.model, &a.keys, None, EngineKind::Cpu, Prover::Zkinfer, None, true, ui)?;
    let entries = batch_entries(&a.input, &session.imported, a.indices.as_deref())?;
    let wseed = match &a.opening {
        Some(p) => weights_seed(p, &session.vis)?,
        None => Fr::random(OsRng),
    };
    let quiet = Ui { quiet: true, json: ui.json };
    let bar = ui.stage(&format!("serve {} prediction(s)", entries.len()), entries.len() as u64);
    let mut receipts = Vec::new();
    let mut openings = BTreeMap::new();
    let n = session.keys.manifest.segments.len();
    for e in &entries {
        let inp = e.load(&session.imported, &quiet)?;
        let seeds = Seeds { weights_seed: wseed, ..Seeds::fresh(None) };
        let (public, _) = session.run_native(&inp.values, &seeds).with_context(|| format!("input {}", e.name))?;
        openings.insert(e.name.clone(), seeds.opening(&session.vis, n));
        receipts.push(Receipt { id: e.name.clone(), public });
        bar.step(&e.name, "");
    }
    bar.finish();
    let man = &session.keys.manifest;
    let file = Receipts {
        format: RECEIPTS_FORMAT.into(),
        model_digest: man.model.digest.clone(),
        hide: man.hide.clone(),
        weights_commitment: receipts.first().and_then(|r| r.public.weights_commitment.clone()),
        receipts,
    };
    let opening = crate::commands::prove::opening_path(&a.out);
    // The salts first: receipts never exist without the means to prove them.
    write_artifact(&opening, &ReceiptOpenings { format: RECEIPTS_OPENING_FORMAT.into(), openings }, true)?;
    write_artifact(&a.out, &file, false)?;
    Ok(ServeReport {
        receipts: a.out.display().to_string(),
        opening: opening.display().to_string(),
        served: file.receipts.len(),
        weights_commitment: file.weights_commitment,
        serve_s: t0.elapsed().as_secs_f64(),
    })
}

pub(crate) fn read_receipts(path: &Path) -> Result<Receipts> {
    let r: Receipts = read_artifact(path, RECEIPTS_FORMAT)?;
    let mut seen = std::collections::BTreeSet::new();
    if let Some(d) = r.receipts.iter().find(|x| !seen.insert(&x.id)) {
        bail!("{}: receipt id `{}` appears twice", path.display(), d.id);
    }
    if r.receipts.is_empty() {
        bail!("{} holds no receipts", path.display());
    }
    Ok(r)
}

pub struct ContestArgs {
    pub receipts: PathBuf,
    pub tamper: f64,
    pub delta: f64,
    pub allowed: u64,
    pub two_sided: bool,
    pub seed: Option<String>,
    pub out: PathBuf,
}

pub fn contest(a: &ContestArgs) -> Result<Contest> {
    let r = read_receipts(&a.receipts)?;
    let sides = if a.two_sided { Sides::TwoSided } else { Sides::OneSided };
    let n = clopper_pearson(a.tamper, a.delta, a.allowed, sides)? as usize;
    let seed = super::sampling::seed_or_fresh(a.seed.as_deref())?;
    let size = n.min(r.receipts.len());
    let ids = sample(seed, r.receipts.len(), size).into_iter().map(|i| r.receipts[i].id.clone()).collect();
    let c = Contest {
        format: CONTEST_FORMAT.into(),
        receipts_digest: digest_file(&a.receipts)?,
        batch: r.receipts.len(),
        tamper: a.tamper,
        delta: a.delta,
        allowed: a.allowed,
        sides,
        sample_size: size,
        seed: to_hex(&seed),
        ids,
    };
    write_artifact(&a.out, &c, false)?;
    Ok(c)
}

pub(crate) fn read_contest(path: &Path, receipts_path: &Path, receipts: &Receipts) -> Result<Contest> {
    let c: Contest = read_artifact(path, CONTEST_FORMAT)?;
    if c.receipts_digest != digest_file(receipts_path)? {
        bail!("{} contests another receipts file than {} (digest differs)", path.display(), receipts_path.display());
    }
    let ids: std::collections::BTreeSet<&String> = receipts.receipts.iter().map(|r| &r.id).collect();
    if let Some(x) = c.ids.iter().find(|i| !ids.contains(i)) {
        bail!("{}: contested receipt `{x}` is not in {}", path.display(), receipts_path.display());
    }
    Ok(c)
}

pub struct AnswerArgs {
    pub model: PathBuf,
    pub input: PathBuf,
    pub keys: PathBuf,
    pub receipts: PathBuf,
    pub opening: Option<PathBuf>,
    pub contest: PathBuf,
    pub out_dir: PathBuf,
    pub engine: EngineKind,
    pub prover: Prover,
}

/// The provider proves each contested receipt under its salts. A receipt that is not what the model computes gets
/// a warning: its proof (of the true output) will not match it, and the check will name it.
pub fn answer(a: &AnswerArgs, ui: &Ui) -> Result<BatchSummary> {
    let receipts = read_receipts(&a.receipts)?;
    let contest = read_contest(&a.contest, &a.receipts, &receipts)?;
    let opening_path = a.opening.clone().unwrap_or_else(|| crate::commands::prove::opening_path(&a.receipts));
    let openings: ReceiptOpenings = read_artifact(&opening_path, RECEIPTS_OPENING_FORMAT)?;
    let mut session = Session::open(&a.model, &a.keys, None, a.engine, a.prover, None, false, ui)?;
    let entries = batch_entries(&a.input, &session.imported, None)?;
    let n = session.keys.manifest.segments.len();
    let quiet = Ui { quiet: true, json: ui.json };
    let mut items = Vec::new();
    for id in &contest.ids {
        let e = entries.iter().find(|e| &e.name == id).with_context(|| format!("receipt {id}: no input named so in {}", a.input.display()))?;
        let o = openings.openings.get(id).with_context(|| format!("receipt {id}: no salts in {}", opening_path.display()))?;
        let seeds = Seeds::from_opening(o, &session.vis, n, &opening_path.display().to_string())?;
        let inp = e.load(&session.imported, &quiet)?;
        let (public, _) = session.run_native(&inp.values, &seeds)?;
        let receipt = receipts.receipts.iter().find(|r| &r.id == id).expect("checked by read_contest");
        if public != receipt.public {
            ui.warn(format!("receipt {id} is not what the model computes on {}: its proof will not match it", e.name));
        }
        items.push(BatchItem { name: id.clone(), values: inp.values, source: inp.source, seeds });
    }
    ui.say(format!("answer: proving {} contested receipt(s)", items.len()));
    prove_batch(&mut session, items, &a.out_dir, ui)
}

/// `verdict.json` of a contested batch.
#[derive(Serialize)]
pub struct PredictionsVerdict {
    pub format: String,
    pub accepted: bool,
    pub reason: String,
    pub batch: usize,
    pub contested: usize,
    pub verified: usize,
    /// With confidence 1 − δ, at most this fraction of the batch's receipts were tampered with (one-sided
    /// Clopper–Pearson from the contested sample; accepted verdicts only).
    pub tamper_upper_bound: Option<f64>,
    pub findings: Vec<Finding>,
    pub check_s: f64,
}

/// Why a proof's public values differ from a receipt's, in words.
fn mismatch(receipt: &PublicValues, proof: &PublicValues) -> Option<String> {
    if receipt.weights_commitment != proof.weights_commitment {
        return Some("the proof is under another weights commitment than the receipt".into());
    }
    if receipt.input != proof.input || receipt.input_commitment != proof.input_commitment {
        return Some("the proof is for another input than the receipt's".into());
    }
    if receipt.output != proof.output || receipt.output_commitment != proof.output_commitment || receipt.predicted_class != proof.predicted_class {
        let class = |p: &PublicValues| p.predicted_class.map(|c| format!("class {c}")).unwrap_or_else(|| "a hidden output".into());
        return Some(format!(
            "the served prediction ({}) is not what the model computes on that input ({})",
            class(receipt),
            class(proof)
        ));
    }
    (receipt != proof).then(|| "the proof's public values differ from the receipt's".into())
}

pub struct CheckArgs {
    pub receipts: PathBuf,
    pub contest: PathBuf,
    pub proofs: PathBuf,
    pub keys: PathBuf,
    pub out: Option<PathBuf>,
}

pub fn check(a: &CheckArgs, ui: &Ui) -> Result<PredictionsVerdict> {
    let t0 = Instant::now();
    let receipts = read_receipts(&a.receipts)?;
    let contest = read_contest(&a.contest, &a.receipts, &receipts)?;
    let v = Verifier::open(&a.keys)?;
    let man = &v.keys.manifest;
    if man.model.digest != receipts.model_digest || man.hide != receipts.hide {
        bail!("the receipts were served for other keys than those in {}", a.keys.display());
    }
    let mut findings = Vec::new();
    let bar = ui.stage(&format!("check {} contested receipt(s)", contest.ids.len()), contest.ids.len() as u64);
    for id in &contest.ids {
        let receipt = receipts.receipts.iter().find(|r| &r.id == id).expect("checked by read_contest");
        let path = a.proofs.join(proof_name(id));
        let r = (|| -> Result<()> {
            if !path.is_file() {
                bail!("no proof ({} is missing)", path.display());
            }
            let res = v.check(read_proof_file(&path)?, receipts.weights_commitment.as_deref())?;
            if let Some(why) = mismatch(&receipt.public, &res.public) {
                bail!("{why}");
            }
            Ok(())
        })();
        if let Err(e) = r {
            findings.push(Finding { item: format!("receipt {id}"), reason: format!("{e:#}") });
        }
        bar.step(id, "");
    }
    bar.finish();
    let contested = contest.ids.len();
    let accepted = findings.is_empty();
    let bound = if accepted && contested < receipts.receipts.len() {
        Some(tamper_upper_bound(contested as u64, 0, contest.delta)?)
    } else if accepted {
        Some(0.0) // every receipt was proved
    } else {
        None
    };
    let reason = if accepted {
        format!(
            "all {contested} contested receipt(s) proved as served; with confidence {} at most {:.2}% of the {} receipts were tampered with",
            1.0 - contest.delta,
            bound.unwrap_or(0.0) * 100.0,
            receipts.receipts.len()
        )
    } else {
        format!("{} of {contested} contested receipt(s) failed (see findings)", findings.len())
    };
    let verdict = PredictionsVerdict {
        format: VERDICT_FORMAT.into(),
        accepted,
        reason,
        batch: receipts.receipts.len(),
        contested,
        verified: contested - findings.len(),
        tamper_upper_bound: bound,
        findings,
        check_s: t0.elapsed().as_secs_f64(),
    };
    super::maybe_write(a.out.as_ref(), &verdict)?;
    Ok(verdict)
}
