//! Proof files (read, then every check `verify` makes before the pairing) and private openings (read, then turned
//! into the salts a prover uses). The seed proof is consistent in everything but its halo2 proofs (placeholder
//! bytes: no keys are generated here), so edits of its public values, commitments and chain reach every check; the
//! proofs' bytes are fuzzed against the bundle verifier in the backend.

use std::sync::OnceLock;

use halo2_proofs::halo2curves::bn256::Fr;
use proptest::prelude::*;
use zkinfer_circuits::commit;
use zkinfer_testkit::fuzz;

use super::{hidden, names, planned};
use crate::chain::{self, Seeds};
use crate::commands::prove::{read_opening, weights_seed};
use crate::commands::verify::{check_links, read_proof_file};
use crate::encoding::fr_to_hex;
use crate::keys::{Keys, MANIFEST};
use crate::proof_file::{ProofFile, ProveInfo, PublicValues, FORMAT};

fn seeds() -> Seeds {
    Seeds { input_salt: Fr::from(1), output_salt: Fr::from(2), weights_seed: Fr::from(3), link_seed: Fr::from(4) }
}

/// The proof file of the planned digits chain on an all-zero input (every part hidden).
pub fn seed_proof() -> &'static ProofFile {
    static P: OnceLock<ProofFile> = OnceLock::new();
    P.get_or_init(|| {
        let (man, model, vis, seeds) = (&planned().manifest, &planned().model, hidden(), seeds());
        let input = vec![0; model.input().shape.iter().product()];
        let values = zkinfer_import::reference::run_all(model, &input).unwrap();
        let segments = (0..man.segments.len())
            .map(|i| {
                let c = chain::segment_circuit(model, man, i, &values, vis, &seeds).unwrap();
                let (inst, _) = c.instances_and_outputs().unwrap();
                chain::to_proof_entry(man, &vis, i, &inst, &[7u8; 64])
            })
            .collect();
        let public = PublicValues {
            weights_commitment: Some(fr_to_hex(&chain::model_weights_commitment(model, man, &seeds).unwrap())),
            input_commitment: Some(fr_to_hex(&commit::commit_tensor(&input, seeds.input_salt).unwrap())),
            output_commitment: Some(fr_to_hex(&commit::commit_tensor(&values[model.output], seeds.output_salt).unwrap())),
            ..PublicValues::default()
        };
        ProofFile {
            format: FORMAT.into(),
            model_digest: man.model.digest.clone(),
            hide: man.hide.clone(),
            public,
            segments,
            info: ProveInfo { prover: "zkinfer".into(), engine: "cpu".into(), prove_s: 1.0, zkinfer_version: "0".into() },
        }
    })
}

/// Keys whose manifest is the planned one (no key files: `check_links` reads none).
fn keys() -> &'static Keys {
    static K: OnceLock<(tempfile::TempDir, Keys)> = OnceLock::new();
    &K.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST), serde_json::to_vec(&planned().manifest).unwrap()).unwrap();
        let keys = Keys::open(dir.path()).unwrap();
        (dir, keys)
    })
    .1
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn mutated_proof_files((edits, bytes) in fuzz::json_mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.proof.json");
        std::fs::write(&p, fuzz::apply_json(&serde_json::to_value(seed_proof()).unwrap(), &edits, &bytes)).unwrap();
        match read_proof_file(&p) {
            // Rejections name the segment or link (`verify` puts the file's path in front).
            Ok(file) => {
                if let Err(e) = check_links(keys(), &file, None) {
                    assert!(!format!("{e:#}").is_empty());
                }
            }
            Err(e) => names(&e, &p),
        }
    }

    #[test]
    fn mutated_openings((edits, bytes) in fuzz::json_mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.opening.json");
        let seed = serde_json::to_value(seeds().opening(&hidden(), 3)).unwrap();
        std::fs::write(&p, fuzz::apply_json(&seed, &edits, &bytes)).unwrap();
        match read_opening(&p) {
            Ok(o) => {
                if let Err(e) = Seeds::from_opening(&o, &hidden(), 3, &p.display().to_string()) {
                    names(&e, &p);
                }
            }
            Err(e) => names(&e, &p),
        }
        // A batch's weights opening: read because it exists (never replaced).
        let before = std::fs::read(&p).unwrap();
        if let Err(e) = weights_seed(&p, &hidden()) {
            names(&e, &p);
        }
        assert_eq!(std::fs::read(&p).unwrap(), before, "reading an opening changed it");
    }
}

#[test]
fn the_seed_proof_passes_every_check_before_the_pairing() {
    let c = check_links(keys(), seed_proof(), None).unwrap();
    assert_eq!(c.proofs.len(), planned().manifest.segments.len());
}
