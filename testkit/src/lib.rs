//! Circuits for exercising provers, kept out of the libraries they test.
//!
//! - [`sample_circuits`]: small circuits that each stress one part of a halo2 prover (rotations, selectors, copies,
//!   instances, tuple lookups), with a `tampered` witness that must not verify.
//! - [`dot_product`]: [`DotProductCircuit`], a byte dot product (the core of a quantized layer) that touches every
//!   part of the prover at once; the CLI's `selftest` and `bench` prove it.
//! - [`fuzz`] (feature `fuzz`, tests only): the mutations and proptest configuration of the readers' fuzz tests.
//!
//! Only halo2-axiom types are used (not zkinfer-backend's), so the backend can take this crate as a dev-dependency.

pub mod dot_product;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod sample_circuits;

pub use dot_product::DotProductCircuit;
/// The scalar field every circuit here is over (BN254's Fr, through halo2-axiom's re-export, as in the backend).
pub use halo2_proofs::halo2curves::bn256::Fr;
