//! Synthetic quantized models for the circuit tests, built directly as IR (random int8 weights, multipliers chosen
//! so activations stay in range), and MockProver helpers.
#![allow(dead_code)]

use std::sync::Arc;

use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use zkinfer_circuits::{ModelCircuit, Visibility};
use zkinfer_import::ir::{Layer, Multiplier, Op, QParams, QuantModel, Requant, TensorInfo};

pub const BITS: u32 = 24;

pub struct Builder {
    pub rng: ChaCha8Rng,
    pub model: QuantModel,
}

fn q(z: i32) -> QParams {
    QParams { scale: 0.05, zero_point: z }
}

impl Builder {
    pub fn new(seed: u64, input_shape: &[usize], zx: i32) -> Self {
        let model = QuantModel {
            input_name: "x".into(),
            tensors: vec![TensorInfo { name: "x".into(), shape: input_shape.to_vec(), q: q(zx) }],
            layers: vec![],
            output: 0,
            denominator_bits: BITS,
            metadata: vec![],
        };
        Builder { rng: ChaCha8Rng::seed_from_u64(seed), model }
    }

    pub fn int8(&mut self) -> i32 {
        (self.rng.next_u32() % 256) as i32 - 128
    }

    fn small(&mut self, r: i32) -> i32 {
        (self.rng.next_u32() % (2 * r as u32 + 1)) as i32 - r
    }

    fn tensor(&mut self, name: &str, shape: Vec<usize>, z: i32) -> usize {
        self.model.tensors.push(TensorInfo { name: name.into(), shape, q: q(z) });
        self.model.tensors.len() - 1
    }

    fn push(&mut self, name: &str, op: Op, inputs: Vec<usize>, shape: Vec<usize>, z: i32) -> usize {
        let out = self.tensor(name, shape, z);
        self.model.layers.push(Layer { name: name.into(), op, inputs, output: out });
        self.model.output = out;
        out
    }

    /// A requant whose multiplier maps a dot product of `taps` int8 terms roughly onto int8.
    fn requant(&mut self, taps: usize, z: i32, relu: bool) -> Requant {
        let m = 1.0 / (taps as f64 * 40.0) * (1.0 + (self.rng.next_u32() % 100) as f64 / 100.0);
        Requant { multiplier: Multiplier::new(m, BITS), out: q(z), lo: if relu { z } else { -128 }, hi: 127 }
    }

    pub fn conv(&mut self, x: usize, co: usize, k: usize, stride: usize, pad: usize, groups: usize, relu: bool) -> usize {
        let s = self.model.tensors[x].shape.clone();
        let ci = s[1];
        let cig = ci / groups;
        let oh = (s[2] + 2 * pad - k) / stride + 1;
        let ow = (s[3] + 2 * pad - k) / stride + 1;
        let weights = (0..co * cig * k * k).map(|_| self.small(60)).collect();
        let bias = (0..co).map(|_| self.small(2000) as i64).collect();
        let z = self.small(20);
        let requant = (0..co).map(|_| self.requant(cig * k * k, z, relu)).collect();
        let n = self.model.layers.len();
        let op = Op::Conv {
            weights,
            weight_shape: [co, cig, k, k],
            weight_zero_point: 0,
            bias,
            stride: [stride, stride],
            pads: [pad; 4],
            groups,
            requant,
        };
        self.push(&format!("conv{n}"), op, vec![x], vec![1, co, oh, ow], z)
    }

    pub fn gemm(&mut self, x: usize, out: usize) -> usize {
        let inf: usize = self.model.tensors[x].shape.iter().product();
        let weights = (0..out * inf).map(|_| self.small(60)).collect();
        let bias = (0..out).map(|_| self.small(2000) as i64).collect();
        let z = self.small(20);
        let requant = (0..out).map(|_| self.requant(inf, z, false)).collect();
        let n = self.model.layers.len();
        let op = Op::Gemm { weights, out_features: out, in_features: inf, weight_zero_point: 0, bias, requant };
        self.push(&format!("fc{n}"), op, vec![x], vec![1, out], z)
    }

    pub fn add(&mut self, a: usize, b: usize) -> usize {
        let shape = zkinfer_import::ir::broadcast_shape(&self.model.tensors[a].shape, &self.model.tensors[b].shape).unwrap();
        let z = self.small(20);
        let op = Op::Add {
            a_multiplier: Multiplier::new(0.6, BITS),
            b_multiplier: Multiplier::new(0.45, BITS),
            out: q(z),
            lo: -128,
            hi: 127,
        };
        let n = self.model.layers.len();
        self.push(&format!("add{n}"), op, vec![a, b], shape, z)
    }

    pub fn gap(&mut self, x: usize) -> usize {
        let s = self.model.tensors[x].shape.clone();
        let z = self.small(20);
        let requant = Requant { multiplier: Multiplier::new(1.0 / (s[2] * s[3]) as f64, BITS), out: q(z), lo: -128, hi: 127 };
        let n = self.model.layers.len();
        self.push(&format!("gap{n}"), Op::GlobalAveragePool { requant }, vec![x], vec![1, s[1], 1, 1], z)
    }

    pub fn avg_pool(&mut self, x: usize, k: usize, stride: usize, pad: usize) -> usize {
        let s = self.model.tensors[x].shape.clone();
        let z = self.small(20);
        let requant = Requant { multiplier: Multiplier::new(1.0 / (k * k) as f64, BITS), out: q(z), lo: -128, hi: 127 };
        let (oh, ow) = ((s[2] + 2 * pad - k) / stride + 1, (s[3] + 2 * pad - k) / stride + 1);
        let n = self.model.layers.len();
        let op = Op::AveragePool { kernel: [k, k], stride: [stride, stride], pads: [pad; 4], requant };
        self.push(&format!("pool{n}"), op, vec![x], vec![1, s[1], oh, ow], z)
    }

    pub fn pad(&mut self, x: usize, p: usize) -> usize {
        let s = self.model.tensors[x].shape.clone();
        let z = self.model.tensors[x].q.zero_point;
        let n = self.model.layers.len();
        self.push(&format!("pad{n}"), Op::Pad { pads: [p; 4] }, vec![x], vec![1, s[1], s[2] + 2 * p, s[3] + 2 * p], z)
    }

    pub fn flatten(&mut self, x: usize) -> usize {
        let s = self.model.tensors[x].shape.clone();
        let z = self.model.tensors[x].q.zero_point;
        let n = self.model.layers.len();
        self.push(&format!("flatten{n}"), Op::Reshape, vec![x], vec![1, s.iter().skip(1).product()], z)
    }

    /// Elementwise product (numpy broadcasting), rescaled roughly onto int8.
    pub fn mul(&mut self, a: usize, b: usize) -> usize {
        let shape = zkinfer_import::ir::broadcast_shape(&self.model.tensors[a].shape, &self.model.tensors[b].shape).unwrap();
        let z = self.small(20);
        let requant = self.requant(3, z, false);
        let n = self.model.layers.len();
        self.push(&format!("mul{n}"), Op::Mul { requant }, vec![a, b], shape, z)
    }

    /// An elementwise function given by its table (256 outputs for x = −128..127).
    pub fn lookup(&mut self, x: usize, function: &str, table: Vec<i32>) -> usize {
        let shape = self.model.tensors[x].shape.clone();
        let z = self.small(20);
        let n = self.model.layers.len();
        self.push(&format!("{function}{n}"), Op::Lookup { function: function.into(), table }, vec![x], shape, z)
    }

    /// A random non-decreasing table (the shape of every activation's quantized map).
    pub fn random_table(&mut self) -> Vec<i32> {
        let mut v = -128;
        (0..256).map(|_| {
            v = (v + (self.rng.next_u32() % 3) as i32).min(127);
            v
        }).collect()
    }

    pub fn max_pool(&mut self, x: usize, k: usize, stride: usize, pad: usize) -> usize {
        let s = self.model.tensors[x].shape.clone();
        let z = self.model.tensors[x].q.zero_point;
        let (oh, ow) = ((s[2] + 2 * pad - k) / stride + 1, (s[3] + 2 * pad - k) / stride + 1);
        let n = self.model.layers.len();
        let op = Op::MaxPool { kernel: [k, k], stride: [stride, stride], pads: [pad; 4] };
        self.push(&format!("maxpool{n}"), op, vec![x], vec![1, s[1], oh, ow], z)
    }

    pub fn reshape(&mut self, x: usize, shape: Vec<usize>) -> usize {
        let z = self.model.tensors[x].q.zero_point;
        let n = self.model.layers.len();
        self.push(&format!("reshape{n}"), Op::Reshape, vec![x], shape, z)
    }

    pub fn transpose(&mut self, x: usize, perm: Vec<usize>) -> usize {
        let s = self.model.tensors[x].shape.clone();
        let z = self.model.tensors[x].q.zero_point;
        let n = self.model.layers.len();
        let shape = perm.iter().map(|&p| s[p]).collect();
        self.push(&format!("transpose{n}"), Op::Transpose { perm }, vec![x], shape, z)
    }

    /// Channel concatenation; inputs whose zero point differs from the output's are rescaled.
    pub fn concat(&mut self, xs: Vec<usize>, z: i32) -> usize {
        let mut shape = self.model.tensors[xs[0]].shape.clone();
        shape[1] = xs.iter().map(|&t| self.model.tensors[t].shape[1]).sum();
        let rescale = xs
            .iter()
            .map(|&t| {
                (self.model.tensors[t].q.zero_point != z)
                    .then(|| Requant { multiplier: Multiplier::new(0.8, BITS), out: q(z), lo: -128, hi: 127 })
            })
            .collect();
        let n = self.model.layers.len();
        self.push(&format!("concat{n}"), Op::Concat { rescale }, xs, shape, z)
    }

    pub fn input(&mut self) -> Vec<i32> {
        let n: usize = self.model.tensors[0].shape.iter().product();
        (0..n).map(|_| self.int8()).collect()
    }

    pub fn finish(self) -> Arc<QuantModel> {
        Arc::new(self.model)
    }
}

/// MobileNet v2's inverted-residual block: expand 1×1 (ReLU), depthwise 3×3 (ReLU), project 1×1, residual add.
pub fn inverted_residual(seed: u64, c: usize, hw: usize, expand: usize) -> (Arc<QuantModel>, Vec<i32>) {
    let mut b = Builder::new(seed, &[1, c, hw, hw], 3);
    let e = b.conv(0, c * expand, 1, 1, 0, 1, true);
    let d = b.conv(e, c * expand, 3, 1, 1, c * expand, true);
    let p = b.conv(d, c, 1, 1, 0, 1, false);
    b.add(0, p);
    let input = b.input();
    (b.finish(), input)
}

/// The mobile-CNN ops in one small network: a stem conv, MaxPool, a table activation, a squeeze-and-excite
/// (global pool, 1×1 conv, table, broadcast Mul), a channel shuffle (reshape, transpose, reshape) after a Concat of
/// a rescaled and a passed-through branch, a broadcast Add, global pool and a classifier.
pub fn mobile_ops(seed: u64) -> (Arc<QuantModel>, Vec<i32>) {
    let mut b = Builder::new(seed, &[1, 3, 6, 6], 4);
    let stem = b.conv(0, 4, 3, 1, 1, 1, true);
    let pooled = b.max_pool(stem, 3, 2, 1);
    let t = b.random_table();
    let act = b.lookup(pooled, "HardSwish", t);
    let squeezed = b.gap(act);
    let fc = b.conv(squeezed, 4, 1, 1, 0, 1, false);
    let t = b.random_table();
    let gate = b.lookup(fc, "HardSigmoid", t);
    let scaled = b.mul(act, gate);
    let branch = b.conv(scaled, 4, 1, 1, 0, 1, true);
    let z = b.model.tensors[branch].q.zero_point;
    let cat = b.concat(vec![scaled, branch], z);
    let s = b.model.tensors[cat].shape.clone();
    let g = b.reshape(cat, vec![1, 2, s[1] / 2, s[2], s[3]]);
    let tr = b.transpose(g, vec![0, 2, 1, 3, 4]);
    let shuffled = b.reshape(tr, s.clone());
    let bias = b.gap(shuffled);
    let sum = b.add(shuffled, bias);
    let pooled = b.gap(sum);
    let flat = b.flatten(pooled);
    b.gemm(flat, 5);
    let input = b.input();
    (b.finish(), input)
}

/// MockProver must accept the circuit, and its public output must equal the integer reference's.
pub fn check(model: Arc<QuantModel>, input: Vec<i32>, vis: Visibility) -> ModelCircuit {
    let circuit = ModelCircuit::new(model.clone(), input.clone(), vis).expect("circuit builds");
    let layout = circuit.dry_run().expect("layout");
    let reference = zkinfer_import::reference::run(&model, &input).unwrap();
    assert_eq!(layout.output, reference, "circuit output differs from the integer reference");
    let instances = circuit.instances().unwrap();
    assert_eq!(layout.public, instances, "in-circuit public values differ from the native ones");
    let planned: usize = zkinfer_circuits::plan::section_rows(&model, &vis, &circuit.shape).iter().map(|s| s.1).sum();
    assert_eq!(layout.rows, planned, "stats' row count differs from the layout's");
    let prover = MockProver::<Fr>::run(circuit.k(), &circuit, vec![instances]).unwrap();
    prover.assert_satisfied_par();
    circuit
}

/// One segment (layers start..end) of `model` on `input`, with distinct nonzero salts: MockProver must accept it,
/// its leaving tensors must equal the integer reference's, its public values the native ones, and its rows the
/// planner's count.
pub fn check_segment(model: &Arc<QuantModel>, input: &[i32], start: usize, end: usize, vis: Visibility) -> ModelCircuit {
    use zkinfer_circuits::{plan::plan_segment, Salts, Segment};
    let values = zkinfer_import::reference::run_all(model, input).unwrap();
    let seg = Segment::new(model, start, end);
    let inputs = seg.inputs.iter().map(|&t| values[t].clone()).collect();
    let shape = plan_segment(model, &seg, &vis).expect("segment plans");
    let mut circuit = ModelCircuit::segment(model.clone(), seg.clone(), inputs, vis, shape).expect("segment builds");
    let mut salt = 1000u64;
    let mut next = || {
        salt += 1;
        Fr::from(salt)
    };
    circuit.salts = Salts {
        weights: next(),
        inputs: seg.inputs.iter().map(|_| next()).collect(),
        outputs: seg.outputs.iter().map(|_| next()).collect(),
    };
    let layout = circuit.dry_run().expect("layout");
    let want: Vec<Vec<i32>> = seg.outputs.iter().map(|&t| values[t].clone()).collect();
    assert_eq!(layout.outputs, want, "segment outputs differ from the integer reference");
    let instances = circuit.instances().unwrap();
    assert_eq!(layout.public, instances, "in-circuit public values differ from the native ones");
    let planned: usize =
        zkinfer_circuits::plan::segment_rows(model, &seg, &vis, &circuit.shape).iter().map(|s| s.1).sum();
    assert_eq!(layout.rows, planned, "stats' row count differs from the layout's");
    let prover = MockProver::<Fr>::run(circuit.k(), &circuit, vec![instances]).unwrap();
    prover.assert_satisfied_par();
    circuit
}

pub const HIDDEN: Visibility = Visibility::HIDDEN_WEIGHTS_AND_INPUT;
pub const PUBLIC: Visibility = Visibility { hide_input: false, hide_weights: false, hide_output: false };
pub const ALL_HIDDEN: Visibility = Visibility { hide_input: true, hide_weights: true, hide_output: true };
