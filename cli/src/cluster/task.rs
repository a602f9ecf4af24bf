//! One task of a job (`zkinfer cluster run-task DIR --task I`), and what the job directory says about every task.
//!
//! A task is idempotent and atomic: it does nothing when its `.done` marker and output exist; its output is written
//! to a temporary name and renamed; while it runs a heartbeat thread rewrites `tasks/I.running` every few seconds,
//! so `status` tells a running task from one that was killed (SIGKILL, scancel, a lost node) by the beat's age
//! alone — no scheduler query. A failure writes `tasks/I.failed` with the error.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use zkinfer_backend::provers::Prover;
use zkinfer_backend::EngineKind;

use super::job::{Job, Kind, Task, OPENING};
use crate::chain::Seeds;
use crate::commands::batch::{prove_item, BatchItem};
use crate::commands::prove::{self, weights_seed, Session, WEIGHTS_OPENING};
use crate::input::batch_entries;
use crate::ui::Ui;

/// Seconds between heartbeats; a beat older than `STALE` means the task is gone.
pub const BEAT: u64 = 3;
pub const STALE: u64 = 20;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Marker {
    pub host: String,
    pub pid: u32,
    pub started_unix: u64,
    pub beat_unix: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "?".into())
}

pub fn marker(dir: &Path, id: usize, state: &str) -> PathBuf {
    dir.join("tasks").join(format!("{id}.{state}"))
}

fn write_marker(p: &Path, m: &Marker) -> Result<()> {
    crate::atomic::write(p, serde_json::to_string(m)?.as_bytes())
}

fn read_marker(p: &Path) -> Option<Marker> {
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

/// The task to run: `--task I`, else `$SLURM_ARRAY_TASK_ID`, else `$JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job)
/// mapped through `$ZKINFER_TASKS` (a comma list, for resubmitted subsets) when set.
pub fn task_id(arg: Option<usize>) -> Result<usize> {
    if let Some(i) = arg {
        return Ok(i);
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(v) = env("SLURM_ARRAY_TASK_ID") {
        return v.parse().with_context(|| format!("SLURM_ARRAY_TASK_ID = {v} is not a task number"));
    }
    if let Some(v) = env("JOB_COMPLETION_INDEX") {
        let k: usize = v.parse().with_context(|| format!("JOB_COMPLETION_INDEX = {v} is not a number"))?;
        return match env("ZKINFER_TASKS") {
            None => Ok(k),
            Some(list) => {
                let ids = crate::input::parse_indices(&list).context("ZKINFER_TASKS")?;
                ids.get(k).copied().with_context(|| format!("JOB_COMPLETION_INDEX {k} is beyond ZKINFER_TASKS ({list})"))
            }
        };
    }
    bail!("no task given: pass --task I (or run under a Slurm array or a Kubernetes Indexed Job)")
}

/// Runs task `id` of the job in `dir` (a no-op when it is done).
pub fn run(dir: &Path, id: usize, ui: &Ui) -> Result<&'static str> {
    let job = Job::read(dir)?;
    let task = job.task(id)?.clone();
    let (done, running, failed) = (marker(&job.dir, id, "done"), marker(&job.dir, id, "running"), marker(&job.dir, id, "failed"));
    if done.exists() && job.out(&task).exists() {
        ui.say(format!("task {id} ({}) is already done", task.name));
        return Ok("already done");
    }
    let _ = std::fs::remove_file(&failed);
    let _ = std::fs::remove_file(&done);
    // A killed earlier run may have left temporaries next to the output (hidden, never read): remove them.
    remove_temporaries(&job.out(&task));
    let start = now();
    let base = Marker { host: host(), pid: std::process::id(), started_unix: start, beat_unix: start, seconds: None, error: None };
    write_marker(&running, &base)?;
    let stop = Arc::new(AtomicBool::new(false));
    let beat = {
        let (stop, running, base) = (stop.clone(), running.clone(), base.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..BEAT * 10 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                let _ = write_marker(&running, &Marker { beat_unix: now(), ..base.clone() });
            }
        })
    };
    let t = Instant::now();
    let result = prove_task(&job, &task, ui);
    stop.store(true, Ordering::Relaxed);
    let _ = beat.join();
    let end = Marker { beat_unix: now(), seconds: Some(t.elapsed().as_secs_f64()), ..base };
    match result {
        Ok(()) => {
            write_marker(&done, &end)?;
            let _ = std::fs::remove_file(&running);
            Ok("done")
        }
        Err(e) => {
            let _ = write_marker(&failed, &Marker { error: Some(format!("{e:#}")), ..end });
            let _ = std::fs::remove_file(&running);
            Err(e.context(format!("task {id} ({})", task.name)))
        }
    }
}

fn remove_temporaries(output: &Path) {
    let (Some(dir), Some(name)) = (output.parent(), output.file_name()) else { return };
    let prefix = format!(".{}.", name.to_string_lossy());
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

fn prove_task(job: &Job, task: &Task, ui: &Ui) -> Result<()> {
    let engine: EngineKind = job.engine.parse().map_err(|e| anyhow::anyhow!("job engine `{}`: {e}", job.engine))?;
    let prover = match job.prover.as_str() {
        "stock" => Prover::Stock,
        "zkinfer" => Prover::Zkinfer,
        p => bail!("job prover `{p}` is neither zkinfer nor stock"),
    };
    match job.kind {
        Kind::Proof => {
            let args = prove::ProveArgs {
                model: job.model.clone(),
                input: job.input.clone(),
                index: job.index,
                keys: job.keys.clone(),
                hide: None,
                engine,
                prover,
                out: job.out(task),
                input_salt: None,
                opening: Some(job.dir.join(OPENING)),
                segment: task.segment,
                force: false,
            };
            prove::run(&args, ui)?;
        }
        Kind::Batch => {
            let mut session = Session::open(&job.model, &job.keys, None, engine, prover, None, false, ui)?;
            let entries = batch_entries(&job.input, &session.imported, job.indices.as_deref())?;
            let e = entries.get(task.id).with_context(|| format!("the batch input {} no longer has entry {}", job.input.display(), task.id))?;
            if e.name != task.name {
                bail!("the batch input {} changed since the plan: entry {} is {}, not {}", job.input.display(), task.id, e.name, task.name);
            }
            let inp = e.load(&session.imported, ui)?;
            let wseed = weights_seed(&job.dir.join(WEIGHTS_OPENING), &session.vis)?;
            let item = BatchItem { name: e.name.clone(), values: inp.values, source: inp.source, seeds: Seeds { weights_seed: wseed, ..Seeds::fresh(None) } };
            let out_dir = job.out(task).parent().context("task output has a folder")?.to_path_buf();
            prove_item(&mut session, ui, item, &out_dir)?;
        }
    }
    Ok(())
}

#[derive(Clone, Debug, Serialize)]
pub struct TaskStatus {
    pub id: usize,
    pub name: String,
    /// done, running, lost (its heartbeat stopped: killed, or its node died), failed, pending.
    pub state: String,
    pub host: Option<String>,
    pub seconds: Option<f64>,
    pub error: Option<String>,
    pub log: String,
}

/// What the job directory says about task `t`.
pub fn status(job: &Job, t: &Task) -> TaskStatus {
    let (done, running, failed) = (marker(&job.dir, t.id, "done"), marker(&job.dir, t.id, "running"), marker(&job.dir, t.id, "failed"));
    let log = job.dir.join("logs").join(format!("task-{}.log", t.id)).display().to_string();
    let mut s = TaskStatus { id: t.id, name: t.name.clone(), state: "pending".into(), host: None, seconds: None, error: None, log };
    if let (Some(m), true) = (read_marker(&done), job.out(t).exists()) {
        s.state = "done".into();
        s.host = Some(m.host);
        s.seconds = m.seconds;
    } else if let Some(m) = read_marker(&running) {
        let age = now().saturating_sub(m.beat_unix);
        s.state = if age <= STALE { "running".into() } else { "lost".into() };
        if age > STALE {
            s.error = Some(format!("no heartbeat for {age} s: killed, or its node died (pid {} on {})", m.pid, m.host));
        }
        s.host = Some(m.host);
        s.seconds = Some(now().saturating_sub(m.started_unix) as f64);
    } else if let Some(m) = read_marker(&failed) {
        s.state = "failed".into();
        s.host = Some(m.host);
        s.seconds = m.seconds;
        s.error = m.error;
    }
    s
}
