//! Quantized CNN circuits for zkinfer, written against halo2-axiom's frontend.
//!
//! The quantized model IR (`zkinfer-import`) becomes one [`ModelCircuit`]: dot-product and adder gates, ONE shared
//! lookup table for the requantisation (division by b + clamp) of every layer and for byte range checks, one layer
//! file per op (Conv2D incl. depthwise and pointwise, fully connected, Add, average pooling, Pad, Reshape), and
//! Poseidon commitments for whichever of weights, input and output are hidden. [`circuit_stats`] reports the size
//! without keygen; [`commit`] recomputes commitments natively.
//!
//! Modules depend one way, from the column set up to the model: `native` → `shape` → `columns` → `layouter` →
//! `table`, `gadgets` → `layers` → `segment` → `commit` → `plan` → `model` → `stats` → `segments` (the chain
//! planner).

pub mod columns;
pub mod commit;
pub mod error;
pub mod gadgets;
pub mod layers;
pub mod layouter;
pub mod model;
pub mod native;
pub mod plan;
pub mod segment;
pub mod segments;
pub mod shape;
pub mod stats;
pub mod table;
pub mod visibility;

pub use error::{CircuitError, Result};
pub use model::{ModelCircuit, Salts};
pub use segment::Segment;
pub use shape::Shape;
pub use stats::{circuit_stats, CircuitStats};
pub use visibility::Visibility;
