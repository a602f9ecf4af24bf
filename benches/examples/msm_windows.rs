//! Tuning aid for the CPU MSM cost model: times window widths and window groupings at one size next to the
//! planner's choice.
//!
//!   cargo run --release -p zkinfer-benches --example msm_windows -- N [C_MIN C_MAX [GROUP...]]
//!
//! N is a point count (2774) or a power of two written 2^20. GROUP is windows per task (default 1); 0 means all
//! windows in one task per thread.

use std::time::Instant;

use zkinfer_backend::engine::cpu::msm::{msm_with_plan, num_windows, plan, MsmPlan};
use zkinfer_benches::{points, scalars};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n_arg = args.first().expect("usage: msm_windows N [C_MIN C_MAX [GROUP...]]");
    let n = match n_arg.strip_prefix("2^") {
        Some(log) => 1usize << log.parse::<usize>().expect("2^LOG"),
        None => n_arg.parse().expect("a point count"),
    };
    let num = |i: usize, default: usize| args.get(i).map_or(default, |a| a.parse().expect("numbers only"));
    let (c_min, c_max) = (num(1, 8), num(2, 17));
    let groups: Vec<usize> = if args.len() > 3 { (3..args.len()).map(|i| num(i, 1)).collect() } else { vec![1] };
    let threads = rayon::current_num_threads();
    let bases = points(n, 1);
    let s = scalars(n, 2);
    let best = plan(n, threads, 254);
    let reps = if n < 1 << 14 { 50 } else { 3 };
    let time = |p: MsmPlan| {
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(msm_with_plan(&bases, false, &s, p));
        }
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    };
    println!("{n} points, {threads} threads, planner picks {best:?}: {:.2} ms", time(best));
    for window in c_min..=c_max {
        for &g in &groups {
            let group = if g == 0 { num_windows(window, 254).div_ceil(threads) } else { g };
            println!("c = {window:2}, group {group:3}: {:8.2} ms", time(MsmPlan { window, chunks: 1, group }));
        }
    }
}
