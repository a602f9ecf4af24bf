//! The planner: picks the [`Shape`] (columns, units, dot gate width, k) with the fewest committed cells for a model
//! and visibility, from the rows each layer and each commitment section reports for a candidate shape.

use zkinfer_import::QuantModel;

use crate::commit::weight_counts;
use crate::error::{CircuitError, Result};
use crate::gadgets::{byte_store, int32, poseidon};
use crate::layers::{self, Layer};
use crate::native::pack::PACK;
use crate::native::poseidon::chain_blocks;
use crate::shape::{Shape, RESERVED_ROWS};
use crate::visibility::Visibility;

/// Largest k we plan for (2^26 rows is far past what fits a prover's memory here).
pub const MAX_K: u32 = 26;

/// Rows of each layer and of each commitment section for a shape, in layout order.
pub fn section_rows(model: &QuantModel, vis: &Visibility, s: &Shape) -> Vec<(String, usize)> {
    rows_of(model, &layers::all(model), vis, s)
}

fn rows_of(model: &QuantModel, layers: &[Box<dyn Layer + '_>], vis: &Visibility, s: &Shape) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let store = |bytes: usize| byte_store::rows(bytes, s.store_bytes_per_row());
    // The chain hashes the salt then the packed elements; inputs and outputs add one row for the salt cell (the
    // weights' salt is the constant 0).
    let hash = |bytes: usize| poseidon::rows(chain_blocks(1 + bytes.div_ceil(PACK)), s.bands());
    if vis.hide_weights {
        let (w, b) = weight_counts(model);
        let bytes = w + 4 * b;
        out.push(("weights: byte store".into(), store(bytes)));
        out.push(("weights: bias compose".into(), int32::rows(b, s.int32_groups())));
        out.push(("weights: poseidon".into(), hash(bytes)));
    }
    let inp: usize = model.input().shape.iter().product();
    out.push(("input: byte store".into(), store(inp)));
    if vis.hide_input {
        out.push(("input: poseidon".into(), 1 + hash(inp)));
    }
    for (node, layer) in model.layers.iter().zip(layers) {
        out.push((node.name.clone(), layer.rows(s)));
    }
    if vis.hide_output {
        let n: usize = model.output_info().shape.iter().product();
        out.push(("output: byte store".into(), store(n)));
        out.push(("output: poseidon".into(), 1 + hash(n)));
    }
    out
}

/// Rows the constants column needs at most: zero points, pads, the hash tags, and public biases.
pub fn constants_rows(model: &QuantModel, vis: &Visibility) -> usize {
    let biases = if vis.hide_weights { 0 } else { weight_counts(model).1 };
    1024 + biases + model.tensors.len()
}

fn k_for(rows: usize) -> u32 {
    (rows + RESERVED_ROWS).next_power_of_two().trailing_zeros()
}

/// The model's distinct (lo, hi) clamps, in first-use order (clip-table tags 2, 3, …).
pub fn clamps_of(model: &QuantModel) -> Vec<(i32, i32)> {
    let mut c: Vec<(i32, i32)> = Vec::new();
    for p in layers::all(model).iter().flat_map(|l| l.clamps()) {
        if !c.contains(&p) {
            c.push(p);
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
    let layers = layers::all(model);
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
            let rows: usize = rows_of(model, &layers, vis, &s).iter().map(|r| r.1).sum();
            let need = rows.max(s.table_rows()).max(constants_rows(model, vis));
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
