//! Text encodings shared by the key manifest and the proof file: field elements as 0x-prefixed big-endian hex
//! (canonical only), bytes as hex, file digests as BLAKE2b-256.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;

pub fn fr_to_hex(v: &Fr) -> String {
    let mut bytes = v.to_repr();
    bytes.as_mut().reverse();
    format!("0x{}", to_hex(bytes.as_ref()))
}

/// Parses a field element written by [`fr_to_hex`]; a value ≥ the modulus is refused, not reduced.
pub fn fr_from_hex(s: &str, what: &str) -> Result<Fr> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.len() != 64 {
        bail!("{what}: expected 64 hex digits, got {}", digits.len());
    }
    let mut bytes = from_hex(digits).with_context(|| what.to_string())?;
    bytes.reverse();
    let mut repr = <Fr as PrimeField>::Repr::default();
    repr.as_mut().copy_from_slice(&bytes);
    Option::from(Fr::from_repr(repr)).with_context(|| format!("{what}: not a canonical BN254 scalar"))
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Digit values by byte; 0xff marks a byte that is not a hex digit.
const HEX_DIGIT: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

pub fn from_hex(s: &str) -> Result<Vec<u8>> {
    // A proof file carries ~400 KB of hex: a table lookup per digit, the error located only once one is found.
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        bail!("odd number of hex digits");
    }
    let out: Vec<u8> = b.chunks_exact(2).map(|p| HEX_DIGIT[p[0] as usize] << 4 | HEX_DIGIT[p[1] as usize]).collect();
    // Bytes were combined unchecked above; one pass over the digits finds the first that is not one.
    if let Some(i) = b.iter().position(|&c| HEX_DIGIT[c as usize] == 0xff) {
        bail!("invalid hex digit near position {}", i & !1);
    }
    Ok(out)
}

/// BLAKE2b-256 over length-prefixed parts (so no two part lists hash alike), raw bytes.
pub fn digest_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = hasher();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finalize().as_bytes());
    out
}

fn hasher() -> blake2b_simd::State {
    blake2b_simd::Params::new().hash_length(32).to_state()
}

/// BLAKE2b-256 of bytes, hex.
pub fn digest_bytes(bytes: &[u8]) -> String {
    let mut h = hasher();
    h.update(bytes);
    to_hex(h.finalize().as_bytes())
}

/// BLAKE2b-256 of a file, streamed (proving keys run to gigabytes).
pub fn digest_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut h = hasher();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(to_hex(h.finalize().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_non_hex() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&bytes)).unwrap(), bytes);
        assert_eq!(from_hex("00FFaB").unwrap(), vec![0, 255, 0xab]);
        assert_eq!(from_hex("").unwrap(), Vec::<u8>::new());
        for bad in ["0", "0g", "+f", "-1", " 1", "é0", "zz"] {
            assert!(from_hex(bad).is_err(), "{bad:?}");
        }
        assert_eq!(from_hex("00112x").unwrap_err().to_string(), "invalid hex digit near position 4");
    }
}
