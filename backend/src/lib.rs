//! zkinfer proving backend.
//!
//! Every heavy kernel of the prover — multi-scalar multiplication over BN254 G1 and number-theoretic transforms over
//! Fr — goes through the [`engine::Engine`] trait, the only seam between the prover and the hardware. This crate holds
//! the trait, the CPU (rayon) implementation, engine selection, the SRS and keygen ([`params`]), the checked readers of
//! key files ([`key_files`]), zkinfer's prover
//! ([`plonk`]), halo2-axiom's stock prover with its commitment MSMs on an engine ([`stock`]), and the one dispatch
//! between the two ([`provers`]), zkinfer's batch verifier for those proofs ([`verifier`]) and the bundle verifier
//! built on it: many proofs, one pairing ([`bundle`]).

pub mod bundle;
pub mod engine;
pub mod key_files;
pub mod params;
pub mod plonk;
pub mod provers;
pub mod stock;
pub mod verifier;

pub use engine::{
    cpu::CpuEngine, select::select_engine, Bases, Engine, EngineError, EngineKind, NttDirection,
    ScalarBuffer,
};
/// The curve types used everywhere in zkinfer (one copy, through halo2-axiom's re-export).
pub use halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fr, G1Affine, G1};
