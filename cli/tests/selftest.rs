//! End-to-end: the `zkinfer` binary sets up, proves and verifies through the engine; bad requests fail cleanly.

use std::process::Command;

fn zkinfer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(args).output().expect("run zkinfer")
}

#[test]
fn selftest_proves_and_the_stock_verifier_accepts() {
    for prover in ["zkinfer", "stock"] {
        let out = zkinfer(&["selftest", "--engine", "cpu", "--prover", prover, "--len", "300", "--json"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("\"verified\":true"), "{stdout}");
        assert!(stdout.contains(&format!("\"prover\":\"{prover}\"")), "{stdout}");
    }
}

#[test]
fn auto_engine_falls_back_to_cpu_with_one_warning_line() {
    let out = zkinfer(&["selftest", "--len", "50"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warnings: Vec<_> = stderr.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("using the CPU engine"), "{stderr}");
}

#[test]
fn unavailable_engine_and_bad_arguments_fail_with_a_message() {
    for args in [
        &["selftest", "--engine", "cuda", "--len", "10"][..],
        &["selftest", "--engine", "tpu"][..],
        &["selftest", "--len", "0"][..],
        &["selftest", "--prover", "fast"][..],
    ] {
        let out = zkinfer(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
