use std::time::Instant;
use halo2_proofs::halo2curves::ff::Field;
use zkinfer_backend::Fq;
fn main() {
    let mut a = Fq::from(12345u64); let b = Fq::from(987654321u64);
    let t = Instant::now();
    for _ in 0..10_000_000 { a = a * b; }
    println!("mul latency {:.1} ns {:?}", t.elapsed().as_secs_f64()*1e9/1e7, a.is_zero());
    let mut xs: Vec<Fq> = (0..1024).map(|i| Fq::from(i as u64 + 3)).collect();
    let t = Instant::now();
    for _ in 0..10_000 { for x in xs.iter_mut() { *x = *x * b; } }
    println!("mul throughput {:.1} ns", t.elapsed().as_secs_f64()*1e9/1.024e7);
    let t = Instant::now();
    for _ in 0..10_000 { for x in xs.iter_mut() { *x = x.square(); } }
    println!("sq throughput {:.1} ns", t.elapsed().as_secs_f64()*1e9/1.024e7);
    let t = Instant::now();
    let mut c = Fq::from(7u64);
    for _ in 0..100_000 { c = c.invert().unwrap() + b; }
    println!("invert {:.1} ns", t.elapsed().as_secs_f64()*1e9/1e5);
    println!("{:?}", xs[3].is_zero());
}
