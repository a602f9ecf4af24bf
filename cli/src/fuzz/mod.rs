//! In-process fuzzing of every reader of a user's file in the CLI (the readers are the binary's own functions, so
//! the tests live inside it): inputs (.npy, PNG, JPEG), openings, proof files, key manifests, protocol artifacts.
//! Each test mutates a valid seed (`zkinfer_testkit::fuzz`: truncations, flips, huge integers, wrong-typed JSON)
//! and requires the reader to succeed or to fail with an error naming the file — never to panic.
//!
//! `cargo test -p zkinfer --bin zkinfer fuzz::` runs them (10,000 cases each from a fixed seed);
//! `ZKINFER_FUZZ_CASES=N` for more, `ZKINFER_FUZZ_SEED=random` (or a number) for other cases.
//! The binary key files (pk, vk, SRS) are fuzzed in the backend (`backend/tests/fuzz_keys.rs`), the .npy parser
//! in model-import (`model-import/tests/fuzz_npy.rs`).

mod artifacts;
mod inputs;
mod keys;
mod proof;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use zkinfer_circuits::Visibility;
use zkinfer_import::QuantModel;

use crate::commands::setup::{budget, plan_keys};
use crate::keys::{pk_file, srs_file, vk_file, FileEntry, KeyEntry, Manifest, ModelInfo};
use crate::model_file::{self, LoadedModel};
use crate::ui::Ui;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../model-import/fixtures").join(name)
}

/// The digits model, imported once.
pub fn digits() -> &'static LoadedModel {
    static M: OnceLock<LoadedModel> = OnceLock::new();
    M.get_or_init(|| model_file::load(&fixture("digits_int8.onnx")).unwrap())
}

pub fn quiet() -> Ui {
    Ui { quiet: true, json: false }
}

/// Every part hidden: the most fields a proof file and an opening carry.
pub fn hidden() -> Visibility {
    crate::visibility::parse("weights,input,output").unwrap()
}

/// The manifest `setup` writes for digits cut into 3 segments (no keys generated: the readers fuzzed here only
/// read the manifest; the key files themselves are the backend's fuzz targets), and the model as it plans it.
pub struct Planned {
    pub manifest: Manifest,
    pub model: Arc<QuantModel>,
}

pub fn planned() -> &'static Planned {
    static P: OnceLock<Planned> = OnceLock::new();
    P.get_or_init(|| {
        let m = digits();
        let vis = hidden();
        let plan = plan_keys(&m.model, vis, &budget(None, None, Some(3)).unwrap()).unwrap();
        let fake = || FileEntry { bytes: 1, blake2b: "00".repeat(32) };
        let mut files = BTreeMap::new();
        let keys: Vec<KeyEntry> = plan
            .keys
            .iter()
            .enumerate()
            .map(|(n, (shape, _))| {
                for f in [pk_file(n), vk_file(n), srs_file(shape.k)] {
                    files.insert(f, fake());
                }
                KeyEntry { k: shape.k, shape: shape.clone(), circuit_digest: "00".repeat(32), keygen_s: 1.0 }
            })
            .collect();
        let segments = crate::commands::setup::segment_entries(&plan.model, &plan.chain, &plan.key_of);
        let (digest_of, digest) = crate::chain::model_digest(&m.model, &m.blake2b, &vis);
        let manifest = Manifest {
            format: crate::keys::FORMAT.into(),
            zkinfer_version: "0".into(),
            model: ModelInfo::of(&m.model, "digits_int8.onnx".into(), digest_of, digest),
            hide: crate::visibility::format(&vis),
            memory_gib: 1.0,
            max_k: 26,
            splits: plan.splits.clone(),
            segments,
            srs_k: keys.iter().map(|k| k.k).max().unwrap(),
            keys,
            srs: "dev".into(),
            engine: "cpu".into(),
            setup_s: 1.0,
            files,
        };
        Planned { manifest, model: plan.model }
    })
}

/// Asserts that an error names the file it is about.
pub fn names(e: &anyhow::Error, path: &Path) {
    let msg = format!("{e:#}");
    assert!(msg.contains(&path.display().to_string()), "the error does not name {}: {msg}", path.display());
}
