//! `zkinfer bench`: one run proves the same circuit (or chain of segment circuits) with the stock prover and
//! zkinfer's, verifies every proof with the stock verifier and every chain with one pairing, and reports the table and
//! JSON; a model with a layer that alone does not fit the budget, or a circuit that does not fit the machine's
//! memory, is skipped with the reason before any heavy work.

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
    assert!(stdout.contains("| config | k | segments (keys) | rows | setup s"), "{stdout}");
    assert!(stdout.contains("| synthetic-12 | 12 | 1 (1) | 4086 |") && stdout.contains("zkinfer, CPU engine"), "{stdout}");

    let r: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(r["reps"], 2);
    let c = &r["configs"][0];
    assert_eq!(c["config"], "synthetic-12");
    assert!(c["skipped"].is_null(), "{c}");
    // A synthetic config is one circuit: a chain of one.
    assert_eq!((c["segments"].as_u64(), c["distinct_keys"].as_u64()), (Some(1), Some(1)), "{c}");
    assert!(c["srs_s"].as_f64().unwrap() > 0.0 && c["keygen_s"].as_f64().unwrap() > 0.0);
    let runs = c["runs"].as_array().unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r["prover"].as_str().unwrap()).collect();
    assert_eq!(names, ["stock", "cpu", "cuda"]);
    for run in &runs[..2] {
        assert_eq!(run["status"], "ok", "{run}");
        assert_eq!(run["prove_s_each"].as_array().unwrap().len(), 2);
        assert!(run["prove_s"].as_f64().unwrap() > 0.0);
        assert!(run["verify_ms"].as_f64().unwrap() > 0.0);
        assert_eq!(run["pairings"], 1);
        assert_eq!(run["segment_prove_s"].as_array().unwrap().len(), 1);
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
fn digits_as_a_chain_of_three_segments_verifies_with_one_pairing() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = zk(&["bench", "--config", "digits", "--segments", "3", "--provers", "cpu", "--out", json.to_str().unwrap()], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(r["min_segments"], 3);
    let c = &r["configs"][0];
    assert_eq!(c["config"], "digits");
    assert!(c["skipped"].is_null(), "{c}");
    assert_eq!(c["segments"], 3, "{c}");
    let keys = c["distinct_keys"].as_u64().unwrap();
    assert!((1..=3).contains(&keys), "{c}");
    let ks: Vec<u64> = c["segment_k"].as_array().unwrap().iter().map(|k| k.as_u64().unwrap()).collect();
    assert_eq!(ks.len(), 3);
    assert_eq!(c["k"].as_u64(), ks.iter().max().copied(), "the SRS is at the largest segment k");
    assert!(c["rows"].as_u64().unwrap() > 0);
    assert!(c["setup_s"].as_f64().unwrap() >= c["keygen_s"].as_f64().unwrap());
    let runs = c["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["prover"], "cpu");
    assert_eq!(run["status"], "ok", "{run}");
    assert_eq!(run["pairings"], 1, "the chain verifies with one pairing");
    assert!(run["verify_ms"].as_f64().unwrap() > 0.0);
    let each: Vec<f64> = run["segment_prove_s"].as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).collect();
    assert_eq!(each.len(), 3);
    let sum: f64 = each.iter().sum();
    assert!((run["prove_s"].as_f64().unwrap() - sum).abs() < 1e-6, "prove s is the sum over the segments: {run}");
    // Three proofs, each far above a bare header.
    assert!(run["proof_bytes"].as_u64().unwrap() > 3 * 1000);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| digits |")).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].contains(&format!("| 3 ({keys}) |")), "{stdout}");
}

#[test]
fn configs_that_do_not_fit_are_skipped_before_work() {
    // A layer that alone does not fit the budget: no chain exists.
    let out = zk(&["--json", "bench", "--config", "digits,mobilenet-0.75-192", "--provers", "stock", "--memory", "0.01"], &[]);
    assert!(out.status.success(), "a skip is not a failure:\n{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let configs = r["configs"].as_array().unwrap();
    assert_eq!(configs.len(), 2);
    for c in configs {
        let why = c["skipped"].as_str().unwrap_or_default();
        assert!(why.contains("cannot cut into segments") && why.contains("this layer alone"), "{c}");
        assert_eq!(c["segments"], 0);
        assert!(c["runs"].as_array().unwrap().is_empty());
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped"));

    // A chain planned for more memory than this machine has (a 4 GiB budget, a 0.5 GiB machine).
    let out = zk(
        &["--json", "bench", "--config", "digits", "--provers", "stock", "--memory", "4"],
        &[("ZKINFER_MEMORY_GIB", "0.5")],
    );
    assert!(out.status.success(), "a skip is not a failure:\n{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &r["configs"][0];
    assert!(c["skipped"].as_str().unwrap_or_default().contains("exceeds this machine's 0.5 GiB"), "{c}");
    assert_eq!((c["k"].as_u64(), c["segments"].as_u64()), (Some(17), Some(1)), "{c}");
    assert!(c["runs"].as_array().unwrap().is_empty());
}

#[test]
fn bad_bench_arguments_fail_cleanly() {
    for (args, needle) in [
        (&["bench", "--config", "mobilenet-9"][..], "unknown config `mobilenet-9`"),
        (&["bench", "--config", "synthetic-40"][..], "synthetic-K takes k in 10..=24"),
        (&["bench", "--config", "synthetic-12", "--reps", "0"][..], "--reps must be at least 1"),
        (&["bench", "--config", "digits", "--segments", "0"][..], "--segments 0: give at least 1"),
        (&["bench", "--config", "digits", "--memory", "0"][..], "--memory 0: give a positive number of GiB"),
    ] {
        let out = zk(args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
