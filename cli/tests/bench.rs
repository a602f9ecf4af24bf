//! `zkinfer bench`: one run proves the same circuit with the stock prover and zkinfer's, verifies every proof with the
//! stock verifier and reports the table and JSON; configs that do not fit the machine's memory are skipped with the
//! reason before any heavy work.

use std::process::{Command, Output};

use serde_json::Value;

fn zk(args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run zkinfer");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "zkinfer panicked:\n{stderr}");
    out
}

#[test]
fn synthetic_config_runs_every_prover_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = zk(&["bench", "--config", "synthetic-12", "--reps", "2", "--out", json.to_str().unwrap()], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench failed:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("| config | k | setup s"), "{stdout}");
    assert!(stdout.contains("| synthetic-12 | 12 |") && stdout.contains("zkinfer, CPU engine"), "{stdout}");

    let r: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(r["reps"], 2);
    let c = &r["configs"][0];
    assert_eq!(c["config"], "synthetic-12");
    assert!(c["skipped"].is_null(), "{c}");
    assert!(c["srs_s"].as_f64().unwrap() > 0.0 && c["keygen_s"].as_f64().unwrap() > 0.0);
    let runs = c["runs"].as_array().unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r["prover"].as_str().unwrap()).collect();
    assert_eq!(names, ["stock", "cpu", "cuda"]);
    for run in &runs[..2] {
        assert_eq!(run["status"], "ok", "{run}");
        assert_eq!(run["prove_s_each"].as_array().unwrap().len(), 2);
        assert!(run["prove_s"].as_f64().unwrap() > 0.0);
        assert!(run["verify_ms"].as_f64().unwrap() > 0.0);
        assert!(run["peak_rss"].as_u64().unwrap() > 1 << 20);
        assert_eq!(run["proof_bytes"], runs[0]["proof_bytes"], "same circuit, same proof size");
    }
    assert_eq!(runs[0]["prove_vs_stock"].as_f64(), Some(1.0));
    let ratio = runs[1]["prove_vs_stock"].as_f64().unwrap();
    let expect = runs[1]["prove_s"].as_f64().unwrap() / runs[0]["prove_s"].as_f64().unwrap();
    assert!((ratio - expect).abs() < 1e-9);
    assert!(!runs[1]["phases"].as_array().unwrap().is_empty());
    // CUDA runs where a GPU works, and is otherwise reported as skipped with the reason.
    let cuda = runs[2]["status"].as_str().unwrap();
    assert!(cuda == "ok" || (cuda.starts_with("skipped: ") && cuda.contains("cuda")), "{cuda}");
}

#[test]
fn configs_that_do_not_fit_are_skipped_before_work() {
    let out = zk(
        &["--json", "bench", "--config", "digits,mobilenet-0.75-192", "--provers", "stock"],
        &[("ZKINFER_MEMORY_GIB", "0.5")],
    );
    assert!(out.status.success(), "a skip is not a failure:\n{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (c, k) in r["configs"].as_array().unwrap().iter().zip([17, 23]) {
        let why = c["skipped"].as_str().unwrap_or_default();
        assert!(why.contains("exceeds this machine's 0.5 GiB"), "{c}");
        assert_eq!(c["k"], k);
        assert!(c["runs"].as_array().unwrap().is_empty());
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped"));
}

#[test]
fn bad_bench_arguments_fail_cleanly() {
    for (args, needle) in [
        (&["bench", "--config", "mobilenet-9"][..], "unknown config `mobilenet-9`"),
        (&["bench", "--config", "synthetic-40"][..], "synthetic-K takes k in 10..=24"),
        (&["bench", "--config", "synthetic-12", "--reps", "0"][..], "--reps must be at least 1"),
    ] {
        let out = zk(args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
