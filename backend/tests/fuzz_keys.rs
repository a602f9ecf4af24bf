//! Fuzzing the readers of binary key material: the SRS (`params::read_srs`, trusted and ceremony), verifying keys
//! and proving keys (`key_files::read_vk` / `read_pk`). Seeds are a small circuit's real files (k = 4, a few KB);
//! mutations are truncations, flips, insertions and huge integers written over the headers and length prefixes
//! (an SRS claiming k = 40, a polynomial of 2^32 − 1 coefficients). Each reader returns the value or an error —
//! halo2's readers are called without any panic guard here, so a panic that gets past the checks fails the test.

use std::io::Cursor;
use std::sync::OnceLock;

use halo2_proofs::plonk::Circuit;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::SerdeFormat;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::key_files::{read_pk, read_vk};
use zkinfer_backend::params::{self, srs_bytes};
use zkinfer_testkit::fuzz;
use zkinfer_testkit::sample_circuits::{fibonacci::Fibonacci, Sample};

struct Seeds {
    k: u32,
    srs: Vec<u8>,
    vk: Vec<u8>,
    pk: Vec<u8>,
    /// Offsets of the proving key's headers and length prefixes (its verifying key's header first).
    pk_prefixes: Vec<usize>,
}

fn seeds() -> &'static Seeds {
    static S: OnceLock<Seeds> = OnceLock::new();
    S.get_or_init(|| {
        let circuit = Fibonacci::new(6, 1, 1);
        let k = circuit.k();
        let srs = params::dev_srs(k, ChaCha20Rng::seed_from_u64(5));
        let pk = params::keygen(&srs, &circuit.without_witnesses(), &mut |_| {}).unwrap();
        let (mut srs_b, mut vk_b, mut pk_b) = (Vec::new(), Vec::new(), Vec::new());
        params::write_srs(&srs, &mut srs_b).unwrap();
        pk.get_vk().write(&mut vk_b, SerdeFormat::RawBytes).unwrap();
        pk.write(&mut pk_b, SerdeFormat::RawBytesUnchecked).unwrap();
        // The layout key_files documents: 3 polynomials, then 2 vectors of F and 2 of P polynomials.
        let poly = 4 + 32 * (1usize << k);
        let (f, p) = (pk.get_vk().cs().num_fixed_columns(), pk.get_vk().cs().permutation().get_columns().len());
        let mut prefixes = vec![0, 1, 5, 6];
        let mut at = vk_b.len();
        for _ in 0..3 {
            prefixes.push(at);
            at += poly;
        }
        for count in [f, f, p, p] {
            prefixes.push(at);
            at += 4;
            for _ in 0..count {
                prefixes.push(at);
                at += poly;
            }
        }
        assert_eq!(at, pk_b.len(), "the proving key's layout is the one key_files checks");
        Seeds { k, srs: srs_b, vk: vk_b, pk: pk_b, pk_prefixes: prefixes }
    })
}

/// An error from a key reader: it must say something (the CLI puts the file's path in front of it).
fn described(e: &std::io::Error) {
    assert!(!e.to_string().is_empty(), "an error without a message: {e:?}");
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn mutated_srs_is_read_or_refused(muts in fuzz::mutations(), trusted in any::<bool>()) {
        let s = seeds();
        let n = s.srs.len();
        let b = fuzz::apply(&s.srs, &muts, &[0, 1, 4, n - 256, n - 128]);
        match params::read_srs(&mut &b[..], b.len() as u64, trusted) {
            Ok(p) => {
                assert_eq!(b.len() as u64, srs_bytes(p.k()));
                if !trusted {
                    // A ceremony file goes on to the pairing check: an error or params, never a panic.
                    let _ = params::check_ceremony_srs(p, s.k);
                }
            }
            Err(e) => described(&e),
        }
    }

    #[test]
    fn mutated_verifying_key_is_read_or_refused(muts in fuzz::mutations(), k_off in 0u32..3) {
        let s = seeds();
        let b = fuzz::apply(&s.vk, &muts, &[0, 1, 5, 6, 10, s.vk.len() - 1]);
        // Mostly the circuit's k; sometimes another (a manifest naming the wrong k).
        let k = if k_off == 2 { s.k + 1 } else { s.k };
        if let Err(e) = read_vk::<Fibonacci>(&mut &b[..], b.len() as u64, k, (), SerdeFormat::RawBytes) {
            described(&e);
        }
    }

    #[test]
    fn mutated_proving_key_is_read_or_refused(muts in fuzz::mutations()) {
        let s = seeds();
        let b = fuzz::apply(&s.pk, &muts, &s.pk_prefixes);
        if let Err(e) = read_pk::<Fibonacci>(&mut Cursor::new(&b), b.len() as u64, s.k, (), SerdeFormat::RawBytesUnchecked) {
            described(&e);
        }
    }
}

#[test]
fn seeds_read_back_and_huge_claims_are_refused_before_allocation() {
    let s = seeds();
    let pk = read_pk::<Fibonacci>(&mut Cursor::new(&s.pk), s.pk.len() as u64, s.k, (), SerdeFormat::RawBytesUnchecked).unwrap();
    let vk = read_vk::<Fibonacci>(&mut &s.vk[..], s.vk.len() as u64, s.k, (), SerdeFormat::RawBytes).unwrap();
    assert_eq!(pk.get_vk().transcript_repr(), vk.transcript_repr());
    assert_eq!(params::read_srs(&mut &s.srs[..], s.srs.len() as u64, true).unwrap().k(), s.k);

    // An SRS whose header says k = 40 (halo2 would reserve 2^40 points): refused from its header.
    let mut b = s.srs.clone();
    b[..4].copy_from_slice(&40u32.to_le_bytes());
    let e = params::read_srs(&mut &b[..], b.len() as u64, true).unwrap_err().to_string();
    assert!(e.contains("k = 40"), "{e}");
    // k = 20 is a real size, but not this file's.
    b[..4].copy_from_slice(&20u32.to_le_bytes());
    let e = params::read_srs(&mut &b[..], b.len() as u64, false).unwrap_err().to_string();
    assert!(e.contains("an SRS of k = 20"), "{e}");

    // A proving key whose first polynomial claims 2^32 − 1 coefficients (128 GiB): refused, with the byte.
    let mut b = s.pk.clone();
    let at = s.pk_prefixes[4];
    b[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let e = read_pk::<Fibonacci>(&mut Cursor::new(&b), b.len() as u64, s.k, (), SerdeFormat::RawBytesUnchecked).unwrap_err().to_string();
    assert!(e.contains(&format!("l0's length at byte {at}: 4294967295")), "{e}");
    // A verifying key claiming 2^32 − 1 fixed commitments; one of another k.
    let mut b = s.vk.clone();
    b[6..10].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = read_vk::<Fibonacci>(&mut &b[..], b.len() as u64, s.k, (), SerdeFormat::RawBytes).unwrap_err().to_string();
    assert!(e.contains("4294967295 fixed commitments"), "{e}");
    let e = read_vk::<Fibonacci>(&mut &s.vk[..], s.vk.len() as u64, s.k + 1, (), SerdeFormat::RawBytes).unwrap_err().to_string();
    assert!(e.contains(&format!("k = {}", s.k)), "{e}");
    // Trailing bytes after a whole verifying key.
    let mut b = s.vk.clone();
    b.push(0);
    assert!(read_vk::<Fibonacci>(&mut &b[..], b.len() as u64, s.k, (), SerdeFormat::RawBytes).unwrap_err().to_string().contains("1 bytes follow"));
}
