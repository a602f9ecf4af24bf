//! `zkinfer selftest` and `zkinfer engines`: a byte dot-product circuit proved end to end on the selected engine
//! (dev SRS), judged by the stock verifier — a quick check of the prover and engine without any model.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use halo2_proofs::plonk::{keygen_pk, keygen_vk, Circuit};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_testkit::DotProductCircuit;
use zkinfer_backend::stock_hook::{prove_stock_with_engine, verify_stock, EngineParams};
use zkinfer_backend::{plonk, select_engine, Bn256, EngineKind};

use super::prove::ProverKind;

pub fn engines() -> Result<()> {
    for kind in [EngineKind::Cpu, EngineKind::Cuda] {
        match select_engine(kind) {
            Ok(e) => println!("{kind:<5} available: {}", e.describe()),
            Err(e) => println!("{kind:<5} unavailable: {e}"),
        }
    }
    Ok(())
}

pub fn selftest(kind: EngineKind, prover: ProverKind, len: usize, seed: u64, json: bool, quiet: bool) -> Result<()> {
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
    let stock = ParamsKZG::<Bn256>::setup(k, &mut rng);
    let params = EngineParams::new(stock.clone(), engine).context("loading the SRS into the engine")?;
    let circuit = DotProductCircuit::random(len, &mut rng);
    let vk = keygen_vk(&params, &circuit.without_witnesses()).context("keygen_vk")?;
    let pk = keygen_pk(&params, vk, &circuit.without_witnesses()).context("keygen_pk")?;
    let setup_s = t.elapsed().as_secs_f64();
    say(format!("setup: {setup_s:.2} s"));

    let out = circuit.output();
    let t = Instant::now();
    let proof = match prover {
        ProverKind::Zkinfer => plonk::prove_blake2b(&params, &pk, &circuit, &[&[out]], &mut rng).context("proving")?.0,
        ProverKind::Stock => prove_stock_with_engine(&params, &pk, circuit, &[&[out]], &mut rng).context("proving")?,
    };
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
            format!("{prover:?}").to_lowercase(),
            proof.len(),
            blake2b_simd::blake2b(&proof).to_hex(),
        );
    } else {
        println!("verified: stock halo2-axiom verifier accepted the proof ({verify_ms:.1} ms)");
    }
    Ok(())
}
