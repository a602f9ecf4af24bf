//! The quantized model IR: integer weights and biases, zero points, and every float rescale factor M replaced by a
//! fixed-point a/b with ONE shared denominator b, so the circuit's division-and-clamp lookup serves every layer.
//!
//! Arithmetic (what the reference executor computes and the circuits prove), for an accumulator c (i64):
//!   requant(c) = clamp(floor((c·a + b/2) / b) + z_out, lo, hi)      with a = round(M·b), b = 2^denominator_bits.

/// Quantization of one int8 tensor: real = (q − zero_point) · scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QParams {
    pub scale: f32,
    pub zero_point: i32,
}

/// M ≈ a / 2^bits, with the float it approximates kept for error reporting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Multiplier {
    pub a: i64,
    pub float: f64,
}

impl Multiplier {
    pub fn new(m: f64, bits: u32) -> Self {
        Multiplier {
            a: (m * (1u64 << bits) as f64).round() as i64,
            float: m,
        }
    }
    /// |a/b − M| / M.
    pub fn relative_error(&self, bits: u32) -> f64 {
        if self.float == 0.0 {
            return 0.0;
        }
        ((self.a as f64 / (1u64 << bits) as f64) - self.float).abs() / self.float.abs()
    }
}

/// The output stage shared by every arithmetic layer: rescale, add the output zero point, clamp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Requant {
    pub multiplier: Multiplier,
    pub out: QParams,
    pub lo: i32,
    pub hi: i32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// NCHW convolution, OIHW int8 weights (per-tensor or per-output-channel scales folded into `requant`),
    /// int32 bias in the accumulator's scale. groups = 1 or groups = channels (depthwise).
    Conv {
        weights: Vec<i32>,
        weight_shape: [usize; 4],
        weight_zero_point: i32,
        bias: Vec<i64>,
        stride: [usize; 2],
        /// top, left, bottom, right
        pads: [usize; 4],
        groups: usize,
        /// One per output channel (equal when the weights are per-tensor).
        requant: Vec<Requant>,
    },
    /// y = x · Wᵀ + bias, W is [out][in] (Gemm, MatMul, QLinearMatMul).
    Gemm {
        weights: Vec<i32>,
        out_features: usize,
        in_features: usize,
        weight_zero_point: i32,
        bias: Vec<i64>,
        requant: Vec<Requant>,
    },
    /// y = requant(a_mult·(a − za) + b_mult·(b − zb)): each side rescaled to the output scale. The inputs broadcast
    /// (numpy rules) to the output's shape.
    Add {
        a_multiplier: Multiplier,
        b_multiplier: Multiplier,
        out: QParams,
        lo: i32,
        hi: i32,
    },
    /// y = requant((a − za)·(b − zb)) with M = s_a·s_b / s_y; the inputs broadcast (numpy rules) to the output's
    /// shape (squeeze-and-excite: [1,C,H,W] × [1,C,1,1]).
    Mul { requant: Requant },
    /// An elementwise int8 → int8 function (Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh with their
    /// input and output quantization): y = table[x + 128]. `function` names it (ONNX op type).
    Lookup { function: String, table: Vec<i32> },
    /// Window maximum; padded cells never win. Quantization passes through.
    MaxPool {
        kernel: [usize; 2],
        stride: [usize; 2],
        /// top, left, bottom, right
        pads: [usize; 4],
    },
    /// Axis permutation (Transpose): output axis i is input axis perm[i]; values and quantization pass through.
    Transpose { perm: Vec<usize> },
    /// Mean over H·W: requant(Σ (x − zx)) with M = s_x / (s_y · H·W).
    GlobalAveragePool { requant: Requant },
    /// Window mean: requant(Σ_window (x − zx)) with M = s_x / (s_y · kh·kw); padded cells count as zeros.
    AveragePool {
        kernel: [usize; 2],
        stride: [usize; 2],
        /// top, left, bottom, right
        pads: [usize; 4],
        requant: Requant,
    },
    /// Constant zero padding of H and W (cells take the zero point); quantization passes through.
    Pad {
        /// top, left, bottom, right
        pads: [usize; 4],
    },
    /// Shape change only (Reshape / Flatten); the values and quantization pass through.
    Reshape,
    /// Channels start..end of the input (axis 1); values and quantization pass through. Made by
    /// [`crate::split`], never imported.
    Slice { start: usize, end: usize },
    /// The inputs' channels one after the other (axis 1). An input with another quantization than the output's is
    /// rescaled first (`rescale[i]`: y = requant(x − z_x) with M = s_x / s_y); `None` passes it through.
    Concat { rescale: Vec<Option<Requant>> },
}

/// For each element of a tensor of shape `out`, the index of the element of a tensor of shape `inp` that numpy
/// broadcasting reads (shapes aligned at the right; a dimension of 1 repeats). None if `inp` does not broadcast.
pub fn broadcast_index(out: &[usize], inp: &[usize]) -> Option<Vec<usize>> {
    if inp.len() > out.len() {
        return None;
    }
    let lead = out.len() - inp.len();
    let dims: Vec<usize> = (0..out.len()).map(|i| if i < lead { 1 } else { inp[i - lead] }).collect();
    if dims.iter().zip(out).any(|(&d, &o)| d != o && d != 1) {
        return None;
    }
    let total: usize = out.iter().product();
    let mut idx = Vec::with_capacity(total);
    let mut pos = vec![0usize; out.len()];
    for _ in 0..total {
        let mut j = 0;
        for (&p, &d) in pos.iter().zip(&dims) {
            j = j * d + if d == 1 { 0 } else { p };
        }
        idx.push(j);
        for a in (0..out.len()).rev() {
            pos[a] += 1;
            if pos[a] < out[a] {
                break;
            }
            pos[a] = 0;
        }
    }
    Some(idx)
}

/// The numpy broadcast of two shapes, if they broadcast.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let at = |s: &[usize], i: usize| if i < n - s.len() { 1 } else { s[i - (n - s.len())] };
    (0..n)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// For each element of the output of a transpose with `perm` of a tensor of shape `inp`, its index in the input.
pub fn transpose_index(inp: &[usize], perm: &[usize]) -> Vec<usize> {
    let out: Vec<usize> = perm.iter().map(|&p| inp[p]).collect();
    let mut strides = vec![1usize; inp.len()];
    for a in (0..inp.len().saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * inp[a + 1];
    }
    let total: usize = out.iter().product();
    let mut idx = Vec::with_capacity(total);
    let mut pos = vec![0usize; out.len()];
    for _ in 0..total {
        idx.push(pos.iter().zip(perm).map(|(&p, &ax)| p * strides[ax]).sum());
        for a in (0..out.len()).rev() {
            pos[a] += 1;
            if pos[a] < out[a] {
                break;
            }
            pos[a] = 0;
        }
    }
    idx
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// The ONNX node this layer comes from.
    pub name: String,
    pub op: Op,
    /// Indices into `QuantModel::tensors`.
    pub inputs: Vec<usize>,
    pub output: usize,
}

/// An int8 activation tensor of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub q: QParams,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QuantModel {
    /// The float graph input's name and the quantization applied to it (tensor 0).
    pub input_name: String,
    pub tensors: Vec<TensorInfo>,
    pub layers: Vec<Layer>,
    /// Index of the output tensor (the int8 logits).
    pub output: usize,
    /// b = 2^denominator_bits, shared by every multiplier.
    pub denominator_bits: u32,
    /// The ONNX file's `metadata_props` (key, value), e.g. how images are normalised for the input (see
    /// [`QuantModel::meta`]). Not part of any commitment: it only guides input preparation.
    pub metadata: Vec<(String, String)>,
}

impl QuantModel {
    pub fn input(&self) -> &TensorInfo {
        &self.tensors[0]
    }
    pub fn output_info(&self) -> &TensorInfo {
        &self.tensors[self.output]
    }

    /// The value of one `metadata_props` key.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The architecture in a canonical text: the graph (ops, structural attributes, tensor wiring and shapes), the
    /// activation zero points and clamps, and b — everything a circuit with hidden weights is made of, and nothing
    /// learned (no weights, biases, scales or multipliers). Its digest names the model in keys and proofs when the
    /// weights are hidden, so a retrained model with the same architecture keeps its setup.
    pub fn architecture(&self) -> String {
        use std::fmt::Write;
        let mut s = format!("zkinfer-architecture/1 b=2^{} output={}\n", self.denominator_bits, self.output);
        for (i, t) in self.tensors.iter().enumerate() {
            let _ = writeln!(s, "tensor {i} shape={:?} z={}", t.shape, t.q.zero_point);
        }
        let clamp = |r: &Requant| format!("z={} clamp=[{},{}]", r.out.zero_point, r.lo, r.hi);
        for l in &self.layers {
            let op = match &l.op {
                Op::Conv { weights: _, weight_shape, weight_zero_point, bias: _, stride, pads, groups, requant } => format!(
                    "conv w={weight_shape:?} zw={weight_zero_point} stride={stride:?} pads={pads:?} groups={groups} {}",
                    requant.iter().map(clamp).collect::<Vec<_>>().join(";")
                ),
                Op::Gemm { weights: _, out_features, in_features, weight_zero_point, bias: _, requant } => format!(
                    "gemm out={out_features} in={in_features} zw={weight_zero_point} {}",
                    requant.iter().map(clamp).collect::<Vec<_>>().join(";")
                ),
                Op::Add { a_multiplier: _, b_multiplier: _, out, lo, hi } => format!("add z={} clamp=[{lo},{hi}]", out.zero_point),
                Op::Mul { requant } => format!("mul {}", clamp(requant)),
                // The table is derived from the input and output scales: part of the circuit's fixed columns.
                Op::Lookup { function, table } => format!("lookup {function} {table:?}"),
                Op::MaxPool { kernel, stride, pads } => format!("max-pool kernel={kernel:?} stride={stride:?} pads={pads:?}"),
                Op::Transpose { perm } => format!("transpose {perm:?}"),
                Op::GlobalAveragePool { requant } => format!("global-average-pool {}", clamp(requant)),
                Op::AveragePool { kernel, stride, pads, requant } => {
                    format!("average-pool kernel={kernel:?} stride={stride:?} pads={pads:?} {}", clamp(requant))
                }
                Op::Pad { pads } => format!("pad {pads:?}"),
                Op::Reshape => "reshape".into(),
                Op::Slice { start, end } => format!("slice {start}..{end}"),
                Op::Concat { rescale } => format!(
                    "concat {}",
                    rescale.iter().map(|r| r.as_ref().map_or("same".into(), clamp)).collect::<Vec<_>>().join(";")
                ),
            };
            let _ = writeln!(s, "layer {:?} -> {} {op}", l.inputs, l.output);
        }
        s
    }

    /// Multiply-accumulates of one layer.
    pub fn layer_macs(&self, l: &Layer) -> u64 {
        let out = &self.tensors[l.output].shape;
        match &l.op {
            Op::Conv { weight_shape, .. } => {
                (out.iter().product::<usize>() * weight_shape[1] * weight_shape[2] * weight_shape[3]) as u64
            }
            Op::Gemm { out_features, in_features, .. } => (out_features * in_features) as u64,
            _ => 0,
        }
    }

    /// Weights plus biases of one layer.
    pub fn layer_params(l: &Layer) -> u64 {
        match &l.op {
            Op::Conv { weights, bias, .. } | Op::Gemm { weights, bias, .. } => (weights.len() + bias.len()) as u64,
            _ => 0,
        }
    }

    /// Multiply-accumulates of one inference.
    pub fn macs(&self) -> u64 {
        self.layers.iter().map(|l| self.layer_macs(l)).sum()
    }

    /// Weights plus biases.
    pub fn params(&self) -> u64 {
        self.layers.iter().map(Self::layer_params).sum()
    }

    /// Largest relative error of a fixed-point multiplier, per layer name.
    pub fn multiplier_errors(&self) -> Vec<(String, f64)> {
        let bits = self.denominator_bits;
        self.layers
            .iter()
            .filter_map(|l| {
                let errs: Vec<f64> = match &l.op {
                    Op::Conv { requant, .. } | Op::Gemm { requant, .. } => {
                        requant.iter().map(|r| r.multiplier.relative_error(bits)).collect()
                    }
                    Op::Add { a_multiplier, b_multiplier, .. } => {
                        vec![a_multiplier.relative_error(bits), b_multiplier.relative_error(bits)]
                    }
                    Op::GlobalAveragePool { requant } | Op::AveragePool { requant, .. } | Op::Mul { requant } => {
                        vec![requant.multiplier.relative_error(bits)]
                    }
                    Op::Concat { rescale } if rescale.iter().any(Option::is_some) => {
                        rescale.iter().flatten().map(|r| r.multiplier.relative_error(bits)).collect()
                    }
                    Op::Reshape
                    | Op::Pad { .. }
                    | Op::Slice { .. }
                    | Op::Concat { .. }
                    | Op::Lookup { .. }
                    | Op::MaxPool { .. }
                    | Op::Transpose { .. } => return None,
                };
                Some((l.name.clone(), errs.into_iter().fold(0.0, f64::max)))
            })
            .collect()
    }
}
