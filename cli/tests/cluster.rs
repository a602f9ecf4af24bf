//! `zkinfer cluster` end to end. On a REAL one-node Slurm cluster (started by `ci/slurm` from `ci/test`, which sets
//! ZKINFER_SLURM_CONF): the digits model in 3 segments proved as an array job and the assembled bundle verified; a
//! batch of 8 held-out images as an array job with one task SIGKILLed mid-proof — `status` names it lost, `resume`
//! reproves only it, the other outputs are untouched and the batch verifies; a task pointed at corrupted keys fails
//! with the error in its log and `status`. Kubernetes: the Indexed Job and assembly Job manifests validated against
//! the Job schema (kubernetes-validate --strict, installed by ci/test: ZKINFER_K8S_VALIDATE). Local: a batch run
//! here, as many tasks at once as memory allows. Outside ci/test (no ZKINFER_SLURM_CONF) the Slurm tests say
//! `skipped` — unless ZKINFER_REQUIRE_CLUSTER_TOOLS=1 (set by ci/test), which makes a missing tool a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn required() -> bool {
    std::env::var("ZKINFER_REQUIRE_CLUSTER_TOOLS").is_ok_and(|v| v == "1")
}

/// The Slurm configuration of the test cluster, or None (test skipped) outside ci/test.
fn slurm() -> Option<String> {
    match std::env::var("ZKINFER_SLURM_CONF") {
        Ok(c) if Path::new(&c).is_file() => Some(c),
        _ if required() => panic!("ZKINFER_SLURM_CONF is not set to a slurm.conf: run the tests through `bash ci/test`"),
        _ => {
            eprintln!("skipped: no test Slurm cluster (run through `bash ci/test`, which starts one)");
            None
        }
    }
}

fn zk_env(args: &[&dyn AsRef<std::ffi::OsStr>], conf: &str) -> Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(args).env("SLURM_CONF", conf).output().unwrap();
    no_panic(&out);
    out
}

/// One shared area (a shared volume on a real cluster): the model, the inputs and 3-segment digits keys.
struct Area {
    root: PathBuf,
    model: PathBuf,
    x: PathBuf,
    keys: PathBuf,
}

fn area() -> &'static Area {
    static A: OnceLock<Area> = OnceLock::new();
    A.get_or_init(|| {
        let root = process_tempdir().join("area");
        std::fs::create_dir_all(&root).unwrap();
        let (model, x, keys) = (root.join("digits_int8.onnx"), root.join("digits_test_x.npy"), root.join("keys"));
        std::fs::copy(digits(), &model).unwrap();
        std::fs::copy(test_x(), &x).unwrap();
        ok(&zk(&[&"setup", &model, &"--dev-srs", &"--seed", &"21", &"--hide", &"weights,input", &"--segments", &"3", &"--out", &keys]));
        Area { root, model, x, keys }
    })
}

fn status(job: &Path) -> Value {
    ok_json(&zk(&[&"--json", &"cluster", &"status", &job]))
}

fn states(job: &Path) -> Vec<String> {
    status(job)["tasks"].as_array().unwrap().iter().map(|t| t["state"].as_str().unwrap().to_string()).collect()
}

/// Polls until `done(job)` or panics after `secs`.
fn wait(job: &Path, secs: u64, what: &str, done: impl Fn(&Path) -> bool) {
    let t = Instant::now();
    while !done(job) {
        assert!(t.elapsed().as_secs() < secs, "{what}: not after {secs} s; status: {}", status(job));
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn log(job: &Path, name: &str) -> String {
    std::fs::read_to_string(job.join("logs").join(name)).unwrap_or_default()
}

#[test]
fn slurm_proves_a_segmented_model_as_an_array_job() {
    let Some(conf) = slurm() else { return };
    let a = area();
    let job = a.root.join("job-proof");
    ok(&zk(&[&"cluster", &"plan", &"proof", &a.model, &a.x, &"--index", &"0", &"--keys", &a.keys, &"--scheduler", &"slurm", &"--job", &job, &"--engine", &"cpu"]));
    let script = std::fs::read_to_string(job.join("slurm/array.sh")).unwrap();
    assert!(script.contains("#SBATCH --array=0-2") && script.contains("#SBATCH --mem=") && script.contains("--cpus-per-task=1"), "{script}");
    let v = ok_json(&zk_env(&[&"--json", &"cluster", &"submit", &job], &conf));
    assert_eq!(v["job_ids"].as_array().unwrap().len(), 2, "{v}");
    // The assembly job runs after the array (afterok) and writes the verified bundle.
    wait(&job, 900, "the assembled proof", |j| j.join("proof.json").exists() && log(j, "assemble.log").contains("assembled"));
    assert!(states(&job).iter().all(|s| s == "done"));
    let v = ok_json(&zk(&[&"--json", &"verify", &job.join("proof.json"), &"--keys", &a.keys]));
    assert_eq!(v["segments"], 3);
    // A finished task rerun is a no-op.
    let out = ok(&zk(&[&"cluster", &"run-task", &job, &"--task", &"1"]));
    assert!(out.contains("already done"), "{out}");
}

#[test]
fn slurm_batch_survives_a_killed_task_and_resumes_only_it() {
    let Some(conf) = slurm() else { return };
    let a = area();
    let job = a.root.join("job-batch");
    ok(&zk(&[&"cluster", &"plan", &"batch", &a.model, &a.x, &"--indices", &"0-7", &"--keys", &a.keys, &"--scheduler", &"slurm", &"--job", &job, &"--engine", &"cpu"]));
    ok(&zk_env(&[&"cluster", &"submit", &job], &conf));
    // Kill task 5 mid-proof (SIGKILL: no handler runs) once it is running.
    let victim = 5;
    let running = job.join(format!("tasks/{victim}.running"));
    wait(&job, 900, "task 5 running", |_| running.exists());
    std::thread::sleep(Duration::from_secs(2));
    let m: Value = serde_json::from_slice(&std::fs::read(&running).unwrap()).unwrap();
    let pid = m["pid"].as_u64().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    // The others finish; the killed one is reported lost once its heartbeat is stale.
    wait(&job, 900, "every other task done and task 5 lost", |j| {
        let s = states(j);
        s.iter().enumerate().all(|(i, s)| if i == victim { s == "lost" } else { s == "done" })
    });
    let st = status(&job);
    assert!(st["tasks"][victim]["error"].as_str().unwrap().contains("no heartbeat"), "{st}");
    assert!(!job.join(format!("out/input-{victim}.proof.json")).exists());
    let before: Vec<(PathBuf, std::time::SystemTime)> = (0..8)
        .filter(|&i| i != victim)
        .map(|i| {
            let p = job.join(format!("out/input-{i}.proof.json"));
            let t = std::fs::metadata(&p).unwrap().modified().unwrap();
            (p, t)
        })
        .collect();
    fails(&zk(&[&"cluster", &"assemble", &job]), "not done: 5 (input-5: lost)");
    // Resume resubmits only task 5 (and the assembly after it).
    let v = ok_json(&zk_env(&[&"--json", &"cluster", &"resume", &job], &conf));
    assert_eq!(v["tasks"], serde_json::json!([victim]), "{v}");
    wait(&job, 900, "the batch summary", |j| j.join("out/summary.json").exists() && log(j, "assemble.log").contains("assembled"));
    for (p, t) in before {
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), t, "{} changed", p.display());
    }
    let summary = read_json(&job.join("out/summary.json"));
    assert_eq!(summary["items"].as_array().unwrap().len(), 8);
    let v = ok_json(&zk(&[&"--json", &"verify", &job.join("out"), &"--keys", &a.keys]));
    assert_eq!((v["verified"].as_u64(), v["rejected"].as_u64()), (Some(8), Some(0)));
    let submitted = std::fs::read_to_string(job.join("slurm/submitted.log")).unwrap();
    assert!(submitted.lines().last().unwrap().contains(&format!("(tasks {victim})")), "{submitted}");
}

#[test]
fn slurm_task_on_corrupted_keys_fails_with_its_error_in_the_log_and_status() {
    let Some(conf) = slurm() else { return };
    let a = area();
    // A copy of the keys with key 0's proving key damaged.
    let keys = a.root.join("keys-corrupt");
    std::fs::create_dir_all(&keys).unwrap();
    for e in walk(&a.keys) {
        let rel = e.strip_prefix(&a.keys).unwrap();
        let to = keys.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&e, &to).unwrap();
    }
    let pk = keys.join("key-0/pk.bin");
    let mut b = std::fs::read(&pk).unwrap();
    let n = b.len();
    b[n / 2] ^= 0x40;
    std::fs::write(&pk, b).unwrap();
    let job = a.root.join("job-corrupt");
    ok(&zk(&[&"cluster", &"plan", &"proof", &a.model, &a.x, &"--index", &"1", &"--keys", &keys, &"--scheduler", &"slurm", &"--job", &job, &"--engine", &"cpu"]));
    ok(&zk_env(&[&"cluster", &"submit", &job], &conf));
    wait(&job, 600, "task 0 failed", |j| states(j)[0] == "failed");
    let st = status(&job);
    let err = st["tasks"][0]["error"].as_str().unwrap();
    assert!(err.contains("pk.bin"), "{err}");
    let l = log(&job, "task-0.log");
    assert!(l.contains("error:") && l.contains("pk.bin"), "{l}");
    let text = ok(&zk(&[&"cluster", &"status", &job]));
    assert!(text.contains("failed") && text.contains("pk.bin"), "{text}");
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn kubernetes_manifests_pass_the_job_schema() {
    let a = area();
    let job = a.root.join("job-k8s");
    ok(&zk(&[&"cluster", &"plan", &"batch", &a.model, &a.x, &"--indices", &"0-7", &"--keys", &a.keys, &"--scheduler", &"k8s", &"--job", &job, &"--engine", &"cuda", &"--image", &"registry.example/zkinfer:0.1"]));
    let y = std::fs::read_to_string(job.join("k8s/job.yaml")).unwrap();
    for want in ["completionMode: Indexed", "completions: 8", "nvidia.com/gpu: 1", "claimName: \"zkinfer-work\"", "\"run-task\""] {
        assert!(y.contains(want), "job.yaml lacks `{want}`:\n{y}");
    }
    assert!(y.contains(&format!("mountPath: \"{}\"", a.root.display())), "{y}");
    // A resubmission maps the index through ZKINFER_TASKS.
    let v = ok_json(&zk(&[&"--json", &"cluster", &"resume", &job]));
    assert_eq!(v["tasks"].as_array().unwrap().len(), 8);
    let r = std::fs::read_to_string(job.join("k8s/resume-1.yaml")).unwrap();
    assert!(r.contains("ZKINFER_TASKS") && r.contains("\"0,1,2,3,4,5,6,7\""), "{r}");
    // A model on another top-level folder than the rest (their only common folder is `/`) is refused before anything
    // is written.
    let shm = Path::new("/dev/shm");
    if shm.is_dir() && !a.root.starts_with(shm) {
        let model = shm.join(format!("zkinfer-k8s-test-{}.onnx", std::process::id()));
        std::fs::copy(digits(), &model).unwrap();
        let elsewhere = process_tempdir().join("job-k8s-elsewhere");
        let out = zk(&[&"cluster", &"plan", &"batch", &model, &a.x, &"--keys", &a.keys, &"--scheduler", &"k8s", &"--job", &elsewhere]);
        let _ = std::fs::remove_file(&model);
        fails(&out, "one shared volume");
        assert!(!elsewhere.exists());
    }
    let validator = match std::env::var("ZKINFER_K8S_VALIDATE") {
        Ok(v) if Path::new(&v).is_file() => v,
        _ if required() => panic!("ZKINFER_K8S_VALIDATE does not name kubernetes-validate: run the tests through `bash ci/test`"),
        _ => return eprintln!("skipped: schema check (kubernetes-validate; `bash ci/test` installs it)"),
    };
    for f in ["job.yaml", "assemble.yaml", "resume-1.yaml"] {
        let out = std::process::Command::new(&validator).args(["--strict"]).arg(job.join("k8s").join(f)).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("passed"), "{f}: {text}");
    }
    // The schema check can fail: a misspelt field is rejected.
    let bad = job.join("k8s/bad.yaml");
    std::fs::write(&bad, y.replace("completionMode", "completionMod")).unwrap();
    let out = std::process::Command::new(&validator).args(["--strict"]).arg(&bad).output().unwrap();
    assert!(!out.status.success(), "a misspelt field passed the schema check");
}

#[test]
fn local_scheduler_runs_a_batch_in_parallel_and_assembles_it() {
    let a = area();
    let job = a.root.join("job-local");
    ok(&zk(&[&"cluster", &"plan", &"batch", &a.model, &a.x, &"--indices", &"10,11", &"--keys", &a.keys, &"--scheduler", &"local", &"--job", &job, &"--engine", &"cpu"]));
    let v = ok_json(&zk(&[&"--json", &"cluster", &"submit", &job]));
    assert!(v["assembled"]["result"].as_str().unwrap().ends_with("summary.json"), "{v}");
    assert_eq!(v["run"]["tasks"], 2);
    assert!(states(&job).iter().all(|s| s == "done"));
    // Resuming a finished job only re-assembles it.
    let v = ok_json(&zk(&[&"--json", &"cluster", &"resume", &job]));
    assert_eq!(v["verified"], 2);
    // Bad plans fail before any work.
    fails(&zk(&[&"cluster", &"plan", &"batch", &a.model, &a.x, &"--index", &"1", &"--keys", &a.keys, &"--scheduler", &"local", &"--job", &a.root.join("j2")]), "takes --indices");
    fails(&zk(&[&"cluster", &"plan", &"batch", &a.model, &a.x, &"--keys", &a.keys, &"--scheduler", &"local", &"--job", &job]), "already holds a job");
    fails(&zk(&[&"cluster", &"run-task", &job, &"--task", &"9"]), "the job has 2 task(s)");
    fails(&zk(&[&"cluster", &"status", &a.root]), "not a job directory");
}
