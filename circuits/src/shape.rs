//! The circuit's shape (columns, lanes, dot-product width) — `Circuit::Params` — and the planner that picks it from
//! the model so the total committed cells are smallest.

use zkinfer_import::ir::Op;
use zkinfer_import::QuantModel;

use crate::commit::PACK;
use crate::error::{CircuitError, Result};
use crate::gadgets;
use crate::model::Visibility;
use crate::poseidon;

/// Largest k we plan for (2^26 rows is far past what fits a prover's memory here).
pub const MAX_K: u32 = 26;
/// halo2 reserves the last rows for blinding: 5 factors (3 advice queries + 2) plus the last-row flag.
pub const RESERVED_ROWS: usize = 6;
/// Entries of the byte-pair range check in the shared table.
pub const RANGE_ENTRIES: usize = 256 * 256;
/// Columns of one Poseidon band: the state plus the partial round's square.
pub const BAND: usize = poseidon::WIDTH + 1;

pub fn rows_per_perm() -> usize {
    let p = poseidon::params();
    2 * p.full_rounds + p.partial_rounds + 1
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shape {
    /// Advice columns.
    pub width: usize,
    /// Rescale (division + clip) units per row.
    pub units: usize,
    /// Bytes of the remainder r < b = 2^(8·limbs).
    pub limbs: usize,
    /// Dot-product gate: `dot_n` terms per group, `dot_m` groups sharing one operand.
    pub dot_n: usize,
    pub dot_m: usize,
    /// The distinct (lo, hi) clamps of the model: clip-table tags 2, 3, …
    pub clamps: Vec<(i32, i32)>,
    /// The clip table covers pre-activations u in [−2^clip_bits, 2^clip_bits).
    pub clip_bits: u32,
    pub k: u32,
}

impl Shape {
    pub fn lanes_per_unit(&self) -> usize {
        1 + self.limbs.div_ceil(2)
    }
    /// Lookup lanes: lane l reads advice columns 2l and 2l+1.
    pub fn lanes(&self) -> usize {
        self.units * self.lanes_per_unit()
    }
    /// Bytes per byte-store row: the largest divisor of PACK that the lanes hold.
    pub fn store_bytes_per_row(&self) -> usize {
        (1..=PACK).rev().find(|d| PACK % d == 0 && *d <= 2 * self.lanes()).unwrap_or(1)
    }
    /// Fixed "parameter" columns shared by the gates (zero points, multipliers, round constants).
    pub fn params(&self) -> usize {
        poseidon::WIDTH.max(3 * self.units).max(3)
    }
    pub fn bands(&self) -> usize {
        self.width / BAND
    }
    pub fn bias_groups(&self) -> usize {
        self.width / 5
    }
    pub fn adder_width(&self) -> usize {
        self.width - 1
    }
    pub fn clip_bound(&self) -> i64 {
        1i64 << self.clip_bits
    }
    pub fn table_rows(&self) -> usize {
        RANGE_ENTRIES + self.clamps.len() * 2 * self.clip_bound() as usize
    }
    pub fn usable_rows(&self) -> usize {
        (1usize << self.k) - RESERVED_ROWS
    }
    pub fn clamp_tag(&self, lo: i32, hi: i32) -> u64 {
        2 + self.clamps.iter().position(|c| *c == (lo, hi)).expect("clamp planned") as u64
    }
    /// Advice columns plus the columns the lookups and permutation add (what the prover commits to).
    pub fn committed_columns(&self) -> usize {
        self.width + 3 * self.lanes() + (self.width + 2).div_ceil(3)
    }
    fn valid(&self) -> bool {
        let l2 = 2 * self.lanes();
        self.width >= l2 + 2 * self.units
            && self.width > l2
            && self.dot_n * (self.dot_m + 1) + self.dot_m <= self.width
            && self.dot_n >= 1
            && self.dot_m >= 1
            && self.bands() >= 1
    }
}

/// Dot-product rows of one conv/gemm layer and whether the shared operand is the weights (true) or the input.
pub fn dot_plan(op: &Op, out_shape: &[usize], n: usize, m: usize) -> (usize, bool) {
    match op {
        Op::Conv { weight_shape, groups, .. } => {
            let [co, cig, kh, kw] = *weight_shape;
            let k = gadgets::dot::rows(cig * kh * kw, n);
            let p = out_shape[2] * out_shape[3];
            let share_w = co * p.div_ceil(m) * k;
            if *groups == 1 {
                let share_x = p * co.div_ceil(m) * k;
                if share_x < share_w {
                    return (share_x, false);
                }
            }
            (share_w, true)
        }
        Op::Gemm { out_features, in_features, .. } => (out_features.div_ceil(m) * gadgets::dot::rows(*in_features, n), false),
        _ => (0, false),
    }
}

/// Rows of each layer and of each commitment section for a shape, in layout order.
pub fn section_rows(model: &QuantModel, vis: &Visibility, s: &Shape) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let store = |bytes: usize| gadgets::byte_store::rows(bytes, s.store_bytes_per_row());
    // The chain hashes the salt then the packed elements; inputs and outputs add one row for the salt cell (the
    // weights' salt is the constant 0).
    let hash = |bytes: usize| gadgets::poseidon::rows(poseidon::chain_blocks(1 + bytes.div_ceil(PACK)), s.bands());
    if vis.hide_weights {
        let (w, b) = weight_counts(model);
        let bytes = w + 4 * b;
        out.push(("weights: byte store".into(), store(bytes)));
        out.push(("weights: bias compose".into(), gadgets::bias::rows(b, s.bias_groups())));
        out.push(("weights: poseidon".into(), hash(bytes)));
    }
    let inp: usize = model.input().shape.iter().product();
    out.push(("input: byte store".into(), store(inp)));
    if vis.hide_input {
        out.push(("input: poseidon".into(), 1 + hash(inp)));
    }
    for l in &model.layers {
        let o = &model.tensors[l.output].shape;
        let outs: usize = o.iter().product();
        let resc = gadgets::div_clip::rows(outs, s.units);
        let rows = match &l.op {
            Op::Conv { .. } | Op::Gemm { .. } => dot_plan(&l.op, o, s.dot_n, s.dot_m).0 + resc,
            Op::Add { .. } => resc,
            Op::GlobalAveragePool { .. } => {
                let x = &model.tensors[l.inputs[0]].shape;
                outs * gadgets::adder::rows(x[2] * x[3], s.adder_width()) + resc
            }
            Op::AveragePool { kernel, .. } => outs * gadgets::adder::rows(kernel[0] * kernel[1], s.adder_width()) + resc,
            Op::Pad { .. } | Op::Reshape => 0,
        };
        out.push((l.name.clone(), rows));
    }
    if vis.hide_output {
        let n: usize = model.output_info().shape.iter().product();
        out.push(("output: byte store".into(), store(n)));
        out.push(("output: poseidon".into(), 1 + hash(n)));
    }
    out
}

pub fn weight_counts(model: &QuantModel) -> (usize, usize) {
    model.layers.iter().fold((0, 0), |(w, b), l| match &l.op {
        Op::Conv { weights, bias, .. } | Op::Gemm { weights, bias, .. } => (w + weights.len(), b + bias.len()),
        _ => (w, b),
    })
}

/// Rows the constants column needs at most: zero points, pads, the hash tags, and public biases.
pub fn konst_rows(model: &QuantModel, vis: &Visibility) -> usize {
    let biases = if vis.hide_weights { 0 } else { weight_counts(model).1 };
    1024 + biases + model.tensors.len()
}

fn k_for(rows: usize) -> u32 {
    (rows + RESERVED_ROWS).next_power_of_two().trailing_zeros()
}

pub fn clamps_of(model: &QuantModel) -> Vec<(i32, i32)> {
    let mut c: Vec<(i32, i32)> = Vec::new();
    for l in &model.layers {
        let pairs: Vec<(i32, i32)> = match &l.op {
            Op::Conv { requant, .. } | Op::Gemm { requant, .. } => requant.iter().map(|r| (r.lo, r.hi)).collect(),
            Op::GlobalAveragePool { requant } | Op::AveragePool { requant, .. } => vec![(requant.lo, requant.hi)],
            Op::Add { lo, hi, .. } => vec![(*lo, *hi)],
            _ => vec![],
        };
        for p in pairs {
            if !c.contains(&p) {
                c.push(p);
            }
        }
    }
    c
}

/// Picks the shape with the fewest committed cells (2^k × committed columns) for this model and visibility.
pub fn plan(model: &QuantModel, vis: &Visibility) -> Result<Shape> {
    let bits = model.denominator_bits;
    if bits % 8 != 0 || !(8..=32).contains(&bits) {
        return Err(CircuitError::Denominator(bits));
    }
    let clamps = clamps_of(model);
    let mut best: Option<(usize, Shape)> = None;
    for width in [16, 20, 24, 28, 32, 36, 40, 48, 56, 64] {
        for units in 1..=4 {
            let mut s = Shape { width, units, limbs: bits as usize / 8, dot_n: 1, dot_m: 1, clamps: clamps.clone(), clip_bits: 12, k: 0 };
            // The dot gate's width for this column count: try every n with the most groups that fit.
            let mut best_dot = None;
            for n in 1..width {
                let m = (width - n) / (n + 1);
                if m == 0 {
                    continue;
                }
                let rows: usize = model
                    .layers
                    .iter()
                    .map(|l| dot_plan(&l.op, &model.tensors[l.output].shape, n, m).0)
                    .sum();
                if best_dot.map_or(true, |(r, _, _)| rows < r) {
                    best_dot = Some((rows, n, m));
                }
            }
            let Some((_, n, m)) = best_dot else { continue };
            s.dot_n = n;
            s.dot_m = m;
            if !s.valid() {
                continue;
            }
            let rows: usize = section_rows(model, vis, &s).iter().map(|r| r.1).sum();
            let need = rows.max(s.table_rows()).max(konst_rows(model, vis));
            s.k = k_for(need);
            let cost = (1usize << s.k) * s.committed_columns();
            if best.as_ref().map_or(true, |(c, b)| cost < *c || (cost == *c && s.width < b.width)) {
                best = Some((cost, s));
            }
        }
    }
    let (_, mut s) = best.expect("width 64 always fits one unit");
    // Widen the clip table into rows the circuit has anyway.
    while s.clip_bits < 20 {
        let wider = Shape { clip_bits: s.clip_bits + 1, ..s.clone() };
        if wider.table_rows() > s.usable_rows() {
            break;
        }
        s = wider;
    }
    if s.k > MAX_K {
        return Err(CircuitError::TooLarge { need: s.k, max: MAX_K });
    }
    Ok(s)
}
