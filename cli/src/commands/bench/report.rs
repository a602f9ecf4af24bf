//! What `zkinfer bench` reports: the JSON document (`--out FILE` or `--json`; its field names are a stable
//! interface) and the same numbers as a markdown table with a legend.

use halo2_proofs::plonk::ConstraintSystem;
use serde::Serialize;
use zkinfer_backend::Fr;
use zkinfer_circuits::stats::memory_estimate;

use super::Column;
use crate::model_file::gib;

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
    pub prover: Column,
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
    pub fn new(column: Column, status: String) -> Self {
        ProverRun {
            prover: column,
            label: column.label().into(),
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

impl ConfigReport {
    pub fn new(config: &str, description: &str, k: u32, cs: &ConstraintSystem<Fr>) -> Self {
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

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
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
                let status = if run.prover == Column::CUDA && run.status.starts_with("skipped") {
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
