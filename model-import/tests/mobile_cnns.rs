//! The mobile CNN ops (ReduceMean, HardSwish / HardSigmoid tables, squeeze-and-excite Mul, Concat with rescaled
//! inputs, MaxPool, channel shuffle) against onnxruntime, layer by layer: each IR layer is run by the integer
//! reference on onnxruntime's own int8 values of its inputs and must land within one quantisation step of
//! onnxruntime's output for that layer (so an error is charged to the layer that makes it, not to its
//! descendants); then the whole network end to end. Oracles: scripts/mobile_cnns.py.

use std::collections::HashMap;

use zkinfer_import::ir::Op;
use zkinfer_import::npy::read_f32;
use zkinfer_import::{import, reference};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// onnxruntime's int8 value of every QuantizeLinear output for input 0, by tensor name.
fn ort_layers(stem: &str) -> HashMap<String, Vec<i32>> {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{stem}_ort_layers.json"))).unwrap()).unwrap();
    assert_eq!(index["format"], "zkinfer-ort-layers/1");
    let values = read_f32(&fixture(&format!("{stem}_ort_layers.npy"))).unwrap().data;
    index["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let (off, len) = (t["offset"].as_u64().unwrap() as usize, t["len"].as_u64().unwrap() as usize);
            (t["name"].as_str().unwrap().to_string(), values[off..off + len].iter().map(|&v| v as i32).collect())
        })
        .collect()
}

/// Per layer: (name, op, max |ours − onnxruntime| in steps) with the layer fed onnxruntime's inputs.
fn per_layer(stem: &str) -> Vec<(String, String, i32)> {
    let model = import(fixture(&format!("{stem}_int8.onnx"))).unwrap();
    let ort = ort_layers(stem);
    let mut values: Vec<Vec<i32>> = model
        .tensors
        .iter()
        .map(|t| ort.get(&t.name).unwrap_or_else(|| panic!("{stem}: no onnxruntime values for `{}`", t.name)).clone())
        .collect();
    // The reference's quantized input must equal onnxruntime's.
    let x = read_f32(&fixture(&format!("{stem}_inputs.npy"))).unwrap();
    let n = values[0].len();
    assert_eq!(reference::quantize_input(&x.data[..n], model.input().q), values[0], "{stem}: quantized input");
    let mut out = Vec::new();
    for layer in &model.layers {
        let ours = reference::eval_layer(&model, layer, &values);
        let theirs = &values[layer.output];
        assert_eq!(ours.len(), theirs.len(), "{stem}: layer {} output size", layer.name);
        let diff = ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).max().unwrap_or(0);
        let op = format!("{:?}", layer.op).split([' ', '{', '(']).next().unwrap().to_string();
        out.push((layer.name.clone(), op, diff));
        values[layer.output] = theirs.clone();
    }
    out
}

/// End to end: the reference's logits vs onnxruntime's on both recorded inputs (max steps, top-1 agreement).
fn end_to_end(stem: &str) -> (i32, usize) {
    let model = import(fixture(&format!("{stem}_int8.onnx"))).unwrap();
    let x = read_f32(&fixture(&format!("{stem}_inputs.npy"))).unwrap();
    let ort = read_f32(&fixture(&format!("{stem}_ort_int8_logits.npy"))).unwrap();
    let q = model.output_info().q;
    let (per_in, per_out) = (x.data.len() / 2, ort.data.len() / 2);
    let (mut worst, mut agree) = (0, 0);
    for i in 0..2 {
        let ours = reference::run_float(&model, &x.data[i * per_in..(i + 1) * per_in]).unwrap();
        let theirs: Vec<i32> =
            ort.data[i * per_out..(i + 1) * per_out].iter().map(|&v| (v / q.scale).round() as i32 + q.zero_point).collect();
        worst = worst.max(ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).max().unwrap());
        let top = |v: &[i32]| v.iter().enumerate().max_by_key(|(_, &x)| x).map(|(i, _)| i).unwrap();
        agree += (top(&ours) == top(&theirs)) as usize;
    }
    (worst, agree)
}

/// The distinct table activations a fixture imports, by ONNX op type.
fn functions(stem: &str) -> Vec<String> {
    let model = import(fixture(&format!("{stem}_int8.onnx"))).unwrap();
    let mut f: Vec<String> =
        model.layers.iter().filter_map(|l| if let Op::Lookup { function, .. } = &l.op { Some(function.clone()) } else { None }).collect();
    f.sort_unstable();
    f.dedup();
    f
}

fn check(stem: &str, must_have: &[&str]) {
    let layers = per_layer(stem);
    for op in must_have {
        assert!(layers.iter().any(|l| &l.1 == op), "{stem}: no {op} layer imported");
    }
    let mut by_op: HashMap<&str, i32> = HashMap::new();
    for (_, op, d) in &layers {
        let e = by_op.entry(op.as_str()).or_default();
        *e = (*e).max(*d);
    }
    let (e2e, agree) = end_to_end(stem);
    println!("{stem}: {} layers; per-layer max |diff| by op {by_op:?}; end to end {e2e} steps, top-1 {agree}/2", layers.len());
    for (name, op, d) in &layers {
        assert!(*d <= 1, "{stem}: layer `{name}` ({op}) is {d} steps from onnxruntime");
    }
}

#[test]
fn mobilenet_v3_small_style_matches_onnxruntime_per_layer() {
    check("mobilenet_v3_small_style", &["Conv", "Lookup", "Mul", "Add", "GlobalAveragePool", "Reshape", "Gemm"]);
}

#[test]
fn efficientnet_lite_style_matches_onnxruntime_per_layer() {
    check("efficientnet_lite_style", &["Conv", "Add", "GlobalAveragePool", "Gemm"]);
}

#[test]
fn shufflenet_style_matches_onnxruntime_per_layer() {
    check("shufflenet_style", &["Conv", "MaxPool", "Concat", "Transpose", "Reshape", "GlobalAveragePool", "Gemm"]);
}

#[test]
fn layers_are_named_by_their_onnx_nodes() {
    let model = import(fixture("mobilenet_v3_small_style_int8.onnx")).unwrap();
    assert!(model.layers.iter().all(|l| l.name.starts_with('/')), "torch-style node names kept");
    let se = model.layers.iter().find(|l| matches!(l.op, Op::Mul { .. })).unwrap();
    let shapes: Vec<_> = se.inputs.iter().map(|&t| model.tensors[t].shape.clone()).collect();
    assert!(shapes.iter().any(|s| s[2..] == [1, 1]), "the SE scale broadcasts: {shapes:?}");
}

/// Every activation between its own Q/DQ pair (Relu, Sigmoid, SiLU as x·sigmoid(x), Tanh, LeakyRelu, Clip,
/// HardSigmoid with non-default alpha/beta), a broadcast Mul, MaxPool, Unsqueeze/Squeeze and ReduceMean keepdims 0
/// — at opset 13 (axes as attributes / Squeeze inputs) and opset 21 (ReduceMean axes as an input).
#[test]
fn ops_zoo_matches_onnxruntime_per_layer_at_opsets_13_and_21() {
    for stem in ["ops_zoo_opset13", "ops_zoo_opset21"] {
        check(stem, &["Conv", "Add", "Lookup", "Mul", "MaxPool", "Reshape", "GlobalAveragePool", "Gemm"]);
        assert_eq!(functions(stem), ["Clip", "HardSigmoid", "LeakyRelu", "Relu", "Sigmoid", "Tanh"], "{stem}");
    }
}

/// The same three networks in onnxruntime's QOperator format (scripts/mobile_cnns.py --format qoperator): int8
/// tensors flow straight between QLinearConv, QGemm, QLinearAdd, QLinearMul, QLinearConcat and
/// QLinearGlobalAveragePool nodes and int8 MaxPool / Reshape / Transpose / Flatten, with HardSwish, HardSigmoid and
/// ReduceMean as float islands between a DequantizeLinear and a QuantizeLinear. Every layer within one step of
/// onnxruntime on its own inputs.
#[test]
fn qoperator_mobile_cnns_match_onnxruntime_per_layer() {
    check("mobilenet_v3_small_style_qop", &["Conv", "Lookup", "Mul", "Add", "GlobalAveragePool", "Reshape", "Gemm"]);
    check("efficientnet_lite_style_qop", &["Conv", "Add", "GlobalAveragePool", "Gemm"]);
    check("shufflenet_style_qop", &["Conv", "MaxPool", "Concat", "Transpose", "Reshape", "GlobalAveragePool", "Gemm"]);
}

/// QLinearSigmoid and QLinearLeakyRelu (onnxruntime's own 256-entry tables), QLinearMul with a broadcast operand,
/// and MaxPool / Unsqueeze / Squeeze applied to int8 tensors: the ops zoo in QOperator format.
#[test]
fn qoperator_ops_zoo_matches_onnxruntime_per_layer() {
    let stem = "ops_zoo_opset13_qop";
    check(stem, &["Conv", "Add", "Lookup", "Mul", "MaxPool", "Reshape", "GlobalAveragePool", "Gemm"]);
    let functions = functions(stem);
    // onnxruntime's QOperator format removes a Relu or Clip after a quantized op (its output takes the input's
    // quantization; the input's range is narrowed to the activation's only when the activation is its one consumer —
    // here the Add feeding Relu also feeds the skip Add, so onnxruntime's own QOperator graph has no Relu at all).
    assert_eq!(functions, ["HardSigmoid", "LeakyRelu", "Sigmoid", "Tanh"], "{stem}");
}

/// A QOperator model and its QDQ twin (same network, weights and calibration) import to the same layers: op kinds,
/// input and output shapes, one for one.
#[test]
fn qoperator_and_qdq_import_to_the_same_layers() {
    let kinds = |stem: &str| -> Vec<(String, Vec<Vec<usize>>, Vec<usize>)> {
        let model = import(fixture(&format!("{stem}_int8.onnx"))).unwrap();
        model
            .layers
            .iter()
            .map(|l| {
                let op = format!("{:?}", l.op).split([' ', '{', '(']).next().unwrap().to_string();
                let ins = l.inputs.iter().map(|&t| model.tensors[t].shape.clone()).collect();
                (op, ins, model.tensors[l.output].shape.clone())
            })
            .collect()
    };
    for stem in ["mobilenet_v3_small_style", "efficientnet_lite_style", "shufflenet_style"] {
        let (qdq, qop) = (kinds(stem), kinds(&format!("{stem}_qop")));
        assert_eq!(qdq.len(), qop.len(), "{stem}: layer counts");
        for (i, (a, b)) in qdq.iter().zip(&qop).enumerate() {
            assert_eq!(a, b, "{stem}: layer {i}");
        }
    }
}
