//! zkinfer's keygen held to halo2-axiom's: for every sample circuit (rotations, many copy columns, tuple lookups,
//! several instance columns, compressed and plain selectors, constants, byte lookups) the proving key it makes —
//! verifying key, fixed columns, σ, l₀/l_last/l_active, in both forms — is byte for byte the key of
//! `keygen_vk_custom` + `keygen_pk`, and proofs made with it pass the stock verifier. A circuit too large for k is
//! an error, not a panic.
//! Run with `cargo test -p zkinfer-backend --release --test keygen`.

mod common;

use std::sync::Arc;

use halo2_proofs::plonk::{keygen_pk, keygen_vk_custom, Circuit, ProvingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use zkinfer_backend::params::{dev_srs, EngineParams, KeygenError};
use zkinfer_backend::plonk::{keygen, prove_blake2b};
use zkinfer_backend::stock::verify_stock;
use zkinfer_backend::{Bn256, CpuEngine, Fr, G1Affine};
use zkinfer_testkit::sample_circuits::{
    copies::ManyCopies, fibonacci::Fibonacci, instances::PublicColumns, selectors::ManySelectors,
    tuple_lookup::TupleLookup, Sample,
};
use zkinfer_testkit::DotProductCircuit;

use common::rng;

fn bytes(pk: &ProvingKey<G1Affine>) -> Vec<u8> {
    let mut out = Vec::new();
    pk.write(&mut out, SerdeFormat::RawBytes).unwrap();
    out
}

/// Both keygens on `circuit`; asserts the keys are the same bytes and that a proof with ours verifies.
fn same_keys<C: Circuit<Fr>>(name: &str, circuit: &C, k: u32, instances: &[Vec<Fr>], compress: bool) {
    let params: ParamsKZG<Bn256> = dev_srs(k, rng(k as u64));
    let blank = circuit.without_witnesses();
    let stock = keygen_pk(&params, keygen_vk_custom(&params, &blank, compress).unwrap(), &blank).unwrap();
    let engine = EngineParams::new(params.clone(), Arc::new(CpuEngine::new())).unwrap();
    let mut steps = Vec::new();
    let ours = keygen::keygen(&engine, &blank, compress, &mut |s| steps.push(s)).unwrap();
    assert_eq!(steps, keygen::STEPS, "{name}");
    assert_eq!(ours.get_vk().transcript_repr(), stock.get_vk().transcript_repr(), "{name}: verifying key");
    let (a, b) = (bytes(&ours), bytes(&stock));
    assert_eq!(a.len(), b.len(), "{name}: key length");
    if let Some(at) = a.iter().zip(&b).position(|(x, y)| x != y) {
        panic!("{name}: the proving keys differ first at byte {at} of {}", a.len());
    }
    let cols: Vec<&[Fr]> = instances.iter().map(Vec::as_slice).collect();
    let proof = prove_blake2b(&engine, &ours, circuit, &cols, rng(7)).unwrap().0;
    verify_stock(&params, stock.get_vk(), &cols, &proof).unwrap();
}

fn sample<S: Sample>(name: &str, c: S, compress: bool) {
    same_keys(name, &c, c.k(), &c.instances(), compress);
}

#[test]
fn the_same_keys_as_halo2_axiom() {
    sample("fibonacci (rotations)", Fibonacci::new(300, 1, 1), false);
    sample("many copies", ManyCopies::new(12, 100, 5), false);
    sample("tuple lookup", TupleLookup::new(700), false);
    sample("several instance columns", PublicColumns::new(200), false);
    sample("selectors, plain", ManySelectors::new(300), false);
    sample("selectors, compressed", ManySelectors::new(300), true);
    let dot = DotProductCircuit::random(300, &mut rng(5));
    same_keys("dot product (byte lookups)", &dot, DotProductCircuit::min_k(300), &[vec![dot.output()]], false);
}

#[test]
fn a_circuit_too_large_for_k_is_an_error() {
    let c = Fibonacci::new(300, 1, 1);
    let params = dev_srs(c.k() - 1, rng(1));
    let engine = EngineParams::new(params, Arc::new(CpuEngine::new())).unwrap();
    match keygen::keygen(&engine, &c.without_witnesses(), false, &mut |_| {}) {
        Err(KeygenError::Synthesis(_) | KeygenError::Circuit(_)) => {}
        other => panic!("expected a keygen error, got {:?}", other.map(|_| "a key")),
    }
}
