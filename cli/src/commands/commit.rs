//! `zkinfer commit`: recompute a commitment natively — the weights commitment of an ONNX model, or the (salted)
//! input commitment of an input file — so a verifier can match it against a proof's public values.

use std::path::Path;

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use serde::Serialize;
use zkinfer_circuits::commit;

use crate::encoding::{fr_from_hex, fr_to_hex};
use crate::proof_file::Opening;
use crate::ui::Ui;
use crate::{input, model_file};

#[derive(Serialize)]
pub struct CommitReport {
    pub kind: String,
    pub commitment: String,
}

pub fn run(
    target: &Path,
    model: Option<&Path>,
    index: Option<usize>,
    salt: Option<&str>,
    opening: Option<&Path>,
    ui: &Ui,
) -> Result<CommitReport> {
    let is_onnx = target.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx"));
    if is_onnx {
        if model.is_some() || salt.is_some() || opening.is_some() || index.is_some() {
            bail!("commit MODEL.onnx takes no --model, --salt, --opening or --index (weights are committed unsalted)");
        }
        let m = model_file::load(target)?;
        return Ok(CommitReport { kind: "weights".into(), commitment: fr_to_hex(&commit::commit_weights(&m.model)?) });
    }
    let Some(model) = model else { bail!("committing to an input needs the model it is for: --model MODEL.onnx") };
    let m = model_file::load(model)?;
    let salt = match (salt, opening) {
        (Some(_), Some(_)) => bail!("give either --salt or --opening, not both"),
        (Some(s), None) => fr_from_hex(s, "--salt")?,
        (None, Some(p)) => {
            let text = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            let o: Opening = serde_json::from_slice(&text).with_context(|| format!("{} is not an opening file", p.display()))?;
            let s = o.input_salt.with_context(|| format!("{} holds no input salt", p.display()))?;
            fr_from_hex(&s, "opening input_salt")?
        }
        (None, None) => Fr::ZERO,
    };
    let inp = input::load(target, &m.model, index, ui)?;
    Ok(CommitReport { kind: "input".into(), commitment: fr_to_hex(&commit::commit_tensor(&inp.values, salt)?) })
}
