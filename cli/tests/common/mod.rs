//! Helpers the CLI's end-to-end tests share: the bundled fixtures and running the `zkinfer` binary.
#![allow(dead_code)] // each test crate uses its own subset

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// A temporary folder for what a test binary's tests share (keys, proofs), removed when the process exits: a
/// static is never dropped, so a `TempDir` in one would leave its files behind on every run. The C runtime's exit
/// handlers run both when libtest returns and when it exits after a failure.
pub fn process_tempdir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    unsafe extern "C" {
        fn atexit(callback: extern "C" fn()) -> i32;
    }
    extern "C" fn remove() {
        if let Some(d) = DIR.get() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap().keep();
        // SAFETY: registers a plain function with no arguments; it only reads a static already initialised.
        assert_eq!(unsafe { atexit(remove) }, 0, "atexit");
        d
    })
}

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../model-import/fixtures")
}

pub fn digits() -> PathBuf {
    fixtures().join("digits_int8.onnx")
}

/// The digits CNN with other weights (same architecture): proves with the digits keys.
pub fn reweighted_model() -> PathBuf {
    fixtures().join("digits_reweighted_int8.onnx")
}

pub fn test_x() -> PathBuf {
    fixtures().join("digits_test_x.npy")
}

/// A salt / seed that no opening made by `prove` holds.
pub fn other_salt() -> String {
    format!("0x{:064x}", 0x2a)
}

pub fn zk(args: &[&dyn AsRef<OsStr>]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(args).output().expect("run zkinfer");
    no_panic(&out);
    out
}

/// Starts zkinfer in the background (finish it with [`finish`]).
pub fn zk_spawn(args: &[&dyn AsRef<OsStr>]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run zkinfer")
}

pub fn finish(child: Child) -> Output {
    let out = child.wait_with_output().expect("wait for zkinfer");
    no_panic(&out);
    out
}

pub fn no_panic(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "zkinfer panicked:\n{stderr}");
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "zkinfer failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn ok_json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("--json prints one JSON object")
}

/// Asserts a failure whose `error:` line mentions `needle`.
pub fn fails(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "zkinfer succeeded but should have failed ({needle})");
    assert_eq!(out.status.code(), Some(1), "exit code for a handled error:\n{stderr}");
    assert!(stderr.contains("error:") && stderr.contains(needle), "expected an error mentioning `{needle}`, got:\n{stderr}");
}

pub fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

pub fn write_json(p: &Path, v: &Value) {
    std::fs::write(p, serde_json::to_vec(v).unwrap()).unwrap()
}
