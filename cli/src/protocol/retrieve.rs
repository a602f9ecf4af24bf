//! Trustless retrieval (`zkinfer protocol retrieve`): a requester learns which of a responder's committed items a
//! model (the predicate) classifies as positive, and receives exactly those — without seeing the others.
//!
//! 1. `commit-dataset` (responder): one hiding commitment per item — Poseidon(salt, int8 values), exactly the
//!    input commitment a proof with a hidden input shows — and a root over them (BLAKE2b); salts stay private.
//! 2. `respond` (responder, given the requester's model and keys): proves the model on EVERY committed item with
//!    the input hidden under that item's salt, and returns the items of the positive class with their openings.
//! 3. `check` (requester): the proofs cover exactly the committed items (one per item, each on its commitment),
//!    every proof verifies, every item a proof classifies positive is returned, nothing else is, and each returned
//!    item opens its commitment. A hidden positive, an extra or altered item is named.
//!
//! When the committed items themselves are in doubt (an untrusted source), the requester checks a uniform sample of
//! them against the source: `sample` draws n items — the Clopper–Pearson size for a fraction p of altered items at
//! confidence 1 − δ — `open` (responder) reveals their values and salts, and `check-source` requires each to open its
//! commitment and to equal the source's item; then, with confidence 1 − δ, at most a fraction p of the committed
//! items differ from the source.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use zkinfer_backend::provers::Prover;
use zkinfer_backend::EngineKind;
use zkinfer_circuits::commit;

use super::{read_artifact, write_artifact, Finding};
use crate::chain::Seeds;
use crate::commands::batch::{proof_name, prove_batch, BatchItem};
use crate::commands::prove::{weights_seed, Session};
use crate::commands::verify::{read_proof_file, Verifier};
use crate::encoding::{digest_parts, fr_from_hex, fr_to_hex, to_hex};
use crate::input::batch_entries;
use crate::ui::Ui;
use crate::{model_file, visibility};

pub const DATASET_FORMAT: &str = "zkinfer-dataset/1";
pub const DATASET_OPENING_FORMAT: &str = "zkinfer-dataset-opening/1";
pub const RESPONSE_FORMAT: &str = "zkinfer-retrieval/1";
pub const VERDICT_FORMAT: &str = "zkinfer-retrieval-verdict/1";
pub const RESPONSE: &str = "response.json";
pub const SAMPLE_FORMAT: &str = "zkinfer-dataset-sample/1";
pub const OPENINGS_FORMAT: &str = "zkinfer-dataset-openings/1";
pub const SOURCE_VERDICT_FORMAT: &str = "zkinfer-source-verdict/1";

/// `dataset.json`: the responder's public commitment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub format: String,
    /// BLAKE2b-256 over the item ids and commitments, in order.
    pub root: String,
    pub input_shape: Vec<usize>,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    /// Poseidon(salt, int8 values): a proof with a hidden input shows exactly this.
    pub commitment: String,
}

/// `dataset.json.opening.json` (private): each item's salt.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetOpening {
    pub format: String,
    pub salts: Vec<(String, String)>,
}

/// `response.json`: the items the responder returns, with their openings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub format: String,
    pub dataset_root: String,
    pub positive_class: usize,
    pub returned: Vec<Returned>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Returned {
    pub id: String,
    /// The item's int8 values and the salt that opens its commitment.
    pub values: Vec<i32>,
    pub salt: String,
}

pub(crate) fn root_of(items: &[Item]) -> String {
    let mut parts: Vec<&[u8]> = vec![b"zkinfer-dataset/1"];
    for it in items {
        parts.push(it.id.as_bytes());
        parts.push(it.commitment.as_bytes());
    }
    to_hex(&digest_parts(&parts))
}

pub(crate) fn read_dataset(path: &Path) -> Result<Dataset> {
    let d: Dataset = read_artifact(path, DATASET_FORMAT)?;
    let mut seen = BTreeSet::new();
    for it in &d.items {
        if !seen.insert(&it.id) {
            bail!("{}: item `{}` appears twice", path.display(), it.id);
        }
        fr_from_hex(&it.commitment, &format!("{}: item {}", path.display(), it.id))?;
    }
    if root_of(&d.items) != d.root {
        bail!("{}: its root is not the hash of its items (edited?)", path.display());
    }
    Ok(d)
}

pub struct CommitArgs {
    pub input: PathBuf,
    pub model: PathBuf,
    pub indices: Option<Vec<usize>>,
    pub out: PathBuf,
}

#[derive(Serialize)]
pub struct CommitReport {
    pub dataset: String,
    pub opening: String,
    pub items: usize,
    pub root: String,
}

/// The responder commits to its items, quantized as `model`'s input is.
pub fn commit_dataset(a: &CommitArgs, ui: &Ui) -> Result<CommitReport> {
    let m = model_file::load(&a.model)?;
    let entries = batch_entries(&a.input, &m.model, a.indices.as_deref())?;
    let quiet = Ui { quiet: true, json: ui.json };
    let mut items = Vec::new();
    let mut salts = Vec::new();
    for e in &entries {
        let v = e.load(&m.model, &quiet)?.values;
        let salt = Fr::random(OsRng);
        items.push(Item { id: e.name.clone(), commitment: fr_to_hex(&commit::commit_tensor(&v, salt)?) });
        salts.push((e.name.clone(), fr_to_hex(&salt)));
    }
    let d = Dataset { format: DATASET_FORMAT.into(), root: root_of(&items), input_shape: m.model.input().shape.clone(), items };
    let opening = crate::commands::prove::opening_path(&a.out);
    write_artifact(&opening, &DatasetOpening { format: DATASET_OPENING_FORMAT.into(), salts }, true)?;
    write_artifact(&a.out, &d, false)?;
    Ok(CommitReport { dataset: a.out.display().to_string(), opening: opening.display().to_string(), items: d.items.len(), root: d.root })
}

/// Keys a retrieval runs on: the input hidden (the items stay private), the output public (the class decides).
fn retrieval_keys(vis: &zkinfer_circuits::Visibility, keys: &Path) -> Result<()> {
    if !vis.hide_input || vis.hide_output {
        bail!(
            "the keys in {} have --hide {}: a retrieval needs a hidden input and a public output (set up with --hide input, or input,weights)",
            keys.display(),
            visibility::format(vis)
        );
    }
    Ok(())
}

pub struct RespondArgs {
    pub model: PathBuf,
    pub input: PathBuf,
    pub keys: PathBuf,
    pub dataset: PathBuf,
    pub opening: Option<PathBuf>,
    pub weights_opening: Option<PathBuf>,
    pub positive_class: usize,
    pub out_dir: PathBuf,
    pub engine: EngineKind,
    pub prover: Prover,
}

#[derive(Serialize)]
pub struct RespondReport {
    pub response: String,
    pub proved: usize,
    pub existing: usize,
    pub returned: usize,
    pub prove_s: f64,
}

pub fn respond(a: &RespondArgs, ui: &Ui) -> Result<RespondReport> {
    let d = read_dataset(&a.dataset)?;
    let opening_path = a.opening.clone().unwrap_or_else(|| crate::commands::prove::opening_path(&a.dataset));
    let o: DatasetOpening = read_artifact(&opening_path, DATASET_OPENING_FORMAT)?;
    let mut session = Session::open(&a.model, &a.keys, None, a.engine, a.prover, None, false, ui)?;
    retrieval_keys(&session.vis, &a.keys)?;
    let entries = batch_entries(&a.input, &session.imported, None)?;
    let wseed = match &a.weights_opening {
        Some(p) => weights_seed(p, &session.vis)?,
        None => Fr::random(OsRng),
    };
    let quiet = Ui { quiet: true, json: ui.json };
    let mut items = Vec::new();
    let mut values = Vec::new();
    for it in &d.items {
        let e = entries.iter().find(|e| e.name == it.id).with_context(|| format!("item {}: no input named so in {}", it.id, a.input.display()))?;
        let salt = o.salts.iter().find(|s| s.0 == it.id).with_context(|| format!("item {}: no salt in {}", it.id, opening_path.display()))?;
        let salt = fr_from_hex(&salt.1, &format!("{}: salt of {}", opening_path.display(), it.id))?;
        let inp = e.load(&session.imported, &quiet)?;
        if fr_to_hex(&commit::commit_tensor(&inp.values, salt)?) != it.commitment {
            bail!("item {}: {} is not the committed item (its commitment differs)", it.id, e.name);
        }
        values.push((it.id.clone(), inp.values.clone(), salt));
        items.push(BatchItem { name: it.id.clone(), values: inp.values, source: inp.source, seeds: Seeds { weights_seed: wseed, ..Seeds::fresh(Some(salt)) } });
    }
    ui.say(format!("retrieve: proving the predicate on all {} committed item(s)", items.len()));
    let summary = prove_batch(&mut session, items, &a.out_dir, ui)?;
    let positive: BTreeSet<&String> =
        summary.items.iter().filter(|s| s.predicted_class == Some(a.positive_class)).map(|s| &s.name).collect();
    let returned: Vec<Returned> = values
        .into_iter()
        .filter(|(id, _, _)| positive.contains(id))
        .map(|(id, values, salt)| Returned { id, values, salt: fr_to_hex(&salt) })
        .collect();
    let r = Response { format: RESPONSE_FORMAT.into(), dataset_root: d.root.clone(), positive_class: a.positive_class, returned };
    let path = a.out_dir.join(RESPONSE);
    write_artifact(&path, &r, false)?;
    Ok(RespondReport { response: path.display().to_string(), proved: summary.proved, existing: summary.existing, returned: r.returned.len(), prove_s: summary.prove_s })
}

/// `verdict.json` of a retrieval.
#[derive(Serialize)]
pub struct RetrievalVerdict {
    pub format: String,
    pub accepted: bool,
    pub reason: String,
    pub items: usize,
    pub positive_class: usize,
    /// Items the proofs classify as positive, and those returned.
    pub positives: Vec<String>,
    pub returned: Vec<String>,
    pub findings: Vec<Finding>,
    pub check_s: f64,
}

pub struct CheckArgs {
    pub dataset: PathBuf,
    pub response: PathBuf,
    pub proofs: PathBuf,
    pub keys: PathBuf,
    pub positive_class: Option<usize>,
    pub weights_commitment: Option<String>,
    pub out: Option<PathBuf>,
}

pub fn check(a: &CheckArgs, ui: &Ui) -> Result<RetrievalVerdict> {
    let t0 = Instant::now();
    let d = read_dataset(&a.dataset)?;
    let r: Response = read_artifact(&a.response, RESPONSE_FORMAT)?;
    if r.dataset_root != d.root {
        bail!("{} answers another dataset (root {}) than {} ({})", a.response.display(), r.dataset_root, a.dataset.display(), d.root);
    }
    if let Some(c) = a.positive_class {
        if c != r.positive_class {
            bail!("the response returns class {}, the request was for class {c}", r.positive_class);
        }
    }
    let v = Verifier::open(&a.keys)?;
    let vis = v.keys.manifest.visibility()?;
    retrieval_keys(&vis, &a.keys)?;
    let mut findings = Vec::new();
    let mut positives = Vec::new();
    // Every proof under one weights commitment: the requester's, or the first proof's.
    let mut weights = a.weights_commitment.clone();
    let bar = ui.stage(&format!("check {} item proof(s)", d.items.len()), d.items.len() as u64);
    for it in &d.items {
        let path = a.proofs.join(proof_name(&it.id));
        let res = (|| -> Result<Option<usize>> {
            if !path.is_file() {
                bail!("no proof ({} is missing): the proofs must cover every committed item", path.display());
            }
            let res = v.check(read_proof_file(&path)?, weights.as_deref())?;
            if vis.hide_weights && weights.is_none() {
                weights = res.public.weights_commitment.clone();
            }
            let c = res.public.input_commitment.as_deref().context("the proof shows no input commitment")?;
            if fr_from_hex(c, "input commitment")? != fr_from_hex(&it.commitment, "item commitment")? {
                bail!("the proof is for another input than the committed item");
            }
            Ok(res.public.predicted_class)
        })();
        match res {
            Ok(class) => {
                if class == Some(r.positive_class) {
                    positives.push(it.id.clone());
                }
            }
            Err(e) => findings.push(Finding { item: format!("item {}", it.id), reason: format!("{e:#}") }),
        }
        bar.step(&it.id, "");
    }
    bar.finish();
    let mut returned = Vec::new();
    let mut seen = BTreeSet::new();
    for x in &r.returned {
        let item = format!("returned item {}", x.id);
        if !seen.insert(&x.id) {
            findings.push(Finding { item, reason: "returned twice".into() });
            continue;
        }
        let Some(it) = d.items.iter().find(|it| it.id == x.id) else {
            findings.push(Finding { item, reason: "not in the committed set".into() });
            continue;
        };
        let opens = (|| -> Result<bool> {
            let salt = fr_from_hex(&x.salt, "salt")?;
            Ok(fr_to_hex(&commit::commit_tensor(&x.values, salt)?) == it.commitment && x.values.len() == d.input_shape.iter().product::<usize>())
        })();
        match opens {
            Ok(true) => {}
            Ok(false) => findings.push(Finding { item: item.clone(), reason: "its values and salt do not open its commitment (an altered item)".into() }),
            Err(e) => findings.push(Finding { item: item.clone(), reason: format!("{e:#}") }),
        }
        if !positives.contains(&x.id) {
            findings.push(Finding { item, reason: format!("its proof does not classify it as class {}", r.positive_class) });
        }
        returned.push(x.id.clone());
    }
    for p in &positives {
        if !seen.contains(p) {
            findings.push(Finding { item: format!("item {p}"), reason: format!("its proof classifies it as class {} but it was not returned (hidden)", r.positive_class) });
        }
    }
    let accepted = findings.is_empty();
    let reason = if accepted {
        format!("all {} item(s) proved; the {} item(s) of class {} were returned and open their commitments", d.items.len(), positives.len(), r.positive_class)
    } else {
        format!("{} finding(s)", findings.len())
    };
    let verdict = RetrievalVerdict {
        format: VERDICT_FORMAT.into(),
        accepted,
        reason,
        items: d.items.len(),
        positive_class: r.positive_class,
        positives,
        returned,
        findings,
        check_s: t0.elapsed().as_secs_f64(),
    };
    super::maybe_write(a.out.as_ref(), &verdict)?;
    Ok(verdict)
}

/// `sample.json`: the committed items the requester checks against the source.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSample {
    pub format: String,
    pub dataset_root: String,
    pub tamper: f64,
    pub delta: f64,
    /// One-sided Clopper–Pearson n with no altered item allowed (every item when the dataset is smaller).
    pub sample_size: usize,
    /// The randomness of the draw (hex), recorded so anyone can recompute it.
    pub seed: String,
    pub ids: Vec<String>,
}

/// `openings.json`: the responder's openings of the sampled items.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Openings {
    pub format: String,
    pub dataset_root: String,
    pub items: Vec<Returned>,
}

pub fn sample_items(dataset: &Path, tamper: f64, delta: f64, seed: Option<&str>, out: &Path) -> Result<SourceSample> {
    let d = read_dataset(dataset)?;
    let n = super::sample_size::clopper_pearson(tamper, delta, 0, super::sample_size::Sides::OneSided)? as usize;
    let seed = super::sampling::seed_or_fresh(seed)?;
    let size = n.min(d.items.len());
    let ids = super::sampling::sample(seed, d.items.len(), size).into_iter().map(|i| d.items[i].id.clone()).collect();
    let s = SourceSample { format: SAMPLE_FORMAT.into(), dataset_root: d.root, tamper, delta, sample_size: size, seed: to_hex(&seed), ids };
    write_artifact(out, &s, false)?;
    Ok(s)
}

pub(crate) fn read_sample(path: &Path, d: &Dataset) -> Result<SourceSample> {
    let s: SourceSample = read_artifact(path, SAMPLE_FORMAT)?;
    if s.dataset_root != d.root {
        bail!("{} samples another dataset (root {}) than {}", path.display(), s.dataset_root, d.root);
    }
    Ok(s)
}

pub struct OpenArgs {
    pub dataset: PathBuf,
    pub sample: PathBuf,
    pub input: PathBuf,
    pub model: PathBuf,
    pub opening: Option<PathBuf>,
    pub out: PathBuf,
}

/// The responder reveals the sampled items: values and salts.
pub fn open(a: &OpenArgs, ui: &Ui) -> Result<Openings> {
    let d = read_dataset(&a.dataset)?;
    let s = read_sample(&a.sample, &d)?;
    let opening_path = a.opening.clone().unwrap_or_else(|| crate::commands::prove::opening_path(&a.dataset));
    let o: DatasetOpening = read_artifact(&opening_path, DATASET_OPENING_FORMAT)?;
    let m = model_file::load(&a.model)?;
    let entries = batch_entries(&a.input, &m.model, None)?;
    let quiet = Ui { quiet: true, json: ui.json };
    let items = s
        .ids
        .iter()
        .map(|id| {
            let e = entries.iter().find(|e| &e.name == id).with_context(|| format!("item {id}: no input named so in {}", a.input.display()))?;
            let salt = o.salts.iter().find(|x| &x.0 == id).with_context(|| format!("item {id}: no salt in {}", opening_path.display()))?;
            Ok(Returned { id: id.clone(), values: e.load(&m.model, &quiet)?.values, salt: salt.1.clone() })
        })
        .collect::<Result<Vec<_>>>()?;
    let out = Openings { format: OPENINGS_FORMAT.into(), dataset_root: d.root, items };
    write_artifact(&a.out, &out, false)?;
    Ok(out)
}

/// `verdict.json` of a source check.
#[derive(Serialize)]
pub struct SourceVerdict {
    pub format: String,
    pub accepted: bool,
    pub reason: String,
    pub items: usize,
    pub sampled: usize,
    /// With confidence 1 − δ, at most this fraction of the committed items differ from the source (accepted only).
    pub altered_upper_bound: Option<f64>,
    pub findings: Vec<Finding>,
}

pub struct CheckSourceArgs {
    pub dataset: PathBuf,
    pub sample: PathBuf,
    pub openings: PathBuf,
    pub source: PathBuf,
    pub model: PathBuf,
    pub out: Option<PathBuf>,
}

/// The requester checks each sampled item's opening against its commitment and against the source.
pub fn check_source(a: &CheckSourceArgs, ui: &Ui) -> Result<SourceVerdict> {
    let d = read_dataset(&a.dataset)?;
    let s = read_sample(&a.sample, &d)?;
    let o: Openings = read_artifact(&a.openings, OPENINGS_FORMAT)?;
    if o.dataset_root != d.root {
        bail!("{} opens another dataset than {}", a.openings.display(), a.dataset.display());
    }
    let m = model_file::load(&a.model)?;
    let source = batch_entries(&a.source, &m.model, None)?;
    let quiet = Ui { quiet: true, json: ui.json };
    let mut findings = Vec::new();
    for id in &s.ids {
        let item = format!("item {id}");
        let r = (|| -> Result<()> {
            let x = o.items.iter().find(|x| &x.id == id).context("not opened")?;
            let it = d.items.iter().find(|it| &it.id == id).expect("sampled from the dataset");
            let salt = fr_from_hex(&x.salt, "salt")?;
            if fr_to_hex(&commit::commit_tensor(&x.values, salt)?) != it.commitment {
                bail!("its opening does not open its commitment");
            }
            let e = source.iter().find(|e| &e.name == id).with_context(|| format!("the source {} has no item named so", a.source.display()))?;
            if e.load(&m.model, &quiet)?.values != x.values {
                bail!("the committed item differs from the source's");
            }
            Ok(())
        })();
        if let Err(e) = r {
            findings.push(Finding { item, reason: format!("{e:#}") });
        }
    }
    let accepted = findings.is_empty();
    let bound = if !accepted {
        None
    } else if s.ids.len() < d.items.len() {
        Some(super::sample_size::tamper_upper_bound(s.ids.len() as u64, 0, s.delta)?)
    } else {
        Some(0.0)
    };
    let reason = match bound {
        Some(b) => format!(
            "all {} sampled item(s) open their commitments and equal the source's; with confidence {} at most {:.2}% of the {} committed items differ from the source",
            s.ids.len(),
            1.0 - s.delta,
            b * 100.0,
            d.items.len()
        ),
        None => format!("{} of {} sampled item(s) failed (see findings)", findings.len(), s.ids.len()),
    };
    let v = SourceVerdict {
        format: SOURCE_VERDICT_FORMAT.into(),
        accepted,
        reason,
        items: d.items.len(),
        sampled: s.ids.len(),
        altered_upper_bound: bound,
        findings,
    };
    super::maybe_write(a.out.as_ref(), &v)?;
    Ok(v)
}
