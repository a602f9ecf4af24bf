//! Requantisation: division by the shared denominator b = 2^(8·limbs), fused with the clamp (ReLU, ReLU6 and int8 saturation are
//! all clamps) through the one shared table. Each unit proves, for its two inputs x1, x2 and multipliers a1, a2:
//!     a1·(x1 − z1) + a2·(x2 − z2) + K = u·b + r,   r = Σ_i 256^i (ρ_i + 128) with every ρ_i a table byte,
//!     (u, y) a row of the clamp's tag: u ∈ [−2^clip_bits, 2^clip_bits), y = clamp(u, lo, hi).
//! With x1 = the accumulator, x2 = the bias, a1 = a2 = a, z1 = z2 = 0 and K = b/2 + z·b this is the bias add and
//! requantisation of a linear layer (y = clamp(floor((c·a + b/2)/b) + z)); with two activations, their zero points
//! and their own multipliers it is the residual add. All terms are bounded far below the field size, so the field
//! equation holds over the integers and u is the floor.
//! The multipliers are ADVICE cells (copied from the committed weight stream when weights are hidden, from the
//! constants column when public): they are learned from training, so keeping them out of the fixed columns keeps
//! the keys independent of the weights. z1, z2 and K depend on the activation zero points only (fixed).
//! Unit j uses lanes [j·lpu, (j+1)·lpu): (u, y) then the remainder bytes in pairs (an odd last one pairs with a
//! constant 0); x1, x2, a1, a2 sit at columns 2L + 4j .. 2L + 4j + 3; z1, z2, K are parameters 3j, 3j+1, 3j+2.
//! (The gate keeps its historical name "div_clip".)

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::ConstraintSystem;
use zkinfer_import::ir::Requant;

use crate::columns::{constant, Columns, GateQuery};
use crate::error::{CircuitError, Result};
use crate::layouter::{to_field, RowLayouter, Wire};
use crate::table::RANGE;

pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &Columns) {
    let s = &cols.shape;
    let (lpu, l2, limbs) = (s.lanes_per_unit(), 2 * s.lanes(), s.limbs);
    let b = Fr::from(1u64 << (8 * limbs));
    meta.create_gate("requant", |vc| {
        let mut q = GateQuery { meta: vc, cols };
        let sel = q.fixed(cols.q_requant, 0);
        (0..s.units)
            .map(|j| {
                let base = 2 * j * lpu;
                let (x1, x2) = (q.advice(l2 + 4 * j, 0), q.advice(l2 + 4 * j + 1, 0));
                let (a1, a2) = (q.advice(l2 + 4 * j + 2, 0), q.advice(l2 + 4 * j + 3, 0));
                let (z1, z2, k) = (q.param(3 * j, 0), q.param(3 * j + 1, 0), q.param(3 * j + 2, 0));
                let u = q.advice(base, 0);
                let mut r = constant(Fr::from(0));
                for i in 0..limbs {
                    r = r + constant(Fr::from(1u64 << (8 * i))) * (q.advice(base + 2 + i, 0) + constant(Fr::from(128)));
                }
                sel.clone() * (a1 * (x1 - z1) + a2 * (x2 - z2) + k - u * constant(b) - r)
            })
            .collect::<Vec<_>>()
    });
}

/// One requantisation: inputs, their zero points, multiplier cells, offset and clamp.
#[derive(Clone, Copy, Debug)]
pub struct Unit {
    pub x1: Wire,
    pub x2: Wire,
    pub a1: Wire,
    pub a2: Wire,
    pub z1: i64,
    pub z2: i64,
    pub k: i128,
    pub lo: i32,
    pub hi: i32,
}

impl Unit {
    /// The unit of a linear layer's output: (acc + bias)·a + b/2 + z·b over b = 2^bits, clamped; `a` is the
    /// multiplier's cell.
    pub fn linear(acc: Wire, bias: Wire, a: Wire, rq: &Requant, bits: u32) -> Unit {
        Unit { x1: acc, x2: bias, a1: a, a2: a, z1: 0, z2: 0, k: offset(rq.out.zero_point, bits), lo: rq.lo, hi: rq.hi }
    }

    /// The unit rescaling one value: requant(a·(x − z_x)) (the second input tied to `zero`, the constant 0 cell).
    pub fn single(x: Wire, z_x: i64, a: Wire, zero: Wire, rq: &Requant, bits: u32) -> Unit {
        Unit { z1: z_x, a2: zero, ..Unit::linear(x, zero, a, rq, bits) }
    }
}

/// K of a unit whose output has zero point `z`: b/2 (round half up) + z·b.
pub fn offset(z: i32, bits: u32) -> i128 {
    let b = 1i128 << bits;
    b / 2 + z as i128 * b
}

pub fn rows(n: usize, units: usize) -> usize {
    n.div_ceil(units)
}

/// Lays out the units `units` per row and returns their outputs y.
pub fn assign(lay: &mut RowLayouter, layer: &str, units: &[Unit]) -> Result<Vec<Wire>> {
    let s = lay.cols.shape.clone();
    let (lpu, l2, limbs) = (s.lanes_per_unit(), 2 * s.lanes(), s.limbs);
    let bits = 8 * limbs as u32;
    let bound = s.clip_bound();
    let start = lay.alloc(rows(units.len(), s.units))?;
    let zero = lay.constant(0)?;
    // Slots past the end hold the valid all-zero unit (inputs tied to 0, so every cell is still determined).
    let pad = Unit { x1: zero, x2: zero, a1: zero, a2: zero, z1: 0, z2: 0, k: 0, lo: s.clamps[0].0, hi: s.clamps[0].1 };
    let mut out = Vec::with_capacity(units.len());
    for (r, chunk) in units.chunks(s.units).enumerate() {
        let row = start + r;
        lay.set(lay.cols.q_requant, row);
        for j in 0..s.units {
            let un = chunk.get(j).unwrap_or(&pad);
            let v = un.a1.val as i128 * (un.x1.val - un.z1) as i128 + un.a2.val as i128 * (un.x2.val - un.z2) as i128 + un.k;
            let u = v >> bits;
            let rem = v - (u << bits);
            if u < -(bound as i128) || u >= bound as i128 {
                return Err(CircuitError::ClipRange { layer: layer.to_string(), value: u, bound });
            }
            let y = (u as i64).clamp(un.lo as i64, un.hi as i64);
            let base = j * lpu;
            lay.copy_in(l2 + 4 * j, row, &un.x1);
            lay.copy_in(l2 + 4 * j + 1, row, &un.x2);
            lay.copy_in(l2 + 4 * j + 2, row, &un.a1);
            lay.copy_in(l2 + 4 * j + 3, row, &un.a2);
            lay.param(3 * j, row, to_field(un.z1 as i128));
            lay.param(3 * j + 1, row, to_field(un.z2 as i128));
            lay.param(3 * j + 2, row, to_field(un.k));
            lay.tag(base, row, s.clamp_tag(un.lo, un.hi));
            lay.put(2 * base, row, u as i64);
            let yw = lay.put(2 * base + 1, row, y);
            for i in 0..limbs {
                let byte = ((rem >> (8 * i)) & 255) as i64 - 128;
                lay.put(2 * base + 2 + i, row, byte);
            }
            if limbs % 2 == 1 {
                lay.copy_in(2 * base + 2 + limbs, row, &zero);
            }
            for l in 1..lpu {
                lay.tag(base + l, row, RANGE);
            }
            if j < chunk.len() {
                out.push(yw);
            }
        }
    }
    Ok(out)
}
