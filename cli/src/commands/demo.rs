//! `zkinfer demo`: the main job on the bundled digits CNN — setup with a dev SRS, prove one held-out test image with
//! hidden weights, verify with the stock verifier, and report class, true label, timings and proof size. The model
//! and the held-out split are compiled into the binary, so it runs from any directory.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use zkinfer_backend::provers::Prover;
use zkinfer_backend::EngineKind;
use zkinfer_circuits::Visibility;

use super::prove::{self, ProveArgs};
use super::setup::{self, SetupArgs, SrsSource};
use super::verify;
use crate::ui::Ui;

pub(crate) const MODEL: &[u8] = include_bytes!("../../../model-import/fixtures/digits_int8.onnx");
pub(crate) const TEST_X: &[u8] = include_bytes!("../../../model-import/fixtures/digits_test_x.npy");
const TEST_Y: &[u8] = include_bytes!("../../../model-import/fixtures/digits_test_y.npy");

pub struct DemoArgs {
    pub index: usize,
    pub engine: EngineKind,
    pub prover: Prover,
    /// Where to keep the model, keys and proof; a temporary directory (removed afterwards) when None.
    pub dir: Option<PathBuf>,
}

#[derive(Serialize)]
pub struct DemoReport {
    pub image_index: usize,
    pub predicted_class: usize,
    pub true_label: i64,
    pub k: u32,
    pub setup_s: f64,
    pub prove_s: f64,
    pub verify_ms: f64,
    pub proof_bytes: usize,
    pub engine: String,
    pub prover: String,
    pub dir: Option<String>,
}

pub fn run(args: &DemoArgs, ui: &Ui) -> Result<DemoReport> {
    let labels = zkinfer_import::npy::read_i64_bytes(TEST_Y).context("bundled labels")?;
    if args.index >= labels.data.len() {
        bail!("--index {} is out of range: the held-out split has {} images", args.index, labels.data.len());
    }
    let tmp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            d.clone()
        }
        None => {
            tmp = crate::atomic::TempDir::new("demo")?;
            tmp.0.clone()
        }
    };
    let (model, test_x, keys, proof) =
        (dir.join("digits_int8.onnx"), dir.join("digits_test_x.npy"), dir.join("keys"), dir.join("digit.proof.json"));
    std::fs::write(&model, MODEL)?;
    std::fs::write(&test_x, TEST_X)?;
    let vis = Visibility { hide_weights: true, ..Visibility::default() };
    ui.say(format!(
        "demo: digits CNN (8x8 grayscale, 10 classes), held-out test image #{} (label {}), hidden weights",
        args.index, labels.data[args.index]
    ));
    let s = setup::run(
        &SetupArgs {
            model: model.clone(),
            srs: SrsSource::Dev(None),
            out: keys.clone(),
            vis,
            memory_gib: None,
            max_k: None,
            segments: None,
            force: true,
        },
        ui,
    )?;
    let p = prove::run(
        &ProveArgs {
            model,
            input: test_x,
            index: Some(args.index),
            keys: keys.clone(),
            hide: Some(vis),
            engine: args.engine,
            prover: args.prover,
            out: proof.clone(),
            input_salt: None,
            opening: None,
            segment: None,
            force: false,
        },
        ui,
    )?;
    let v = verify::run(&proof, &keys, None)?;
    Ok(DemoReport {
        image_index: args.index,
        predicted_class: v.public.predicted_class.context("demo output is public")?,
        true_label: labels.data[args.index],
        k: s.k,
        setup_s: s.setup_s,
        prove_s: p.prove_s,
        verify_ms: v.verify_ms,
        proof_bytes: p.proof_bytes,
        engine: p.engine,
        prover: p.prover,
        dir: args.dir.as_ref().map(|d| d.display().to_string()),
    })
}
