//! Soundness by mutation: random single advice-cell changes over the witness of a segmented MobileNet v2
//! inverted-residual block (expand 1×1 | depthwise 3×3, project 1×1, residual add — the second segment, so its two
//! entering tensors and its output are salted link commitments) with hidden weights must ALL be rejected by halo2's
//! MockProver. A surviving mutation is an under-constrained cell.
//!
//! The honest witness is verified in full once. A change at row r can only alter the gates and lookup inputs
//! evaluated at rows r−1..r+1 (the gates' rotations are −1, 0, +1) and the copy constraints. So mutations are
//! applied in batches whose rows lie at least 5 apart; one `verify_at_rows` over all their windows reports failures
//! by row, and a mutation counts as rejected when a gate, lookup or copy fails inside its own window — where no
//! other change is visible, so the verdict is the one it would get alone. Any mutation not rejected that way is
//! re-run alone and checked in full. ZKINFER_MUTATIONS overrides the count (default 1000; 600 for the mobile ops).
//!
//! The mutations are made here, not in the library: [`Mutant`] lays the model circuit out through
//! `ModelCircuit::layout_on` (the seam its own `synthesize` writes through) into a sink that adds the deltas to the
//! advice cells as they are written.

mod common;

use std::collections::HashSet;

use halo2_proofs::circuit::{Cell, Layouter, SimpleFloorPlanner};
use halo2_proofs::dev::{FailureLocation, MockProver, VerifyFailure};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Fixed};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use zkinfer_circuits::columns::Columns;
use zkinfer_circuits::layouter::{RecordSink, RegionSink, Sink};
use zkinfer_circuits::{model, ModelCircuit, Shape};

const BATCH: usize = 64;

/// Deltas added to advice cells (column, row).
type Deltas = Vec<(usize, usize, Fr)>;

/// Passes every write on, adding the deltas to the advice cells they name.
struct TamperSink<'s> {
    inner: &'s mut dyn Sink,
    deltas: &'s [(usize, usize, Fr)],
}

impl Sink for TamperSink<'_> {
    fn advice(&mut self, col: Column<Advice>, row: usize, mut v: Fr) {
        for (c, r, d) in self.deltas {
            if *c == col.index() && *r == row {
                v += d;
            }
        }
        self.inner.advice(col, row, v);
    }
    fn fixed(&mut self, col: Column<Fixed>, row: usize, v: Fr) {
        self.inner.fixed(col, row, v);
    }
    fn copy(&mut self, a: Cell, b: Cell) {
        self.inner.copy(a, b);
    }
}

/// The model circuit with its witness changed by `deltas` (same columns, gates and fixed values).
#[derive(Clone)]
struct Mutant {
    circuit: ModelCircuit,
    deltas: Deltas,
}

impl Circuit<Fr> for Mutant {
    type Config = Columns;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = Shape;
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn params(&self) -> Shape {
        self.circuit.shape.clone()
    }
    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: Shape) -> Columns {
        model::configure(meta, shape)
    }
    fn configure(_: &mut ConstraintSystem<Fr>) -> Columns {
        unreachable!("configured from its Shape")
    }
    fn synthesize(&self, cols: Columns, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_region(
            || "model",
            |mut region| {
                let mut sink = TamperSink { inner: &mut RegionSink { region: &mut region }, deltas: &self.deltas };
                self.circuit.layout_on(&mut sink, &cols).map(|_| ()).map_err(|_| Error::Synthesis)
            },
        )
    }
}

/// The row a failure is reported at (the circuit is one region starting at row 0, so offsets are rows).
fn failure_row(f: &VerifyFailure) -> Option<usize> {
    let loc = match f {
        VerifyFailure::ConstraintNotSatisfied { location, .. } => location,
        VerifyFailure::Lookup { location, .. } => location,
        VerifyFailure::Permutation { location, .. } => location,
        _ => return None,
    };
    Some(match loc {
        FailureLocation::InRegion { offset, .. } => *offset,
        FailureLocation::OutsideRegion { row } => *row,
    })
}

#[test]
fn mutation() {
    let (model, input) = common::inverted_residual(21, 4, 4, 6);
    let n_layers = model.layers.len();
    let circuit = common::check_segment(&model, &input, 1, n_layers, common::HIDDEN);
    assert_eq!(circuit.segment.inputs.len(), 2, "the block input and the expanded tensor enter the segment");
    mutate(&circuit, 1000);
}

/// The mobile-CNN ops (table activations, broadcast Mul, MaxPool, rescaled Concat, channel shuffle, broadcast
/// Add) in one network with hidden weights: every mutation rejected too.
#[test]
fn mutation_mobile_ops() {
    let (model, input) = common::mobile_ops(22);
    let circuit = common::check(model, input, common::HIDDEN);
    mutate(&circuit, 600);
}

/// Applies `default` random single-cell mutations (ZKINFER_MUTATIONS overrides) and requires every one rejected.
fn mutate(circuit: &ModelCircuit, default: usize) {
    let instances = vec![circuit.instances().unwrap()];
    let mut rec = RecordSink::default();
    circuit.layout(&mut rec).unwrap();
    let cells = rec.cells;
    let n: usize = std::env::var("ZKINFER_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let usable = (1usize << circuit.k()) - zkinfer_circuits::shape::RESERVED_ROWS;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mutations: Deltas = (0..n)
        .map(|i| {
            let (col, row) = cells[rng.next_u64() as usize % cells.len()];
            // Small deltas (±1, +256: values that often stay in range) and random field elements.
            let delta = match i % 4 {
                0 => Fr::ONE,
                1 => -Fr::ONE,
                2 => Fr::from(256),
                _ => Fr::random(&mut rng),
            };
            (col, row, delta)
        })
        .collect();
    let window = |row: usize| row.saturating_sub(1)..(row + 2).min(usable);
    let mut pending: Deltas = mutations.clone();
    let mut unresolved = Vec::new();
    while !pending.is_empty() {
        let mut batch: Deltas = Vec::new();
        let mut rest = Vec::new();
        for m in pending {
            if batch.len() < BATCH && batch.iter().all(|b| b.1.abs_diff(m.1) >= 5) {
                batch.push(m);
            } else {
                rest.push(m);
            }
        }
        pending = rest;
        let mutant = Mutant { circuit: circuit.clone(), deltas: batch.clone() };
        let prover = MockProver::<Fr>::run(circuit.k(), &mutant, instances.clone()).unwrap();
        let mut rows: Vec<usize> = batch.iter().flat_map(|m| window(m.1)).collect();
        rows.sort_unstable();
        let failed: HashSet<usize> = match prover.verify_at_rows(rows.iter().copied(), rows.iter().copied()) {
            Ok(()) => HashSet::new(),
            Err(fs) => fs.iter().filter_map(failure_row).collect(),
        };
        for m in batch {
            if !window(m.1).any(|r| failed.contains(&r)) {
                unresolved.push(m);
            }
        }
    }
    let mut survivors = Vec::new();
    for m in &unresolved {
        let mutant = Mutant { circuit: circuit.clone(), deltas: vec![*m] };
        let prover = MockProver::<Fr>::run(circuit.k(), &mutant, instances.clone()).unwrap();
        if prover.verify_par().is_ok() {
            survivors.push(*m);
        }
    }
    println!(
        "{}/{} mutations rejected ({} by copy constraints alone; sampled from {} assigned cells)",
        n - survivors.len(),
        n,
        unresolved.len() - survivors.len(),
        cells.len()
    );
    assert!(survivors.is_empty(), "under-constrained cells (column, row, delta): {survivors:?}");
}
