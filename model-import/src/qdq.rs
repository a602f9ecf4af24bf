//! QDQ pattern recognition over the raw ONNX proto (tract-onnx's parser): every compute node reads activations
//! through `DequantizeLinear(QuantizeLinear(..))` and constant weights through `DequantizeLinear(initializer)`, and
//! its result goes (optionally through Relu / Clip) into one `QuantizeLinear`, which defines the int8 output tensor.

use std::collections::HashMap;
use std::path::Path;

use tract_onnx::data_resolver::FopenDataResolver;
use tract_onnx::pb::{self, NodeProto};
use tract_onnx::prelude::{Datum, DatumType, Framework, Tensor};
use tract_onnx::tensor::load_tensor;

use crate::error::{ImportError, Result};
use crate::ir::{Layer, Multiplier, Op, QParams, QuantModel, Requant, TensorInfo};

/// Ops that are structure, not layers.
const QDQ_OPS: [&str; 2] = ["QuantizeLinear", "DequantizeLinear"];

struct Graph<'a> {
    nodes: &'a [NodeProto],
    inits: HashMap<&'a str, Tensor>,
    producer: HashMap<&'a str, usize>,
    consumers: HashMap<&'a str, Vec<usize>>,
}

fn err_malformed(n: &NodeProto, detail: impl Into<String>) -> ImportError {
    ImportError::Malformed {
        node: n.name.clone(),
        op: n.op_type.clone(),
        detail: detail.into(),
    }
}

fn not_quantized(n: &NodeProto, detail: impl Into<String>) -> ImportError {
    ImportError::NotQuantized {
        node: n.name.clone(),
        op: n.op_type.clone(),
        detail: detail.into(),
    }
}

/// A constant tensor's values converted to T.
fn values<T: Datum + Copy>(t: &Tensor) -> std::result::Result<Vec<T>, String> {
    let c = t.cast_to::<T>().map_err(|e| e.to_string())?;
    let v = c.to_plain_array_view::<T>().map_err(|e| e.to_string())?;
    Ok(v.iter().copied().collect())
}

fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a pb::AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn attr_ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}

fn attr_int(n: &NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map_or(default, |a| a.i)
}

fn unsupported_attr(n: &NodeProto, detail: impl Into<String>) -> ImportError {
    ImportError::UnsupportedAttribute {
        node: n.name.clone(),
        op: n.op_type.clone(),
        detail: detail.into(),
    }
}

impl<'a> Graph<'a> {
    fn node(&self, output: &str) -> Option<&'a NodeProto> {
        self.producer.get(output).map(|&i| &self.nodes[i])
    }

    fn init(&self, n: &NodeProto, name: &str) -> Result<&Tensor> {
        self.inits.get(name).ok_or_else(|| err_malformed(n, format!("`{name}` is not a constant initializer")))
    }

    fn scalar_f32(&self, n: &NodeProto, name: &str) -> Result<f32> {
        let s = values::<f32>(self.init(n, name)?).map_err(|e| err_malformed(n, e))?;
        match s.as_slice() {
            [x] => Ok(*x),
            _ => Err(err_malformed(n, format!("`{name}` should be a scalar, has {} values", s.len()))),
        }
    }

    fn ints(&self, n: &NodeProto, name: &str) -> Result<Vec<i64>> {
        values::<i64>(self.init(n, name)?).map_err(|e| err_malformed(n, e))
    }

    /// Zero point value and the saturation range its type implies.
    fn zero_point(&self, n: &NodeProto, input: Option<&String>) -> Result<(i32, i32, i32)> {
        let Some(name) = input.filter(|s| !s.is_empty()) else {
            return Ok((0, 0, 255)); // ONNX default: uint8 zero point 0
        };
        let t = self.init(n, name)?;
        let range = match t.datum_type() {
            DatumType::I8 => (-128, 127),
            DatumType::U8 => (0, 255),
            other => return Err(unsupported_attr(n, format!("zero point of type {other:?} (int8/uint8 only)"))),
        };
        let z = self.ints(n, name)?;
        if z.len() != 1 {
            return Err(unsupported_attr(n, "per-channel activation zero points"));
        }
        Ok((z[0] as i32, range.0, range.1))
    }

    /// A QuantizeLinear node's output quantization and saturation range.
    fn quant_of(&self, q: &NodeProto) -> Result<(QParams, i32, i32)> {
        let scale = self.scalar_f32(q, &q.input[1])?;
        let (zp, lo, hi) = self.zero_point(q, q.input.get(2))?;
        Ok((QParams { scale, zero_point: zp }, lo, hi))
    }
}

/// Reads and imports a QDQ-quantized ONNX model. `denominator_bits` sets the shared b = 2^bits.
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
    let nodes = &graph.node[..];
    for n in nodes {
        if !(n.domain.is_empty() || n.domain == "ai.onnx") {
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
    let g = Graph {
        nodes,
        inits,
        producer,
        consumers,
    };

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
        let op = n.op_type.as_str();
        if QDQ_OPS.contains(&op) || op == "Relu" || op == "Clip" {
            continue; // consumed as part of a pattern
        }
        // Resolve the activation inputs through DequantizeLinear to int8 tensors.
        let act = |name: &str| -> Result<usize> {
            let dq = g
                .node(name)
                .filter(|d| d.op_type == "DequantizeLinear")
                .ok_or_else(|| not_quantized(n, format!("input `{name}` does not come from a DequantizeLinear")))?;
            ids.get(dq.input[0].as_str())
                .copied()
                .ok_or_else(|| not_quantized(n, format!("input `{name}` is not a quantized activation")))
        };
        // The output: through an optional Relu / Clip into one QuantizeLinear.
        let output_quant = || -> Result<(String, QParams, i32, i32)> {
            let mut name = n.output[0].as_str();
            let mut clamp: (Option<f32>, Option<f32>) = (None, None);
            loop {
                let cons = g.consumers.get(name).cloned().unwrap_or_default();
                let [only] = cons.as_slice() else {
                    return Err(not_quantized(n, format!("output `{name}` must feed exactly one QuantizeLinear")));
                };
                let c = &nodes[*only];
                match c.op_type.as_str() {
                    "QuantizeLinear" => {
                        let (q, mut lo, mut hi) = g.quant_of(c)?;
                        if let Some(min) = clamp.0 {
                            lo = lo.max(q.zero_point + (min / q.scale).round() as i32);
                        }
                        if let Some(max) = clamp.1 {
                            hi = hi.min(q.zero_point + (max / q.scale).round() as i32);
                        }
                        return Ok((c.output[0].clone(), q, lo, hi));
                    }
                    "Relu" => clamp.0 = Some(clamp.0.map_or(0.0, |m: f32| m.max(0.0))),
                    "Clip" => {
                        let min = c.input.get(1).filter(|s| !s.is_empty()).map(|s| g.scalar_f32(c, s)).transpose()?;
                        let max = c.input.get(2).filter(|s| !s.is_empty()).map(|s| g.scalar_f32(c, s)).transpose()?;
                        if let Some(m) = min {
                            clamp.0 = Some(clamp.0.map_or(m, |x| x.max(m)));
                        }
                        if let Some(m) = max {
                            clamp.1 = Some(clamp.1.map_or(m, |x| x.min(m)));
                        }
                    }
                    _ => return Err(not_quantized(n, format!("output `{name}` feeds {} `{}`", c.op_type, c.name))),
                }
                name = c.output[0].as_str();
            }
        };

        // QOperator format: activations arrive as int8 tensors, the output quantization is in the node's inputs.
        let qlinear_input = |name: &str| -> Result<usize> {
            ids.get(name).copied().ok_or_else(|| not_quantized(n, format!("input `{name}` is not an int8 tensor")))
        };
        let qlinear_output = |at: usize| -> Result<(String, QParams, i32, i32)> {
            let scale = g.scalar_f32(n, &n.input[at])?;
            let (zero_point, lo, hi) = g.zero_point(n, n.input.get(at + 1))?;
            Ok((n.output[0].clone(), QParams { scale, zero_point }, lo, hi))
        };
        let qlinear = op.starts_with("QLinear");

        let (layer_op, inputs, shape, out_name, yq) = match op {
            "Conv" | "QLinearConv" => {
                let x = if qlinear { qlinear_input(&n.input[0])? } else { act(&n.input[0])? };
                let xs = tensors[x].shape.clone();
                let (w, ws, zw, w_scales) = if qlinear {
                    weights_from(&g, n, &n.input[3], &n.input[4], n.input.get(5), 0, 4)?
                } else {
                    weights(&g, n, &n.input[1], 4)?
                };
                let w_scales = if w_scales.len() == 1 { vec![w_scales[0]; ws[0]] } else { w_scales };
                let groups = attr_int(n, "group", 1) as usize;
                if groups != 1 && !(groups == xs[1] && ws[1] == 1) {
                    return Err(unsupported_attr(n, format!("group = {groups} (only 1 or the channel count)")));
                }
                if let Some(d) = attr_ints(n, "dilations") {
                    if d.iter().any(|&v| v != 1) {
                        return Err(unsupported_attr(n, format!("dilations = {d:?} (only 1)")));
                    }
                }
                if attr(n, "auto_pad").is_some_and(|a| !a.s.is_empty() && a.s != b"NOTSET") {
                    return Err(unsupported_attr(n, "auto_pad (explicit pads only)"));
                }
                let strides = attr_ints(n, "strides").unwrap_or(vec![1, 1]);
                let pads = attr_ints(n, "pads").unwrap_or(vec![0, 0, 0, 0]);
                let (pt, pl, pb, pr) = (pads[0] as usize, pads[1] as usize, pads[2] as usize, pads[3] as usize);
                let oh = (xs[2] + pt + pb - ws[2]) / strides[0] as usize + 1;
                let ow = (xs[3] + pl + pr - ws[3]) / strides[1] as usize + 1;
                let (out_name, yq, lo, hi) = if qlinear { qlinear_output(6)? } else { output_quant()? };
                let bias_input = n.input.get(if qlinear { 8 } else { 2 });
                let bias = bias(&g, n, bias_input, ws[0], tensors[x].q.scale, &w_scales)?;
                let requant = per_channel_requant(tensors[x].q.scale, &w_scales, yq, lo, hi, bits);
                (
                    Op::Conv {
                        weights: w,
                        weight_shape: [ws[0], ws[1], ws[2], ws[3]],
                        weight_zero_point: zw,
                        bias,
                        stride: [strides[0] as usize, strides[1] as usize],
                        pads: [pt, pl, pb, pr],
                        groups,
                        requant,
                    },
                    vec![x],
                    vec![1, ws[0], oh, ow],
                    out_name,
                    yq,
                )
            }
            "Gemm" | "MatMul" | "QLinearMatMul" => {
                let x = if qlinear { qlinear_input(&n.input[0])? } else { act(&n.input[0])? };
                if attr_int(n, "transA", 0) != 0 {
                    return Err(unsupported_attr(n, "transA = 1"));
                }
                let (mut w, ws, zw, w_scales) = if qlinear {
                    // MatMul's B is [K][N]: per-column scales live on axis 1.
                    weights_from(&g, n, &n.input[3], &n.input[4], n.input.get(5), 1, 2)?
                } else {
                    weights(&g, n, &n.input[1], 2)?
                };
                let (out_f, in_f) = if !qlinear && attr_int(n, "transB", 0) == 1 {
                    (ws[0], ws[1])
                } else {
                    // W is [in][out]: store [out][in].
                    let t: Vec<i32> = (0..ws[1] * ws[0]).map(|i| w[(i % ws[0]) * ws[1] + i / ws[0]]).collect();
                    w = t;
                    (ws[1], ws[0])
                };
                let in_len: usize = tensors[x].shape.iter().product();
                if in_len != in_f {
                    return Err(err_malformed(n, format!("input has {in_len} values, weights expect {in_f}")));
                }
                let (out_name, yq, lo, hi) = if qlinear { qlinear_output(6)? } else { output_quant()? };
                let w_scales = if w_scales.len() == 1 { vec![w_scales[0]; out_f] } else { w_scales };
                let bias = if qlinear {
                    vec![0; out_f]
                } else {
                    bias(&g, n, n.input.get(2), out_f, tensors[x].q.scale, &w_scales)?
                };
                let requant = per_channel_requant(tensors[x].q.scale, &w_scales, yq, lo, hi, bits);
                (
                    Op::Gemm {
                        weights: w,
                        out_features: out_f,
                        in_features: in_f,
                        weight_zero_point: zw,
                        bias,
                        requant,
                    },
                    vec![x],
                    vec![1, out_f],
                    out_name,
                    yq,
                )
            }
            "Add" => {
                let a = act(&n.input[0])?;
                let b = act(&n.input[1])?;
                if tensors[a].shape != tensors[b].shape {
                    return Err(unsupported_attr(
                        n,
                        format!("broadcasting {:?} + {:?}", tensors[a].shape, tensors[b].shape),
                    ));
                }
                let (out_name, yq, lo, hi) = output_quant()?;
                let m = |t: usize| Multiplier::new(tensors[t].q.scale as f64 / yq.scale as f64, bits);
                (
                    Op::Add {
                        a_multiplier: m(a),
                        b_multiplier: m(b),
                        out: yq,
                        lo,
                        hi,
                    },
                    vec![a, b],
                    tensors[a].shape.clone(),
                    out_name,
                    yq,
                )
            }
            "GlobalAveragePool" => {
                let x = act(&n.input[0])?;
                let xs = tensors[x].shape.clone();
                let (out_name, yq, lo, hi) = output_quant()?;
                let hw = (xs[2] * xs[3]) as f64;
                let requant = Requant {
                    multiplier: Multiplier::new(tensors[x].q.scale as f64 / (yq.scale as f64 * hw), bits),
                    out: yq,
                    lo,
                    hi,
                };
                (Op::GlobalAveragePool { requant }, vec![x], vec![1, xs[1], 1, 1], out_name, yq)
            }
            "AveragePool" => {
                let x = act(&n.input[0])?;
                let xs = tensors[x].shape.clone();
                let k = attr_ints(n, "kernel_shape").ok_or_else(|| err_malformed(n, "no kernel_shape"))?;
                let strides = attr_ints(n, "strides").unwrap_or(vec![1, 1]);
                let pads = attr_ints(n, "pads").unwrap_or(vec![0, 0, 0, 0]);
                if pads.iter().any(|&p| p != 0) && attr_int(n, "count_include_pad", 0) == 0 {
                    return Err(unsupported_attr(n, "padding with count_include_pad = 0 (a per-position divisor)"));
                }
                if attr_int(n, "ceil_mode", 0) != 0 {
                    return Err(unsupported_attr(n, "ceil_mode = 1"));
                }
                let (pt, pl, pb, pr) = (pads[0] as usize, pads[1] as usize, pads[2] as usize, pads[3] as usize);
                let (kh, kw) = (k[0] as usize, k[1] as usize);
                let oh = (xs[2] + pt + pb - kh) / strides[0] as usize + 1;
                let ow = (xs[3] + pl + pr - kw) / strides[1] as usize + 1;
                let (out_name, yq, lo, hi) = output_quant()?;
                let requant = Requant {
                    multiplier: Multiplier::new(
                        tensors[x].q.scale as f64 / (yq.scale as f64 * (kh * kw) as f64),
                        bits,
                    ),
                    out: yq,
                    lo,
                    hi,
                };
                let op = Op::AveragePool {
                    kernel: [kh, kw],
                    stride: [strides[0] as usize, strides[1] as usize],
                    pads: [pt, pl, pb, pr],
                    requant,
                };
                (op, vec![x], vec![1, xs[1], oh, ow], out_name, yq)
            }
            "Pad" => {
                let x = act(&n.input[0])?;
                let xs = tensors[x].shape.clone();
                let mode = attr(n, "mode").map_or(&b"constant"[..], |a| a.s.as_slice());
                if mode != b"constant" {
                    return Err(unsupported_attr(n, format!("mode = {}", String::from_utf8_lossy(mode))));
                }
                if let Some(v) = n.input.get(2).filter(|s| !s.is_empty()) {
                    if g.scalar_f32(n, v)? != 0.0 {
                        return Err(unsupported_attr(n, "a non-zero constant value"));
                    }
                }
                let p = g.ints(n, &n.input[1])?;
                // [n_begin, c_begin, h_begin, w_begin, n_end, c_end, h_end, w_end]
                if p.len() != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 || p.iter().any(|&v| v < 0) {
                    return Err(unsupported_attr(n, format!("pads {p:?} (non-negative, spatial only)")));
                }
                let pads = [p[2] as usize, p[3] as usize, p[6] as usize, p[7] as usize];
                let (out_name, yq, _, _) = output_quant()?;
                if yq != tensors[x].q {
                    return Err(unsupported_attr(n, "a pad that changes the quantization"));
                }
                let shape = vec![1, xs[1], xs[2] + pads[0] + pads[2], xs[3] + pads[1] + pads[3]];
                (Op::Pad { pads }, vec![x], shape, out_name, yq)
            }
            "Reshape" | "Flatten" => {
                let x = act(&n.input[0])?;
                let xs = tensors[x].shape.clone();
                let total: usize = xs.iter().product();
                let shape = if op == "Flatten" {
                    let axis = attr_int(n, "axis", 1) as usize;
                    vec![xs[..axis].iter().product(), xs[axis..].iter().product()]
                } else {
                    let target = g.ints(n, &n.input[1])?;
                    let known: usize = target
                        .iter()
                        .enumerate()
                        .map(|(i, &d)| if d == 0 { xs[i] } else if d < 0 { 1 } else { d as usize })
                        .product();
                    target
                        .iter()
                        .enumerate()
                        .map(|(i, &d)| if d == 0 { xs[i] } else if d < 0 { total / known } else { d as usize })
                        .collect()
                };
                let (out_name, yq, _, _) = output_quant()?;
                if yq != tensors[x].q {
                    return Err(unsupported_attr(n, "a reshape that changes the quantization"));
                }
                (Op::Reshape, vec![x], shape, out_name, yq)
            }
            _ => {
                return Err(ImportError::UnsupportedOp {
                    node: n.name.clone(),
                    op: n.op_type.clone(),
                })
            }
        };
        let id = tensors.len();
        tensors.push(TensorInfo {
            name: out_name.clone(),
            shape,
            q: yq,
        });
        ids.insert(out_name, id);
        layers.push(Layer {
            name: n.name.clone(),
            op: layer_op,
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
        .and_then(|d| ids.get(d.input[0].as_str()).copied())
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

/// One output stage per output channel: M_c = s_x · s_w,c / s_y.
fn per_channel_requant(sx: f32, w_scales: &[f32], yq: QParams, lo: i32, hi: i32, bits: u32) -> Vec<Requant> {
    w_scales
        .iter()
        .map(|&sw| Requant {
            multiplier: Multiplier::new(sx as f64 * sw as f64 / yq.scale as f64, bits),
            out: yq,
            lo,
            hi,
        })
        .collect()
}

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
    dims.dim
        .iter()
        .enumerate()
        .map(|(i, d)| match &d.value {
            Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) if *v > 0 => Ok(*v as usize),
            Some(pb::tensor_shape_proto::dimension::Value::DimParam(p)) => {
                Err(bad(format!("dimension {i} is dynamic (`{p}`); export with a fixed shape")))
            }
            _ => Err(bad(format!("dimension {i} is unknown; export with a fixed shape"))),
        })
        .collect()
}

/// int8 weights behind a DequantizeLinear: values, shape, zero point, per-output-channel scales.
fn weights(g: &Graph<'_>, n: &NodeProto, name: &str, rank: usize) -> Result<(Vec<i32>, Vec<usize>, i32, Vec<f32>)> {
    let dq = g
        .node(name)
        .filter(|d| d.op_type == "DequantizeLinear")
        .ok_or_else(|| not_quantized(n, format!("weights `{name}` are not an int8 DequantizeLinear")))?;
    let axis = attr_int(dq, "axis", 1) as usize;
    weights_from(g, n, &dq.input[0], &dq.input[1], dq.input.get(2), axis, rank)
}

/// int8 weight initializer with its scale(s) and zero point. `channel_axis` is the axis per-channel scales run along
/// (it must be the output channels: 0 for conv OIHW and Gemm's transB [N][K], 1 for MatMul's [K][N]).
fn weights_from(
    g: &Graph<'_>,
    n: &NodeProto,
    name: &str,
    scale: &str,
    zero_point: Option<&String>,
    channel_axis: usize,
    rank: usize,
) -> Result<(Vec<i32>, Vec<usize>, i32, Vec<f32>)> {
    let t = g.init(n, name)?;
    if !matches!(t.datum_type(), DatumType::I8 | DatumType::U8) {
        return Err(not_quantized(n, format!("weights of type {:?}", t.datum_type())));
    }
    let shape = t.shape().to_vec();
    if shape.len() != rank {
        return Err(err_malformed(n, format!("weights have rank {}, expected {rank}", shape.len())));
    }
    let w: Vec<i32> = g.ints(n, name)?.into_iter().map(|v| v as i32).collect();
    let scales: Vec<f32> = values::<f32>(g.init(n, scale)?).map_err(|e| err_malformed(n, e))?;
    let zps = match zero_point.filter(|s| !s.is_empty()) {
        Some(z) => g.ints(n, z)?,
        None => vec![0],
    };
    if zps.iter().any(|&z| z != zps[0]) {
        return Err(unsupported_attr(n, "per-channel weight zero points that differ"));
    }
    if scales.len() != 1 && (channel_axis >= rank || scales.len() != shape[channel_axis]) {
        return Err(unsupported_attr(n, "per-channel weight scales on an axis other than the output channels"));
    }
    // One scale (per-tensor) or one per output channel; callers expand the former.
    Ok((w, shape, zps[0] as i32, scales))
}

/// int32 bias in the accumulator's scale (s_x · s_w per channel): from a DequantizeLinear, an int32 initializer
/// (QLinearConv), or a float initializer quantized here.
fn bias(g: &Graph<'_>, n: &NodeProto, name: Option<&String>, len: usize, sx: f32, sw: &[f32]) -> Result<Vec<i64>> {
    let Some(name) = name.filter(|s| !s.is_empty()) else {
        return Ok(vec![0; len]);
    };
    if let Some(dq) = g.node(name).filter(|d| d.op_type == "DequantizeLinear") {
        let v = g.ints(dq, &dq.input[0])?;
        if v.len() != len {
            return Err(err_malformed(n, format!("bias has {} values, expected {len}", v.len())));
        }
        return Ok(v);
    }
    let t = g.init(n, name)?;
    if t.datum_type() == DatumType::I32 {
        // QLinearConv's B: already int32 in the accumulator's scale.
        let v = g.ints(n, name)?;
        if v.len() != len {
            return Err(err_malformed(n, format!("bias has {} values, expected {len}", v.len())));
        }
        return Ok(v);
    }
    let f = values::<f32>(t).map_err(|e| err_malformed(n, e))?;
    if f.len() != len {
        return Err(err_malformed(n, format!("bias has {} values, expected {len}", f.len())));
    }
    Ok(f.iter().zip(sw).map(|(&b, &s)| (b as f64 / (sx as f64 * s as f64)).round() as i64).collect())
}
