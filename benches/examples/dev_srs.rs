//! The dev SRS side by side: halo2-axiom's `ParamsKZG::setup` (one full scalar multiplication per point) against
//! `params::dev_srs` (fixed-base window tables), same seed, same process; checks that both give the same points.
//!
//!   cargo run --release -p zkinfer-benches --example dev_srs -- K [K ...]

use std::time::Instant;

use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::params::{dev_srs, write_srs};
use zkinfer_backend::Bn256;

fn main() {
    let ks: Vec<u32> = std::env::args().skip(1).map(|a| a.parse().expect("K: a whole number")).collect();
    assert!(!ks.is_empty(), "usage: dev_srs K [K ...]");
    println!("{} threads", rayon::current_num_threads());
    println!("| k | halo2-axiom setup s | zkinfer dev_srs s | ratio |");
    println!("|---|---|---|---|");
    for k in ks {
        let t = Instant::now();
        let stock = ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::seed_from_u64(7));
        let stock_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let ours = dev_srs(k, ChaCha20Rng::seed_from_u64(7));
        let ours_s = t.elapsed().as_secs_f64();
        assert!(bytes(&ours) == bytes(&stock), "k = {k}: the SRS differs from halo2-axiom's");
        println!("| {k} | {stock_s:.2} | {ours_s:.2} | {:.3}x |", ours_s / stock_s);
    }
}

fn bytes(p: &ParamsKZG<Bn256>) -> Vec<u8> {
    let mut out = Vec::new();
    write_srs(p, &mut out).expect("writing to memory");
    out
}
