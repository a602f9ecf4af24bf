//! End-to-end tests of the `zkinfer` binary on the digits model: setup → prove → verify, the rejections a verifier
//! relies on (flipped proof byte, changed public output, another model's keys, another input's commitment), and
//! every bad-input case exiting non-zero with a message, no panic and no partial output file.
//!
//! One dev-SRS setup and one proof are shared by the tests (built once, on first use).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../model-import/fixtures")
}

fn digits() -> PathBuf {
    fixtures().join("digits_int8.onnx")
}

fn test_x() -> PathBuf {
    fixtures().join("digits_test_x.npy")
}

fn zk(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(args).output().expect("run zkinfer");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "zkinfer panicked:\n{stderr}");
    out
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "zkinfer failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts a failure whose `error:` line mentions `needle`.
fn fails(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "zkinfer succeeded but should have failed ({needle})");
    assert_eq!(out.status.code(), Some(1), "exit code for a handled error:\n{stderr}");
    assert!(stderr.contains("error:") && stderr.contains(needle), "expected an error mentioning `{needle}`, got:\n{stderr}");
}

struct Shared {
    dir: tempfile::TempDir,
    keys: PathBuf,
    proof: PathBuf,
    opening: PathBuf,
    other_keys: PathBuf,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

// A static is never dropped, so its TempDir would outlive the process and leave ~1.7 GB of keys in the temp folder
// on every run; the C runtime's exit handlers run both when libtest returns and when it exits after a failure.
unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
}

extern "C" fn remove_shared_dir() {
    if let Some(s) = SHARED.get() {
        let _ = std::fs::remove_dir_all(s.dir.path());
    }
}

/// Keys for digits (hidden weights and input, dev SRS), a proof of held-out image 0, and keys for another model
/// (the matmul fixture) set up from the first setup's SRS file (`--srs`).
fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: registers a plain function with no arguments; it only reads a static already initialised.
        assert_eq!(unsafe { atexit(remove_shared_dir) }, 0, "atexit");
        let keys = dir.path().join("keys");
        ok(&zk(&[&"setup", &digits(), &"--dev-srs", &"--seed", &"7", &"--hide", &"weights,input", &"--out", &keys]));
        let proof = dir.path().join("digit0.proof.json");
        ok(&zk(&[&"prove", &digits(), &test_x(), &"--index", &"0", &"--keys", &keys, &"--out", &proof]));
        let opening = dir.path().join("digit0.proof.json.opening.json");
        let other_keys = dir.path().join("other-keys");
        ok(&zk(&[
            &"setup",
            &fixtures().join("matmul_int8.onnx"),
            &"--srs",
            &keys.join("srs.params"),
            &"--out",
            &other_keys,
        ]));
        Shared { dir, keys, proof, opening, other_keys }
    })
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn write_json(p: &Path, v: &Value) {
    std::fs::write(p, serde_json::to_vec(v).unwrap()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    shared().dir.path().join(name)
}

#[test]
fn setup_prove_verify_and_commitments_match() {
    let s = shared();
    let out = ok(&zk(&[&"verify", &s.proof, &"--keys", &s.keys]));
    assert!(out.contains("verified"), "{out}");
    let v: Value = serde_json::from_str(&ok(&zk(&[&"--json", &"verify", &s.proof, &"--keys", &s.keys]))).unwrap();
    assert_eq!(v["verified"], true);
    // The prediction is the integer reference's on that image (label 2 for held-out image 0).
    assert_eq!(v["public"]["predicted_class"], 2);
    assert_eq!(v["public"]["output"].as_array().unwrap().len(), 10);
    // commit recomputes the same commitments natively.
    let proof = read_json(&s.proof);
    let w: Value = serde_json::from_str(&ok(&zk(&[&"--json", &"commit", &digits()]))).unwrap();
    assert_eq!(w["commitment"], proof["public"]["weights_commitment"]);
    let i: Value = serde_json::from_str(&ok(&zk(&[
        &"--json",
        &"commit",
        &test_x(),
        &"--index",
        &"0",
        &"--model",
        &digits(),
        &"--opening",
        &s.opening,
    ])))
    .unwrap();
    assert_eq!(i["commitment"], proof["public"]["input_commitment"]);
    // Without the salt the commitment is a different value: the opening matters.
    let unsalted: Value =
        serde_json::from_str(&ok(&zk(&[&"--json", &"commit", &test_x(), &"--index", &"0", &"--model", &digits()]))).unwrap();
    assert_ne!(unsalted["commitment"], proof["public"]["input_commitment"]);
}

#[test]
fn flipped_proof_byte_is_rejected() {
    let s = shared();
    let mut v = read_json(&s.proof);
    let hex = v["proof"].as_str().unwrap().to_string();
    for pos in [10usize, hex.len() / 2, hex.len() - 3] {
        let mut bytes = hex.clone().into_bytes();
        bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
        v["proof"] = Value::String(String::from_utf8(bytes).unwrap());
        let p = scratch(&format!("flipped{pos}.json"));
        write_json(&p, &v);
        fails(&zk(&[&"verify", &p, &"--keys", &s.keys]), "rejected");
    }
    // A raw byte flipped anywhere in what the proof covers (everything before the informational `info`) is refused
    // one way or another: unparsable JSON, a public value that changed, or proof bytes that changed.
    let raw = std::fs::read(&s.proof).unwrap();
    let covered = String::from_utf8_lossy(&raw).find("\"info\"").unwrap();
    for pos in (1..covered).step_by(997) {
        let mut b = raw.clone();
        b[pos] ^= 0x01;
        let p = scratch(&format!("raw{pos}.json"));
        std::fs::write(&p, b).unwrap();
        let out = zk(&[&"verify", &p, &"--keys", &s.keys]);
        assert!(!out.status.success(), "byte {pos} flipped, still verified");
    }
}

#[test]
fn changed_public_output_is_rejected() {
    let s = shared();
    let mut v = read_json(&s.proof);
    let class = v["public"]["predicted_class"].as_u64().unwrap() as usize;
    // Lower a logit that is not the maximum, so the claimed class stays consistent: only the proof can catch it.
    let out = v["public"]["output"].as_array_mut().unwrap();
    let j = (class + 1) % out.len();
    let x = out[j].as_i64().unwrap();
    out[j] = Value::from(if x > -128 { x - 1 } else { x + 1 });
    let p = scratch("changed-output.json");
    write_json(&p, &v);
    fails(&zk(&[&"verify", &p, &"--keys", &s.keys]), "rejected");
    // A claimed class that is not the output's argmax is refused before the proof is checked.
    let mut v = read_json(&s.proof);
    v["public"]["predicted_class"] = Value::from((class + 1) % 10);
    write_json(&p, &v);
    fails(&zk(&[&"verify", &p, &"--keys", &s.keys]), "predicted_class");
}

#[test]
fn another_models_keys_are_rejected() {
    let s = shared();
    fails(&zk(&[&"verify", &s.proof, &"--keys", &s.other_keys]), "another model");
    // Relabel the proof as the other model's: its public values no longer fit that vk.
    let other = read_json(&s.other_keys.join("manifest.json"));
    let mut v = read_json(&s.proof);
    v["model_blake2b"] = other["model"]["blake2b"].clone();
    v["public"]["weights_commitment"] = other["weights_commitment"].clone();
    let p = scratch("relabelled.json");
    write_json(&p, &v);
    fails(&zk(&[&"verify", &p, &"--keys", &s.other_keys]), "rejected");
    // The other model's vk swapped into our keys (manifest digests fixed up to match): the proof fails the vk.
    let swapped = scratch("swapped-keys");
    std::fs::create_dir_all(&swapped).unwrap();
    for f in ["manifest.json", "pk.bin", "srs.params"] {
        std::fs::copy(s.keys.join(f), swapped.join(f)).unwrap();
    }
    std::fs::copy(s.other_keys.join("vk.bin"), swapped.join("vk.bin")).unwrap();
    fails(&zk(&[&"verify", &s.proof, &"--keys", &swapped]), "vk.bin is corrupt or from another setup");
    let mut m = read_json(&swapped.join("manifest.json"));
    m["files"]["vk.bin"] = other["files"]["vk.bin"].clone();
    m["shape"] = other["shape"].clone();
    write_json(&swapped.join("manifest.json"), &m);
    let out = zk(&[&"verify", &s.proof, &"--keys", &swapped]);
    assert!(!out.status.success(), "verified with another model's vk");
}

#[test]
fn stock_prover_and_another_inputs_commitment() {
    let s = shared();
    // Image 1 proved with halo2-axiom's stock prover through the same keys; the stock verifier accepts it.
    let p1 = scratch("digit1.proof.json");
    ok(&zk(&[&"prove", &digits(), &test_x(), &"--index", &"1", &"--keys", &s.keys, &"--prover", &"stock", &"--out", &p1]));
    ok(&zk(&[&"verify", &p1, &"--keys", &s.keys]));
    // Proof 0 presented with image 1's input commitment: rejected.
    let mut v = read_json(&s.proof);
    v["public"]["input_commitment"] = read_json(&p1)["public"]["input_commitment"].clone();
    let p = scratch("other-input.json");
    write_json(&p, &v);
    fails(&zk(&[&"verify", &p, &"--keys", &s.keys]), "rejected");
    // And with image 1's commitment under proof 0's salt (what `commit` prints for another input).
    let c: Value = serde_json::from_str(&ok(&zk(&[
        &"--json", &"commit", &test_x(), &"--index", &"1", &"--model", &digits(), &"--opening", &s.opening,
    ])))
    .unwrap();
    v["public"]["input_commitment"] = c["commitment"].clone();
    write_json(&p, &v);
    fails(&zk(&[&"verify", &p, &"--keys", &s.keys]), "rejected");
}

#[test]
fn bad_models_fail_cleanly() {
    let missing = fixtures().join("no_such_model.onnx");
    fails(&zk(&[&"inspect", &missing]), "does not exist");
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.onnx");
    let bytes = std::fs::read(digits()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    fails(&zk(&[&"inspect", &truncated]), "truncated.onnx");
    let out = dir.path().join("keys");
    fails(&zk(&[&"setup", &truncated, &"--dev-srs", &"--out", &out]), "cannot import");
    assert!(!out.exists(), "setup left a keys directory behind");
    fails(&zk(&[&"inspect", &fixtures().join("errors/unsupported_op.onnx")]), "unsupported operator");
    fails(&zk(&[&"setup", &fixtures().join("errors/grouped_conv.onnx"), &"--dev-srs", &"--out", &out]), "grouped_conv");
    assert!(!out.exists());
    // Too big for this machine: refused before any work, unless --force.
    fails(&zk(&[&"inspect", &fixtures().join("mobilenet_v2_0.75_192_int8.onnx")]), "refusing");
    ok(&zk(&[&"inspect", &fixtures().join("mobilenet_v2_0.75_192_int8.onnx"), &"--force"]));
    // --srs that is not a params file.
    fails(&zk(&[&"setup", &digits(), &"--srs", &digits(), &"--out", &out]), "not a halo2 KZG params file");
    assert!(!out.exists());
}

#[test]
fn bad_inputs_fail_without_touching_the_output() {
    let s = shared();
    let out = scratch("bad-input.proof.json");
    std::fs::write(&out, b"previous contents").unwrap();
    let model = digits();
    let prove = |input: &Path, extra: &[&str]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"prove", &model, &input, &"--keys", &s.keys, &"--out", &out];
        let owned: Vec<String> = extra.iter().map(|e| e.to_string()).collect();
        for e in &owned {
            args.push(e);
        }
        zk(&args)
    };
    let dir = tempfile::tempdir().unwrap();
    let npy = |name: &str, descr: &str, shape: &str, data: &[u8]| -> PathBuf {
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((header.len() as u16).to_le_bytes());
        b.extend(header.as_bytes());
        b.extend(data);
        let p = dir.path().join(name);
        std::fs::write(&p, b).unwrap();
        p
    };
    let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    fails(&prove(&dir.path().join("missing.npy"), &[]), "does not exist");
    fails(&prove(&npy("shape.npy", "<f4", "(1, 1, 7, 7)", &f32s(&[0.5; 49])), &[]), "shape");
    fails(&prove(&test_x(), &[]), "--index");
    fails(&prove(&test_x(), &["--index", "360"]), "out of range");
    fails(&prove(&fixtures().join("digits_test_y.npy"), &[]), "dtype <i8");
    fails(&prove(&npy("range.npy", "<f4", "(1, 1, 8, 8)", &f32s(&[5.0; 64])), &[]), "outside the range");
    fails(&prove(&npy("nan.npy", "<f4", "(1, 1, 8, 8)", &f32s(&[f32::NAN; 64])), &[]), "outside the range");
    fails(&prove(&npy("short.npy", "<f4", "(1, 1, 8, 8)", &f32s(&[0.5; 10])), &[]), "truncated");
    let garbage = dir.path().join("garbage.png");
    std::fs::write(&garbage, b"not an image").unwrap();
    fails(&prove(&garbage, &[]), "garbage.png");
    fails(&prove(&digits(), &[]), "unsupported file type");
    fails(&prove(&test_x(), &["--index", "0", "--hide", "weights"]), "does not match the keys");
    // The model must be the one the keys were made for.
    let (other, x) = (fixtures().join("matmul_int8.onnx"), test_x());
    fails(&zk(&[&"prove", &other, &x, &"--index", &"0", &"--keys", &s.keys, &"--out", &out]), "not the model the keys");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous contents", "a failed prove touched the output file");
}

/// Copies the shared keys and damages one file.
fn damaged_keys(name: &str, file: &str, damage: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let s = shared();
    let dir = scratch(name);
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["manifest.json", "pk.bin", "vk.bin", "srs.params"] {
        let src = s.keys.join(f);
        if f == file {
            let mut b = std::fs::read(&src).unwrap();
            damage(&mut b);
            std::fs::write(dir.join(f), b).unwrap();
        } else {
            // Hard links keep the 400 MB proving key from being copied for every case.
            std::fs::hard_link(&src, dir.join(f)).or_else(|_| std::fs::copy(&src, dir.join(f)).map(|_| ())).unwrap();
        }
    }
    dir
}

#[test]
fn corrupt_keys_and_proofs_fail_cleanly() {
    let s = shared();
    let out = scratch("corrupt.proof.json");
    let prove = |keys: &Path| {
        zk(&[&"prove", &digits(), &test_x(), &"--index", &"0", &"--keys", &keys, &"--out", &out])
    };
    let flip = |b: &mut Vec<u8>| {
        let i = b.len() / 2;
        b[i] ^= 0x40
    };
    let cut = |b: &mut Vec<u8>| b.truncate(b.len() / 3);
    fails(&prove(&damaged_keys("pk-flip", "pk.bin", flip)), "pk.bin is corrupt");
    fails(&prove(&damaged_keys("pk-cut", "pk.bin", cut)), "pk.bin is corrupt");
    fails(&prove(&damaged_keys("srs-flip", "srs.params", flip)), "srs.params is corrupt");
    fails(&prove(&damaged_keys("manifest-cut", "manifest.json", cut)), "manifest");
    fails(&prove(&scratch("no-such-keys")), "does not exist");
    assert!(!out.exists(), "a failed prove left a proof file");
    let vk_flip = damaged_keys("vk-flip", "vk.bin", flip);
    fails(&zk(&[&"verify", &s.proof, &"--keys", &vk_flip]), "vk.bin is corrupt");
    let vk_cut = damaged_keys("vk-cut", "vk.bin", cut);
    fails(&zk(&[&"verify", &s.proof, &"--keys", &vk_cut]), "vk.bin is corrupt");
    // Proof files: truncated, not JSON, missing.
    let raw = std::fs::read(&s.proof).unwrap();
    let p = scratch("truncated.proof.json");
    std::fs::write(&p, &raw[..raw.len() / 2]).unwrap();
    fails(&zk(&[&"verify", &p, &"--keys", &s.keys]), "not a zkinfer proof file");
    std::fs::write(&p, b"\x00\x01garbage").unwrap();
    fails(&zk(&[&"verify", &p, &"--keys", &s.keys]), "not a zkinfer proof file");
    fails(&zk(&[&"verify", &scratch("none.json"), &"--keys", &s.keys]), "does not exist");
    // Setup refuses to overwrite keys without --force.
    fails(&zk(&[&"setup", &digits(), &"--dev-srs", &"--out", &s.keys]), "--force");
}

#[test]
fn images_are_resized_and_normalised() {
    let dir = tempfile::tempdir().unwrap();
    // Held-out image 0, drawn at 32x32 (ink bright), as PNG and JPEG, plus an RGB PNG.
    let x = zkinfer_test_x0();
    let big = image::GrayImage::from_fn(32, 32, |c, r| image::Luma([(x[(r / 4 * 8 + c / 4) as usize] * 255.0) as u8]));
    let png = dir.path().join("digit.png");
    let jpg = dir.path().join("digit.jpg");
    let rgb = dir.path().join("digit-rgb.png");
    big.save(&png).unwrap();
    image::DynamicImage::ImageLuma8(big.clone()).to_rgb8().save(&jpg).unwrap();
    image::DynamicImage::ImageLuma8(big).to_rgb8().save(&rgb).unwrap();
    let commit = |p: &Path| -> String {
        let v: Value = serde_json::from_str(&ok(&zk(&[&"--json", &"commit", &p, &"--model", &digits()]))).unwrap();
        v["commitment"].as_str().unwrap().to_string()
    };
    let (a, b, c) = (commit(&png), commit(&jpg), commit(&rgb));
    // Gray and RGB versions of the same picture become the same model input.
    assert_eq!(a, c);
    assert!(b.starts_with("0x"));
    // An image for a 3-channel model cannot be fed to... the digits model takes any image (converted to gray), but
    // an image on a model without an NCHW image input is refused.
    fails(&zk(&[&"commit", &png, &"--model", &fixtures().join("matmul_int8.onnx")]), "images need an NCHW input");
}

/// Held-out image 0 of the digits split, floats in [0, 1].
fn zkinfer_test_x0() -> Vec<f32> {
    let b = std::fs::read(test_x()).unwrap();
    let header_len = u16::from_le_bytes([b[8], b[9]]) as usize;
    b[10 + header_len..10 + header_len + 256].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn inspect_reports_size_before_work() {
    let out = ok(&zk(&[&"inspect", &digits()]));
    assert!(out.contains("k = 17") && out.contains("estimated peak memory"), "{out}");
    let v: Value = serde_json::from_str(&ok(&zk(&[&"--json", &"inspect", &digits(), &"--hide", &"weights"]))).unwrap();
    assert_eq!(v["hide"], "weights");
    assert!(v["macs"].as_u64().unwrap() > 0 && v["rows"].as_u64().unwrap() > 0);
    fails(&zk(&[&"inspect", &digits(), &"--hide", &"biases"]), "unknown part");
}
