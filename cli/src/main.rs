//! `zkinfer` — prove quantized CNN inference with halo2 (KZG over BN254).
//!
//! Subcommands available so far:
//! - `engines`: which proving engines this build and machine offer.
//! - `selftest`: setup (dev SRS), prove and verify a real circuit end to end with zkinfer's prover (or the stock
//!   one) on the selected engine, with the stock halo2-axiom verifier as the judge.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use halo2_proofs::plonk::{keygen_pk, keygen_vk, Circuit};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zkinfer_backend::demo_circuit::DotProductCircuit;
use zkinfer_backend::stock_hook::{prove_stock_with_engine, verify_stock, EngineParams};
use zkinfer_backend::{plonk, select_engine, Bn256, EngineKind};

#[derive(Parser)]
#[command(name = "zkinfer", version, about = "Zero-knowledge proofs of quantized CNN inference (halo2, KZG/BN254)")]
struct Cli {
    /// More log output (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ProverKind {
    Zkinfer,
    Stock,
}

#[derive(Subcommand)]
enum Command {
    /// Show the proving engines this build and machine can use.
    Engines,
    /// Setup, prove and verify a byte dot-product circuit end to end (dev SRS), checked by the stock verifier.
    Selftest {
        /// Engine for the heavy kernels: auto, cpu or cuda.
        #[arg(long, default_value = "auto")]
        engine: EngineKind,
        /// zkinfer's own prover (every MSM, NTT and the quotient on the engine) or halo2-axiom's stock prover
        /// with only its commitment MSMs on the engine.
        #[arg(long, value_enum, default_value_t = ProverKind::Zkinfer)]
        prover: ProverKind,
        /// Number of byte products in the circuit (k grows with it).
        #[arg(long, default_value_t = 30_000)]
        len: usize,
        /// Seed for the dev SRS, the witness and the prover's randomness.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the result as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.quiet {
        "error"
    } else {
        ["warn", "info", "debug"][cli.verbose.min(2) as usize]
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
    let result = match cli.command {
        Command::Engines => engines(),
        Command::Selftest {
            engine,
            prover,
            len,
            seed,
            json,
        } => selftest(engine, prover, len, seed, json, cli.quiet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn engines() -> Result<()> {
    for kind in [EngineKind::Cpu, EngineKind::Cuda] {
        match select_engine(kind) {
            Ok(e) => println!("{kind:<5} available: {}", e.describe()),
            Err(e) => println!("{kind:<5} unavailable: {e}"),
        }
    }
    Ok(())
}

fn selftest(kind: EngineKind, prover: ProverKind, len: usize, seed: u64, json: bool, quiet: bool) -> Result<()> {
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
             \"prove_s\":{prove_s:.3},\"verify_ms\":{verify_ms:.2},\"proof_bytes\":{},\"verified\":true}}",
            params.engine().name(),
            format!("{prover:?}").to_lowercase(),
            proof.len(),
        );
    } else {
        println!("verified: stock halo2-axiom verifier accepted the proof ({verify_ms:.1} ms)");
    }
    Ok(())
}
