//! The one prover dispatch (`provers::Prover`) and the one SRS + keygen path (`params`): both provers, on engine
//! params or halo2's own, give proofs the stock verifier accepts; ceremony SRS checks catch a short or inconsistent
//! file; params survive a write/read round trip.

use std::sync::Arc;

use halo2_proofs::plonk::Circuit;
use halo2_proofs::poly::commitment::Params;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_testkit::DotProductCircuit;
use zkinfer_backend::params::{self, EngineParams, SrsError, KEYGEN_STEPS};
use zkinfer_backend::provers::{Prover, ProverError};
use zkinfer_backend::stock::verify_stock;
use zkinfer_backend::CpuEngine;

#[test]
fn every_prover_goes_through_one_dispatch_and_verifies() {
    let len = 40;
    let k = DotProductCircuit::min_k(len);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let stock = params::dev_srs(k, &mut rng);
    let circuit = DotProductCircuit::random(len, &mut rng);
    let mut steps = Vec::new();
    let pk = params::keygen(&stock, &circuit.without_witnesses(), &mut |s| steps.push(s)).unwrap();
    assert_eq!(steps, KEYGEN_STEPS);
    let engine = EngineParams::new(stock.clone(), Arc::new(CpuEngine::new())).unwrap();
    let out = [circuit.output()];
    for prover in Prover::ALL {
        let mut phases = Vec::new();
        let proved =
            prover.prove(&engine, &pk, &circuit, &[&out], ChaCha20Rng::seed_from_u64(9), &mut |p| phases.push(p)).unwrap();
        assert_eq!(phases, prover.phases(), "{prover:?}");
        assert_eq!(proved.stats.is_some(), prover == Prover::Zkinfer);
        verify_stock(&stock, pk.get_vk(), &[&out], &proved.proof).unwrap();
    }
    // halo2's own params: the untouched stock prover; zkinfer's prover needs an engine.
    let proved = Prover::Stock.prove(&stock, &pk, &circuit, &[&out], ChaCha20Rng::seed_from_u64(9), &mut |_| {}).unwrap();
    verify_stock(&stock, pk.get_vk(), &[&out], &proved.proof).unwrap();
    let err = Prover::Zkinfer.prove(&stock, &pk, &circuit, &[&out], ChaCha20Rng::seed_from_u64(9), &mut |_| {});
    assert!(matches!(err, Err(ProverError::NeedsEngine)));
}

#[test]
fn ceremony_srs_is_checked_and_cut_to_k() {
    let big = params::dev_srs(6, ChaCha20Rng::seed_from_u64(1));
    let mut bytes = Vec::new();
    params::write_srs(&big, &mut bytes).unwrap();
    // Round trip, with and without the on-curve checks.
    for trusted in [true, false] {
        let back = params::read_srs(&mut &bytes[..], bytes.len() as u64, trusted).unwrap();
        let mut again = Vec::new();
        params::write_srs(&back, &mut again).unwrap();
        assert!(again == bytes, "trusted = {trusted}");
    }
    assert_eq!(params::check_ceremony_srs(big.clone(), 4).unwrap().k(), 4);
    assert!(matches!(params::check_ceremony_srs(big.clone(), 7), Err(SrsError::TooSmall { have: 6, need: 7 })));
    // s·h from another setup: the G2 half no longer matches the G1 powers (s·h is the file's last 128 bytes).
    let other = params::dev_srs(6, ChaCha20Rng::seed_from_u64(2));
    let mut other_bytes = Vec::new();
    params::write_srs(&other, &mut other_bytes).unwrap();
    let n = bytes.len();
    bytes[n - 128..].copy_from_slice(&other_bytes[n - 128..]);
    let spliced = params::read_srs(&mut &bytes[..], bytes.len() as u64, false).unwrap();
    assert!(matches!(params::check_ceremony_srs(spliced, 6), Err(SrsError::Inconsistent)));
}
