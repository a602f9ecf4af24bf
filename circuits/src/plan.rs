//! The planner: picks the [`Shape`] (columns, units, dot gate width, k) with the fewest committed cells for a
//! segment of a model (the whole model by default) and a visibility, from the rows each layer and each commitment
//! section reports for a candidate shape.

use zkinfer_import::QuantModel;

use crate::commit::weight_counts;
use crate::segment::Segment;
use crate::error::{CircuitError, Result};
use crate::gadgets::{byte_store, int32, poseidon};
use crate::layers::{self, Layer};
use crate::native::pack::PACK;
use crate::native::poseidon::chain_blocks;
use crate::shape::{Shape, RESERVED_ROWS};
use crate::visibility::Visibility;

/// Largest k we plan for (2^26 rows is far past what fits a prover's memory here).
pub const MAX_K: u32 = 26;

/// Rows of each layer and of each commitment section of the whole model for a shape, in layout order.
pub fn section_rows(model: &QuantModel, vis: &Visibility, s: &Shape) -> Vec<(String, usize)> {
    segment_rows(model, &Segment::whole(model), vis, s)
}

/// Rows of each layer and of each commitment section of a segment for a shape, in layout order.
pub fn segment_rows(model: &QuantModel, seg: &Segment, vis: &Visibility, s: &Shape) -> Vec<(String, usize)> {
    rows_of(model, seg, &layers::all(model), vis, s)
}

fn rows_of(model: &QuantModel, seg: &Segment, layers: &[Box<dyn Layer + '_>], vis: &Visibility, s: &Shape) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let store = |bytes: usize| byte_store::rows(bytes, s.store_bytes_per_row());
    // The chain hashes the salt then the packed elements; the salt takes a row of its own.
    let hash = |bytes: usize| 1 + poseidon::rows(chain_blocks(1 + bytes.div_ceil(PACK)), s.bands());
    let len = |t: usize| model.tensors[t].shape.iter().product::<usize>();
    if vis.hide_weights {
        let (w, b) = weight_counts(model, seg);
        let bytes = w + 4 * b;
        out.push(("weights: byte store".into(), store(bytes)));
        out.push(("weights: bias compose".into(), int32::rows(b, s.int32_groups())));
        out.push(("weights: poseidon".into(), hash(bytes)));
    }
    for &t in &seg.inputs {
        let model_input = seg.is_model_input(t);
        let label = if model_input { "input".to_string() } else { format!("in '{}'", model.tensors[t].name) };
        out.push((format!("{label}: byte store"), store(len(t))));
        if !model_input || vis.hide_input {
            out.push((format!("{label}: poseidon"), hash(len(t))));
        }
    }
    for (node, layer) in model.layers[seg.start..seg.end].iter().zip(&layers[seg.start..seg.end]) {
        out.push((node.name.clone(), layer.rows(s)));
    }
    for &t in &seg.outputs {
        let model_output = seg.is_model_output(model, t);
        if model_output && !vis.hide_output {
            continue;
        }
        let label = if model_output { "output".to_string() } else { format!("out '{}'", model.tensors[t].name) };
        out.push((format!("{label}: byte store"), store(len(t))));
        out.push((format!("{label}: poseidon"), hash(len(t))));
    }
    out
}

/// Rows the constants column needs at most: zero points, pads, the hash tags, and public biases and multipliers.
pub fn constants_rows(model: &QuantModel, seg: &Segment, vis: &Visibility) -> usize {
    let int32s = if vis.hide_weights { 0 } else { weight_counts(model, seg).1 };
    1024 + int32s + model.tensors.len()
}

fn k_for(rows: usize) -> u32 {
    (rows + RESERVED_ROWS).next_power_of_two().trailing_zeros()
}

/// The segment's distinct (lo, hi) clamps, in first-use order (clip-table tags 2, 3, …); int8 saturation when it
/// has none (the padding unit needs one).
pub fn clamps_of(model: &QuantModel, seg: &Segment) -> Vec<(i32, i32)> {
    let mut c: Vec<(i32, i32)> = Vec::new();
    for p in layers::all(model)[seg.start..seg.end].iter().flat_map(|l| l.clamps()) {
        if !c.contains(&p) {
            c.push(p);
        }
    }
    if c.is_empty() {
        c.push((-128, 127));
    }
    c
}

/// The segment's distinct elementwise functions, in first-use order (table tags after the clamps').
pub fn functions_of(model: &QuantModel, seg: &Segment) -> Vec<Vec<i32>> {
    let mut f: Vec<Vec<i32>> = Vec::new();
    for t in layers::all(model)[seg.start..seg.end].iter().flat_map(|l| l.functions()) {
        if !f.contains(&t) {
            f.push(t);
        }
    }
    f
}

/// Picks the shape with the fewest committed cells (2^k × committed columns) for the whole model.
pub fn plan(model: &QuantModel, vis: &Visibility) -> Result<Shape> {
    plan_segment(model, &Segment::whole(model), vis)
}

/// Picks the shape with the fewest committed cells (2^k × committed columns) for one segment.
pub fn plan_segment(model: &QuantModel, seg: &Segment, vis: &Visibility) -> Result<Shape> {
    let bits = model.denominator_bits;
    if bits % 8 != 0 || !(8..=32).contains(&bits) {
        return Err(CircuitError::Denominator(bits));
    }
    let all = layers::all(model);
    let layers = &all[seg.start..seg.end];
    let clamps = clamps_of(model, seg);
    let functions = functions_of(model, seg);
    let mut best: Option<(usize, Shape)> = None;
    for width in [16, 20, 24, 28, 32, 36, 40, 48, 56, 64] {
        for units in 1..=4 {
            let mut s = Shape { width, units, limbs: bits as usize / 8, dot_n: 1, dot_m: 1, clamps: clamps.clone(), clip_bits: 12, functions: functions.clone(), k: 0 };
            // The dot gate's width for this column count: try every n with the most groups that fit.
            let mut best_dot = None;
            for n in 1..width {
                let m = (width - n) / (n + 1);
                if m == 0 {
                    continue;
                }
                let rows: usize = layers.iter().map(|l| l.dot_rows(n, m)).sum();
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
            let rows: usize = rows_of(model, seg, &all, vis, &s).iter().map(|r| r.1).sum();
            let need = rows.max(s.table_rows()).max(constants_rows(model, seg, vis));
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
