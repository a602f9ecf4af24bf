//! The proof file `prove` writes and `verify` reads: one JSON object with the proof bytes (hex), what it is for
//! (model digest, visibility, k) and the public values in readable form. `verify` rebuilds the instance column from
//! these values alone, so editing any of them makes the stock verifier reject the proof.

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};
use zkinfer_circuits::layouter::to_field;
use zkinfer_circuits::Visibility;

use crate::encoding::{fr_from_hex, fr_to_hex};

pub const FORMAT: &str = "zkinfer-proof/1";

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublicValues {
    /// Poseidon commitment to the weights (hidden weights).
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

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofFile {
    pub format: String,
    pub model_blake2b: String,
    pub hide: String,
    pub k: u32,
    pub public: PublicValues,
    /// The halo2 proof (KZG, SHPLONK, Blake2b transcript), hex.
    pub proof: String,
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

/// The salts behind hidden input / output commitments: private, kept by the prover to open them later.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_salt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_salt: Option<String>,
}

pub fn argmax(v: &[i32]) -> Option<usize> {
    let max = *v.iter().max()?;
    v.iter().position(|&x| x == max)
}

impl PublicValues {
    /// Splits the natively computed instance column into readable public values.
    pub fn from_instances(inst: &[Fr], vis: &Visibility, input: &[i32], output: &[i32]) -> Self {
        let mut it = inst.iter();
        let mut next = || fr_to_hex(it.next().expect("instance layout"));
        let mut p = PublicValues::default();
        if vis.hide_weights {
            p.weights_commitment = Some(next());
        }
        if vis.hide_input {
            p.input_commitment = Some(next());
        } else {
            p.input = Some(input.to_vec());
        }
        if vis.hide_output {
            p.output_commitment = Some(next());
        } else {
            p.output = Some(output.to_vec());
            p.predicted_class = argmax(output);
        }
        p
    }

    /// The instance column these values stand for, checking they fit the keys' visibility and shapes.
    pub fn instances(&self, vis: &Visibility, input_len: usize, output_len: usize) -> Result<Vec<Fr>> {
        let mut out = Vec::new();
        let int8s = |what: &str, v: &Option<Vec<i32>>, len: usize, out: &mut Vec<Fr>| -> Result<()> {
            let v = v.as_ref().with_context(|| format!("public values: `{what}` is missing"))?;
            if v.len() != len {
                bail!("public values: `{what}` has {} values, the model's has {len}", v.len());
            }
            if let Some(x) = v.iter().find(|x| !(-128..=127).contains(*x)) {
                bail!("public values: `{what}` holds {x}, not an int8");
            }
            out.extend(v.iter().map(|&x| to_field(x as i128)));
            Ok(())
        };
        let absent = |what: &str, present: bool| -> Result<()> {
            if present {
                bail!("public values: `{what}` is present but the keys keep it hidden (or public) otherwise");
            }
            Ok(())
        };
        match (&self.weights_commitment, vis.hide_weights) {
            (Some(c), true) => out.push(fr_from_hex(c, "public values: weights_commitment")?),
            (None, true) => bail!("public values: `weights_commitment` is missing"),
            (c, false) => absent("weights_commitment", c.is_some())?,
        }
        if vis.hide_input {
            absent("input", self.input.is_some())?;
            let c = self.input_commitment.as_deref().context("public values: `input_commitment` is missing")?;
            out.push(fr_from_hex(c, "public values: input_commitment")?);
        } else {
            absent("input_commitment", self.input_commitment.is_some())?;
            int8s("input", &self.input, input_len, &mut out)?;
        }
        if vis.hide_output {
            absent("output", self.output.is_some())?;
            absent("predicted_class", self.predicted_class.is_some())?;
            let c = self.output_commitment.as_deref().context("public values: `output_commitment` is missing")?;
            out.push(fr_from_hex(c, "public values: output_commitment")?);
        } else {
            absent("output_commitment", self.output_commitment.is_some())?;
            int8s("output", &self.output, output_len, &mut out)?;
            let want = argmax(self.output.as_deref().unwrap_or_default());
            if self.predicted_class != want {
                bail!(
                    "public values: predicted_class {:?} is not the argmax of the output ({want:?})",
                    self.predicted_class
                );
            }
        }
        Ok(out)
    }
}
