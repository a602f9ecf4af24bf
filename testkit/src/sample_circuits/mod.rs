//! Small circuits that exercise every part of a halo2 prover, used by the stock-verifier tests and the prover
//! benchmark. Each has a `tamper` switch that makes its witness violate one constraint (MockProver must fail and
//! no verifying proof may come out), and reports its public inputs.

pub mod copies;
pub mod fibonacci;
pub mod instances;
pub mod selectors;
pub mod tuple_lookup;

use crate::Fr;

/// What the tests need from a sample circuit besides `Circuit`.
pub trait Sample: halo2_proofs::plonk::Circuit<Fr> + Clone {
    /// Public inputs, one vector per instance column.
    fn instances(&self) -> Vec<Vec<Fr>>;
    /// The smallest k the circuit fits in.
    fn k(&self) -> u32;
    /// The same circuit with one constraint violated in its witness.
    fn tampered(&self) -> Self;
}

/// Smallest k with at least `rows` usable rows (leaving room for halo2's blinding rows).
pub fn k_for_rows(rows: usize) -> u32 {
    (rows + 12).next_power_of_two().trailing_zeros().max(4)
}
