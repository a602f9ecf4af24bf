//! Quantized CNN circuits for zkinfer, written against halo2-axiom's frontend.
//!
//! The quantized model IR (`zkinfer-import`) becomes one [`ModelCircuit`]: dot-product and adder gates, ONE shared
//! lookup table for the division-by-b + clamp of every layer and for byte range checks, layer chips for Conv2D
//! (incl. depthwise and pointwise), fully connected, Add, average pooling, Pad and Reshape, and Poseidon
//! commitments for whichever of weights, input and output are hidden. [`circuit_stats`] reports the size without
//! keygen; [`commit`] recomputes commitments natively.

pub mod commit;
pub mod config;
pub mod error;
pub mod gadgets;
pub mod layers;
pub mod model;
pub mod poseidon;
pub mod shape;
pub mod sheet;
pub mod stats;
pub mod table;

pub use error::{CircuitError, Result};
pub use model::{ModelCircuit, Visibility};
pub use shape::Shape;
pub use stats::{circuit_stats, CircuitStats};
