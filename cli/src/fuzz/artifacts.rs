//! The protocols' JSON artifacts that come from the other party: a responder's dataset commitment and a
//! requester's sample of it (retrieval), a provider's receipts and a consumer's contest (served predictions), an
//! auditor's test-set commitment (audit) — each read with the checks its command makes.

use std::path::Path;

use proptest::prelude::*;
use serde_json::{json, Value};
use zkinfer_testkit::fuzz;

use super::names;
use crate::encoding::{digest_file, to_hex};
use crate::protocol::audit::{read_commitment, sample_seed, TEST_SET_FORMAT};
use crate::protocol::predictions::{read_contest, read_receipts, CONTEST_FORMAT, RECEIPTS_FORMAT};
use crate::protocol::retrieve::{read_dataset, read_sample, root_of, Item, DATASET_FORMAT, SAMPLE_FORMAT};
use crate::protocol::sample_size::{hoeffding, Sides};
use crate::protocol::sampling::sample;

fn dataset() -> Value {
    let items: Vec<Item> = (0..3).map(|i| Item { id: format!("item-{i}"), commitment: format!("0x{:064x}", i + 1) }).collect();
    json!({ "format": DATASET_FORMAT, "root": root_of(&items), "input_shape": [1, 1, 8, 8], "items": items })
}

fn receipts() -> Value {
    let public = json!({ "weights_commitment": format!("0x{:064x}", 9), "input": [0, 1, -1], "output": [3, 5], "predicted_class": 1 });
    json!({
        "format": RECEIPTS_FORMAT, "model_digest": "ab".repeat(32), "hide": "weights",
        "receipts": [{ "id": "a", "public": public }, { "id": "b", "public": public }],
    })
}

fn commitment() -> Value {
    let (root, digest, examples, eps, delta) = ("cd".repeat(32), "ab".repeat(32), 50usize, 0.25, 0.05);
    let seed = sample_seed(&root, &digest, None);
    let n = hoeffding(eps, delta, Sides::OneSided).unwrap() as usize;
    json!({
        "format": TEST_SET_FORMAT, "root": root, "examples": examples, "x_dtype": "<f4", "x_shape": [examples, 1, 8, 8],
        "model_digest": digest, "hide": "weights", "target_accuracy": 0.9, "epsilon": eps, "delta": delta,
        "sample_size": n, "sample_seed": to_hex(&seed), "sample": sample(seed, examples, n),
    })
}

/// Writes the mutated artifact `kind` (and the valid files it is read against) and reads it.
fn read(kind: usize, dir: &Path, bytes: Vec<u8>) {
    let p = dir.join("artifact.json");
    std::fs::write(&p, &bytes).unwrap();
    let r = match kind {
        0 => read_dataset(&p).map(drop),
        1 => read_receipts(&p).map(drop),
        2 => read_commitment(&p).map(drop),
        3 => {
            let d = dir.join("dataset.json");
            std::fs::write(&d, serde_json::to_vec(&dataset()).unwrap()).unwrap();
            read_sample(&p, &read_dataset(&d).unwrap()).map(drop)
        }
        _ => {
            let r = dir.join("receipts.json");
            std::fs::write(&r, serde_json::to_vec(&receipts()).unwrap()).unwrap();
            read_contest(&p, &r, &read_receipts(&r).unwrap()).map(drop)
        }
    };
    if let Err(e) = r {
        names(&e, &p);
    }
}

fn seed(kind: usize, dir: &Path) -> Value {
    match kind {
        0 => dataset(),
        1 => receipts(),
        2 => commitment(),
        3 => json!({
            "format": SAMPLE_FORMAT, "dataset_root": dataset()["root"], "tamper": 0.05, "delta": 0.05, "sample_size": 2,
            "seed": "00".repeat(32), "ids": ["item-0", "item-2"],
        }),
        _ => {
            let r = dir.join("receipts.json");
            std::fs::write(&r, serde_json::to_vec(&receipts()).unwrap()).unwrap();
            json!({
                "format": CONTEST_FORMAT, "receipts_digest": digest_file(&r).unwrap(), "batch": 2, "tamper": 0.05,
                "delta": 0.05, "allowed": 0, "sides": "one-sided", "sample_size": 1, "seed": "00".repeat(32), "ids": ["b"],
            })
        }
    }
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn mutated_protocol_artifacts(kind in 0usize..5, (edits, bytes) in fuzz::json_mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let s = seed(kind, dir.path());
        read(kind, dir.path(), fuzz::apply_json(&s, &edits, &bytes));
    }
}

#[test]
fn the_seeds_are_read_and_a_commitment_claiming_2_pow_60_examples_is_cheap() {
    let dir = tempfile::tempdir().unwrap();
    for kind in 0..5 {
        let s = serde_json::to_vec(&seed(kind, dir.path())).unwrap();
        let p = dir.path().join("artifact.json");
        std::fs::write(&p, &s).unwrap();
        let ok = match kind {
            0 => read_dataset(&p).is_ok(),
            1 => read_receipts(&p).is_ok(),
            2 => read_commitment(&p).is_ok(),
            3 => read_sample(&p, &read_dataset(&dir.path().join("dataset.json")).unwrap_or_else(|_| {
                std::fs::write(dir.path().join("dataset.json"), serde_json::to_vec(&dataset()).unwrap()).unwrap();
                read_dataset(&dir.path().join("dataset.json")).unwrap()
            }))
            .is_ok(),
            _ => read_contest(&p, &dir.path().join("receipts.json"), &read_receipts(&dir.path().join("receipts.json")).unwrap()).is_ok(),
        };
        assert!(ok, "seed {kind} is not read");
    }
    // The sample is redrawn over the claimed population: it used to list every index first (2^60 of them).
    let mut c = commitment();
    c["examples"] = json!(1u64 << 60);
    let p = dir.path().join("huge.json");
    std::fs::write(&p, serde_json::to_vec(&c).unwrap()).unwrap();
    let e = read_commitment(&p).unwrap_err();
    names(&e, &p);
    assert!(format!("{e:#}").contains("its sample is not the one"), "{e:#}");
}
