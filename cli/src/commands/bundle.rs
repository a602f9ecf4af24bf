//! `zkinfer bundle`: join the part files of one proof (`prove --segment i`, possibly proved in separate processes
//! or on other machines) into the proof file. Parts must be of the same model, visibility and public values (one
//! input, one opening); each segment must come once. `verify` then checks the joined chain as a whole.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde::Serialize;

use crate::atomic;
use crate::commands::verify::read_proof_file;
use crate::proof_file::ProofFile;

#[derive(Serialize)]
pub struct BundleReport {
    pub proof: String,
    pub parts: usize,
    pub segments: usize,
}

pub fn run(parts: &[PathBuf], out: &Path) -> Result<BundleReport> {
    if parts.is_empty() {
        bail!("give the part files to join");
    }
    if out.is_dir() {
        bail!("--out {} is a directory; give the proof file's path", out.display());
    }
    let mut joined: Option<ProofFile> = None;
    for p in parts {
        let part = read_proof_file(p)?;
        let Some(j) = joined.as_mut() else {
            joined = Some(part);
            continue;
        };
        if part.model_digest != j.model_digest || part.hide != j.hide {
            bail!("{} is a part of a proof for another model or visibility", p.display());
        }
        if part.public != j.public {
            bail!("{} has other public values (another input or opening) than the parts before it", p.display());
        }
        for s in part.segments {
            if j.segments.iter().any(|x| x.segment == s.segment) {
                bail!("segment {} appears in more than one part ({} among them)", s.segment, p.display());
            }
            j.segments.push(s);
        }
        j.info.prove_s += part.info.prove_s;
    }
    let mut j = joined.expect("at least one part");
    j.segments.sort_by_key(|s| s.segment);
    atomic::write(out, format!("{}\n", serde_json::to_string(&j)?).as_bytes())?;
    Ok(BundleReport { proof: out.display().to_string(), parts: parts.len(), segments: j.segments.len() })
}
