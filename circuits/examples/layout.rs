//! Lays out a model's circuit on its bundled example input (no keygen) and prints the rows per section and the time.
//! `cargo run --release -p zkinfer-circuits --example layout -- model-import/fixtures/mobilenet_v2_0.35_96_int8.onnx`

use std::sync::Arc;

fn main() {
    let path = std::env::args().nth(1).expect("usage: layout MODEL.onnx");
    let model = Arc::new(zkinfer_import::import(&path).unwrap_or_else(|e| panic!("{path}: {e}")));
    let n: usize = model.input().shape.iter().product();
    let t = std::time::Instant::now();
    let c = zkinfer_circuits::ModelCircuit::new(model, vec![0; n], zkinfer_circuits::Visibility::HIDDEN_WEIGHTS_AND_INPUT)
        .unwrap_or_else(|e| panic!("{e}"));
    let l = c.dry_run().unwrap();
    println!("shape {:?}", c.shape);
    println!("rows {} of 2^{}, {} advice cells, {} copies; two layout passes in {:?}", l.rows, c.k(), l.advice_cells, l.copies, t.elapsed());
}
