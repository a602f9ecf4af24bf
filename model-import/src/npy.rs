//! Minimal reader for NumPy `.npy` arrays (little-endian float32 / int64 / int8, C order): test splits and model
//! inputs.

use crate::error::{ImportError, Result};

/// An array's shape and values converted to the requested element type.
pub struct Array<T> {
    pub shape: Vec<usize>,
    pub data: Vec<T>,
}

fn bad(path: &str, why: impl Into<String>) -> ImportError {
    ImportError::BadInput(format!("{path}: {}", why.into()))
}

/// The header's dtype and shape, where the data starts, and the element count. The count is checked against the
/// bytes that follow (every dtype takes at least one byte an element) before anyone allocates for it, so a header
/// claiming 2^40 elements is an error, not an allocation.
fn header(path: &str, bytes: &[u8]) -> Result<(String, Vec<usize>, usize, usize)> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad(path, "not a .npy file"));
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize, 12),
        2 | 3 => return Err(bad(path, "truncated header")),
        v => return Err(bad(path, format!("unsupported .npy version {v}"))),
    };
    let h = std::str::from_utf8(bytes.get(start..start + len).ok_or_else(|| bad(path, "truncated header"))?)
        .map_err(|_| bad(path, "header is not text"))?;
    let field = |key: &str| -> Option<&str> {
        let i = h.find(&format!("'{key}'"))? + key.len() + 2;
        Some(h[i..].trim_start_matches([':', ' ']))
    };
    let descr = field("descr").and_then(|s| s.split('\'').nth(1)).ok_or_else(|| bad(path, "no descr"))?;
    if field("fortran_order").is_some_and(|s| s.starts_with("True")) {
        return Err(bad(path, "Fortran-order arrays are not supported"));
    }
    let shape_s = field("shape").and_then(|s| s.strip_prefix('(')).and_then(|s| s.split(')').next());
    let shape = shape_s
        .ok_or_else(|| bad(path, "no shape"))?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad(path, format!("bad shape entry `{s}`"))))
        .collect::<Result<Vec<_>>>()?;
    let data = bytes.len() - (start + len);
    let n = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= data)
        .ok_or_else(|| bad(path, format!("truncated: shape {shape:?} needs more than the {data} bytes of data the file holds")))?;
    Ok((descr.to_string(), shape, start + len, n))
}

/// Reads a float array; float32 and int8 / uint8 / int64 data are converted.
pub fn read_f32(path: &str) -> Result<Array<f32>> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    let (descr, shape, off, n) = header(path, &bytes)?;
    let body = &bytes[off..];
    let data: Vec<f32> = match descr.as_str() {
        "<f4" => chunks(path, body, 4, n)?.map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect(),
        "|i1" => chunks(path, body, 1, n)?.map(|c| c[0] as i8 as f32).collect(),
        "|u1" => chunks(path, body, 1, n)?.map(|c| c[0] as f32).collect(),
        "<i8" => chunks(path, body, 8, n)?.map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f32).collect(),
        other => return Err(bad(path, format!("dtype {other} (float32, int8, uint8 or int64 expected)"))),
    };
    Ok(Array { shape, data })
}

/// The array's dtype as NumPy writes it (`<f4`, `|i1`, …) and its shape, without reading the data.
pub fn describe(path: &str) -> Result<(String, Vec<usize>)> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    let (descr, shape, _, _) = header(path, &bytes)?;
    Ok((descr, shape))
}

/// Reads an int8 array (already-quantized model inputs).
pub fn read_i8(path: &str) -> Result<Array<i8>> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    let (descr, shape, off, n) = header(path, &bytes)?;
    if descr != "|i1" {
        return Err(bad(path, format!("dtype {descr} (int8 expected)")));
    }
    let data = chunks(path, &bytes[off..], 1, n)?.map(|c| c[0] as i8).collect();
    Ok(Array { shape, data })
}

/// Reads an int64 array (labels).
pub fn read_i64(path: &str) -> Result<Array<i64>> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    parse_i64(path, &bytes)
}

/// [`read_i64`] from the file's bytes (data bundled into a binary).
pub fn read_i64_bytes(bytes: &[u8]) -> Result<Array<i64>> {
    parse_i64("(bundled)", bytes)
}

fn parse_i64(path: &str, bytes: &[u8]) -> Result<Array<i64>> {
    let (descr, shape, off, n) = header(path, bytes)?;
    if descr != "<i8" {
        return Err(bad(path, format!("dtype {descr} (int64 expected)")));
    }
    let data = chunks(path, &bytes[off..], 8, n)?.map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect();
    Ok(Array { shape, data })
}

fn chunks<'a>(path: &str, body: &'a [u8], size: usize, n: usize) -> Result<std::slice::ChunksExact<'a, u8>> {
    match size.checked_mul(n) {
        Some(need) if need <= body.len() => Ok(body[..need].chunks_exact(size)),
        _ => Err(bad(path, format!("truncated: {} bytes of data for {n} elements", body.len()))),
    }
}
