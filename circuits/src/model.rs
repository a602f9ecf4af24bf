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
use zkinfer_import::QuantModel;

use crate::columns::Columns;
use crate::commit::{self, weight_bytes};
use crate::error::{CircuitError, Result};
use crate::gadgets::{adder, byte_store, dot, int32, poseidon, requant};
use crate::layers::{self, WeightCells};
use crate::layouter::{to_field, CountSink, FWire, RegionSink, RowLayouter, Sink, Wire};
use crate::native::pack::check_bias;
use crate::plan::plan;
use crate::shape::Shape;
use crate::table;
use crate::visibility::Visibility;

/// The model circuit's columns with every gate and lookup registered on them. The order of registration fixes the
/// constraint system, hence the keys and the proof's bytes.
pub fn configure(meta: &mut ConstraintSystem<Fr>, shape: Shape) -> Columns {
    let cols = Columns::allocate(meta, shape);
    table::configure(meta, &cols);
    dot::configure(meta, &cols);
    adder::configure(meta, &cols);
    requant::configure(meta, &cols);
    byte_store::configure(meta, &cols);
    int32::configure(meta, &cols);
    poseidon::configure(meta, &cols);
    cols
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
        let c = ModelCircuit { model, input, vis, shape, input_salt: Fr::ZERO, output_salt: Fr::ZERO };
        c.dry_run()?;
        Ok(c)
    }

    pub fn k(&self) -> u32 {
        self.shape.k
    }

    /// The circuit's columns (the same indices `configure_with_params` gives).
    pub fn config(&self) -> Columns {
        configure(&mut ConstraintSystem::default(), self.shape.clone())
    }

    /// Runs the layout without a prover: rows per section, cells, copies, the public values and the output.
    pub fn dry_run(&self) -> Result<Layout> {
        let mut sink = CountSink::default();
        let mut layout = self.layout(&mut sink)?;
        (layout.advice_cells, layout.copies) = (sink.advice, sink.copies);
        Ok(layout)
    }

    /// Runs the layout into any sink (counting, recording, a halo2 region, …): the seam through which `synthesize`
    /// writes, open so that tests can wrap a sink to alter cells.
    pub fn layout(&self, sink: &mut dyn Sink) -> Result<Layout> {
        let cols = self.config();
        self.layout_on(sink, &cols)
    }

    /// [`Self::layout`] on columns already configured.
    pub fn layout_on(&self, sink: &mut dyn Sink, cols: &Columns) -> Result<Layout> {
        let mut lay = RowLayouter::new(sink, cols);
        let output = build(&mut lay, self)?;
        let (public, sections, rows) = (lay.public.clone(), lay.sections.clone(), lay.rows_used());
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
            out.extend(self.input.iter().map(|&v| to_field(v as i128)));
        }
        let y = zkinfer_import::reference::run(&self.model, &self.input)?;
        if self.vis.hide_output {
            out.push(commit::commit_tensor(&y, self.output_salt)?);
        } else {
            out.extend(y.iter().map(|&v| to_field(v as i128)));
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
fn commit_stream(lay: &mut RowLayouter, name: &str, vals: &[i64], link: Option<&[Wire]>, salt: Option<Fr>) -> Result<Vec<Wire>> {
    let (cells, elems) = byte_store::assign(lay, vals, link)?;
    lay.end_section(&format!("{name}: byte store"));
    if let Some(salt) = salt {
        let mut all = vec![lay.put_free(salt)?];
        all.extend(elems);
        let h = poseidon::chain(lay, vals.len() as u64, &all)?;
        lay.publish(h.cell, h.val);
        lay.end_section(&format!("{name}: poseidon"));
    }
    Ok(cells)
}

fn build(lay: &mut RowLayouter, c: &ModelCircuit) -> Result<Vec<i32>> {
    let model = &*c.model;
    table::fill(lay);
    let layers = layers::all(model);
    // Weights and biases, per layer (empty for layers without).
    let mut params: Vec<(Vec<Wire>, Vec<Wire>)> = Vec::with_capacity(model.layers.len());
    if c.vis.hide_weights {
        let bytes = weight_bytes(model)?;
        let (cells, elems) = byte_store::assign(lay, &bytes, None)?;
        lay.end_section("weights: byte store");
        let mut at = 0;
        let mut bias_bytes_cells = Vec::new();
        let mut spans = Vec::new();
        for layer in &layers {
            if let Some(p) = layer.weights() {
                let w = cells[at..at + p.weights.len()].to_vec();
                at += p.weights.len();
                spans.push((w, bias_bytes_cells.len() / 4, p.bias.len()));
                bias_bytes_cells.extend_from_slice(&cells[at..at + 4 * p.bias.len()]);
                at += 4 * p.bias.len();
            } else {
                spans.push((Vec::new(), 0, 0));
            }
        }
        let biases = int32::assign(lay, &bias_bytes_cells)?;
        lay.end_section("weights: bias compose");
        for (w, b0, nb) in spans {
            params.push((w, biases[b0..b0 + nb].to_vec()));
        }
        let mut all = vec![FWire { cell: lay.constant_cell(Fr::ZERO)?, val: Fr::ZERO }];
        all.extend(elems);
        let h = poseidon::chain(lay, bytes.len() as u64, &all)?;
        lay.publish(h.cell, h.val);
        lay.end_section("weights: poseidon");
    } else {
        for (node, layer) in model.layers.iter().zip(&layers) {
            if let Some(p) = layer.weights() {
                let w = p.weights.iter().map(|&v| lay.constant(v as i64)).collect::<Result<Vec<_>>>()?;
                let b = p
                    .bias
                    .iter()
                    .map(|&v| {
                        check_bias(&node.name, v)?;
                        lay.constant(v)
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
    let input_cells = commit_stream(lay, "input", &vals, None, c.vis.hide_input.then_some(c.input_salt))?;
    if !c.vis.hide_input {
        for w in &input_cells {
            lay.publish(w.cell, to_field(w.val as i128));
        }
    }
    // Layers.
    let mut tensors: Vec<Option<Vec<Wire>>> = vec![None; model.tensors.len()];
    tensors[0] = Some(input_cells);
    for ((node, layer), (w, bias)) in model.layers.iter().zip(&layers).zip(&params) {
        let inputs: Vec<&[Wire]> =
            node.inputs.iter().map(|&t| tensors[t].as_deref().expect("layers are in topological order")).collect();
        let y = layer.assign(lay, &inputs, &WeightCells { weights: w, bias })?;
        tensors[node.output] = Some(y);
        lay.end_section(&node.name);
    }
    let out = tensors[model.output].take().expect("output computed");
    let vals: Vec<i64> = out.iter().map(|w| w.val).collect();
    if c.vis.hide_output {
        commit_stream(lay, "output", &vals, Some(&out), Some(c.output_salt))?;
    } else {
        for w in &out {
            lay.publish(w.cell, to_field(w.val as i128));
        }
    }
    Ok(vals.iter().map(|&v| v as i32).collect())
}

impl Circuit<Fr> for ModelCircuit {
    type Config = Columns;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = Shape;

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn params(&self) -> Shape {
        self.shape.clone()
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: Shape) -> Columns {
        configure(meta, shape)
    }

    fn configure(_: &mut ConstraintSystem<Fr>) -> Columns {
        panic!("ModelCircuit is configured from its Shape (configure_with_params)")
    }

    fn synthesize(&self, config: Columns, mut layouter: impl Layouter<Fr>) -> std::result::Result<(), Error> {
        layouter.assign_region(
            || "model",
            |mut region| {
                self.layout_on(&mut RegionSink { region: &mut region }, &config).map_err(|e| {
                    eprintln!("zkinfer-circuits: synthesis failed: {e}");
                    Error::Synthesis
                })?;
                Ok(())
            },
        )
    }
}
