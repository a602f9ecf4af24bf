//! Segments: cuts carry exactly the live tensors; a chain of segment circuits links by equal commitments (same
//! salt on both sides of a cut) and reproduces the unsegmented output; the chain planner keeps every segment
//! inside its budget; identical circuits (and the same architecture with other weights) share one key digest.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_circuits::segment::live_at;
use zkinfer_circuits::segments::{plan_chain, Budget};
use zkinfer_circuits::{commit, plan, ModelCircuit, Salts, Segment, Visibility};
use zkinfer_import::QuantModel;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../model-import/fixtures").join(name)
}

fn digits() -> (Arc<QuantModel>, Vec<i32>) {
    let model = Arc::new(zkinfer_import::import(fixture("digits_int8.onnx")).unwrap());
    let x = zkinfer_import::npy::read_f32(fixture("digits_test_x.npy").to_str().unwrap()).unwrap();
    let per: usize = model.input().shape.iter().product();
    let input = zkinfer_import::reference::quantize_input(&x.data[..per], model.input().q);
    (model, input)
}

#[test]
fn live_tensors_at_the_cuts_of_a_residual_block() {
    let (model, _) = common::inverted_residual(3, 4, 4, 2);
    let t = |i: usize| model.layers[i].output;
    assert_eq!(live_at(&model, 0), vec![0]);
    // Inside the block the block input stays live for the residual add.
    assert_eq!(live_at(&model, 1), vec![0, t(0)]);
    assert_eq!(live_at(&model, 3), vec![0, t(2)]);
    assert_eq!(live_at(&model, 4), vec![model.output]);
}

/// Proves every segment of a chain under MockProver with the salts a prover would use (one seed for the links),
/// checks each link's two sides are equal commitments, and returns the last segment's output.
fn prove_chain(model: &Arc<QuantModel>, input: &[i32], chain: &[Segment], vis: Visibility) -> Vec<i32> {
    let values = zkinfer_import::reference::run_all(model, input).unwrap();
    let seed = Fr::from(77);
    let mut prev_out: Option<Vec<Fr>> = None;
    let mut output = Vec::new();
    for (i, seg) in chain.iter().enumerate() {
        let inputs = seg.inputs.iter().map(|&t| values[t].clone()).collect();
        let shape = plan::plan_segment(model, seg, &vis).unwrap();
        let mut c = ModelCircuit::segment(model.clone(), seg.clone(), inputs, vis, shape).unwrap();
        c.salts = Salts {
            weights: commit::weights_salt(seed, i),
            inputs: seg.inputs.iter().map(|&t| commit::link_salt(seed, seg.start, t)).collect(),
            outputs: seg.outputs.iter().map(|&t| commit::link_salt(seed, seg.end, t)).collect(),
        };
        let (inst, outs) = c.instances_and_outputs().unwrap();
        let prover = halo2_proofs::dev::MockProver::<Fr>::run(c.k(), &c, vec![inst.clone()]).unwrap();
        prover.assert_satisfied_par();
        let w = usize::from(vis.hide_weights);
        let ins = &inst[w..w + seg.inputs.len()];
        if let Some(prev) = &prev_out {
            assert_eq!(prev.as_slice(), ins, "segment {i}: entering commitments differ from segment {}'s leaving ones", i - 1);
        }
        prev_out = Some(inst[w + seg.inputs.len()..].to_vec());
        output = outs.last().unwrap().clone();
    }
    output
}

#[test]
fn digits_in_three_segments_gives_the_unsegmented_output() {
    let (model, input) = digits();
    let vis = Visibility { hide_input: true, hide_weights: true, hide_output: true };
    let budget = Budget { min_segments: 3, ..Budget::memory(u64::MAX) };
    let chain: Vec<Segment> = plan_chain(&model, &vis, &budget).unwrap().into_iter().map(|p| p.segment).collect();
    assert!(chain.len() >= 3, "{chain:?}");
    assert_eq!(chain[0].start, 0);
    assert_eq!(chain.last().unwrap().end, model.layers.len());
    for w in chain.windows(2) {
        assert_eq!(w[0].end, w[1].start);
        assert_eq!(w[0].outputs, w[1].inputs);
    }
    let out = prove_chain(&model, &input, &chain, vis);
    assert_eq!(out, zkinfer_import::reference::run(&model, &input).unwrap());
}

#[test]
fn residual_block_split_inside_carries_the_skip_tensor() {
    let (model, input) = common::inverted_residual(5, 4, 4, 3);
    let chain = [Segment::new(&model, 0, 2), Segment::new(&model, 2, 4)];
    assert_eq!(chain[0].outputs.len(), 2, "the skip tensor crosses the cut");
    let out = prove_chain(&model, &input, &chain, Visibility::HIDDEN_WEIGHTS_AND_INPUT);
    assert_eq!(out, zkinfer_import::reference::run(&model, &input).unwrap());
    // Each segment passes MockProver with its own public values, link commitments included.
    common::check_segment(&model, &input, 0, 2, Visibility::HIDDEN_WEIGHTS_AND_INPUT);
    common::check_segment(&model, &input, 2, 4, Visibility::HIDDEN_WEIGHTS_AND_INPUT);
}

#[test]
fn a_segment_fed_another_tensor_commits_to_something_else() {
    // Segment 2 proved on a different tensor than segment 1 produced: its proof is valid, but its entering
    // commitment differs from segment 1's leaving one, so the link check rejects the chain.
    let (model, input) = common::inverted_residual(9, 4, 4, 2);
    let values = zkinfer_import::reference::run_all(&model, &input).unwrap();
    let seg = Segment::new(&model, 1, 4);
    let vis = Visibility::HIDDEN_WEIGHTS_AND_INPUT;
    let shape = plan::plan_segment(&model, &seg, &vis).unwrap();
    let salt = Fr::from(5);
    let honest: Vec<Vec<i32>> = seg.inputs.iter().map(|&t| values[t].clone()).collect();
    let mut forged = honest.clone();
    forged[1][0] = if forged[1][0] == 0 { 1 } else { 0 };
    let commitments = |inputs: Vec<Vec<i32>>| {
        let mut c = ModelCircuit::segment(model.clone(), seg.clone(), inputs, vis, shape.clone()).unwrap();
        c.salts.inputs = vec![salt; seg.inputs.len()];
        c.instances().unwrap()[1..1 + seg.inputs.len()].to_vec()
    };
    assert_ne!(commitments(honest), commitments(forged));
}

#[test]
fn keys_depend_on_the_architecture_not_the_weights() {
    let vis = Visibility::HIDDEN_WEIGHTS_AND_INPUT;
    let a = Arc::new(zkinfer_import::import(fixture("digits_int8.onnx")).unwrap());
    let b = Arc::new(zkinfer_import::import(fixture("digits_reweighted_int8.onnx")).unwrap());
    let whole = Segment::whole(&a);
    let shape = plan::plan(&a, &vis).unwrap();
    assert_eq!(shape, plan::plan(&b, &vis).unwrap());
    let digest = |m: &Arc<QuantModel>, v: Visibility| {
        ModelCircuit::for_keygen(m.clone(), whole.clone(), v, plan::plan(m, &v).unwrap()).unwrap().circuit_digest().unwrap()
    };
    // Hidden weights: the same circuit (weights, biases and multipliers are advice)…
    assert_eq!(digest(&a, vis), digest(&b, vis));
    // …and the digest does not depend on the witness either.
    let (_, input) = digits();
    let real = ModelCircuit::with_shape(a.clone(), input, vis, shape).unwrap();
    assert_eq!(real.circuit_digest().unwrap(), digest(&a, vis));
    // Public weights are constants: other weights, other keys.
    let public = Visibility { hide_weights: false, ..vis };
    assert_ne!(digest(&a, public), digest(&b, public));
    // The weights commitments differ.
    let salt = Fr::from(3);
    assert_ne!(commit::commit_weights(&a, &whole, salt).unwrap(), commit::commit_weights(&b, &whole, salt).unwrap());
}

#[test]
fn mobilenet_chain_fits_the_budget() {
    let vis = Visibility::HIDDEN_WEIGHTS_AND_INPUT;
    let model = zkinfer_import::import(fixture("mobilenet_v2_0.5_224_int8.onnx")).unwrap();
    let budget = Budget { memory: 11 << 30, max_k: 22, min_segments: 1 };
    let chain = plan_chain(&model, &vis, &budget).unwrap();
    assert!(chain.len() > 1);
    for p in &chain {
        assert!(p.memory() <= budget.memory && p.shape.k <= budget.max_k, "{:?}", p.segment);
    }
    // Most cuts carry one tensor (between inverted-residual blocks).
    let single = chain.windows(2).filter(|w| w[0].segment.outputs.len() == 1).count();
    assert!(single * 2 >= chain.len() - 1, "cuts: {:?}", chain.iter().map(|p| &p.segment.outputs).collect::<Vec<_>>());
    for p in &chain {
        println!("layers {:>3}..{:<3} k = {} rows = {:>8} est. {:.1} GiB", p.segment.start, p.segment.end, p.shape.k, p.stats.rows, p.memory() as f64 / (1u64 << 30) as f64);
    }
    // A budget no single layer fits is a clear error naming the layer.
    let err = plan_chain(&model, &vis, &Budget { memory: 1 << 20, max_k: 26, min_segments: 1 }).unwrap_err().to_string();
    assert!(err.contains("alone"), "{err}");
}

#[test]
fn layers_split_by_channels_compute_the_same_and_chain_between_parts() {
    let (model, input) = common::inverted_residual(13, 4, 4, 3);
    let want = zkinfer_import::reference::run(&model, &input).unwrap();
    let vis = Visibility::HIDDEN_WEIGHTS_AND_INPUT;
    // Every kind: pointwise expand (groups 1), depthwise, project, residual add.
    for layer in 0..model.layers.len() {
        let (split, parts) = zkinfer_import::split::split_channels(&model, layer, 3).unwrap();
        assert_eq!(parts.len(), 3);
        let split = Arc::new(split);
        assert_eq!(zkinfer_import::reference::run(&split, &input).unwrap(), want, "layer {layer} split");
        // Cut between the first and second part: the chain still gives the same output, under MockProver.
        let cut = parts[0].1;
        let chain = [Segment::new(&split, 0, cut), Segment::new(&split, cut, split.layers.len())];
        assert_eq!(prove_chain(&split, &input, &chain, vis), want, "layer {layer} split, chained");
    }
    // The planner splits a layer that no segment can hold alone, and the result still computes the same.
    let model = zkinfer_import::import(fixture("mobilenet_v2_0.75_192_int8.onnx")).unwrap();
    let plan = zkinfer_circuits::segments::plan_model(&model, &vis, &Budget { memory: 11 << 30, max_k: 26, min_segments: 1 }).unwrap();
    assert!(!plan.splits.is_empty(), "0.75/192 has a layer above 11 GiB alone");
    assert!(plan.chain.iter().all(|p| p.memory() <= 11 << 30));
    assert_eq!(zkinfer_import::split::apply(&model, &plan.splits).unwrap(), plan.model);
}
