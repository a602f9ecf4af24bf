//! End-to-end tests of the `zkinfer` binary on the digits model, proved as a CHAIN of 3 segment proofs: setup →
//! prove (in part files, in parallel processes sharing one opening) → bundle → verify; the rejections a verifier
//! relies on (flipped proof byte, changed public output, another model's keys, another input's commitment) and the
//! chain's own (a link to another tensor, a swapped, dropped or duplicated segment, another model's segment, a wrong
//! salt — each rejected with the segment or link named); retraining (two models of one architecture under ONE setup,
//! with different weights commitments); and every bad-input case exiting non-zero with a message, no panic and no
//! partial output file.
//!
//! Proofs are the expensive part (each digits segment is a k = 17 circuit), so they are made once and shared
//! (OnceLock): the digits proof A of held-out image 0 (three part files, segment 2 by halo2-axiom's stock prover),
//! and single segments or whole proofs only where a test needs a different one: segment 1 of image 1 (same
//! opening), segment 1 of image 0 under another link salt, and the reweighted model's proof of image 0 (same
//! opening). Eight segment proofs in all.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

struct Shared {
    dir: PathBuf,
    /// digits, hidden weights and input, dev SRS, `--segments 3`.
    keys: PathBuf,
    manifest: Value,
    /// The opening every digits / reweighted proof below shares (salts and seeds).
    opening: PathBuf,
    /// Proof A's part files, one per segment (the last by the stock prover).
    parts: Vec<PathBuf>,
    /// Proof A of held-out image 0: the parts bundled.
    proof: PathBuf,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

fn segments(v: &Value) -> &Vec<Value> {
    v["segments"].as_array().expect("a `segments` array")
}

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let dir = process_tempdir().to_path_buf();
        let keys = dir.join("keys");
        ok(&zk(&[
            &"setup", &digits(), &"--dev-srs", &"--seed", &"7", &"--hide", &"weights,input", &"--segments", &"3", &"--out",
            &keys,
        ]));
        let manifest = read_json(&keys.join("manifest.json"));
        let n = segments(&manifest).len();
        assert!(n >= 3, "--segments 3 made a chain of {n}");
        // Every segment proved in its own process, all at once, under one opening that none of them finds: the first
        // creates it, the others read it, so their links meet (checked when the bundle verifies).
        let opening = dir.join("digit0.opening.json");
        let parts: Vec<PathBuf> = (0..n).map(|i| dir.join(format!("digit0.part{i}.json"))).collect();
        let running: Vec<Child> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let (segment, prover) = (i.to_string(), if i + 1 == n { "stock" } else { "zkinfer" });
                zk_spawn(&[
                    &"prove", &digits(), &test_x(), &"--index", &"0", &"--keys", &keys, &"--opening", &opening,
                    &"--segment", &segment, &"--prover", &prover, &"--out", part,
                ])
            })
            .collect();
        for child in running {
            ok(&finish(child));
        }
        let proof = dir.join("digit0.proof.json");
        let mut args: Vec<&dyn AsRef<OsStr>> = vec![&"bundle"];
        args.extend(parts.iter().map(|p| p as &dyn AsRef<OsStr>));
        args.extend([&"--out" as &dyn AsRef<OsStr>, &proof]);
        ok(&zk(&args));
        Shared { dir, keys, manifest, opening, parts, proof }
    })
}

/// Keys of another architecture (the matmul fixture), from the digits setup's SRS file (`--srs`).
fn other_keys() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let s = shared();
        let p = scratch("other-keys");
        let srs = s.keys.join(format!("srs-k{}.params", s.manifest["srs_k"]));
        ok(&zk(&[&"setup", &fixtures().join("matmul_int8.onnx"), &"--srs", &srs, &"--out", &p]));
        p
    })
}

/// Segment 1 of held-out image 1 under proof A's opening: same salts, another tensor at every cut.
fn image1_segment1() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let s = shared();
        let p = scratch("digit1.part1.json");
        ok(&zk(&[
            &"prove", &digits(), &test_x(), &"--index", &"1", &"--keys", &s.keys, &"--opening", &s.opening, &"--segment",
            &"1", &"--out", &p,
        ]));
        p
    })
}

/// Segment 1 of image 0 under proof A's opening with only the link salt changed.
fn other_link_salt_segment1() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let s = shared();
        let mut o = read_json(&s.opening);
        assert_ne!(o["link_seed"], Value::from(other_salt()));
        o["link_seed"] = Value::from(other_salt());
        let opening = scratch("other-link-salt.opening.json");
        write_json(&opening, &o);
        let p = scratch("digit0.other-link-salt.part1.json");
        ok(&zk(&[
            &"prove", &digits(), &test_x(), &"--index", &"0", &"--keys", &s.keys, &"--opening", &opening, &"--segment",
            &"1", &"--out", &p,
        ]));
        p
    })
}

/// The reweighted model's proof of image 0, with the digits keys and proof A's opening (same weights seed).
fn reweighted() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let s = shared();
        let p = scratch("reweighted0.proof.json");
        ok(&zk(&[
            &"prove", &reweighted_model(), &test_x(), &"--index", &"0", &"--keys", &s.keys, &"--opening", &s.opening,
            &"--out", &p,
        ]));
        p
    })
}

fn scratch(name: &str) -> PathBuf {
    shared().dir.join(name)
}

/// Writes an edited proof file and verifies it with the shared keys.
fn verify_edited(name: &str, v: &Value) -> Output {
    let s = shared();
    let p = scratch(name);
    write_json(&p, v);
    zk(&[&"verify", &p, &"--keys", &s.keys])
}

/// Proof A with its `segments` edited.
fn spliced(edit: impl FnOnce(&mut Vec<Value>)) -> Value {
    let mut v = read_json(&shared().proof);
    edit(v["segments"].as_array_mut().unwrap());
    v
}

fn weights_commitment(proof: &Value) -> String {
    proof["public"]["weights_commitment"].as_str().expect("a weights commitment").to_string()
}

#[test]
fn setup_prove_verify_and_commitments_match() {
    let s = shared();
    // The keys: a chain of 3 segments, each naming a key; every key's files and the SRS of its k.
    let n = segments(&s.manifest).len();
    assert_eq!(s.manifest["format"], "zkinfer-keys/2");
    assert_eq!(s.manifest["model"]["digest_of"], "architecture");
    for (i, seg) in segments(&s.manifest).iter().enumerate() {
        let key = seg["key"].as_u64().unwrap() as usize;
        let k = s.manifest["keys"][key]["k"].as_u64().unwrap();
        for f in [format!("key-{key}/pk.bin"), format!("key-{key}/vk.bin"), format!("srs-k{k}.params")] {
            assert!(s.keys.join(&f).is_file() && s.manifest["files"][&f].is_object(), "segment {i}: no {f}");
        }
        if i > 0 {
            assert_eq!(seg["start"], segments(&s.manifest)[i - 1]["end"]);
            assert_eq!(seg["inputs"], segments(&s.manifest)[i - 1]["outputs"]);
        }
    }
    let out = ok(&zk(&[&"verify", &s.proof, &"--keys", &s.keys]));
    assert!(out.contains("verified: 3 segment proof(s)"), "{out}");
    let v = ok_json(&zk(&[&"--json", &"verify", &s.proof, &"--keys", &s.keys]));
    assert_eq!(v["verified"], true);
    assert_eq!(v["segments"], n);
    assert_eq!(v["pairings"], 1, "one final pairing for the whole chain");
    // The prediction is the integer reference's on that image (label 2 for held-out image 0).
    assert_eq!(v["public"]["predicted_class"], 2);
    assert_eq!(v["public"]["output"].as_array().unwrap().len(), 10);
    // The proof file: format 2, one entry per segment in order, the parts' public values.
    let proof = read_json(&s.proof);
    assert_eq!(proof["format"], "zkinfer-proof/2");
    assert_eq!(proof["model_digest"], s.manifest["model"]["digest"]);
    for (i, seg) in segments(&proof).iter().enumerate() {
        assert_eq!(seg["segment"], i);
        assert!(seg["weights_commitment"].is_string() && seg["proof"].as_str().unwrap().len() > 1000);
    }
    for part in &s.parts {
        assert_eq!(read_json(part)["public"], proof["public"], "the parts share one opening and input");
    }
    // The opening the parts created together holds every seed these keys use.
    let o = read_json(&s.opening);
    for f in ["input_salt", "weights_seed", "link_seed"] {
        assert!(o[f].is_string(), "opening: no {f}");
    }
    // commit recomputes the same commitments natively: the weights over the keys' chain with the opening's seed.
    let w = ok_json(&zk(&[&"--json", &"commit", &digits(), &"--keys", &s.keys, &"--opening", &s.opening]));
    assert_eq!(w["commitment"], proof["public"]["weights_commitment"]);
    fails(&zk(&[&"commit", &digits()]), "--keys");
    fails(&zk(&[&"commit", &digits(), &"--keys", &s.keys]), "--opening");
    let i = ok_json(&zk(&[
        &"--json", &"commit", &test_x(), &"--index", &"0", &"--model", &digits(), &"--opening", &s.opening,
    ]));
    assert_eq!(i["commitment"], proof["public"]["input_commitment"]);
    // Without the salt the commitment is a different value: the opening matters.
    let unsalted = ok_json(&zk(&[&"--json", &"commit", &test_x(), &"--index", &"0", &"--model", &digits()]));
    assert_ne!(unsalted["commitment"], proof["public"]["input_commitment"]);
}

#[test]
fn part_files_bundle_and_segment_flags() {
    let s = shared();
    let n = s.parts.len();
    // A part file alone is not a proof.
    fails(&zk(&[&"verify", &s.parts[0], &"--keys", &s.keys]), "join parts with `zkinfer bundle`");
    fails(&zk(&[&"verify", &s.parts[1], &"--keys", &s.keys]), "position 0 holds segment 1");
    // Parts join in any order.
    let joined = scratch("joined-any-order.json");
    let mut args: Vec<&dyn AsRef<OsStr>> = vec![&"bundle"];
    args.extend(s.parts.iter().rev().map(|p| p as &dyn AsRef<OsStr>));
    args.extend([&"--out" as &dyn AsRef<OsStr>, &joined]);
    assert!(ok(&zk(&args)).contains(&format!("({n} segments)")));
    ok(&zk(&[&"verify", &joined, &"--keys", &s.keys]));
    // A duplicated part, and a part of another input (other public values), are refused; nothing is written.
    let out = scratch("bad-bundle.json");
    fails(&zk(&[&"bundle", &s.parts[0], &s.parts[1], &s.parts[1], &"--out", &out]), "segment 1 appears in more than one part");
    fails(&zk(&[&"bundle", &s.parts[0], &image1_segment1(), &"--out", &out]), "other public values");
    fails(&zk(&[&"bundle", &"--out", &out]), "give the part files");
    fails(&zk(&[&"bundle", &s.parts[0], &scratch("no-such-part.json"), &"--out", &out]), "does not exist");
    assert!(!out.exists(), "a refused bundle was written");
    // --segment out of the chain, or without the opening every part must share: refused before any proving.
    let (part, model, x) = (scratch("bad.part.json"), digits(), test_x());
    let prove = |extra: &[&dyn AsRef<OsStr>]| {
        let mut args: Vec<&dyn AsRef<OsStr>> =
            vec![&"prove", &model, &x, &"--index", &"0", &"--keys", &s.keys, &"--out", &part];
        args.extend_from_slice(extra);
        zk(&args)
    };
    fails(&prove(&[&"--segment", &"5", &"--opening", &s.opening]), "--segment 5: the keys' chain has 3 segment(s)");
    fails(&prove(&[&"--segment", &"0"]), "--segment needs --opening");
    assert!(!part.exists() && !scratch("bad.part.json.opening.json").exists(), "a refused prove wrote a file");
}

#[test]
fn flipped_proof_byte_is_rejected() {
    let s = shared();
    let v = read_json(&s.proof);
    for i in 0..segments(&v).len() {
        let hex = segments(&v)[i]["proof"].as_str().unwrap().to_string();
        for pos in [10usize, hex.len() / 2, hex.len() - 3] {
            let mut bytes = hex.clone().into_bytes();
            bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
            let mut w = v.clone();
            w["segments"][i]["proof"] = Value::String(String::from_utf8(bytes).unwrap());
            fails(&verify_edited(&format!("flipped{i}-{pos}.json"), &w), &format!("rejected: segment {i}'s proof"));
        }
    }
    // A raw byte flipped anywhere in what the proof covers (everything before the informational `info`) is refused
    // one way or another: unparsable JSON, a public value or commitment that changed, or proof bytes that changed.
    let raw = std::fs::read(&s.proof).unwrap();
    let covered = String::from_utf8_lossy(&raw).find("\"info\"").unwrap();
    for pos in (1..covered).step_by(covered / 30 + 1) {
        let mut b = raw.clone();
        b[pos] ^= 0x01;
        let p = scratch(&format!("raw{pos}.json"));
        std::fs::write(&p, b).unwrap();
        let out = zk(&[&"verify", &p, &"--keys", &s.keys]);
        assert!(!out.status.success(), "byte {pos} flipped, still verified");
    }
}

#[test]
fn changed_public_output_is_rejected() {
    let s = shared();
    let last = s.parts.len() - 1;
    let mut v = read_json(&s.proof);
    let class = v["public"]["predicted_class"].as_u64().unwrap() as usize;
    // Lower a logit that is not the maximum, so the claimed class stays consistent: only the proof of the last
    // segment (which binds the public output) can catch it.
    let out = v["public"]["output"].as_array_mut().unwrap();
    let j = (class + 1) % out.len();
    let x = out[j].as_i64().unwrap();
    out[j] = Value::from(if x > -128 { x - 1 } else { x + 1 });
    fails(&verify_edited("changed-output.json", &v), &format!("rejected: segment {last}'s proof"));
    // A claimed class that is not the output's argmax is refused before the proof is checked.
    let mut v = read_json(&s.proof);
    v["public"]["predicted_class"] = Value::from((class + 1) % 10);
    fails(&verify_edited("changed-class.json", &v), "predicted_class");
}

#[test]
fn another_models_keys_are_rejected() {
    let (s, other_keys) = (shared(), other_keys());
    let other = read_json(&other_keys.join("manifest.json"));
    assert_ne!(other["model"]["digest"], s.manifest["model"]["digest"], "another architecture, another digest");
    fails(&zk(&[&"verify", &s.proof, &"--keys", &other_keys]), "another model");
    // Relabelled as the other model's proof: its chain and public values no longer fit those keys.
    let mut v = read_json(&s.proof);
    v["model_digest"] = other["model"]["digest"].clone();
    let p = scratch("relabelled.json");
    write_json(&p, &v);
    fails(&zk(&[&"verify", &p, &"--keys", &other_keys]), "rejected");
    // The other model's vk swapped into our keys: refused by its digest; with the manifest fixed up to match (the
    // key's entry, digest and SRS), the proof fails that vk.
    let swapped = scratch("swapped-keys");
    link_keys(&s.keys, &swapped);
    std::fs::remove_file(swapped.join("key-0/vk.bin")).unwrap();
    std::fs::copy(other_keys.join("key-0/vk.bin"), swapped.join("key-0/vk.bin")).unwrap();
    fails(&zk(&[&"verify", &s.proof, &"--keys", &swapped]), "key-0/vk.bin is corrupt or from another setup");
    let mut m = s.manifest.clone();
    m["files"]["key-0/vk.bin"] = other["files"]["key-0/vk.bin"].clone();
    m["keys"][0] = other["keys"][0].clone();
    let srs = format!("srs-k{}.params", other["keys"][0]["k"]);
    if !swapped.join(&srs).exists() {
        std::fs::copy(other_keys.join(&srs), swapped.join(&srs)).unwrap();
        m["files"][&srs] = other["files"][&srs].clone();
    }
    // (Removed first: it is a hard link to the shared keys' manifest.)
    std::fs::remove_file(swapped.join("manifest.json")).unwrap();
    write_json(&swapped.join("manifest.json"), &m);
    fails(&zk(&[&"verify", &s.proof, &"--keys", &swapped]), "rejected: segment 0's proof does not verify");
    // A model of another architecture cannot be proved with these keys.
    let out = scratch("other-model.proof.json");
    fails(
        &zk(&[&"prove", &fixtures().join("matmul_int8.onnx"), &test_x(), &"--keys", &s.keys, &"--out", &out]),
        "not the model the keys",
    );
    assert!(!out.exists());
}

#[test]
fn stock_prover_segment_and_another_inputs_commitment() {
    let s = shared();
    // Proof A's last segment was made by halo2-axiom's stock prover, the others by zkinfer's: one chain, accepted.
    let n = s.parts.len();
    for (i, p) in s.parts.iter().enumerate() {
        assert_eq!(read_json(p)["info"]["prover"], if i + 1 == n { "stock" } else { "zkinfer" });
    }
    ok(&zk(&[&"verify", &s.proof, &"--keys", &s.keys]));
    // Proof A presented with image 1's input commitment under A's own salt (what `commit` prints): rejected.
    let c = ok_json(&zk(&[
        &"--json", &"commit", &test_x(), &"--index", &"1", &"--model", &digits(), &"--opening", &s.opening,
    ]));
    let mut v = read_json(&s.proof);
    v["public"]["input_commitment"] = c["commitment"].clone();
    fails(&verify_edited("other-input.json", &v), "rejected: segment 0 was proved on another input");
    // ... and with segment 0's entering commitment changed to match: segment 0's proof fails.
    v["segments"][0]["inputs"][0] = c["commitment"].clone();
    fails(&verify_edited("other-input-2.json", &v), "rejected: segment 0's proof");
    // Image 0's own commitment under another input salt (a wrong salt at the model input).
    let c = ok_json(&zk(&[
        &"--json", &"commit", &test_x(), &"--index", &"0", &"--model", &digits(), &"--salt", &other_salt(),
    ]));
    let mut v = read_json(&s.proof);
    v["public"]["input_commitment"] = c["commitment"].clone();
    fails(&verify_edited("other-input-salt.json", &v), "rejected: segment 0 was proved on another input");
}

#[test]
fn link_to_another_tensor_is_rejected() {
    // Segment 1 proved on image 1 (same opening, so every salt is equal): it entered another tensor than the one
    // segment 0 produced on image 0.
    let b = read_json(image1_segment1());
    assert_eq!(segments(&b).len(), 1);
    assert_eq!(segments(&b)[0]["segment"], 1);
    let a = read_json(&shared().proof);
    assert_ne!(b["public"]["input_commitment"], a["public"]["input_commitment"]);
    assert_eq!(b["public"]["weights_commitment"], a["public"]["weights_commitment"]);
    let mut v = spliced(|segs| segs[1] = segments(&b)[0].clone());
    fails(&verify_edited("link-a.json", &v), "rejected: link 0 → 1 (tensor 'r1_QuantizeLinear_Output') is broken");
    // With image 1's public values (input commitment and output) instead: still the link.
    v["public"] = b["public"].clone();
    fails(&verify_edited("link-b.json", &v), "rejected: link 0 → 1");
}

#[test]
fn swapped_dropped_and_duplicated_segments_are_rejected() {
    let renumber = |segs: &mut Vec<Value>| {
        for (i, s) in segs.iter_mut().enumerate() {
            s["segment"] = Value::from(i);
        }
    };
    // Swapped, as they are: the order check.
    let v = spliced(|segs| segs.swap(1, 2));
    fails(&verify_edited("swap12.json", &v), "rejected: position 1 holds segment 2");
    // Swapped and renumbered 0, 1, 2: the commitments and links must catch it.
    let v = spliced(|segs| {
        segs.swap(1, 2);
        renumber(segs);
    });
    fails(&verify_edited("swap12-renumbered.json", &v), "rejected: segment 1: output 0: the commitment is missing");
    let v = spliced(|segs| {
        segs.swap(0, 1);
        renumber(segs);
    });
    fails(&verify_edited("swap01-renumbered.json", &v), "rejected: link 0 → 1");
    // Dropped: in the middle, at the end, renumbered.
    let v = spliced(|segs| {
        segs.remove(1);
    });
    fails(&verify_edited("drop1.json", &v), "rejected: position 1 holds segment 2");
    let v = spliced(|segs| {
        segs.pop();
    });
    fails(&verify_edited("drop-last.json", &v), "rejected: the proof holds 2 segment(s), the keys' chain has 3 (a dropped segment");
    let v = spliced(|segs| {
        segs.remove(1);
        renumber(segs);
    });
    fails(&verify_edited("drop1-renumbered.json", &v), "rejected: the proof holds 2 segment(s)");
    // Duplicated: in place of another, renumbered, and appended.
    let v = spliced(|segs| segs[2] = segs[1].clone());
    fails(&verify_edited("dup1.json", &v), "rejected: position 2 holds segment 1");
    let v = spliced(|segs| {
        segs[2] = segs[1].clone();
        renumber(segs);
    });
    fails(&verify_edited("dup1-renumbered.json", &v), "rejected: segment 2: output 0");
    let v = spliced(|segs| segs.push(segs[2].clone()));
    fails(&verify_edited("dup-appended.json", &v), "rejected: position 3 holds segment 2");
    let v = spliced(|segs| {
        segs.push(segs[2].clone());
        renumber(segs);
    });
    fails(&verify_edited("dup-appended-renumbered.json", &v), "rejected: the proof holds 4 segment(s), the keys' chain has 3");
}

#[test]
fn another_models_segment_is_rejected() {
    // The reweighted model (same architecture, same keys) proved on the same input under the same opening: its
    // segment 1 entered the tensor ITS segment 0 produced, not digits'.
    let r = read_json(reweighted());
    let v = spliced(|segs| segs[1] = segments(&r)[1].clone());
    fails(&verify_edited("other-model-seg1.json", &v), "rejected: link 0 → 1");
    let v = spliced(|segs| segs[2] = segments(&r)[2].clone());
    fails(&verify_edited("other-model-seg2.json", &v), "rejected: link 1 → 2");
    // Every segment the reweighted model's (its links whole), under digits' public values: the segments' weights
    // commitments do not hash to the claimed one.
    let mut v = r.clone();
    v["public"] = read_json(&shared().proof)["public"].clone();
    fails(&verify_edited("other-model-all.json", &v), "rejected: the segments' weights commitments do not hash");
    // Digits' segments claiming the reweighted model's weights commitment.
    let mut v = read_json(&shared().proof);
    v["public"]["weights_commitment"] = r["public"]["weights_commitment"].clone();
    fails(&verify_edited("other-model-claim.json", &v), "rejected: the segments' weights commitments do not hash");
}

#[test]
fn wrong_link_salt_is_rejected() {
    // Segment 1 of the same image under another link salt (weights seed and input salt kept): only the salt of
    // its cuts differs, and the link says so.
    let w = read_json(other_link_salt_segment1());
    let a = read_json(&shared().proof);
    assert_eq!(w["public"], a["public"], "only the link salt changed");
    assert_eq!(segments(&w)[0]["weights_commitment"], segments(&a)[1]["weights_commitment"]);
    assert_ne!(segments(&w)[0]["inputs"], segments(&a)[1]["inputs"]);
    let v = spliced(|segs| segs[1] = segments(&w)[0].clone());
    fails(&verify_edited("wrong-salt.json", &v), "rejected: link 0 → 1");
    // The salt of one side edited to match the other: that segment's proof fails.
    let v = spliced(|segs| {
        segs[1] = segments(&w)[0].clone();
        segs[1]["inputs"] = segments(&a)[1]["inputs"].clone();
        segs[1]["outputs"] = segments(&a)[1]["outputs"].clone();
    });
    fails(&verify_edited("wrong-salt-edited.json", &v), "rejected: segment 1's proof");
}

#[test]
fn retraining_one_setup_two_weights_commitments() {
    let s = shared();
    let r_path = reweighted();
    let (a, r) = (read_json(&s.proof), read_json(r_path));
    // One setup: the reweighted model proves and verifies with the digits keys.
    assert_eq!(r["model_digest"], a["model_digest"]);
    ok(&zk(&[&"verify", &r_path, &"--keys", &s.keys]));
    let (wa, wr) = (weights_commitment(&a), weights_commitment(&r));
    // Under the same opening (same weights seed) the two models' weights commitments differ.
    assert_ne!(wa, wr);
    for i in 0..segments(&a).len() {
        assert_ne!(segments(&a)[i]["weights_commitment"], segments(&r)[i]["weights_commitment"], "segment {i}");
    }
    // `commit` prints each model's: digits' (text output) and the reweighted one's.
    let out = ok(&zk(&[&"commit", &digits(), &"--keys", &s.keys, &"--opening", &s.opening]));
    assert!(out.contains(&wa), "{out}");
    let c = ok_json(&zk(&[&"--json", &"commit", &reweighted_model(), &"--keys", &s.keys, &"--opening", &s.opening]));
    assert_eq!(c["commitment"], Value::from(wr.clone()));
    // Under another weights seed they differ again (from each other and from both above).
    let seeded = |model: &Path| -> String {
        let c = ok_json(&zk(&[&"--json", &"commit", &model, &"--keys", &s.keys, &"--salt", &other_salt()]));
        c["commitment"].as_str().unwrap().to_string()
    };
    let (wa2, wr2) = (seeded(&digits()), seeded(&reweighted_model()));
    for x in [&wa, &wr, &wa2] {
        assert_ne!(&wr2, x);
    }
    assert_ne!(wa2, wa);
    fails(&zk(&[&"commit", &fixtures().join("matmul_int8.onnx"), &"--keys", &s.keys, &"--opening", &s.opening]), "architecture");
    // A proof under one weights commitment does not verify under the other's.
    fails(
        &zk(&[&"verify", &r_path, &"--keys", &s.keys, &"--weights-commitment", &wa]),
        "rejected: the proof is under another weights commitment than --weights-commitment",
    );
    fails(&zk(&[&"verify", &s.proof, &"--keys", &s.keys, &"--weights-commitment", &wr]), "another weights commitment");
    ok(&zk(&[&"verify", &r_path, &"--keys", &s.keys, &"--weights-commitment", &wr]));
    ok(&zk(&[&"verify", &s.proof, &"--keys", &s.keys, &"--weights-commitment", &wa]));
    fails(&zk(&[&"verify", &s.proof, &"--keys", &s.keys, &"--weights-commitment", &"0x12"]), "--weights-commitment");
}

#[test]
fn bad_models_fail_cleanly() {
    let missing = fixtures().join("no_such_model.onnx");
    fails(&zk(&[&"inspect", &missing]), "does not exist");
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.onnx");
    let bytes = std::fs::read(digits()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    fails(&zk(&[&"inspect", &truncated]), "truncated.onnx");
    let out = dir.path().join("keys");
    fails(&zk(&[&"setup", &truncated, &"--dev-srs", &"--out", &out]), "cannot import");
    assert!(!out.exists(), "setup left a keys directory behind");
    fails(&zk(&[&"inspect", &fixtures().join("errors/unsupported_op.onnx")]), "unsupported operator");
    fails(&zk(&[&"setup", &fixtures().join("errors/grouped_conv.onnx"), &"--dev-srs", &"--out", &out]), "grouped_conv");
    assert!(!out.exists());
    // Too big: a layer beyond the memory budget even split by channels is refused (raise --memory); a chain within
    // the budget but beyond this machine's memory (one k = 23 segment) is refused before any work, unless --force.
    let big = fixtures().join("mobilenet_v2_0.75_192_int8.onnx");
    fails(&zk(&[&"inspect", &big, &"--memory", &"0.5"]), "raise --memory");
    fails(&zk(&[&"inspect", &big, &"--memory", &"100000"]), "refusing");
    ok(&zk(&[&"inspect", &big, &"--memory", &"100000", &"--force"]));
    // --srs that is not a params file; a budget that makes no sense.
    fails(&zk(&[&"setup", &digits(), &"--srs", &digits(), &"--out", &out]), "not a halo2 KZG params file");
    fails(&zk(&[&"setup", &digits(), &"--dev-srs", &"--segments", &"0", &"--out", &out]), "--segments 0");
    fails(&zk(&[&"setup", &digits(), &"--dev-srs", &"--max-k", &"0", &"--out", &out]), "--max-k 0");
    assert!(!out.exists());
}

#[test]
fn bad_inputs_fail_without_touching_the_output() {
    let s = shared();
    let out = scratch("bad-input.proof.json");
    std::fs::write(&out, b"previous contents").unwrap();
    let model = digits();
    let prove = |input: &Path, extra: &[&str]| {
        let mut args: Vec<&dyn AsRef<OsStr>> = vec![&"prove", &model, &input, &"--keys", &s.keys, &"--out", &out];
        let owned: Vec<String> = extra.iter().map(|e| e.to_string()).collect();
        for e in &owned {
            args.push(e);
        }
        zk(&args)
    };
    let dir = tempfile::tempdir().unwrap();
    let npy = |name: &str, descr: &str, shape: &str, data: &[u8]| -> PathBuf {
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        let b = zkinfer_testkit::fuzz::npy_bytes(&header, data);
        let p = dir.path().join(name);
        std::fs::write(&p, b).unwrap();
        p
    };
    let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    fails(&prove(&dir.path().join("missing.npy"), &[]), "does not exist");
    fails(&prove(&npy("shape.npy", "<f4", "(1, 1, 7, 7)", &f32s(&[0.5; 49])), &[]), "shape");
    fails(&prove(&test_x(), &[]), "--index");
    fails(&prove(&test_x(), &["--index", "360"]), "out of range");
    fails(&prove(&fixtures().join("digits_test_y.npy"), &[]), "dtype <i8");
    fails(&prove(&npy("range.npy", "<f4", "(1, 1, 8, 8)", &f32s(&[5.0; 64])), &[]), "outside the range");
    fails(&prove(&npy("nan.npy", "<f4", "(1, 1, 8, 8)", &f32s(&[f32::NAN; 64])), &[]), "outside the range");
    fails(&prove(&npy("short.npy", "<f4", "(1, 1, 8, 8)", &f32s(&[0.5; 10])), &[]), "truncated");
    let garbage = dir.path().join("garbage.png");
    std::fs::write(&garbage, b"not an image").unwrap();
    fails(&prove(&garbage, &[]), "garbage.png");
    fails(&prove(&digits(), &[]), "unsupported file type");
    fails(&prove(&test_x(), &["--index", "0", "--hide", "weights"]), "does not match the keys");
    // Openings that cannot be proved under: not an opening, one without the link seed a chain needs, one whose
    // input salt is not --input-salt. None of them is changed.
    let bad_opening = dir.path().join("garbage.opening.json");
    std::fs::write(&bad_opening, b"not json").unwrap();
    let bad = bad_opening.to_str().unwrap();
    fails(&prove(&test_x(), &["--index", "0", "--opening", bad]), "not a zkinfer opening file");
    assert_eq!(std::fs::read(&bad_opening).unwrap(), b"not json");
    let mut o = read_json(&s.opening);
    o.as_object_mut().unwrap().remove("link_seed");
    let no_link = dir.path().join("no-link.opening.json");
    write_json(&no_link, &o);
    fails(&prove(&test_x(), &["--index", "0", "--opening", no_link.to_str().unwrap()]), "holds no link_seed");
    let opening = s.opening.to_str().unwrap();
    fails(&prove(&test_x(), &["--index", "0", "--opening", opening, "--input-salt", &other_salt()]), "--input-salt differs");
    // The model must be the one the keys were made for.
    let (other, x) = (fixtures().join("matmul_int8.onnx"), test_x());
    fails(&zk(&[&"prove", &other, &x, &"--index", &"0", &"--keys", &s.keys, &"--out", &out]), "not the model the keys");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous contents", "a failed prove touched the output file");
    assert!(!scratch("bad-input.proof.json.opening.json").exists(), "a failed prove wrote an opening");
}

/// Hard-links every file of a keys directory (key-N/ included) into `dst`: no 400 MB proving key copied per case.
/// Remove a file before writing it anew: writing through the link would change the shared keys.
fn link_keys(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            link_keys(&e.path(), &to);
        } else {
            std::fs::hard_link(e.path(), &to).or_else(|_| std::fs::copy(e.path(), &to).map(|_| ())).unwrap();
        }
    }
}

/// Copies the shared keys and damages one file (written anew, so the shared keys are untouched).
fn damaged_keys(name: &str, file: &str, damage: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let s = shared();
    let dir = scratch(name);
    link_keys(&s.keys, &dir);
    let mut b = std::fs::read(s.keys.join(file)).unwrap();
    damage(&mut b);
    std::fs::remove_file(dir.join(file)).unwrap();
    std::fs::write(dir.join(file), b).unwrap();
    dir
}

#[test]
fn corrupt_keys_and_proofs_fail_cleanly() {
    let s = shared();
    let out = scratch("corrupt.proof.json");
    // Segment 0's key is loaded first: a damaged one stops prove before any proving.
    let prove = |keys: &Path| zk(&[&"prove", &digits(), &test_x(), &"--index", &"0", &"--keys", &keys, &"--out", &out]);
    let flip = |b: &mut Vec<u8>| {
        let i = b.len() / 2;
        b[i] ^= 0x40
    };
    let cut = |b: &mut Vec<u8>| b.truncate(b.len() / 3);
    let key0 = s.manifest["segments"][0]["key"].as_u64().unwrap();
    let pk = format!("key-{key0}/pk.bin");
    let srs = format!("srs-k{}.params", s.manifest["keys"][key0 as usize]["k"]);
    fails(&prove(&damaged_keys("pk-flip", &pk, flip)), &format!("{pk} is corrupt"));
    fails(&prove(&damaged_keys("pk-cut", &pk, cut)), &format!("{pk} is corrupt"));
    fails(&prove(&damaged_keys("srs-flip", &srs, flip)), &format!("{srs} is corrupt"));
    fails(&prove(&damaged_keys("manifest-cut", "manifest.json", cut)), "manifest");
    fails(&prove(&scratch("no-such-keys")), "does not exist");
    // A manifest whose chain does not meet at its cuts, and one of an older format.
    let mut m = s.manifest.clone();
    m["segments"][1]["start"] = Value::from(m["segments"][1]["start"].as_u64().unwrap() + 1);
    let broken = damaged_keys("manifest-chain", "manifest.json", |b| *b = serde_json::to_vec(&m).unwrap());
    fails(&prove(&broken), "segments 0 and 1 do not meet at one cut");
    fails(&zk(&[&"verify", &s.proof, &"--keys", &broken]), "inconsistent");
    let mut m = s.manifest.clone();
    m["format"] = Value::from("zkinfer-keys/1");
    let old = damaged_keys("manifest-old", "manifest.json", |b| *b = serde_json::to_vec(&m).unwrap());
    fails(&prove(&old), "run `zkinfer setup` again");
    assert!(!out.exists(), "a failed prove left a proof file");
    assert!(!scratch("corrupt.proof.json.opening.json").exists(), "a failed prove left an opening");
    // Every segment's vk is checked: the last one's damaged, or missing.
    let last = segments(&s.manifest).len() - 1;
    let vk = format!("key-{}/vk.bin", s.manifest["segments"][last]["key"]);
    let vk_flip = damaged_keys("vk-flip", &vk, flip);
    fails(&zk(&[&"verify", &s.proof, &"--keys", &vk_flip]), &format!("{vk} is corrupt"));
    let vk_cut = damaged_keys("vk-cut", &vk, cut);
    fails(&zk(&[&"verify", &s.proof, &"--keys", &vk_cut]), &format!("{vk} is corrupt"));
    std::fs::remove_file(vk_cut.join(&vk)).unwrap();
    fails(&zk(&[&"verify", &s.proof, &"--keys", &vk_cut]), &format!("cannot read {}", vk_cut.join(&vk).display()));
    // Proof files: truncated, not JSON, missing, of an older format.
    let raw = std::fs::read(&s.proof).unwrap();
    let p = scratch("truncated.proof.json");
    std::fs::write(&p, &raw[..raw.len() / 2]).unwrap();
    fails(&zk(&[&"verify", &p, &"--keys", &s.keys]), "not a zkinfer proof file");
    std::fs::write(&p, b"\x00\x01garbage").unwrap();
    fails(&zk(&[&"verify", &p, &"--keys", &s.keys]), "not a zkinfer proof file");
    fails(&zk(&[&"verify", &scratch("none.json"), &"--keys", &s.keys]), "does not exist");
    let mut v = read_json(&s.proof);
    v["format"] = Value::from("zkinfer-proof/1");
    fails(&verify_edited("old-format.json", &v), "format `zkinfer-proof/1`");
    let mut v = read_json(&s.proof);
    v["segments"][1]["proof"] = Value::from("zz");
    fails(&verify_edited("bad-hex.json", &v), "rejected: segment 1: the proof field is not valid hex");
    // Setup refuses to overwrite keys without --force.
    fails(&zk(&[&"setup", &digits(), &"--dev-srs", &"--out", &s.keys]), "--force");
}

/// A hostile keys directory: a file damaged AND the manifest's size and digest updated to match, so the damage gets
/// past the digest check to the readers themselves. Each must refuse it from its lengths (never a panic, never an
/// allocation of what a length claims), name the file, and leave `prove`'s output untouched.
fn hostile_keys(name: &str, file: &str, damage: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let dir = damaged_keys(name, file, damage);
    let bytes = std::fs::read(dir.join(file)).unwrap();
    let mut m = read_json(&dir.join("manifest.json"));
    m["files"][file] = serde_json::json!({
        "bytes": bytes.len(),
        "blake2b": blake2b_simd::Params::new().hash_length(32).hash(&bytes).to_hex().to_string(),
    });
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    write_json(&dir.join("manifest.json"), &m);
    dir
}

#[test]
fn hostile_keys_with_matching_digests_fail_cleanly() {
    let s = shared();
    let out = scratch("hostile.proof.json");
    std::fs::write(&out, b"previous contents").unwrap();
    let prove = |keys: &Path| zk(&[&"prove", &digits(), &test_x(), &"--index", &"0", &"--keys", &keys, &"--out", &out]);
    let key0 = s.manifest["segments"][0]["key"].as_u64().unwrap();
    let (pk, vk) = (format!("key-{key0}/pk.bin"), format!("key-{key0}/vk.bin"));
    let srs = format!("srs-k{}.params", s.manifest["keys"][key0 as usize]["k"]);
    // The proving key's first polynomial claims 2^32 − 1 coefficients (halo2 would reserve 128 GiB for them): its
    // length prefix follows the verifying key the proving key starts with.
    let at = std::fs::metadata(s.keys.join(&vk)).unwrap().len() as usize;
    let keys = hostile_keys("hostile-pk", &pk, |b| b[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes()));
    let o = prove(&keys);
    fails(&o, &format!("{} is not a valid key file", keys.join(&pk).display()));
    fails(&o, "l0's length at byte");
    // Cut short: the length no longer fits the circuit.
    let keys = hostile_keys("hostile-pk-cut", &pk, |b| b.truncate(b.len() - 1000));
    fails(&prove(&keys), &format!("{} is not a valid key file", keys.join(&pk).display()));
    // An SRS whose header claims k = 40 (2^40 points).
    let keys = hostile_keys("hostile-srs", &srs, |b| b[..4].copy_from_slice(&40u32.to_le_bytes()));
    fails(&prove(&keys), &format!("{} is not a valid key file for this circuit: its header says k = 40", keys.join(&srs).display()));
    // A verifying key of another k; a manifest asking for a million advice columns.
    let keys = hostile_keys("hostile-vk", &vk, |b| b[1..5].copy_from_slice(&25u32.to_le_bytes()));
    fails(&zk(&[&"verify", &s.proof, &"--keys", &keys]), "it is a key for k = 25");
    let mut m = s.manifest.clone();
    m["keys"][0]["shape"]["width"] = Value::from(1u64 << 20);
    let keys = damaged_keys("hostile-shape", "manifest.json", |b| *b = serde_json::to_vec(&m).unwrap());
    fails(&prove(&keys), "width = 1048576");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous contents", "a failed prove touched the output file");
    assert!(!scratch("hostile.proof.json.opening.json").exists(), "a failed prove wrote an opening");
    // setup --srs with a ceremony file claiming k = 40: refused from its header, no keys directory left.
    let ceremony = scratch("k40.params");
    let mut b = std::fs::read(s.keys.join(&srs)).unwrap();
    b[..4].copy_from_slice(&40u32.to_le_bytes());
    std::fs::write(&ceremony, b).unwrap();
    let new_keys = scratch("hostile-setup");
    fails(&zk(&[&"setup", &digits(), &"--srs", &ceremony, &"--out", &new_keys]), "k = 40");
    assert!(!new_keys.exists(), "a failed setup left a keys directory");
}

#[test]
fn images_are_resized_and_normalised() {
    let dir = tempfile::tempdir().unwrap();
    // Held-out image 0, drawn at 32x32 (ink bright), as PNG and JPEG, plus an RGB PNG.
    let x = zkinfer_test_x0();
    let big = image::GrayImage::from_fn(32, 32, |c, r| image::Luma([(x[(r / 4 * 8 + c / 4) as usize] * 255.0) as u8]));
    let png = dir.path().join("digit.png");
    let jpg = dir.path().join("digit.jpg");
    let rgb = dir.path().join("digit-rgb.png");
    big.save(&png).unwrap();
    image::DynamicImage::ImageLuma8(big.clone()).to_rgb8().save(&jpg).unwrap();
    image::DynamicImage::ImageLuma8(big).to_rgb8().save(&rgb).unwrap();
    let commit = |p: &Path| -> String {
        let v = ok_json(&zk(&[&"--json", &"commit", &p, &"--model", &digits()]));
        v["commitment"].as_str().unwrap().to_string()
    };
    let (a, b, c) = (commit(&png), commit(&jpg), commit(&rgb));
    // Gray and RGB versions of the same picture become the same model input.
    assert_eq!(a, c);
    assert!(b.starts_with("0x"));
    // The digits model takes any image (converted to gray), but an image on a model without an NCHW image input is
    // refused.
    fails(&zk(&[&"commit", &png, &"--model", &fixtures().join("matmul_int8.onnx")]), "images need an NCHW input");
}

/// Held-out image 0 of the digits split, floats in [0, 1].
fn zkinfer_test_x0() -> Vec<f32> {
    let b = std::fs::read(test_x()).unwrap();
    let header_len = u16::from_le_bytes([b[8], b[9]]) as usize;
    b[10 + header_len..10 + header_len + 256].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn inspect_reports_the_chain_before_work() {
    let out = ok(&zk(&[&"inspect", &digits()]));
    assert!(out.contains("chain (hide weights,input") && out.contains("estimated peak memory"), "{out}");
    let v = ok_json(&zk(&[&"--json", &"inspect", &digits(), &"--hide", &"weights"]));
    assert_eq!(v["hide"], "weights");
    assert!(v["macs"].as_u64().unwrap() > 0 && v["rows"].as_u64().unwrap() > 0);
    assert!(!segments(&v).is_empty());
    // With --segments 3, inspect shows the chain setup made: the same cuts and keys.
    let s = shared();
    let v = ok_json(&zk(&[&"--json", &"inspect", &digits(), &"--segments", &"3"]));
    let (planned, made) = (segments(&v), segments(&s.manifest));
    assert_eq!(planned.len(), made.len());
    for (p, m) in planned.iter().zip(made) {
        for f in ["start", "end", "key", "rows"] {
            assert_eq!(p[f], m[f], "{f}");
        }
        assert_eq!(p["k"], s.manifest["keys"][m["key"].as_u64().unwrap() as usize]["k"]);
    }
    assert_eq!(v["distinct_keys"], s.manifest["keys"].as_array().unwrap().len());
    let text = ok(&zk(&[&"inspect", &digits(), &"--segments", &"3"]));
    assert!(text.contains(&format!("{} segment(s)", made.len())), "{text}");
    fails(&zk(&[&"inspect", &digits(), &"--hide", &"biases"]), "unknown part");
    fails(&zk(&[&"inspect", &digits(), &"--segments", &"0"]), "--segments 0");
    fails(&zk(&[&"inspect", &digits(), &"--memory", &"0"]), "--memory 0");
    fails(&zk(&[&"inspect", &digits(), &"--max-k", &"99"]), "--max-k 99");
}
