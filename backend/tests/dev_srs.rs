//! The dev SRS (`params::dev_srs`, fixed-base tables on every core) is halo2-axiom's `ParamsKZG::setup` point for
//! point: the same bytes for the same seed, and the caller's RNG left in the same state (the CLI draws the circuit's
//! randomness from it afterwards). A different seed gives a different SRS, so the comparison can fail.

use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use zkinfer_backend::params::{dev_srs, write_srs};
use zkinfer_backend::Bn256;

fn bytes(p: &ParamsKZG<Bn256>) -> Vec<u8> {
    let mut out = Vec::new();
    write_srs(p, &mut out).unwrap();
    out
}

#[test]
fn dev_srs_equals_halo2_setup_for_the_same_seed() {
    for k in 0..=12u32 {
        for seed in [1u64, 99] {
            let mut ours_rng = ChaCha20Rng::seed_from_u64(seed);
            let mut stock_rng = ChaCha20Rng::seed_from_u64(seed);
            let ours = dev_srs(k, &mut ours_rng);
            let stock = ParamsKZG::<Bn256>::setup(k, &mut stock_rng);
            assert!(bytes(&ours) == bytes(&stock), "k = {k}, seed {seed}: the SRS differs from halo2-axiom's");
            assert_eq!(ours_rng.next_u64(), stock_rng.next_u64(), "k = {k}: the RNG was left in another state");
        }
    }
    let a = dev_srs(6, ChaCha20Rng::seed_from_u64(1));
    let b = dev_srs(6, ChaCha20Rng::seed_from_u64(2));
    assert!(bytes(&a) != bytes(&b), "different seeds must give different SRSs");
}
