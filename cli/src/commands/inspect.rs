//! `zkinfer inspect`: the model's layers and the chain of segment circuits setup would make for a memory budget —
//! each segment's layers, k, rows, memory estimates and which segments share a key — from the planned shapes alone
//! (no keygen, no witness), so a user learns what setup and proving will cost before paying for it.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use zkinfer_circuits::segments::Budget;
use zkinfer_circuits::Visibility;
use zkinfer_import::ir::Op;
use zkinfer_import::QuantModel;

use crate::model_file::{self, gib, machine_memory};
use crate::ui::Ui;
use crate::visibility;

#[derive(Serialize)]
pub struct LayerRow {
    pub name: String,
    pub op: String,
    pub output_shape: Vec<usize>,
    pub macs: u64,
    pub params: u64,
}

#[derive(Serialize)]
pub struct SegmentRow {
    /// Layers start..end.
    pub start: usize,
    pub end: usize,
    pub first_layer: String,
    pub last_layer: String,
    pub k: u32,
    pub rows: usize,
    pub advice_columns: usize,
    pub setup_memory_bytes: u64,
    pub prove_memory_bytes: u64,
    /// The distinct circuit (key) that proves it; segments with equal keys share one.
    pub key: usize,
    /// Tensors leaving it for the next segment (its link commitments).
    pub carries: Vec<String>,
}

#[derive(Serialize)]
pub struct InspectReport {
    pub model: String,
    pub blake2b: String,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    pub layers: Vec<LayerRow>,
    pub macs: u64,
    pub params: u64,
    pub hide: String,
    /// The budget the chain is planned for (GiB per segment, largest k).
    pub memory_budget_gib: f64,
    pub max_k: u32,
    /// Layers split by output channels to fit the budget: (layer index at that point, parts).
    pub splits: Vec<(usize, usize)>,
    pub segments: Vec<SegmentRow>,
    pub distinct_keys: usize,
    /// The largest segment's k; the rows of all segments.
    pub k: u32,
    pub rows: usize,
    pub advice_columns: usize,
    pub fixed_columns: usize,
    pub instance_columns: usize,
    pub lookups: usize,
    pub degree: usize,
    pub sections: Vec<(String, usize)>,
    pub setup_memory_bytes: u64,
    pub prove_memory_bytes: u64,
    pub machine_memory_bytes: Option<u64>,
}

fn op_name(op: &Op) -> String {
    match op {
        Op::Conv { weight_shape, groups, stride, .. } => {
            let kind = if *groups > 1 { "DepthwiseConv" } else if weight_shape[2] * weight_shape[3] == 1 { "PointwiseConv" } else { "Conv" };
            format!("{kind} {}x{} s{}", weight_shape[2], weight_shape[3], stride[0])
        }
        Op::Gemm { .. } => "Gemm".into(),
        Op::Add { .. } => "Add".into(),
        Op::GlobalAveragePool { .. } => "GlobalAveragePool".into(),
        Op::AveragePool { kernel, .. } => format!("AveragePool {}x{}", kernel[0], kernel[1]),
        Op::Pad { .. } => "Pad".into(),
        Op::Reshape => "Reshape".into(),
        Op::Slice { start, end } => format!("Slice {start}..{end}"),
        Op::Concat { .. } => "Concat".into(),
        Op::Mul { .. } => "Mul".into(),
        Op::Lookup { function, .. } => format!("{function} (table)"),
        Op::MaxPool { kernel, .. } => format!("MaxPool {}x{}", kernel[0], kernel[1]),
        Op::Transpose { perm } => format!("Transpose {perm:?}"),
    }
}

pub fn run(model: &Path, vis: Visibility, budget: &Budget, force: bool, ui: &Ui) -> Result<InspectReport> {
    let m = model_file::load(model)?;
    let q = &m.model;
    let layers: Vec<LayerRow> = q
        .layers
        .iter()
        .map(|l| LayerRow {
            name: l.name.clone(),
            op: op_name(&l.op),
            output_shape: q.tensors[l.output].shape.clone(),
            macs: q.layer_macs(l),
            params: QuantModel::layer_params(l),
        })
        .collect();
    let plan = crate::commands::setup::plan_keys(&m.model, vis, budget)?;
    let (chain, key_of, distinct) = (&plan.chain, &plan.key_of, &plan.keys);
    let q = &*plan.model;
    let largest = chain.iter().max_by_key(|p| p.memory()).expect("one segment");
    let s = &largest.stats;
    let segments: Vec<SegmentRow> = chain
        .iter()
        .zip(key_of)
        .map(|(p, &key)| SegmentRow {
            start: p.segment.start,
            end: p.segment.end,
            first_layer: q.layers[p.segment.start].name.clone(),
            last_layer: q.layers[p.segment.end - 1].name.clone(),
            k: p.shape.k,
            rows: p.stats.rows,
            advice_columns: p.stats.advice_columns,
            setup_memory_bytes: p.stats.setup_memory,
            prove_memory_bytes: p.stats.prove_memory,
            key,
            carries: if p.segment.end == q.layers.len() {
                Vec::new()
            } else {
                p.segment.outputs.iter().map(|&t| q.tensors[t].name.clone()).collect()
            },
        })
        .collect();
    let report = InspectReport {
        model: m.file.clone(),
        blake2b: m.blake2b.clone(),
        input_shape: q.input().shape.clone(),
        output_shape: q.output_info().shape.clone(),
        macs: q.macs(),
        params: q.params(),
        layers,
        hide: visibility::format(&vis),
        memory_budget_gib: gib(budget.memory).min(1e9),
        max_k: budget.max_k,
        splits: plan.splits.clone(),
        segments,
        distinct_keys: distinct.len(),
        k: chain.iter().map(|p| p.shape.k).max().unwrap_or(0),
        rows: chain.iter().map(|p| p.stats.rows).sum(),
        advice_columns: s.advice_columns,
        fixed_columns: s.fixed_columns,
        instance_columns: s.instance_columns,
        lookups: s.lookups,
        degree: s.degree,
        sections: s.sections.clone(),
        setup_memory_bytes: s.setup_memory,
        prove_memory_bytes: s.prove_memory,
        machine_memory_bytes: machine_memory(),
    };
    if !ui.json {
        print_text(&report, ui);
    }
    model_file::check_memory("the largest segment", largest.memory(), force)?;
    Ok(report)
}

fn print_text(r: &InspectReport, ui: &Ui) {
    println!("model {} (BLAKE2b {})", r.model, &r.blake2b[..16]);
    println!("input {:?} → output {:?}", r.input_shape, r.output_shape);
    if !ui.quiet {
        // Exporters' node names run long ("/features/features.1/block/block.0/block.0.0/Conv"): size the column.
        let w = r.layers.iter().map(|l| l.name.chars().count()).max().unwrap_or(0).max(24);
        println!("{:<w$} {:<22} {:<18} {:>12} {:>10}", "layer", "op", "output", "MACs", "params");
        for l in &r.layers {
            println!("{:<w$} {:<22} {:<18} {:>12} {:>10}", l.name, l.op, format!("{:?}", l.output_shape), l.macs, l.params);
        }
    }
    println!("{} layers, {} MACs, {} parameters", r.layers.len(), r.macs, r.params);
    println!(
        "chain (hide {}, budget {:.1} GiB per segment, k ≤ {}): {} segment(s), {} distinct key(s), {} rows in all",
        r.hide,
        r.memory_budget_gib,
        r.max_k,
        r.segments.len(),
        r.distinct_keys,
        r.rows
    );
    let w = r.segments.iter().flat_map(|g| [g.first_layer.chars().count(), g.last_layer.chars().count()]).max().unwrap_or(0).max(24);
    println!("  {:>3} {:<9} {:<w$} {:<w$} {:>3} {:>9} {:>8} {:>8} {:>4}  carries", "seg", "layers", "first", "last", "k", "rows", "setup", "prove", "key");
    for (i, g) in r.segments.iter().enumerate() {
        println!(
            "  {:>3} {:<9} {:<w$} {:<w$} {:>3} {:>9} {:>6.1}Gi {:>6.1}Gi {:>4}  {}",
            i,
            format!("{}..{}", g.start, g.end),
            g.first_layer,
            g.last_layer,
            g.k,
            g.rows,
            gib(g.setup_memory_bytes),
            gib(g.prove_memory_bytes),
            g.key,
            g.carries.join(", ")
        );
    }
    println!(
        "  largest segment's columns: {} advice, {} fixed, {} instance; {} lookups; max degree {}",
        r.advice_columns, r.fixed_columns, r.instance_columns, r.lookups, r.degree
    );
    if !ui.quiet {
        let mut top = r.sections.clone();
        top.sort_by(|a, b| b.1.cmp(&a.1));
        println!("  largest sections (of the largest segment):");
        for (name, rows) in top.iter().take(5) {
            println!("    {rows:>10} rows  {name}");
        }
    }
    let mem = match r.machine_memory_bytes {
        Some(m) => format!("; this machine has {:.1} GiB", gib(m)),
        None => String::new(),
    };
    println!(
        "estimated peak memory (largest segment): setup {:.1} GiB, prove {:.1} GiB{mem}",
        gib(r.setup_memory_bytes),
        gib(r.prove_memory_bytes)
    );
}
