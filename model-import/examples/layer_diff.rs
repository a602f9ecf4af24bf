//! Diagnostic: compares every layer of the integer reference with onnxruntime in isolation. Given a directory of
//! onnxruntime's int8 tensors (`<index>.bin`, i32 little-endian, one per IR tensor, as written by
//! scripts/ort_layers.py), each layer is evaluated on onnxruntime's inputs and its output compared with
//! onnxruntime's output, so error amplification through the network does not hide a wrong layer.
//!   cargo run -p zkinfer-import --example layer_diff -- MODEL.onnx ORT_DIR
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let model = zkinfer_import::import(&a[0]).unwrap();
    let names: Vec<String> = model.tensors.iter().map(|t| t.name.clone()).collect();
    std::fs::write(format!("{}/names.txt", a[1]), names.join("\n")).unwrap();
    if !std::path::Path::new(&format!("{}/0.bin", a[1])).exists() {
        println!("wrote {}/names.txt; run scripts/ort_layers.py, then this again", a[1]);
        return;
    }
    let ort: Vec<Vec<i32>> = (0..names.len())
        .map(|i| {
            std::fs::read(format!("{}/{i}.bin", a[1]))
                .unwrap()
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                .collect()
        })
        .collect();
    let mut worst = 0;
    for layer in &model.layers {
        let ours = zkinfer_import::reference::eval_layer(&model, layer, &ort);
        let theirs = &ort[layer.output];
        let diffs: Vec<i32> = ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).collect();
        let max = diffs.iter().copied().max().unwrap_or(0);
        let count = diffs.iter().filter(|&&d| d > 0).count();
        worst = worst.max(max);
        println!("{:<12} max |diff| {max}  differing {count}/{}", layer.name, diffs.len());
    }
    println!("worst per-layer difference: {worst} step(s)");
}
