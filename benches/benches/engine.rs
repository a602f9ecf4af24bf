//! Engine micro-benchmarks on criterion: the CPU engine against halo2's own kernels, and the quotient program as
//! the prover runs it against the constraints interpreted as compiled, in one run.
//!
//!   cargo bench -p zkinfer-benches --bench engine [-- FILTER] [criterion options, e.g. --measurement-time 2]
//!
//! Groups (criterion ids are GROUP/FUNCTION/PARAMETER; FILTER is a regex over them):
//! - `msm/{halo2,zkinfer-cpu}/LOG`: halo2curves `msm_best` vs the CPU engine (bases loaded once, as the prover uses
//!   them) at 2^12..2^20 with uniform scalars; `msm-i8/…` with int8 values as quantized witnesses hold them.
//! - `ntt/{halo2,zkinfer-cpu}/LOG`: halo2-axiom `best_fft` vs the CPU engine's forward NTT at 2^12..2^22.
//! - `quotient/{naive,compiled}/CIRCUIT`: the quotient numerator of the digits model and of one MobileNet v2
//!   0.35/96 inverted-residual block (conv51..add54, hidden weights and input) on random columns of 2^13 rows —
//!   interpreted row by row as compiled (`naive`, rows in parallel) and folded by y group by group, evaluated
//!   block-wise by the CPU engine (`compiled`). The two results are checked equal before timing. The model
//!   circuit's gates depend on its shape, not its layers, so today both circuits compile to the same program.
//!
//! With `--features cuda` and a GPU present, more functions: `zkinfer-cuda` (data resident: bases loaded, scalars in
//! a ScalarBuffer, `msm_buffer` / `ntt_buffer` + synchronize), `cuda-transfer` (upload + download of the same
//! scalars), GPU-only sizes up to MSM 2^22 and NTT 2^24, `msm-batch-i8/{cuda-each,cuda-batch}/20` (32 resident int8
//! columns committed one MSM at a time vs as one batch) and `quotient/cuda/…` (the generated kernels, host columns).
//! Without a GPU one line says why those are absent.
//!
//! Environment: ZKINFER_BENCH_MAX_LOG caps the sizes (default 22); ZKINFER_FIXTURES is the folder of the bundled
//! models (default: the source tree's, then ./model-import/fixtures); CRITERION_HOME is where criterion keeps its
//! estimates (default target/criterion), from which a markdown table of medians and ratios (zkinfer / halo2,
//! compiled / naive; < 1 means ours is faster) is printed at the end.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, SamplingMode};
use halo2_proofs::arithmetic::best_fft;
use halo2_proofs::fft::recursive::FFTData;
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::halo2curves::msm::msm_best;
use halo2_proofs::plonk::{Circuit, ProvingKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::engine::cuda::CudaEngine;
use zkinfer_backend::engine::root_of_unity;
use zkinfer_backend::params::{self, EngineParams};
use zkinfer_backend::plonk::quotient::Sample;
use zkinfer_backend::{CpuEngine, Engine, Fr, G1Affine, NttDirection};
use zkinfer_benches::{points, scalars};
use zkinfer_circuits::{plan, ModelCircuit, Segment, Visibility};

/// Largest GPU-only sizes (above the CPU comparison range).
const GPU_MSM_MAX_LOG: u32 = 22;
const GPU_NTT_MAX_LOG: u32 = 24;
/// The GPU's batched-MSM case: columns and log size (a segment's int8 advice columns at k = 20).
const BATCH_COLUMNS: usize = 32;
const BATCH_LOG: u32 = 20;
/// Rows of the quotient sample: a block of a coset, enough for the engine's row blocks and threads.
const QUOTIENT_LOG_ROWS: u32 = 13;

fn main() {
    let home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/criterion"));
    let max_log: u32 = match std::env::var("ZKINFER_BENCH_MAX_LOG") {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("ZKINFER_BENCH_MAX_LOG={v:?} is not a number")),
        Err(_) => 22,
    };
    let started = std::time::SystemTime::now();
    let mut c = Criterion::default().output_directory(&home).sample_size(10).configure_from_args();
    let filter = Filter::from_args();
    let engine = CpuEngine::new();
    println!("# engine benchmark: {}", engine.describe());
    let gpu = gpu_engine();
    if let Some(g) = &gpu {
        println!("# {}", g.describe());
    }

    let msm_max = 20.min(max_log);
    let gpu_msm_max = if gpu.is_some() { GPU_MSM_MAX_LOG.max(msm_max) } else { msm_max };
    let msm_sizes: Vec<u32> = (12..=msm_max).step_by(2).collect();
    let i8_sizes: Vec<u32> = if msm_max > 16 { vec![16, msm_max] } else { vec![msm_max] };
    if filter.wants("msm") {
        let bases = points(1 << gpu_msm_max, 1);
        let handle = engine.load_bases(&bases[..1 << msm_max]).expect("load bases");
        let gpu_bases = gpu.as_ref().map(|g| g.load_bases(&bases).expect("load bases on the GPU"));
        for (group, sizes, int8) in [("msm", &msm_sizes, false), ("msm-i8", &i8_sizes, true)] {
            let mut g = c.benchmark_group(group);
            g.sampling_mode(SamplingMode::Flat);
            let gpu_only = if int8 { vec![] } else { ((msm_max + 1)..=gpu_msm_max).collect() };
            for &log_n in sizes.iter().chain(&gpu_only) {
                let n = 1usize << log_n;
                let s: Vec<Fr> = scalars(n, 100 + log_n as u64).iter().map(|x| if int8 { to_int8(x) } else { *x }).collect();
                if log_n <= msm_max {
                    g.bench_function(BenchmarkId::new("halo2", log_n), |b| b.iter(|| black_box(msm_best(&s, &bases[..n]))));
                    g.bench_function(BenchmarkId::new("zkinfer-cpu", log_n), |b| {
                        b.iter(|| black_box(engine.msm(&handle, &s).unwrap()))
                    });
                }
                if let (Some(gpu), Some(gb)) = (&gpu, &gpu_bases) {
                    let buf = gpu.upload(&s).expect("upload");
                    g.bench_function(BenchmarkId::new("zkinfer-cuda", log_n), |b| {
                        b.iter(|| black_box(gpu.msm_buffer(gb, &buf).expect("gpu msm")))
                    });
                    transfer(&mut g, gpu, &s, log_n);
                }
            }
            g.finish();
        }
        // A prover's commitment round on the GPU: BATCH_COLUMNS resident int8 columns, one MSM each against one
        // bucket problem for all (msm_batch_buffers).
        if let (Some(gpu), Some(gb)) = (&gpu, &gpu_bases) {
            let log_n = BATCH_LOG.min(gpu_msm_max);
            let bufs: Vec<_> = (0..BATCH_COLUMNS)
                .map(|j| {
                    let s: Vec<Fr> = scalars(1 << log_n, 300 + j as u64).iter().map(to_int8).collect();
                    gpu.upload(&s).expect("upload")
                })
                .collect();
            let refs: Vec<_> = bufs.iter().collect();
            let each: Vec<_> = refs.iter().map(|b| gpu.msm_buffer(gb, b).expect("gpu msm")).collect();
            assert_eq!(gpu.msm_batch_buffers(gb, &refs).expect("gpu msm batch"), each, "batched MSMs differ");
            let mut g = c.benchmark_group("msm-batch-i8");
            g.sampling_mode(SamplingMode::Flat);
            g.bench_function(BenchmarkId::new("cuda-each", log_n), |b| {
                b.iter(|| refs.iter().map(|s| gpu.msm_buffer(gb, s).expect("gpu msm")).collect::<Vec<_>>())
            });
            g.bench_function(BenchmarkId::new("cuda-batch", log_n), |b| {
                b.iter(|| black_box(gpu.msm_batch_buffers(gb, &refs).expect("gpu msm batch")))
            });
            g.finish();
        }
    }

    if filter.wants("ntt") {
        let mut g = c.benchmark_group("ntt");
        g.sampling_mode(SamplingMode::Flat);
        let cpu_max = 22.min(max_log);
        let top = if gpu.is_some() { GPU_NTT_MAX_LOG.max(cpu_max) } else { cpu_max };
        for log_n in (12..=cpu_max).step_by(2).chain((cpu_max + 1)..=top) {
            let n = 1usize << log_n;
            let input = scalars(n, 200 + log_n as u64);
            if log_n <= cpu_max {
                let omega = root_of_unity(log_n);
                let data = FFTData::new(n, omega, omega.invert().unwrap());
                let mut a = input.clone();
                g.bench_function(BenchmarkId::new("halo2", log_n), |b| {
                    b.iter(|| best_fft(black_box(&mut a), omega, log_n, &data, false))
                });
                let mut a = input.clone();
                g.bench_function(BenchmarkId::new("zkinfer-cpu", log_n), |b| {
                    b.iter(|| engine.ntt(black_box(&mut a), NttDirection::Forward).unwrap())
                });
            }
            if let Some(gpu) = &gpu {
                let mut buf = gpu.upload(&input).expect("upload");
                g.bench_function(BenchmarkId::new("zkinfer-cuda", log_n), |b| {
                    b.iter(|| {
                        gpu.ntt_buffer(&mut buf, None, NttDirection::Forward).expect("gpu ntt");
                        gpu.synchronize().expect("synchronize");
                    })
                });
                transfer(&mut g, gpu, &input, log_n);
            }
        }
        g.finish();
    }

    let mut circuits = Vec::new();
    if filter.wants("quotient") {
        let params = |k: u32| EngineParams::new(params::dev_srs(k, ChaCha20Rng::seed_from_u64(k as u64)), Arc::new(CpuEngine::new()));
        for (name, circuit) in [("digits", digits()), ("mobilenet-block", mobilenet_block())] {
            let k = circuit.k();
            eprintln!("quotient: keygen for {name} (k = {k})");
            let params = params(k).expect("engine params");
            let pk: ProvingKey<G1Affine> = params::keygen(params.stock(), &circuit.without_witnesses(), &mut |_| {}).expect("keygen");
            let sample = Sample::new(&params, &pk, 1 << QUOTIENT_LOG_ROWS, ChaCha20Rng::seed_from_u64(5)).expect("quotient sample");
            let [before, after] = sample.costs();
            assert_eq!(sample.grouped(&engine).unwrap(), sample.naive(), "{name}: the compiled quotient differs from the constraints");
            println!(
                "# quotient {name}: {} constraints' program, (ops, multiplications per row) {before:?} as compiled, {after:?} in {} folded group(s)",
                sample.program.outputs.len(),
                sample.groups.groups.len()
            );
            circuits.push(name);
            let mut g = c.benchmark_group("quotient");
            g.sampling_mode(SamplingMode::Flat);
            g.bench_function(BenchmarkId::new("naive", name), |b| b.iter(|| black_box(sample.naive())));
            g.bench_function(BenchmarkId::new("compiled", name), |b| b.iter(|| black_box(sample.grouped(&engine).unwrap())));
            if let Some(gpu) = &gpu {
                assert_eq!(sample.grouped(gpu).unwrap(), sample.naive(), "{name}: the generated kernels differ from the constraints");
                g.bench_function(BenchmarkId::new("cuda", name), |b| b.iter(|| black_box(sample.grouped(gpu).unwrap())));
            }
            g.finish();
        }
    }
    c.final_summary();

    println!("\n## medians (criterion estimates in {})\n", home.display());
    let cuda = gpu.is_some();
    println!("| op | size | halo2 (ms) | zkinfer cpu (ms) | ratio |{}", if cuda { " cuda resident (ms) | cuda transfer (ms) |" } else { "" });
    println!("|---|---|---|---|---|{}", if cuda { "---|---|" } else { "" });
    for (group, sizes) in [
        ("msm", (12..=gpu_msm_max).collect::<Vec<_>>()),
        ("msm-i8", i8_sizes),
        ("ntt", (12..=GPU_NTT_MAX_LOG.max(max_log)).collect()),
    ] {
        for log_n in sizes {
            let at = |f: &str| median_ms(&home, started, group, f, &log_n.to_string());
            let cells = [at("halo2"), at("zkinfer-cpu"), at("zkinfer-cuda"), at("cuda-transfer")];
            if cells.iter().all(Option::is_none) {
                continue;
            }
            println!("| {group} | 2^{log_n} | {} |{}", pair(cells[0], cells[1]), if cuda { format!(" {} | {} |", cell(cells[2]), cell(cells[3])) } else { String::new() });
        }
    }
    if cuda {
        let log_n = BATCH_LOG.min(gpu_msm_max).to_string();
        let at = |f: &str| median_ms(&home, started, "msm-batch-i8", f, &log_n);
        println!("\n| {BATCH_COLUMNS} int8 MSMs | size | one at a time (ms) | one batch (ms) | ratio |");
        println!("|---|---|---|---|---|");
        println!("| cuda resident | 2^{log_n} | {} |", pair(at("cuda-each"), at("cuda-batch")));
    }
    if circuits.is_empty() {
        return;
    }
    println!("\n| quotient program | rows | naive (ms) | compiled (ms) | ratio |{}", if cuda { " cuda (ms) |" } else { "" });
    println!("|---|---|---|---|---|{}", if cuda { "---|" } else { "" });
    for name in circuits {
        let at = |f: &str| median_ms(&home, started, "quotient", f, name);
        println!(
            "| {name} | 2^{QUOTIENT_LOG_ROWS} | {} |{}",
            pair(at("naive"), at("compiled")),
            if cuda { format!(" {} |", cell(at("cuda"))) } else { String::new() }
        );
    }
}

/// The positional filter criterion was given (if any), to skip the setup of groups it excludes.
struct Filter(Option<String>);

impl Filter {
    fn from_args() -> Filter {
        // criterion's options that take a value; anything else not starting with '-' is the filter.
        const VALUED: &[&str] = &[
            "--save-baseline", "-s", "--baseline", "-b", "--baseline-lenient", "--load-baseline", "--sample-size",
            "--warm-up-time", "--measurement-time", "--nresamples", "--noise-threshold", "--confidence-level",
            "--significance-level", "--profile-time", "--plotting-backend", "--output-format", "--color", "-c",
            "--format",
        ];
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < args.len() {
            if VALUED.contains(&args[i].as_str()) {
                i += 2;
            } else if args[i].starts_with('-') {
                i += 1;
            } else {
                return Filter(Some(args[i].clone()));
            }
        }
        Filter(None)
    }

    /// Whether a group could match: the filter names it, or names none of the groups (a regex we cannot judge).
    fn wants(&self, group: &str) -> bool {
        match &self.0 {
            None => true,
            Some(f) => f.contains(group) || !["msm", "ntt", "quotient"].iter().any(|g| f.contains(g)),
        }
    }
}

fn to_int8(x: &Fr) -> Fr {
    // Quantized-model witnesses: int8 values, negatives as r - |v|.
    let b = x.to_repr().as_ref()[0] as i8;
    if b < 0 {
        -Fr::from(b.unsigned_abs() as u64)
    } else {
        Fr::from(b as u64)
    }
}

/// Upload + download of `s`, the cost of moving a column that is not resident.
fn transfer(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, gpu: &CudaEngine, s: &[Fr], log_n: u32) {
    let mut out = vec![Fr::default(); s.len()];
    g.bench_function(BenchmarkId::new("cuda-transfer", log_n), |b| {
        b.iter(|| {
            let buf = gpu.upload(s).expect("upload");
            gpu.download(&buf, &mut out).expect("download");
        })
    });
}

/// A bundled model: from ZKINFER_FIXTURES, else the source tree this was built from, else ./model-import/fixtures
/// (a copied binary run from a checkout's root, as `ci/gpu-run` does).
fn fixture(name: &str) -> PathBuf {
    let dirs = [
        std::env::var_os("ZKINFER_FIXTURES").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../model-import/fixtures")),
        Some(PathBuf::from("model-import/fixtures")),
    ];
    let dir = dirs.into_iter().flatten().find(|d| d.join(name).is_file());
    dir.unwrap_or_else(|| panic!("{name} not found (set ZKINFER_FIXTURES to the folder holding it)")).join(name)
}

fn digits() -> ModelCircuit {
    let model = Arc::new(zkinfer_import::import(fixture("digits_int8.onnx")).expect("digits fixture"));
    let input = vec![0; model.input().shape.iter().product()];
    ModelCircuit::new(model, input, Visibility::HIDDEN_WEIGHTS_AND_INPUT).expect("digits circuit")
}

/// One inverted-residual block of MobileNet v2 0.35/96 (expand 1x1, depthwise 3x3, project 1x1, residual add at
/// 3x3x56), as the segment planner would cut it. Keygen needs no witness, so its entering tensor is zeros.
fn mobilenet_block() -> ModelCircuit {
    let model = Arc::new(zkinfer_import::import(fixture("mobilenet_v2_0.35_96_int8.onnx")).expect("MobileNet fixture"));
    let at = |name: &str| model.layers.iter().position(|l| l.name == name).unwrap_or_else(|| panic!("no layer {name}"));
    let seg = Segment::new(&model, at("conv51"), at("add54") + 1);
    let vis = Visibility::HIDDEN_WEIGHTS_AND_INPUT;
    let shape = plan::plan_segment(&model, &seg, &vis).expect("block plans");
    let inputs = seg.inputs.iter().map(|&t| vec![0; model.tensors[t].shape.iter().product()]).collect();
    ModelCircuit::segment(model.clone(), seg, inputs, vis, shape).expect("block circuit")
}

#[cfg(feature = "cuda")]
fn gpu_engine() -> Option<CudaEngine> {
    match CudaEngine::new() {
        Ok(e) => Some(e),
        Err(e) => {
            println!("# no GPU functions: {e}");
            None
        }
    }
}

#[cfg(not(feature = "cuda"))]
fn gpu_engine() -> Option<CudaEngine> {
    println!("# no GPU functions: built without `--features cuda`");
    None
}

/// criterion's median estimate of GROUP/FUNCTION/PARAMETER in milliseconds, if that benchmark ran in this run
/// (written after `started`; an earlier run's estimate is not this run's).
fn median_ms(home: &Path, started: std::time::SystemTime, group: &str, function: &str, parameter: &str) -> Option<f64> {
    let path = home.join(group).join(function).join(parameter).join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < started {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    Some(json["median"]["point_estimate"].as_f64()? / 1e6)
}

fn cell(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.3}"))
}

/// "a | b | b/a".
fn pair(a: Option<f64>, b: Option<f64>) -> String {
    let ratio = match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", b / a),
        _ => "-".into(),
    };
    format!("{} | {} | {ratio}", cell(a), cell(b))
}
