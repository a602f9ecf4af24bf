//! Samples both sides can recompute: a 32-byte seed (a BLAKE2b digest of what both sides fixed, or recorded
//! randomness) drives ChaCha20, and the indices are drawn without replacement by a partial Fisher–Yates shuffle
//! with unbiased (rejection-sampled) bounds — so the sample depends on the seed alone, not on a library's
//! sampling algorithm.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// A uniform integer in 0..bound (bound ≥ 1), by rejection: no modulo bias.
fn below(rng: &mut ChaCha20Rng, bound: u64) -> u64 {
    let zone = u64::MAX - u64::MAX % bound;
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % bound;
        }
    }
}

/// The seed given as 64 hex digits, or 32 fresh random bytes.
pub fn seed_or_fresh(hex: Option<&str>) -> anyhow::Result<[u8; 32]> {
    use anyhow::Context;
    match hex {
        Some(s) => crate::encoding::from_hex(s.strip_prefix("0x").unwrap_or(s))
            .ok()
            .and_then(|b| b.try_into().ok())
            .context("--seed: 64 hex digits (32 bytes) expected"),
        None => {
            let mut b = [0u8; 32];
            rand_core::OsRng.fill_bytes(&mut b);
            Ok(b)
        }
    }
}

/// `n` distinct indices of 0..population drawn uniformly from `seed`, in ascending order. The shuffle only keeps
/// the positions it has swapped (the others hold their own index), so memory is O(n) whatever the population — a
/// test-set commitment read from a file may claim 2^60 examples.
pub fn sample(seed: [u8; 32], population: usize, n: usize) -> Vec<usize> {
    assert!(n <= population, "a sample of {n} from {population}");
    let mut rng = ChaCha20Rng::from_seed(seed);
    let mut moved: std::collections::HashMap<usize, usize> = std::collections::HashMap::with_capacity(2 * n);
    for i in 0..n {
        let j = i + below(&mut rng, (population - i) as u64) as usize;
        let (at_i, at_j) = (*moved.get(&i).unwrap_or(&i), *moved.get(&j).unwrap_or(&j));
        moved.insert(i, at_j);
        moved.insert(j, at_i);
    }
    let mut out: Vec<usize> = (0..n).map(|i| *moved.get(&i).unwrap_or(&i)).collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_reproducible_and_cover_the_population() {
        let a = sample([7; 32], 360, 150);
        assert_eq!(a, sample([7; 32], 360, 150));
        assert_ne!(a, sample([8; 32], 360, 150));
        assert_eq!(a.len(), 150);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && *a.last().unwrap() < 360);
        assert_eq!(sample([1; 32], 10, 10), (0..10).collect::<Vec<_>>());
        // The same draws as a shuffle of the whole population (what earlier versions did, so samples recorded in
        // existing files still check), and a huge population costs nothing.
        let full = |seed: [u8; 32], population: usize, n: usize| {
            let mut rng = ChaCha20Rng::from_seed(seed);
            let mut idx: Vec<usize> = (0..population).collect();
            for i in 0..n {
                let j = i + below(&mut rng, (population - i) as u64) as usize;
                idx.swap(i, j);
            }
            let mut out = idx[..n].to_vec();
            out.sort_unstable();
            out
        };
        for (p, n) in [(360, 150), (10, 10), (1000, 1), (5, 0)] {
            assert_eq!(sample([3; 32], p, n), full([3; 32], p, n), "{p} {n}");
        }
        assert_eq!(sample([3; 32], 1 << 60, 5).len(), 5);
        // Every index is drawn about equally often over many seeds (a biased draw would skew the low ones).
        let mut hits = [0u32; 10];
        for s in 0..4000u32 {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&s.to_le_bytes());
            for i in sample(seed, 10, 3) {
                hits[i] += 1;
            }
        }
        assert!(hits.iter().all(|&h| (1000..1400).contains(&h)), "{hits:?}"); // expected 1200 each
    }
}
