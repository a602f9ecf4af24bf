//! Shared helpers for the zkinfer benchmarks.
