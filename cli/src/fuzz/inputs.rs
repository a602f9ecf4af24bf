//! Model inputs: .npy arrays (one input, an entry of a batch, a batch's entries) and PNG / JPEG images, mutated.

use std::io::Cursor;

use proptest::prelude::*;
use zkinfer_testkit::fuzz;

use super::{digits, names, quiet};
use crate::input::{batch_entries, load, load_npy};

fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    zkinfer_testkit::fuzz::npy_bytes(&format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"), data)
}

/// One float input, one int8 input, a batch of three float inputs (digits takes [1, 1, 8, 8]).
fn npy_seeds() -> Vec<Vec<u8>> {
    let f = |n: usize| (0..n).flat_map(|i| (i as f32 / 64.0).to_le_bytes()).collect::<Vec<u8>>();
    vec![
        npy("<f4", "(1, 1, 8, 8)", &f(64)),
        npy("|i1", "(1, 1, 8, 8)", &(0..64).map(|i| i as u8).collect::<Vec<_>>()),
        npy("<f4", "(3, 1, 8, 8)", &f(192)),
    ]
}

fn png(w: u32, h: u32, rgb: bool) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let img: image::DynamicImage = if rgb {
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8 * 9, y as u8 * 5, 77])).into()
    } else {
        image::GrayImage::from_fn(w, h, |x, y| image::Luma([(x * y) as u8])).into()
    };
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let img: image::DynamicImage = image::GrayImage::from_fn(w, h, |x, y| image::Luma([(x + 3 * y) as u8])).into();
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// A PNG whose header (IHDR, right after the 8-byte signature) claims other dimensions, bit depth and colour type,
/// with its CRC recomputed so the decoder believes it: the path to allocating for pixels the file does not hold.
fn png_with_header(seed: &[u8], w: u32, h: u32, depth: u8, color: u8) -> Vec<u8> {
    let mut b = seed.to_vec();
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    b[24] = depth;
    b[25] = color;
    let crc = crc32(&b[12..29]);
    b[29..33].copy_from_slice(&crc.to_be_bytes());
    b
}

fn dimension() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..40, proptest::sample::select(vec![0x7fff_ffff, 0x8000_0000, u32::MAX, 1 << 20, 65_535, 65_536])]
}

/// The image and npy entry points `prove` uses: `load` by extension, and a batch's entries loaded one by one.
fn load_all(path: &std::path::Path, batch: bool) {
    let m = &digits().model;
    let (q, want) = (m.input().q, m.input().shape.clone());
    if let Err(e) = load(path, m, None, &quiet()) {
        names(&e, path);
    }
    if !batch {
        return;
    }
    for index in [Some(0), Some(2), Some(usize::MAX)] {
        if let Err(e) = load_npy(path, q, &want, index) {
            names(&e, path);
        }
    }
    match batch_entries(path, m, None) {
        // Never more entries than the file has bytes (a header claiming 2^40 inputs is refused first).
        Ok(entries) => assert!(entries.len() as u64 <= std::fs::metadata(path).unwrap().len()),
        Err(e) => names(&e, path),
    }
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn mutated_npy_inputs(seed in 0usize..3, muts in fuzz::mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npy");
        std::fs::write(&p, fuzz::apply(&npy_seeds()[seed], &muts, &[6, 8, 10, 30, 60])).unwrap();
        load_all(&p, true);
    }

    #[test]
    fn mutated_images(seed in 0usize..3, muts in fuzz::mutations(), header in proptest::option::weighted(0.3, (dimension(), dimension(), proptest::sample::select(vec![1u8, 2, 8, 16, 3]), proptest::sample::select(vec![0u8, 2, 3, 4, 6, 7])))) {
        let dir = tempfile::tempdir().unwrap();
        let (name, seed) = match seed {
            0 => ("x.png", png(8, 8, false)),
            1 => ("x.png", png(12, 10, true)),
            _ => ("x.jpg", jpeg(16, 16)),
        };
        let bytes = match header {
            Some((w, h, depth, color)) if name.ends_with(".png") => png_with_header(&seed, w, h, depth, color),
            // JPEG: the frame header's height and width (SOF0, after the quantisation tables) are among the hot offsets.
            _ => fuzz::apply(&seed, &muts, &[16, 20, 24, 25, 160, 163, 165]),
        };
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        load_all(&p, false);
    }
}

#[test]
fn huge_batches_are_refused_before_any_entry_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("batch.npy");
    // 2^40 inputs of [1, 1, 8, 8] in 256 bytes.
    std::fs::write(&p, npy("<f4", "(1099511627776, 1, 8, 8)", &[0; 256])).unwrap();
    let e = batch_entries(&p, &digits().model, None).unwrap_err();
    names(&e, &p);
    assert!(format!("{e:#}").contains("truncated"), "{e:#}");
    let e = load_npy(&p, digits().model.input().q, &[1, 1, 8, 8], Some(3)).unwrap_err();
    names(&e, &p);
}
