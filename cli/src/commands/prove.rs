//! `zkinfer prove`: check the model and input against the keys, run the model once natively (the integer
//! reference), prove every segment of the chain (or one, `--segment i`) from its slice of that run on the selected
//! engine, check each proof with the stock verifier, and write the proof file (and the private opening of its
//! commitments) atomically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, SeedableRng};
use serde::Serialize;
use zkinfer_backend::params::EngineParams;
use zkinfer_backend::provers::Prover;
use zkinfer_backend::stock::verify_stock;
use zkinfer_backend::{select_engine, EngineKind};
use zkinfer_circuits::commit;
use zkinfer_circuits::stats::stats_for_segment;
use zkinfer_circuits::Visibility;

use crate::chain::{self, Seeds};
use crate::encoding::{fr_from_hex, fr_to_hex};
use crate::keys::Keys;
use crate::model_file;
use crate::proof_file::{argmax, Opening, ProofFile, ProveInfo, PublicValues, SegmentProof, FORMAT};
use crate::prover::{phase_seconds, prove_staged};
use crate::ui::Ui;
use crate::{atomic, input, visibility};

pub struct ProveArgs {
    pub model: PathBuf,
    pub input: PathBuf,
    pub index: Option<usize>,
    pub keys: PathBuf,
    pub hide: Option<Visibility>,
    pub engine: EngineKind,
    pub prover: Prover,
    pub out: PathBuf,
    pub input_salt: Option<String>,
    /// The opening to prove under: read when the file exists, created (once, atomically) otherwise. Without it,
    /// fresh salts go to OUT.opening.json.
    pub opening: Option<PathBuf>,
    /// Prove only this segment (a part file for `zkinfer bundle`).
    pub segment: Option<usize>,
    pub force: bool,
}

#[derive(Serialize)]
pub struct ProveReport {
    pub proof: String,
    pub opening: Option<String>,
    pub public: PublicValues,
    pub prover: String,
    pub engine: String,
    pub segments: usize,
    /// Seconds proving each segment proved here (segment index, seconds).
    pub segment_s: Vec<(usize, f64)>,
    pub prove_s: f64,
    pub total_s: f64,
    /// Bytes of the halo2 proofs together.
    pub proof_bytes: usize,
    pub phases: Vec<(String, f64)>,
}

pub fn opening_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_os_string();
    s.push(".opening.json");
    PathBuf::from(s)
}

/// Reads an opening file.
pub fn read_opening(p: &Path) -> Result<Opening> {
    let text = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{} is not a zkinfer opening file", p.display()))
}

/// The seeds to prove under, and where the opening is (to write, when it is new and not given).
fn seeds(args: &ProveArgs, vis: &Visibility, segments: usize) -> Result<(Seeds, Option<PathBuf>)> {
    let input_salt = args.input_salt.as_deref().map(|s| fr_from_hex(s, "--input-salt")).transpose()?;
    if input_salt.is_some() && !vis.hide_input {
        bail!("--input-salt only applies when the input is hidden");
    }
    let Some(path) = &args.opening else {
        if args.segment.is_some() {
            bail!("--segment needs --opening FILE: every segment of one proof must use the same salts");
        }
        return Ok((Seeds::fresh(input_salt), Some(opening_path(&args.out))));
    };
    let what = path.display().to_string();
    if !path.exists() {
        // Create it once; a concurrent `prove --segment` that loses the race reads the winner's.
        let fresh = Seeds::fresh(input_salt);
        let text = serde_json::to_string_pretty(&fresh.opening(vis, segments))?;
        if atomic::create_new(path, text.as_bytes())? {
            return Ok((fresh, None));
        }
    }
    let seeds = Seeds::from_opening(&read_opening(path)?, vis, segments, &what)?;
    if let Some(s) = input_salt {
        if s != seeds.input_salt {
            bail!("--input-salt differs from the input salt in {what}");
        }
    }
    Ok((seeds, None))
}

pub fn run(args: &ProveArgs, ui: &Ui) -> Result<ProveReport> {
    let t0 = Instant::now();
    if args.out.is_dir() {
        bail!("--out {} is a directory; give the proof file's path", args.out.display());
    }
    let keys = Keys::open(&args.keys)?;
    let man = &keys.manifest;
    let vis = man.visibility()?;
    if let Some(h) = args.hide {
        if h != vis {
            bail!(
                "--hide {} does not match the keys in {}, which were set up with --hide {}",
                visibility::format(&h),
                args.keys.display(),
                man.hide
            );
        }
    }
    let n = man.segments.len();
    if let Some(i) = args.segment {
        if i >= n {
            bail!("--segment {i}: the keys' chain has {n} segment(s) (0..{})", n - 1);
        }
    }
    let stage = ui.stage("import model + input", 0);
    let m = model_file::load(&args.model)?;
    let (_, digest) = chain::model_digest(&m.model, &m.blake2b, &vis);
    if digest != man.model.digest {
        bail!(
            "model {} is not the model the keys in {} were set up for ({}, {} digest); run `zkinfer setup` for it",
            args.model.display(),
            args.keys.display(),
            man.model.file,
            man.model.digest_of
        );
    }
    let inp = input::load(&args.input, &m.model, args.index, ui)?;
    let model = man.prepare(&m.model)?;
    stage.finish();
    ui.say(format!("input: {}", inp.source));
    let todo: Vec<usize> = match args.segment {
        Some(i) => vec![i],
        None => (0..n).collect(),
    };
    let peak = todo
        .iter()
        .map(|&i| {
            let e = &man.segments[i];
            stats_for_segment(&model, &e.segment(), &vis, man.keys[e.key].shape.clone()).prove_memory
        })
        .max()
        .unwrap_or(0);
    model_file::check_memory("proving", peak, args.force)?;

    // The one native execution: every tensor's values; each segment is proved from its slice.
    let stage = ui.stage("native run (integer reference)", 0);
    let values = zkinfer_import::reference::run_all(&model, &inp.values)?;
    let (seeds, new_opening) = seeds(args, &vis, n)?;
    let output = values[model.output].clone();
    let public = PublicValues {
        weights_commitment: vis
            .hide_weights
            .then(|| chain::model_weights_commitment(&model, man, &seeds).map(|c| fr_to_hex(&c)))
            .transpose()?,
        input_commitment: vis.hide_input.then(|| commit::commit_tensor(&inp.values, seeds.input_salt).map(|c| fr_to_hex(&c))).transpose()?,
        input: (!vis.hide_input).then(|| inp.values.clone()),
        output_commitment: vis.hide_output.then(|| commit::commit_tensor(&output, seeds.output_salt).map(|c| fr_to_hex(&c))).transpose()?,
        output: (!vis.hide_output).then(|| output.clone()),
        predicted_class: if vis.hide_output { None } else { argmax(&output) },
    };
    stage.finish();

    let engine = select_engine(args.engine)?;
    let engine_name = engine.name().to_string();
    ui.say(format!("engine: {}", engine.describe()));
    let mut rng = ChaCha20Rng::from_rng(OsRng).context("seeding the prover's randomness")?;
    let mut entries: Vec<SegmentProof> = Vec::with_capacity(todo.len());
    let mut phases: Vec<(String, f64)> = Vec::new();
    let mut segment_s = Vec::new();
    let mut proof_bytes = 0;
    let t = Instant::now();
    // One key and its engine parameters at a time: segments sharing a key reuse them; memory holds one segment.
    let mut loaded: Option<(usize, halo2_proofs::plonk::ProvingKey<zkinfer_backend::G1Affine>, EngineParams)> = None;
    for &i in &todo {
        let key = man.segments[i].key;
        if loaded.as_ref().map(|l| l.0) != Some(key) {
            drop(loaded.take());
            let stage = ui.stage(&format!("load key {key} (k = {})", man.keys[key].k), 0);
            let pk = keys.pk(key)?;
            let p = keys.srs(man.keys[key].k)?;
            let params = EngineParams::new(p, engine.clone()).context("loading the SRS into the engine")?;
            stage.finish();
            loaded = Some((key, pk, params));
        }
        let (_, pk, params) = loaded.as_ref().expect("loaded above");
        let circuit = chain::segment_circuit(&model, man, i, &values, vis, &seeds)?;
        let (instances, _) = circuit.instances_and_outputs()?;
        let ts = Instant::now();
        let title = if n > 1 { format!("prove segment {}/{n} ({})", i + 1, args.prover.label()) } else { format!("prove ({})", args.prover.label()) };
        let proved = prove_staged(ui, &title, args.prover, params, pk, &circuit, &[&instances], &mut rng)
            .with_context(|| format!("proving segment {i}"))?;
        segment_s.push((i, ts.elapsed().as_secs_f64()));
        for (name, s) in phase_seconds(&proved) {
            match phases.iter_mut().find(|p| p.0 == name) {
                Some(p) => p.1 += s,
                None => phases.push((name, s)),
            }
        }
        // Never hand out a proof the verifier would reject.
        verify_stock(params.stock(), pk.get_vk(), &[&instances], &proved.proof).map_err(|e| {
            anyhow::anyhow!("internal error: the fresh proof of segment {i} does not verify ({e:?}); nothing was written")
        })?;
        proof_bytes += proved.proof.len();
        entries.push(chain::to_proof_entry(man, &vis, i, &instances, &proved.proof));
    }
    drop(loaded);
    let prove_s = t.elapsed().as_secs_f64();

    let prover = args.prover.name().to_string();
    let file = ProofFile {
        format: FORMAT.into(),
        model_digest: man.model.digest.clone(),
        hide: man.hide.clone(),
        public: public.clone(),
        segments: entries,
        info: ProveInfo {
            prover: prover.clone(),
            engine: engine_name.clone(),
            prove_s,
            zkinfer_version: env!("CARGO_PKG_VERSION").into(),
        },
    };
    let opening = seeds.opening(&vis, n);
    let has_secrets = opening != Opening::default();
    let opening_file = match (&args.opening, new_opening) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(p)) if has_secrets => {
            atomic::write(&p, serde_json::to_string_pretty(&opening)?.as_bytes())?;
            Some(p)
        }
        _ => None,
    };
    atomic::write(&args.out, format!("{}\n", serde_json::to_string(&file)?).as_bytes())?;
    Ok(ProveReport {
        proof: args.out.display().to_string(),
        opening: opening_file.map(|p| p.display().to_string()),
        public,
        prover,
        engine: engine_name,
        segments: n,
        segment_s,
        prove_s,
        total_s: t0.elapsed().as_secs_f64(),
        proof_bytes,
        phases,
    })
}
