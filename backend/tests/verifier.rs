//! zkinfer's batch verifier held to halo2-axiom's stock `verify_proof`, verdict for verdict: on honest proofs from
//! both provers for every sample circuit (gates with rotations, many copy columns, tuple lookups, several instance
//! columns, compressed selectors, byte lookups), on every proof with one bit flipped in each of its 32-byte words,
//! with a changed public value and with a truncated proof. Then many proofs of different keys and k under one SRS
//! verify with one pairing, and any one broken proof, or two swapped, fails the batch.
//! Run with `cargo test -p zkinfer-backend --release --test verifier`.

mod common;

use std::sync::Arc;

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{keygen_pk, keygen_vk_custom, Circuit, ProvingKey};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkinfer_backend::params::EngineParams;
use zkinfer_backend::plonk::prove_blake2b;
use zkinfer_backend::stock::{prove_stock, verify_stock};
use zkinfer_backend::verifier::{verify_batch, verify_batch_with, BatchError, Item, PreparedKey};
use zkinfer_backend::{Bn256, CpuEngine, Fr, G1Affine};
use zkinfer_testkit::sample_circuits::{
    copies::ManyCopies, fibonacci::Fibonacci, instances::PublicColumns, selectors::ManySelectors,
    tuple_lookup::TupleLookup, Sample,
};
use zkinfer_testkit::DotProductCircuit;

use common::rng;

/// A circuit's key and two proofs of it (ours and stock's), with params cut from the shared SRS to its k.
struct Proved {
    name: &'static str,
    params: ParamsKZG<Bn256>,
    pk: ProvingKey<G1Affine>,
    instances: Vec<Vec<Fr>>,
    proofs: Vec<Vec<u8>>,
}

impl Proved {
    fn columns(&self) -> Vec<&[Fr]> {
        self.instances.iter().map(Vec::as_slice).collect()
    }
}

const SRS_K: u32 = 11;

fn srs() -> ParamsKZG<Bn256> {
    ParamsKZG::<Bn256>::setup(SRS_K, rng(99))
}

fn prove_both<C: Circuit<Fr> + Clone>(
    srs: &ParamsKZG<Bn256>,
    name: &'static str,
    circuit: C,
    k: u32,
    instances: Vec<Vec<Fr>>,
    compress: bool,
) -> Proved {
    let mut params = srs.clone();
    params.downsize(k);
    let vk = keygen_vk_custom(&params, &circuit.without_witnesses(), compress).unwrap();
    let pk = keygen_pk(&params, vk, &circuit.without_witnesses()).unwrap();
    let engine = EngineParams::new(params.clone(), Arc::new(CpuEngine::new())).unwrap();
    let cols: Vec<&[Fr]> = instances.iter().map(Vec::as_slice).collect();
    let ours = prove_blake2b(&engine, &pk, &circuit, &cols, rng(k as u64)).unwrap().0;
    let stock = prove_stock(&params, &pk, circuit, &cols, rng(k as u64 + 1)).unwrap();
    Proved { name, params, pk, instances, proofs: vec![ours, stock] }
}

fn sample<S: Sample>(srs: &ParamsKZG<Bn256>, name: &'static str, c: S, compress: bool) -> Proved {
    let (k, inst) = (c.k(), c.instances());
    assert!(k <= SRS_K, "{name} needs k = {k}");
    prove_both(srs, name, c, k, inst, compress)
}

fn all(srs: &ParamsKZG<Bn256>) -> Vec<Proved> {
    let dot = DotProductCircuit::random(300, &mut rng(5));
    let dot_k = DotProductCircuit::min_k(300);
    let out = vec![vec![dot.output()]];
    vec![
        sample(srs, "fibonacci (rotations)", Fibonacci::new(300, 1, 1), false),
        sample(srs, "many copies", ManyCopies::new(12, 100, 5), false),
        sample(srs, "tuple lookup", TupleLookup::new(700), false),
        sample(srs, "several instance columns", PublicColumns::new(200), false),
        sample(srs, "compressed selectors", ManySelectors::new(300), true),
        prove_both(srs, "dot product (byte lookups)", dot, dot_k, out, false),
    ]
}

/// Our verdict on one proof alone.
fn ours(srs: &ParamsKZG<Bn256>, p: &Proved, instances: &[&[Fr]], proof: &[u8]) -> bool {
    verify_batch(srs, &[Item { vk: p.pk.get_vk(), instances, proof }]).is_ok()
}

fn stock(p: &Proved, instances: &[&[Fr]], proof: &[u8]) -> bool {
    verify_stock(&p.params, p.pk.get_vk(), instances, proof).is_ok()
}

#[test]
fn same_verdicts_as_the_stock_verifier() {
    let srs = srs();
    let mut mutants = 0;
    for p in all(&srs) {
        let cols = p.columns();
        // The prepared key reads the permutation's chunking off the domain; halo2's verifier off cs.degree().
        let vk = p.pk.get_vk();
        assert_eq!(PreparedKey::new(vk).unwrap().chunk_len, vk.cs().degree() - 2, "{}", p.name);
        for proof in &p.proofs {
            assert!(stock(&p, &cols, proof), "{}: stock rejects the honest proof", p.name);
            assert!(ours(&srs, &p, &cols, proof), "{}: ours rejects the honest proof", p.name);

            // One bit flipped in each 32-byte word (points and scalars alike), twice per word, at a different bit
            // each time. Never bit 255: in a point it is halo2curves' "infinity" flag, which its decoder ignores
            // when x ≠ 0, so both verifiers accept that flip (the same point, the same proof).
            for w in 0..proof.len() / 32 {
                for bit in [(w * 37) % 255, (w * 37 + 101) % 255] {
                    let mut bad = proof.clone();
                    bad[w * 32 + bit / 8] ^= 1 << (bit % 8);
                    let (s, o) = (stock(&p, &cols, &bad), ours(&srs, &p, &cols, &bad));
                    assert_eq!(s, o, "{}: word {w} bit {bit}: stock says {s}, ours {o}", p.name);
                    assert!(!o, "{}: word {w} bit {bit}: a flipped bit verifies", p.name);
                    mutants += 1;
                }
            }

            // A changed public value, and a truncated proof.
            let mut inst = p.instances.clone();
            inst[0][0] += Fr::ONE;
            let changed: Vec<&[Fr]> = inst.iter().map(Vec::as_slice).collect();
            assert!(!stock(&p, &changed, proof) && !ours(&srs, &p, &changed, proof), "{}: changed instance", p.name);
            let short = &proof[..proof.len() - 32];
            assert!(!stock(&p, &cols, short) && !ours(&srs, &p, &cols, short), "{}: truncated proof", p.name);
        }
    }
    eprintln!("{mutants} mutated proofs: both verifiers rejected every one");
    assert!(mutants > 900);
}

#[test]
fn many_keys_one_pairing() {
    let srs = srs();
    let proved = all(&srs);
    let cols: Vec<Vec<&[Fr]>> = proved.iter().map(Proved::columns).collect();
    // Every proof of every circuit (two per key: their bases merge), one batch.
    let items: Vec<Item<'_>> = proved
        .iter()
        .zip(&cols)
        .flat_map(|(p, c)| p.proofs.iter().map(move |proof| Item { vk: p.pk.get_vk(), instances: c, proof }))
        .collect();
    assert_eq!(items.len(), 12);
    verify_batch(&srs, &items).expect("the batch of honest proofs");

    // Any one proof broken after its transcript (its last scalar): only the pairing can tell, and it does.
    for i in 0..items.len() {
        let mut bad = items[i].proof.to_vec();
        let n = bad.len();
        bad[n - 40] ^= 4;
        let mut list = items.clone();
        list[i].proof = &bad;
        match verify_batch(&srs, &list) {
            Err(BatchError::Pairing) | Err(BatchError::Proof { index: _, .. }) => {}
            r => panic!("item {i} broken, batch says {r:?}"),
        }
    }
    // Two proofs of one key swapped with each other's public values: both invalid.
    let dot = proved.last().unwrap();
    let other = [dot.instances[0][0] + Fr::ONE];
    let other_cols: [&[Fr]; 1] = [&other];
    let mut list = items.clone();
    list[11].instances = &other_cols;
    assert!(verify_batch(&srs, &list).is_err());
    // A proof checked under another circuit's key.
    let mut list = items.clone();
    list[0].vk = proved[1].pk.get_vk();
    assert!(verify_batch(&srs, &list).is_err());

    // Keys prepared beforehand (as a verifier holding its keys does), some of them: the same verdicts.
    let prepared: Vec<PreparedKey<'_>> = proved.iter().step_by(2).map(|p| PreparedKey::new(p.pk.get_vk()).unwrap()).collect();
    verify_batch_with(&srs, &items, &prepared).expect("the batch of honest proofs, keys prepared");
    let mut bad = items[3].proof.to_vec();
    let n = bad.len();
    bad[n - 40] ^= 4;
    let mut list = items.clone();
    list[3].proof = &bad;
    assert!(verify_batch_with(&srs, &list, &prepared).is_err(), "a broken proof, keys prepared");
    let mut list = items.clone();
    list[0].vk = proved[1].pk.get_vk();
    assert!(verify_batch_with(&srs, &list, &prepared).is_err(), "another circuit's key, keys prepared");
}
