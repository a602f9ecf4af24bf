//! Engine micro-benchmarks: CpuEngine against halo2's own kernels, measured side by side in one run.
//!
//!   cargo bench -p zkinfer-benches --bench engine [-- msm|ntt] [--max-log K]
//!
//! MSM: CpuEngine (bases loaded once, as the prover uses them) vs halo2curves `msm_best` at 2^12..2^20, with
//! uniform scalars and (`msm-i8`) int8 values as quantized witnesses hold them.
//! NTT: CpuEngine forward NTT vs halo2-axiom `best_fft` at 2^12..2^22.
//! Prints a markdown table with the ratio zkinfer / halo2 per size (< 1 means zkinfer is faster).

use std::hint::black_box;
use std::time::Duration;

use halo2_proofs::arithmetic::best_fft;
use halo2_proofs::fft::recursive::FFTData;
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::halo2curves::msm::msm_best;
use zkinfer_backend::engine::root_of_unity;
use zkinfer_backend::{CpuEngine, Engine, Fr, NttDirection};
use zkinfer_benches::{compare, ms, points, scalars};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut filters = Vec::new();
    let mut max_log = 22u32;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--max-log" {
            max_log = it.next().and_then(|v| v.parse().ok()).expect("--max-log takes a number");
        } else if !a.starts_with('-') {
            filters.push(a.clone());
        }
    }
    let wants = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let engine = CpuEngine::new();
    println!("# engine benchmark: {}", engine.describe());
    println!();
    println!("| op | size | halo2 (ms) | zkinfer cpu (ms) | ratio | reps |");
    println!("|---|---|---|---|---|---|");

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
        let bases = points(1 << msm_max, 1);
        let handle = engine.load_bases(&bases).expect("load bases");
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
                    Duration::from_secs(6),
                    3,
                    50,
                );
                row(name, log_n, t_stock, t_ours, reps);
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
                Duration::from_secs(6),
                3,
                50,
            );
            row("ntt", log_n, t_stock, t_ours, reps);
        }
    }
}

fn row(op: &str, log_n: u32, stock: Duration, ours: Duration, reps: usize) {
    println!(
        "| {op} | 2^{log_n} | {:.2} | {:.2} | {:.2} | {reps} |",
        ms(stock),
        ms(ours),
        ours.as_secs_f64() / stock.as_secs_f64()
    );
}
