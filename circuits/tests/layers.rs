//! Per layer: MockProver accepts the honest witness and the circuit's output equals the integer reference bit for
//! bit (checked in `common::check`), under several visibilities. Each layer exercises its gadgets (dot, adder,
//! requantisation, byte store, int32 from bytes, Poseidon).

mod common;
use common::*;

#[test]
fn conv_standard_stride_padding() {
    let mut b = Builder::new(1, &[1, 3, 7, 7], 5);
    b.conv(0, 5, 3, 2, 1, 1, true);
    let x = b.input();
    check(b.finish(), x, HIDDEN);
}

#[test]
fn conv_depthwise() {
    let mut b = Builder::new(2, &[1, 6, 6, 6], -7);
    b.conv(0, 6, 3, 1, 1, 6, true);
    let x = b.input();
    check(b.finish(), x, ALL_HIDDEN);
}

#[test]
fn conv_pointwise() {
    let mut b = Builder::new(3, &[1, 12, 4, 4], -128);
    b.conv(0, 20, 1, 1, 0, 1, false);
    let x = b.input();
    check(b.finish(), x, PUBLIC);
}

#[test]
fn fully_connected_after_flatten() {
    let mut b = Builder::new(4, &[1, 2, 3, 3], 0);
    let f = b.flatten(0);
    b.gemm(f, 7);
    let x = b.input();
    check(b.finish(), x, HIDDEN);
}

#[test]
fn residual_add() {
    let mut b = Builder::new(5, &[1, 4, 3, 3], 9);
    let c = b.conv(0, 4, 1, 1, 0, 1, false);
    b.add(0, c);
    let x = b.input();
    check(b.finish(), x, HIDDEN);
}

#[test]
fn global_average_pool() {
    let mut b = Builder::new(6, &[1, 5, 5, 5], -3);
    b.gap(0);
    let x = b.input();
    check(b.finish(), x, ALL_HIDDEN);
}

#[test]
fn average_pool_with_padding() {
    let mut b = Builder::new(7, &[1, 3, 6, 6], 11);
    b.avg_pool(0, 3, 2, 1);
    let x = b.input();
    check(b.finish(), x, PUBLIC);
}

#[test]
fn pad_then_conv() {
    let mut b = Builder::new(8, &[1, 2, 4, 4], -20);
    let p = b.pad(0, 1);
    b.conv(p, 3, 3, 1, 0, 1, true);
    let x = b.input();
    check(b.finish(), x, HIDDEN);
}

#[test]
fn inverted_residual_block() {
    let (m, x) = inverted_residual(9, 4, 5, 6);
    check(m, x, HIDDEN);
}

#[test]
fn grouped_conv_is_refused_by_name() {
    let mut b = Builder::new(10, &[1, 4, 4, 4], 0);
    b.conv(0, 4, 3, 1, 1, 2, false);
    let x = b.input();
    let err = zkinfer_circuits::ModelCircuit::new(b.finish(), x, HIDDEN).unwrap_err().to_string();
    assert!(err.contains("conv0") && err.contains("groups = 2"), "{err}");
}

#[test]
fn wrong_input_length_is_refused() {
    let mut b = Builder::new(12, &[1, 2, 3, 3], 0);
    b.gap(0);
    let err = zkinfer_circuits::ModelCircuit::new(b.finish(), vec![0; 5], HIDDEN).unwrap_err().to_string();
    assert!(err.contains("5 values") && err.contains("18"), "{err}");
}

#[test]
fn table_activation() {
    let mut b = Builder::new(10, &[1, 3, 5, 5], -2);
    let t = b.random_table();
    let a = b.lookup(0, "HardSwish", t);
    let t = b.random_table();
    b.lookup(a, "Sigmoid", t);
    let x = b.input();
    check(b.finish(), x, HIDDEN);
}

#[test]
fn squeeze_and_excite_mul_broadcasts() {
    let mut b = Builder::new(11, &[1, 4, 3, 3], 6);
    let s = b.gap(0);
    b.mul(0, s);
    let x = b.input();
    check(b.finish(), x, ALL_HIDDEN);
}

#[test]
fn mul_of_equal_shapes() {
    let mut b = Builder::new(12, &[1, 2, 3, 3], -9);
    let c = b.conv(0, 2, 1, 1, 0, 1, false);
    b.mul(c, 0);
    let x = b.input();
    check(b.finish(), x, PUBLIC);
}

#[test]
fn max_pool_with_padding() {
    let mut b = Builder::new(13, &[1, 3, 7, 7], 1);
    b.max_pool(0, 3, 2, 1);
    let x = b.input();
    check(b.finish(), x, HIDDEN);
}

#[test]
fn concat_rescaled_and_channel_shuffle() {
    let mut b = Builder::new(14, &[1, 4, 3, 3], 3);
    let c = b.conv(0, 4, 1, 1, 0, 1, false);
    let z = b.model.tensors[c].q.zero_point;
    let cat = b.concat(vec![0, c], z);
    let g = b.reshape(cat, vec![1, 2, 4, 3, 3]);
    let t = b.transpose(g, vec![0, 2, 1, 3, 4]);
    b.reshape(t, vec![1, 8, 3, 3]);
    let x = b.input();
    check(b.finish(), x, ALL_HIDDEN);
}

#[test]
fn mobile_ops_network() {
    let (m, x) = mobile_ops(15);
    check(m, x, HIDDEN);
}
