//! Fuzzing the ONNX importer: the small fixture models with byte-level damage (truncations, flips, huge integers)
//! and structured edits of the decoded protobuf (attributes with too few or negative or huge values, kernels larger
//! than the input, dropped node inputs, inputs renamed to missing tensors, initializers whose dims or raw data
//! disagree, model inputs of 0 or 2^40 elements, …). `zkinfer_import::import` must return the model or an error,
//! never panic.

use proptest::prelude::*;
use proptest::sample::Index;
use prost::Message;
use tract_onnx::pb::{self, tensor_shape_proto::dimension, type_proto};
use zkinfer_testkit::fuzz;

const SEEDS: [&str; 4] = ["digits_int8.onnx", "pad_pool_int8.onnx", "qoperator_convs_int8.onnx", "matmul_int8.onnx"];

fn seed(i: usize) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(SEEDS[i])).unwrap()
}

/// Integers that break shapes and attributes.
fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        -3i64..12,
        proptest::sample::select(vec![i64::MIN, -1 << 40, i32::MIN as i64, i32::MAX as i64, 1 << 31, 1 << 40, i64::MAX]),
    ]
}

/// One structured edit; `Index`es pick the node, attribute, input or initializer.
#[derive(Clone, Debug)]
enum Edit {
    /// Replace an attribute's ints (pads with 0 or 1 entries, negative strides, huge kernels) or its int.
    AttrInts { node: Index, attr: Index, ints: Vec<i64> },
    AttrInt { node: Index, attr: Index, value: i64 },
    /// Drop an attribute.
    DropAttr { node: Index, attr: Index },
    DropInput { node: Index, input: Index },
    RenameInput { node: Index, input: Index },
    /// Another op type (one the importer knows, or not).
    OpType { node: Index, op: &'static str },
    DropNode { node: Index },
    /// An initializer's dims, or its raw data cut or grown.
    InitDims { init: Index, dims: Vec<i64> },
    InitRaw { init: Index, keep: u16, extra: u8 },
    InitType { init: Index, data_type: i32 },
    /// A dimension of the model's input.
    InputDim { dim: Index, value: i64 },
    /// The graph's output renamed (to a tensor nothing produces).
    RenameOutput,
}

fn edit() -> impl Strategy<Value = Edit> {
    let small_ints = || proptest::collection::vec(int(), 0..6);
    let ops = vec!["Conv", "QLinearConv", "MatMul", "QLinearMatMul", "MaxPool", "AveragePool", "Pad", "Relu", "Clip", "Add", "Reshape", "Flatten", "Gemm", "QuantizeLinear", "DequantizeLinear", "Transpose", "Concat", "Softmax", "Unknown"];
    prop_oneof![
        3 => (any::<Index>(), any::<Index>(), small_ints()).prop_map(|(node, attr, ints)| Edit::AttrInts { node, attr, ints }),
        1 => (any::<Index>(), any::<Index>(), int()).prop_map(|(node, attr, value)| Edit::AttrInt { node, attr, value }),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(node, attr)| Edit::DropAttr { node, attr }),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(node, input)| Edit::DropInput { node, input }),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(node, input)| Edit::RenameInput { node, input }),
        1 => (any::<Index>(), proptest::sample::select(ops)).prop_map(|(node, op)| Edit::OpType { node, op }),
        1 => any::<Index>().prop_map(|node| Edit::DropNode { node }),
        2 => (any::<Index>(), small_ints()).prop_map(|(init, dims)| Edit::InitDims { init, dims }),
        2 => (any::<Index>(), 0u16..1100, any::<u8>()).prop_map(|(init, keep, extra)| Edit::InitRaw { init, keep, extra }),
        1 => (any::<Index>(), proptest::sample::select(vec![0, 1, 2, 3, 6, 7, 10, 11, 16, 99])).prop_map(|(init, data_type)| Edit::InitType { init, data_type }),
        2 => (any::<Index>(), prop_oneof![Just(0i64), Just(-1), Just(1 << 40), Just(1 << 20), int()]).prop_map(|(dim, value)| Edit::InputDim { dim, value }),
        1 => Just(Edit::RenameOutput),
    ]
}

fn pick<'a, T>(v: &'a mut [T], i: &Index) -> Option<&'a mut T> {
    if v.is_empty() {
        None
    } else {
        let n = i.index(v.len());
        Some(&mut v[n])
    }
}

fn apply(model: &mut pb::ModelProto, e: &Edit) {
    let Some(g) = model.graph.as_mut() else { return };
    match e {
        Edit::AttrInts { node, attr, ints } => {
            if let Some(a) = pick(&mut g.node, node).and_then(|n| pick(&mut n.attribute, attr)) {
                a.ints = ints.clone();
            }
        }
        Edit::AttrInt { node, attr, value } => {
            if let Some(a) = pick(&mut g.node, node).and_then(|n| pick(&mut n.attribute, attr)) {
                a.i = *value;
            }
        }
        Edit::DropAttr { node, attr } => {
            if let Some(n) = pick(&mut g.node, node) {
                if !n.attribute.is_empty() {
                    let i = attr.index(n.attribute.len());
                    n.attribute.remove(i);
                }
            }
        }
        Edit::DropInput { node, input } => {
            if let Some(n) = pick(&mut g.node, node) {
                if !n.input.is_empty() {
                    let i = input.index(n.input.len());
                    n.input.remove(i);
                }
            }
        }
        Edit::RenameInput { node, input } => {
            if let Some(x) = pick(&mut g.node, node).and_then(|n| pick(&mut n.input, input)) {
                *x = "no_such_tensor".into();
            }
        }
        Edit::OpType { node, op } => {
            if let Some(n) = pick(&mut g.node, node) {
                n.op_type = op.to_string();
            }
        }
        Edit::DropNode { node } => {
            if !g.node.is_empty() {
                let i = node.index(g.node.len());
                g.node.remove(i);
            }
        }
        Edit::InitDims { init, dims } => {
            if let Some(t) = pick(&mut g.initializer, init) {
                t.dims = dims.clone();
            }
        }
        Edit::InitRaw { init, keep, extra } => {
            if let Some(t) = pick(&mut g.initializer, init) {
                let n = t.raw_data.len() * *keep as usize / 1000;
                t.raw_data.resize(n, 0);
                t.raw_data.extend(std::iter::repeat_n(0x5a, *extra as usize % 9));
            }
        }
        Edit::InitType { init, data_type } => {
            if let Some(t) = pick(&mut g.initializer, init) {
                t.data_type = *data_type;
            }
        }
        Edit::InputDim { dim, value } => {
            let shape = g
                .input
                .first_mut()
                .and_then(|i| i.r#type.as_mut())
                .and_then(|t| match t.value.as_mut() {
                    Some(type_proto::Value::TensorType(tt)) => tt.shape.as_mut(),
                    _ => None,
                });
            if let Some(d) = shape.and_then(|s| pick(&mut s.dim, dim)) {
                d.value = Some(dimension::Value::DimValue(*value));
            }
        }
        Edit::RenameOutput => {
            if let Some(o) = g.output.first_mut() {
                o.name = "no_such_output".into();
            }
        }
    }
}

/// Byte damage of the file, or structured edits of its protobuf.
fn mutated(seed_index: usize, bytes: &[fuzz::Mutation], edits: &[Edit], structured: bool) -> Vec<u8> {
    let s = seed(seed_index);
    if !structured {
        return fuzz::apply(&s, bytes, &[]);
    }
    let mut m = pb::ModelProto::decode(&s[..]).expect("the fixtures decode");
    for e in edits {
        apply(&mut m, e);
    }
    m.encode_to_vec()
}

proptest! {
    #![proptest_config(fuzz::config())]

    // What it found and the importer now refuses: an input dimension of 2^63 - 1 (its element count overflowed),
    // a QuantizeLinear without outputs.
    #[test]
    fn mutated_onnx_models_import_or_fail(
        seed_index in 0usize..SEEDS.len(),
        bytes in fuzz::mutations(),
        edits in proptest::collection::vec(edit(), 1..=3),
        structured in proptest::bool::weighted(0.75),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.onnx");
        std::fs::write(&p, mutated(seed_index, &bytes, &edits, structured)).unwrap();
        let _ = zkinfer_import::import(&p);
    }
}
