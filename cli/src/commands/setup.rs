//! `zkinfer setup`: plan the chain of segment circuits within the memory budget, get an SRS (ceremony file or an
//! insecure local one) at the largest k, run keygen once per distinct segment circuit and write the keys directory
//! (see `keys.rs`) atomically.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::Serialize;
use zkinfer_backend::engine::Engine;
use zkinfer_backend::params::{check_ceremony_srs, dev_srs, read_srs, write_srs, EngineParams};
use zkinfer_backend::plonk::keygen::{keygen, STEPS as KEYGEN_STEPS};
use halo2_proofs::poly::commitment::Params;
use zkinfer_backend::{Bn256, CpuEngine};
use zkinfer_circuits::plan::MAX_K;
use zkinfer_circuits::segments::{plan_model, Budget, Planned};
use zkinfer_circuits::{ModelCircuit, Shape, Visibility};
use zkinfer_import::QuantModel;

use crate::encoding::digest_file;
use crate::keys::{self, FileEntry, KeyEntry, Manifest, ModelInfo, SegmentEntry};
use crate::model_file::{self, gib, machine_memory};
use crate::ui::Ui;
use crate::{atomic, chain, visibility};

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
    /// GiB each segment's setup and proving may use (default: 60% of this machine's memory).
    pub memory_gib: Option<f64>,
    pub max_k: Option<u32>,
    /// Cut into at least this many segments.
    pub segments: Option<usize>,
    pub force: bool,
}

#[derive(Serialize)]
pub struct SetupReport {
    pub keys: String,
    /// Largest k over the keys.
    pub k: u32,
    pub segments: usize,
    pub distinct_keys: usize,
    pub hide: String,
    pub srs: String,
    pub setup_s: f64,
    pub pk_bytes: u64,
    pub vk_bytes: u64,
    pub model_digest: String,
}

/// Reads a ceremony SRS (points checked on the curve), checks it is a KZG setup, and cuts it to `k`.
fn read_ceremony_srs(path: &Path, k: u32) -> Result<ParamsKZG<Bn256>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read SRS file {}", path.display()))?;
    let srs = keys::guarded(&format!("{} is not a halo2 KZG params file", path.display()), || {
        read_srs(&mut &bytes[..], bytes.len() as u64, false)
    })?;
    check_ceremony_srs(srs, k).map_err(|e| anyhow!("SRS {} {e}", path.display()))
}

/// The budget a chain is planned for, from the flags (memory defaults to 60% of this machine's).
pub fn budget(memory_gib: Option<f64>, max_k: Option<u32>, segments: Option<usize>) -> Result<Budget> {
    let memory = match memory_gib {
        Some(g) if g > 0.0 && g.is_finite() => (g * (1u64 << 30) as f64) as u64,
        Some(g) => bail!("--memory {g}: give a positive number of GiB"),
        None => machine_memory().map_or(u64::MAX, |m| m / 10 * 6),
    };
    let max_k = max_k.unwrap_or(MAX_K);
    if !(1..=MAX_K).contains(&max_k) {
        bail!("--max-k {max_k}: give 1..={MAX_K}");
    }
    let min_segments = segments.unwrap_or(1);
    if min_segments == 0 {
        bail!("--segments 0: give at least 1");
    }
    Ok(Budget { memory, max_k, min_segments })
}

/// A model planned for setup: the model with its channel splits, the chain, each segment's key, the distinct keys
/// (shape, circuit digest when computed).
pub struct KeyPlan {
    pub model: Arc<QuantModel>,
    pub splits: Vec<(usize, usize)>,
    pub chain: Vec<Planned>,
    pub key_of: Vec<usize>,
    pub keys: Vec<(Shape, Option<String>)>,
}

/// Plans the chain (splitting layers too large alone) and groups segments whose circuits are identical (one key
/// each group). A circuit digest is a whole layout pass, so it is only computed for segments whose shape another
/// segment shares — a segment with a shape of its own cannot share a key — and is `None` otherwise (setup computes
/// it at keygen); `inspect` stays quick.
/// The manifest's chain: each planned segment's layers, the tensors at its cuts (ids and names), its key and rows.
pub fn segment_entries(model: &QuantModel, chain: &[Planned], key_of: &[usize]) -> Vec<SegmentEntry> {
    let names = |ts: &[usize]| ts.iter().map(|&t| model.tensors[t].name.clone()).collect::<Vec<_>>();
    chain
        .iter()
        .zip(key_of)
        .map(|(p, &key)| SegmentEntry {
            start: p.segment.start,
            end: p.segment.end,
            inputs: p.segment.inputs.clone(),
            outputs: p.segment.outputs.clone(),
            input_names: names(&p.segment.inputs),
            output_names: names(&p.segment.outputs),
            key,
            rows: p.stats.rows,
        })
        .collect()
}

pub fn plan_keys(model: &QuantModel, vis: Visibility, budget: &Budget) -> Result<KeyPlan> {
    let plan = plan_model(model, &vis, budget)?;
    let (model, chain) = (Arc::new(plan.model), plan.chain);
    let mut keys: Vec<(Shape, Option<String>)> = Vec::new();
    let mut key_of = Vec::with_capacity(chain.len());
    for (i, p) in chain.iter().enumerate() {
        let shape_shared = chain.iter().enumerate().any(|(j, q)| j != i && q.shape == p.shape);
        let digest = if shape_shared {
            Some(ModelCircuit::for_keygen(model.clone(), p.segment.clone(), vis, p.shape.clone())?.circuit_digest()?)
        } else {
            None
        };
        let k = match keys.iter().position(|(s, d)| *s == p.shape && *d == digest) {
            Some(k) => k,
            None => {
                keys.push((p.shape.clone(), digest));
                keys.len() - 1
            }
        };
        key_of.push(k);
    }
    Ok(KeyPlan { model, splits: plan.splits, chain, key_of, keys })
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
    let budget = budget(args.memory_gib, args.max_k, args.segments)?;
    let stage = ui.stage("import model", 0);
    let m = model_file::load(&args.model)?;
    stage.finish();
    let vis = args.vis;
    let stage = ui.stage("plan segments", 0);
    let KeyPlan { model, splits, chain, key_of, keys: distinct } = plan_keys(&m.model, vis, &budget)?;
    stage.finish();
    if !splits.is_empty() {
        ui.say(format!("split by output channels to fit the budget: {}", splits.iter().map(|(i, p)| format!("layer {i} into {p}")).collect::<Vec<_>>().join(", ")));
    }
    let peak = chain.iter().map(|p| p.memory()).max().unwrap_or(0);
    ui.say(format!(
        "chain: {} segment(s), {} distinct circuit(s), k {}, {} rows in all; est. peak memory per segment {:.1} GiB",
        chain.len(),
        distinct.len(),
        {
            let ks: Vec<String> = chain.iter().map(|p| p.shape.k.to_string()).collect();
            ks.join(",")
        },
        chain.iter().map(|p| p.stats.rows).sum::<usize>(),
        gib(peak)
    ));
    model_file::check_memory("setup", peak, args.force)?;
    let srs_k = distinct.iter().map(|(s, _)| s.k).max().expect("one key");

    let stage = ui.stage("SRS", 0);
    // One SRS per distinct k, all from one secret. A dev SRS is generated at each k from the same seed (the secret
    // is the rng's first draw): cutting a bigger one down would recompute its Lagrange points with an FFT over G1,
    // minutes per k. A ceremony file is cut down (that FFT is the price of not knowing the secret).
    let mut ks: Vec<u32> = distinct.iter().map(|(s, _)| s.k).collect();
    ks.sort_unstable_by(|a, b| b.cmp(a));
    ks.dedup();
    let (srs_per_k, srs_desc): (Vec<(u32, ParamsKZG<Bn256>)>, String) = match &args.srs {
        SrsSource::File(p) => {
            let mut cut = read_ceremony_srs(p, srs_k)?;
            let mut out = Vec::new();
            for &k in &ks {
                if k < cut.k() {
                    cut.downsize(k);
                }
                out.push((k, cut.clone()));
            }
            (out, p.display().to_string())
        }
        SrsSource::Dev(seed) => {
            ui.warn("DEV SRS: generated locally with known randomness — INSECURE, whoever ran setup can forge proofs; \
                     use --srs with a ceremony file for anything real");
            let mut seed_bytes = [0u8; 32];
            if seed.is_none() {
                rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed_bytes);
            }
            let rng = || match seed {
                Some(s) => ChaCha20Rng::seed_from_u64(*s),
                None => ChaCha20Rng::from_seed(seed_bytes),
            };
            (ks.iter().map(|&k| (k, dev_srs(k, rng()))).collect(), "dev (INSECURE: generated locally)".to_string())
        }
    };
    // zkinfer's keygen: halo2-axiom's keys, with the commitments and INTTs on the CPU engine.
    let engine: Arc<dyn Engine> = Arc::new(CpuEngine::new());
    let srs_per_k: Vec<(u32, EngineParams)> = srs_per_k
        .into_iter()
        .map(|(k, p)| Ok((k, EngineParams::new(p, engine.clone()).context("loading the SRS into the CPU engine")?)))
        .collect::<Result<_>>()?;
    let srs_of = |k: u32| &srs_per_k.iter().find(|(kk, _)| *kk == k).expect("an SRS per key k").1;
    stage.finish();

    let staged = atomic::StagedDir::new(&args.out)?;
    let write = |name: &str, f: &dyn Fn(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>| -> Result<FileEntry> {
        let path = staged.path.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path)?);
        keys::guarded_write(&format!("writing {name}"), || f(&mut w))?;
        w.into_inner().map_err(|e| e.into_error()).with_context(|| format!("writing {name}"))?.sync_all()?;
        Ok(FileEntry { bytes: std::fs::metadata(&path)?.len(), blake2b: digest_file(&path)? })
    };
    let mut files = std::collections::BTreeMap::new();
    let mut key_entries = Vec::new();
    // Keygen per distinct circuit, never for the whole model at once; each key is written and dropped before the
    // next.
    for (n, (shape, digest)) in distinct.iter().enumerate() {
        let seg = key_of.iter().position(|&k| k == n).expect("every key has a segment");
        let t = Instant::now();
        let title = format!("keygen {}/{} (k = {})", n + 1, distinct.len(), shape.k);
        let stage = ui.stage(&title, KEYGEN_STEPS.len() as u64);
        stage.message(KEYGEN_STEPS[0]);
        let circuit = ModelCircuit::for_keygen(model.clone(), chain[seg].segment.clone(), vis, shape.clone())?;
        let digest = match digest {
            Some(d) => d.clone(),
            None => circuit.circuit_digest()?,
        };
        let mut next = 1;
        let pk = keygen(srs_of(shape.k), &circuit, false, &mut |done| {
            stage.step(done, KEYGEN_STEPS.get(next).copied().unwrap_or(""));
            next += 1;
        })?;
        stage.finish();
        files.insert(keys::pk_file(n), write(&keys::pk_file(n), &|w| pk.write(w, SerdeFormat::RawBytesUnchecked))?);
        files.insert(keys::vk_file(n), write(&keys::vk_file(n), &|w| pk.get_vk().write(w, SerdeFormat::RawBytes))?);
        key_entries.push(KeyEntry { k: shape.k, shape: shape.clone(), circuit_digest: digest, keygen_s: t.elapsed().as_secs_f64() });
    }
    let stage = ui.stage("write keys", 0);
    for (k, p) in &srs_per_k {
        files.insert(keys::srs_file(*k), write(&keys::srs_file(*k), &|w| write_srs(p.stock(), w))?);
    }
    let (digest_of, digest) = chain::model_digest(&m.model, &m.blake2b, &vis);
    let segments = segment_entries(&model, &chain, &key_of);
    let setup_s = t0.elapsed().as_secs_f64();
    let manifest = Manifest {
        format: keys::FORMAT.into(),
        zkinfer_version: env!("CARGO_PKG_VERSION").into(),
        model: ModelInfo::of(&m.model, m.file.clone(), digest_of, digest.clone()),
        hide: visibility::format(&vis),
        memory_gib: gib(budget.memory).min(1e9),
        max_k: budget.max_k,
        splits,
        segments,
        keys: key_entries,
        srs_k,
        srs: srs_desc.clone(),
        engine: "zkinfer keygen (CPU engine)".into(),
        setup_s,
        files: files.clone(),
    };
    std::fs::write(staged.path.join(keys::MANIFEST), serde_json::to_string_pretty(&manifest)?)?;
    staged.commit()?;
    stage.finish();
    let sum = |suffix: &str| files.iter().filter(|(n, _)| n.ends_with(suffix)).map(|(_, f)| f.bytes).sum();
    Ok(SetupReport {
        keys: args.out.display().to_string(),
        k: srs_k,
        segments: manifest.segments.len(),
        distinct_keys: manifest.keys.len(),
        hide: manifest.hide,
        srs: srs_desc,
        setup_s,
        pk_bytes: sum("pk.bin"),
        vk_bytes: sum("vk.bin"),
        model_digest: digest,
    })
}
