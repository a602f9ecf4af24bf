//! Gadgets: one gate (or lookup use) each, laid out by row on the shared advice columns.

pub mod adder;
pub mod bias;
pub mod byte_store;
pub mod div_clip;
pub mod dot;
pub mod poseidon;

/// Parameter-column slots shared by the chained gates (dot, adder, pack).
pub const P_ZS: usize = 0;
pub const P_ZT: usize = 1;
pub const P_CHAIN: usize = 2;
