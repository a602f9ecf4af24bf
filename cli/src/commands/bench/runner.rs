//! Running one bench config, a chain of segment circuits (one segment for a synthetic config or a model that fits
//! one circuit): one dev SRS at the largest k, cut to every key's k; then per distinct segment circuit its keygen
//! and, per column, the SRS loaded into the column's engine and `--reps` proofs of every segment with that key, each
//! checked by the stock verifier — before the key is dropped, so only one proving key is ever in memory. Finally
//! each column's whole chain is verified with one pairing (`verify_bundle`, five runs), and each column's ratios to
//! the stock prover's, measured in the same process.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use halo2_proofs::plonk::{Circuit, ProvingKey, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::bundle::{verify_bundle, BundleItem};
use zkinfer_backend::params::{self, EngineParams};
use zkinfer_backend::plonk::keygen;
use zkinfer_backend::provers::{Prover, ProverParams};
use zkinfer_backend::stock::verify_stock;
use zkinfer_backend::{Bn256, Engine, EngineKind, Fr, G1Affine};

use super::fixtures::{Case, KeyCase};
use super::report::{ConfigReport, ProverRun};
use super::{BenchArgs, Column};
use crate::model_file::gib;
use crate::peak_memory;
use crate::prover::{phase_seconds, prove_staged};
use crate::ui::Ui;

/// The engines for zkinfer's provers, made once (CUDA initialisation and kernel compilation happen here).
pub struct Engines {
    pub cpu: Result<Arc<dyn Engine>, String>,
    pub cuda: Result<Arc<dyn Engine>, String>,
}

impl Engines {
    /// The engine a column runs on; None for the stock baseline (halo2-axiom's own MSM/FFT).
    fn get(&self, column: Column) -> Option<&Result<Arc<dyn Engine>, String>> {
        match column.engine()? {
            EngineKind::Cuda => Some(&self.cuda),
            EngineKind::Cpu | EngineKind::Auto => Some(&self.cpu),
        }
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

fn rep_suffix(rep: usize, reps: usize) -> String {
    if reps > 1 {
        format!(" {}/{}", rep + 1, reps)
    } else {
        String::new()
    }
}

fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a.max(b)
}

/// One column's progress through the chain.
struct ColumnState {
    column: Column,
    run: ProverRun,
    engine: Option<Arc<dyn Engine>>,
    /// Per segment (chain order): the proof of the last rep, and the median prove time.
    proofs: Vec<Vec<u8>>,
    segment_s: Vec<f64>,
}

/// The dev SRS at every k of `ks`, all with the same secret (the seeded rng's first draw) — generated per k rather
/// than cut down: `downsize` recomputes the Lagrange points with an FFT over G1, minutes per k.
fn srs_cuts(ks: &[u32], seed: u64) -> BTreeMap<u32, ParamsKZG<Bn256>> {
    ks.iter().map(|&k| (k, params::dev_srs(k, ChaCha20Rng::seed_from_u64(seed)))).collect()
}

/// One key as `setup` makes it: zkinfer's keygen on the CPU engine (the SRS loaded into it is part of the keygen's
/// time), or halo2-axiom's own where no CPU engine is at hand; the keys are the same.
fn make_key<C: Circuit<Fr>>(
    params: &ParamsKZG<Bn256>,
    cpu: Option<&Arc<dyn Engine>>,
    circuit: &C,
) -> anyhow::Result<ProvingKey<G1Affine>> {
    match cpu {
        Some(engine) => {
            let ep = EngineParams::new(params.clone(), engine.clone()).context("loading the SRS into the CPU engine")?;
            Ok(keygen::keygen(&ep, circuit, false, &mut |_| {})?)
        }
        None => Ok(params::keygen(params, circuit, &mut |_| {})?),
    }
}

/// Runs a case whose memory estimate was checked when it was prepared.
pub fn run_case<C: Circuit<Fr> + Clone>(case: Case<C>, args: &BenchArgs, engines: &Engines, ui: &Ui) -> ConfigReport {
    let n = case.segments();
    let mut report = case.report;
    let name = report.config.clone();
    let nkeys = case.keys.len();
    let srs_k = case.keys.iter().map(|k| k.k).max().unwrap_or_default();
    ui.say(format!(
        "{name}: {} (k = {}, {} segment(s), {} distinct circuit(s); up to {} advice + {} fixed columns, {} lookups; \
         est. prove memory {:.1} GiB per segment)",
        report.description,
        report.segment_k.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
        n,
        nkeys,
        report.advice_columns,
        report.fixed_columns,
        report.lookups,
        gib(report.est_prove_bytes)
    ));
    peak_memory::reset();
    let stage = ui.stage(&format!("{name}: dev SRS (k = {srs_k})"), 0);
    let ks: Vec<u32> = case.keys.iter().map(|k| k.k).collect();
    let cuts = srs_cuts(&ks, args.seed);
    let srs_s = stage.finish();
    report.srs_s = Some(srs_s);
    report.setup_peak_rss = peak_memory::peak();

    let mut columns: Vec<ColumnState> = args
        .provers
        .iter()
        .map(|&column| {
            let mut run = match engines.get(column) {
                Some(Err(why)) => ProverRun::new(column, format!("skipped: {why}")),
                _ => ProverRun::new(column, "ok".into()),
            };
            let engine = engines.get(column).and_then(|e| e.as_ref().ok()).cloned();
            if run.status == "ok" {
                run.engine =
                    Some(engine.as_ref().map_or_else(|| "halo2-axiom's own MSM/FFT (CPU)".to_string(), |e| e.describe()));
                run.prove_s_each = vec![0.0; args.reps];
            }
            ColumnState { column, run, engine, proofs: vec![Vec::new(); n], segment_s: vec![0.0; n] }
        })
        .collect();

    // Per distinct circuit: keygen, every column's proofs of its segments, then the key is dropped.
    let mut vks: Vec<VerifyingKey<G1Affine>> = Vec::with_capacity(nkeys);
    let mut keygen_s = 0.0;
    for (kn, key) in case.keys.iter().enumerate() {
        let params = &cuts[&key.k];
        peak_memory::reset();
        let what = if nkeys > 1 { format!("keygen {}/{nkeys} (k = {})", kn + 1, key.k) } else { "keygen".into() };
        let stage = ui.stage(&format!("{name}: {what}"), 0);
        let pk = match make_key(params, engines.cpu.as_ref().ok(), &key.keygen_circuit) {
            Ok(pk) => pk,
            Err(e) => {
                report.skipped = Some(format!("setup failed ({what}): {e:#}"));
                report.runs.clear();
                return report;
            }
        };
        keygen_s += stage.finish();
        report.setup_peak_rss = max_opt(report.setup_peak_rss, peak_memory::peak());
        for col in columns.iter_mut().filter(|c| c.run.status == "ok") {
            prove_key(col, &pk, params, key, n, args, ui, &name);
            if col.run.status != "ok" {
                ui.warn(format!("{}: {}: {}", name, col.column.label(), col.run.status));
            }
        }
        vks.push(pk.get_vk().clone());
        drop(pk);
    }
    report.keygen_s = Some(keygen_s);
    report.setup_s = Some(srs_s + keygen_s);

    // The whole chain per column: every segment proof, one final pairing.
    let mut seg_key = vec![0; n];
    let mut seg_instances: Vec<&[Fr]> = vec![&[]; n];
    for (kn, key) in case.keys.iter().enumerate() {
        for s in &key.segments {
            seg_key[s.index] = kn;
            seg_instances[s.index] = &s.instances;
        }
    }
    for col in columns.iter_mut().filter(|c| c.run.status == "ok") {
        let items: Vec<BundleItem> = (0..n)
            .map(|i| {
                let key = seg_key[i];
                BundleItem { params: &cuts[&case.keys[key].k], vk: &vks[key], instances: seg_instances[i], proof: &col.proofs[i] }
            })
            .collect();
        let stage = ui.stage(&format!("{}: verify the chain ({})", name, col.column.label()), 0);
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            match verify_bundle(&items) {
                Ok(stats) => col.run.pairings = Some(stats.pairings),
                Err(e) => {
                    col.run.status = format!("rejected: the chain does not verify: {e}");
                    break;
                }
            }
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        stage.finish();
        if col.run.status == "ok" {
            col.run.verify_ms = Some(median(&times));
            col.run.prove_s = Some(median(&col.run.prove_s_each));
            col.run.segment_prove_s = col.segment_s.clone();
            col.run.proof_bytes = Some(col.proofs.iter().map(Vec::len).sum());
        } else {
            ui.warn(format!("{}: {}: {}", name, col.column.label(), col.run.status));
        }
    }
    report.runs = columns.into_iter().map(|c| c.run).collect();
    // Ratios to the stock prover of the same config, same process.
    let stock = report.runs.iter().find(|r| r.prover == Column::STOCK && r.status == "ok").map(|r| (r.prove_s, r.peak_rss));
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

/// One column proves every segment of `key` (`--reps` times each), checking each last proof with the stock verifier.
/// Sets the column's status on failure; peak RSS and GPU memory are the maxima over the keys.
#[allow(clippy::too_many_arguments)]
fn prove_key<C: Circuit<Fr> + Clone>(
    col: &mut ColumnState,
    pk: &ProvingKey<G1Affine>,
    params: &ParamsKZG<Bn256>,
    key: &KeyCase<C>,
    n: usize,
    args: &BenchArgs,
    ui: &Ui,
    name: &str,
) {
    peak_memory::reset();
    if let Some(e) = &col.engine {
        e.reset_device_memory_peak();
    }
    let label = col.column.label();
    let result = (|| -> Result<(), String> {
        let eparams = match &col.engine {
            Some(e) => {
                let t = Instant::now();
                let ep = EngineParams::new(params.clone(), e.clone())
                    .map_err(|e| format!("failed: loading the SRS into the engine: {e}"))?;
                *col.run.load_bases_s.get_or_insert(0.0) += t.elapsed().as_secs_f64();
                Some(ep)
            }
            None => None,
        };
        let on: ProverParams = match &eparams {
            Some(ep) => ep.into(),
            None => params.into(),
        };
        let what = match col.column.prover() {
            Prover::Zkinfer => "zkinfer prover",
            Prover::Stock => "stock create_proof",
        };
        for seg in &key.segments {
            let i = seg.index;
            let instances: &[&[Fr]] = &[&seg.instances];
            let mut times = Vec::with_capacity(args.reps);
            let mut proof = Vec::new();
            for rep in 0..args.reps {
                let mut rng = ChaCha20Rng::seed_from_u64(args.seed.wrapping_add(100 + rep as u64));
                rng.set_stream(i as u64);
                let part = if n > 1 { format!(" segment {}/{n}", i + 1) } else { String::new() };
                let title = format!("{name}: prove{part} ({label}){}", rep_suffix(rep, args.reps));
                let t = Instant::now();
                let proved = prove_staged(ui, &title, col.column.prover(), on, pk, &seg.circuit, instances, &mut rng)
                    .with_context(|| format!("{what}, segment {i}"))
                    .map_err(|e| format!("failed: {e:#}"))?;
                let s = t.elapsed().as_secs_f64();
                times.push(s);
                col.run.prove_s_each[rep] += s;
                if rep + 1 == args.reps {
                    for (phase, s) in phase_seconds(&proved) {
                        match col.run.phases.iter_mut().find(|p| p.0 == phase) {
                            Some(p) => p.1 += s,
                            None => col.run.phases.push((phase, s)),
                        }
                    }
                }
                proof = proved.proof;
            }
            col.segment_s[i] = median(&times);
            verify_stock(params, pk.get_vk(), instances, &proof)
                .map_err(|e| format!("rejected: the stock verifier refused the proof of segment {i}: {e:?}"))?;
            col.proofs[i] = proof;
        }
        Ok(())
    })();
    col.run.peak_rss = max_opt(col.run.peak_rss, peak_memory::peak());
    if let Some(e) = &col.engine {
        col.run.gpu_memory = max_opt(col.run.gpu_memory, e.device_memory_peak());
    }
    if let Err(status) = result {
        col.run.status = status;
    }
}
