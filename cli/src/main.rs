//! `zkinfer` — prove quantized CNN inference with halo2 (KZG over BN254).
//!
//! `inspect` (size and memory before any work), `setup` (keys), `prove`, `verify`, `commit` (native commitments),
//! `demo` (the whole flow on the bundled digits model), `bench` (stock halo2 vs zkinfer on CPU and GPU), `engines`,
//! `selftest`. Every failure exits non-zero with
//! `error: …` on stderr; output files are written atomically.

mod atomic;
mod chain;
mod cluster;
mod commands;
mod encoding;
#[cfg(test)]
mod fuzz;
mod input;
mod keys;
mod model_file;
mod peak_memory;
mod proof_file;
mod protocol;
mod prover;
mod ui;
mod visibility;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use serde::Serialize;
use zkinfer_backend::provers::Prover;
use zkinfer_backend::EngineKind;

use commands::{bench, bundle, commit, demo, inspect, prove, selftest, setup, verify};
use prover::ProverArg;
use ui::Ui;

#[derive(Parser)]
#[command(name = "zkinfer", version, about = "Zero-knowledge proofs of quantized CNN inference (halo2, KZG/BN254)")]
struct Cli {
    /// More log output (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Print the result as one JSON object on stdout (progress stays off).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Layers, MACs, parameters, circuit rows/columns/k/lookups and estimated memory, before any heavy work.
    Inspect {
        model: PathBuf,
        /// Parts hidden behind commitments: comma-separated weights, input, output (or none).
        #[arg(long, default_value = "weights,input")]
        hide: String,
        #[command(flatten)]
        budget: BudgetArgs,
        /// Do not fail when the estimated memory exceeds this machine's.
        #[arg(long)]
        force: bool,
    },
    /// Plan the chain of segment circuits and write one proving and verifying key per distinct segment circuit
    /// (+ manifest.json and the SRS cut to each k) into --out.
    Setup {
        model: PathBuf,
        /// A halo2 KZG params file from a ceremony (k at least the circuit's; larger ones are cut down).
        #[arg(long, conflicts_with = "dev_srs", required_unless_present = "dev_srs")]
        srs: Option<PathBuf>,
        /// Generate an SRS locally: INSECURE (whoever ran setup can forge proofs), for development only.
        #[arg(long)]
        dev_srs: bool,
        /// Seed for --dev-srs (random otherwise), for reproducible test keys.
        #[arg(long, requires = "dev_srs")]
        seed: Option<u64>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "weights,input")]
        hide: String,
        #[command(flatten)]
        budget: BudgetArgs,
        /// Replace existing keys in --out; skip the memory check.
        #[arg(long)]
        force: bool,
    },
    /// Prove that MODEL produced its output on INPUT (.npy int8/float32, or a PNG/JPEG image) — or, with --out-dir,
    /// on every input of a batch (a batched .npy or a folder of inputs) with the keys loaded once.
    Prove {
        model: PathBuf,
        input: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// Must match the keys' (they fix what is hidden); defaults to it.
        #[arg(long)]
        hide: Option<String>,
        /// Pick entry N of a batched .npy input.
        #[arg(long)]
        index: Option<usize>,
        #[arg(long, default_value = "auto")]
        engine: EngineKind,
        #[arg(long, value_enum, default_value_t = ProverArg(Prover::Zkinfer))]
        prover: ProverArg,
        /// The proof file (JSON). The private opening (salts and seeds of its commitments) goes to
        /// OUT.opening.json unless --opening is given.
        #[arg(long, required_unless_present = "out_dir", conflicts_with = "out_dir")]
        out: Option<PathBuf>,
        /// Batch: prove every input of INPUT (a batched .npy, or a folder of .npy/.png/.jpg files) into this folder
        /// — NAME.proof.json and its private NAME.proof.json.opening.json per input, summary.json — under one
        /// weights commitment (its seed in --opening, default DIR/weights.opening.json). Resumable: inputs whose
        /// proof exists are skipped.
        #[arg(long, conflicts_with_all = ["index", "input_salt", "segment"])]
        out_dir: Option<PathBuf>,
        /// Batch: only these inputs (batch entries, or positions in the folder's name order), e.g. 0,3,5-9.
        #[arg(long, requires = "out_dir")]
        indices: Option<String>,
        /// Salt of the input commitment (0x-hex field element); random when not given.
        #[arg(long)]
        input_salt: Option<String>,
        /// Prove under this opening: read it when it exists (e.g. to keep the same weights commitment, or to prove
        /// segments in separate processes), create it otherwise.
        #[arg(long)]
        opening: Option<PathBuf>,
        /// Prove only segment I of the chain into a part file (needs --opening; join parts with `zkinfer bundle`).
        #[arg(long)]
        segment: Option<usize>,
        /// Skip the memory check.
        #[arg(long)]
        force: bool,
    },
    /// Check a proof file against the keys: the chain's links, then every segment with halo2-axiom's verifier and
    /// one final pairing; print its public values. PROOF may be a folder: every *.proof.json in it is checked.
    Verify {
        proof: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// Also require this weights commitment (the one the model's provider published).
        #[arg(long)]
        weights_commitment: Option<String>,
    },
    /// Join part files of one proof (`prove --segment i`) into the proof file.
    Bundle {
        parts: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Recompute a commitment: the weights of MODEL.onnx (with --keys and the opening's weights seed), or an input
    /// file's (with --model and its salt).
    Commit {
        target: PathBuf,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        keys: Option<PathBuf>,
        #[arg(long)]
        index: Option<usize>,
        /// Salt (0x-hex) of the input commitment (0 when neither this nor --opening is given), or the weights seed.
        #[arg(long)]
        salt: Option<String>,
        /// The PROOF.opening.json that `prove` wrote.
        #[arg(long)]
        opening: Option<PathBuf>,
    },
    /// The whole flow on the bundled digits model: dev setup, prove a held-out image (hidden weights), verify.
    Demo {
        /// Which held-out test image (0..359).
        #[arg(long, default_value_t = 0)]
        index: usize,
        #[arg(long, default_value = "auto")]
        engine: EngineKind,
        #[arg(long, value_enum, default_value_t = ProverArg(Prover::Zkinfer))]
        prover: ProverArg,
        /// Keep the model, keys and proof in this directory (a temporary one is used and removed otherwise).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Setup, prove and verify bundled configs with halo2-axiom's stock prover and zkinfer's prover on each engine,
    /// in one run: markdown table on stdout, JSON with --out (or --json). A model config is proved as a chain of
    /// segment proofs planned within --memory (as `setup`): one dev SRS, keygen once per distinct segment circuit
    /// (one proving key in memory at a time), every segment proved per prover and checked by the stock verifier, the
    /// whole chain verified with one pairing; times, rows and proof bytes are sums over the segments. A model is
    /// skipped only when a single layer does not fit the budget. --segments N forces a chain (e.g. digits in 3).
    Bench {
        /// Configs, comma-separated or repeated: digits, mobilenet-0.35-96, mobilenet-0.5-224, mobilenet-0.75-192,
        /// mobilenets, mobilenet-v3-small-style, efficientnet-lite-style, shufflenet-style, mobile-cnns, synthetic
        /// (k = 12..20), synthetic-K, all.
        #[arg(long, default_value = "digits")]
        config: Vec<String>,
        /// Provers to run (CUDA is reported as skipped when this build or machine has no working GPU).
        #[arg(long, value_enum, value_delimiter = ',', default_value = "stock,cpu,cuda")]
        provers: Vec<bench::Column>,
        /// What the model configs hide behind commitments.
        #[arg(long, default_value = "weights,input")]
        hide: String,
        /// Proofs per prover (the median is reported).
        #[arg(long, default_value_t = 1)]
        reps: usize,
        /// Write the full report as JSON to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run configs whose memory estimate (a synthetic circuit, or a model's largest segment) exceeds this
        /// machine's.
        #[arg(long)]
        force: bool,
        /// Seed of the dev SRS, the chain's salts and the provers' randomness.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        // How model configs are cut into segments (a synthetic config is always one circuit).
        #[command(flatten)]
        budget: BudgetArgs,
    },
    /// The verified-ML protocols: sample-size (and cost), audit (accuracy), serve / contest / answer / check
    /// (served predictions), retrieve (trustless retrieval).
    Protocol {
        #[command(subcommand)]
        cmd: protocol::ProtocolCommand,
    },
    /// A proof's segments or a batch's inputs as tasks on Slurm (array jobs), Kubernetes (Indexed Jobs) or local
    /// processes: plan, submit, run-task, status, resume, assemble.
    Cluster {
        #[command(subcommand)]
        cmd: cluster::ClusterCommand,
    },
    /// Show the proving engines this build and machine can use.
    Engines,
    /// Setup, prove and verify a byte dot-product circuit end to end (dev SRS), checked by the stock verifier.
    Selftest {
        #[arg(long, default_value = "auto")]
        engine: EngineKind,
        #[arg(long, value_enum, default_value_t = ProverArg(Prover::Zkinfer))]
        prover: ProverArg,
        /// Number of byte products in the circuit (k grows with it).
        #[arg(long, default_value_t = 30_000)]
        len: usize,
        /// Seed for the dev SRS, the witness and the prover's randomness.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

/// The memory budget a model's chain of segments is planned for.
#[derive(clap::Args, Clone, Copy, Debug)]
struct BudgetArgs {
    /// GiB each segment's setup and proving may use (default: 60% of this machine's memory).
    #[arg(long)]
    memory: Option<f64>,
    /// Largest k of a segment circuit.
    #[arg(long)]
    max_k: Option<u32>,
    /// Cut into at least this many segments (rows balanced), even when fewer fit.
    #[arg(long)]
    segments: Option<usize>,
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so `zkinfer inspect m.onnx | head` would panic on the closed pipe; end quietly as Unix
    // tools do. (Outputs are written atomically, so a killed process never leaves a half-written file.)
    // SAFETY: restoring a signal's default disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let level = if cli.quiet { "error" } else { ["warn", "info", "debug"][cli.verbose.min(2) as usize] };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    atomic::install_interrupt_cleanup();
    let ui = Ui { quiet: cli.quiet, json: cli.json };
    let result = run(cli.command, &ui);
    atomic::cleanup();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if ui.json {
                println!("{}", serde_json::json!({ "ok": false, "error": format!("{e:#}") }));
            }
            ExitCode::FAILURE
        }
    }
}

fn emit<T: Serialize>(ui: &Ui, report: &T, text: impl FnOnce(&T)) -> Result<()> {
    if ui.json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        text(report);
    }
    Ok(())
}

fn show_public(p: &proof_file::PublicValues, logits: Option<&[f32]>) {
    if let Some(c) = &p.weights_commitment {
        println!("  weights commitment: {c}");
    }
    if let Some(c) = &p.input_commitment {
        println!("  input commitment:   {c}");
    }
    if let Some(v) = &p.input {
        println!("  input (int8, {} values, public)", v.len());
    }
    if let Some(c) = &p.output_commitment {
        println!("  output commitment:  {c}");
    }
    // Long outputs (1000 ImageNet logits) are summarised as the top 5; --json always has every value.
    const SHOW: usize = 20;
    if let Some(v) = &p.output {
        if v.len() <= SHOW {
            println!("  output (int8 logits): {v:?}");
        } else {
            let mut idx: Vec<usize> = (0..v.len()).collect();
            idx.sort_by_key(|&i| (std::cmp::Reverse(v[i]), i));
            let top: Vec<String> = idx.iter().take(5).map(|&i| format!("{i}: {}", v[i])).collect();
            println!("  output: {} int8 logits, top 5 (class: logit): {}", v.len(), top.join(", "));
        }
    }
    if let Some(l) = logits.filter(|l| l.len() <= SHOW) {
        let l: Vec<String> = l.iter().map(|x| format!("{x:.3}")).collect();
        println!("  logits (dequantized): [{}]", l.join(", "));
    }
    if let Some(c) = p.predicted_class {
        println!("  predicted class: {c}");
    }
}

fn run(command: Command, ui: &Ui) -> Result<()> {
    match command {
        Command::Inspect { model, hide, budget, force } => {
            let b = setup::budget(budget.memory, budget.max_k, budget.segments)?;
            let r = inspect::run(&model, visibility::parse(&hide)?, &b, force, ui)?;
            if ui.json {
                println!("{}", serde_json::to_string(&r)?);
            }
            Ok(())
        }
        Command::Setup { model, srs, dev_srs, seed, out, hide, budget, force } => {
            let srs = match (srs, dev_srs) {
                (Some(p), false) => setup::SrsSource::File(p),
                (None, true) => setup::SrsSource::Dev(seed),
                _ => bail!("give exactly one of --srs PARAMS and --dev-srs"),
            };
            let args = setup::SetupArgs {
                model,
                srs,
                out,
                vis: visibility::parse(&hide)?,
                memory_gib: budget.memory,
                max_k: budget.max_k,
                segments: budget.segments,
                force,
            };
            let r = setup::run(&args, ui)?;
            emit(ui, &r, |r| {
                println!(
                    "keys written to {} ({} segment(s), {} distinct key(s), k ≤ {}, hide {}, pk {:.1} MB, vk {} bytes, SRS {}) in {:.1} s",
                    r.keys,
                    r.segments,
                    r.distinct_keys,
                    r.k,
                    r.hide,
                    r.pk_bytes as f64 / 1e6,
                    r.vk_bytes,
                    r.srs,
                    r.setup_s
                );
            })
        }
        Command::Prove { model, input, keys, hide, index, engine, prover, out, out_dir, indices, input_salt, opening, segment, force } => {
            let hide = hide.as_deref().map(visibility::parse).transpose()?;
            if let Some(out_dir) = out_dir {
                let indices = indices.as_deref().map(input::parse_indices).transpose()?;
                let args = prove::BatchArgs { model, input, indices, keys, hide, engine, prover: prover.0, out_dir, opening, force };
                let r = prove::run_batch(&args, ui)?;
                return emit(ui, &r, |r| {
                    println!(
                        "batch: {} proved, {} already proved, {} proof(s) in {} ({:.1} s proving{})",
                        r.proved,
                        r.existing,
                        r.items.len(),
                        args.out_dir.display(),
                        r.prove_s,
                        r.proofs_per_hour.map(|p| format!(", {p:.0} proofs/hour")).unwrap_or_default()
                    );
                });
            }
            let out = out.expect("clap requires --out without --out-dir");
            let args = prove::ProveArgs {
                model,
                input,
                index,
                keys,
                hide,
                engine,
                prover: prover.0,
                out,
                input_salt,
                opening,
                segment,
                force,
            };
            let r = prove::run(&args, ui)?;
            emit(ui, &r, |r| {
                let what = match segment {
                    Some(i) => format!("part file (segment {i} of {})", r.segments),
                    None => format!("{} segment proof(s)", r.segments),
                };
                println!(
                    "proof written to {} ({what}, {} proof bytes, {} prover on {}, {:.2} s)",
                    r.proof, r.proof_bytes, r.prover, r.engine, r.prove_s
                );
                if let Some(o) = &r.opening {
                    println!("opening (keep private; it opens the commitments): {o}");
                }
                show_public(&r.public, None);
            })
        }
        Command::Verify { proof, keys, weights_commitment } => {
            if proof.is_dir() {
                let r = verify::run_folder(&proof, &keys, weights_commitment.as_deref(), ui)?;
                emit(ui, &r, |r| {
                    for f in &r.files {
                        match &f.error {
                            None => println!(
                                "verified  {}{}{}",
                                f.proof,
                                f.public.as_ref().and_then(|p| p.predicted_class).map(|c| format!(" (class {c})")).unwrap_or_default(),
                                f.verify_ms.map(|ms| format!(" in {ms:.1} ms")).unwrap_or_default()
                            ),
                            Some(e) => println!("REJECTED  {}: {e}", f.proof),
                        }
                    }
                    let mut each: Vec<f64> = r.files.iter().filter_map(|f| f.verify_ms).collect();
                    each.sort_by(f64::total_cmp);
                    let median = each.get(each.len() / 2).map(|m| format!("; verification alone: median {m:.1} ms")).unwrap_or_default();
                    println!("{} verified, {} rejected ({:.1} ms with reading the files{median})", r.verified, r.rejected, r.verify_ms);
                })?;
                if r.rejected > 0 {
                    bail!("{} of {} proof file(s) in {} were rejected", r.rejected, r.files.len(), proof.display());
                }
                return Ok(());
            }
            let r = verify::run(&proof, &keys, weights_commitment.as_deref())?;
            emit(ui, &r, |r| {
                println!(
                    "verified: {} segment proof(s), links and commitments checked, {} pairing ({:.1} ms)",
                    r.segments, r.pairings, r.verify_ms
                );
                println!("  model {} (hide {})", r.model, r.hide);
                show_public(&r.public, r.logits.as_deref());
            })
        }
        Command::Bundle { parts, out } => {
            let r = bundle::run(&parts, &out)?;
            emit(ui, &r, |r| println!("joined {} part file(s) into {} ({} segments)", r.parts, r.proof, r.segments))
        }
        Command::Commit { target, model, keys, index, salt, opening } => {
            let r = commit::run(&target, model.as_deref(), keys.as_deref(), index, salt.as_deref(), opening.as_deref(), ui)?;
            emit(ui, &r, |r| println!("{} commitment: {}", r.kind, r.commitment))
        }
        Command::Demo { index, engine, prover, dir } => {
            let r = demo::run(&demo::DemoArgs { index, engine, prover: prover.0, dir }, ui)?;
            emit(ui, &r, |r| {
                println!(
                    "demo: held-out digit #{}: predicted class {}, true label {} ({})",
                    r.image_index,
                    r.predicted_class,
                    r.true_label,
                    if r.predicted_class as i64 == r.true_label { "correct" } else { "wrong" }
                );
                println!(
                    "  k = {}, setup {:.1} s, prove {:.1} s ({} prover, {} engine), verify {:.1} ms, proof {} bytes — verified",
                    r.k, r.setup_s, r.prove_s, r.prover, r.engine, r.verify_ms, r.proof_bytes
                );
            })
        }
        Command::Bench { config, provers, hide, reps, out, force, seed, budget } => {
            let args = bench::BenchArgs {
                configs: config,
                provers,
                hide: visibility::parse(&hide)?,
                reps,
                out,
                force,
                seed,
                memory_gib: budget.memory,
                max_k: budget.max_k,
                segments: budget.segments,
            };
            let r = bench::run(&args, ui)?;
            emit(ui, &r, |r| print!("{}", bench::markdown(r)))?;
            if r.failed() {
                bail!("a prover failed or produced a proof the stock verifier rejected (see the table)");
            }
            Ok(())
        }
        Command::Protocol { cmd } => protocol::run(cmd, ui),
        Command::Cluster { cmd } => cluster::run(cmd, ui),
        Command::Engines => selftest::engines(),
        Command::Selftest { engine, prover, len, seed } => selftest::selftest(engine, prover.0, len, seed, ui.json, ui.quiet),
    }
}
