//! Reading halo2-axiom's key files (verifying and proving keys in the raw formats) from bytes that may be damaged or
//! hostile. halo2's readers trust their input: they unwrap on short input, and a proving key's u32 polynomial length
//! makes them reserve that many field elements up front (2^32 × 32 bytes = 128 GiB) before reading one. So every
//! header field, count and length prefix is checked against the circuit and against the bytes the file holds
//! BEFORE halo2 reads it: a bad file is an `InvalidData` error that says what is wrong and at which byte, never a
//! panic, and nothing is allocated for data the file does not hold.
//!
//! Layout (halo2-axiom 0.5): the verifying key is `0x02 | k: u32 LE | compress_selectors: u8 | F: u32 LE | F fixed
//! commitments | one commitment per permutation column | (compressed) one bit-packed selector of 2^k bits each`;
//! the proving key is its verifying key followed by `l0, l_last, l_active_row` (each `len: u32 BE | len scalars`),
//! two vectors of F polynomials (fixed values, fixed polys) and two of P (permutation values, polys), each
//! `count: u32 BE | polynomials`. Every polynomial has 2^k coefficients.

use std::io::{self, Read, Seek, SeekFrom};

use halo2_proofs::halo2curves::serde::SerdeObject;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, ProvingKey, VerifyingKey};
use halo2_proofs::SerdeFormat;

use crate::{Fr, G1Affine};

/// The largest k of a circuit over BN254's Fr whose quotient's extended domain still fits (extended k ≤ 2-adicity 28).
pub const MAX_K: u32 = 26;

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Bytes of one G1 point in the raw formats.
fn point_bytes() -> u64 {
    G1Affine::default().to_raw_bytes().len() as u64
}

/// Bytes of one scalar in the raw formats.
fn scalar_bytes() -> u64 {
    Fr::default().to_raw_bytes().len() as u64
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// The verifying key's fixed header: version 2, `k` as the circuit's, a boolean selector flag, and a number of
/// fixed commitments the rest of the file can hold.
fn check_header(head: &[u8; 10], len: u64, k: u32) -> io::Result<()> {
    if head[0] != 0x02 {
        return Err(invalid(format!("version byte {:#04x} at byte 0, halo2-axiom writes 0x02", head[0])));
    }
    let file_k = u32::from_le_bytes(head[1..5].try_into().expect("4 bytes"));
    if file_k != k {
        return Err(invalid(format!("it is a key for k = {file_k} (bytes 1..5), the circuit has k = {k}")));
    }
    if head[5] > 1 {
        return Err(invalid(format!("selector flag {} at byte 5 is not 0 or 1", head[5])));
    }
    let fixed = u32::from_le_bytes(head[6..10].try_into().expect("4 bytes")) as u64;
    if fixed * point_bytes() > len - 10 {
        return Err(invalid(format!(
            "it claims {fixed} fixed commitments (bytes 6..10), {} bytes, but only {} bytes follow",
            fixed * point_bytes(),
            len - 10
        )));
    }
    Ok(())
}

/// Reads the verifying key at the start of `reader` (`len` bytes from there to the end of the file); returns it and
/// the bytes it took.
fn read_vk_part<C: Circuit<Fr>>(
    reader: &mut impl Read,
    len: u64,
    k: u32,
    params: C::Params,
    format: SerdeFormat,
) -> io::Result<(VerifyingKey<G1Affine>, u64)>
where
    C::Params: Clone,
{
    if k > MAX_K {
        return Err(invalid(format!("k = {k} is past the largest circuit a key can be for (k = {MAX_K})")));
    }
    if len < 10 {
        return Err(invalid(format!("{len} bytes: shorter than a verifying key's 10-byte header")));
    }
    let mut head = [0u8; 10];
    reader.read_exact(&mut head)?;
    check_header(&head, len, k)?;
    // What the rest of the verifying key takes: the file's fixed commitments, one per permutation column, and with
    // compressed selectors 2^k bits per selector — all of it must be there, or halo2 unwraps on the short read.
    let mut cs = ConstraintSystem::<Fr>::default();
    let _ = C::configure_with_params(&mut cs, params.clone());
    let fixed = u32::from_le_bytes(head[6..10].try_into().expect("4 bytes")) as u64;
    let perm = cs.permutation().get_columns().len() as u64;
    let selectors = if head[5] == 1 { cs.num_selectors() as u64 * (1u64 << k).div_ceil(8) } else { 0 };
    let vk_len = 10 + (fixed + perm) * point_bytes() + selectors;
    if vk_len > len {
        return Err(invalid(format!(
            "it ends inside the verifying key: {fixed} fixed commitments (bytes 6..10), {perm} permutation commitments \
             and {selectors} bytes of selectors take {vk_len} bytes, the file holds {len}"
        )));
    }
    let mut r = Counted { inner: io::Cursor::new(head).chain(reader.take(len - 10)), read: 0 };
    let vk = VerifyingKey::<G1Affine>::read::<_, C>(&mut r, format, params).map_err(|e| invalid(format!("verifying key: {e}")))?;
    if r.read != vk_len {
        return Err(invalid(format!("its verifying key took {} bytes, {vk_len} expected", r.read)));
    }
    let columns = vk.cs().num_fixed_columns();
    if vk.fixed_commitments().len() != columns {
        return Err(invalid(format!(
            "it holds {} fixed commitments, the circuit has {columns} fixed columns",
            vk.fixed_commitments().len()
        )));
    }
    Ok((vk, r.read))
}

/// Reads a verifying key of circuit `C` (with `params`, at `k`) that takes the whole of `reader`'s `len` bytes.
pub fn read_vk<C: Circuit<Fr>>(
    reader: &mut impl Read,
    len: u64,
    k: u32,
    params: C::Params,
    format: SerdeFormat,
) -> io::Result<VerifyingKey<G1Affine>>
where
    C::Params: Clone,
{
    let (vk, used) = read_vk_part::<C>(reader, len, k, params, format)?;
    if used != len {
        return Err(invalid(format!("{} bytes follow the verifying key (it takes {used} of {len})", len - used)));
    }
    Ok(vk)
}

/// Reads a proving key of circuit `C` (with `params`, at `k`) that takes the whole of `reader`'s `len` bytes: its
/// verifying key first, then every length prefix of the rest is checked (seeking past the coefficients: a proving
/// key runs to gigabytes), then halo2 reads it from the start.
pub fn read_pk<C: Circuit<Fr>>(
    reader: &mut (impl Read + Seek),
    len: u64,
    k: u32,
    params: C::Params,
    format: SerdeFormat,
) -> io::Result<ProvingKey<G1Affine>>
where
    C::Params: Clone,
{
    let start = reader.stream_position()?;
    let (vk, used) = read_vk_part::<C>(reader, len, k, params.clone(), format)?;
    let n = 1u64 << k;
    let poly = 4 + n * scalar_bytes();
    let fixed = vk.cs().num_fixed_columns() as u64;
    let perm = vk.cs().permutation().get_columns().len() as u64;
    // l0, l_last, l_active_row; fixed values and polys; permutation values and polys.
    let want = used + 3 * poly + 2 * (4 + fixed * poly) + 2 * (4 + perm * poly);
    if len != want {
        return Err(invalid(format!(
            "{len} bytes: a proving key of this circuit at k = {k} takes {want} ({} for the verifying key)",
            used
        )));
    }
    let mut at = start + used;
    for what in ["l0", "l_last", "l_active_row"] {
        expect_u32(reader, start, &mut at, &format!("{what}'s length"), n, n * scalar_bytes())?;
    }
    for (vec, count) in [("fixed values", fixed), ("fixed polys", fixed), ("permutation values", perm), ("permutation polys", perm)] {
        expect_u32(reader, start, &mut at, &format!("the number of {vec}"), count, 0)?;
        for i in 0..count {
            expect_u32(reader, start, &mut at, &format!("the length of {vec} {i}"), n, n * scalar_bytes())?;
        }
    }
    reader.seek(SeekFrom::Start(start))?;
    ProvingKey::<G1Affine>::read::<_, C>(&mut (&mut *reader).take(len), format, params)
}

/// Checks the big-endian u32 at `*at` is `value` and moves `*at` past it and `skip` more bytes.
fn expect_u32(reader: &mut (impl Read + Seek), start: u64, at: &mut u64, what: &str, value: u64, skip: u64) -> io::Result<()> {
    reader.seek(SeekFrom::Start(*at))?;
    let mut b = [0u8; 4];
    reader.read_exact(&mut b)?;
    let got = u32::from_be_bytes(b) as u64;
    if got != value {
        return Err(invalid(format!("{what} at byte {}: {got}, expected {value}", *at - start)));
    }
    *at += 4 + skip;
    Ok(())
}
