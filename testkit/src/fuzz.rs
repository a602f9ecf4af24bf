//! Shared pieces of the readers' property-based fuzz tests (feature `fuzz`): the proptest configuration, byte-level
//! mutations of a valid seed file (truncation, flips, insertions, removals, huge integers written over length
//! prefixes) and structured mutations of a JSON seed (wrong types, missing and unknown fields, huge and negative
//! numbers, wrong `format` strings).
//!
//! Cases per reader: 10,000 (what CI runs), or `ZKINFER_FUZZ_CASES` for a longer run. The cases come from a fixed
//! seed, so a run is reproducible and a commit's CI result does not depend on luck; `ZKINFER_FUZZ_SEED` (a number,
//! or `random`) explores other cases — a failure found that way gets its own regression test, as the manifest fuzzer's
//! `units = 0` did. Failures are not persisted (no `proptest-regressions/` files in the repository): a failing case
//! is printed, shrunk.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed};
use serde_json::Value;

/// Cases per reader: `ZKINFER_FUZZ_CASES` or 10,000.
pub fn cases() -> u32 {
    std::env::var("ZKINFER_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
}

/// The seed the cases are drawn from: `ZKINFER_FUZZ_SEED` (a number, or `random` for a new seed each run) or a fixed
/// one. Anything else is refused loudly rather than silently falling back.
pub fn seed() -> RngSeed {
    match std::env::var("ZKINFER_FUZZ_SEED") {
        Err(_) => RngSeed::Fixed(0x7a6b_696e_6665_7221),
        Ok(s) if s == "random" => RngSeed::Random,
        Ok(s) => RngSeed::Fixed(s.parse().unwrap_or_else(|_| panic!("ZKINFER_FUZZ_SEED = {s:?}: expected a u64 or `random`"))),
    }
}

/// The configuration every fuzz test runs under: [`cases`] cases from [`seed`], nothing written to disk on failure.
pub fn config() -> Config {
    Config { cases: cases(), rng_seed: seed(), failure_persistence: None, ..Config::default() }
}

/// Integers that break length fields and dimensions: zero, one, around 2^31/2^32, 2^40, 2^60, the maxima.
pub const HUGE: [u64; 10] = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 1 << 32, 1 << 40, 1 << 60, i64::MAX as u64, u64::MAX];

/// One edit of a byte string. Positions are [`Index`]es, so they scale to the seed; `hot` ones pick from the
/// offsets a test names as interesting (length prefixes, headers), where a random position would rarely land.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Keep this fraction (in 1/1000s) of the bytes.
    Truncate(u16),
    Flip { at: Index, hot: bool, mask: u8 },
    Insert { at: Index, bytes: Vec<u8> },
    Remove { at: Index, len: u8 },
    /// Write an integer from [`HUGE`] (or a random one) over 4 or 8 bytes, little- or big-endian.
    Int { at: Index, hot: bool, value: u64, wide: bool, big_endian: bool },
}

fn int() -> impl Strategy<Value = u64> {
    prop_oneof![3 => proptest::sample::select(HUGE.to_vec()), 1 => any::<u64>(), 1 => 0u64..4096]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (0u16..1000).prop_map(Mutation::Truncate),
        3 => (any::<Index>(), any::<bool>(), 1u8..=255).prop_map(|(at, hot, mask)| Mutation::Flip { at, hot, mask }),
        1 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..16)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<Index>(), 1u8..64).prop_map(|(at, len)| Mutation::Remove { at, len }),
        3 => (any::<Index>(), any::<bool>(), int(), any::<bool>(), any::<bool>())
            .prop_map(|(at, hot, value, wide, big_endian)| Mutation::Int { at, hot, value, wide, big_endian }),
    ]
}

/// One to four byte-level edits.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..=4)
}

/// `seed` with `muts` applied in order; `hot` are the offsets hot edits pick from (any offset when empty).
pub fn apply(seed: &[u8], muts: &[Mutation], hot: &[usize]) -> Vec<u8> {
    let mut b = seed.to_vec();
    let pos = |b: &Vec<u8>, at: &Index, is_hot: bool| -> usize {
        if is_hot && !hot.is_empty() {
            hot[at.index(hot.len())]
        } else if b.is_empty() {
            0
        } else {
            at.index(b.len())
        }
    };
    for m in muts {
        match m {
            Mutation::Truncate(keep) => {
                let n = b.len() * *keep as usize / 1000;
                b.truncate(n);
            }
            Mutation::Flip { at, hot, mask } => {
                let i = pos(&b, at, *hot);
                if let Some(x) = b.get_mut(i) {
                    *x ^= mask;
                }
            }
            Mutation::Insert { at, bytes } => {
                let i = pos(&b, at, false).min(b.len());
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Remove { at, len } => {
                let i = pos(&b, at, false).min(b.len());
                let j = (i + *len as usize).min(b.len());
                b.drain(i..j);
            }
            Mutation::Int { at, hot, value, wide, big_endian } => {
                let i = pos(&b, at, *hot);
                let bytes: Vec<u8> = match (wide, big_endian) {
                    (true, false) => value.to_le_bytes().to_vec(),
                    (true, true) => value.to_be_bytes().to_vec(),
                    (false, false) => (*value as u32).to_le_bytes().to_vec(),
                    (false, true) => (*value as u32).to_be_bytes().to_vec(),
                };
                for (k, x) in bytes.into_iter().enumerate() {
                    if let Some(y) = b.get_mut(i + k) {
                        *y = x;
                    }
                }
            }
        }
    }
    b
}

/// A value of the wrong kind (or an edge value of the right one) for a JSON field.
fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        proptest::sample::select(HUGE.to_vec()).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::from(-1)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(1e300)),
        Just(Value::from(-0.5)),
        Just(Value::from(9_007_199_254_740_993u64)),
        Just(Value::from("")),
        Just(Value::from("0x")),
        Just(Value::from(format!("0x{}", "f".repeat(64)))),
        Just(Value::from(format!("0x{}", "0".repeat(63)))),
        Just(Value::from("zkinfer-proof/1")),
        Just(Value::from("zkinfer-keys/1")),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(Value::Array(vec![])),
        Just(Value::Array(vec![Value::Null])),
        Just(Value::Array(vec![Value::from(u64::MAX)])),
        Just(Value::Object(Default::default())),
    ]
}

/// One structured edit of a JSON document; `at` picks the node among all of the document's nodes.
#[derive(Clone, Debug)]
pub enum JsonEdit {
    /// Replace the node (or the `format` field, when `format`) with another value.
    Replace { at: Index, format: bool, value: Value },
    /// Remove the node from its object or array.
    Remove { at: Index },
    /// Add an unknown field to the object (or the nearest one holding the node).
    Unknown { at: Index, value: Value },
    /// Repeat an array's element (or empty the array).
    Duplicate { at: Index, empty: bool },
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        4 => (any::<Index>(), proptest::bool::weighted(0.1), json_value()).prop_map(|(at, format, value)| JsonEdit::Replace { at, format, value }),
        2 => any::<Index>().prop_map(|at| JsonEdit::Remove { at }),
        1 => (any::<Index>(), json_value()).prop_map(|(at, value)| JsonEdit::Unknown { at, value }),
        1 => (any::<Index>(), any::<bool>()).prop_map(|(at, empty)| JsonEdit::Duplicate { at, empty }),
    ]
}

/// One to three JSON edits, and byte mutations of the text the edited document prints to (none in 3 cases of 4, so
/// most cases reach the reader's checks past the JSON parser).
pub fn json_mutations() -> impl Strategy<Value = (Vec<JsonEdit>, Vec<Mutation>)> {
    (
        proptest::collection::vec(json_edit(), 1..=3),
        prop_oneof![3 => Just(vec![]), 1 => mutations()],
    )
}

/// Every node's path (object keys and array positions) in document order.
fn paths(v: &Value, here: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                here.push(PathStep::Key(k.clone()));
                paths(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(PathStep::At(i));
                paths(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    At(usize),
}

fn node<'a>(v: &'a mut Value, path: &[PathStep]) -> &'a mut Value {
    path.iter().fold(v, |v, s| match s {
        PathStep::Key(k) => &mut v[k.as_str()],
        PathStep::At(i) => &mut v[*i],
    })
}

/// `seed` with `edits` applied, printed, then `bytes` applied to the text.
pub fn apply_json(seed: &Value, edits: &[JsonEdit], bytes: &[Mutation]) -> Vec<u8> {
    let mut v = seed.clone();
    for e in edits {
        let mut all = Vec::new();
        paths(&v, &mut Vec::new(), &mut all);
        match e {
            JsonEdit::Replace { format: true, value, .. } if v.get("format").is_some() => v["format"] = value.clone(),
            JsonEdit::Replace { at, value, .. } => *node(&mut v, &all[at.index(all.len())]) = value.clone(),
            JsonEdit::Remove { at } => {
                let path = &all[at.index(all.len())];
                if let Some((last, parent)) = path.split_last() {
                    match (node(&mut v, parent), last) {
                        (Value::Object(m), PathStep::Key(k)) => {
                            m.remove(k);
                        }
                        (Value::Array(a), PathStep::At(i)) => {
                            a.remove(*i);
                        }
                        _ => {}
                    }
                }
            }
            JsonEdit::Unknown { at, value } => {
                let path = &all[at.index(all.len())];
                // The node itself, or its parent, whichever is an object.
                for n in (0..=path.len()).rev() {
                    if let Value::Object(m) = node(&mut v, &path[..n]) {
                        m.insert("unexpected_field".into(), value.clone());
                        break;
                    }
                }
            }
            JsonEdit::Duplicate { at, empty } => {
                let path = &all[at.index(all.len())];
                if let Value::Array(a) = node(&mut v, path) {
                    if *empty {
                        a.clear();
                    } else if let Some(x) = a.first().cloned() {
                        a.push(x);
                    }
                }
            }
        }
    }
    apply(&serde_json::to_vec(&v).expect("a Value prints"), bytes, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn mutations_change_the_seed_and_json_edits_reach_every_kind() {
        let seed: Vec<u8> = (0..64).collect();
        let mut runner = TestRunner::deterministic();
        let mut changed = 0;
        for _ in 0..200 {
            let m = mutations().new_tree(&mut runner).unwrap().current();
            changed += usize::from(apply(&seed, &m, &[0, 8]) != seed);
        }
        assert!(changed > 150, "only {changed} of 200 mutated seeds differ");
        let doc: Value = serde_json::json!({ "format": "x/1", "a": [1, 2], "b": { "c": "d" } });
        let mut differ = 0;
        for _ in 0..200 {
            let (e, b) = json_mutations().new_tree(&mut runner).unwrap().current();
            differ += usize::from(apply_json(&doc, &e, &b) != serde_json::to_vec(&doc).unwrap());
        }
        assert!(differ > 150, "only {differ} of 200 edited documents differ");
    }
}

/// A version-1 .npy file with header dict `header` (padded to 64 bytes as NumPy writes it) and raw `data`: the
/// seed the .npy readers' fuzz tests mutate.
pub fn npy_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    b.extend(data);
    b
}
