//! Running one bench config: one setup (dev SRS + keygen) shared by every column, then per column the SRS loaded
//! into its engine, `--reps` proofs (median time), five runs of the stock verifier, peak RSS and GPU memory, and
//! finally each column's ratios to the stock prover's, measured in the same process.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use halo2_proofs::plonk::Circuit;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::params::{self, EngineParams};
use zkinfer_backend::provers::{Prover, ProverParams};
use zkinfer_backend::stock::verify_stock;
use zkinfer_backend::{Engine, EngineKind, Fr};

use super::fixtures::Case;
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

/// Runs a case whose memory estimate was checked when it was prepared.
pub fn run_case<C: Circuit<Fr> + Clone>(case: Case<C>, args: &BenchArgs, engines: &Engines, ui: &Ui) -> ConfigReport {
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
    let setup = (|| -> Result<_> {
        peak_memory::reset();
        let stage = ui.stage(&format!("{}: dev SRS (k = {k})", name), 0);
        let params = params::dev_srs(k, ChaCha20Rng::seed_from_u64(args.seed));
        report.srs_s = Some(stage.finish());
        let stage = ui.stage(&format!("{}: keygen", name), 0);
        let pk = params::keygen(&params, &case.keygen_circuit, &mut |_| {})?;
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
    for &column in &args.provers {
        let mut run = match engines.get(column) {
            Some(Err(why)) => {
                report.runs.push(ProverRun::new(column, format!("skipped: {why}")));
                continue;
            }
            _ => ProverRun::new(column, "ok".into()),
        };
        let engine = engines.get(column).and_then(|e| e.as_ref().ok()).cloned();
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
            let on: ProverParams = match &eparams {
                Some(ep) => ep.into(),
                None => (&params).into(),
            };
            let what = match column.prover() {
                Prover::Zkinfer => "zkinfer prover",
                Prover::Stock => "stock create_proof",
            };
            let mut proof = Vec::new();
            for rep in 0..args.reps {
                let mut rng = ChaCha20Rng::seed_from_u64(args.seed.wrapping_add(100 + rep as u64));
                let title = format!("{}: prove ({}){}", name, column.label(), rep_suffix(rep, args.reps));
                let t = Instant::now();
                let proved = prove_staged(ui, &title, column.prover(), on, &pk, &case.circuit, instances, &mut rng)
                    .context(what)?;
                if proved.stats.is_some() {
                    run.phases = phase_seconds(&proved);
                }
                proof = proved.proof;
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
                let stage = ui.stage(&format!("{}: verify ({})", name, column.label()), 0);
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
            ui.warn(format!("{}: {}: {}", name, column.label(), run.status));
        }
        report.runs.push(run);
    }
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
