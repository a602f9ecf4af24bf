//! `zkinfer bench`: for each config, one setup (dev SRS + halo2 keygen), then prove and verify with
//! (a) halo2-axiom's stock `create_proof`, (b) zkinfer's prover on the CPU engine and (c) zkinfer's prover on the
//! CUDA engine when one works here — all in ONE process, so the ratios are measured side by side. Reports setup s,
//! prove s, verify ms, proof bytes, peak RSS per phase, GPU memory and the ratios to stock, as a markdown table on
//! stdout and as JSON (`--out FILE`, or `--json`).
//!
//! A config whose estimated memory does not fit this machine is skipped with the reason before any heavy work. Every
//! proof is checked with the stock verifier; one that fails makes the command exit non-zero.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use halo2_proofs::plonk::{keygen_pk, keygen_vk, Circuit, ConstraintSystem, ProvingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::Serialize;
use zkinfer_testkit::DotProductCircuit;
use zkinfer_backend::stock_hook::{prove_stock, verify_stock, EngineParams};
use zkinfer_backend::{plonk, select_engine, Bn256, Engine, EngineKind, Fr, G1Affine};
use zkinfer_circuits::stats::{memory_estimate, stats_for_shape};
use zkinfer_circuits::{shape, ModelCircuit, Visibility};

use crate::atomic::{self, TempDir};
use crate::model_file::{self, gib};
use crate::ui::Ui;
use crate::{input, peak_memory, visibility};

/// A model config: ONNX file and a batch of inputs, both compiled into the binary so `bench` runs anywhere.
struct Fixture {
    name: &'static str,
    title: &'static str,
    onnx: &'static [u8],
    inputs: &'static [u8],
}

macro_rules! fixture {
    ($name:literal, $title:literal, $stem:literal, $inputs:literal) => {
        Fixture {
            name: $name,
            title: $title,
            onnx: include_bytes!(concat!("../../../model-import/fixtures/", $stem, ".onnx")),
            inputs: include_bytes!(concat!("../../../model-import/fixtures/", $inputs)),
        }
    };
}

const FIXTURES: [Fixture; 4] = [
    fixture!("digits", "digits CNN, 8x8 gray, 10 classes", "digits_int8", "digits_test_x.npy"),
    fixture!("mobilenet-0.35-96", "MobileNet v2 0.35, 96x96 RGB", "mobilenet_v2_0.35_96_int8", "mobilenet_v2_0.35_96_inputs.npy"),
    fixture!("mobilenet-0.5-224", "MobileNet v2 0.5, 224x224 RGB", "mobilenet_v2_0.5_224_int8", "mobilenet_v2_0.5_224_inputs.npy"),
    fixture!("mobilenet-0.75-192", "MobileNet v2 0.75, 192x192 RGB", "mobilenet_v2_0.75_192_int8", "mobilenet_v2_0.75_192_inputs.npy"),
];

/// The synthetic sweep: byte dot-product circuits filling 2^k rows.
const SYNTHETIC_K: std::ops::RangeInclusive<u32> = 12..=20;

/// The names `--config` accepts, for the help text and errors.
pub const CONFIG_HELP: &str = "digits, mobilenet-0.35-96, mobilenet-0.5-224, mobilenet-0.75-192, mobilenets (the \
three), synthetic (k = 12..20), synthetic-K (one k), all";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchProver {
    /// halo2-axiom's stock create_proof, untouched.
    Stock,
    /// zkinfer's prover on the CPU engine.
    Cpu,
    /// zkinfer's prover on the CUDA engine.
    Cuda,
}

impl BenchProver {
    fn label(self) -> &'static str {
        match self {
            BenchProver::Stock => "halo2-axiom stock",
            BenchProver::Cpu => "zkinfer, CPU engine",
            BenchProver::Cuda => "zkinfer, CUDA engine",
        }
    }
}

pub struct BenchArgs {
    pub configs: Vec<String>,
    pub provers: Vec<BenchProver>,
    pub hide: Visibility,
    /// Proofs per prover; the median time is reported.
    pub reps: usize,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub seed: u64,
}

#[derive(Serialize)]
pub struct Machine {
    pub cpu: String,
    pub threads: usize,
    pub memory_bytes: Option<u64>,
    /// What `--engine cuda` found: the device, or why there is none.
    pub cuda: String,
}

#[derive(Serialize)]
pub struct BenchReport {
    pub zkinfer_version: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
    pub command: String,
    pub machine: Machine,
    pub hide: String,
    pub reps: usize,
    pub configs: Vec<ConfigReport>,
}

#[derive(Serialize, Default)]
pub struct ConfigReport {
    pub config: String,
    pub description: String,
    pub k: Option<u32>,
    pub advice_columns: usize,
    pub fixed_columns: usize,
    pub lookups: usize,
    pub est_prove_bytes: u64,
    pub est_setup_bytes: u64,
    /// Set when the config did not run (memory estimate, or a setup failure).
    pub skipped: Option<String>,
    pub srs_s: Option<f64>,
    pub keygen_s: Option<f64>,
    pub setup_peak_rss: Option<u64>,
    pub runs: Vec<ProverRun>,
}

#[derive(Serialize)]
pub struct ProverRun {
    pub prover: BenchProver,
    pub label: String,
    pub engine: Option<String>,
    /// "ok", "skipped: …", "failed: …" or "rejected: …" (the stock verifier refused the proof).
    pub status: String,
    pub prove_s: Option<f64>,
    pub prove_s_each: Vec<f64>,
    /// Loading the SRS into the engine (bases resident), outside `prove_s`.
    pub load_bases_s: Option<f64>,
    pub verify_ms: Option<f64>,
    pub proof_bytes: Option<usize>,
    pub peak_rss: Option<u64>,
    pub gpu_memory: Option<u64>,
    /// prove_s / stock's prove_s (below 1: faster than stock).
    pub prove_vs_stock: Option<f64>,
    /// peak_rss / stock's peak_rss.
    pub rss_vs_stock: Option<f64>,
    /// zkinfer prover phases (name, s) of the last proof.
    pub phases: Vec<(String, f64)>,
}

impl ProverRun {
    fn new(p: BenchProver, status: String) -> Self {
        ProverRun {
            prover: p,
            label: p.label().into(),
            engine: None,
            status,
            prove_s: None,
            prove_s_each: Vec::new(),
            load_bases_s: None,
            verify_ms: None,
            proof_bytes: None,
            peak_rss: None,
            gpu_memory: None,
            prove_vs_stock: None,
            rss_vs_stock: None,
            phases: Vec::new(),
        }
    }
}

impl BenchReport {
    /// Whether any proof failed or was rejected (skips are not failures).
    pub fn failed(&self) -> bool {
        self.configs.iter().flat_map(|c| &c.runs).any(|r| r.status.starts_with("failed") || r.status.starts_with("rejected"))
    }
}

/// One circuit ready to benchmark.
struct Case<C> {
    /// Filled in as the case runs.
    report: ConfigReport,
    keygen_circuit: C,
    circuit: C,
    instances: Vec<Fr>,
}

enum Prepared<C> {
    Run(Case<C>),
    Skip(ConfigReport),
}

enum Planned {
    Model(&'static Fixture),
    Synthetic(u32),
}

fn parse_configs(names: &[String]) -> Result<Vec<Planned>> {
    let mut out = Vec::new();
    let fixture = |n: &str| FIXTURES.iter().find(|f| f.name == n);
    for name in names.iter().flat_map(|n| n.split(',')).map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "all" => {
                out.extend(FIXTURES.iter().map(Planned::Model));
                out.extend(SYNTHETIC_K.map(Planned::Synthetic));
            }
            "mobilenets" => out.extend(FIXTURES[1..].iter().map(Planned::Model)),
            "synthetic" => out.extend(SYNTHETIC_K.map(Planned::Synthetic)),
            n if fixture(n).is_some() => out.push(Planned::Model(fixture(n).expect("checked"))),
            n => match n.strip_prefix("synthetic-").map(str::parse::<u32>) {
                Some(Ok(k)) if (10..=24).contains(&k) => out.push(Planned::Synthetic(k)),
                Some(_) => bail!("config `{n}`: synthetic-K takes k in 10..=24"),
                None => bail!("unknown config `{n}` (expected {CONFIG_HELP})"),
            },
        }
    }
    if out.is_empty() {
        bail!("no config given (expected {CONFIG_HELP})");
    }
    Ok(out)
}

fn model_case(fx: &Fixture, vis: Visibility, seed: u64, force: bool, dir: &Path, ui: &Ui) -> Result<Prepared<ModelCircuit>> {
    let onnx = dir.join(format!("{}.onnx", fx.name));
    let inputs = dir.join(format!("{}_inputs.npy", fx.name));
    std::fs::write(&onnx, fx.onnx)?;
    std::fs::write(&inputs, fx.inputs)?;
    let m = model_file::load(&onnx)?;
    let shape = shape::plan(&m.model, &vis)?;
    let stats = stats_for_shape(&m.model, &vis, shape.clone());
    let mut cs = ConstraintSystem::default();
    let _ = zkinfer_circuits::config::ModelConfig::configure(&mut cs, shape.clone());
    let description = format!("{}, hide {}, {} rows used", fx.title, visibility::format(&vis), stats.rows);
    // Checked before the reference run and the witness, which are heavy for the big models.
    let mut report = ConfigReport::new(fx.name, &description, stats.k, &cs);
    if let Some(why) = memory_skip(&report, force) {
        report.skipped = Some(why);
        return Ok(Prepared::Skip(report));
    }
    let inp = input::load(&inputs, &m.model, Some(0), ui)?;
    let zero = vec![0i32; inp.values.len()];
    let keygen_circuit = ModelCircuit::with_shape(m.model.clone(), zero, vis, shape.clone())?;
    let mut circuit = ModelCircuit::with_shape(m.model.clone(), inp.values, vis, shape.clone())?;
    // Fixed salts: a benchmark needs no secrecy, and fixed values make runs comparable.
    circuit.input_salt = Fr::from(seed.wrapping_add(1));
    circuit.output_salt = Fr::from(seed.wrapping_add(2));
    let (instances, _) = circuit.instances_and_output()?;
    Ok(Prepared::Run(Case { report, keygen_circuit, circuit, instances }))
}

fn synthetic_case(k: u32, seed: u64, force: bool) -> Prepared<DotProductCircuit> {
    // The longest dot product that still fits 2^k rows (min_k is monotone in the length).
    let len = (1usize << k) - 11;
    debug_assert_eq!(DotProductCircuit::min_k(len), k);
    let circuit = DotProductCircuit::random(len, &mut ChaCha20Rng::seed_from_u64(seed ^ k as u64));
    let mut cs = ConstraintSystem::default();
    let _ = DotProductCircuit::configure(&mut cs);
    let mut report =
        ConfigReport::new(&format!("synthetic-{k}"), &format!("byte dot product of {len} pairs with a range lookup"), k, &cs);
    if let Some(why) = memory_skip(&report, force) {
        report.skipped = Some(why);
        return Prepared::Skip(report);
    }
    Prepared::Run(Case { report, keygen_circuit: circuit.without_witnesses(), instances: vec![circuit.output()], circuit })
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// The engines for zkinfer's provers, made once (CUDA initialisation and kernel compilation happen here).
struct Engines {
    cpu: Result<Arc<dyn Engine>, String>,
    cuda: Result<Arc<dyn Engine>, String>,
}

impl Engines {
    fn get(&self, p: BenchProver) -> Option<&Result<Arc<dyn Engine>, String>> {
        match p {
            BenchProver::Stock => None,
            BenchProver::Cpu => Some(&self.cpu),
            BenchProver::Cuda => Some(&self.cuda),
        }
    }
}

impl ConfigReport {
    fn new(config: &str, description: &str, k: u32, cs: &ConstraintSystem<Fr>) -> Self {
        let (est_prove_bytes, est_setup_bytes) = memory_estimate(cs, k);
        ConfigReport {
            config: config.into(),
            description: description.into(),
            k: Some(k),
            advice_columns: cs.num_advice_columns(),
            fixed_columns: cs.num_fixed_columns(),
            lookups: cs.lookups().len(),
            est_prove_bytes,
            est_setup_bytes,
            ..ConfigReport::default()
        }
    }
}

/// Why a config must be skipped on this machine (its memory estimate does not fit), unless `force`.
fn memory_skip(r: &ConfigReport, force: bool) -> Option<String> {
    let have = model_file::machine_memory()?;
    (r.est_prove_bytes.max(r.est_setup_bytes) > have && !force).then(|| {
        format!(
            "estimated peak memory {:.1} GiB (prove; setup {:.1} GiB) exceeds this machine's {:.1} GiB",
            gib(r.est_prove_bytes),
            gib(r.est_setup_bytes),
            gib(have)
        )
    })
}

/// Runs a case whose memory estimate was checked when it was prepared.
fn run_case<C: Circuit<Fr> + Clone>(case: Case<C>, args: &BenchArgs, engines: &Engines, ui: &Ui) -> ConfigReport {
    let mut report = case.report;
    let name = report.config.clone();
    let k = report.k.unwrap_or_default();
    ui.say(format!(
        "{name}: {} (k = {k}, {} advice + {} fixed columns, {} lookups; est. prove memory {:.1} GiB)",
        report.description,
        report.advice_columns,
        report.fixed_columns,
        report.lookups,
        gib(report.est_prove_bytes)
    ));
    let setup = (|| -> Result<(ParamsKZG<Bn256>, ProvingKey<G1Affine>)> {
        peak_memory::reset();
        let stage = ui.stage(&format!("{}: dev SRS (k = {k})", name), 0);
        let params = ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::seed_from_u64(args.seed));
        report.srs_s = Some(stage.finish());
        let stage = ui.stage(&format!("{}: keygen", name), 0);
        let vk = keygen_vk(&params, &case.keygen_circuit).map_err(|e| anyhow::anyhow!("keygen_vk: {e:?}"))?;
        let pk = keygen_pk(&params, vk, &case.keygen_circuit).map_err(|e| anyhow::anyhow!("keygen_pk: {e:?}"))?;
        report.keygen_s = Some(stage.finish());
        report.setup_peak_rss = peak_memory::peak();
        Ok((params, pk))
    })();
    let (params, pk) = match setup {
        Ok(x) => x,
        Err(e) => {
            report.skipped = Some(format!("setup failed: {e:#}"));
            return report;
        }
    };
    let instances: &[&[Fr]] = &[&case.instances];
    for &p in &args.provers {
        let mut run = match engines.get(p) {
            Some(Err(why)) => {
                report.runs.push(ProverRun::new(p, format!("skipped: {why}")));
                continue;
            }
            _ => ProverRun::new(p, "ok".into()),
        };
        let engine = engines.get(p).and_then(|e| e.as_ref().ok()).cloned();
        run.engine = Some(engine.as_ref().map_or_else(|| "halo2-axiom's own MSM/FFT (CPU)".to_string(), |e| e.describe()));
        peak_memory::reset();
        if let Some(e) = &engine {
            e.reset_device_memory_peak();
        }
        let result = (|| -> Result<Vec<u8>> {
            let eparams = match &engine {
                Some(e) => {
                    let t = Instant::now();
                    let ep = EngineParams::new(params.clone(), e.clone()).context("loading the SRS into the engine")?;
                    run.load_bases_s = Some(t.elapsed().as_secs_f64());
                    Some(ep)
                }
                None => None,
            };
            let mut proof = Vec::new();
            for rep in 0..args.reps {
                let mut rng = ChaCha20Rng::seed_from_u64(args.seed.wrapping_add(100 + rep as u64));
                let name = format!("{}: prove ({}){}", name, p.label(), rep_suffix(rep, args.reps));
                let t = Instant::now();
                proof = match &eparams {
                    None => {
                        let stage = ui.stage(&name, 0);
                        let proof = prove_stock(&params, &pk, case.circuit.clone(), instances, &mut rng)
                            .map_err(|e| anyhow::anyhow!("stock create_proof: {e:?}"))?;
                        stage.finish();
                        proof
                    }
                    Some(ep) => {
                        let stage = ui.stage(&name, plonk::PHASES.len() as u64);
                        stage.message(plonk::PHASES[0]);
                        let mut i = 0;
                        let (proof, stats) =
                            plonk::prove_blake2b_observed(ep, &pk, &case.circuit, instances, &mut rng, &mut |done| {
                                i += 1;
                                stage.step(done, plonk::PHASES.get(i).copied().unwrap_or(""));
                            })
                            .context("zkinfer prover")?;
                        stage.finish();
                        run.phases = stats.phases.iter().map(|(n, d)| (n.to_string(), d.as_secs_f64())).collect();
                        proof
                    }
                };
                run.prove_s_each.push(t.elapsed().as_secs_f64());
            }
            run.gpu_memory = engine.as_ref().and_then(|e| e.device_memory_peak());
            Ok(proof)
        })();
        run.peak_rss = peak_memory::peak();
        match result {
            Err(e) => run.status = format!("failed: {e:#}"),
            Ok(proof) => {
                run.prove_s = Some(median(&run.prove_s_each));
                run.proof_bytes = Some(proof.len());
                let stage = ui.stage(&format!("{}: verify ({})", name, p.label()), 0);
                let mut times = Vec::new();
                for _ in 0..5 {
                    let t = Instant::now();
                    if let Err(e) = verify_stock(&params, pk.get_vk(), instances, &proof) {
                        run.status = format!("rejected: the stock verifier refused the proof: {e:?}");
                        break;
                    }
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                }
                stage.finish();
                if !times.is_empty() && run.status == "ok" {
                    run.verify_ms = Some(median(&times));
                }
            }
        }
        if run.status != "ok" {
            ui.warn(format!("{}: {}: {}", name, p.label(), run.status));
        }
        report.runs.push(run);
    }
    // Ratios to the stock prover of the same config, same process.
    let stock = report.runs.iter().find(|r| r.prover == BenchProver::Stock && r.status == "ok").map(|r| (r.prove_s, r.peak_rss));
    if let Some((Some(stock_s), stock_rss)) = stock {
        for r in report.runs.iter_mut().filter(|r| r.status == "ok") {
            r.prove_vs_stock = r.prove_s.map(|s| s / stock_s);
            r.rss_vs_stock = match (r.peak_rss, stock_rss) {
                (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
                _ => None,
            };
        }
    }
    report
}

fn rep_suffix(rep: usize, reps: usize) -> String {
    if reps > 1 {
        format!(" {}/{}", rep + 1, reps)
    } else {
        String::new()
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

pub fn run(args: &BenchArgs, ui: &Ui) -> Result<BenchReport> {
    if args.reps == 0 {
        bail!("--reps must be at least 1");
    }
    if args.provers.is_empty() {
        bail!("--provers lists no prover (expected stock, cpu, cuda)");
    }
    let planned = parse_configs(&args.configs)?;
    if let Some(out) = &args.out {
        if out.is_dir() {
            bail!("--out {} is a directory; give the JSON file's path", out.display());
        }
    }
    let started_unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let want = |p| args.provers.contains(&p);
    let engines = Engines {
        cpu: if want(BenchProver::Cpu) { select_engine(EngineKind::Cpu).map_err(|e| e.to_string()) } else { Err("not requested".into()) },
        cuda: if want(BenchProver::Cuda) {
            select_engine(EngineKind::Cuda).map_err(|e| e.to_string())
        } else {
            Err("not requested".into())
        },
    };
    let machine = Machine {
        cpu: cpu_model(),
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
            Planned::Model(fx) => match model_case(fx, args.hide, args.seed, args.force, &dir.0, ui) {
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
        configs,
    };
    if let Some(out) = &args.out {
        atomic::write(out, format!("{}\n", serde_json::to_string_pretty(&report)?).as_bytes())?;
        ui.say(format!("JSON written to {}", out.display()));
    }
    Ok(report)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "—".into(), |x| format!("{x:.digits$}"))
}

/// The report as a markdown table (one row per config and prover) with a legend.
pub fn markdown(r: &BenchReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "zkinfer bench — {} ({} threads, {:.1} GiB); CUDA: {}; hide {}; median of {} proof(s) per prover\n\n",
        r.machine.cpu,
        r.machine.threads,
        gib(r.machine.memory_bytes.unwrap_or(0)),
        r.machine.cuda,
        r.hide,
        r.reps
    ));
    s.push_str("| config | k | setup s (SRS + keygen) | prover | prove s | vs stock | verify ms | proof bytes | peak RSS GiB | GPU mem GiB |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for c in &r.configs {
        let k = c.k.map_or_else(|| "—".into(), |k| k.to_string());
        if let Some(why) = &c.skipped {
            s.push_str(&format!("| {} | {k} | — | skipped: {why} | | | | | | |\n", c.config));
            continue;
        }
        let setup = match (c.srs_s, c.keygen_s) {
            (Some(a), Some(b)) => format!("{:.1} ({a:.1} + {b:.1})", a + b),
            _ => "—".into(),
        };
        for (i, run) in c.runs.iter().enumerate() {
            let (cfg, k, setup) = if i == 0 { (c.config.as_str(), k.as_str(), setup.as_str()) } else { ("", "", "") };
            if run.status != "ok" {
                // The CUDA reason is in the header line already.
                let status = if run.prover == BenchProver::Cuda && run.status.starts_with("skipped") {
                    "skipped (no CUDA engine, see above)"
                } else {
                    run.status.as_str()
                };
                s.push_str(&format!("| {cfg} | {k} | {setup} | {}: {status} | | | | | | |\n", run.label));
                continue;
            }
            s.push_str(&format!(
                "| {cfg} | {k} | {setup} | {} | {} | {} | {} | {} | {} | {} |\n",
                run.label,
                opt(run.prove_s, 2),
                run.prove_vs_stock.map_or_else(|| "—".into(), |x| format!("{x:.2}×")),
                opt(run.verify_ms, 1),
                run.proof_bytes.map_or_else(|| "—".into(), |b| b.to_string()),
                opt(run.peak_rss.map(gib), 2),
                opt(run.gpu_memory.map(gib), 2),
            ));
        }
    }
    s.push_str(
        "\nsetup: one dev SRS + halo2 keygen per config, shared by all provers. prove: wall time of create_proof \
         (SRS already loaded into the engine). vs stock: prove time / halo2-axiom stock's (below 1 = faster). \
         verify: median of 5 runs of the stock verifier. peak RSS: high-water mark of the process during that \
         prover's proofs (includes the resident proving key).\n",
    );
    s
}
