//! Segments: a model proved as a chain of circuits, each a run of consecutive layers. A cut between two segments
//! carries every tensor live across it (produced before the cut, read after it, or the model's output); the segment
//! before the cut commits to each of them from the cells its layers wrote, the segment after commits to the same
//! values from the cells its layers read, with the same private salt — so equal commitments link the two proofs.

use serde::{Deserialize, Serialize};
use zkinfer_import::QuantModel;

/// Layers `start..end` of a model and the tensors crossing its two cuts (ascending tensor ids).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub start: usize,
    pub end: usize,
    /// Tensors entering the segment: live at cut `start` (the model input for the first segment).
    pub inputs: Vec<usize>,
    /// Tensors leaving the segment: live at cut `end` (the model output for the last segment).
    pub outputs: Vec<usize>,
}

impl Segment {
    /// Layers `start..end` of `model` with the tensors live at both cuts.
    pub fn new(model: &QuantModel, start: usize, end: usize) -> Segment {
        assert!(start < end && end <= model.layers.len(), "segment {start}..{end} of {} layers", model.layers.len());
        Segment { start, end, inputs: live_at(model, start), outputs: live_at(model, end) }
    }

    /// The whole model as one segment.
    pub fn whole(model: &QuantModel) -> Segment {
        Segment::new(model, 0, model.layers.len())
    }

    pub fn is_first(&self) -> bool {
        self.start == 0
    }

    pub fn is_last(&self, model: &QuantModel) -> bool {
        self.end == model.layers.len()
    }

    /// Whether entering tensor `t` is the model's input, public or committed as `--hide` says (every other crossing
    /// tensor is a link commitment).
    pub fn is_model_input(&self, t: usize) -> bool {
        self.is_first() && t == 0
    }

    /// Whether leaving tensor `t` is the model's output logits.
    pub fn is_model_output(&self, model: &QuantModel, t: usize) -> bool {
        self.is_last(model) && t == model.output
    }
}

/// Tensors live at cut `cut` (between layers `cut − 1` and `cut`): produced before it (tensor 0 is the input) and
/// read by a layer at or after it — or the model's output once every layer has run.
pub fn live_at(model: &QuantModel, cut: usize) -> Vec<usize> {
    if cut == model.layers.len() {
        return vec![model.output];
    }
    let mut produced_before = vec![false; model.tensors.len()];
    produced_before[0] = true;
    for l in &model.layers[..cut] {
        produced_before[l.output] = true;
    }
    let mut live: Vec<usize> = model.layers[cut..]
        .iter()
        .flat_map(|l| l.inputs.iter().copied())
        .chain(std::iter::once(model.output))
        .filter(|&t| produced_before[t])
        .collect();
    live.sort_unstable();
    live.dedup();
    live
}

/// Int8 values crossing cut `cut`.
pub fn live_elements(model: &QuantModel, cut: usize) -> usize {
    live_at(model, cut).iter().map(|&t| model.tensors[t].shape.iter().product::<usize>()).sum()
}
