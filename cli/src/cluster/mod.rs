//! `zkinfer cluster`: a proof's segments or a batch's inputs as tasks for the scheduler a user already has — Slurm
//! array jobs, Kubernetes Indexed Jobs, or parallel processes here — over a job directory that holds all state
//! (`job.rs`). `plan` writes it and the scripts, `submit` hands it to the scheduler, `run-task` is what each task
//! runs, `status` reads the directory, `resume` resubmits only what is missing or failed, `assemble` checks every
//! output and writes the verified bundle or batch summary.

pub mod job;
pub mod local;
pub mod schedulers;
pub mod task;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde::Serialize;

use job::{Job, Kind, Scheduler};
use crate::commands::batch::{BatchSummary, SummaryItem, SUMMARY, SUMMARY_FORMAT};
use crate::commands::verify::{read_proof_file, Verifier};
use crate::ui::Ui;

#[derive(Subcommand)]
pub enum ClusterCommand {
    /// Write a job directory: the tasks (a proof's segments, or a batch's inputs), the shared opening and the
    /// scheduler's scripts.
    Plan {
        /// proof: one input, a task per segment; batch: a task per input.
        #[arg(value_enum)]
        kind: Kind,
        model: PathBuf,
        /// The input (proof: a file, or --index N of a batched .npy) or inputs (batch: a batched .npy or a folder).
        input: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        #[arg(long, value_enum)]
        scheduler: Scheduler,
        /// The job directory (on a file system every node shares).
        #[arg(long)]
        job: PathBuf,
        #[arg(long)]
        index: Option<usize>,
        #[arg(long)]
        indices: Option<String>,
        #[arg(long, default_value = "auto")]
        engine: String,
        #[arg(long, default_value = "zkinfer")]
        prover: String,
        #[arg(long, default_value_t = 1)]
        cpus_per_task: usize,
        /// The zkinfer binary the scripts run (default: this one; `zkinfer` in the image on Kubernetes).
        #[arg(long)]
        zkinfer: Option<String>,
        /// Kubernetes: the container image with zkinfer.
        #[arg(long, default_value = "zkinfer:latest")]
        image: String,
        /// Kubernetes: the PersistentVolumeClaim holding the job directory, model, inputs and keys.
        #[arg(long, default_value = "zkinfer-work")]
        volume_claim: String,
    },
    /// Hand the job to its scheduler (sbatch; the kubectl commands; local: run the tasks here).
    Submit {
        job: PathBuf,
        /// Local: tasks at once (default: as many as memory and cores allow).
        #[arg(long)]
        parallel: Option<usize>,
    },
    /// Run one task of a job (what the scheduler's scripts call).
    RunTask {
        job: PathBuf,
        /// The task (default: $SLURM_ARRAY_TASK_ID, or $JOB_COMPLETION_INDEX through $ZKINFER_TASKS).
        #[arg(long)]
        task: Option<usize>,
    },
    /// Which tasks are done, running, lost (killed), failed or pending — read from the job directory.
    Status { job: PathBuf },
    /// Resubmit only the tasks that are not done and not running.
    Resume {
        job: PathBuf,
        #[arg(long)]
        parallel: Option<usize>,
    },
    /// Check every task's output and write the verified result (DIR/proof.json or DIR/summary.json).
    Assemble { job: PathBuf },
}

#[derive(Serialize)]
pub struct StatusReport {
    pub job: String,
    pub kind: Kind,
    pub scheduler: Scheduler,
    pub done: usize,
    pub tasks: Vec<task::TaskStatus>,
}

pub fn status(job: &Job) -> StatusReport {
    let tasks: Vec<task::TaskStatus> = job.tasks.iter().map(|t| task::status(job, t)).collect();
    StatusReport {
        job: job.dir.display().to_string(),
        kind: job.kind,
        scheduler: job.scheduler,
        done: tasks.iter().filter(|t| t.state == "done").count(),
        tasks,
    }
}

#[derive(Serialize)]
pub struct AssembleReport {
    pub result: String,
    pub kind: Kind,
    pub tasks: usize,
    pub verified: usize,
    pub verify_ms: f64,
}

/// Every task's output checked; the proof bundled and verified, or every batch proof verified.
pub fn assemble(job: &Job) -> Result<AssembleReport> {
    let st = status(job);
    let missing: Vec<String> = st.tasks.iter().filter(|t| t.state != "done").map(|t| format!("{} ({}: {})", t.id, t.name, t.state)).collect();
    if !missing.is_empty() {
        bail!("{} task(s) are not done: {}; see `zkinfer cluster status`, then `resume`", missing.len(), missing.join(", "));
    }
    let t = std::time::Instant::now();
    match job.kind {
        Kind::Proof => {
            let parts: Vec<PathBuf> = job.tasks.iter().map(|t| job.out(t)).collect();
            let out = job.dir.join("proof.json");
            crate::commands::bundle::run(&parts, &out)?;
            let r = crate::commands::verify::run(&out, &job.keys, None).with_context(|| format!("the assembled {} does not verify", out.display()))?;
            Ok(AssembleReport { result: out.display().to_string(), kind: job.kind, tasks: job.tasks.len(), verified: r.segments, verify_ms: t.elapsed().as_secs_f64() * 1e3 })
        }
        Kind::Batch => {
            let v = Verifier::open(&job.keys)?;
            let man = &v.keys.manifest;
            let mut items = Vec::new();
            let mut weights: Option<Option<String>> = None;
            for (task, state) in job.tasks.iter().zip(&st.tasks) {
                let p = job.out(task);
                let file = read_proof_file(&p)?;
                let r = v.check(file, None).with_context(|| format!("task {} ({}): {} does not verify", task.id, task.name, p.display()))?;
                // One weights commitment for the whole batch.
                match &weights {
                    None => weights = Some(r.public.weights_commitment.clone()),
                    Some(w) if *w != r.public.weights_commitment => bail!("task {} ({}) was proved under another weights commitment", task.id, task.name),
                    _ => {}
                }
                items.push(SummaryItem {
                    name: task.name.clone(),
                    input: job.input.display().to_string(),
                    proof: task.output.trim_start_matches("out/").to_string(),
                    status: "proved".into(),
                    prove_s: state.seconds,
                    predicted_class: r.public.predicted_class,
                });
            }
            let prove_s: f64 = items.iter().filter_map(|i| i.prove_s).sum();
            let summary = BatchSummary {
                format: SUMMARY_FORMAT.into(),
                model_digest: man.model.digest.clone(),
                hide: man.hide.clone(),
                prover: job.prover.clone(),
                engine: job.engine.clone(),
                proved: items.len(),
                existing: 0,
                prove_s,
                wall_s: 0.0,
                proofs_per_hour: None,
                items,
            };
            let out = job.dir.join("out").join(SUMMARY);
            crate::protocol::write_artifact(&out, &summary, false)?;
            Ok(AssembleReport { result: out.display().to_string(), kind: job.kind, tasks: job.tasks.len(), verified: job.tasks.len(), verify_ms: t.elapsed().as_secs_f64() * 1e3 })
        }
    }
}

fn print_status(r: &StatusReport) {
    println!("job {} ({:?}, {:?}): {} of {} task(s) done", r.job, r.kind, r.scheduler, r.done, r.tasks.len());
    for t in &r.tasks {
        println!(
            "  {:>4}  {:<14} {:<8} {}{}",
            t.id,
            t.name,
            t.state,
            t.seconds.map(|s| format!("{s:.1} s ")).unwrap_or_default(),
            t.error.as_ref().map(|e| format!("— {e} (log {})", t.log)).unwrap_or_default()
        );
    }
}

/// Submits `ids` to the job's scheduler: sbatch, the kubectl commands, or a local run.
fn submit(job: &Job, ids: &[usize], round: usize, parallel: Option<usize>, ui: &Ui) -> Result<()> {
    if job.scheduler == Scheduler::Local {
        let r = local::run(job, ids, parallel, ui)?;
        if !r.failed.is_empty() {
            bail!("{} task(s) failed: {:?}; see `zkinfer cluster status {}`", r.failed.len(), r.failed, job.dir.display());
        }
        #[derive(Serialize)]
        struct LocalReport {
            run: local::LocalRun,
            assembled: AssembleReport,
        }
        let rep = LocalReport { assembled: assemble(job)?, run: r };
        return crate::emit(ui, &rep, |r| {
            println!("ran {} task(s), {} at a time ({} thread(s) each), in {:.1} s", r.run.tasks, r.run.parallel, r.run.threads_per_task, r.run.wall_s);
            println!("assembled and verified: {}", r.assembled.result);
        });
    }
    let s = schedulers::submit(job, ids, round)?;
    crate::emit(ui, &s, |s| {
        if !s.job_ids.is_empty() {
            println!("submitted {} task(s) to Slurm: array job {}, assembly job {} (afterok)", s.tasks.len(), s.job_ids[0], s.job_ids[1]);
        }
        for c in &s.commands {
            println!("{c}");
        }
    })
}

pub fn run(cmd: ClusterCommand, ui: &Ui) -> Result<()> {
    match cmd {
        ClusterCommand::Plan { kind, model, input, keys, scheduler, job, index, indices, engine, prover, cpus_per_task, zkinfer, image, volume_claim } => {
            engine.parse::<zkinfer_backend::EngineKind>().map_err(|e| anyhow::anyhow!("--engine {engine}: {e}"))?;
            if !["zkinfer", "stock"].contains(&prover.as_str()) {
                bail!("--prover {prover}: zkinfer or stock");
            }
            let indices = indices.as_deref().map(crate::input::parse_indices).transpose()?;
            let args = job::PlanArgs { kind, scheduler, model, input, index, indices, keys, engine, prover, cpus_per_task, zkinfer, image, volume_claim, dir: job };
            let j = job::plan(&args)?;
            let scripts = schedulers::write(&j)?;
            #[derive(Serialize)]
            struct Planned {
                job: String,
                tasks: usize,
                memory_per_task_bytes: u64,
                scripts: Vec<String>,
            }
            let p = Planned { job: j.dir.display().to_string(), tasks: j.tasks.len(), memory_per_task_bytes: j.memory_per_task(), scripts: scripts.iter().map(|s| s.display().to_string()).collect() };
            crate::emit(ui, &p, |p| {
                println!("job {}: {} task(s), est. {:.2} GiB each", p.job, p.tasks, crate::model_file::gib(p.memory_per_task_bytes));
                for s in &p.scripts {
                    println!("  {s}");
                }
                println!("next: zkinfer cluster submit {}", p.job);
            })
        }
        ClusterCommand::Submit { job, parallel } => {
            let j = Job::read(&job)?;
            let ids: Vec<usize> = (0..j.tasks.len()).collect();
            submit(&j, &ids, 0, parallel, ui)
        }
        ClusterCommand::RunTask { job, task } => {
            let id = task::task_id(task)?;
            let state = task::run(&job, id, ui)?;
            crate::emit(ui, &serde_json::json!({ "task": id, "state": state }), |_| println!("task {id}: {state}"))
        }
        ClusterCommand::Status { job } => {
            let r = status(&Job::read(&job)?);
            crate::emit(ui, &r, print_status)
        }
        ClusterCommand::Resume { job, parallel } => {
            let j = Job::read(&job)?;
            let st = status(&j);
            let ids: Vec<usize> = st.tasks.iter().filter(|t| t.state != "done" && t.state != "running").map(|t| t.id).collect();
            if ids.is_empty() {
                let running = st.tasks.iter().filter(|t| t.state == "running").count();
                if running > 0 {
                    bail!("nothing to resume: {running} task(s) still running");
                }
                ui.say("every task is done");
                let a = assemble(&j)?;
                return crate::emit(ui, &a, |a| println!("assembled and verified: {}", a.result));
            }
            // Markers of the tasks to rerun go; their outputs (none, or a rejected one) are replaced atomically.
            for &id in &ids {
                for s in ["running", "failed"] {
                    let _ = std::fs::remove_file(task::marker(&j.dir, id, s));
                }
            }
            ui.say(format!("resubmitting {} task(s): {ids:?}", ids.len()));
            // Resubmission rounds so far: Kubernetes resume manifests, or Slurm submissions after the first.
            let round = match j.scheduler {
                Scheduler::K8s => std::fs::read_dir(j.dir.join("k8s"))
                    .map(|r| r.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("resume-")).count())
                    .unwrap_or(0),
                _ => std::fs::read_to_string(j.dir.join("slurm/submitted.log")).map(|s| s.lines().count().saturating_sub(1)).unwrap_or(0),
            } + 1;
            submit(&j, &ids, round, parallel, ui)
        }
        ClusterCommand::Assemble { job } => {
            let a = assemble(&Job::read(&job)?)?;
            crate::emit(ui, &a, |a| println!("assembled: {} ({} task(s), verified in {:.1} ms)", a.result, a.tasks, a.verify_ms))
        }
    }
}
