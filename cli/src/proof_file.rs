//! The proof file `prove` writes and `verify` reads: one JSON object with what it is for (model digest,
//! visibility), the model's public values in readable form, and one entry per segment of the chain — its public
//! commitments (weights, each tensor entering and leaving it) and its halo2 proof (hex). `verify` rebuilds every
//! segment's instance column from these values alone and checks that the two sides of every cut carry equal
//! commitments, so editing any of them is rejected with the segment or link named.
//! A part file (`prove --segment i`) has the same form with only some segments; `zkinfer bundle` joins parts.

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};
use zkinfer_circuits::layouter::to_field;
use zkinfer_circuits::Visibility;

use crate::encoding::fr_from_hex;

pub const FORMAT: &str = "zkinfer-proof/2";

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublicValues {
    /// The model's weights commitment (hidden weights): a Poseidon hash over the segments' salted commitments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_commitment: Option<String>,
    /// Salted Poseidon commitment to the int8 input (hidden input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_commitment: Option<String>,
    /// The int8 input (public input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Vec<i32>>,
    /// Salted Poseidon commitment to the int8 output (hidden output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_commitment: Option<String>,
    /// The int8 logits (public output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Vec<i32>>,
    /// argmax of `output` (first maximum), present with a public output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_class: Option<usize>,
}

/// One segment's proof and the commitments it makes public. A `None` input/output is the public model input/output
/// (its values are in [`PublicValues`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SegmentProof {
    /// Index of the segment in the keys' chain.
    pub segment: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_commitment: Option<String>,
    pub inputs: Vec<Option<String>>,
    pub outputs: Vec<Option<String>>,
    /// The halo2 proof (KZG, SHPLONK, Blake2b transcript), hex.
    pub proof: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofFile {
    pub format: String,
    /// The keys' model digest (of the architecture with hidden weights, of the ONNX file otherwise).
    pub model_digest: String,
    pub hide: String,
    pub public: PublicValues,
    pub segments: Vec<SegmentProof>,
    /// How the proof was made; informational, NOT covered by the proof.
    pub info: ProveInfo,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProveInfo {
    pub prover: String,
    pub engine: String,
    pub prove_s: f64,
    pub zkinfer_version: String,
}

/// The private opening of a proof's hiding commitments, kept by the prover: the input and output salts, the seed
/// of every segment's weights salt (the model's weights commitment is fixed by it: reuse it to keep publishing the
/// same commitment) and the seed of every link salt. Segments proved in separate processes share one opening.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_salt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_salt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_seed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_seed: Option<String>,
}

pub fn argmax(v: &[i32]) -> Option<usize> {
    let max = *v.iter().max()?;
    v.iter().position(|&x| x == max)
}

impl PublicValues {
    /// Checks these values fit the keys' visibility and shapes; returns the public input and output values (or
    /// commitments) as field elements, in the order a segment's instance column holds them.
    pub fn endpoints(&self, vis: &Visibility, input_len: usize, output_len: usize) -> Result<(Endpoint, Endpoint)> {
        let int8s = |what: &str, v: &Option<Vec<i32>>, len: usize| -> Result<Vec<Fr>> {
            let v = v.as_ref().with_context(|| format!("public values: `{what}` is missing"))?;
            if v.len() != len {
                bail!("public values: `{what}` has {} values, the model's has {len}", v.len());
            }
            if let Some(x) = v.iter().find(|x| !(-128..=127).contains(*x)) {
                bail!("public values: `{what}` holds {x}, not an int8");
            }
            Ok(v.iter().map(|&x| to_field(x as i128)).collect())
        };
        let absent = |what: &str, present: bool| -> Result<()> {
            if present {
                bail!("public values: `{what}` is present but the keys keep it hidden (or public) otherwise");
            }
            Ok(())
        };
        match (&self.weights_commitment, vis.hide_weights) {
            (Some(c), true) => {
                fr_from_hex(c, "public values: weights_commitment")?;
            }
            (None, true) => bail!("public values: `weights_commitment` is missing"),
            (c, false) => absent("weights_commitment", c.is_some())?,
        }
        let input = if vis.hide_input {
            absent("input", self.input.is_some())?;
            let c = self.input_commitment.as_deref().context("public values: `input_commitment` is missing")?;
            Endpoint::Commitment(fr_from_hex(c, "public values: input_commitment")?)
        } else {
            absent("input_commitment", self.input_commitment.is_some())?;
            Endpoint::Values(int8s("input", &self.input, input_len)?)
        };
        let output = if vis.hide_output {
            absent("output", self.output.is_some())?;
            absent("predicted_class", self.predicted_class.is_some())?;
            let c = self.output_commitment.as_deref().context("public values: `output_commitment` is missing")?;
            Endpoint::Commitment(fr_from_hex(c, "public values: output_commitment")?)
        } else {
            absent("output_commitment", self.output_commitment.is_some())?;
            let v = int8s("output", &self.output, output_len)?;
            let want = argmax(self.output.as_deref().unwrap_or_default());
            if self.predicted_class != want {
                bail!(
                    "public values: predicted_class {:?} is not the argmax of the output ({want:?})",
                    self.predicted_class
                );
            }
            Endpoint::Values(v)
        };
        Ok((input, output))
    }
}

/// The model input or output as a proof binds it: its int8 values (public) or a salted commitment (hidden).
#[derive(Clone, Debug, PartialEq)]
pub enum Endpoint {
    Values(Vec<Fr>),
    Commitment(Fr),
}
