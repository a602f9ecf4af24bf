//! `zkinfer prove`: check the model and input against the keys, run the model once natively (the integer
//! reference), prove every segment of the chain (or one, `--segment i`) from its slice of that run on the selected
//! engine, check each proof with the stock verifier, and write the proof file (and the private opening of its
//! commitments) atomically.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, SeedableRng};
use serde::Serialize;
use zkinfer_backend::params::EngineParams;
use zkinfer_backend::provers::Prover;
use zkinfer_backend::stock::verify_stock;
use halo2_proofs::plonk::ProvingKey;
use zkinfer_backend::{select_engine, Engine, EngineKind, G1Affine};
use zkinfer_circuits::commit;
use zkinfer_circuits::stats::stats_for_segment;
use zkinfer_circuits::Visibility;
use zkinfer_import::QuantModel;

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;

use super::batch::{prove_batch, BatchItem, BatchSummary};
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
        if atomic::create_new_private(path, text.as_bytes())? {
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

/// What a prover keeps between inputs: the keys, the model checked against them, the engine and the proving key
/// last loaded (segments sharing a key, and every input of a batch on a one-key chain, reuse it).
pub struct Session {
    pub keys: Keys,
    pub vis: Visibility,
    /// The model as imported (inputs are quantized with its input parameters).
    pub imported: Arc<QuantModel>,
    /// The model with the keys' splits applied (what the segments prove).
    pub model: Arc<QuantModel>,
    pub prover: Prover,
    engine: Arc<dyn Engine>,
    rng: ChaCha20Rng,
    loaded: Option<(usize, ProvingKey<G1Affine>, EngineParams)>,
    /// The last weights commitment computed and its seed: a batch shares one seed, and hashing every weight again
    /// for each input would repeat the same work (seconds per input on a MobileNet).
    weights: std::cell::RefCell<Option<(Fr, Fr)>>,
}

/// One input proved: the proof file and the opening of its commitments.
pub struct ProvedInput {
    pub file: ProofFile,
    pub opening: Opening,
    /// Seconds proving each segment (segment index, seconds).
    pub segment_s: Vec<(usize, f64)>,
    pub prove_s: f64,
    pub proof_bytes: usize,
    pub phases: Vec<(String, f64)>,
}

impl Session {
    /// Opens the keys and checks the model (and `--hide`, when given) against them; `segments` are the ones this
    /// session will prove (for the memory check).
    #[allow(clippy::too_many_arguments)] // the command line's choices, passed through as they are
    pub fn open(
        model: &Path,
        keys: &Path,
        hide: Option<Visibility>,
        engine: EngineKind,
        prover: Prover,
        segments: Option<usize>,
        force: bool,
        ui: &Ui,
    ) -> Result<Session> {
        let keys = Keys::open(keys)?;
        let man = &keys.manifest;
        let vis = man.visibility()?;
        if let Some(h) = hide {
            if h != vis {
                bail!(
                    "--hide {} does not match the keys in {}, which were set up with --hide {}",
                    visibility::format(&h),
                    keys.dir.display(),
                    man.hide
                );
            }
        }
        let n = man.segments.len();
        if let Some(i) = segments {
            if i >= n {
                bail!("--segment {i}: the keys' chain has {n} segment(s) (0..{})", n - 1);
            }
        }
        let stage = ui.stage("import model", 0);
        let m = model_file::load(model)?;
        let (_, digest) = chain::model_digest(&m.model, &m.blake2b, &vis);
        if digest != man.model.digest {
            bail!(
                "model {} is not the model the keys in {} were set up for ({}, {} digest); run `zkinfer setup` for it",
                model.display(),
                keys.dir.display(),
                man.model.file,
                man.model.digest_of
            );
        }
        let prepared = man.prepare(&m.model)?;
        stage.finish();
        let todo: Vec<usize> = segments.map(|i| vec![i]).unwrap_or_else(|| (0..n).collect());
        let peak = todo
            .iter()
            .map(|&i| {
                let e = &man.segments[i];
                stats_for_segment(&prepared, &e.segment(), &vis, man.keys[e.key].shape.clone()).prove_memory
            })
            .max()
            .unwrap_or(0);
        model_file::check_memory("proving", peak, force)?;
        let engine = select_engine(engine)?;
        ui.say(format!("engine: {}", engine.describe()));
        let rng = ChaCha20Rng::from_rng(OsRng).context("seeding the prover's randomness")?;
        Ok(Session { keys, vis, imported: m.model, model: prepared, prover, engine, rng, loaded: None, weights: Default::default() })
    }

    pub fn engine_name(&self) -> String {
        self.engine.name().to_string()
    }

    /// The model's weights commitment under `seed` (hidden weights).
    pub fn weights_commitment(&self, seed: Fr) -> Result<Fr> {
        if let Some((s, c)) = *self.weights.borrow() {
            if s == seed {
                return Ok(c);
            }
        }
        let seeds = Seeds { weights_seed: seed, ..Seeds::fresh(None) };
        let c = chain::model_weights_commitment(&self.model, &self.keys.manifest, &seeds)?;
        *self.weights.borrow_mut() = Some((seed, c));
        Ok(c)
    }

    /// The public values a proof of `input` under `seeds` shows, and the model's output (one native run: every
    /// tensor's values, returned for the segments to be proved from).
    pub fn run_native(&self, input: &[i32], seeds: &Seeds) -> Result<(PublicValues, Vec<Vec<i32>>)> {
        let (model, vis) = (&self.model, &self.vis);
        let values = zkinfer_import::reference::run_all(model, input)?;
        let output = values[model.output].clone();
        let public = PublicValues {
            weights_commitment: vis.hide_weights.then(|| self.weights_commitment(seeds.weights_seed).map(|c| fr_to_hex(&c))).transpose()?,
            input_commitment: vis.hide_input.then(|| commit::commit_tensor(input, seeds.input_salt).map(|c| fr_to_hex(&c))).transpose()?,
            input: (!vis.hide_input).then(|| input.to_vec()),
            output_commitment: vis.hide_output.then(|| commit::commit_tensor(&output, seeds.output_salt).map(|c| fr_to_hex(&c))).transpose()?,
            output: (!vis.hide_output).then(|| output.clone()),
            predicted_class: if vis.hide_output { None } else { argmax(&output) },
        };
        Ok((public, values))
    }

    /// Proves `input` under `seeds`: segment `only`, or every segment of the chain. Each segment proof is checked
    /// by the stock verifier before it is returned.
    pub fn prove(&mut self, ui: &Ui, input: &[i32], seeds: &Seeds, only: Option<usize>) -> Result<ProvedInput> {
        let stage = ui.stage("native run (integer reference)", 0);
        let (public, values) = self.run_native(input, seeds)?;
        stage.finish();
        let man = &self.keys.manifest;
        let n = man.segments.len();
        let todo: Vec<usize> = only.map(|i| vec![i]).unwrap_or_else(|| (0..n).collect());
        let mut entries: Vec<SegmentProof> = Vec::with_capacity(todo.len());
        let mut phases: Vec<(String, f64)> = Vec::new();
        let mut segment_s = Vec::new();
        let mut proof_bytes = 0;
        let t = Instant::now();
        for &i in &todo {
            let key = man.segments[i].key;
            // One key and its engine parameters at a time: memory holds one segment's.
            if self.loaded.as_ref().map(|l| l.0) != Some(key) {
                drop(self.loaded.take());
                let stage = ui.stage(&format!("load key {key} (k = {})", man.keys[key].k), 0);
                let pk = self.keys.pk(key)?;
                let p = self.keys.srs(man.keys[key].k)?;
                let params = EngineParams::new(p, self.engine.clone()).context("loading the SRS into the engine")?;
                stage.finish();
                self.loaded = Some((key, pk, params));
            }
            let (_, pk, params) = self.loaded.as_ref().expect("loaded above");
            let circuit = chain::segment_circuit(&self.model, man, i, &values, self.vis, seeds)?;
            let (instances, _) = circuit.instances_and_outputs()?;
            let ts = Instant::now();
            let title = if n > 1 { format!("prove segment {}/{n} ({})", i + 1, self.prover.label()) } else { format!("prove ({})", self.prover.label()) };
            let proved = prove_staged(ui, &title, self.prover, params, pk, &circuit, &[&instances], &mut self.rng)
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
            entries.push(chain::to_proof_entry(man, &self.vis, i, &instances, &proved.proof));
        }
        let prove_s = t.elapsed().as_secs_f64();
        let file = ProofFile {
            format: FORMAT.into(),
            model_digest: man.model.digest.clone(),
            hide: man.hide.clone(),
            public,
            segments: entries,
            info: ProveInfo {
                prover: self.prover.name().to_string(),
                engine: self.engine_name(),
                prove_s,
                zkinfer_version: env!("CARGO_PKG_VERSION").into(),
            },
        };
        Ok(ProvedInput { file, opening: seeds.opening(&self.vis, n), segment_s, prove_s, proof_bytes, phases })
    }
}

pub fn run(args: &ProveArgs, ui: &Ui) -> Result<ProveReport> {
    let t0 = Instant::now();
    if args.out.is_dir() {
        bail!("--out {} is a directory; give the proof file's path (or use --out-dir for a batch)", args.out.display());
    }
    let mut session = Session::open(&args.model, &args.keys, args.hide, args.engine, args.prover, args.segment, args.force, ui)?;
    let inp = input::load(&args.input, &session.imported, args.index, ui)?;
    ui.say(format!("input: {}", inp.source));
    let n = session.keys.manifest.segments.len();
    let (seeds, new_opening) = seeds(args, &session.vis, n)?;
    let proved = session.prove(ui, &inp.values, &seeds, args.segment)?;
    let has_secrets = proved.opening != Opening::default();
    let opening_file = match (&args.opening, new_opening) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(p)) if has_secrets => {
            atomic::write_private(&p, serde_json::to_string_pretty(&proved.opening)?.as_bytes())?;
            Some(p)
        }
        _ => None,
    };
    atomic::write(&args.out, format!("{}\n", serde_json::to_string(&proved.file)?).as_bytes())?;
    Ok(ProveReport {
        proof: args.out.display().to_string(),
        opening: opening_file.map(|p| p.display().to_string()),
        public: proved.file.public,
        prover: proved.file.info.prover,
        engine: proved.file.info.engine,
        segments: n,
        segment_s: proved.segment_s,
        prove_s: proved.prove_s,
        total_s: t0.elapsed().as_secs_f64(),
        proof_bytes: proved.proof_bytes,
        phases: proved.phases,
    })
}

pub struct BatchArgs {
    pub model: PathBuf,
    /// A batched .npy file or a folder of inputs.
    pub input: PathBuf,
    pub indices: Option<Vec<usize>>,
    pub keys: PathBuf,
    pub hide: Option<Visibility>,
    pub engine: EngineKind,
    pub prover: Prover,
    pub out_dir: PathBuf,
    /// The weights opening every proof of the batch shares (one weights commitment); DIR/weights.opening.json when
    /// not given. Read when it exists, created otherwise.
    pub opening: Option<PathBuf>,
    pub force: bool,
}

pub const WEIGHTS_OPENING: &str = "weights.opening.json";

/// The weights seed in `path`, or a fresh one written there (private) when the file does not exist yet.
pub fn weights_seed(path: &Path, vis: &Visibility) -> Result<Fr> {
    if !vis.hide_weights {
        return Ok(Fr::ZERO);
    }
    if !path.exists() {
        let seed = Fr::random(OsRng);
        let o = Opening { weights_seed: Some(fr_to_hex(&seed)), ..Opening::default() };
        if atomic::create_new_private(path, serde_json::to_string_pretty(&o)?.as_bytes())? {
            return Ok(seed);
        }
    }
    let o = read_opening(path)?;
    let s = o.weights_seed.with_context(|| format!("{} holds no weights seed", path.display()))?;
    fr_from_hex(&s, &format!("{}: weights_seed", path.display()))
}

/// `prove --out-dir`: every input of a batch (or those --indices picks) under one weights commitment.
pub fn run_batch(args: &BatchArgs, ui: &Ui) -> Result<BatchSummary> {
    let mut session = Session::open(&args.model, &args.keys, args.hide, args.engine, args.prover, None, args.force, ui)?;
    let entries = input::batch_entries(&args.input, &session.imported, args.indices.as_deref())?;
    std::fs::create_dir_all(&args.out_dir).with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let opening = args.opening.clone().unwrap_or_else(|| args.out_dir.join(WEIGHTS_OPENING));
    let weights_seed = weights_seed(&opening, &session.vis)?;
    let quiet = Ui { quiet: true, json: ui.json };
    let items = entries
        .iter()
        .map(|e| {
            let inp = e.load(&session.imported, &quiet)?;
            Ok(BatchItem { name: e.name.clone(), values: inp.values, source: inp.source, seeds: Seeds { weights_seed, ..Seeds::fresh(None) } })
        })
        .collect::<Result<Vec<_>>>()?;
    prove_batch(&mut session, items, &args.out_dir, ui)
}
