//! QOperator (QLinear*) nodes that are malformed — an input dropped or emptied, a scale zero, negative, NaN or not a
//! scalar, an attribute the IR cannot express, a com.microsoft op zkinfer does not import — give an error naming
//! the node and op, never a panic. Each case mutates one node of a fixture (scripts/mobile_cnns.py --format
//! qoperator, scripts/error_cases.py) and imports the result from a temporary file.

use std::sync::atomic::{AtomicUsize, Ordering};

use prost::Message;
use tract_onnx::pb::{AttributeProto, ModelProto, NodeProto, TensorProto};
use zkinfer_import::ir::Op;
use zkinfer_import::{import, ImportError, QuantModel};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn load(file: &str) -> ModelProto {
    ModelProto::decode(std::fs::read(fixture(file)).unwrap().as_slice()).unwrap()
}

/// Writes the (mutated) model to a temporary file of its own and imports it.
fn import_proto(m: &ModelProto) -> Result<QuantModel, ImportError> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("zkinfer-qop-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.onnx", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    let result = import(&path);
    let _ = std::fs::remove_file(&path);
    result
}

fn graph(m: &mut ModelProto) -> &mut tract_onnx::pb::GraphProto {
    m.graph.as_mut().unwrap()
}

/// Index of the first node of `op`.
fn find(m: &ModelProto, op: &str) -> usize {
    m.graph.as_ref().unwrap().node.iter().position(|n| n.op_type == op).unwrap_or_else(|| panic!("no {op} node"))
}

fn node<'a>(m: &'a mut ModelProto, op: &str) -> &'a mut NodeProto {
    let i = find(m, op);
    &mut graph(m).node[i]
}

/// A float32 initializer `name` of shape `dims`.
fn add_float(m: &mut ModelProto, name: &str, dims: &[i64], values: &[f32]) {
    graph(m).initializer.push(TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: 1,
        float_data: values.to_vec(),
        ..Default::default()
    });
}

fn set_attr(n: &mut NodeProto, name: &str, f: impl FnOnce(&mut AttributeProto)) {
    let i = match n.attribute.iter().position(|a| a.name == name) {
        Some(i) => i,
        None => {
            n.attribute.push(AttributeProto { name: name.into(), ..Default::default() });
            n.attribute.len() - 1
        }
    };
    f(&mut n.attribute[i]);
}

/// The error's variant name and message, which must name the node and the op.
fn expect_err(m: &ModelProto, kind: &str, needles: &[&str]) {
    let err = match import_proto(m) {
        Ok(_) => panic!("imported; expected {kind} with {needles:?}"),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert!(format!("{err:?}").starts_with(kind), "{err:?} (expected {kind})");
    for n in needles {
        assert!(msg.contains(n), "`{msg}` lacks `{n}`");
    }
}

/// Each node's inputs by role: x an int8 activation, s a scale, z a zero point, w the int8 weights, b the bias,
/// c a required constant (shape, axes), o an optional constant. Dropping or emptying an x, s, w or c input must
/// fail; every other change must at least not panic.
const ROLES: [(&str, &str); 15] = [
    ("QLinearConv", "xszwszszb"),
    ("QGemm", "xszwszbsz"),
    ("QLinearAdd", "xszxszsz"),
    ("QLinearMul", "xszxszsz"),
    ("QLinearConcat", "szxszxsz"),
    ("QLinearGlobalAveragePool", "xszsz"),
    ("QLinearAveragePool", "xszsz"),
    ("QLinearSigmoid", "xszsz"),
    ("QLinearLeakyRelu", "xszsz"),
    ("MaxPool", "x"),
    ("Reshape", "xc"),
    ("Transpose", "x"),
    ("Flatten", "x"),
    ("Squeeze", "xo"),
    ("Unsqueeze", "xc"),
];

const QOP_FIXTURES: [&str; 5] = [
    "mobilenet_v3_small_style_qop_int8.onnx",
    "efficientnet_lite_style_qop_int8.onnx",
    "shufflenet_style_qop_int8.onnx",
    "ops_zoo_opset13_qop_int8.onnx",
    "pad_pool_qop_int8.onnx",
];

/// For the first node of every QOperator op in every fixture: each input dropped (the input list cut before it),
/// emptied (""), and — for a scale — replaced by 0, −1, NaN and a two-value tensor.
#[test]
fn dropped_emptied_and_bad_scale_inputs_are_errors_not_panics() {
    let mut cases = 0;
    for file in QOP_FIXTURES {
        let base = load(file);
        assert!(import_proto(&base).is_ok(), "{file} imports as it is");
        for (op, roles) in ROLES {
            let Some(k) = base.graph.as_ref().unwrap().node.iter().position(|n| n.op_type == op) else { continue };
            let n_inputs = base.graph.as_ref().unwrap().node[k].input.len();
            let roles: Vec<char> = roles.chars().collect();
            // QLinearConcat: one triple per input, each x, s, z.
            let role = |i: usize| if op == "QLinearConcat" { ['s', 'z', 'x', 's', 'z'][if i < 2 { i } else { 2 + (i - 2) % 3 }] } else { roles[i] };
            let required = (0..n_inputs).filter(|&i| "xswc".contains(role(i))).max().map_or(0, |i| i + 1);
            for i in 0..n_inputs {
                let what = format!("{file}: {op} input {i} ({})", role(i));
                let mut m = base.clone();
                graph(&mut m).node[k].input.truncate(i);
                let r = import_proto(&m);
                assert!(i >= required || r.is_err(), "{what} dropped: imported");
                let mut m = base.clone();
                graph(&mut m).node[k].input[i] = String::new();
                let r = import_proto(&m);
                assert!(!"xswc".contains(role(i)) || r.is_err(), "{what} emptied: imported");
                if role(i) == 's' {
                    for (tag, dims, values) in
                        [("zero", &[][..], &[0.0f32][..]), ("negative", &[], &[-1.0]), ("nan", &[], &[f32::NAN]), ("pair", &[2], &[0.5, 0.5])]
                    {
                        let mut m = base.clone();
                        let name = format!("bad_scale_{tag}");
                        add_float(&mut m, &name, dims, values);
                        graph(&mut m).node[k].input[i] = name;
                        assert!(import_proto(&m).is_err(), "{what}: a {tag} scale imported");
                        cases += 1;
                    }
                }
                cases += 2;
            }
        }
    }
    println!("{cases} mutated QOperator inputs: no panic; every dropped or emptied required input and bad scale an error");
}

/// The attributes and layouts the IR cannot express are refused, naming node, op and what.
#[test]
fn unsupported_qoperator_attributes_are_named() {
    let shufflenet = load("shufflenet_style_qop_int8.onnx");
    let mobilenet = load("mobilenet_v3_small_style_qop_int8.onnx");
    let zoo = load("ops_zoo_opset13_qop_int8.onnx");
    let pool = load("pad_pool_qop_int8.onnx");

    let mut m = shufflenet.clone();
    set_attr(node(&mut m, "QLinearGlobalAveragePool"), "channels_last", |a| a.i = 1);
    expect_err(&m, "UnsupportedAttribute", &["/avgpool/GlobalAveragePool_quant", "QLinearGlobalAveragePool", "channels_last"]);

    let mut m = pool.clone();
    set_attr(node(&mut m, "QLinearAveragePool"), "channels_last", |a| a.i = 1);
    expect_err(&m, "UnsupportedAttribute", &["QLinearAveragePool", "channels_last"]);

    let mut m = pool.clone();
    set_attr(node(&mut m, "QLinearAveragePool"), "kernel_shape", |a| a.ints = vec![2, 0]);
    expect_err(&m, "Malformed", &["QLinearAveragePool", "kernel_shape"]);

    let mut m = pool.clone();
    set_attr(node(&mut m, "QLinearAveragePool"), "ceil_mode", |a| a.i = 1);
    expect_err(&m, "UnsupportedAttribute", &["QLinearAveragePool", "ceil_mode"]);

    let mut m = mobilenet.clone();
    set_attr(node(&mut m, "QGemm"), "alpha", |a| a.f = 2.0);
    expect_err(&m, "UnsupportedAttribute", &["QGemm", "alpha = 2"]);

    let mut m = mobilenet.clone();
    set_attr(node(&mut m, "QGemm"), "transA", |a| a.i = 1);
    expect_err(&m, "UnsupportedAttribute", &["QGemm", "transA"]);

    let mut m = mobilenet.clone();
    set_attr(node(&mut m, "QGemm"), "transB", |a| a.i = 7);
    expect_err(&m, "Malformed", &["QGemm", "transB = 7"]);

    let mut m = shufflenet.clone();
    set_attr(node(&mut m, "QLinearConcat"), "axis", |a| a.i = 2);
    expect_err(&m, "UnsupportedAttribute", &["/stage2/stage2.0/Concat_quant", "QLinearConcat", "axis 2"]);

    let mut m = shufflenet.clone();
    node(&mut m, "QLinearConcat").attribute.clear();
    expect_err(&m, "Malformed", &["QLinearConcat", "no axis"]);

    let mut m = shufflenet.clone();
    node(&mut m, "QLinearConcat").input.pop();
    expect_err(&m, "Malformed", &["QLinearConcat", "triples"]);

    // An input read with another tensor's quantization.
    let mut m = mobilenet.clone();
    let n = node(&mut m, "QLinearAdd");
    n.input[1] = n.input[4].clone();
    expect_err(&m, "Malformed", &["QLinearAdd", "is read with scale"]);

    // A uint8 output zero point.
    let mut m = zoo.clone();
    graph(&mut m).initializer.push(TensorProto { name: "zp_u8".into(), data_type: 2, int32_data: vec![128], ..Default::default() });
    node(&mut m, "QLinearLeakyRelu").input[4] = "zp_u8".into();
    expect_err(&m, "UnsupportedAttribute", &["QLinearLeakyRelu", "uint8"]);

    // QGemm without y_scale: a float output.
    let mut m = mobilenet.clone();
    node(&mut m, "QGemm").input[7] = String::new();
    expect_err(&m, "UnsupportedAttribute", &["QGemm", "float output"]);

    // int8 MaxPool without a kernel; int8 Reshape to a shape of another size; int8 Pad with another constant.
    let mut m = shufflenet.clone();
    node(&mut m, "MaxPool").attribute.retain(|a| a.name != "kernel_shape");
    expect_err(&m, "Malformed", &["/maxpool/MaxPool", "MaxPool", "kernel_shape"]);
    let mut m = shufflenet.clone();
    let shape = node(&mut m, "Reshape").input[1].clone();
    let init = graph(&mut m).initializer.iter_mut().find(|t| t.name == shape).unwrap();
    *init = TensorProto { name: shape, dims: vec![2], data_type: 7, int64_data: vec![3, -1], ..Default::default() };
    expect_err(&m, "Malformed", &["Reshape", "cannot reshape"]);
    let mut m = pool.clone();
    graph(&mut m).initializer.push(TensorProto { name: "pad_7".into(), data_type: 3, int32_data: vec![7], ..Default::default() });
    node(&mut m, "Pad").input[2] = "pad_7".into();
    expect_err(&m, "UnsupportedAttribute", &["Pad", "zero point"]);

    // A Relu on an int8 tensor would clamp raw integers.
    let mut m = shufflenet.clone();
    let n = node(&mut m, "MaxPool");
    n.op_type = "Relu".into();
    n.attribute.clear();
    expect_err(&m, "UnsupportedAttribute", &["/maxpool/MaxPool", "Relu", "int8 tensor"]);
}

/// com.microsoft is accepted for the QOperator ops zkinfer imports only, and those only in com.microsoft.
#[test]
fn microsoft_domain_is_accepted_for_the_imported_qlinear_ops_only() {
    let zoo = load("ops_zoo_opset13_qop_int8.onnx");
    // An onnxruntime op that is not imported (same inputs as QLinearSigmoid).
    let mut m = zoo.clone();
    let n = node(&mut m, "QLinearSigmoid");
    n.op_type = "QLinearSoftmax".into();
    let name = n.name.clone();
    expect_err(&m, "UnsupportedDomain", &[&name, "QLinearSoftmax", "com.microsoft"]);
    // A default-domain op moved to com.microsoft.
    let mut m = zoo.clone();
    node(&mut m, "QLinearConv").domain = "com.microsoft".into();
    expect_err(&m, "UnsupportedDomain", &["QLinearConv", "com.microsoft"]);
    // A com.microsoft op moved to the default domain, and to another domain.
    let mut m = zoo.clone();
    node(&mut m, "QLinearAdd").domain = String::new();
    expect_err(&m, "UnsupportedOp", &["/Add_quant", "QLinearAdd"]);
    let mut m = zoo.clone();
    node(&mut m, "QLinearMul").domain = "com.example".into();
    expect_err(&m, "UnsupportedDomain", &["/Mul_quant", "QLinearMul", "com.example"]);
}

/// QLinearAveragePool over the whole 2×2 map is QLinearGlobalAveragePool: shufflenet_style's global pool rewritten
/// as one imports to an AveragePool layer computing the same values (same multiplier s_x / (s_y · 4)).
#[test]
fn qlinear_average_pool_over_the_map_equals_the_global_pool() {
    let base = load("shufflenet_style_qop_int8.onnx");
    let mut m = base.clone();
    let n = node(&mut m, "QLinearGlobalAveragePool");
    n.op_type = "QLinearAveragePool".into();
    set_attr(n, "kernel_shape", |a| a.ints = vec![2, 2]);
    let (global, window) = (import_proto(&base).unwrap(), import_proto(&m).unwrap());
    let pool = window.layers.iter().find(|l| matches!(l.op, Op::AveragePool { .. })).expect("an AveragePool layer");
    assert_eq!(window.tensors[pool.inputs[0]].shape, vec![1, 192, 2, 2]);
    let x: Vec<i32> = (0..3 * 32 * 32).map(|i| (i * 37 % 255) - 128).collect();
    let run = |model: &QuantModel| zkinfer_import::reference::run(model, &x).unwrap();
    assert_eq!(run(&global), run(&window));
}
