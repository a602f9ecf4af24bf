//! The keys manifest: read (`Keys::open`), then used as `prove` and `verify` use it — the model prepared with its
//! splits, each segment's statistics from its shape, and a proof file checked against its chain. A hostile keys
//! directory can make its manifest agree with its files, so nothing in it may be trusted past these checks.

use proptest::prelude::*;
use serde_json::Value;
use zkinfer_circuits::stats::stats_for_segment;
use zkinfer_testkit::fuzz;

use super::{digits, names, planned, proof::seed_proof};
use crate::commands::verify::check_links;
use crate::keys::{Keys, MANIFEST};

fn seed() -> Value {
    serde_json::to_value(&planned().manifest).unwrap()
}

/// Everything a command does with a manifest before it opens a key file.
fn use_manifest(dir: &std::path::Path) {
    let path = dir.join(MANIFEST);
    let keys = match Keys::open(dir) {
        Ok(k) => k,
        Err(e) => return names(&e, &path),
    };
    let man = &keys.manifest;
    let vis = man.visibility().unwrap();
    if let Ok(model) = man.prepare(&digits().model) {
        for s in &man.segments {
            stats_for_segment(&model, &s.segment(), &vis, man.keys[s.key].shape.clone());
        }
    }
    let _ = check_links(&keys, seed_proof(), None);
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn mutated_manifests((edits, bytes) in fuzz::json_mutations()) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST), fuzz::apply_json(&seed(), &edits, &bytes)).unwrap();
        use_manifest(dir.path());
    }
}

#[test]
fn the_seed_manifest_is_read_and_hostile_shapes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(MANIFEST);
    std::fs::write(&path, serde_json::to_vec(&seed()).unwrap()).unwrap();
    let keys = Keys::open(dir.path()).unwrap();
    keys.manifest.prepare(&digits().model).unwrap();
    check_links(&keys, seed_proof(), None).unwrap();
    // A million advice columns (configure would make them all), no requantisation unit or remainder byte (an empty
    // gate, which halo2's configure panics on; found by this fuzzer in CI), and a model input of 2^64 values.
    for (field, value, msg) in [
        ("/keys/0/shape/width", Value::from(1u64 << 20), "width = 1048576"),
        ("/keys/0/shape/units", Value::from(0), "gates do not fit"),
        ("/keys/0/shape/limbs", Value::from(0), "gates do not fit"),
        ("/model/input_shape", serde_json::json!([1u64 << 32, 1u64 << 32]), "input_shape"),
    ] {
        let mut m = seed();
        *m.pointer_mut(field).unwrap() = value;
        std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
        let e = Keys::open(dir.path()).err().expect(field);
        names(&e, &path);
        assert!(format!("{e:#}").contains(msg), "{e:#}");
    }
}
