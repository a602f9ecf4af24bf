//! End-to-end tests of batch proving and the verified-ML protocols on the bundled digits model and its held-out
//! split: a batch interrupted and resumed, a folder verified; an accuracy audit of N = 8 examples accepted for an
//! honest provider and rejected — with the reason — for a proof of another example, a swapped label, a proof
//! under other weights and a missing proof; a served batch whose altered prediction is caught when contested; a
//! retrieval that hides a positive item, returns an item outside the committed set or alters one, each caught.
//! Proofs are the cost (about 12 s each here): 21 in all.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

fn test_y() -> PathBuf {
    fixtures().join("digits_test_y.npy")
}

fn dir(name: &str) -> PathBuf {
    let d = process_tempdir().join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Digits keys with hidden weights and public input and output (audit, served predictions, batches).
fn keys_weights() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let p = process_tempdir().join("keys-weights");
        ok(&zk(&[&"setup", &digits(), &"--dev-srs", &"--seed", &"11", &"--hide", &"weights", &"--out", &p]));
        p
    })
}

/// Digits keys with a hidden input (retrieval).
fn keys_input() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let p = process_tempdir().join("keys-input");
        ok(&zk(&[&"setup", &digits(), &"--dev-srs", &"--seed", &"12", &"--hide", &"input", &"--out", &p]));
        p
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A failed check: exit 1, and a verdict whose findings include one for `item` mentioning `reason`.
fn rejected(out: &Output, verdict: &Path, item: &str, reason: &str) {
    fails(out, "REJECTED");
    let v = read_json(verdict);
    assert_eq!(v["accepted"], false);
    let found = v["findings"].as_array().unwrap().iter().any(|f| f["item"] == item && f["reason"].as_str().unwrap().contains(reason));
    assert!(found, "no finding `{item}: …{reason}…` in {}", v["findings"]);
}

fn is_private(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777 == 0o600
}

#[test]
fn batch_is_resumable_after_an_interrupt_and_a_folder_verifies() {
    let keys = keys_weights();
    let out = dir("batch");
    let args: [&dyn AsRef<std::ffi::OsStr>; 11] =
        [&"prove", &digits(), &test_x(), &"--keys", &keys, &"--out-dir", &out, &"--indices", &"4,7,9", &"--engine", &"cpu"];
    // Interrupt the batch once its first proof is on disk.
    let child = zk_spawn(&args);
    let first = out.join("input-4.proof.json");
    let t = std::time::Instant::now();
    while !first.exists() {
        assert!(t.elapsed().as_secs() < 300, "no proof after 300 s");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let killed = finish(child);
    let names: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "temporaries left behind: {names:?}");
    let done = names.iter().filter(|n| n.ends_with(".proof.json")).count();
    if killed.status.code() == Some(130) {
        assert!(done < 3, "interrupted, yet all proofs are there");
    }
    // Resume: what is on disk is kept, the rest proved.
    let v = ok_json(&zk(&[&"--json", &"prove", &digits(), &test_x(), &"--keys", &keys, &"--out-dir", &out, &"--indices", &"4,7,9", &"--engine", &"cpu"]));
    assert_eq!(v["existing"].as_u64().unwrap() as usize, done);
    assert_eq!(v["proved"].as_u64().unwrap() as usize, 3 - done);
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["format"], "zkinfer-batch/1");
    assert_eq!(summary["items"].as_array().unwrap().len(), 3);
    for n in ["input-4", "input-7", "input-9"] {
        assert!(is_private(&out.join(format!("{n}.proof.json.opening.json"))), "{n}'s opening is not mode 0600");
    }
    assert!(is_private(&out.join("weights.opening.json")));
    // One weights commitment for the whole batch.
    let wc: Vec<Value> = ["input-4", "input-7", "input-9"]
        .iter()
        .map(|n| read_json(&out.join(format!("{n}.proof.json")))["public"]["weights_commitment"].clone())
        .collect();
    assert!(wc[0].is_string() && wc.iter().all(|c| c == &wc[0]));

    let v = ok_json(&zk(&[&"--json", &"verify", &out, &"--keys", &keys]));
    assert_eq!((v["verified"].as_u64(), v["rejected"].as_u64()), (Some(3), Some(0)));
    // A folder with one edited proof: that file is named, the others still verify, exit 1.
    let bad = dir("batch-bad");
    for n in ["input-4", "input-7"] {
        std::fs::copy(out.join(format!("{n}.proof.json")), bad.join(format!("{n}.proof.json"))).unwrap();
    }
    let mut p = read_json(&bad.join("input-7.proof.json"));
    p["public"]["predicted_class"] = Value::from((p["public"]["predicted_class"].as_u64().unwrap() + 1) % 10);
    write_json(&bad.join("input-7.proof.json"), &p);
    let out2 = zk(&[&"verify", &bad, &"--keys", &keys]);
    fails(&out2, "1 of 2 proof file(s)");
    let stdout = String::from_utf8_lossy(&out2.stdout);
    assert!(stdout.contains("REJECTED  input-7.proof.json") && stdout.contains("verified  input-4.proof.json"), "{stdout}");
}

/// The weights commitment the provider publishes, from its weights opening.
fn published_commitment(keys: &Path, opening: &Path) -> String {
    let v = ok_json(&zk(&[&"--json", &"commit", &digits(), &"--keys", &keys, &"--opening", &opening]));
    v["commitment"].as_str().unwrap().to_string()
}

#[test]
fn audit_accepts_an_honest_provider_and_names_every_cheat() {
    let keys = keys_weights();
    let d = dir("audit");
    let opening = d.join("weights.opening.json");
    // The provider fixes its weights opening and publishes the commitment (the file is created on first use).
    let o = serde_json::json!({ "weights_seed": other_salt() });
    write_json(&opening, &o);
    let wc = published_commitment(keys, &opening);
    let testset = d.join("testset.json");
    // ε = 0.44 at δ = 5%: N = ⌈ln 20 / (2 · 0.44²)⌉ = 8.
    let c = ok_json(&zk(&[
        &"--json", &"protocol", &"audit", &"commit-test-set", &test_x(), &test_y(), &"--keys", &keys, &"--weights-commitment", &wc,
        &"--target-accuracy", &"0.9", &"--epsilon", &"0.44", &"--out", &testset,
    ]));
    assert_eq!(c["sample_size"], 8);
    let sample: Vec<u64> = c["sample"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let proofs = d.join("proofs");
    ok(&zk(&[
        &"protocol", &"audit", &"prove", &digits(), &test_x(), &"--test-set", &testset, &"--keys", &keys, &"--opening", &opening,
        &"--out-dir", &proofs, &"--engine", &"cpu",
    ]));
    let check = |x: &Path, y: &Path, proofs: &Path, verdict: &Path| {
        zk(&[&"protocol", &"audit", &"check", &x, &y, &"--test-set", &testset, &"--proofs", &proofs, &"--keys", &keys, &"--out", &verdict])
    };
    let verdict = d.join("verdict.json");
    let out = check(&test_x(), &test_y(), &proofs, &verdict);
    ok(&out);
    let v = read_json(&verdict);
    assert_eq!(v["accepted"], true, "{v}");
    assert_eq!(v["verified"], 8);
    let acc = v["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.9 - 0.44 && (v["accuracy_lower_bound"].as_f64().unwrap() - (acc - 0.44).max(0.0)).abs() < 1e-12);

    // A copy of the honest proofs with one change each.
    let variant = |name: &str, edit: &dyn Fn(&Path)| -> PathBuf {
        let p = dir(&format!("audit-{name}"));
        for e in std::fs::read_dir(&proofs).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), p.join(e.file_name())).unwrap();
        }
        edit(&p);
        p
    };
    let (a, b) = (sample[0], sample[1]);
    let proof_of = |dir: &Path, i: u64| dir.join(format!("example-{i}.proof.json"));
    // The proof of another example in its place.
    let swapped = variant("other-example", &|p| std::fs::copy(proof_of(p, b), proof_of(p, a)).map(|_| ()).unwrap());
    rejected(&check(&test_x(), &test_y(), &swapped, &d.join("v1.json")), &d.join("v1.json"), &format!("example {a}"), "another input");
    // A missing proof.
    let missing = variant("missing", &|p| std::fs::remove_file(proof_of(p, b)).unwrap());
    rejected(&check(&test_x(), &test_y(), &missing, &d.join("v2.json")), &d.join("v2.json"), &format!("example {b}"), "missing");
    // A proof under other weights (the reweighted model: same architecture, same keys, same weights seed).
    let other = d.join("reweighted.proof.json");
    ok(&zk(&[
        &"prove", &reweighted_model(), &test_x(), &"--index", &a.to_string(), &"--keys", &keys, &"--opening", &opening, &"--out", &other,
        &"--engine", &"cpu",
    ]));
    let reweighted = variant("other-weights", &|p| std::fs::copy(&other, proof_of(p, a)).map(|_| ()).unwrap());
    rejected(
        &check(&test_x(), &test_y(), &reweighted, &d.join("v3.json")),
        &d.join("v3.json"),
        &format!("example {a}"),
        "another weights commitment",
    );
    // A swapped label: the test set no longer is the committed one.
    let y = std::fs::read(test_y()).unwrap();
    let off = 10 + u16::from_le_bytes([y[8], y[9]]) as usize;
    let label = |i: usize| &y[off + 8 * i..off + 8 * i + 8];
    let j = (0..360).find(|&j| label(j) != label(a as usize)).unwrap();
    let mut y2 = y.clone();
    y2[off + 8 * a as usize..off + 8 * a as usize + 8].copy_from_slice(label(j));
    y2[off + 8 * j..off + 8 * j + 8].copy_from_slice(label(a as usize));
    let swapped_y = d.join("swapped_y.npy");
    std::fs::write(&swapped_y, y2).unwrap();
    fails(&check(&test_x(), &swapped_y, &proofs, &d.join("v4.json")), "not the committed test set");
    // The provider cannot prove under another weights opening than the published commitment.
    let wrong = d.join("wrong.opening.json");
    write_json(&wrong, &serde_json::json!({ "weights_seed": format!("0x{:064x}", 7) }));
    fails(
        &zk(&[
            &"protocol", &"audit", &"prove", &digits(), &test_x(), &"--test-set", &testset, &"--keys", &keys, &"--opening", &wrong,
            &"--out-dir", &d.join("never"),
        ]),
        "was committed against",
    );
    // Bad parameters are refused before any work.
    for (eps, msg) in [("0.5", "0.5 or more"), ("0.001", "needs N = ")] {
        fails(
            &zk(&[
                &"protocol", &"audit", &"commit-test-set", &test_x(), &test_y(), &"--keys", &keys, &"--weights-commitment", &wc,
                &"--target-accuracy", &"0.9", &"--epsilon", &eps, &"--out", &d.join("t.json"),
            ]),
            msg,
        );
    }
}

#[test]
fn contested_receipts_catch_an_altered_prediction() {
    let keys = keys_weights();
    let d = dir("serve");
    let receipts = d.join("receipts.json");
    let v = ok_json(&zk(&[&"--json", &"protocol", &"serve", &digits(), &test_x(), &"--keys", &keys, &"--indices", &"0-3", &"--out", &receipts]));
    assert_eq!(v["served"], 4);
    assert!(is_private(&d.join("receipts.json.opening.json")));
    // p = 0.6 at δ = 5%: n = ⌈ln 0.05 / ln 0.4⌉ = 4, the whole batch.
    let contest = |name: &str| {
        let c = d.join(name);
        let v = ok_json(&zk(&[&"--json", &"protocol", &"contest", &receipts, &"--tamper", &"0.6", &"--out", &c]));
        assert_eq!(v["sample_size"], 4);
        c
    };
    let proofs = d.join("proofs");
    let answer = |c: &Path| zk(&[&"protocol", &"answer", &digits(), &test_x(), &"--keys", &keys, &"--receipts", &receipts, &"--contest", &c, &"--out-dir", &proofs, &"--engine", &"cpu"]);
    let check = |c: &Path, verdict: &Path| zk(&[&"protocol", &"check", &"--receipts", &receipts, &"--contest", &c, &"--proofs", &proofs, &"--keys", &keys, &"--out", &verdict]);
    let c1 = contest("contest1.json");
    ok(&answer(&c1));
    ok(&check(&c1, &d.join("v1.json")));
    assert_eq!(read_json(&d.join("v1.json"))["accepted"], true);

    // The provider served receipt input-2 with another prediction.
    let mut r = read_json(&receipts);
    let rec = &mut r["receipts"][2];
    assert_eq!(rec["id"], "input-2");
    let class = rec["public"]["predicted_class"].as_u64().unwrap() as usize;
    let other = (class + 1) % 10;
    let out = rec["public"]["output"].as_array_mut().unwrap();
    out[other] = Value::from(127);
    out[class] = Value::from(-128);
    rec["public"]["predicted_class"] = Value::from(other);
    write_json(&receipts, &r);
    // The old contest no longer matches the receipts (they changed after it was drawn).
    fails(&check(&c1, &d.join("v0.json")), "another receipts file");
    let c2 = contest("contest2.json");
    let a = answer(&c2); // the proofs on disk are reused: nothing is proved again
    ok(&a);
    assert!(stderr(&a).contains("receipt input-2 is not what the model computes"), "{}", stderr(&a));
    rejected(&check(&c2, &d.join("v2.json")), &d.join("v2.json"), "receipt input-2", &format!("served prediction (class {other})"));
}

#[test]
fn retrieval_catches_a_hidden_positive_and_a_foreign_or_altered_item() {
    let keys = keys_input();
    let d = dir("retrieve");
    let dataset = d.join("dataset.json");
    ok(&zk(&[&"protocol", &"retrieve", &"commit-dataset", &test_x(), &"--model", &digits(), &"--indices", &"0-4", &"--out", &dataset]));
    assert!(is_private(&d.join("dataset.json.opening.json")));
    let proofs = d.join("proofs");
    // Class 2: held-out image 0's class.
    let v = ok_json(&zk(&[
        &"--json", &"protocol", &"retrieve", &"respond", &digits(), &test_x(), &"--keys", &keys, &"--dataset", &dataset,
        &"--positive-class", &"2", &"--out-dir", &proofs, &"--engine", &"cpu",
    ]));
    assert_eq!(v["proved"], 5);
    let response = proofs.join("response.json");
    let check = |resp: &Path, verdict: &Path| {
        zk(&[&"protocol", &"retrieve", &"check", &"--dataset", &dataset, &"--response", &resp, &"--proofs", &proofs, &"--keys", &keys, &"--positive-class", &"2", &"--out", &verdict])
    };
    ok(&check(&response, &d.join("v1.json")));
    let v = read_json(&d.join("v1.json"));
    let positives = v["positives"].as_array().unwrap().clone();
    assert!(positives.contains(&Value::from("input-0")), "{v}");
    assert_eq!(v["returned"].as_array().unwrap(), &positives);

    let r = read_json(&response);
    let edited = |name: &str, edit: &dyn Fn(&mut Value)| -> PathBuf {
        let mut v = r.clone();
        edit(&mut v);
        let p = d.join(name);
        write_json(&p, &v);
        p
    };
    // A positive item withheld.
    let hidden = edited("hidden.json", &|v| v["returned"].as_array_mut().unwrap().retain(|x| x["id"] != "input-0"));
    rejected(&check(&hidden, &d.join("v2.json")), &d.join("v2.json"), "item input-0", "not returned");
    // An item outside the committed set.
    let foreign = edited("foreign.json", &|v| {
        let mut x = v["returned"][0].clone();
        x["id"] = Value::from("input-99");
        v["returned"].as_array_mut().unwrap().push(x);
    });
    rejected(&check(&foreign, &d.join("v3.json")), &d.join("v3.json"), "returned item input-99", "not in the committed set");
    // A returned item whose values were altered.
    let altered = edited("altered.json", &|v| {
        let x = &mut v["returned"][0]["values"][10];
        *x = Value::from(if x.as_i64().unwrap() == 0 { 1 } else { 0 });
    });
    rejected(&check(&altered, &d.join("v4.json")), &d.join("v4.json"), "returned item input-0", "do not open");
    // The audit refuses keys that hide the input.
    fails(
        &zk(&[&"protocol", &"audit", &"commit-test-set", &test_x(), &test_y(), &"--keys", &keys, &"--target-accuracy", &"0.9", &"--out", &d.join("t.json")]),
        "needs a public input",
    );
}

#[test]
fn sample_sizes_and_costs_from_a_bench_report() {
    let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../benches/results/2026-11-21-cpu-digits-mobilenet-0.35-96.json");
    let v = ok_json(&zk(&[&"--json", &"protocol", &"sample-size", &"--bench", &bench, &"--config", &"mobilenet-0.35-96", &"--price-per-hour", &"2"]));
    let n = |t: &str, k: &str| -> Vec<u64> { v[t].as_array().unwrap().iter().map(|r| r[k].as_u64().unwrap()).collect() };
    assert_eq!(n("accuracy", "n_one_sided"), [600, 2397, 14979]);
    assert_eq!(n("accuracy", "paper_n"), [600, 2396, 14979]);
    assert_eq!(n("predictions", "n_one_sided"), [59, 119, 299]);
    assert_eq!(n("predictions", "n_two_sided"), [72, 146, 368]);
    let c = &v["cost"];
    assert_eq!(c["prover"], "cpu"); // the fastest of ours that ran
    let s = c["prove_s"].as_f64().unwrap();
    assert!((c["usd_per_proof"].as_f64().unwrap() - 2.0 * s / 3600.0).abs() < 1e-9);
    assert!((v["accuracy"][0]["usd"].as_f64().unwrap() - 600.0 * 2.0 * s / 3600.0).abs() < 1e-6);
    // The markdown tables.
    let text = ok(&zk(&[&"protocol", &"sample-size", &"--bench", &bench, &"--price-per-hour", &"2"]));
    assert!(text.contains("Table 3") && text.contains("Table 4") && text.contains("| 2397 |"), "{text}");
    // Edge cases: clear errors.
    fails(&zk(&[&"protocol", &"sample-size", &"--epsilon", &"0.5"]), "0.5 or more");
    fails(&zk(&[&"protocol", &"sample-size", &"--tamper", &"0"]), "strictly between 0 and 1");
    fails(&zk(&[&"protocol", &"sample-size", &"--delta", &"1e-20"]), "not meaningful");
    fails(&zk(&[&"protocol", &"sample-size", &"--price-per-hour", &"1"]), "give --bench");
    fails(&zk(&[&"protocol", &"sample-size", &"--bench", &bench, &"--config", &"nope"]), "no config `nope`");
}

#[test]
fn an_untrusted_sources_altered_item_is_caught_by_a_sample() {
    let d = dir("source");
    let dataset = d.join("dataset.json");
    ok(&zk(&[&"protocol", &"retrieve", &"commit-dataset", &test_x(), &"--model", &digits(), &"--indices", &"0-4", &"--out", &dataset]));
    // p = 0.5 at δ = 5%: n = ⌈ln 0.05 / ln 0.5⌉ = 5, every item.
    let sample = d.join("sample.json");
    let v = ok_json(&zk(&[&"--json", &"protocol", &"retrieve", &"sample", &"--dataset", &dataset, &"--tamper", &"0.5", &"--out", &sample]));
    assert_eq!(v["sample_size"], 5);
    let openings = d.join("openings.json");
    ok(&zk(&[&"protocol", &"retrieve", &"open", &test_x(), &"--model", &digits(), &"--dataset", &dataset, &"--sample", &sample, &"--out", &openings]));
    let check = |source: &Path, openings: &Path, verdict: &Path| {
        zk(&[&"protocol", &"retrieve", &"check-source", &source, &"--model", &digits(), &"--dataset", &dataset, &"--sample", &sample, &"--openings", &openings, &"--out", &verdict])
    };
    ok(&check(&test_x(), &openings, &d.join("v1.json")));
    assert_eq!(read_json(&d.join("v1.json"))["altered_upper_bound"], 0.0);
    // The source's item 3 is not what was committed (here: the source changed one pixel).
    let mut x = std::fs::read(test_x()).unwrap();
    let off = 10 + u16::from_le_bytes([x[8], x[9]]) as usize + 3 * 64 * 4 + 20 * 4;
    let v = f32::from_le_bytes(x[off..off + 4].try_into().unwrap());
    x[off..off + 4].copy_from_slice(&(if v > 0.5 { 0.0f32 } else { 1.0 }).to_le_bytes());
    let source = d.join("source_x.npy");
    std::fs::write(&source, x).unwrap();
    rejected(&check(&source, &openings, &d.join("v2.json")), &d.join("v2.json"), "item input-3", "differs from the source");
    // An opening that does not open its commitment.
    let mut o = read_json(&openings);
    o["items"][1]["salt"] = Value::from(other_salt());
    let bad = d.join("bad-openings.json");
    write_json(&bad, &o);
    rejected(&check(&test_x(), &bad, &d.join("v3.json")), &d.join("v3.json"), "item input-1", "does not open");
}
