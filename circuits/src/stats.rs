//! `circuit_stats`: the circuit's size for a model and visibility — rows per section, columns, lookups, k and an
//! estimate of the prover's peak memory — from the planned shape alone (no keygen, no witness).

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::ConstraintSystem;
use zkinfer_import::QuantModel;

use crate::error::Result;
use crate::model::configure;
use crate::plan::{plan, segment_rows};
use crate::segment::Segment;
use crate::shape::Shape;
use crate::visibility::Visibility;

#[derive(Clone, Debug)]
pub struct CircuitStats {
    pub shape: Shape,
    pub k: u32,
    /// Rows the layout uses (the table and constants live in fixed columns alongside).
    pub rows: usize,
    pub advice_columns: usize,
    pub fixed_columns: usize,
    pub instance_columns: usize,
    pub lookups: usize,
    /// Permutation (copy-constraint) columns.
    pub permutation_columns: usize,
    pub gates: usize,
    pub degree: usize,
    pub table_rows: usize,
    /// (section, rows): commitments and one entry per layer.
    pub sections: Vec<(String, usize)>,
    /// Estimated peak resident memory of proving, bytes.
    pub prove_memory: u64,
    /// Estimated peak resident memory of setup (keygen), bytes.
    pub setup_memory: u64,
}

impl CircuitStats {
    /// 2^k × columns, the figure papers quote as the circuit's size.
    pub fn cells(&self) -> u64 {
        (1u64 << self.k) * (self.advice_columns + self.fixed_columns + self.instance_columns) as u64
    }
}

/// Stats of the whole model as one circuit of `shape`.
pub fn stats_for_shape(model: &QuantModel, vis: &Visibility, shape: Shape) -> CircuitStats {
    stats_for_segment(model, &Segment::whole(model), vis, shape)
}

/// Stats of one segment's circuit of `shape`.
pub fn stats_for_segment(model: &QuantModel, seg: &Segment, vis: &Visibility, shape: Shape) -> CircuitStats {
    let mut cs = ConstraintSystem::<Fr>::default();
    let _ = configure(&mut cs, shape.clone());
    let sections = segment_rows(model, seg, vis, &shape);
    let rows = sections.iter().map(|s| s.1).sum();
    let degree = cs.degree();
    let perm = cs.permutation().get_columns().len();
    let lookups = cs.lookups().len();
    let (adv, fixed) = (cs.num_advice_columns(), cs.num_fixed_columns());
    let (prove_memory, setup_memory) = memory_estimate(&cs, shape.k);
    CircuitStats {
        k: shape.k,
        rows,
        advice_columns: adv,
        fixed_columns: fixed,
        instance_columns: cs.num_instance_columns(),
        lookups,
        permutation_columns: perm,
        gates: cs.gates().iter().map(|g| g.polynomials().len()).sum(),
        degree,
        table_rows: shape.table_rows(),
        sections,
        prove_memory,
        setup_memory,
        shape,
    }
}

/// Estimated peak resident memory of (proving, setup) in bytes for any halo2 circuit with constraint system `cs` at
/// 2^k rows.
pub fn memory_estimate(cs: &ConstraintSystem<Fr>, k: u32) -> (u64, u64) {
    let n = 1u64 << k;
    let degree = cs.degree().max(3);
    let perm = cs.permutation().get_columns().len();
    let (adv, fixed) = (cs.num_advice_columns(), cs.num_fixed_columns());
    // Committed per-row polynomials (advice, lookup A'/S'/Z, permutation Z) in Lagrange and coefficient form,
    // plus the proving key (fixed values+polys, permutation sigmas), plus a few extended-coset work buffers.
    let perm_z = perm.div_ceil(degree - 2);
    let committed = (adv + 3 * cs.lookups().len() + perm_z) as u64;
    let key = (2 * fixed + 2 * perm) as u64;
    // The column count alone undershoots: measured peak RSS of `zkinfer prove` was 1.58× it for digits (k = 17,
    // 1.02 GiB) and 1.46× for MobileNet v2 0.35/96 (k = 20, 14.1 GiB), so the estimate is scaled by 1.6 to stay
    // on the safe side of the machine check.
    let prove = 32 * n * (2 * committed + key + 12) * 8 / 5;
    // Keygen: the key, the permutation's union-find (≈ 24 B per cell of each permutation column) and the fixed
    // columns' values during synthesis; scaled by 1.4 after `zkinfer setup` on 0.35/96 peaked at 8.8 GiB (1.35×).
    let setup = (32 * n * (key + fixed as u64) + 24 * n * perm as u64) * 7 / 5;
    (prove, setup)
}

/// Size of the circuit for `model` with `vis`, planned but not built.
pub fn circuit_stats(model: &QuantModel, vis: &Visibility) -> Result<CircuitStats> {
    Ok(stats_for_shape(model, vis, plan(model, vis)?))
}
