//! `zkinfer protocol`: the verified-ML protocols built on proofs (Kang, Hashimoto, Stoica, Sun 2022, section 5) —
//! how many proofs each needs and what they cost (`sample-size`), the accuracy audit (`audit`), served predictions
//! with contested receipts (`serve`, `contest`, `answer`, `check`) and trustless retrieval (`retrieve`).
//!
//! Every artifact is a JSON file with a `format` field naming its schema (documented on its struct); private
//! artifacts (salts) are written mode 0600. A check that fails names the item and the reason, writes its verdict
//! (with `--out`) and exits non-zero.

pub mod audit;
pub mod cost;
pub mod predictions;
pub mod retrieve;
pub mod sample_size;
pub mod sampling;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::atomic;
use crate::ui::Ui;

/// Reads a protocol artifact, checking its `format` first (so a wrong file gets "is a ... file", not a serde error).
pub fn read_artifact<T: DeserializeOwned>(path: &Path, format: &str) -> Result<T> {
    if !path.is_file() {
        bail!("{} does not exist", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", path.display()))?;
    match v.get("format").and_then(|f| f.as_str()) {
        Some(f) if f == format => {}
        Some(f) => bail!("{} is a `{f}` file; a `{format}` file is needed here", path.display()),
        None => bail!("{} has no `format` field; a `{format}` file is needed here", path.display()),
    }
    serde_json::from_value(v).with_context(|| format!("{}: malformed `{format}` file (missing or unknown fields)", path.display()))
}

/// Writes an artifact atomically (mode 0600 when `private`).
pub fn write_artifact<T: Serialize>(path: &Path, value: &T, private: bool) -> Result<()> {
    let text = format!("{}\n", serde_json::to_string_pretty(value)?);
    if private {
        atomic::write_private(path, text.as_bytes())
    } else {
        atomic::write(path, text.as_bytes())
    }
}

/// One problem a check found: the item (example, receipt, document) and why it fails.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub item: String,
    pub reason: String,
}

/// Prints a check's findings and turns a rejection into the command's error (after the verdict was written).
pub fn conclude(ui: &Ui, accepted: bool, findings: &[Finding], what: &str) -> Result<()> {
    if !ui.json {
        for f in findings {
            eprintln!("  {}: {}", f.item, f.reason);
        }
    }
    if !accepted {
        bail!("{what}: REJECTED ({} finding(s){})", findings.len(), findings.first().map(|f| format!("; first: {}: {}", f.item, f.reason)).unwrap_or_default());
    }
    Ok(())
}

/// `--out FILE` of a check, or nothing.
pub fn maybe_write<T: Serialize>(out: Option<&PathBuf>, value: &T) -> Result<()> {
    match out {
        Some(p) => write_artifact(p, value, false),
        None => Ok(()),
    }
}

use clap::Subcommand;
use zkinfer_backend::EngineKind;

use crate::prover::ProverArg;

/// Which engine and prover make a protocol's proofs (as `zkinfer prove`'s --engine and --prover).
#[derive(clap::Args, Clone, Copy)]
pub struct ProverChoice {
    #[arg(long, default_value = "auto")]
    engine: EngineKind,
    #[arg(long, value_enum, default_value_t = ProverArg(zkinfer_backend::provers::Prover::Zkinfer))]
    prover: ProverArg,
}

#[derive(Subcommand)]
pub enum ProtocolCommand {
    /// Sample sizes (Hoeffding for the accuracy audit, Clopper–Pearson one- and two-sided for contested
    /// predictions) and their cost from a measured `zkinfer bench` JSON: the paper's tables 3 and 4 recomputed.
    SampleSize {
        /// Accuracy margins ε (table 3).
        #[arg(long, value_delimiter = ',', default_value = "0.05,0.025,0.01")]
        epsilon: Vec<f64>,
        /// Tampering fractions p (table 4).
        #[arg(long, value_delimiter = ',', default_value = "0.05,0.025,0.01")]
        tamper: Vec<f64>,
        #[arg(long, default_value_t = 0.05)]
        delta: f64,
        /// Tampered receipts a contested sample may show and still bound p (0: any tampered receipt fails).
        #[arg(long, default_value_t = 0)]
        allowed: u64,
        /// A `zkinfer bench --out` report: the cost of one proof.
        #[arg(long)]
        bench: Option<PathBuf>,
        /// Its config to price (default: the first that ran).
        #[arg(long)]
        config: Option<String>,
        /// Its prover column (stock, cpu, cuda; default: the fastest of ours that ran).
        #[arg(long)]
        prover: Option<String>,
        /// USD per machine-hour of the bench machine.
        #[arg(long)]
        price_per_hour: Option<f64>,
    },
    /// The accuracy audit: commit-test-set (consumer), prove (provider), check (consumer).
    Audit {
        #[command(subcommand)]
        step: AuditStep,
    },
    /// Served predictions, step 1 (provider): receipts (public values, no proofs) for a batch; salts to
    /// OUT.opening.json (private).
    Serve {
        model: PathBuf,
        /// A batched .npy or a folder of inputs.
        input: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// The weights opening to serve under (read, or created): one published weights commitment.
        #[arg(long)]
        opening: Option<PathBuf>,
        #[arg(long)]
        indices: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Served predictions, step 2 (consumer): a uniform sample of receipts to contest, its size from Clopper–Pearson.
    Contest {
        receipts: PathBuf,
        /// The tampering fraction p to detect.
        #[arg(long, default_value_t = 0.05)]
        tamper: f64,
        #[arg(long, default_value_t = 0.05)]
        delta: f64,
        /// Tampered receipts tolerated in the sample.
        #[arg(long, default_value_t = 0)]
        allowed: u64,
        /// Size the sample for the two-sided Clopper–Pearson interval.
        #[arg(long)]
        two_sided: bool,
        /// 64 hex digits of randomness (fresh when not given; recorded in the contest file either way).
        #[arg(long)]
        seed: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Served predictions, step 3 (provider): prove every contested receipt under its salts.
    Answer {
        model: PathBuf,
        input: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        receipts: PathBuf,
        /// The receipts' salts (default RECEIPTS.opening.json).
        #[arg(long)]
        opening: Option<PathBuf>,
        #[arg(long)]
        contest: PathBuf,
        #[arg(long)]
        out_dir: PathBuf,
        #[command(flatten)]
        how: ProverChoice,
    },
    /// Served predictions, step 4 (consumer): every contested receipt's proof verifies and matches the receipt.
    Check {
        #[arg(long)]
        receipts: PathBuf,
        #[arg(long)]
        contest: PathBuf,
        #[arg(long)]
        proofs: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// Write the verdict here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Trustless retrieval: commit-dataset (responder), respond (responder), check (requester).
    Retrieve {
        #[command(subcommand)]
        step: RetrieveStep,
    },
}

#[derive(Subcommand)]
pub enum AuditStep {
    /// Commit to a labelled test set and fix the audit: claim, ε, δ, N and the sample.
    CommitTestSet {
        /// Test examples (.npy, float32 or int8, a batch).
        x: PathBuf,
        /// Their labels (.npy int64).
        y: PathBuf,
        /// The provider's keys (public input and output).
        #[arg(long)]
        keys: PathBuf,
        /// The weights commitment the provider published (hidden weights).
        #[arg(long)]
        weights_commitment: Option<String>,
        /// The accuracy the provider claims.
        #[arg(long)]
        target_accuracy: f64,
        #[arg(long, default_value_t = 0.05)]
        epsilon: f64,
        #[arg(long, default_value_t = 0.05)]
        delta: f64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Prove the sampled examples under the published weights commitment.
    Prove {
        model: PathBuf,
        /// The test examples (.npy) the consumer sent.
        x: PathBuf,
        #[arg(long)]
        test_set: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// The opening of the published weights commitment (its weights seed).
        #[arg(long)]
        opening: PathBuf,
        #[arg(long)]
        out_dir: PathBuf,
        #[command(flatten)]
        how: ProverChoice,
    },
    /// Check the proofs against the committed test set and give the verdict.
    Check {
        x: PathBuf,
        y: PathBuf,
        #[arg(long)]
        test_set: PathBuf,
        #[arg(long)]
        proofs: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// Write the verdict here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum RetrieveStep {
    /// Commit to every item (quantized as MODEL's input): dataset.json, salts in OUT.opening.json (private).
    CommitDataset {
        /// A batched .npy or a folder of inputs.
        input: PathBuf,
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        indices: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Prove the predicate on every committed item and return the positive ones with their openings.
    Respond {
        model: PathBuf,
        input: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        dataset: PathBuf,
        /// The items' salts (default DATASET.opening.json).
        #[arg(long)]
        opening: Option<PathBuf>,
        /// A weights opening (hidden-weights keys) to prove under one known weights commitment.
        #[arg(long)]
        weights_opening: Option<PathBuf>,
        #[arg(long)]
        positive_class: usize,
        #[arg(long)]
        out_dir: PathBuf,
        #[command(flatten)]
        how: ProverChoice,
    },
    /// Untrusted source, step 1 (requester): a uniform sample of committed items to check against the source,
    /// its size from Clopper–Pearson for a fraction p of altered items.
    Sample {
        #[arg(long)]
        dataset: PathBuf,
        #[arg(long, default_value_t = 0.05)]
        tamper: f64,
        #[arg(long, default_value_t = 0.05)]
        delta: f64,
        /// 64 hex digits of randomness (fresh when not given; recorded either way).
        #[arg(long)]
        seed: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Untrusted source, step 2 (responder): open the sampled items (values and salts).
    Open {
        /// The responder's items (batched .npy or folder), as committed.
        input: PathBuf,
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        dataset: PathBuf,
        #[arg(long)]
        sample: PathBuf,
        /// The items' salts (default DATASET.opening.json).
        #[arg(long)]
        opening: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Untrusted source, step 3 (requester): every sampled item opens its commitment and equals the source's.
    CheckSource {
        /// The source's items (batched .npy or folder), named as in the dataset.
        source: PathBuf,
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        dataset: PathBuf,
        #[arg(long)]
        sample: PathBuf,
        #[arg(long)]
        openings: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a response: every item proved, every positive returned, nothing else, each opening its commitment.
    Check {
        #[arg(long)]
        dataset: PathBuf,
        /// The response (default PROOFS/response.json).
        #[arg(long)]
        response: Option<PathBuf>,
        #[arg(long)]
        proofs: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// The class requested (checked against the response's).
        #[arg(long)]
        positive_class: Option<usize>,
        /// Require every proof under this weights commitment (hidden-weights predicate).
        #[arg(long)]
        weights_commitment: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn indices(s: &Option<String>) -> Result<Option<Vec<usize>>> {
    s.as_deref().map(crate::input::parse_indices).transpose()
}

fn batch_line(what: &str, r: &crate::commands::batch::BatchSummary, dir: &Path) {
    println!(
        "{what}: {} proved, {} already proved, in {} ({:.1} s proving{})",
        r.proved,
        r.existing,
        dir.display(),
        r.prove_s,
        r.proofs_per_hour.map(|p| format!(", {p:.0} proofs/hour")).unwrap_or_default()
    );
}

pub fn run(cmd: ProtocolCommand, ui: &Ui) -> Result<()> {
    use crate::emit;
    match cmd {
        ProtocolCommand::SampleSize { epsilon, tamper, delta, allowed, bench, config, prover, price_per_hour } => {
            if epsilon.is_empty() && tamper.is_empty() {
                bail!("give at least one --epsilon or --tamper");
            }
            let r = cost::run(&cost::SampleSizeArgs { epsilon, tamper, delta, allowed, bench, config, prover, price_per_hour })?;
            emit(ui, &r, |r| print!("{}", cost::markdown(r)))
        }
        ProtocolCommand::Audit { step } => match step {
            AuditStep::CommitTestSet { x, y, keys, weights_commitment, target_accuracy, epsilon, delta, out } => {
                let r = audit::commit_test_set(&audit::CommitArgs { x, y, keys, weights_commitment, target_accuracy, epsilon, delta, out: out.clone() })?;
                emit(ui, &r, |r| {
                    println!(
                        "test set committed to {} (root {}): {} examples; audit of accuracy ≥ {} with ε = {}, δ = {}: N = {} sampled examples",
                        out.display(),
                        r.root,
                        r.examples,
                        r.target_accuracy,
                        r.epsilon,
                        r.delta,
                        r.sample_size
                    )
                })
            }
            AuditStep::Prove { model, x, test_set, keys, opening, out_dir, how } => {
                let r = audit::prove(&audit::ProveArgs { model, x, test_set, keys, opening, out_dir: out_dir.clone(), engine: how.engine, prover: how.prover.0 }, ui)?;
                emit(ui, &r, |r| batch_line("audit proofs", r, &out_dir))
            }
            AuditStep::Check { x, y, test_set, proofs, keys, out } => {
                let v = audit::check(&audit::CheckArgs { test_set, x, y, proofs, keys, out }, ui)?;
                emit(ui, &v, |v| {
                    println!("audit {}: {}", if v.accepted { "ACCEPTED" } else { "REJECTED" }, v.reason);
                    if let (Some(a), Some(lb)) = (v.accuracy, v.accuracy_lower_bound) {
                        println!(
                            "  accuracy {a:.4} ({} of {} correct); with confidence {} the model's accuracy is ≥ {lb:.4} (Hoeffding, ε = {})",
                            v.correct,
                            v.sample_size,
                            1.0 - v.delta,
                            v.epsilon
                        );
                    }
                    println!("  {} proof(s) verified in {:.1} s", v.verified, v.check_s);
                })?;
                conclude(ui, v.accepted, &v.findings, "audit")
            }
        },
        ProtocolCommand::Serve { model, input, keys, opening, indices: ix, out } => {
            let r = predictions::serve(&predictions::ServeArgs { model, input, indices: indices(&ix)?, keys, opening, out }, ui)?;
            emit(ui, &r, |r| {
                println!("served {} prediction(s): receipts in {}, their salts (keep private) in {}", r.served, r.receipts, r.opening);
                if let Some(c) = &r.weights_commitment {
                    println!("  weights commitment: {c}");
                }
            })
        }
        ProtocolCommand::Contest { receipts, tamper, delta, allowed, two_sided, seed, out } => {
            let c = predictions::contest(&predictions::ContestArgs { receipts, tamper, delta, allowed, two_sided, seed, out: out.clone() })?;
            emit(ui, &c, |c| {
                println!(
                    "contesting {} of {} receipt(s) ({} Clopper–Pearson, p = {}, δ = {}) → {}: {}",
                    c.sample_size,
                    c.batch,
                    c.sides.name(),
                    c.tamper,
                    c.delta,
                    out.display(),
                    c.ids.join(", ")
                )
            })
        }
        ProtocolCommand::Answer { model, input, keys, receipts, opening, contest, out_dir, how } => {
            let r = predictions::answer(
                &predictions::AnswerArgs { model, input, keys, receipts, opening, contest, out_dir: out_dir.clone(), engine: how.engine, prover: how.prover.0 },
                ui,
            )?;
            emit(ui, &r, |r| batch_line("contested receipts", r, &out_dir))
        }
        ProtocolCommand::Check { receipts, contest, proofs, keys, out } => {
            let v = predictions::check(&predictions::CheckArgs { receipts, contest, proofs, keys, out }, ui)?;
            emit(ui, &v, |v| println!("receipts {}: {}", if v.accepted { "ACCEPTED" } else { "REJECTED" }, v.reason))?;
            conclude(ui, v.accepted, &v.findings, "receipts check")
        }
        ProtocolCommand::Retrieve { step } => match step {
            RetrieveStep::CommitDataset { input, model, indices: ix, out } => {
                let r = retrieve::commit_dataset(&retrieve::CommitArgs { input, model, indices: indices(&ix)?, out }, ui)?;
                emit(ui, &r, |r| println!("{} item(s) committed: {} (root {}), salts (keep private) in {}", r.items, r.dataset, r.root, r.opening))
            }
            RetrieveStep::Respond { model, input, keys, dataset, opening, weights_opening, positive_class, out_dir, how } => {
                let r = retrieve::respond(
                    &retrieve::RespondArgs { model, input, keys, dataset, opening, weights_opening, positive_class, out_dir, engine: how.engine, prover: how.prover.0 },
                    ui,
                )?;
                emit(ui, &r, |r| {
                    println!("response {}: {} item(s) of the class returned; {} proved, {} already proved ({:.1} s)", r.response, r.returned, r.proved, r.existing, r.prove_s)
                })
            }
            RetrieveStep::Sample { dataset, tamper, delta, seed, out } => {
                let s = retrieve::sample_items(&dataset, tamper, delta, seed.as_deref(), &out)?;
                emit(ui, &s, |s| println!("sampled {} item(s) (Clopper–Pearson, p = {}, δ = {}) → {}: {}", s.sample_size, s.tamper, s.delta, out.display(), s.ids.join(", ")))
            }
            RetrieveStep::Open { input, model, dataset, sample, opening, out } => {
                let o = retrieve::open(&retrieve::OpenArgs { dataset, sample, input, model, opening, out: out.clone() }, ui)?;
                emit(ui, &o, |o| println!("opened {} item(s) into {}", o.items.len(), out.display()))
            }
            RetrieveStep::CheckSource { source, model, dataset, sample, openings, out } => {
                let v = retrieve::check_source(&retrieve::CheckSourceArgs { dataset, sample, openings, source, model, out }, ui)?;
                emit(ui, &v, |v| println!("source check {}: {}", if v.accepted { "ACCEPTED" } else { "REJECTED" }, v.reason))?;
                conclude(ui, v.accepted, &v.findings, "source check")
            }
            RetrieveStep::Check { dataset, response, proofs, keys, positive_class, weights_commitment, out } => {
                let response = response.unwrap_or_else(|| proofs.join(retrieve::RESPONSE));
                let v = retrieve::check(&retrieve::CheckArgs { dataset, response, proofs, keys, positive_class, weights_commitment, out }, ui)?;
                emit(ui, &v, |v| {
                    println!("retrieval {}: {}", if v.accepted { "ACCEPTED" } else { "REJECTED" }, v.reason);
                    println!("  positives: [{}]; returned: [{}]", v.positives.join(", "), v.returned.join(", "));
                })?;
                conclude(ui, v.accepted, &v.findings, "retrieval check")
            }
        },
    }
}
