//! Fuzzing the .npy reader: a valid array (and the digits test split) with random truncations, flips, insertions and
//! huge integers over its header, and headers whose shapes claim up to 2^64 elements. Every reader must return the
//! array or an error naming the file — never panic, never allocate for elements the file does not hold.

use std::path::Path;

use proptest::prelude::*;
use zkinfer_import::npy;
use zkinfer_testkit::fuzz;

/// The seeds: float32, int8 and int64 arrays, and the fixture the CLI's tests read.
fn seeds() -> Vec<Vec<u8>> {
    let f32s: Vec<u8> = (0..12).flat_map(|i| (i as f32 / 10.0).to_le_bytes()).collect();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/matmul_inputs.npy");
    vec![
        fuzz::npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 4), }", &f32s),
        fuzz::npy_bytes("{'descr': '|i1', 'fortran_order': False, 'shape': (2, 4), }", &[1, 2, 3, 4, 0xff, 0x80, 0x7f, 0]),
        fuzz::npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", &[7u8; 24]),
        std::fs::read(fixture).unwrap(),
    ]
}

/// A shape entry that overflows or outgrows the data.
fn dim() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..8).prop_map(|d| d.to_string()),
        proptest::sample::select(fuzz::HUGE.to_vec()).prop_map(|d| d.to_string()),
        Just("18446744073709551616".to_string()),
        Just("-1".to_string()),
        Just("".to_string()),
    ]
}

fn check(path: &Path, what: &str, r: Result<usize, zkinfer_import::ImportError>) {
    if let Err(e) = r {
        let msg = e.to_string();
        assert!(msg.contains(&path.display().to_string()), "{what}: the error does not name the file: {msg}");
    }
}

/// Runs every reader on the file; each either reads it or names it in its error.
fn read_all(path: &Path, bytes: &[u8]) {
    let p = path.to_str().unwrap();
    std::fs::write(path, bytes).unwrap();
    check(path, "describe", npy::describe(p).map(|(_, s)| s.len()));
    check(path, "read_f32", npy::read_f32(p).map(|a| a.data.len()));
    check(path, "read_i8", npy::read_i8(p).map(|a| a.data.len()));
    check(path, "read_i64", npy::read_i64(p).map(|a| a.data.len()));
    // The bundled-bytes entry point takes the same path through the parser.
    let _ = npy::read_i64_bytes(bytes);
    // Whatever is read holds exactly the elements its shape says.
    if let Ok(a) = npy::read_f32(p) {
        assert_eq!(a.shape.iter().product::<usize>(), a.data.len());
    }
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn mutated_npy_files_are_read_or_refused(seed in 0usize..4, muts in fuzz::mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let seed = &seeds()[seed];
        // The magic, the version, the header length and the start of the header are the interesting offsets.
        let bytes = fuzz::apply(seed, &muts, &[0, 6, 7, 8, 10, 20, 40]);
        read_all(&dir.path().join("x.npy"), &bytes);
    }

    #[test]
    fn oversized_shapes_are_refused_before_allocation(
        dims in proptest::collection::vec(dim(), 0..5),
        descr in proptest::sample::select(vec!["<f4", "|i1", "<i8", "|u1", "<f8"]),
        data in 0usize..64,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}), }}", dims.join(", "));
        read_all(&dir.path().join("big.npy"), &fuzz::npy_bytes(&header, &vec![1u8; data]));
    }
}

#[test]
fn a_header_claiming_2_pow_40_elements_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.npy");
    std::fs::write(&p, fuzz::npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", &[0; 16])).unwrap();
    let e = npy::read_f32(p.to_str().unwrap()).err().expect("2^40 elements in 16 bytes").to_string();
    assert!(e.contains("huge.npy") && e.contains("truncated"), "{e}");
    // Dimensions whose product overflows usize.
    std::fs::write(&p, fuzz::npy_bytes("{'descr': '|i1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }", &[0; 16])).unwrap();
    let e = npy::describe(p.to_str().unwrap()).err().expect("2^65 elements").to_string();
    assert!(e.contains("huge.npy") && e.contains("truncated"), "{e}");
}
