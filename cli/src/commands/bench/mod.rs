//! `zkinfer bench`: for each config, one setup (dev SRS + keygen, as `setup` runs them), then prove and verify with
//! (a) halo2-axiom's stock `create_proof`, (b) zkinfer's prover on the CPU engine and (c) zkinfer's prover on the
//! CUDA engine when one works here — all in ONE process, so the ratios are measured side by side. Reports setup s,
//! prove s, verify ms, proof bytes, peak RSS per phase, GPU memory and the ratios to stock, as a markdown table on
//! stdout and as JSON (`--out FILE`, or `--json`).
//!
//! A model config is a chain of segment circuits planned within the memory budget (`--memory`, default 60% of this
//! machine's, as `setup`; `--segments N` forces at least N) — one code path: a model that fits one circuit is a
//! chain of one, and so is a synthetic config. Per config: one dev SRS at the largest k, then per distinct segment
//! circuit its keygen and every column's proofs of the segments sharing that key before the key is dropped (one
//! proving key in memory at a time); finally per column the whole chain verified with one pairing.
//!
//! A model with a layer that alone does not fit the budget, or a circuit (largest segment) whose estimated memory
//! does not fit this machine, is skipped with the reason before any heavy work. Every proof is checked with the
//! stock verifier, every chain with `verify_bundle`; one that fails makes the command exit non-zero.
//!
//! [`fixtures`]: the configs and their circuits; [`runner`]: setup, prove and verify per column; [`report`]: JSON
//! and markdown.

mod fixtures;
mod report;
mod runner;

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::builder::PossibleValue;
use serde::Serialize;
use zkinfer_backend::provers::Prover;
use zkinfer_backend::{select_engine, EngineKind};
use zkinfer_circuits::Visibility;

use crate::atomic::{self, TempDir};
use crate::commands::setup;
use crate::model_file::{self, gib};
use crate::ui::Ui;
use crate::visibility;
use fixtures::{model_case, parse_configs, synthetic_case, Planned, Prepared};
pub use report::{markdown, BenchReport};
use report::{ConfigReport, Machine};
use runner::{run_case, Engines};

/// One column of the table: a prover on an engine, or on none (halo2-axiom's own MSM/FFT, the baseline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    prover: Prover,
    engine: Option<EngineKind>,
}

/// Every column `--provers` can name: the column, its name (also the JSON `prover` field), its table label, its help.
const COLUMNS: [(Column, &str, &str, &str); 3] = [
    (Column::STOCK, "stock", "halo2-axiom stock", "halo2-axiom's stock create_proof, untouched"),
    (Column::CPU, "cpu", "zkinfer, CPU engine", "zkinfer's prover on the CPU engine"),
    (Column::CUDA, "cuda", "zkinfer, CUDA engine", "zkinfer's prover on the CUDA engine"),
];

impl Column {
    pub const STOCK: Column = Column { prover: Prover::Stock, engine: None };
    pub const CPU: Column = Column { prover: Prover::Zkinfer, engine: Some(EngineKind::Cpu) };
    pub const CUDA: Column = Column { prover: Prover::Zkinfer, engine: Some(EngineKind::Cuda) };

    pub fn prover(self) -> Prover {
        self.prover
    }

    pub fn engine(self) -> Option<EngineKind> {
        self.engine
    }

    fn entry(self) -> &'static (Column, &'static str, &'static str, &'static str) {
        COLUMNS.iter().find(|c| c.0 == self).expect("columns are made only from COLUMNS")
    }

    pub fn name(self) -> &'static str {
        self.entry().1
    }

    pub fn label(self) -> &'static str {
        self.entry().2
    }
}

impl clap::ValueEnum for Column {
    fn value_variants<'a>() -> &'a [Self] {
        &[Column::STOCK, Column::CPU, Column::CUDA]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let (_, name, _, help) = self.entry();
        Some(PossibleValue::new(*name).help(*help))
    }
}

impl Serialize for Column {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

pub struct BenchArgs {
    pub configs: Vec<String>,
    pub provers: Vec<Column>,
    pub hide: Visibility,
    /// Proofs per prover; the median time is reported.
    pub reps: usize,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub seed: u64,
    /// GiB each model segment's setup and proving may use (default: 60% of this machine's memory, as `setup`).
    pub memory_gib: Option<f64>,
    /// Largest k of a model segment.
    pub max_k: Option<u32>,
    /// Cut every model into at least this many segments.
    pub segments: Option<usize>,
}

pub fn run(args: &BenchArgs, ui: &Ui) -> Result<BenchReport> {
    if args.reps == 0 {
        bail!("--reps must be at least 1");
    }
    if args.provers.is_empty() {
        bail!("--provers lists no prover (expected stock, cpu, cuda)");
    }
    let planned = parse_configs(&args.configs)?;
    let budget = setup::budget(args.memory_gib, args.max_k, args.segments)?;
    if let Some(out) = &args.out {
        if out.is_dir() {
            bail!("--out {} is a directory; give the JSON file's path", out.display());
        }
    }
    let started_unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // Only the engines some column runs on are made: CUDA initialisation compiles kernels.
    let engine = |kind: EngineKind| {
        if args.provers.iter().any(|c| c.engine() == Some(kind)) {
            select_engine(kind).map_err(|e| e.to_string())
        } else {
            Err("not requested".into())
        }
    };
    let engines = Engines { cpu: engine(EngineKind::Cpu), cuda: engine(EngineKind::Cuda) };
    let machine = Machine {
        cpu: report::cpu_model(),
        threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        memory_bytes: model_file::machine_memory(),
        cuda: match &engines.cuda {
            Ok(e) => e.describe(),
            Err(why) => format!("unavailable: {why}"),
        },
    };
    ui.say(format!(
        "bench: {} ({} threads, {:.1} GiB); CUDA: {}",
        machine.cpu,
        machine.threads,
        gib(machine.memory_bytes.unwrap_or(0)),
        machine.cuda
    ));
    let dir = TempDir::new("bench")?;
    let mut configs = Vec::new();
    for plan in planned {
        let report = match plan {
            Planned::Model(fx) => match model_case(fx, args.hide, &budget, args.seed, args.force, &dir.0, ui) {
                Ok(Prepared::Run(case)) => run_case(case, args, &engines, ui),
                Ok(Prepared::Skip(report)) => report,
                Err(e) => ConfigReport {
                    config: fx.name.into(),
                    description: fx.title.into(),
                    skipped: Some(format!("could not build the circuit: {e:#}")),
                    ..ConfigReport::default()
                },
            },
            Planned::Synthetic(k) => match synthetic_case(k, args.seed, args.force) {
                Prepared::Run(case) => run_case(case, args, &engines, ui),
                Prepared::Skip(report) => report,
            },
        };
        if let Some(why) = &report.skipped {
            ui.warn(format!("{}: skipped: {why}", report.config));
        }
        configs.push(report);
    }
    let report = BenchReport {
        zkinfer_version: env!("CARGO_PKG_VERSION").into(),
        started_unix,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine,
        hide: visibility::format(&args.hide),
        reps: args.reps,
        memory_budget_bytes: budget.memory,
        max_k: budget.max_k,
        min_segments: budget.min_segments,
        configs,
    };
    if let Some(out) = &args.out {
        atomic::write(out, format!("{}\n", serde_json::to_string_pretty(&report)?).as_bytes())?;
        ui.say(format!("JSON written to {}", out.display()));
    }
    Ok(report)
}
