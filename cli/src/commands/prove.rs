//! `zkinfer prove`: check the model and input against the keys, prove on the selected engine, check the proof with
//! the stock verifier, and write the proof file (and the private opening of salted commitments) atomically.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, SeedableRng};
use serde::Serialize;
use zkinfer_backend::params::EngineParams;
use zkinfer_backend::provers::Prover;
use zkinfer_backend::stock::verify_stock;
use zkinfer_backend::{select_engine, EngineKind};
use zkinfer_circuits::stats::stats_for_shape;
use zkinfer_circuits::{ModelCircuit, Visibility};

use crate::encoding::{fr_from_hex, fr_to_hex, to_hex};
use crate::keys::Keys;
use crate::model_file;
use crate::proof_file::{Opening, ProofFile, ProveInfo, PublicValues, FORMAT};
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
    pub force: bool,
}

#[derive(Serialize)]
pub struct ProveReport {
    pub proof: String,
    pub opening: Option<String>,
    pub public: PublicValues,
    pub prover: String,
    pub engine: String,
    pub prove_s: f64,
    pub total_s: f64,
    pub proof_bytes: usize,
    pub phases: Vec<(String, f64)>,
}

fn opening_path(out: &std::path::Path) -> PathBuf {
    let mut s = out.as_os_str().to_os_string();
    s.push(".opening.json");
    PathBuf::from(s)
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
    let stage = ui.stage("import model + input", 0);
    let m = model_file::load(&args.model)?;
    if m.blake2b != man.model.blake2b {
        bail!(
            "model {} is not the model the keys in {} were set up for ({}); run `zkinfer setup` for it",
            args.model.display(),
            args.keys.display(),
            man.model.file
        );
    }
    let inp = input::load(&args.input, &m.model, args.index, ui)?;
    stage.finish();
    ui.say(format!("input: {}", inp.source));
    let stats = stats_for_shape(&m.model, &vis, man.shape.clone());
    model_file::check_memory("proving", stats.prove_memory, args.force)?;

    let stage = ui.stage("witness check", 0);
    let mut circuit = ModelCircuit::with_shape(m.model.clone(), inp.values.clone(), vis, man.shape.clone())?;
    let mut opening = Opening::default();
    if vis.hide_input {
        circuit.input_salt = match &args.input_salt {
            Some(s) => fr_from_hex(s, "--input-salt")?,
            None => Fr::random(OsRng),
        };
        opening.input_salt = Some(fr_to_hex(&circuit.input_salt));
    } else if args.input_salt.is_some() {
        bail!("--input-salt only applies when the input is hidden");
    }
    if vis.hide_output {
        circuit.output_salt = Fr::random(OsRng);
        opening.output_salt = Some(fr_to_hex(&circuit.output_salt));
    }
    let (instances, output) = circuit.instances_and_output()?;
    let public = PublicValues::from_instances(&instances, &vis, &inp.values, &output);
    if public.weights_commitment != man.weights_commitment {
        bail!("the model's weights commitment differs from the one in the keys' manifest");
    }
    stage.finish();

    let stage = ui.stage("load keys", 0);
    let srs = keys.srs()?;
    let pk = keys.pk()?;
    stage.finish();
    let engine = select_engine(args.engine)?;
    let engine_name = engine.name().to_string();
    ui.say(format!("engine: {}", engine.describe()));
    let params = EngineParams::new(srs, engine).context("loading the SRS into the engine")?;

    let mut rng = ChaCha20Rng::from_rng(OsRng).context("seeding the prover's randomness")?;
    let t = Instant::now();
    let title = format!("prove ({})", args.prover.label());
    let proved = prove_staged(ui, &title, args.prover, &params, &pk, &circuit, &[&instances], &mut rng)
        .context("proving")?;
    let phases = phase_seconds(&proved);
    let proof = proved.proof;
    let prove_s = t.elapsed().as_secs_f64();

    // Never hand out a proof the verifier would reject.
    let stage = ui.stage("self-check (stock verifier)", 0);
    verify_stock(params.stock(), pk.get_vk(), &[&instances], &proof)
        .map_err(|e| anyhow::anyhow!("internal error: the fresh proof does not verify ({e:?}); nothing was written"))?;
    stage.finish();

    let prover = args.prover.name().to_string();
    let file = ProofFile {
        format: FORMAT.into(),
        model_blake2b: man.model.blake2b.clone(),
        hide: man.hide.clone(),
        k: man.k,
        public: public.clone(),
        proof: to_hex(&proof),
        info: ProveInfo {
            prover: prover.clone(),
            engine: engine_name.clone(),
            prove_s,
            zkinfer_version: env!("CARGO_PKG_VERSION").into(),
        },
    };
    let opening_file = (opening.input_salt.is_some() || opening.output_salt.is_some()).then(|| opening_path(&args.out));
    if let Some(p) = &opening_file {
        atomic::write(p, serde_json::to_string_pretty(&opening)?.as_bytes())?;
    }
    atomic::write(&args.out, format!("{}\n", serde_json::to_string(&file)?).as_bytes())?;
    Ok(ProveReport {
        proof: args.out.display().to_string(),
        opening: opening_file.map(|p| p.display().to_string()),
        public,
        prover,
        engine: engine_name,
        prove_s,
        total_s: t0.elapsed().as_secs_f64(),
        proof_bytes: proof.len(),
        phases,
    })
}
