//! Engine micro-benchmarks: CpuEngine against halo2's own kernels, measured side by side in one run.
//!
//!   cargo bench -p zkinfer-benches --bench engine [-- msm|ntt] [--max-log K] [--secs S]
//!
//! `--secs S`: time budget of each CPU comparison (default 6 s); `ci/gpu-run` passes a short one.
//!
//! MSM: CpuEngine (bases loaded once, as the prover uses them) vs halo2curves `msm_best` at 2^12..2^20, with
//! uniform scalars and (`msm-i8`) int8 values as quantized witnesses hold them.
//! NTT: CpuEngine forward NTT vs halo2-axiom `best_fft` at 2^12..2^22.
//! Prints a markdown table with the ratio zkinfer / halo2 per size (< 1 means zkinfer is faster).
//!
//! With `--features cuda` and a GPU present, two more columns: the CUDA engine with data resident (bases loaded,
//! scalars already in a ScalarBuffer: `msm_buffer` / `ntt_buffer` + synchronize) and the transfer time of the
//! scalars (upload + download) measured separately; plus GPU-only rows up to MSM 2^22 and NTT 2^24. Without a GPU
//! one line says why the columns are absent.

use std::hint::black_box;
use std::time::Duration;

use halo2_proofs::arithmetic::best_fft;
use halo2_proofs::fft::recursive::FFTData;
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::halo2curves::msm::msm_best;
use zkinfer_backend::engine::root_of_unity;
use zkinfer_backend::engine::cuda::CudaEngine;
use zkinfer_backend::{CpuEngine, Engine, Fr, NttDirection};
use zkinfer_benches::{compare, ms, points, scalars};

/// Largest GPU-only sizes (above the CPU comparison range).
const GPU_MSM_MAX_LOG: u32 = 22;
const GPU_NTT_MAX_LOG: u32 = 24;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut filters = Vec::new();
    let mut max_log = 22u32;
    let mut budget = Duration::from_secs(6);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--max-log" {
            max_log = it.next().and_then(|v| v.parse().ok()).expect("--max-log takes a number");
        } else if a == "--secs" {
            let s: f64 = it.next().and_then(|v| v.parse().ok()).expect("--secs takes a number of seconds");
            budget = Duration::from_secs_f64(s.max(0.01));
        } else if !a.starts_with('-') {
            filters.push(a.clone());
        }
    }
    let wants = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let engine = CpuEngine::new();
    println!("# engine benchmark: {}", engine.describe());
    let gpu = gpu_engine();
    if let Some(g) = &gpu {
        println!("# {}", g.describe());
    }
    println!();
    if gpu.is_some() {
        println!("| op | size | halo2 (ms) | zkinfer cpu (ms) | ratio | reps | gpu resident (ms) | gpu transfer (ms) |");
        println!("|---|---|---|---|---|---|---|---|");
    } else {
        println!("| op | size | halo2 (ms) | zkinfer cpu (ms) | ratio | reps |");
        println!("|---|---|---|---|---|---|");
    }

    let msm_max = 20.min(max_log);
    let int8 = |x: &Fr| {
        // Quantized-model witnesses: int8 values, negatives as r - |v|.
        let b = x.to_repr().as_ref()[0] as i8;
        if b < 0 { -Fr::from(b.unsigned_abs() as u64) } else { Fr::from(b as u64) }
    };
    let msm_cases: [(&str, Vec<u32>, &dyn Fn(&Fr) -> Fr); 2] = [
        ("msm", (12..=msm_max).step_by(2).collect(), &|x: &Fr| *x),
        ("msm-i8", if msm_max > 16 { vec![16, msm_max] } else { vec![msm_max] }, &int8),
    ];
    if msm_cases.iter().any(|(name, _, _)| wants(name)) {
        let gpu_max = if gpu.is_some() { GPU_MSM_MAX_LOG.max(msm_max) } else { msm_max };
        let bases = points(1 << gpu_max, 1);
        let handle = engine.load_bases(&bases[..1 << msm_max]).expect("load bases");
        let gpu_bases = gpu.as_ref().map(|g| g.load_bases(&bases).expect("load bases on the GPU"));
        for (name, sizes, map) in msm_cases.iter().filter(|(name, _, _)| wants(name)) {
            for &log_n in sizes {
                let n = 1usize << log_n;
                let s: Vec<Fr> = scalars(n, 100 + log_n as u64).iter().map(map).collect();
                let (t_stock, t_ours, reps) = compare(
                    || {
                        black_box(msm_best(&s, &bases[..n]));
                    },
                    || {
                        black_box(engine.msm(&handle, &s).unwrap());
                    },
                    budget,
                    3,
                    50,
                );
                row(name, log_n, Some((t_stock, t_ours, reps)), gpu_msm(&gpu, &gpu_bases, &s));
            }
        }
        if wants("msm") && !wants_only_i8(&filters) {
            for log_n in (msm_max + 1)..=gpu_max {
                let s = scalars(1 << log_n, 100 + log_n as u64);
                row("msm", log_n, None, gpu_msm(&gpu, &gpu_bases, &s));
            }
        }
    }

    if wants("ntt") {
        for log_n in (12..=22.min(max_log)).step_by(2) {
            let n = 1usize << log_n;
            let input = scalars(n, 200 + log_n as u64);
            let omega = root_of_unity(log_n);
            let data = FFTData::new(n, omega, omega.invert().unwrap());
            let mut a = input.clone();
            let mut b = input.clone();
            let (t_stock, t_ours, reps) = compare(
                || best_fft(black_box(&mut a), omega, log_n, &data, false),
                || engine.ntt(black_box(&mut b), NttDirection::Forward).unwrap(),
                budget,
                3,
                50,
            );
            row("ntt", log_n, Some((t_stock, t_ours, reps)), gpu_ntt(&gpu, &input));
        }
        if gpu.is_some() {
            for log_n in (22.min(max_log) + 1)..=GPU_NTT_MAX_LOG {
                let input = scalars(1 << log_n, 200 + log_n as u64);
                row("ntt", log_n, None, gpu_ntt(&gpu, &input));
            }
        }
    }
}

fn wants_only_i8(filters: &[String]) -> bool {
    !filters.is_empty() && filters.iter().all(|f| f == "msm-i8")
}

#[cfg(feature = "cuda")]
fn gpu_engine() -> Option<CudaEngine> {
    match CudaEngine::new() {
        Ok(e) => Some(e),
        Err(e) => {
            println!("# no GPU columns: {e}");
            None
        }
    }
}

#[cfg(not(feature = "cuda"))]
fn gpu_engine() -> Option<CudaEngine> {
    println!("# no GPU columns: built without `--features cuda`");
    None
}

/// Median of timed runs of `f` (after one warm-up run), about `budget` in all.
fn median_time(mut f: impl FnMut()) -> Duration {
    f();
    let t0 = std::time::Instant::now();
    f();
    let once = t0.elapsed().as_secs_f64().max(1e-6);
    let reps = ((3.0 / once) as usize).clamp(3, 50);
    let mut ts: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    ts.sort();
    ts[ts.len() / 2]
}

/// (resident, transfer) times of the GPU MSM: msm_buffer on uploaded scalars; upload + download of the scalars.
fn gpu_msm(
    gpu: &Option<CudaEngine>,
    bases: &Option<zkinfer_backend::Bases>,
    s: &[Fr],
) -> Option<(Duration, Duration)> {
    let (g, b) = (gpu.as_ref()?, bases.as_ref()?);
    let buf = g.upload(s).expect("upload");
    let resident = median_time(|| {
        black_box(g.msm_buffer(b, &buf).expect("gpu msm"));
    });
    Some((resident, transfer(g, s)))
}

/// (resident, transfer) times of the GPU NTT: ntt_buffer + synchronize; upload + download.
fn gpu_ntt(gpu: &Option<CudaEngine>, input: &[Fr]) -> Option<(Duration, Duration)> {
    let g = gpu.as_ref()?;
    let mut buf = g.upload(input).expect("upload");
    let resident = median_time(|| {
        g.ntt_buffer(&mut buf, None, NttDirection::Forward).expect("gpu ntt");
        g.synchronize().expect("synchronize");
    });
    Some((resident, transfer(g, input)))
}

fn transfer(g: &CudaEngine, s: &[Fr]) -> Duration {
    let mut out = vec![Fr::default(); s.len()];
    median_time(|| {
        let b = g.upload(s).expect("upload");
        g.download(&b, &mut out).expect("download");
    })
}

fn row(op: &str, log_n: u32, cpu: Option<(Duration, Duration, usize)>, gpu: Option<(Duration, Duration)>) {
    let mut line = match cpu {
        Some((stock, ours, reps)) => format!(
            "| {op} | 2^{log_n} | {:.2} | {:.2} | {:.2} | {reps} |",
            ms(stock),
            ms(ours),
            ours.as_secs_f64() / stock.as_secs_f64()
        ),
        None => format!("| {op} | 2^{log_n} | - | - | - | - |"),
    };
    if let Some((resident, xfer)) = gpu {
        line.push_str(&format!(" {:.3} | {:.3} |", ms(resident), ms(xfer)));
    }
    println!("{line}");
}
