//! Quantized CNN circuits for zkinfer: dot-product / adder gates, the shared division-and-clip lookup, layer chips
//! and Poseidon commitments, written against halo2-axiom's frontend.
//!
//! Nothing lives here yet: the circuits arrive with the circuits issue.
