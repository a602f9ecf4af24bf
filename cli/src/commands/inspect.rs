//! `zkinfer inspect`: the model's layers and the circuit's size and memory estimates, from the planned shape alone
//! (no keygen, no witness), so a user learns what setup and proving will cost before paying for it.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use zkinfer_circuits::{circuit_stats, Visibility};
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
pub struct InspectReport {
    pub model: String,
    pub blake2b: String,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    pub layers: Vec<LayerRow>,
    pub macs: u64,
    pub params: u64,
    pub hide: String,
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
    }
}

pub fn run(model: &Path, vis: Visibility, force: bool, ui: &Ui) -> Result<InspectReport> {
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
    let s = circuit_stats(q, &vis)?;
    let report = InspectReport {
        model: m.file.clone(),
        blake2b: m.blake2b.clone(),
        input_shape: q.input().shape.clone(),
        output_shape: q.output_info().shape.clone(),
        macs: q.macs(),
        params: q.params(),
        layers,
        hide: visibility::format(&vis),
        k: s.k,
        rows: s.rows,
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
    model_file::check_memory("proving this model", s.prove_memory.max(s.setup_memory), force)?;
    Ok(report)
}

fn print_text(r: &InspectReport, ui: &Ui) {
    println!("model {} (BLAKE2b {})", r.model, &r.blake2b[..16]);
    println!("input {:?} → output {:?}", r.input_shape, r.output_shape);
    if !ui.quiet {
        println!("{:<36} {:<22} {:<18} {:>12} {:>10}", "layer", "op", "output", "MACs", "params");
        for l in &r.layers {
            println!("{:<36} {:<22} {:<18} {:>12} {:>10}", l.name, l.op, format!("{:?}", l.output_shape), l.macs, l.params);
        }
    }
    println!("{} layers, {} MACs, {} parameters", r.layers.len(), r.macs, r.params);
    println!("circuit (hide {}): k = {}, {} of {} rows used", r.hide, r.k, r.rows, 1u64 << r.k);
    println!(
        "  columns: {} advice, {} fixed, {} instance; {} lookups; max degree {}",
        r.advice_columns, r.fixed_columns, r.instance_columns, r.lookups, r.degree
    );
    if !ui.quiet {
        let mut top = r.sections.clone();
        top.sort_by(|a, b| b.1.cmp(&a.1));
        println!("  largest sections:");
        for (name, rows) in top.iter().take(5) {
            println!("    {rows:>10} rows  {name}");
        }
    }
    let mem = match r.machine_memory_bytes {
        Some(m) => format!("; this machine has {:.1} GiB", gib(m)),
        None => String::new(),
    };
    println!(
        "estimated peak memory: setup {:.1} GiB, prove {:.1} GiB{mem}",
        gib(r.setup_memory_bytes),
        gib(r.prove_memory_bytes)
    );
}
