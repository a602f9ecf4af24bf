//! Tuning aid for the CPU MSM cost model: times every window width at one size next to the planner's choice.
//!
//!   cargo run --release -p zkinfer-benches --example msm_windows -- LOG_N [C_MIN C_MAX]

use std::time::Instant;

use zkinfer_backend::engine::cpu::msm::{msm_with_plan, plan, MsmPlan};
use zkinfer_benches::{points, scalars};

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("numbers only")).collect();
    let log_n = *args.first().expect("usage: msm_windows LOG_N [C_MIN C_MAX]");
    let (c_min, c_max) = (args.get(1).copied().unwrap_or(8), args.get(2).copied().unwrap_or(17));
    let n = 1usize << log_n;
    let bases = points(n, 1);
    let s = scalars(n, 2);
    println!("2^{log_n} points, {} threads, planner picks {:?}", rayon::current_num_threads(), plan(n, rayon::current_num_threads(), 254));
    for window in c_min..=c_max {
        let reps = 3;
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(msm_with_plan(&bases, false, &s, MsmPlan { window, chunks: 1 }));
        }
        println!("c = {window:2}: {:8.1} ms", t.elapsed().as_secs_f64() * 1e3 / reps as f64);
    }
}
