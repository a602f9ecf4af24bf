//! Each gadget alone in a small circuit (the model circuit's columns and gates, with only that gadget's rows):
//! MockProver accepts, the gadget's outputs (published as instances) equal an independent computation, and a wrong
//! claimed output is rejected. Edge values: negative accumulators, exact halves, both clamp bounds, the clip
//! table's ends, dot lengths that are not multiples of the gate width, nonzero zero points.

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use zkinfer_circuits::columns::Columns;
use zkinfer_circuits::gadgets::requant::Unit;
use zkinfer_circuits::gadgets::{adder, byte_store, dot, requant};
use zkinfer_circuits::layouter::{to_field, RegionSink, RowLayouter, Wire};
use zkinfer_circuits::native::pack;
use zkinfer_circuits::{model, table, CircuitError, Shape};

type Body = fn(&mut RowLayouter, &[i64]) -> zkinfer_circuits::Result<()>;

#[derive(Clone)]
struct Gadget {
    shape: Shape,
    data: Vec<i64>,
    body: Body,
}

impl Circuit<Fr> for Gadget {
    type Config = Columns;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = Shape;
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn params(&self) -> Shape {
        self.shape.clone()
    }
    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: Shape) -> Columns {
        model::configure(meta, shape)
    }
    fn configure(_: &mut ConstraintSystem<Fr>) -> Columns {
        unreachable!()
    }
    fn synthesize(&self, config: Columns, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_region(
            || "gadget",
            |mut region| {
                let mut sink = RegionSink { region: &mut region };
                let mut lay = RowLayouter::new(&mut sink, &config);
                table::fill(&mut lay);
                (self.body)(&mut lay, &self.data).map_err(|_| Error::Synthesis)
            },
        )
    }
}

fn shape() -> Shape {
    Shape { width: 20, units: 2, limbs: 3, dot_n: 3, dot_m: 4, clamps: vec![(-128, 127), (-5, 6)], clip_bits: 10, functions: vec![], k: 17 }
}

/// Runs the gadget: MockProver must accept `expected` as its public outputs and reject a changed one.
fn run(data: Vec<i64>, body: Body, expected: Vec<i64>) {
    let g = Gadget { shape: shape(), data, body };
    let inst: Vec<Fr> = expected.iter().map(|v| to_field(*v as i128)).collect();
    MockProver::run(17, &g, vec![inst.clone()]).unwrap().assert_satisfied_par();
    let mut wrong = inst;
    wrong[0] += Fr::from(1);
    assert!(MockProver::run(17, &g, vec![wrong]).unwrap().verify_par().is_err());
}

fn fresh(lay: &mut RowLayouter, vals: &[i64]) -> zkinfer_circuits::Result<Vec<Wire>> {
    // Inputs enter as store bytes (range-checked) so every cell is constrained.
    Ok(byte_store::assign(lay, vals, None)?.0)
}

fn rescale_ref(v: i128, lo: i64, hi: i64) -> i64 {
    (v.div_euclid(1 << 24) as i64).clamp(lo, hi)
}

const UNITS: [(i64, i64, i64, i128, i32, i32); 9] = [
    // (x1, x2, a, k, lo, hi)
    (100, -3, 1 << 20, 1 << 23, -128, 127),
    (-100, 0, 1 << 20, 1 << 23, -128, 127),
    (8, 8, 1 << 23, 0, -128, 127),         // exact half: 8·2^23 + 8·2^23 = 2^27 → 8
    (-1, 0, 1, 0, -128, 127),              // −1 / 2^24 floors to −1
    (127, 127, 1 << 26, 0, -128, 127),     // u = 1016 → clamp to 127
    (-128, -128, 1 << 26, 0, -128, 127),   // u = −1024 → −128
    (50, 0, 1 << 24, 0, -5, 6),            // ReLU6-like clamp, upper
    (-50, 0, 1 << 24, 0, -5, 6),           // lower
    (-1024, 0, 1 << 24, 0, -128, 127),     // the clip table's lowest entry
];

#[test]
fn requant_units_match_floor_and_clamp() {
    let data: Vec<i64> = UNITS.iter().flat_map(|u| [u.0, u.1]).collect();
    let expected: Vec<i64> = UNITS
        .iter()
        .map(|&(x1, x2, a, k, lo, hi)| rescale_ref(a as i128 * (x1 + x2) as i128 + k, lo as i64, hi as i64))
        .collect();
    fn body(lay: &mut RowLayouter, d: &[i64]) -> zkinfer_circuits::Result<()> {
        // Inputs beyond int8 come in as sums of store bytes through the adder.
        let mut units = Vec::new();
        for (i, &(_, _, a, k, lo, hi)) in UNITS.iter().enumerate() {
            let x1 = split(lay, d[2 * i])?;
            let x2 = split(lay, d[2 * i + 1])?;
            let a = lay.constant(a)?;
            units.push(Unit { x1, x2, a1: a, a2: a, z1: 0, z2: 0, k, lo, hi });
        }
        for y in requant::assign(lay, "test", &units)? {
            lay.publish(y.cell, to_field(y.val as i128));
        }
        Ok(())
    }
    run(data, body, expected);
}

/// Any integer as a constrained cell: a sum of int8 store bytes through the adder.
fn split(lay: &mut RowLayouter, v: i64) -> zkinfer_circuits::Result<Wire> {
    let mut parts = Vec::new();
    let mut rest = v;
    while rest != 0 || parts.is_empty() {
        let p = rest.clamp(-128, 127);
        parts.push(p);
        rest -= p;
    }
    let cells = fresh(lay, &parts)?;
    adder::assign(lay, &cells, 0)
}

#[test]
fn requant_rejects_values_outside_the_clip_table() {
    let g = Gadget {
        shape: shape(),
        data: vec![],
        body: |lay, _| {
            let x = split(lay, 1025)?;
            let a = lay.constant(1 << 23)?;
            let r = requant::assign(lay, "big", &[Unit { x1: x, x2: x, a1: a, a2: a, z1: 0, z2: 0, k: 0, lo: -128, hi: 127 }]);
            assert!(matches!(r, Err(CircuitError::ClipRange { value: 1025, .. })), "{r:?}");
            Ok(())
        },
    };
    MockProver::run(17, &g, vec![vec![]]).unwrap();
}

#[test]
fn dot_products_with_zero_points_and_ragged_lengths() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    // Layout of `data`: [len, groups, zs, zt, s…, t_0…, t_1…].
    for (len, groups) in [(1, 1), (3, 4), (7, 2), (10, 3)] {
        let mut data = vec![len as i64, groups as i64, 3, -7];
        let vals: Vec<i64> = (0..len * (groups + 1)).map(|_| (rng.next_u32() % 256) as i64 - 128).collect();
        data.extend(&vals);
        let s = &vals[..len];
        let expected: Vec<i64> = (0..groups)
            .map(|j| (0..len).map(|i| (s[i] - 3) * (vals[len * (j + 1) + i] + 7)).sum())
            .collect();
        fn body(lay: &mut RowLayouter, d: &[i64]) -> zkinfer_circuits::Result<()> {
            let (len, groups) = (d[0] as usize, d[1] as usize);
            let cells = fresh(lay, &d[4..])?;
            let ts: Vec<_> = (0..groups).map(|j| cells[len * (j + 1)..len * (j + 2)].to_vec()).collect();
            for a in dot::assign(lay, &cells[..len], &ts, d[2], d[3])? {
                lay.publish(a.cell, to_field(a.val as i128));
            }
            Ok(())
        }
        run(data, body, expected);
    }
}

#[test]
fn adder_sums_across_rows() {
    let data: Vec<i64> = (0..45).map(|i| (i * 37 % 256) - 128).collect();
    let expected = vec![data.iter().map(|v| v - 5).sum()];
    run(data, |lay, d| {
        let cells = fresh(lay, d)?;
        let s = adder::assign(lay, &cells, 5)?;
        lay.publish(s.cell, to_field(s.val as i128));
        Ok(())
    }, expected);
}

#[test]
fn byte_store_packs_like_the_native_commitment() {
    let data: Vec<i64> = (0..67).map(|i| ((i * 91) % 256) - 128).collect();
    let g = Gadget {
        shape: shape(),
        data: data.clone(),
        body: |lay, d| {
            let (_, elems) = byte_store::assign(lay, d, None)?;
            for e in elems {
                lay.publish(e.cell, e.val);
            }
            Ok(())
        },
    };
    let inst = pack::pack(&data);
    MockProver::run(17, &g, vec![inst.clone()]).unwrap().assert_satisfied_par();
    let mut wrong = inst;
    wrong[2] += Fr::from(1);
    assert!(MockProver::run(17, &g, vec![wrong]).unwrap().verify_par().is_err());
}
