//! The one dispatch between the two provers every command can run: zkinfer's own ([`plonk`]) and halo2-axiom's
//! stock `create_proof` ([`stock`]). Both write the Blake2b transcript halo2-axiom's stock verifier reads (SHPLONK
//! over KZG/BN254), so a proof from either verifies with [`stock::verify_stock`].

use halo2_proofs::plonk::{Circuit, ProvingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_core::RngCore;

use crate::params::EngineParams;
use crate::plonk::{self, ProveError, ProveStats};
use crate::{stock, Bn256, Fr, G1Affine};

/// Which prover makes the proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Prover {
    /// zkinfer's prover: every MSM, NTT and the quotient on the engine.
    Zkinfer,
    /// halo2-axiom's stock create_proof, with only its commitment MSMs on the engine.
    Stock,
}

/// The SRS a proof commits with.
#[derive(Clone, Copy, Debug)]
pub enum ProverParams<'a> {
    /// Loaded into an engine (the MSMs zkinfer's prover, or the stock prover's commitments, run on).
    Engine(&'a EngineParams),
    /// halo2-axiom's own params: the stock prover untouched (its own MSMs and FFTs), the benchmarks' baseline.
    Halo2(&'a ParamsKZG<Bn256>),
}

impl<'a> From<&'a EngineParams> for ProverParams<'a> {
    fn from(p: &'a EngineParams) -> Self {
        ProverParams::Engine(p)
    }
}

impl<'a> From<&'a ParamsKZG<Bn256>> for ProverParams<'a> {
    fn from(p: &'a ParamsKZG<Bn256>) -> Self {
        ProverParams::Halo2(p)
    }
}

/// A proof and, from zkinfer's prover, the time of each phase.
#[derive(Clone, Debug)]
pub struct Proved {
    pub proof: Vec<u8>,
    pub stats: Option<ProveStats>,
}

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    #[error(transparent)]
    Zkinfer(#[from] ProveError),
    /// halo2's errors say little in their `Display`; the `Debug` form names the failing constraint or lookup.
    #[error("{0:?}")]
    Stock(halo2_proofs::plonk::Error),
    #[error("zkinfer's prover runs on an engine: load the SRS into one (EngineParams)")]
    NeedsEngine,
}

impl Prover {
    /// Every prover, in the order the CLI lists them.
    pub const ALL: [Prover; 2] = [Prover::Zkinfer, Prover::Stock];

    /// The name commands take and report ("zkinfer", "stock").
    pub fn name(self) -> &'static str {
        match self {
            Prover::Zkinfer => "zkinfer",
            Prover::Stock => "stock",
        }
    }

    /// Who wrote the prover (progress lines, benchmark tables).
    pub fn label(self) -> &'static str {
        match self {
            Prover::Zkinfer => "zkinfer",
            Prover::Stock => "halo2-axiom stock",
        }
    }

    /// One line saying what the prover runs where (help texts).
    pub fn describe(self) -> &'static str {
        match self {
            Prover::Zkinfer => "zkinfer's prover: every MSM, NTT and the quotient on the engine",
            Prover::Stock => "halo2-axiom's stock create_proof, with only its commitment MSMs on the engine",
        }
    }

    /// The phases [`Prover::prove`] reports to its observer, in order (none from the stock prover).
    pub fn phases(self) -> &'static [&'static str] {
        match self {
            Prover::Zkinfer => &plonk::PHASES,
            Prover::Stock => &[],
        }
    }

    /// Proves `circuit` with public `instances` (one slice per instance column) into a fresh Blake2b transcript.
    /// `on_phase` gets each of [`Prover::phases`] as it finishes. With zkinfer's prover the same `rng` stream gives
    /// the same proof bytes; the stock prover's lookup permutation is not deterministic. The stock prover takes its
    /// circuit by value, so it proves a clone.
    pub fn prove<'a, C: Circuit<Fr> + Clone>(
        self,
        params: impl Into<ProverParams<'a>>,
        pk: &ProvingKey<G1Affine>,
        circuit: &C,
        instances: &[&[Fr]],
        rng: impl RngCore,
        on_phase: &mut dyn FnMut(&'static str),
    ) -> Result<Proved, ProverError> {
        match (self, params.into()) {
            (Prover::Zkinfer, ProverParams::Engine(p)) => {
                let (proof, stats) = plonk::prove_blake2b_observed(p, pk, circuit, instances, rng, on_phase)?;
                Ok(Proved { proof, stats: Some(stats) })
            }
            (Prover::Zkinfer, ProverParams::Halo2(_)) => Err(ProverError::NeedsEngine),
            (Prover::Stock, ProverParams::Engine(p)) => {
                let proof = stock::prove_stock_with_engine(p, pk, circuit.clone(), instances, rng)
                    .map_err(ProverError::Stock)?;
                Ok(Proved { proof, stats: None })
            }
            (Prover::Stock, ProverParams::Halo2(p)) => {
                let proof =
                    stock::prove_stock(p, pk, circuit.clone(), instances, rng).map_err(ProverError::Stock)?;
                Ok(Proved { proof, stats: None })
            }
        }
    }
}
