//! Prover benchmark: halo2-axiom's stock `create_proof` vs zkinfer's prover with the CPU engine, on the same
//! circuits, keys and SRS, in one run. Each measurement runs in its own child process so peak RSS is per prover:
//! the child sets up params and keys, resets its peak-RSS counter (/proc/self/clear_refs), proves, and reports
//! the proving time and the peak RSS reached while proving. Every proof is checked with the stock verifier.
//!
//!   cargo bench -p zkinfer-benches --bench prover [-- --k-min 14 --k-max 18 --circuits fib,dot,copies]

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use halo2_proofs::plonk::Circuit;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::params::{self, EngineParams};
use zkinfer_backend::provers::{Prover, ProverParams};
use zkinfer_testkit::sample_circuits::{copies::ManyCopies, fibonacci::Fibonacci, Sample};
use zkinfer_backend::stock::verify_stock;
use zkinfer_backend::{CpuEngine, Fr};
use zkinfer_testkit::DotProductCircuit;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Runs one prover on one circuit; prints "prove_s peak_rss_kib proof_bytes".
fn child<C: Circuit<Fr> + Clone>(prover: &str, circuit: C, instances: Vec<Vec<Fr>>, k: u32) {
    let inst: Vec<&[Fr]> = instances.iter().map(Vec::as_slice).collect();
    let stock = params::dev_srs(k, ChaCha20Rng::seed_from_u64(k as u64));
    let pk = params::keygen(&stock, &circuit.without_witnesses(), &mut |_| {}).expect("keygen");
    // zkinfer's params own the stock params (no second copy); the verifier uses them through `stock()`.
    let (stock, params) = if prover == "zkinfer" {
        (None, Some(EngineParams::new(stock, Arc::new(CpuEngine::new())).unwrap()))
    } else {
        (Some(stock), None)
    };
    let (which, on) = match &params {
        Some(p) => (Prover::Zkinfer, ProverParams::from(p)),
        None => (Prover::Stock, ProverParams::from(stock.as_ref().expect("kept for the stock prover"))),
    };
    let reset = reset_peak_rss();
    let rng = ChaCha20Rng::seed_from_u64(7);
    let t = Instant::now();
    // zkinfer's phases are logged at debug level (ZKINFER_PHASES=1).
    let proof = which.prove(on, &pk, &circuit, &inst, rng, &mut |_| {}).expect("prove").proof;
    let secs = t.elapsed().as_secs_f64();
    let rss = peak_rss_kib();
    let verifier_params = stock.as_ref().unwrap_or_else(|| params.as_ref().unwrap().stock());
    verify_stock(verifier_params, pk.get_vk(), &inst, &proof).expect("stock verifier rejected the proof");
    println!("{secs:.3} {rss} {} {}", proof.len(), if reset { "reset" } else { "whole-process" });
}

fn run_child(name: &str, k: u32, prover: &str) {
    let rows = (1usize << k) - 64;
    match name {
        "fib" => {
            let c = Fibonacci::new(rows - 2, 1, 1);
            child(prover, c.clone(), c.instances(), k)
        }
        "dot" => {
            let c = DotProductCircuit::random(rows - 1, &mut ChaCha20Rng::seed_from_u64(3));
            let out = c.output();
            child(prover, c, vec![vec![out]], k)
        }
        "copies" => {
            let c = ManyCopies::new(12, rows, 5);
            child(prover, c.clone(), c.instances(), k)
        }
        other => panic!("unknown circuit {other}"),
    }
}

fn measure(name: &str, k: u32, prover: &str) -> (f64, u64, usize) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--child", name, &k.to_string(), prover])
        .output()
        .expect("spawn child");
    assert!(out.status.success(), "{name} k={k} {prover}: {}", String::from_utf8_lossy(&out.stderr));
    let s = String::from_utf8_lossy(&out.stdout);
    let line = s.lines().last().unwrap_or_default();
    let f: Vec<&str> = line.split_whitespace().collect();
    (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.first().map(String::as_str) == Some("--child") {
        if std::env::var("ZKINFER_PHASES").is_ok() {
            tracing_subscriber::fmt().with_env_filter("zkinfer_backend=debug").with_writer(std::io::stderr).init();
        }
        run_child(&args[1], args[2].parse().unwrap(), &args[3]);
        return;
    }
    let get = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let k_min: u32 = get("--k-min").map_or(14, |v| v.parse().unwrap());
    let k_max: u32 = get("--k-max").map_or(18, |v| v.parse().unwrap());
    let circuits = get("--circuits").unwrap_or_else(|| "fib,dot,copies".into());
    println!("# prover benchmark: stock halo2-axiom create_proof vs zkinfer prove (CPU engine), {} rayon threads", rayon::current_num_threads());
    println!();
    println!("| circuit | k | stock prove (s) | zkinfer prove (s) | time ratio | stock peak RSS (MiB) | zkinfer peak RSS (MiB) | RSS ratio | proof bytes |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for name in circuits.split(',') {
        for k in k_min..=k_max {
            // Alternate the order per k so drift hits both.
            let (s, z) = if k % 2 == 0 {
                let s = measure(name, k, "stock");
                (s, measure(name, k, "zkinfer"))
            } else {
                let z = measure(name, k, "zkinfer");
                (measure(name, k, "stock"), z)
            };
            println!(
                "| {name} | {k} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2} | {} |",
                s.0,
                z.0,
                z.0 / s.0,
                s.1 as f64 / 1024.0,
                z.1 as f64 / 1024.0,
                z.1 as f64 / s.1 as f64,
                z.2
            );
        }
    }
}
