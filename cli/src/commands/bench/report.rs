//! What `zkinfer bench` reports: the JSON document (`--out FILE` or `--json`; its field names are a stable
//! interface, fields are only added) and the same numbers as a markdown table with a legend. A config is a chain of
//! segment circuits (a synthetic config, or a model that fits one circuit, is a chain of one): its times, proof
//! bytes and rows are sums over the segments, its verify time that of the whole chain with one pairing.

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
    /// The memory budget each model segment's setup and proving was planned for (`--memory`), bytes.
    pub memory_budget_bytes: u64,
    /// Largest k of a model segment (`--max-k`).
    pub max_k: u32,
    /// Model configs are cut into at least this many segments (`--segments`).
    pub min_segments: usize,
    pub configs: Vec<ConfigReport>,
}

#[derive(Serialize, Default)]
pub struct ConfigReport {
    pub config: String,
    pub description: String,
    /// Largest k over the segments (the dev SRS's k).
    pub k: Option<u32>,
    /// Segment circuits in the chain (0 when the config was skipped before planning one).
    pub segments: usize,
    /// Distinct segment circuits: one keygen and one key each.
    pub distinct_keys: usize,
    /// Each segment's k, in chain order.
    pub segment_k: Vec<u32>,
    /// Rows used, summed over the segments.
    pub rows: Option<usize>,
    /// The largest over the segments (columns and lookups can differ per segment circuit).
    pub advice_columns: usize,
    pub fixed_columns: usize,
    pub lookups: usize,
    /// Estimated peak memory of the largest segment's proving and setup.
    pub est_prove_bytes: u64,
    pub est_setup_bytes: u64,
    /// Set when the config did not run (a layer that alone does not fit the budget, a memory estimate above this
    /// machine's, or a setup failure).
    pub skipped: Option<String>,
    /// The dev SRS at the largest k, and its cuts to every other key's k.
    pub srs_s: Option<f64>,
    /// Every keygen together (one per distinct segment circuit).
    pub keygen_s: Option<f64>,
    /// srs_s + keygen_s.
    pub setup_s: Option<f64>,
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
    /// Median over the reps of the chain's prove time (the sum over its segments).
    pub prove_s: Option<f64>,
    /// Per rep, the chain's prove time (sum over the segments).
    pub prove_s_each: Vec<f64>,
    /// Per segment (chain order), the median over the reps of its prove time.
    pub segment_prove_s: Vec<f64>,
    /// Loading the SRS into the engine (bases resident), once per key, summed; outside `prove_s`.
    pub load_bases_s: Option<f64>,
    /// Verifying the whole chain (every segment proof, one final pairing: `verify_bundle`), median of 5 runs.
    /// Each proof was also checked alone by the stock verifier right after it was made.
    pub verify_ms: Option<f64>,
    /// Final pairings of the chain's verification (1).
    pub pairings: Option<usize>,
    /// Sum over the segment proofs.
    pub proof_bytes: Option<usize>,
    /// High-water mark of resident memory while this prover proved (max over the keys; one segment's proving key
    /// resident at a time).
    pub peak_rss: Option<u64>,
    pub gpu_memory: Option<u64>,
    /// prove_s / stock's prove_s (below 1: faster than stock).
    pub prove_vs_stock: Option<f64>,
    /// peak_rss / stock's peak_rss.
    pub rss_vs_stock: Option<f64>,
    /// zkinfer prover phases (name, s) of the last rep, summed over the segments.
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
            segment_prove_s: Vec::new(),
            load_bases_s: None,
            verify_ms: None,
            pairings: None,
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
    /// A config of one circuit (a chain of one segment) of `rows` rows in 2^k.
    pub fn new(config: &str, description: &str, k: u32, rows: usize, cs: &ConstraintSystem<Fr>) -> Self {
        let (est_prove_bytes, est_setup_bytes) = memory_estimate(cs, k);
        ConfigReport {
            config: config.into(),
            description: description.into(),
            k: Some(k),
            segments: 1,
            distinct_keys: 1,
            segment_k: vec![k],
            rows: Some(rows),
            advice_columns: cs.num_advice_columns(),
            fixed_columns: cs.num_fixed_columns(),
            lookups: cs.lookups().len(),
            est_prove_bytes,
            est_setup_bytes,
            ..ConfigReport::default()
        }
    }

    /// The k column: one k, or the range over the segments.
    fn k_text(&self) -> String {
        let (lo, hi) = (self.segment_k.iter().min(), self.segment_k.iter().max());
        match (lo, hi, self.k) {
            (Some(lo), Some(hi), _) if lo != hi => format!("{lo}–{hi}"),
            (_, _, Some(k)) => k.to_string(),
            _ => "—".into(),
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
    s.push_str(
        "| config | k | segments (keys) | rows | setup s (SRS + keygens) | prover | prove s | vs stock | verify ms | \
         proof bytes | peak RSS GiB | GPU mem GiB |\n",
    );
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for c in &r.configs {
        let k = c.k_text();
        let segments = if c.segments > 0 { format!("{} ({})", c.segments, c.distinct_keys) } else { "—".into() };
        let rows = c.rows.map_or_else(|| "—".into(), |r| r.to_string());
        if let Some(why) = &c.skipped {
            s.push_str(&format!("| {} | {k} | {segments} | {rows} | — | skipped: {why} | | | | | | |\n", c.config));
            continue;
        }
        let setup = match (c.srs_s, c.keygen_s) {
            (Some(a), Some(b)) => format!("{:.1} ({a:.1} + {b:.1})", a + b),
            _ => "—".into(),
        };
        for (i, run) in c.runs.iter().enumerate() {
            let first = [c.config.as_str(), k.as_str(), segments.as_str(), rows.as_str(), setup.as_str()];
            let [cfg, k, segments, rows, setup] = if i == 0 { first } else { [""; 5] };
            let lead = format!("| {cfg} | {k} | {segments} | {rows} | {setup} |");
            if run.status != "ok" {
                // The CUDA reason is in the header line already.
                let status = if run.prover == Column::CUDA && run.status.starts_with("skipped") {
                    "skipped (no CUDA engine, see above)"
                } else {
                    run.status.as_str()
                };
                s.push_str(&format!("{lead} {}: {status} | | | | | | |\n", run.label));
                continue;
            }
            s.push_str(&format!(
                "{lead} {} | {} | {} | {} | {} | {} | {} |\n",
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
    s.push_str(&format!(
        "\nEach config is a chain of segment circuits (a model is cut within {} per segment, k ≤ {}{}; a synthetic \
         config is one circuit). k: the segments' k. segments (keys): segment proofs in the \
         chain (distinct circuits, one key each). rows: used rows, summed over the segments. setup: one dev SRS at \
         the largest k (cut to each key's k) + zkinfer's keygen on the CPU engine (the same keys as \
         halo2-axiom's) once per distinct circuit, shared by all provers. prove: wall time of create_proof summed over the segments (SRS already loaded into the engine; median \
         over the reps). vs stock: prove time / halo2-axiom stock's (below 1 = faster). verify: the whole chain \
         (every segment proof, ONE final pairing), median of 5 runs; every proof is also checked alone by the stock \
         verifier. proof bytes: summed over the segments. peak RSS: high-water mark of the process during that \
         prover's proofs (includes the resident proving key; one segment's key at a time).\n",
        if r.memory_budget_bytes == u64::MAX {
            "no memory budget".to_string()
        } else {
            format!("a {:.1} GiB memory budget", gib(r.memory_budget_bytes))
        },
        r.max_k,
        if r.min_segments > 1 { format!(", at least {} segments", r.min_segments) } else { String::new() },
    ));
    s
}
