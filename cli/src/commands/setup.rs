//! `zkinfer setup`: plan the circuit, get an SRS (ceremony file or an insecure local one), run keygen and write the
//! keys directory (see `keys.rs`) atomically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::Serialize;
use zkinfer_backend::params::{check_ceremony_srs, dev_srs, keygen, read_srs, write_srs, KEYGEN_STEPS};
use zkinfer_backend::Bn256;
use zkinfer_circuits::{commit, plan, stats::stats_for_shape, ModelCircuit, Visibility};

use crate::encoding::{digest_file, fr_to_hex};
use crate::keys::{self, FileEntry, Manifest, ModelInfo};
use crate::model_file::{self, gib};
use crate::ui::Ui;
use crate::{atomic, visibility};

pub enum SrsSource {
    File(PathBuf),
    /// Generated here from a seed (random unless given): anyone who knows it can forge proofs.
    Dev(Option<u64>),
}

pub struct SetupArgs {
    pub model: PathBuf,
    pub srs: SrsSource,
    pub out: PathBuf,
    pub vis: Visibility,
    pub force: bool,
}

#[derive(Serialize)]
pub struct SetupReport {
    pub keys: String,
    pub k: u32,
    pub hide: String,
    pub srs: String,
    pub setup_s: f64,
    pub pk_bytes: u64,
    pub vk_bytes: u64,
    pub weights_commitment: Option<String>,
}

/// Reads a ceremony SRS (points checked on the curve), checks it is a KZG setup, and cuts it to `k`.
fn read_ceremony_srs(path: &Path, k: u32) -> Result<ParamsKZG<Bn256>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read SRS file {}", path.display()))?;
    let srs = keys::guarded(&format!("{} is not a halo2 KZG params file", path.display()), || {
        read_srs(&mut &bytes[..], false)
    })?;
    check_ceremony_srs(srs, k).map_err(|e| anyhow!("SRS {} {e}", path.display()))
}

pub fn run(args: &SetupArgs, ui: &Ui) -> Result<SetupReport> {
    let t0 = Instant::now();
    if args.out.exists() && !args.out.is_dir() {
        bail!("--out {} exists and is not a directory", args.out.display());
    }
    if args.out.is_dir() && std::fs::read_dir(&args.out)?.next().is_some() {
        if !args.out.join(keys::MANIFEST).is_file() {
            bail!("--out {} is a non-empty directory without zkinfer keys; refusing to replace it", args.out.display());
        }
        if !args.force {
            bail!("--out {} already holds keys; pass --force to replace them", args.out.display());
        }
    }
    if let SrsSource::File(p) = &args.srs {
        if !p.is_file() {
            bail!("SRS file {} does not exist", p.display());
        }
    }
    let stage = ui.stage("import model", 0);
    let m = model_file::load(&args.model)?;
    stage.finish();
    let vis = args.vis;
    let shape = plan::plan(&m.model, &vis)?;
    let stats = stats_for_shape(&m.model, &vis, shape.clone());
    ui.say(format!(
        "circuit: k = {}, {} rows used, {} advice + {} fixed columns, {} lookups; est. setup memory {:.1} GiB",
        stats.k,
        stats.rows,
        stats.advice_columns,
        stats.fixed_columns,
        stats.lookups,
        gib(stats.setup_memory)
    ));
    model_file::check_memory("setup", stats.setup_memory.max(stats.prove_memory / 2), args.force)?;
    let k = shape.k;

    let stage = ui.stage("SRS", 0);
    let (params, srs_desc) = match &args.srs {
        SrsSource::File(p) => (read_ceremony_srs(p, k)?, p.display().to_string()),
        SrsSource::Dev(seed) => {
            ui.warn("DEV SRS: generated locally with known randomness — INSECURE, whoever ran setup can forge proofs; \
                     use --srs with a ceremony file for anything real");
            let rng = match seed {
                Some(s) => ChaCha20Rng::seed_from_u64(*s),
                None => ChaCha20Rng::from_entropy(),
            };
            (dev_srs(k, rng), "dev (INSECURE: generated locally)".to_string())
        }
    };
    stage.finish();

    let stage = ui.stage("keygen", KEYGEN_STEPS.len() as u64);
    stage.message(KEYGEN_STEPS[0]);
    let input = vec![0i32; m.model.input().shape.iter().product()];
    let circuit = ModelCircuit::with_shape(m.model.clone(), input, vis, shape.clone())?;
    let mut next = 1;
    let pk = keygen(&params, &circuit, &mut |done| {
        stage.step(done, KEYGEN_STEPS.get(next).copied().unwrap_or(""));
        next += 1;
    })?;
    stage.finish();
    let weights_commitment = if vis.hide_weights { Some(fr_to_hex(&commit::commit_weights(&m.model)?)) } else { None };

    let stage = ui.stage("write keys", 0);
    let staged = atomic::StagedDir::new(&args.out)?;
    let write = |name: &str, f: &dyn Fn(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>| -> Result<FileEntry> {
        let path = staged.path.join(name);
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path)?);
        f(&mut w).with_context(|| format!("writing {name}"))?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(FileEntry { bytes: std::fs::metadata(&path)?.len(), blake2b: digest_file(&path)? })
    };
    let mut files = std::collections::BTreeMap::new();
    files.insert(keys::PK.to_string(), write(keys::PK, &|w| pk.write(w, SerdeFormat::RawBytesUnchecked))?);
    files.insert(keys::VK.to_string(), write(keys::VK, &|w| pk.get_vk().write(w, SerdeFormat::RawBytes))?);
    files.insert(keys::SRS.to_string(), write(keys::SRS, &|w| write_srs(&params, w))?);
    let out = m.model.output_info();
    let setup_s = t0.elapsed().as_secs_f64();
    let manifest = Manifest {
        format: keys::FORMAT.into(),
        zkinfer_version: env!("CARGO_PKG_VERSION").into(),
        model: ModelInfo {
            file: m.file.clone(),
            blake2b: m.blake2b.clone(),
            input_shape: m.model.input().shape.clone(),
            output_shape: out.shape.clone(),
            output_scale: out.q.scale,
            output_zero_point: out.q.zero_point,
            denominator_bits: m.model.denominator_bits,
        },
        hide: visibility::format(&vis),
        k,
        shape,
        weights_commitment: weights_commitment.clone(),
        srs: srs_desc.clone(),
        engine: "halo2-axiom keygen (CPU)".into(),
        setup_s,
        files: files.clone(),
    };
    std::fs::write(staged.path.join(keys::MANIFEST), serde_json::to_string_pretty(&manifest)?)?;
    staged.commit()?;
    stage.finish();
    Ok(SetupReport {
        keys: args.out.display().to_string(),
        k,
        hide: manifest.hide,
        srs: srs_desc,
        setup_s,
        pk_bytes: files[keys::PK].bytes,
        vk_bytes: files[keys::VK].bytes,
        weights_commitment,
    })
}
