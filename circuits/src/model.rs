//! The model circuit: one segment of the quantized network (the whole network when it fits) as one halo2-axiom
//! `Circuit`, laid out row by row in one region.
//!
//! Layout order (one direction, as the data flows): shared table → hidden weights (byte store, int32 compose of
//! biases and multipliers, salted Poseidon) → each entering tensor (byte store, salted Poseidon unless it is a
//! public model input) → one section per layer → each leaving tensor (byte store + salted Poseidon unless it is a
//! public model output). Public values, in instance order: the segment's weights commitment (if hidden), then per
//! entering tensor its commitment (or the public input's values), then per leaving tensor its commitment (or the
//! public output's values).

use std::sync::Arc;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use zkinfer_import::{ir, QuantModel};

use crate::columns::Columns;
use crate::commit::{self, weight_bytes};
use crate::segment::Segment;
use crate::error::{CircuitError, Result};
use crate::gadgets::{adder, byte_store, dot, int32, poseidon, requant};
use crate::layers::{self, Layer, WeightCells};
use crate::layouter::{to_field, CountSink, DigestSink, RegionSink, RowLayouter, Sink, Wire};
use crate::native::pack::{check_bias, check_i32};
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

/// The salts of a segment's hiding commitments (all zero for keygen; private to the prover).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Salts {
    /// Of the segment's weights commitment (hidden weights).
    pub weights: Fr,
    /// Of each entering tensor's commitment, in `Segment::inputs` order (unused for a public model input).
    pub inputs: Vec<Fr>,
    /// Of each leaving tensor's commitment, in `Segment::outputs` order (unused for a public model output).
    pub outputs: Vec<Fr>,
}

impl Salts {
    pub fn zero(seg: &Segment) -> Salts {
        Salts { weights: Fr::ZERO, inputs: vec![Fr::ZERO; seg.inputs.len()], outputs: vec![Fr::ZERO; seg.outputs.len()] }
    }
}

/// One segment of a model (the whole model when it fits one circuit) as a halo2 circuit.
#[derive(Clone, Debug)]
pub struct ModelCircuit {
    pub model: Arc<QuantModel>,
    pub segment: Segment,
    /// The int8 values of the segment's entering tensors, in `segment.inputs` order (the quantized model input for
    /// the first segment).
    pub inputs: Vec<Vec<i32>>,
    pub vis: Visibility,
    pub shape: Shape,
    pub salts: Salts,
}

impl ModelCircuit {
    /// The whole model as one circuit: plans the shape and checks that the input lays out (value ranges, clip
    /// table) before any heavy work.
    pub fn new(model: Arc<QuantModel>, input: Vec<i32>, vis: Visibility) -> Result<Self> {
        let shape = plan(&model, &vis)?;
        Self::with_shape(model, input, vis, shape)
    }

    /// The whole model as one circuit of a given shape.
    pub fn with_shape(model: Arc<QuantModel>, input: Vec<i32>, vis: Visibility, shape: Shape) -> Result<Self> {
        let want: usize = model.input().shape.iter().product();
        if input.len() != want {
            return Err(CircuitError::InputLength { got: input.len(), want });
        }
        let seg = Segment::whole(&model);
        Self::segment(model, seg, vec![input], vis, shape)
    }

    /// One segment, from the values of its entering tensors; checks that it lays out.
    pub fn segment(model: Arc<QuantModel>, segment: Segment, inputs: Vec<Vec<i32>>, vis: Visibility, shape: Shape) -> Result<Self> {
        if inputs.len() != segment.inputs.len() {
            return Err(CircuitError::InputLength { got: inputs.len(), want: segment.inputs.len() });
        }
        for (&t, v) in segment.inputs.iter().zip(&inputs) {
            let want: usize = model.tensors[t].shape.iter().product();
            if v.len() != want {
                return Err(CircuitError::InputLength { got: v.len(), want });
            }
        }
        let salts = Salts::zero(&segment);
        let c = ModelCircuit { model, segment, inputs, vis, shape, salts };
        c.dry_run()?;
        Ok(c)
    }

    /// The same circuit with every witness value zeroed (what keygen lays out: the keys must not depend on them).
    pub fn for_keygen(model: Arc<QuantModel>, segment: Segment, vis: Visibility, shape: Shape) -> Result<Self> {
        let inputs = segment.inputs.iter().map(|&t| vec![0; model.tensors[t].shape.iter().product()]).collect();
        Self::segment(model, segment, inputs, vis, shape)
    }

    pub fn k(&self) -> u32 {
        self.shape.k
    }

    /// The circuit's columns (the same indices `configure_with_params` gives).
    pub fn config(&self) -> Columns {
        configure(&mut ConstraintSystem::default(), self.shape.clone())
    }

    /// Runs the layout without a prover: rows per section, cells, copies, the public values and the outputs.
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
        let outputs = build(&mut lay, self)?;
        let (public, sections, rows) = (lay.public.clone(), lay.sections.clone(), lay.rows_used());
        let output = outputs.last().cloned().unwrap_or_default();
        Ok(Layout { public, sections, rows, output, outputs, advice_cells: 0, copies: 0 })
    }

    /// A digest of everything the keys depend on — the shape, every fixed value and copy constraint — so segments
    /// whose circuits are identical share one key.
    pub fn circuit_digest(&self) -> Result<String> {
        let mut sink = DigestSink { state: blake2b_simd::Params::new().hash_length(32).to_state() };
        sink.state.update(serde_json::to_string(&self.shape).expect("shape serializes").as_bytes());
        self.layout(&mut sink)?;
        Ok(sink.state.finalize().to_hex().to_string())
    }

    /// The instance column the proof is checked against, computed natively (commitments via `commit`, outputs via
    /// the integer reference) — not by the circuit.
    pub fn instances(&self) -> Result<Vec<Fr>> {
        Ok(self.instances_and_outputs()?.0)
    }

    /// [`Self::instances`] and the values of the segment's leaving tensors (one reference run for both). For the
    /// whole model the one leaving tensor is the output logits.
    pub fn instances_and_outputs(&self) -> Result<(Vec<Fr>, Vec<Vec<i32>>)> {
        let (m, seg) = (&*self.model, &self.segment);
        let entering: Vec<(usize, &[i32])> = seg.inputs.iter().copied().zip(self.inputs.iter().map(|v| &v[..])).collect();
        let outs = zkinfer_import::reference::run_layers(m, seg.start, seg.end, &entering, &seg.outputs)?;
        let mut inst = Vec::new();
        if self.vis.hide_weights {
            inst.push(commit::commit_weights(m, seg, self.salts.weights)?);
        }
        for (i, (&t, v)) in seg.inputs.iter().zip(&self.inputs).enumerate() {
            if seg.is_model_input(t) && !self.vis.hide_input {
                inst.extend(v.iter().map(|&x| to_field(x as i128)));
            } else {
                inst.push(commit::commit_tensor(v, self.salts.inputs[i])?);
            }
        }
        for (i, (&t, v)) in seg.outputs.iter().zip(&outs).enumerate() {
            if seg.is_model_output(m, t) && !self.vis.hide_output {
                inst.extend(v.iter().map(|&x| to_field(x as i128)));
            } else {
                inst.push(commit::commit_tensor(v, self.salts.outputs[i])?);
            }
        }
        Ok((inst, outs))
    }

    /// [`Self::instances`] and the model's int8 output, for a whole-model circuit.
    pub fn instances_and_output(&self) -> Result<(Vec<Fr>, Vec<i32>)> {
        let (inst, mut outs) = self.instances_and_outputs()?;
        Ok((inst, outs.pop().unwrap_or_default()))
    }
}

/// What a layout pass produced.
#[derive(Clone, Debug)]
pub struct Layout {
    pub public: Vec<Fr>,
    pub sections: Vec<(String, usize)>,
    pub rows: usize,
    /// The last leaving tensor's values (the model output for the last segment).
    pub output: Vec<i32>,
    /// Every leaving tensor's values, in `Segment::outputs` order.
    pub outputs: Vec<Vec<i32>>,
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

/// Per layer of the segment: its weights, biases and multipliers as cells (empty for layers without).
type ParamCells = Vec<(Vec<Wire>, Vec<Wire>, Vec<Wire>)>;

/// Hidden: the segment's learned stream in the byte store, biases and multipliers composed to int32 cells, and the
/// salted Poseidon commitment published.
fn hidden_params(lay: &mut RowLayouter, c: &ModelCircuit, layers: &[Box<dyn Layer + '_>]) -> Result<ParamCells> {
    let bytes = weight_bytes(&c.model, &c.segment)?;
    let (cells, elems) = byte_store::assign(lay, &bytes, None)?;
    lay.end_section("weights: byte store");
    let mut at = 0;
    let mut int32_bytes = Vec::new();
    let mut spans = Vec::new();
    for layer in layers {
        if let Some(p) = layer.weights() {
            let w = cells[at..at + p.weights.len()].to_vec();
            at += p.weights.len();
            let n = p.bias.len() + p.multipliers.len();
            spans.push((w, int32_bytes.len() / 4, p.bias.len(), p.multipliers.len()));
            int32_bytes.extend_from_slice(&cells[at..at + 4 * n]);
            at += 4 * n;
        } else {
            spans.push((Vec::new(), 0, 0, 0));
        }
    }
    let ints = int32::assign(lay, &int32_bytes)?;
    lay.end_section("weights: bias compose");
    let params = spans
        .into_iter()
        .map(|(w, i0, nb, nm)| (w, ints[i0..i0 + nb].to_vec(), ints[i0 + nb..i0 + nb + nm].to_vec()))
        .collect();
    let mut all = vec![lay.put_free(c.salts.weights)?];
    all.extend(elems);
    let h = poseidon::chain(lay, bytes.len() as u64, &all)?;
    lay.publish(h.cell, h.val);
    lay.end_section("weights: poseidon");
    Ok(params)
}

/// Public: weights, biases and multipliers are constants (fixed cells the keys hold).
fn public_params(lay: &mut RowLayouter, nodes: &[ir::Layer], layers: &[Box<dyn Layer + '_>]) -> Result<ParamCells> {
    let mut params = Vec::with_capacity(layers.len());
    for (node, layer) in nodes.iter().zip(layers) {
        let Some(p) = layer.weights() else {
            params.push((Vec::new(), Vec::new(), Vec::new()));
            continue;
        };
        let w = p.weights.iter().map(|&v| lay.constant(v as i64)).collect::<Result<Vec<_>>>()?;
        let b = p.bias.iter().map(|&v| lay.constant(check_bias(&node.name, v)?)).collect::<Result<Vec<_>>>()?;
        let a = p
            .multipliers
            .iter()
            .map(|&v| lay.constant(check_i32(&format!("layer '{}' requantisation multiplier", node.name), v)?))
            .collect::<Result<Vec<_>>>()?;
        params.push((w, b, a));
    }
    Ok(params)
}

/// Lays out the segment; returns the values of its leaving tensors.
fn build(lay: &mut RowLayouter, c: &ModelCircuit) -> Result<Vec<Vec<i32>>> {
    let (model, seg) = (&*c.model, &c.segment);
    table::fill(lay);
    let all = layers::all(model);
    let layers = &all[seg.start..seg.end];
    let nodes = &model.layers[seg.start..seg.end];
    let params = if c.vis.hide_weights { hidden_params(lay, c, layers)? } else { public_params(lay, nodes, layers)? };
    // Entering tensors: always range-checked through the store; the model input is published or committed as
    // `--hide` says, every other one is a link commitment.
    let mut tensors: Vec<Option<Vec<Wire>>> = vec![None; model.tensors.len()];
    for (i, (&t, v)) in seg.inputs.iter().zip(&c.inputs).enumerate() {
        let vals: Vec<i64> = v.iter().map(|&x| x as i64).collect();
        let name = &model.tensors[t].name;
        if let Some(x) = vals.iter().find(|x| !(-128..=127).contains(*x)) {
            return Err(CircuitError::OutOfRange { what: format!("tensor '{name}'"), value: *x, bits: 8 });
        }
        let public = seg.is_model_input(t) && !c.vis.hide_input;
        let label = if seg.is_model_input(t) { "input".to_string() } else { format!("in '{name}'") };
        let cells = commit_stream(lay, &label, &vals, None, (!public).then(|| c.salts.inputs[i]))?;
        if public {
            for w in &cells {
                lay.publish(w.cell, to_field(w.val as i128));
            }
        }
        tensors[t] = Some(cells);
    }
    for ((node, layer), (w, bias, mult)) in nodes.iter().zip(layers).zip(&params) {
        let inputs: Vec<&[Wire]> =
            node.inputs.iter().map(|&t| tensors[t].as_deref().expect("segment inputs and earlier layers")).collect();
        let y = layer.assign(lay, &inputs, &WeightCells { weights: w, bias, multipliers: mult })?;
        tensors[node.output] = Some(y);
        lay.end_section(&node.name);
    }
    // Leaving tensors: the model output is published or committed; every other one is a link commitment.
    let mut outs = Vec::with_capacity(seg.outputs.len());
    for (i, &t) in seg.outputs.iter().enumerate() {
        let cells = tensors[t].clone().expect("leaving tensors are computed or entered");
        let vals: Vec<i64> = cells.iter().map(|w| w.val).collect();
        let name = &model.tensors[t].name;
        if seg.is_model_output(model, t) {
            if c.vis.hide_output {
                commit_stream(lay, "output", &vals, Some(&cells), Some(c.salts.outputs[i]))?;
            } else {
                for w in &cells {
                    lay.publish(w.cell, to_field(w.val as i128));
                }
            }
        } else {
            commit_stream(lay, &format!("out '{name}'"), &vals, Some(&cells), Some(c.salts.outputs[i]))?;
        }
        outs.push(vals.iter().map(|&v| v as i32).collect());
    }
    Ok(outs)
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
