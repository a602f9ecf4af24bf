//! Native (out-of-circuit) computations the circuit must match: the Poseidon permutation and chain hash, and the
//! packing of committed byte streams.

pub mod pack;
pub mod poseidon;
