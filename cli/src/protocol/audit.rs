//! The accuracy audit (`zkinfer protocol audit`): a model consumer checks a provider's accuracy claim on a
//! labelled test set without seeing the (hidden) weights.
//!
//! 1. `commit-test-set` (consumer): fixes the test set (the root: BLAKE2b over every example and label), the
//!    provider's keys (model digest) and published weights commitment, the claim (target accuracy) and the margin
//!    ε and risk δ; N = ⌈ln(1/δ)/(2ε²)⌉. The sample is drawn from BLAKE2b(root, model digest, weights commitment):
//!    the provider, whose weights commitment was published before the test set was committed, cannot steer it; the
//!    consumer could steer it only by reshuffling its own test set, which gains nothing that choosing the test set
//!    did not already give.
//! 2. `prove` (provider): proves the model on the N sampled examples (public input, hidden weights) under the
//!    weights commitment it published.
//! 3. `check` (consumer, or anyone given the test set): the files are the committed test set; every sampled
//!    example has a proof that verifies, under the published weights commitment, on exactly that example's int8
//!    values; then accuracy = correct / N. Accepted when every proof checks and accuracy ≥ target − ε: a model whose
//!    true accuracy meets the target passes with probability ≥ 1 − δ, and (one-sided Hoeffding) its true accuracy
//!    is ≥ accuracy − ε with confidence 1 − δ.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use zkinfer_backend::provers::Prover;
use zkinfer_backend::EngineKind;
use zkinfer_import::ir::QParams;
use zkinfer_import::npy;

use super::sample_size::{hoeffding, Sides};
use super::sampling::sample;
use super::{read_artifact, write_artifact, Finding};
use crate::chain::Seeds;
use crate::commands::batch::{proof_name, prove_batch, BatchItem, BatchSummary};
use crate::commands::prove::{weights_seed, Session};
use crate::commands::verify::{read_proof_file, Verifier};
use crate::encoding::{digest_parts, fr_from_hex, to_hex};
use crate::input::{self, BatchEntry};
use crate::keys::Keys;
use crate::ui::Ui;

pub const TEST_SET_FORMAT: &str = "zkinfer-audit-testset/1";
pub const VERDICT_FORMAT: &str = "zkinfer-audit-verdict/1";

/// `testset.json`: what the consumer publishes before the audit.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSetCommitment {
    pub format: String,
    /// BLAKE2b-256 over the examples' dtype and shape, then per example its raw bytes and its int64 label.
    pub root: String,
    pub examples: usize,
    pub x_dtype: String,
    pub x_shape: Vec<usize>,
    /// The provider's keys (their manifest's model digest and visibility).
    pub model_digest: String,
    pub hide: String,
    /// The weights commitment the provider published (hidden weights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_commitment: Option<String>,
    pub target_accuracy: f64,
    pub epsilon: f64,
    pub delta: f64,
    /// N (one-sided Hoeffding).
    pub sample_size: usize,
    /// BLAKE2b-256(root, model digest, weights commitment): the seed of the sample.
    pub sample_seed: String,
    /// The sampled example indices (recomputable from the seed).
    pub sample: Vec<usize>,
}

/// A labelled test set read from two .npy files.
struct TestSet {
    dtype: String,
    shape: Vec<usize>,
    examples: Vec<Vec<u8>>,
    labels: Vec<i64>,
}

fn read_test_set(x: &Path, y: &Path) -> Result<TestSet> {
    let xs = x.to_string_lossy();
    let (dtype, shape) = npy::describe(&xs).with_context(|| format!("test examples {}", x.display()))?;
    if shape.len() < 2 {
        bail!("test examples {}: shape {shape:?} is not a batch of examples", x.display());
    }
    let per: usize = shape[1..].iter().product();
    let bytes: Vec<u8> = match dtype.as_str() {
        "<f4" => npy::read_f32(&xs)?.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        "|i1" => npy::read_i8(&xs)?.data.iter().map(|&v| v as u8).collect(),
        d => bail!("test examples {}: dtype {d} (float32 or int8 expected)", x.display()),
    };
    let width = if dtype == "<f4" { 4 } else { 1 };
    let labels = npy::read_i64(&y.to_string_lossy()).with_context(|| format!("test labels {}", y.display()))?;
    if labels.shape.len() != 1 || labels.data.len() != shape[0] {
        bail!("test labels {}: shape {:?}, one label per example ({}) expected", y.display(), labels.shape, shape[0]);
    }
    let examples = bytes.chunks(per * width).map(<[u8]>::to_vec).collect();
    Ok(TestSet { dtype, shape, examples, labels: labels.data })
}

fn root_of(t: &TestSet) -> String {
    let shape: Vec<u8> = t.shape.iter().flat_map(|&d| (d as u64).to_le_bytes()).collect();
    let labels: Vec<[u8; 8]> = t.labels.iter().map(|l| l.to_le_bytes()).collect();
    let mut parts: Vec<&[u8]> = vec![b"zkinfer-testset/1", t.dtype.as_bytes(), &shape];
    for (x, l) in t.examples.iter().zip(&labels) {
        parts.push(x);
        parts.push(l);
    }
    to_hex(&digest_parts(&parts))
}

pub(crate) fn sample_seed(root: &str, model_digest: &str, weights_commitment: Option<&str>) -> [u8; 32] {
    digest_parts(&[b"zkinfer-audit-sample/1", root.as_bytes(), model_digest.as_bytes(), weights_commitment.unwrap_or("").as_bytes()])
}

/// The keys an audit runs on: the input and output must be public (the consumer knows its examples and reads the
/// predicted class).
fn audit_keys(keys: &Keys) -> Result<()> {
    let vis = keys.manifest.visibility()?;
    if vis.hide_input || vis.hide_output {
        bail!(
            "the keys in {} hide the {}: an accuracy audit needs a public input and output (set up with --hide weights)",
            keys.dir.display(),
            if vis.hide_input { "input" } else { "output" }
        );
    }
    Ok(())
}

pub struct CommitArgs {
    pub x: PathBuf,
    pub y: PathBuf,
    pub keys: PathBuf,
    pub weights_commitment: Option<String>,
    pub target_accuracy: f64,
    pub epsilon: f64,
    pub delta: f64,
    pub out: PathBuf,
}

pub fn commit_test_set(a: &CommitArgs) -> Result<TestSetCommitment> {
    if !(a.target_accuracy > 0.0 && a.target_accuracy <= 1.0) {
        bail!("--target-accuracy {}: an accuracy in (0, 1] is needed", a.target_accuracy);
    }
    let keys = Keys::open(&a.keys)?;
    audit_keys(&keys)?;
    let vis = keys.manifest.visibility()?;
    let wc = match (&a.weights_commitment, vis.hide_weights) {
        (Some(c), true) => Some(crate::encoding::fr_to_hex(&fr_from_hex(c, "--weights-commitment")?)),
        (None, true) => bail!("the keys hide the weights: give --weights-commitment, the one the provider published"),
        (Some(_), false) => bail!("--weights-commitment applies to hidden weights; these keys make the weights public"),
        (None, false) => None,
    };
    let t = read_test_set(&a.x, &a.y)?;
    let n = hoeffding(a.epsilon, a.delta, Sides::OneSided)? as usize;
    if n > t.examples.len() {
        bail!(
            "ε = {}, δ = {} needs N = {n} examples; the test set has {} (raise ε or δ, or use a larger test set)",
            a.epsilon,
            a.delta,
            t.examples.len()
        );
    }
    let root = root_of(&t);
    let man = &keys.manifest;
    let seed = sample_seed(&root, &man.model.digest, wc.as_deref());
    let c = TestSetCommitment {
        format: TEST_SET_FORMAT.into(),
        root,
        examples: t.examples.len(),
        x_dtype: t.dtype.clone(),
        x_shape: t.shape.clone(),
        model_digest: man.model.digest.clone(),
        hide: man.hide.clone(),
        weights_commitment: wc,
        target_accuracy: a.target_accuracy,
        epsilon: a.epsilon,
        delta: a.delta,
        sample_size: n,
        sample_seed: to_hex(&seed),
        sample: sample(seed, t.examples.len(), n),
    };
    write_artifact(&a.out, &c, false)?;
    Ok(c)
}

/// Reads a test-set commitment and checks its sample is the one its seed gives.
pub(crate) fn read_commitment(path: &Path) -> Result<TestSetCommitment> {
    let c: TestSetCommitment = read_artifact(path, TEST_SET_FORMAT)?;
    let seed = sample_seed(&c.root, &c.model_digest, c.weights_commitment.as_deref());
    // The sample's length first: it is in the file, so it bounds the work of redrawing it (sample_size and examples
    // are numbers the file may make as large as it likes).
    if c.sample.len() != c.sample_size
        || to_hex(&seed) != c.sample_seed
        || c.sample_size > c.examples
        || c.sample != sample(seed, c.examples, c.sample_size)
    {
        bail!("{}: its sample is not the one its root, model digest and weights commitment fix (edited?)", path.display());
    }
    if hoeffding(c.epsilon, c.delta, Sides::OneSided).with_context(|| path.display().to_string())? as usize != c.sample_size {
        bail!("{}: sample_size {} is not the Hoeffding N for ε = {}, δ = {}", path.display(), c.sample_size, c.epsilon, c.delta);
    }
    Ok(c)
}

pub fn example_name(i: usize) -> String {
    format!("example-{i}")
}

pub struct ProveArgs {
    pub model: PathBuf,
    pub x: PathBuf,
    pub test_set: PathBuf,
    pub keys: PathBuf,
    pub opening: PathBuf,
    pub out_dir: PathBuf,
    pub engine: EngineKind,
    pub prover: Prover,
}

/// The provider's step: prove the sampled examples under the published weights commitment.
pub fn prove(a: &ProveArgs, ui: &Ui) -> Result<BatchSummary> {
    let c = read_commitment(&a.test_set)?;
    let mut session = Session::open(&a.model, &a.keys, None, a.engine, a.prover, None, false, ui)?;
    audit_keys(&session.keys)?;
    if session.keys.manifest.model.digest != c.model_digest {
        bail!("the test set was committed for other keys (model digest {}) than {}", c.model_digest, a.keys.display());
    }
    let (dtype, shape) = npy::describe(&a.x.to_string_lossy())?;
    if dtype != c.x_dtype || shape != c.x_shape {
        bail!("{} ({dtype} {shape:?}) is not the committed test set's examples ({} {:?})", a.x.display(), c.x_dtype, c.x_shape);
    }
    let wseed = weights_seed(&a.opening, &session.vis)?;
    if let Some(want) = &c.weights_commitment {
        let have = session.weights_commitment(wseed)?;
        if have != fr_from_hex(want, "test set weights_commitment")? {
            bail!(
                "{} opens weights commitment {}, but the test set was committed against {want}: prove with the opening of the published commitment",
                a.opening.display(),
                crate::encoding::fr_to_hex(&have)
            );
        }
    }
    let quiet = Ui { quiet: true, json: ui.json };
    let items = c
        .sample
        .iter()
        .map(|&i| {
            let e = BatchEntry { name: example_name(i), path: a.x.clone(), index: Some(i) };
            let inp = e.load(&session.imported, &quiet)?;
            Ok(BatchItem { name: e.name, values: inp.values, source: inp.source, seeds: Seeds { weights_seed: wseed, ..Seeds::fresh(None) } })
        })
        .collect::<Result<Vec<_>>>()?;
    ui.say(format!("audit: proving the {} sampled example(s) of {}", items.len(), a.x.display()));
    prove_batch(&mut session, items, &a.out_dir, ui)
}

#[derive(Serialize)]
pub struct CheckedExample {
    pub index: usize,
    pub proof: String,
    pub label: i64,
    /// The class the verified proof shows (absent when its proof failed).
    pub predicted: Option<usize>,
    pub correct: bool,
}

/// `verdict.json` of an audit.
#[derive(Serialize)]
pub struct AuditVerdict {
    pub format: String,
    pub accepted: bool,
    pub reason: String,
    pub test_set_root: String,
    pub model_digest: String,
    pub weights_commitment: Option<String>,
    pub target_accuracy: f64,
    pub epsilon: f64,
    pub delta: f64,
    pub sample_size: usize,
    pub verified: usize,
    pub correct: usize,
    /// correct / N, over the verified sample (absent when a proof failed).
    pub accuracy: Option<f64>,
    /// accuracy − ε: the true accuracy is at least this with confidence 1 − δ (one-sided Hoeffding).
    pub accuracy_lower_bound: Option<f64>,
    pub examples: Vec<CheckedExample>,
    pub findings: Vec<Finding>,
    pub check_s: f64,
}

pub struct CheckArgs {
    pub test_set: PathBuf,
    pub x: PathBuf,
    pub y: PathBuf,
    pub proofs: PathBuf,
    pub keys: PathBuf,
    pub out: Option<PathBuf>,
}

pub fn check(a: &CheckArgs, ui: &Ui) -> Result<AuditVerdict> {
    let t0 = Instant::now();
    let c = read_commitment(&a.test_set)?;
    let t = read_test_set(&a.x, &a.y)?;
    if root_of(&t) != c.root {
        bail!(
            "{} / {} are not the committed test set (root {} differs): an example or a label changed since the commitment",
            a.x.display(),
            a.y.display(),
            c.root
        );
    }
    let v = Verifier::open(&a.keys)?;
    audit_keys(&v.keys)?;
    let man = &v.keys.manifest;
    if man.model.digest != c.model_digest || man.hide != c.hide {
        bail!("the keys in {} are not the ones the test set was committed for", a.keys.display());
    }
    let q = match (man.model.input_scale, man.model.input_zero_point) {
        (Some(scale), Some(zero_point)) => QParams { scale, zero_point },
        _ => bail!("the manifest in {} does not record the input quantization (keys from an older zkinfer): run setup again", a.keys.display()),
    };
    let mut findings = Vec::new();
    let mut examples = Vec::new();
    let bar = ui.stage(&format!("check {} proof(s)", c.sample.len()), c.sample.len() as u64);
    for &i in &c.sample {
        let name = proof_name(&example_name(i));
        let path = a.proofs.join(&name);
        let label = t.labels[i];
        let mut ex = CheckedExample { index: i, proof: name.clone(), label, predicted: None, correct: false };
        let item = format!("example {i}");
        let result = (|| -> Result<Option<usize>> {
            if !path.is_file() {
                bail!("no proof ({} is missing)", path.display());
            }
            let file = read_proof_file(&path)?;
            let r = v.check(file, c.weights_commitment.as_deref())?;
            let want = input::load_npy(&a.x, q, &man.model.input_shape, Some(i))?.values;
            if r.public.input.as_deref() != Some(&want[..]) {
                bail!("the proof is for another input than the committed example {i}");
            }
            Ok(r.public.predicted_class)
        })();
        match result {
            Ok(p) => {
                ex.predicted = p;
                ex.correct = p.is_some_and(|p| p as i64 == label);
            }
            Err(e) => findings.push(Finding { item, reason: format!("{e:#}") }),
        }
        examples.push(ex);
        bar.step(&name, "");
    }
    bar.finish();
    let n = c.sample.len();
    let verified = n - findings.len();
    let correct = examples.iter().filter(|e| e.correct).count();
    let accuracy = findings.is_empty().then(|| correct as f64 / n as f64);
    let (accepted, reason) = match accuracy {
        None => (false, format!("{} of {n} sampled proof(s) failed (see findings)", findings.len())),
        Some(acc) if acc + c.epsilon >= c.target_accuracy => (
            true,
            format!("accuracy {:.4} on {n} proved examples ≥ target {} − ε {}", acc, c.target_accuracy, c.epsilon),
        ),
        Some(acc) => (
            false,
            format!("accuracy {:.4} on {n} proved examples is below target {} − ε {}", acc, c.target_accuracy, c.epsilon),
        ),
    };
    let verdict = AuditVerdict {
        format: VERDICT_FORMAT.into(),
        accepted,
        reason,
        test_set_root: c.root.clone(),
        model_digest: c.model_digest.clone(),
        weights_commitment: c.weights_commitment.clone(),
        target_accuracy: c.target_accuracy,
        epsilon: c.epsilon,
        delta: c.delta,
        sample_size: n,
        verified,
        correct,
        accuracy,
        accuracy_lower_bound: accuracy.map(|a| (a - c.epsilon).max(0.0)),
        examples,
        findings,
        check_s: t0.elapsed().as_secs_f64(),
    };
    super::maybe_write(a.out.as_ref(), &verdict)?;
    Ok(verdict)
}
