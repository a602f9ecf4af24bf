//! The scripts a scheduler runs, and submitting them.
//!
//! - Slurm: `slurm/array.sh`, an sbatch array (one array task per job task: `--cpus-per-task`, `--mem` from the
//!   task's memory estimate, `--gres=gpu:1` with the CUDA engine, a log per task) and `slurm/assemble.sh`, submitted
//!   with `--dependency=afterok:<array job>`. `submit` calls sbatch (and `resume` again, with `--array=` the tasks
//!   left); the job ids go to `slurm/submitted.log`.
//! - Kubernetes: `k8s/job.yaml`, an Indexed Job (completionMode Indexed: the task is JOB_COMPLETION_INDEX), the
//!   same resources, the job's paths on one shared volume; `k8s/assemble.yaml`, the assembly Job. `submit` prints
//!   the kubectl commands (`resume` writes a Job for the tasks left, mapped through ZKINFER_TASKS).
//! - Local: `local.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::job::{Job, Scheduler};

/// Memory to ask a scheduler for: the estimate plus a quarter, in MiB (estimates are for the prover's big buffers).
pub fn request_mib(job: &Job) -> u64 {
    (job.memory_per_task() as f64 * 1.25 / (1u64 << 20) as f64).ceil().max(256.0) as u64
}

fn gpu(job: &Job) -> bool {
    job.engine == "cuda"
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn list(ids: &[usize]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// Writes the scheduler's scripts into the job directory.
pub fn write(job: &Job) -> Result<Vec<PathBuf>> {
    match job.scheduler {
        Scheduler::Slurm => write_slurm(job),
        Scheduler::K8s => write_k8s(job, None),
        Scheduler::Local => Ok(Vec::new()),
    }
}

fn write_slurm(job: &Job) -> Result<Vec<PathBuf>> {
    let d = job.dir.join("slurm");
    std::fs::create_dir_all(&d)?;
    let (z, dir) = (sh_quote(&job.zkinfer), sh_quote(&job.dir.display().to_string()));
    let name = format!("zkinfer-{}", job.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let mut a = String::new();
    writeln!(a, "#!/bin/bash")?;
    writeln!(a, "# One array task per task of the zkinfer job in {}: `zkinfer cluster run-task` on task $SLURM_ARRAY_TASK_ID.", job.dir.display())?;
    writeln!(a, "#SBATCH --job-name={name}")?;
    writeln!(a, "#SBATCH --array=0-{}", job.tasks.len() - 1)?;
    writeln!(a, "#SBATCH --cpus-per-task={}", job.cpus_per_task)?;
    writeln!(a, "#SBATCH --mem={}M", request_mib(job))?;
    if gpu(job) {
        writeln!(a, "#SBATCH --gres=gpu:1")?;
    }
    writeln!(a, "#SBATCH --output={}/logs/task-%a.log", job.dir.display())?;
    writeln!(a, "export RAYON_NUM_THREADS=${{SLURM_CPUS_PER_TASK:-{}}}", job.cpus_per_task)?;
    writeln!(a, "exec {z} cluster run-task {dir} --task \"$SLURM_ARRAY_TASK_ID\"")?;
    let mut b = String::new();
    writeln!(b, "#!/bin/bash")?;
    writeln!(b, "# Runs after every array task succeeded (afterok): checks every output, writes the verified result.")?;
    writeln!(b, "#SBATCH --job-name={name}-assemble")?;
    writeln!(b, "#SBATCH --cpus-per-task=1")?;
    writeln!(b, "#SBATCH --mem=2048M")?;
    writeln!(b, "#SBATCH --output={}/logs/assemble.log", job.dir.display())?;
    writeln!(b, "exec {z} cluster assemble {dir}")?;
    let (pa, pb) = (d.join("array.sh"), d.join("assemble.sh"));
    crate::atomic::write(&pa, a.as_bytes())?;
    crate::atomic::write(&pb, b.as_bytes())?;
    Ok(vec![pa, pb])
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes") // JSON strings are YAML strings
}

/// The shared volume's mount point: the deepest folder holding every path of the job (never `/`).
pub fn mount_root(dir: &Path, model: &Path, input: &Path, keys: &Path) -> Result<PathBuf> {
    let mut root = dir.to_path_buf();
    while ![model, input, keys].iter().all(|p| p.starts_with(&root)) {
        root.pop();
    }
    if root.parent().is_none() {
        bail!(
            "on Kubernetes the job directory, model, input(s) and keys must lie on one shared volume: put them under one \
             folder (the job is {}, the model {}, the keys {})",
            dir.display(),
            model.display(),
            keys.display()
        );
    }
    Ok(root)
}

fn k8s_job(job: &Job, name: &str, completions: usize, command: &[String], env: &[(&str, String)], indexed: bool, big: bool) -> Result<String> {
    let mut y = String::new();
    let mem = if big { format!("{}Mi", request_mib(job)) } else { "2Gi".into() };
    let cpu = if big { job.cpus_per_task } else { 1 };
    let _ = writeln!(y, "apiVersion: batch/v1");
    let _ = writeln!(y, "kind: Job");
    let _ = writeln!(y, "metadata:");
    let _ = writeln!(y, "  name: {name}");
    let _ = writeln!(y, "  labels:");
    let _ = writeln!(y, "    app.kubernetes.io/name: zkinfer");
    let _ = writeln!(y, "spec:");
    if indexed {
        let _ = writeln!(y, "  completionMode: Indexed");
    }
    let _ = writeln!(y, "  completions: {completions}");
    let _ = writeln!(y, "  parallelism: {completions}");
    let _ = writeln!(y, "  backoffLimit: {}", 2 * completions);
    let _ = writeln!(y, "  template:");
    let _ = writeln!(y, "    spec:");
    let _ = writeln!(y, "      restartPolicy: Never");
    let _ = writeln!(y, "      containers:");
    let _ = writeln!(y, "        - name: zkinfer");
    let _ = writeln!(y, "          image: {}", yaml_str(&job.image));
    let _ = writeln!(y, "          command: [{}]", command.iter().map(|c| yaml_str(c)).collect::<Vec<_>>().join(", "));
    let mut env: Vec<(&str, String)> = env.to_vec();
    env.push(("RAYON_NUM_THREADS", cpu.to_string()));
    let _ = writeln!(y, "          env:");
    for (k, v) in env {
        let _ = writeln!(y, "            - name: {k}");
        let _ = writeln!(y, "              value: {}", yaml_str(&v));
    }
    let _ = writeln!(y, "          resources:");
    let _ = writeln!(y, "            requests:");
    let _ = writeln!(y, "              cpu: {}", yaml_str(&cpu.to_string()));
    let _ = writeln!(y, "              memory: {mem}");
    let _ = writeln!(y, "            limits:");
    let _ = writeln!(y, "              memory: {mem}");
    if big && gpu(job) {
        let _ = writeln!(y, "              nvidia.com/gpu: 1");
    }
    let _ = writeln!(y, "          volumeMounts:");
    let _ = writeln!(y, "            - name: work");
    let _ = writeln!(y, "              mountPath: {}", yaml_str(&mount_root(&job.dir, &job.model, &job.input, &job.keys)?.display().to_string()));
    let _ = writeln!(y, "      volumes:");
    let _ = writeln!(y, "        - name: work");
    let _ = writeln!(y, "          persistentVolumeClaim:");
    let _ = writeln!(y, "            claimName: {}", yaml_str(&job.volume_claim));
    Ok(y)
}

fn k8s_name(job: &Job) -> String {
    let base: String = job
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let base = base.trim_matches('-');
    let mut n = format!("zkinfer-{}", if base.is_empty() { "job" } else { base });
    n.truncate(50);
    n.trim_end_matches('-').to_string()
}

/// The Indexed Job for `subset` (all tasks when None) and the assembly Job.
fn write_k8s(job: &Job, subset: Option<(&[usize], usize)>) -> Result<Vec<PathBuf>> {
    let d = job.dir.join("k8s");
    std::fs::create_dir_all(&d)?;
    let dir = job.dir.display().to_string();
    let run = vec![job.zkinfer.clone(), "cluster".into(), "run-task".into(), dir.clone()];
    let (name, file, count, env) = match subset {
        None => (k8s_name(job), d.join("job.yaml"), job.tasks.len(), vec![]),
        Some((ids, round)) => (format!("{}-r{round}", k8s_name(job)), d.join(format!("resume-{round}.yaml")), ids.len(), vec![("ZKINFER_TASKS", list(ids))]),
    };
    let mut out = vec![file.clone()];
    crate::atomic::write(&file, k8s_job(job, &name, count, &run, &env, true, true)?.as_bytes())?;
    if subset.is_none() {
        let asm = d.join("assemble.yaml");
        let cmd = vec![job.zkinfer.clone(), "cluster".into(), "assemble".into(), dir];
        crate::atomic::write(&asm, k8s_job(job, &format!("{}-assemble", k8s_name(job)), 1, &cmd, &[], false, false)?.as_bytes())?;
        out.push(asm);
    }
    Ok(out)
}

/// What a submission did: the scheduler's job ids, or the commands to run.
#[derive(serde::Serialize)]
pub struct Submitted {
    pub scheduler: String,
    pub tasks: Vec<usize>,
    pub job_ids: Vec<String>,
    pub commands: Vec<String>,
}

fn sbatch(args: &[&str]) -> Result<String> {
    let out = Command::new("sbatch").args(args).output().context("cannot run sbatch (is Slurm installed and on PATH?)")?;
    if !out.status.success() {
        bail!("sbatch {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    // --parsable prints "jobid" or "jobid;cluster".
    let id = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() {
        bail!("sbatch printed no job id");
    }
    Ok(id)
}

/// Submits `ids` (every task on a first submission) to the job's scheduler; `round` numbers resubmissions.
pub fn submit(job: &Job, ids: &[usize], round: usize) -> Result<Submitted> {
    let mut s = Submitted { scheduler: format!("{:?}", job.scheduler).to_lowercase(), tasks: ids.to_vec(), job_ids: vec![], commands: vec![] };
    match job.scheduler {
        Scheduler::Slurm => {
            let d = job.dir.join("slurm");
            let (array, assemble) = (d.join("array.sh"), d.join("assemble.sh"));
            let array_s = array.display().to_string();
            let arr = format!("--array={}", list(ids));
            let a = sbatch(&["--parsable", &arr, &array_s])?;
            let dep = format!("--dependency=afterok:{a}");
            let b = sbatch(&["--parsable", &dep, &assemble.display().to_string()])?;
            let line = format!("{} round {round}: array {a} (tasks {}), assemble {b}\n", super::task::now(), list(ids));
            append(&d.join("submitted.log"), &line)?;
            s.job_ids = vec![a, b];
        }
        Scheduler::K8s => {
            let files = if round == 0 { write_k8s(job, None)? } else { write_k8s(job, Some((ids, round)))? };
            s.commands.push(format!("kubectl apply -f {}", files[0].display()));
            s.commands.push(format!(
                "kubectl wait --for=condition=complete --timeout=24h job/{} && kubectl apply -f {}",
                if round == 0 { k8s_name(job) } else { format!("{}-r{round}", k8s_name(job)) },
                job.dir.join("k8s/assemble.yaml").display()
            ));
        }
        Scheduler::Local => bail!("the local scheduler runs tasks itself (submit runs them)"),
    }
    Ok(s)
}

fn append(p: &Path, line: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(p).with_context(|| format!("cannot write {}", p.display()))?;
    f.write_all(line.as_bytes())?;
    Ok(())
}
