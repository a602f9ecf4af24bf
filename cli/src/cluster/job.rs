//! A job directory: the unit a scheduler runs. `cluster plan` writes it; every task, `status`, `assemble` and
//! `resume` read it — so the state of a job lives in its files, whatever scheduler runs it.
//!
//! ```text
//! DIR/job.json            what to prove: kind (proof: one input, a task per segment; batch: a task per input),
//!                         model, input(s), keys, engine, the tasks with their output and memory estimate
//! DIR/opening.json        proof job: the opening every segment task shares (private, 0600)
//! DIR/weights.opening.json  batch job: the weights seed every input shares (one weights commitment; private)
//! DIR/out/                task outputs: part-I.json (proof job), NAME.proof.json + opening (batch job)
//! DIR/tasks/I.running     a task's heartbeat (host, pid, start, last beat), rewritten every few seconds
//! DIR/tasks/I.done        written after the task's output; I.failed: the error of its last run
//! DIR/logs/task-I.log     the task's stdout and stderr (written by the scheduler or the local runner)
//! DIR/slurm/, DIR/k8s/    the scheduler scripts (sbatch array + assembly, Indexed Job + assembly Job)
//! DIR/proof.json, DIR/summary.json   the assembled, verified result
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use zkinfer_circuits::stats::stats_for_segment;

use crate::chain::Seeds;
use crate::commands::batch::proof_name;
use crate::commands::prove::{weights_seed, WEIGHTS_OPENING};
use crate::input::batch_entries;
use crate::keys::Keys;
use crate::model_file;

pub const JOB_FORMAT: &str = "zkinfer-job/1";
pub const JOB: &str = "job.json";
pub const OPENING: &str = "opening.json";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One input's proof, a task per segment of the chain.
    Proof,
    /// Many inputs, a task per input.
    Batch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scheduler {
    Slurm,
    K8s,
    Local,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub id: usize,
    /// `segment-I` or the input's name.
    pub name: String,
    /// The segment it proves (proof job); a batch job's task I proves the I-th input of the batch.
    pub segment: Option<usize>,
    /// Its output, relative to the job directory.
    pub output: String,
    /// Estimated peak memory of proving it (bytes).
    pub memory_bytes: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub format: String,
    pub kind: Kind,
    pub scheduler: Scheduler,
    /// The zkinfer binary the scripts run (the container's `zkinfer` on Kubernetes).
    pub zkinfer: String,
    /// Absolute paths: tasks may run on other machines sharing the file system.
    pub dir: PathBuf,
    pub model: PathBuf,
    pub input: PathBuf,
    /// Proof job: the batch entry of INPUT to prove.
    pub index: Option<usize>,
    /// Batch job: the entries (or folder positions) of INPUT it proves; all when absent.
    pub indices: Option<Vec<usize>>,
    pub keys: PathBuf,
    pub engine: String,
    pub prover: String,
    pub cpus_per_task: usize,
    pub tasks: Vec<Task>,
    /// Kubernetes: the image and the claim of the volume that holds every path above.
    pub image: String,
    pub volume_claim: String,
    pub created_unix: u64,
}

impl Job {
    pub fn read(dir: &Path) -> Result<Job> {
        let p = dir.join(JOB);
        if !p.is_file() {
            bail!("{} is not a job directory (no {JOB}; make one with `zkinfer cluster plan`)", dir.display());
        }
        crate::protocol::read_artifact(&p, JOB_FORMAT)
    }

    pub fn out(&self, t: &Task) -> PathBuf {
        self.dir.join(&t.output)
    }

    pub fn task(&self, id: usize) -> Result<&Task> {
        self.tasks.get(id).with_context(|| format!("task {id}: the job has {} task(s) (0..{})", self.tasks.len(), self.tasks.len().saturating_sub(1)))
    }

    /// The largest task's memory estimate.
    pub fn memory_per_task(&self) -> u64 {
        self.tasks.iter().map(|t| t.memory_bytes).max().unwrap_or(0)
    }
}

pub struct PlanArgs {
    pub kind: Kind,
    pub scheduler: Scheduler,
    pub model: PathBuf,
    pub input: PathBuf,
    pub index: Option<usize>,
    pub indices: Option<Vec<usize>>,
    pub keys: PathBuf,
    pub engine: String,
    pub prover: String,
    pub cpus_per_task: usize,
    pub zkinfer: Option<String>,
    pub image: String,
    pub volume_claim: String,
    pub dir: PathBuf,
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(p).with_context(|| format!("{} does not exist", p.display()))
}

/// Writes the job directory (not its scheduler scripts: see `schedulers`).
pub fn plan(a: &PlanArgs) -> Result<Job> {
    if a.dir.join(JOB).exists() {
        bail!("{} already holds a job; use `zkinfer cluster status/resume` on it, or another directory", a.dir.display());
    }
    if a.cpus_per_task == 0 {
        bail!("--cpus-per-task must be at least 1");
    }
    let (model, input, keys_dir) = (absolute(&a.model)?, absolute(&a.input)?, absolute(&a.keys)?);
    let keys = Keys::open(&keys_dir)?;
    let man = &keys.manifest;
    let vis = man.visibility()?;
    let m = model_file::load(&model)?;
    let (_, digest) = crate::chain::model_digest(&m.model, &m.blake2b, &vis);
    if digest != man.model.digest {
        bail!("model {} is not the model the keys in {} were set up for", a.model.display(), a.keys.display());
    }
    let prepared = man.prepare(&m.model)?;
    let seg_memory = |i: usize| {
        let e = &man.segments[i];
        stats_for_segment(&prepared, &e.segment(), &vis, man.keys[e.key].shape.clone()).prove_memory
    };
    let n = man.segments.len();
    let tasks: Vec<Task> = match a.kind {
        Kind::Proof => {
            if a.indices.is_some() {
                bail!("--indices picks the inputs of a batch job; a proof job proves one input (--index N)");
            }
            // The input is read now so that a bad one fails the plan, not every task.
            crate::input::load(&input, &m.model, a.index, &crate::ui::Ui { quiet: true, json: false })?;
            (0..n)
                .map(|i| Task { id: i, name: format!("segment-{i}"), segment: Some(i), output: format!("out/part-{i}.json"), memory_bytes: seg_memory(i) })
                .collect()
        }
        Kind::Batch => {
            if a.index.is_some() {
                bail!("--index picks the input of a proof job; a batch job takes --indices");
            }
            let whole = (0..n).map(seg_memory).max().unwrap_or(0);
            batch_entries(&input, &m.model, a.indices.as_deref())?
                .into_iter()
                .enumerate()
                .map(|(id, e)| Task { id, name: e.name.clone(), segment: None, output: format!("out/{}", proof_name(&e.name)), memory_bytes: whole })
                .collect()
        }
    };
    if a.scheduler == Scheduler::K8s {
        let dir = std::path::absolute(&a.dir).with_context(|| format!("job directory {}", a.dir.display()))?;
        super::schedulers::mount_root(&dir, &model, &input, &keys_dir)?;
    }
    std::fs::create_dir_all(&a.dir).with_context(|| format!("cannot create {}", a.dir.display()))?;
    let dir = absolute(&a.dir)?;
    for sub in ["out", "tasks", "logs"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    // The salts every task shares, fixed once here (private).
    match a.kind {
        Kind::Proof => {
            let o = Seeds::fresh(None).opening(&vis, n);
            crate::protocol::write_artifact(&dir.join(OPENING), &o, true)?;
        }
        Kind::Batch => {
            weights_seed(&dir.join(WEIGHTS_OPENING), &vis)?;
        }
    }
    let zkinfer = match &a.zkinfer {
        Some(z) => z.clone(),
        None if a.scheduler == Scheduler::K8s => "zkinfer".into(),
        None => std::env::current_exe().context("locating this zkinfer binary")?.display().to_string(),
    };
    let job = Job {
        format: JOB_FORMAT.into(),
        kind: a.kind,
        scheduler: a.scheduler,
        zkinfer,
        dir: dir.clone(),
        model,
        input,
        index: a.index,
        indices: a.indices.clone(),
        keys: keys_dir,
        engine: a.engine.clone(),
        prover: a.prover.clone(),
        cpus_per_task: a.cpus_per_task,
        tasks,
        image: a.image.clone(),
        volume_claim: a.volume_claim.clone(),
        created_unix: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    };
    crate::protocol::write_artifact(&dir.join(JOB), &job, false)?;
    Ok(job)
}
