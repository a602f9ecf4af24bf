//! The three mobile CNN fixtures (MobileNet v3 small, EfficientNet-Lite and ShuffleNet v2 style, as real exporters
//! write them) through the CLI: `inspect` lists every layer by its ONNX node name, then setup, prove and verify;
//! the verified output is the integer reference's.

mod common;
use common::*;

use zkinfer_import::npy::read_f32;
use zkinfer_import::{import, reference};

fn prove_and_verify(stem: &str) {
    let model_path = fixtures().join(format!("{stem}_int8.onnx"));
    let inputs = fixtures().join(format!("{stem}_inputs.npy"));
    let model = import(&model_path).unwrap();

    let v = ok_json(&zk(&[&"--json", &"inspect", &model_path]));
    let listed: Vec<&str> = v["layers"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    let names: Vec<&str> = model.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(listed, names, "{stem}: inspect lists every layer by its ONNX node name");
    assert!(names.iter().all(|n| n.starts_with('/')), "{stem}: torch-style node names");

    let dir = tempfile::tempdir().unwrap();
    let (keys, proof) = (dir.path().join("keys"), dir.path().join("proof.json"));
    ok(&zk(&[&"-q", &"setup", &model_path, &"--dev-srs", &"--out", &keys]));
    ok(&zk(&[&"-q", &"prove", &model_path, &inputs, &"--index", &"1", &"--keys", &keys, &"--out", &proof]));
    let v = ok_json(&zk(&[&"--json", &"verify", &proof, &"--keys", &keys]));
    assert_eq!(v["verified"], true, "{stem}: {v}");
    let x = read_f32(inputs.to_str().unwrap()).unwrap();
    let per = x.data.len() / 2;
    let expected = reference::run_float(&model, &x.data[per..]).unwrap();
    let got: Vec<i32> = v["public"]["output"].as_array().unwrap().iter().map(|o| o.as_i64().unwrap() as i32).collect();
    assert_eq!(got, expected, "{stem}: the proved logits are the integer reference's");
}

#[test]
fn mobilenet_v3_small_style_proves_and_verifies() {
    prove_and_verify("mobilenet_v3_small_style");
}

#[test]
fn efficientnet_lite_style_proves_and_verifies() {
    prove_and_verify("efficientnet_lite_style");
}

#[test]
fn shufflenet_style_proves_and_verifies() {
    prove_and_verify("shufflenet_style");
}
