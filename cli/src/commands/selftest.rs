//! `zkinfer selftest` and `zkinfer engines`: a byte dot-product circuit proved end to end on the selected engine
//! (dev SRS), judged by the stock verifier — a quick check of the prover and engine without any model.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use halo2_proofs::plonk::Circuit;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::params::{self, EngineParams};
use zkinfer_backend::provers::Prover;
use zkinfer_backend::stock::verify_stock;
use zkinfer_backend::{select_engine, EngineKind};
use zkinfer_testkit::DotProductCircuit;

pub fn engines() -> Result<()> {
    for kind in [EngineKind::Cpu, EngineKind::Cuda] {
        match select_engine(kind) {
            Ok(e) => println!("{kind:<5} available: {}", e.describe()),
            Err(e) => println!("{kind:<5} unavailable: {e}"),
        }
    }
    Ok(())
}

pub fn selftest(kind: EngineKind, prover: Prover, len: usize, seed: u64, json: bool, quiet: bool) -> Result<()> {
    if len == 0 {
        bail!("--len must be at least 1");
    }
    let say = |msg: String| {
        if !json && !quiet {
            eprintln!("{msg}");
        }
    };
    let engine = select_engine(kind)?;
    let k = DotProductCircuit::min_k(len);
    if k > 24 {
        bail!("--len {len} needs k = {k}; the selftest is capped at k = 24");
    }
    say(format!("engine: {}", engine.describe()));
    say(format!("circuit: dot product of {len} byte pairs, k = {k}"));
    say("setup: generating a DEV SRS locally — INSECURE, for testing only".into());

    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t = Instant::now();
    let stock = params::dev_srs(k, &mut rng);
    let params = EngineParams::new(stock.clone(), engine).context("loading the SRS into the engine")?;
    let circuit = DotProductCircuit::random(len, &mut rng);
    let pk = zkinfer_backend::plonk::keygen::keygen(&params, &circuit.without_witnesses(), false, &mut |_| {})?;
    let setup_s = t.elapsed().as_secs_f64();
    say(format!("setup: {setup_s:.2} s"));

    let out = circuit.output();
    let t = Instant::now();
    let proof = prover.prove(&params, &pk, &circuit, &[&[out]], &mut rng, &mut |_| {}).context("proving")?.proof;
    let prove_s = t.elapsed().as_secs_f64();
    say(format!("prove ({prover:?} prover): {prove_s:.2} s, {} bytes", proof.len()));

    let t = Instant::now();
    verify_stock(&stock, pk.get_vk(), &[&[out]], &proof)
        .map_err(|e| anyhow::anyhow!("the stock verifier rejected the proof: {e:?}"))?;
    let verify_ms = t.elapsed().as_secs_f64() * 1e3;
    if json {
        println!(
            "{{\"engine\":\"{}\",\"prover\":\"{}\",\"k\":{k},\"len\":{len},\"setup_s\":{setup_s:.3},\
             \"prove_s\":{prove_s:.3},\"verify_ms\":{verify_ms:.2},\"proof_bytes\":{},\"proof_blake2b\":\"{}\",\"verified\":true}}",
            params.engine().name(),
            prover.name(),
            proof.len(),
            blake2b_simd::blake2b(&proof).to_hex(),
        );
    } else {
        println!("verified: stock halo2-axiom verifier accepted the proof ({verify_ms:.1} ms)");
    }
    Ok(())
}
