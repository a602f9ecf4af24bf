//! `--scheduler local`: the job's tasks as parallel `zkinfer cluster run-task` processes on this machine, as many
//! at once as its memory holds (by the tasks' estimates) and no more than its cores; each gets an equal share of
//! the cores (RAYON_NUM_THREADS) and its log in DIR/logs. The job directory is the state, exactly as on a cluster.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use super::job::Job;
use crate::model_file::{gib, machine_memory};
use crate::ui::Ui;

#[derive(Serialize)]
pub struct LocalRun {
    pub tasks: usize,
    pub parallel: usize,
    pub threads_per_task: usize,
    pub failed: Vec<usize>,
    pub wall_s: f64,
}

/// How many tasks fit at once: memory (90% of this machine's, by the largest task's estimate) and cores.
pub fn concurrency(job: &Job, cores: usize) -> usize {
    let by_memory = match machine_memory() {
        Some(m) if job.memory_per_task() > 0 => ((m as f64 * 0.9) / job.memory_per_task() as f64).floor() as usize,
        _ => cores,
    };
    by_memory.clamp(1, cores.max(1))
}

pub fn run(job: &Job, ids: &[usize], parallel: Option<usize>, ui: &Ui) -> Result<LocalRun> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let fit = concurrency(job, cores);
    let parallel = parallel.unwrap_or(fit).clamp(1, ids.len().max(1));
    if parallel > fit {
        ui.warn(format!(
            "--parallel {parallel}: the memory estimate ({:.1} GiB a task) allows {fit} at once here",
            gib(job.memory_per_task())
        ));
    }
    let threads = (cores / parallel).max(1);
    ui.say(format!("local: {} task(s), {parallel} at a time, {threads} thread(s) each", ids.len()));
    let bar = ui.stage(&format!("run {} task(s)", ids.len()), ids.len() as u64);
    let t = Instant::now();
    let exe = std::env::current_exe().context("locating this zkinfer binary")?;
    let mut queue: Vec<usize> = ids.iter().rev().copied().collect();
    let mut running: Vec<(usize, Child)> = Vec::new();
    let mut failed = Vec::new();
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < parallel {
            let Some(id) = queue.pop() else { break };
            let log = std::fs::File::create(job.dir.join("logs").join(format!("task-{id}.log")))?;
            let child = Command::new(&exe)
                .args(["cluster", "run-task"])
                .arg(&job.dir)
                .args(["--task", &id.to_string()])
                .env("RAYON_NUM_THREADS", threads.to_string())
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .context("starting a task")?;
            running.push((id, child));
        }
        std::thread::sleep(Duration::from_millis(200));
        let mut i = 0;
        while i < running.len() {
            if let Some(status) = running[i].1.try_wait()? {
                let (id, _) = running.remove(i);
                if !status.success() {
                    failed.push(id);
                }
                bar.step(&format!("task {id}{}", if status.success() { "" } else { " FAILED" }), "");
            } else {
                i += 1;
            }
        }
    }
    bar.finish();
    Ok(LocalRun { tasks: ids.len(), parallel, threads_per_task: threads, failed, wall_s: t.elapsed().as_secs_f64() })
}
