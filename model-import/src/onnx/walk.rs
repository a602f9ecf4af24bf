//! The graph walk: read the proto, index it, find the quantized input (tensor 0), hand every compute node to its
//! op's handler in graph order (the dispatch table [`OPS`]), append the layer it returns, and check the output.

use std::collections::HashMap;
use std::path::Path;

use tract_onnx::data_resolver::FopenDataResolver;
use tract_onnx::pb;
use tract_onnx::prelude::Framework;
use tract_onnx::tensor::load_tensor;

use super::graph::{not_quantized, Graph};
use super::node::{Imported, Node};
use super::{activation, add, concat, conv, gemm, mul, pad, pool, reshape};
use crate::error::{ImportError, Result};
use crate::ir::{Layer, QuantModel, TensorInfo};

/// Imports one compute node (see [`Node`] for what it can read).
type Handler = fn(&Node<'_>) -> Result<Imported>;

/// ONNX op_type → handler. A new op: its handler function (a new file for a new family) plus one line here.
const OPS: &[(&str, Handler)] = &[
    ("Conv", conv::conv),
    ("QLinearConv", conv::qlinear_conv),
    ("Gemm", gemm::gemm),
    ("MatMul", gemm::matmul),
    ("QLinearMatMul", gemm::qlinear_matmul),
    ("QGemm", gemm::qgemm),
    ("QLinearAdd", add::qlinear_add),
    ("QLinearMul", mul::qlinear_mul),
    ("QLinearConcat", concat::qlinear_concat),
    ("QLinearGlobalAveragePool", pool::qlinear_global_average_pool),
    ("QLinearAveragePool", pool::qlinear_average_pool),
    ("QLinearSigmoid", activation::qlinear_activation),
    ("QLinearLeakyRelu", activation::qlinear_activation),
    ("Add", add::add),
    ("AveragePool", pool::average_pool),
    ("Pad", pad::pad),
    ("Mul", mul::mul),
    ("Concat", concat::concat),
    ("GlobalAveragePool", pool::global_average_pool),
    ("ReduceMean", pool::reduce_mean),
    ("MaxPool", pool::max_pool),
    ("Reshape", reshape::reshape),
    ("Flatten", reshape::flatten),
    ("Squeeze", reshape::squeeze),
    ("Unsqueeze", reshape::unsqueeze),
    ("Transpose", reshape::transpose),
    ("Relu", activation::activation),
    ("Clip", activation::activation),
    ("LeakyRelu", activation::activation),
    ("HardSigmoid", activation::activation),
    ("HardSwish", activation::activation),
    ("Sigmoid", activation::activation),
    ("Tanh", activation::activation),
];

/// onnxruntime's QOperator ops in its `com.microsoft` domain that [`OPS`] imports; no other op of that domain is
/// accepted, and these are accepted in no other domain.
const MICROSOFT_OPS: [&str; 8] = [
    "QGemm",
    "QLinearAdd",
    "QLinearMul",
    "QLinearConcat",
    "QLinearGlobalAveragePool",
    "QLinearAveragePool",
    "QLinearSigmoid",
    "QLinearLeakyRelu",
];
const MICROSOFT: &str = "com.microsoft";

/// The largest input the importer takes (2^28 values: a 3×8192×8192 image fits).
const MAX_INPUT_ELEMENTS: usize = 1 << 28;

/// Ops that are structure, not layers.
const QDQ_OPS: [&str; 2] = ["QuantizeLinear", "DequantizeLinear"];

/// Relu / Clip right after a compute node (before its QuantizeLinear) narrow that node's clamp and are consumed by
/// its pattern; between a DequantizeLinear and a QuantizeLinear they are activation layers of their own.
const CLAMP_OPS: [&str; 2] = ["Relu", "Clip"];

/// Reads and imports an int8 ONNX model, QDQ or QOperator format. `denominator_bits` sets the shared b = 2^bits.
pub fn import(path: &Path, denominator_bits: u32) -> Result<QuantModel> {
    let unreadable = |reason: String| ImportError::Unreadable {
        path: path.display().to_string(),
        reason,
    };
    let proto = tract_onnx::onnx()
        .proto_model_for_path(path)
        .map_err(|e| unreadable(format!("{e:#}")))?;
    let graph = proto.graph.as_ref().ok_or_else(|| unreadable("the model has no graph".into()))?;
    let mut model = import_graph(graph, denominator_bits)?;
    model.metadata = proto.metadata_props.iter().map(|e| (e.key.clone(), e.value.clone())).collect();
    Ok(model)
}

fn import_graph(graph: &pb::GraphProto, bits: u32) -> Result<QuantModel> {
    let g = index(graph)?;
    let nodes = g.nodes;

    // The float graph input: static shape required.
    let input = graph
        .input
        .iter()
        .find(|i| !g.inits.contains_key(i.name.as_str()))
        .ok_or_else(|| ImportError::BadInputSpec {
            name: "?".into(),
            detail: "the graph has no non-constant input".into(),
        })?;
    let shape = input_shape(input)?;

    if !nodes.iter().any(|n| QDQ_OPS.contains(&n.op_type.as_str())) {
        let first = nodes.iter().find(|n| !QDQ_OPS.contains(&n.op_type.as_str())).ok_or_else(|| {
            ImportError::BadInputSpec {
                name: input.name.clone(),
                detail: "the graph has no nodes".into(),
            }
        })?;
        return Err(not_quantized(first, "the model has no QuantizeLinear / DequantizeLinear nodes (a float model)"));
    }

    // Tensor 0: the quantized graph input (the QuantizeLinear that consumes the float input).
    let q_in = g
        .consumers
        .get(input.name.as_str())
        .and_then(|c| c.iter().map(|&i| &nodes[i]).find(|n| n.op_type == "QuantizeLinear"))
        .ok_or_else(|| ImportError::BadInputSpec {
            name: input.name.clone(),
            detail: "the input is not quantized by a QuantizeLinear".into(),
        })?;
    let (q0, _, _) = g.quant_of(q_in)?;
    let mut tensors = vec![TensorInfo {
        name: q_in.output[0].clone(),
        shape,
        q: q0,
    }];
    let mut ids: HashMap<String, usize> = HashMap::new();
    ids.insert(q_in.output[0].clone(), 0);
    let mut layers = Vec::new();

    for n in nodes {
        if QDQ_OPS.contains(&n.op_type.as_str()) {
            continue;
        }
        if CLAMP_OPS.contains(&n.op_type.as_str())
            && !n.input.first().and_then(|i| g.node(i)).is_some_and(|p| p.op_type == "DequantizeLinear")
        {
            if n.input.first().is_some_and(|i| ids.contains_key(i)) {
                // On an int8 tensor (QOperator) it would clamp the raw integers: no compute node's clamp to narrow.
                return Err(ImportError::UnsupportedAttribute {
                    node: n.name.clone(),
                    op: n.op_type.clone(),
                    detail: "applied to an int8 tensor (quantize with onnxruntime, which folds it into the producer)".into(),
                });
            }
            continue;
        }
        let ms_op = MICROSOFT_OPS.contains(&n.op_type.as_str());
        let handler = OPS.iter().find(|(op, _)| *op == n.op_type).map(|&(_, h)| h);
        let Some(handler) = handler.filter(|_| ms_op == (n.domain == MICROSOFT)) else {
            return Err(ImportError::UnsupportedOp {
                node: n.name.clone(),
                op: n.op_type.clone(),
            });
        };
        let node = Node {
            proto: n,
            graph: &g,
            tensors: &tensors,
            ids: &ids,
            bits,
        };
        let Imported { op, inputs, shape, output } = handler(&node)?;
        let id = tensors.len();
        tensors.push(TensorInfo {
            name: output.name.clone(),
            shape,
            q: output.q,
        });
        ids.insert(output.name, id);
        layers.push(Layer {
            name: n.name.clone(),
            op,
            inputs,
            output: id,
        });
    }

    // The graph output must be the dequantized form of a quantized tensor.
    let out_name = &graph.output.first().ok_or_else(|| ImportError::BadInputSpec {
        name: "?".into(),
        detail: "the graph has no output".into(),
    })?.name;
    let output = g
        .node(out_name)
        .filter(|d| d.op_type == "DequantizeLinear")
        .and_then(|d| ids.get(d.input.first()?.as_str()).copied())
        .ok_or_else(|| ImportError::BadInputSpec {
            name: out_name.clone(),
            detail: "the graph output is not the DequantizeLinear of a quantized tensor".into(),
        })?;
    Ok(QuantModel {
        input_name: tensors[0].name.clone(),
        tensors,
        layers,
        output,
        denominator_bits: bits,
        metadata: Vec::new(),
    })
}

/// Checks every node's domain, loads the initializers, and indexes producers and consumers by tensor name.
fn index(graph: &pb::GraphProto) -> Result<Graph<'_>> {
    let nodes = &graph.node[..];
    for n in nodes {
        // Handlers read a node's first output, and a Q/DQ node's value and scale: check them once, here.
        if n.output.first().is_none_or(|o| o.is_empty()) {
            return Err(super::graph::err_malformed(n, "the node has no output"));
        }
        if QDQ_OPS.contains(&n.op_type.as_str()) && n.input.len() < 2 {
            return Err(super::graph::err_malformed(n, "a QuantizeLinear / DequantizeLinear needs its value and scale inputs"));
        }
        let microsoft = n.domain == MICROSOFT && MICROSOFT_OPS.contains(&n.op_type.as_str());
        if !(n.domain.is_empty() || n.domain == "ai.onnx" || microsoft) {
            return Err(ImportError::UnsupportedDomain {
                node: n.name.clone(),
                op: n.op_type.clone(),
                domain: n.domain.clone(),
            });
        }
    }
    let mut inits = HashMap::new();
    for t in &graph.initializer {
        let tensor = load_tensor(&FopenDataResolver, t, None).map_err(|e| ImportError::Malformed {
            node: t.name.clone(),
            op: "initializer".into(),
            detail: format!("{e:#}"),
        })?;
        inits.insert(t.name.as_str(), tensor);
    }
    let mut producer = HashMap::new();
    let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for o in &n.output {
            producer.insert(o.as_str(), i);
        }
        for inp in &n.input {
            consumers.entry(inp.as_str()).or_default().push(i);
        }
    }
    Ok(Graph {
        nodes,
        inits,
        producer,
        consumers,
    })
}

/// The float input's static shape (every dimension a fixed positive value).
fn input_shape(input: &pb::ValueInfoProto) -> Result<Vec<usize>> {
    let bad = |detail: String| ImportError::BadInputSpec {
        name: input.name.clone(),
        detail,
    };
    let tt = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(pb::type_proto::Value::TensorType(tt)) => tt,
        _ => return Err(bad("not a tensor".into())),
    };
    if tt.elem_type != pb::tensor_proto::DataType::Float as i32 {
        return Err(bad(format!("element type {} (float32 expected)", tt.elem_type)));
    }
    let dims = tt.shape.as_ref().ok_or_else(|| bad("unknown shape".into()))?;
    let shape = dims
        .dim
        .iter()
        .enumerate()
        .map(|(i, d)| match &d.value {
            Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) if *v > 0 => Ok(*v as usize),
            Some(pb::tensor_shape_proto::dimension::Value::DimParam(p)) => {
                Err(bad(format!("dimension {i} is dynamic (`{p}`); export with a fixed shape")))
            }
            _ => Err(bad(format!("dimension {i} is unknown; export with a fixed shape"))),
        })
        .collect::<Result<Vec<usize>>>()?;
    // Every tensor size is computed from this shape: bound it before anything multiplies or allocates.
    match shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) {
        Some(n) if n <= MAX_INPUT_ELEMENTS => Ok(shape),
        _ => Err(bad(format!("shape {shape:?} has more than {MAX_INPUT_ELEMENTS} elements"))),
    }
}
