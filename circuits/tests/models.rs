//! The real fixtures: the digits CNN end to end under MockProver (hidden weights and input, output equal to the
//! integer reference), and circuit_stats for the three MobileNet v2 configurations.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use zkinfer_circuits::{circuit_stats, Visibility};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../model-import/fixtures").join(name)
}

#[test]
fn digits_hidden_weights_and_input() {
    let model = Arc::new(zkinfer_import::import(fixture("digits_int8.onnx")).unwrap());
    let x = zkinfer_import::npy::read_f32(fixture("digits_test_x.npy").to_str().unwrap()).unwrap();
    let per: usize = model.input().shape.iter().product();
    for i in [0, 17] {
        let input = zkinfer_import::reference::quantize_input(&x.data[i * per..(i + 1) * per], model.input().q);
        common::check(model.clone(), input, Visibility::HIDDEN_WEIGHTS_AND_INPUT);
    }
}

fn mb(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

#[test]
fn mobilenet_circuit_stats() {
    let vis = Visibility::HIDDEN_WEIGHTS_AND_INPUT;
    println!("| model | rows used | advice × fixed cols | lookups | k | 2^k × cols | est. prove mem | est. setup mem |");
    for name in ["mobilenet_v2_0.35_96", "mobilenet_v2_0.5_224", "mobilenet_v2_0.75_192"] {
        let model = zkinfer_import::import(fixture(&format!("{name}_int8.onnx"))).unwrap();
        let s = circuit_stats(&model, &vis).unwrap();
        assert!(s.rows <= (1usize << s.k) - zkinfer_circuits::shape::RESERVED_ROWS);
        assert!(s.table_rows <= (1usize << s.k));
        assert_eq!(s.sections.iter().filter(|(n, _)| !n.contains(':')).count(), model.layers.len());
        println!(
            "| {name} | {} | {} × {} | {} | {} | {:.1}M | {:.1} GiB | {:.1} GiB |",
            s.rows,
            s.advice_columns,
            s.fixed_columns,
            s.lookups,
            s.k,
            s.cells() as f64 / 1e6,
            mb(s.prove_memory) / 1024.0,
            mb(s.setup_memory) / 1024.0
        );
        println!("  shape {:?}", s.shape);
        let mut top = s.sections.clone();
        top.sort_by_key(|t| std::cmp::Reverse(t.1));
        println!("  largest sections: {:?}", &top[..5]);
    }
}
