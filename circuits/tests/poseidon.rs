//! Poseidon: our native permutation == light-poseidon (an independent circom-compatible implementation) ==
//! circomlib's published vectors, and the in-circuit chain (inside the model circuit, checked by MockProver
//! against instance values computed natively) == the native commitment.

mod common;

use ark_ff::{BigInteger, PrimeField};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::{Field, PrimeField as _};
use light_poseidon::{Poseidon, PoseidonHasher};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use zkinfer_circuits::commit;
use zkinfer_circuits::native::pack;
use zkinfer_circuits::native::poseidon::{chain_hash, hash, RATE, WIDTH};

fn to_ark(x: Fr) -> ark_bn254::Fr {
    ark_bn254::Fr::from_le_bytes_mod_order(&x.to_repr())
}

fn from_ark(x: ark_bn254::Fr) -> Fr {
    let mut r = [0u8; 32];
    r.copy_from_slice(&x.into_bigint().to_bytes_le());
    Fr::from_repr(r).unwrap()
}

/// light-poseidon's circom hash of 12 inputs.
fn reference(inputs: &[Fr]) -> Fr {
    let mut p = Poseidon::<ark_bn254::Fr>::new_circom(WIDTH - 1).unwrap();
    from_ark(p.hash(&inputs.iter().map(|x| to_ark(*x)).collect::<Vec<_>>()).unwrap())
}

#[test]
fn independent_implementation_matches_circomlib_vectors() {
    // circomlib's poseidon test vectors (t = 3 and t = 6), so the reference itself is pinned to published values.
    let mut p2 = Poseidon::<ark_bn254::Fr>::new_circom(2).unwrap();
    let h = from_ark(p2.hash(&[ark_bn254::Fr::from(1u64), ark_bn254::Fr::from(2u64)]).unwrap());
    assert_eq!(format!("{h:?}"), "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a");
    let mut p5 = Poseidon::<ark_bn254::Fr>::new_circom(5).unwrap();
    let h = from_ark(p5.hash(&(1..=5u64).map(ark_bn254::Fr::from).collect::<Vec<_>>()).unwrap());
    assert_eq!(format!("{h:?}"), "0x0dab9449e4a1398a15224c0b15a49d598b2174d305a316c918125f8feeb123c0");
}

#[test]
fn native_permutation_equals_light_poseidon() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let vectors: Vec<[Fr; WIDTH - 1]> = vec![
        [Fr::ZERO; WIDTH - 1],
        std::array::from_fn(|i| Fr::from(i as u64 + 1)),
        std::array::from_fn(|_| -Fr::ONE),
        std::array::from_fn(|_| Fr::random(&mut rng)),
        std::array::from_fn(|_| Fr::random(&mut rng)),
    ];
    for v in &vectors {
        assert_eq!(hash(v), reference(v));
    }
}

#[test]
fn chain_hash_matches_reference_chain() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for n in [0, 1, RATE - 1, RATE, RATE + 1, 3 * RATE + 5] {
        let elems: Vec<Fr> = (0..n).map(|_| Fr::random(&mut rng)).collect();
        let mut h = Fr::from(n as u64 * 7);
        for b in 0..n.div_ceil(RATE).max(1) {
            let mut block = vec![h];
            block.extend(elems.iter().skip(b * RATE).take(RATE));
            block.resize(WIDTH - 1, Fr::ZERO);
            h = reference(&block);
        }
        assert_eq!(chain_hash(n as u64 * 7, &elems), h, "n = {n}");
    }
}

#[test]
fn packing_is_big_endian_offset_bytes() {
    let bytes: Vec<i64> = (0..31).map(|i| i - 15).collect();
    let e = pack::pack(&bytes);
    assert_eq!(e.len(), 2);
    let mut want = Fr::ZERO;
    for b in &bytes[..30] {
        want = want * Fr::from(256) + Fr::from((b + 128) as u64);
    }
    assert_eq!(e[0], want);
    assert_eq!(pack::bias_bytes(-1), [127, 127, 127, 127 - 128]);
}

#[test]
fn in_circuit_commitments_equal_native() {
    // check() runs MockProver with the natively computed commitments as instances and compares the layout's public
    // values with them; a salted input and a hidden output exercise every chain.
    let mut b = common::Builder::new(11, &[1, 3, 5, 5], 2);
    b.conv(0, 4, 3, 1, 1, 1, true);
    let x = b.input();
    let model = b.finish();
    let mut c = zkinfer_circuits::ModelCircuit::new(model.clone(), x.clone(), common::ALL_HIDDEN).unwrap();
    c.salts.weights = Fr::from(987654321);
    c.salts.inputs[0] = Fr::from(123456789);
    c.salts.outputs[0] = Fr::from(42);
    let layout = c.dry_run().unwrap();
    let y = zkinfer_import::reference::run(&model, &x).unwrap();
    assert_eq!(
        layout.public,
        vec![
            commit::commit_weights(&model, &c.segment, c.salts.weights).unwrap(),
            commit::commit_tensor(&x, c.salts.inputs[0]).unwrap(),
            commit::commit_tensor(&y, c.salts.outputs[0]).unwrap()
        ]
    );
    let prover = halo2_proofs::dev::MockProver::<Fr>::run(c.k(), &c, vec![c.instances().unwrap()]).unwrap();
    prover.assert_satisfied_par();
    // A different salt is a different commitment: the proof must not verify against the old one.
    let mut wrong = c.instances().unwrap();
    wrong[1] = commit::commit_tensor(&x, Fr::ZERO).unwrap();
    let prover = halo2_proofs::dev::MockProver::<Fr>::run(c.k(), &c, vec![wrong]).unwrap();
    assert!(prover.verify_par().is_err());
}
