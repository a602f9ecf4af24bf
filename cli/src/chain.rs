//! The chain of segment circuits as the commands handle it: the model digest the keys name, the salts a prover
//! derives from its opening, a segment's circuit from the one native run, and the mapping between a segment's
//! instance column and the commitments a proof file shows (both directions share one layout, so the verifier
//! rebuilds exactly what the prover proved against).

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use rand_core::OsRng;
use zkinfer_circuits::{commit, ModelCircuit, Salts, Segment, Visibility};
use zkinfer_import::QuantModel;

use crate::encoding::{digest_bytes, fr_from_hex, fr_to_hex};
use crate::keys::Manifest;
use crate::proof_file::{Endpoint, Opening, SegmentProof};

/// What the keys' model digest covers and its value: the architecture with hidden weights (so one setup serves
/// every model with that architecture), the ONNX file with public weights (they are in the keys).
pub fn model_digest(model: &QuantModel, file_blake2b: &str, vis: &Visibility) -> (&'static str, String) {
    if vis.hide_weights {
        ("architecture", digest_bytes(model.architecture().as_bytes()))
    } else {
        ("file", file_blake2b.to_string())
    }
}

/// The private randomness behind a proof's hiding commitments.
#[derive(Clone, Debug)]
pub struct Seeds {
    pub input_salt: Fr,
    pub output_salt: Fr,
    pub weights_seed: Fr,
    pub link_seed: Fr,
}

impl Seeds {
    /// Fresh random seeds (the input salt given, if any).
    pub fn fresh(input_salt: Option<Fr>) -> Seeds {
        Seeds {
            input_salt: input_salt.unwrap_or_else(|| Fr::random(OsRng)),
            output_salt: Fr::random(OsRng),
            weights_seed: Fr::random(OsRng),
            link_seed: Fr::random(OsRng),
        }
    }

    /// The seeds an opening file holds; those this visibility and chain use must be present.
    pub fn from_opening(o: &Opening, vis: &Visibility, segments: usize, what: &str) -> Result<Seeds> {
        let get = |v: &Option<String>, name: &str, needed: bool| -> Result<Fr> {
            match v {
                Some(s) => fr_from_hex(s, &format!("{what}: {name}")),
                None if needed => bail!("{what} holds no {name}, which these keys need"),
                None => Ok(Fr::ZERO),
            }
        };
        Ok(Seeds {
            input_salt: get(&o.input_salt, "input_salt", vis.hide_input)?,
            output_salt: get(&o.output_salt, "output_salt", vis.hide_output)?,
            weights_seed: get(&o.weights_seed, "weights_seed", vis.hide_weights)?,
            link_seed: get(&o.link_seed, "link_seed", segments > 1)?,
        })
    }

    /// The opening to keep: only what this visibility and chain use.
    pub fn opening(&self, vis: &Visibility, segments: usize) -> Opening {
        let keep = |on: bool, v: &Fr| on.then(|| fr_to_hex(v));
        Opening {
            input_salt: keep(vis.hide_input, &self.input_salt),
            output_salt: keep(vis.hide_output, &self.output_salt),
            weights_seed: keep(vis.hide_weights, &self.weights_seed),
            link_seed: keep(segments > 1, &self.link_seed),
        }
    }

    /// The salts of segment `index`: its weights salt, and per crossing tensor the model input/output salt or the
    /// link salt of its cut (the same on both sides of the cut).
    pub fn salts(&self, model: &QuantModel, index: usize, seg: &Segment) -> Salts {
        Salts {
            weights: commit::weights_salt(self.weights_seed, index),
            inputs: seg
                .inputs
                .iter()
                .map(|&t| if seg.is_model_input(t) { self.input_salt } else { commit::link_salt(self.link_seed, seg.start, t) })
                .collect(),
            outputs: seg
                .outputs
                .iter()
                .map(|&t| {
                    if seg.is_model_output(model, t) {
                        self.output_salt
                    } else {
                        commit::link_salt(self.link_seed, seg.end, t)
                    }
                })
                .collect(),
        }
    }
}

/// Segment `index`'s circuit, from every tensor's value of the one native run.
pub fn segment_circuit(
    model: &Arc<QuantModel>,
    man: &Manifest,
    index: usize,
    values: &[Vec<i32>],
    vis: Visibility,
    seeds: &Seeds,
) -> Result<ModelCircuit> {
    let entry = &man.segments[index];
    let seg = entry.segment();
    let inputs = seg.inputs.iter().map(|&t| values[t].clone()).collect();
    let shape = man.keys[entry.key].shape.clone();
    let mut c = ModelCircuit::segment(model.clone(), seg.clone(), inputs, vis, shape)
        .with_context(|| format!("segment {index} (layers {}..{})", entry.start, entry.end))?;
    c.salts = seeds.salts(model, index, &seg);
    Ok(c)
}

/// The model's weights commitment for these seeds: the hash over every segment's salted commitment.
pub fn model_weights_commitment(model: &QuantModel, man: &Manifest, seeds: &Seeds) -> Result<Fr> {
    let per: Vec<Fr> = man
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| commit::commit_weights(model, &s.segment(), commit::weights_salt(seeds.weights_seed, i)))
        .collect::<zkinfer_circuits::Result<_>>()?;
    Ok(commit::model_commitment(&per))
}

/// Whether a crossing tensor of segment `index` is a public model endpoint (its values, not a commitment, are in
/// the instance column).
fn public_endpoint(man: &Manifest, vis: &Visibility, index: usize, t: usize, entering: bool) -> bool {
    let s = &man.segments[index];
    if entering {
        s.start == 0 && t == 0 && !vis.hide_input
    } else {
        index + 1 == man.segments.len() && !vis.hide_output
    }
}

/// A segment's instance column as a proof file shows it: its commitments, `None` for the public model endpoints.
pub fn to_proof_entry(man: &Manifest, vis: &Visibility, index: usize, inst: &[Fr], proof: &[u8]) -> SegmentProof {
    let s = &man.segments[index];
    let mut at = 0;
    let mut next = |n: usize| {
        let v = &inst[at..at + n];
        at += n;
        v
    };
    let weights_commitment = vis.hide_weights.then(|| fr_to_hex(&next(1)[0]));
    let mut side = |ts: &[usize], entering: bool, lens: &dyn Fn(usize) -> usize| -> Vec<Option<String>> {
        ts.iter()
            .map(|&t| {
                if public_endpoint(man, vis, index, t, entering) {
                    next(lens(t));
                    None
                } else {
                    Some(fr_to_hex(&next(1)[0]))
                }
            })
            .collect()
    };
    let in_len = |_| man.model.input_shape.iter().product();
    let out_len = |_| man.model.output_shape.iter().product();
    let inputs = side(&s.inputs, true, &in_len);
    let outputs = side(&s.outputs, false, &out_len);
    SegmentProof { segment: index, weights_commitment, inputs, outputs, proof: crate::encoding::to_hex(proof) }
}

/// The instance column a segment's proof is checked against, rebuilt from its entry and the model's public input
/// and output.
pub fn instances_of(man: &Manifest, vis: &Visibility, sp: &SegmentProof, input: &Endpoint, output: &Endpoint) -> Result<Vec<Fr>> {
    let i = sp.segment;
    let s = &man.segments[i];
    let what = |side: &str, n: usize| format!("segment {i}: {side} {n}");
    if sp.inputs.len() != s.inputs.len() || sp.outputs.len() != s.outputs.len() {
        bail!(
            "segment {i}: {} entering / {} leaving commitments, the keys' chain has {} / {}",
            sp.inputs.len(),
            sp.outputs.len(),
            s.inputs.len(),
            s.outputs.len()
        );
    }
    let mut inst = Vec::new();
    match (&sp.weights_commitment, vis.hide_weights) {
        (Some(c), true) => inst.push(fr_from_hex(c, &format!("segment {i}: weights_commitment"))?),
        (None, true) => bail!("segment {i}: `weights_commitment` is missing"),
        (Some(_), false) => bail!("segment {i}: `weights_commitment` is present but the weights are public"),
        (None, false) => {}
    }
    for (side, ts, cs, entering, end) in [("input", &s.inputs, &sp.inputs, true, input), ("output", &s.outputs, &sp.outputs, false, output)] {
        for (n, (&t, c)) in ts.iter().zip(cs).enumerate() {
            let public = public_endpoint(man, vis, i, t, entering);
            match (public, c, end) {
                (true, None, Endpoint::Values(v)) => inst.extend_from_slice(v),
                (true, Some(_), _) => bail!("{}: a commitment where the keys make the model {side} public", what(side, n)),
                (true, None, Endpoint::Commitment(_)) => bail!("{}: the model {side} is hidden, not public", what(side, n)),
                (false, Some(c), _) => inst.push(fr_from_hex(c, &what(side, n))?),
                (false, None, _) => bail!("{}: the commitment is missing", what(side, n)),
            }
        }
    }
    Ok(inst)
}
