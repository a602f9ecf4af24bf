//! Gadgets: one gate (or lookup use) each, configured on the column set and laid out by row on the shared advice
//! columns. Each owns its gate, its row count and its layout.

pub mod adder;
pub mod byte_store;
pub mod dot;
pub mod int32;
pub mod poseidon;
pub mod requant;
