use std::time::Instant;
use zkinfer_backend::engine::cpu::msm::{msm_with_plan, plan, MsmPlan};
use zkinfer_benches::{points, scalars};
fn main() {
    let log: u32 = std::env::args().nth(1).unwrap().parse().unwrap();
    let n = 1usize << log;
    let b = points(n, 1);
    let s = scalars(n, 2);
    println!("plan {:?}", plan(n, 2));
    for c in std::env::var("CS").map(|v| v.parse::<usize>().unwrap()).unwrap_or(10)..=std::env::var("CE").map(|v| v.parse::<usize>().unwrap()).unwrap_or(18) {
        for chunks in 1..=1 {
            let t = Instant::now();
            let reps = 3;
            for _ in 0..reps { std::hint::black_box(msm_with_plan(&b, false, &s, MsmPlan { window: c, chunks })); }
            println!("c={c} chunks={chunks} {:.1} ms", t.elapsed().as_secs_f64() * 1e3 / reps as f64);
        }
    }
}
