//! The model circuit: the whole quantized network as one halo2-axiom `Circuit`, laid out row by row in one region.
//!
//! Layout order (one direction, as the data flows): shared table → hidden weights (byte store, bias compose,
//! Poseidon) → input (byte store, Poseidon if hidden) → one section per layer → output (byte store + Poseidon if
//! hidden). Public values, in instance order: the weights commitment (if hidden), then the input (commitment if
//! hidden, else its values), then the output (commitment if hidden, else its values).

use std::sync::Arc;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use zkinfer_import::ir::Op;
use zkinfer_import::QuantModel;

use crate::commit::{self, weight_bytes};
use crate::config::ModelConfig;
use crate::error::{CircuitError, Result};
use crate::gadgets::{bias, byte_store, poseidon};
use crate::layers;
use crate::shape::{plan, Shape};
use crate::sheet::{CountSink, FWire, RegionSink, Sheet, Sink, Wire};
use crate::table;

/// Which parts stay hidden behind a Poseidon commitment (the others are public values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Visibility {
    pub hide_input: bool,
    pub hide_weights: bool,
    pub hide_output: bool,
}

impl Visibility {
    pub const HIDDEN_WEIGHTS_AND_INPUT: Visibility = Visibility { hide_input: true, hide_weights: true, hide_output: false };
}

#[derive(Clone, Debug)]
pub struct ModelCircuit {
    pub model: Arc<QuantModel>,
    /// The quantized int8 input.
    pub input: Vec<i32>,
    pub vis: Visibility,
    pub shape: Shape,
    pub input_salt: Fr,
    pub output_salt: Fr,
    /// Test hook: deltas added to advice cells (column, row) as they are assigned.
    #[doc(hidden)]
    pub tamper: Vec<(usize, usize, Fr)>,
}

impl ModelCircuit {
    /// Plans the shape and checks that the input lays out (value ranges, clip table) before any heavy work.
    pub fn new(model: Arc<QuantModel>, input: Vec<i32>, vis: Visibility) -> Result<Self> {
        let shape = plan(&model, &vis)?;
        Self::with_shape(model, input, vis, shape)
    }

    pub fn with_shape(model: Arc<QuantModel>, input: Vec<i32>, vis: Visibility, shape: Shape) -> Result<Self> {
        let want: usize = model.input().shape.iter().product();
        if input.len() != want {
            return Err(CircuitError::InputLength { got: input.len(), want });
        }
        let c = ModelCircuit { model, input, vis, shape, input_salt: Fr::ZERO, output_salt: Fr::ZERO, tamper: Vec::new() };
        c.dry_run()?;
        Ok(c)
    }

    pub fn k(&self) -> u32 {
        self.shape.k
    }

    pub fn config(&self) -> ModelConfig {
        ModelConfig::configure(&mut ConstraintSystem::default(), self.shape.clone())
    }

    /// Runs the layout without a prover: rows per section, cells, copies, the public values and the output.
    pub fn dry_run(&self) -> Result<Layout> {
        let mut sink = CountSink::default();
        let mut layout = self.layout(&mut sink)?;
        (layout.advice_cells, layout.copies) = (sink.advice, sink.copies);
        Ok(layout)
    }

    /// Runs the layout into any sink (counting, recording, …).
    pub fn layout(&self, sink: &mut dyn Sink) -> Result<Layout> {
        let cfg = self.config();
        let mut sheet = Sheet::new(sink, &cfg);
        let output = build(&mut sheet, self)?;
        let (public, sections, rows) = (sheet.public.clone(), sheet.sections.clone(), sheet.rows_used());
        Ok(Layout { public, sections, rows, output, advice_cells: 0, copies: 0 })
    }

    /// The instance column the proof is checked against, computed natively (commitments via `commit`, outputs via
    /// the integer reference) — not by the circuit.
    pub fn instances(&self) -> Result<Vec<Fr>> {
        Ok(self.instances_and_output()?.0)
    }

    /// [`Self::instances`] and the int8 output they were computed from (one reference run for both).
    pub fn instances_and_output(&self) -> Result<(Vec<Fr>, Vec<i32>)> {
        let mut out = Vec::new();
        if self.vis.hide_weights {
            out.push(commit::commit_weights(&self.model)?);
        }
        if self.vis.hide_input {
            out.push(commit::commit_tensor(&self.input, self.input_salt)?);
        } else {
            out.extend(self.input.iter().map(|&v| crate::sheet::fe(v as i128)));
        }
        let y = zkinfer_import::reference::run(&self.model, &self.input)?;
        if self.vis.hide_output {
            out.push(commit::commit_tensor(&y, self.output_salt)?);
        } else {
            out.extend(y.iter().map(|&v| crate::sheet::fe(v as i128)));
        }
        Ok((out, y))
    }
}

/// What a layout pass produced.
#[derive(Clone, Debug)]
pub struct Layout {
    pub public: Vec<Fr>,
    pub sections: Vec<(String, usize)>,
    pub rows: usize,
    pub output: Vec<i32>,
    pub advice_cells: usize,
    pub copies: usize,
}

/// Lays out a committed byte stream and hashes it (if `salt` is given) into a public commitment.
fn commit_stream(sheet: &mut Sheet, name: &str, vals: &[i64], link: Option<&[Wire]>, salt: Option<Fr>) -> Result<Vec<Wire>> {
    let (cells, elems) = byte_store::assign(sheet, vals, link)?;
    sheet.end_section(&format!("{name}: byte store"));
    if let Some(salt) = salt {
        let mut all = vec![sheet.put_free(salt)?];
        all.extend(elems);
        let h = poseidon::chain(sheet, vals.len() as u64, &all)?;
        sheet.publish(h.cell, h.val);
        sheet.end_section(&format!("{name}: poseidon"));
    }
    Ok(cells)
}

fn build(sheet: &mut Sheet, c: &ModelCircuit) -> Result<Vec<i32>> {
    let model = &*c.model;
    table::fill(sheet);
    // Weights and biases, per layer.
    let mut params: Vec<(Vec<Wire>, Vec<Wire>)> = Vec::with_capacity(model.layers.len());
    if c.vis.hide_weights {
        let bytes = weight_bytes(model)?;
        let (cells, elems) = byte_store::assign(sheet, &bytes, None)?;
        sheet.end_section("weights: byte store");
        let mut at = 0;
        let mut bias_bytes_cells = Vec::new();
        let mut spans = Vec::new();
        for l in &model.layers {
            if let Op::Conv { weights, bias, .. } | Op::Gemm { weights, bias, .. } = &l.op {
                let w = cells[at..at + weights.len()].to_vec();
                at += weights.len();
                spans.push((w, bias_bytes_cells.len() / 4, bias.len()));
                bias_bytes_cells.extend_from_slice(&cells[at..at + 4 * bias.len()]);
                at += 4 * bias.len();
            } else {
                spans.push((Vec::new(), 0, 0));
            }
        }
        let biases = bias::assign(sheet, &bias_bytes_cells)?;
        sheet.end_section("weights: bias compose");
        for (w, b0, nb) in spans {
            params.push((w, biases[b0..b0 + nb].to_vec()));
        }
        let mut all = vec![FWire { cell: sheet.konst_f(Fr::ZERO)?, val: Fr::ZERO }];
        all.extend(elems);
        let h = poseidon::chain(sheet, bytes.len() as u64, &all)?;
        sheet.publish(h.cell, h.val);
        sheet.end_section("weights: poseidon");
    } else {
        for l in &model.layers {
            if let Op::Conv { weights, bias, .. } | Op::Gemm { weights, bias, .. } = &l.op {
                let w = weights.iter().map(|&v| sheet.konst(v as i64)).collect::<Result<Vec<_>>>()?;
                let b = bias
                    .iter()
                    .map(|&v| {
                        commit::check_bias(&l.name, v)?;
                        sheet.konst(v)
                    })
                    .collect::<Result<Vec<_>>>()?;
                params.push((w, b));
            } else {
                params.push((Vec::new(), Vec::new()));
            }
        }
    }
    // Input: always range-checked through the store; hashed or published.
    let vals: Vec<i64> = c.input.iter().map(|&v| v as i64).collect();
    if let Some(v) = vals.iter().find(|v| !(-128..=127).contains(*v)) {
        return Err(CircuitError::OutOfRange { what: "input".into(), value: *v, bits: 8 });
    }
    let input_cells = commit_stream(sheet, "input", &vals, None, c.vis.hide_input.then_some(c.input_salt))?;
    if !c.vis.hide_input {
        for w in &input_cells {
            sheet.publish(w.cell, crate::sheet::fe(w.val as i128));
        }
    }
    // Layers.
    let mut tensors: Vec<Option<Vec<Wire>>> = vec![None; model.tensors.len()];
    tensors[0] = Some(input_cells);
    for (li, l) in model.layers.iter().enumerate() {
        let x = tensors[l.inputs[0]].as_deref().expect("layers are in topological order");
        let y = match &l.op {
            Op::Conv { .. } => layers::conv::assign(sheet, model, l, x, &params[li].0, &params[li].1)?,
            Op::Gemm { .. } => layers::gemm::assign(sheet, model, l, x, &params[li].0, &params[li].1)?,
            Op::Add { .. } => {
                let q = tensors[l.inputs[1]].as_deref().expect("topological order");
                layers::add::assign(sheet, model, l, x, q)?
            }
            Op::GlobalAveragePool { .. } | Op::AveragePool { .. } => layers::pool::assign(sheet, model, l, x)?,
            Op::Pad { .. } | Op::Reshape => layers::remap::assign(sheet, model, l, x)?,
        };
        tensors[l.output] = Some(y);
        sheet.end_section(&l.name);
    }
    let out = tensors[model.output].take().expect("output computed");
    let vals: Vec<i64> = out.iter().map(|w| w.val).collect();
    if c.vis.hide_output {
        commit_stream(sheet, "output", &vals, Some(&out), Some(c.output_salt))?;
    } else {
        for w in &out {
            sheet.publish(w.cell, crate::sheet::fe(w.val as i128));
        }
    }
    Ok(vals.iter().map(|&v| v as i32).collect())
}

impl Circuit<Fr> for ModelCircuit {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = Shape;

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn params(&self) -> Shape {
        self.shape.clone()
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: Shape) -> ModelConfig {
        ModelConfig::configure(meta, shape)
    }

    fn configure(_: &mut ConstraintSystem<Fr>) -> ModelConfig {
        panic!("ModelCircuit is configured from its Shape (configure_with_params)")
    }

    fn synthesize(&self, config: ModelConfig, mut layouter: impl Layouter<Fr>) -> std::result::Result<(), Error> {
        layouter.assign_region(
            || "model",
            |mut region| {
                let mut sink = RegionSink { region: &mut region, tamper: &self.tamper };
                let mut sheet = Sheet::new(&mut sink, &config);
                build(&mut sheet, self).map_err(|e| {
                    eprintln!("zkinfer-circuits: synthesis failed: {e}");
                    Error::Synthesis
                })?;
                Ok(())
            },
        )
    }
}
