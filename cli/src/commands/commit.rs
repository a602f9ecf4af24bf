//! `zkinfer commit`: recompute a commitment natively — the weights commitment of an ONNX model (over the keys'
//! chain of segments, with the weights seed of an opening), or the (salted) input commitment of an input file — so
//! a verifier can match it against a proof's public values.

use std::path::Path;

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use serde::Serialize;
use zkinfer_circuits::commit;

use crate::encoding::{fr_from_hex, fr_to_hex};
use crate::commands::prove::read_opening;
use crate::keys::Keys;
use crate::ui::Ui;
use crate::{chain, input, model_file};

#[derive(Serialize)]
pub struct CommitReport {
    pub kind: String,
    pub commitment: String,
}

pub fn run(
    target: &Path,
    model: Option<&Path>,
    keys: Option<&Path>,
    index: Option<usize>,
    salt: Option<&str>,
    opening: Option<&Path>,
    ui: &Ui,
) -> Result<CommitReport> {
    let is_onnx = target.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx"));
    if is_onnx {
        if model.is_some() || index.is_some() {
            bail!("commit MODEL.onnx takes no --model or --index");
        }
        let Some(keys) = keys else {
            bail!("the weights commitment is over the keys' chain of segments: give --keys DIR")
        };
        let keys = Keys::open(keys)?;
        let vis = keys.manifest.visibility()?;
        if !vis.hide_weights {
            bail!("the keys in {} make the weights public: there is no weights commitment", keys.dir.display());
        }
        let m = model_file::load(target)?;
        let (_, digest) = chain::model_digest(&m.model, &m.blake2b, &vis);
        if digest != keys.manifest.model.digest {
            bail!("{} does not have the architecture the keys were set up for", target.display());
        }
        let seed = match (salt, opening) {
            (Some(_), Some(_)) => bail!("give either --salt (the weights seed) or --opening, not both"),
            (Some(s), None) => fr_from_hex(s, "--salt")?,
            (None, Some(p)) => {
                let s = read_opening(p)?.weights_seed.with_context(|| format!("{} holds no weights seed", p.display()))?;
                fr_from_hex(&s, &format!("{}: weights_seed", p.display()))?
            }
            (None, None) => bail!("the weights commitment is salted: give --opening PROOF.opening.json (or --salt SEED)"),
        };
        let seeds = chain::Seeds { weights_seed: seed, ..chain::Seeds::fresh(None) };
        let model = keys.manifest.prepare(&m.model)?;
        let c = chain::model_weights_commitment(&model, &keys.manifest, &seeds)?;
        return Ok(CommitReport { kind: "weights".into(), commitment: fr_to_hex(&c) });
    }
    if keys.is_some() {
        bail!("--keys applies to a model's weights commitment, not to an input");
    }
    let Some(model) = model else { bail!("committing to an input needs the model it is for: --model MODEL.onnx") };
    let m = model_file::load(model)?;
    let salt = match (salt, opening) {
        (Some(_), Some(_)) => bail!("give either --salt or --opening, not both"),
        (Some(s), None) => fr_from_hex(s, "--salt")?,
        (None, Some(p)) => {
            let s = read_opening(p)?.input_salt.with_context(|| format!("{} holds no input salt", p.display()))?;
            fr_from_hex(&s, &format!("{}: input_salt", p.display()))?
        }
        (None, None) => Fr::ZERO,
    };
    let inp = input::load(target, &m.model, index, ui)?;
    Ok(CommitReport { kind: "input".into(), commitment: fr_to_hex(&commit::commit_tensor(&inp.values, salt)?) })
}
