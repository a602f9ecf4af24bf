//! The bundle verifier: three dot-product proofs at k = 9 and k = 10 (the circuit's 256-row byte table needs k ≥ 9),
//! all params cut from ONE dev SRS, verify with one pairing; a tampered proof, a changed instance, swapped proofs and
//! params from another SRS are each refused, naming the item.

use halo2_proofs::plonk::{Circuit, ProvingKey};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::bundle::{verify_bundle, BundleError, BundleItem, BundleStats};
use zkinfer_backend::params::{dev_srs, keygen};
use zkinfer_backend::stock::{prove_stock, verify_stock};
use zkinfer_backend::{Bn256, Fr, G1Affine};
use zkinfer_testkit::DotProductCircuit;

/// One proved circuit: params of its k, keys, its output and the proof.
struct Proved {
    params: ParamsKZG<Bn256>,
    pk: ProvingKey<G1Affine>,
    out: Vec<Fr>,
    proof: Vec<u8>,
}

impl Proved {
    fn item(&self) -> BundleItem<'_> {
        BundleItem { params: &self.params, vk: self.pk.get_vk(), instances: &self.out, proof: &self.proof }
    }
}

/// Proves a random dot product of length `len` with `srs` cut to `k`.
fn prove(srs: &ParamsKZG<Bn256>, k: u32, len: usize, seed: u64) -> Proved {
    let mut params = srs.clone();
    if params.k() > k {
        params.downsize(k);
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let circuit = DotProductCircuit::random(len, &mut rng);
    assert!(DotProductCircuit::min_k(len) <= k);
    let pk = keygen(&params, &circuit.without_witnesses(), &mut |_| {}).unwrap();
    let out = vec![circuit.output()];
    let proof = prove_stock(&params, &pk, circuit, &[&out], rng).unwrap();
    verify_stock(&params, pk.get_vk(), &[&out], &proof).unwrap();
    Proved { params, pk, out, proof }
}

/// Three proofs with three different keys: k = 9, 10, 9 from one dev SRS at k = 10.
fn three() -> Vec<Proved> {
    let srs = dev_srs(10, ChaCha20Rng::seed_from_u64(1));
    vec![prove(&srs, 9, 16, 10), prove(&srs, 10, 40, 11), prove(&srs, 9, 30, 12)]
}

fn items(proved: &[Proved]) -> Vec<BundleItem<'_>> {
    proved.iter().map(Proved::item).collect()
}

fn blamed(result: Result<BundleStats, BundleError>) -> usize {
    match result {
        Err(BundleError::Proof { index, reason }) => {
            eprintln!("item {index}: {reason}");
            index
        }
        other => panic!("expected a proof to be blamed, got {other:?}"),
    }
}

#[test]
fn bundle_of_mixed_k_verifies_with_one_pairing() {
    let proved = three();
    assert_eq!(verify_bundle(&items(&proved)).unwrap(), BundleStats { proofs: 3, pairings: 1 });
    // A single item is a bundle too.
    assert_eq!(verify_bundle(&items(&proved[1..2])).unwrap(), BundleStats { proofs: 1, pairings: 1 });
}

#[test]
fn bundle_names_the_tampered_item() {
    let proved = three();

    // 2. One flipped byte in item 1's proof: in its first advice commitment (most likely no longer a curve point:
    // the transcript fails) and in its last evaluation (read fine: only the pairing can catch it).
    for at in [40, proved[1].proof.len() - 80] {
        let mut bad = proved[1].proof.clone();
        bad[at] ^= 1;
        let mut list = items(&proved);
        list[1].proof = &bad;
        assert_eq!(blamed(verify_bundle(&list)), 1, "byte {at}");
    }

    // 3. Item 2's public output changed.
    let wrong = [proved[2].out[0] + Fr::one()];
    let mut list = items(&proved);
    list[2].instances = &wrong;
    assert_eq!(blamed(verify_bundle(&list)), 2);

    // 4. Proofs of items 0 and 2 (both k = 9, different keys) swapped: one of them is named.
    let mut list = items(&proved);
    (list[0].proof, list[2].proof) = (proved[2].proof.as_slice(), proved[0].proof.as_slice());
    assert!(matches!(blamed(verify_bundle(&list)), 0 | 2));
    // Items 0 and 1 (k = 9 and k = 10): the same.
    let mut list = items(&proved);
    (list[0].proof, list[1].proof) = (proved[1].proof.as_slice(), proved[0].proof.as_slice());
    assert!(matches!(blamed(verify_bundle(&list)), 0 | 1));
}

#[test]
fn bundle_refuses_params_from_another_srs() {
    let proved = three();
    // 5. A proof valid on its own, but from another dev SRS: refused before any pairing.
    let other = prove(&dev_srs(9, ChaCha20Rng::seed_from_u64(2)), 9, 16, 13);
    let mut list = items(&proved);
    list[1] = other.item();
    match verify_bundle(&list) {
        Err(BundleError::Proof { index: 1, reason }) => assert!(reason.contains("SRS differs"), "{reason}"),
        r => panic!("expected item 1's SRS to be refused, got {r:?}"),
    }
    // Params of the wrong k for the key are named too.
    let mut list = items(&proved);
    list[0].params = &proved[1].params;
    assert_eq!(blamed(verify_bundle(&list)), 0);
}

#[test]
fn empty_bundle_is_an_error() {
    // 6.
    assert!(matches!(verify_bundle(&[]), Err(BundleError::Empty)));
}
