//! The importer and the integer reference against onnxruntime (outputs recorded by the generator scripts).
//! Run with `cargo test -p zkinfer-import --release`.

use zkinfer_import::ir::QuantModel;
use zkinfer_import::npy::{read_f32, read_i64};
use zkinfer_import::tract_run::TractModel;
use zkinfer_import::{import, reference, ImportError};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Max |difference| in output quantization steps and top-1 agreement between the reference and onnxruntime.
fn compare(model: &QuantModel, inputs: &[f32], ort: &[f32], count: usize) -> (i32, usize, Vec<usize>) {
    let per_in = inputs.len() / count;
    let per_out = ort.len() / count;
    let q = model.output_info().q;
    let mut max_diff = 0;
    let mut agree = 0;
    let mut ours_top = Vec::new();
    for i in 0..count {
        let ours = reference::run_float(model, &inputs[i * per_in..(i + 1) * per_in]).unwrap();
        let theirs: Vec<i32> = ort[i * per_out..(i + 1) * per_out]
            .iter()
            .map(|&v| (v / q.scale).round() as i32 + q.zero_point)
            .collect();
        max_diff = max_diff.max(ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).max().unwrap());
        let top = |v: &[i32]| v.iter().enumerate().max_by_key(|(_, &x)| x).map(|(i, _)| i).unwrap();
        // Ties: onnxruntime's float argmax picks the first maximum, as this does.
        if top(&ours) == top(&theirs) {
            agree += 1;
        }
        ours_top.push(top(&ours));
    }
    (max_diff, agree, ours_top)
}

#[test]
fn digits_reference_matches_onnxruntime_and_the_labels() {
    let model = import(fixture("digits_int8.onnx")).unwrap();
    assert_eq!(model.input().shape, vec![1, 1, 8, 8]);
    assert_eq!(model.output_info().shape, vec![1, 10]);
    let x = read_f32(&fixture("digits_test_x.npy")).unwrap();
    let y = read_i64(&fixture("digits_test_y.npy")).unwrap();
    let ort = read_f32(&fixture("digits_ort_int8_logits.npy")).unwrap();
    let n = y.data.len();
    let (max_diff, agree, top) = compare(&model, &x.data, &ort.data, n);
    let ours_acc = top.iter().zip(&y.data).filter(|(p, l)| **p as i64 == **l).count() as f64 / n as f64;
    let ort_top: Vec<usize> = ort
        .data
        .chunks(10)
        .map(|r| r.iter().enumerate().fold(0, |b, (i, v)| if *v > r[b] { i } else { b }))
        .collect();
    let ort_acc = ort_top.iter().zip(&y.data).filter(|(p, l)| **p as i64 == **l).count() as f64 / n as f64;
    // tract's run of the same file.
    let tract = TractModel::load(std::path::Path::new(&fixture("digits_int8.onnx")), &[1, 1, 8, 8]).unwrap();
    let tract_out: Vec<f32> = x.data.chunks(64).flat_map(|img| tract.run(img).unwrap()).collect();
    let (t_diff, t_agree, _) = compare(&model, &x.data, &tract_out, n);
    println!(
        "digits: reference accuracy {:.2}%, onnxruntime int8 {:.2}%; vs onnxruntime: max |diff| {max_diff} steps, \
         top-1 agreement {agree}/{n}; vs tract: max |diff| {t_diff} steps, top-1 agreement {t_agree}/{n}",
        100.0 * ours_acc,
        100.0 * ort_acc
    );
    assert!(t_diff <= 2 && t_agree as f64 >= 0.99 * n as f64, "tract: {t_diff} steps, {t_agree}/{n}");
    for (name, err) in model.multiplier_errors() {
        println!("  {name}: multiplier relative error {err:.2e}");
    }
    assert!(ours_acc >= 0.95, "reference accuracy {ours_acc}");
    assert!((ours_acc - ort_acc).abs() <= 0.005, "reference {ours_acc} vs onnxruntime {ort_acc}");
    assert!(max_diff <= 2, "max difference {max_diff} steps");
}

#[test]
fn mobilenets_import_run_and_match_onnxruntime() {
    for (stem, macs, params) in [
        ("mobilenet_v2_0.35_96", 11_934_128u64, 1_670_088u64),
        ("mobilenet_v2_0.5_224", 97_131_840, 1_959_408),
        ("mobilenet_v2_0.75_192", 153_941_888, 2_623_104),
    ] {
        let model = import(fixture(&format!("{stem}_int8.onnx"))).unwrap();
        assert_eq!(model.macs(), macs, "{stem} MACs");
        assert_eq!(model.params(), params, "{stem} params");
        let inputs = read_f32(&fixture(&format!("{stem}_inputs.npy"))).unwrap();
        let ort = read_f32(&fixture(&format!("{stem}_ort_int8_logits.npy"))).unwrap();
        let (max_diff, agree, _) = compare(&model, &inputs.data, &ort.data, 2);
        let shape = model.input().shape.clone();
        let tract = TractModel::load(std::path::Path::new(&fixture(&format!("{stem}_int8.onnx"))), &shape).unwrap();
        let per = inputs.data.len() / 2;
        let tract_out: Vec<f32> = inputs.data.chunks(per).flat_map(|img| tract.run(img).unwrap()).collect();
        let (t_diff, t_agree, _) = compare(&model, &inputs.data, &tract_out, 2);
        let worst = model.multiplier_errors().into_iter().map(|(_, e)| e).fold(0.0, f64::max);
        println!(
            "{stem}: {} layers, {:.2}M MACs; vs onnxruntime: max |diff| {max_diff} steps, top-1 {agree}/2; \
             vs tract: max |diff| {t_diff} steps, top-1 {t_agree}/2; worst multiplier error {worst:.1e}",
            model.layers.len(),
            macs as f64 / 1e6
        );
        assert_eq!(model.output_info().shape, vec![1, 1000]);
    }
}

#[test]
fn float_model_without_qdq_is_rejected() {
    let err = import(fixture("digits_fp32.onnx")).unwrap_err();
    assert!(matches!(err, ImportError::NotQuantized { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("conv1") && msg.contains("Conv") && msg.contains("float model"), "{msg}");
}

#[test]
fn missing_and_truncated_files_are_rejected() {
    let err = import("/nonexistent/model.onnx").unwrap_err();
    assert!(matches!(err, ImportError::Unreadable { .. }), "{err}");
    let bytes = std::fs::read(fixture("digits_int8.onnx")).unwrap();
    let dir = std::env::temp_dir().join(format!("zkinfer-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("truncated.onnx");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = import(&path).unwrap_err();
    assert!(matches!(err, ImportError::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("truncated.onnx"), "{err}");
}

#[test]
fn wrong_input_shape_and_range_are_rejected() {
    let model = import(fixture("digits_int8.onnx")).unwrap();
    let err = reference::run(&model, &[0; 63]).unwrap_err();
    assert!(err.to_string().contains("expected 64 values"), "{err}");
    let err = reference::run(&model, &[300; 64]).unwrap_err();
    assert!(err.to_string().contains("outside int8"), "{err}");
}

/// One fixture per error case (scripts/error_cases.py); each error names the node and the op.
#[test]
fn error_cases_name_the_node_and_op() {
    let cases: [(&str, &str, &[&str]); 5] = [
        ("microsoft_domain.onnx", "UnsupportedDomain", &["gelu", "FastGelu", "com.microsoft"]),
        ("unsupported_op.onnx", "UnsupportedOp", &["softmax", "Softmax"]),
        ("dynamic_shape.onnx", "BadInputSpec", &["input", "dynamic", "batch"]),
        ("dilated_conv.onnx", "UnsupportedAttribute", &["conv", "Conv", "dilations"]),
        ("grouped_conv.onnx", "UnsupportedAttribute", &["conv", "Conv", "group = 2"]),
    ];
    for (file, kind, needles) in cases {
        let err = import(fixture(&format!("errors/{file}"))).unwrap_err();
        let msg = err.to_string();
        assert!(format!("{err:?}").starts_with(kind), "{file}: {err:?}");
        for n in needles {
            assert!(msg.contains(n), "{file}: `{msg}` lacks `{n}`");
        }
    }
}

#[test]
fn qoperator_qlinearconv_model_matches_onnxruntime() {
    let model = import(fixture("qoperator_convs_int8.onnx")).unwrap();
    assert_eq!(model.layers.len(), 2);
    assert_eq!(model.output_info().shape, vec![1, 4, 8, 8]);
    let x = read_f32(&fixture("qoperator_convs_inputs.npy")).unwrap();
    let ort = read_f32(&fixture("qoperator_convs_ort_int8_logits.npy")).unwrap();
    let (max_diff, _, _) = compare(&model, &x.data, &ort.data, 2);
    println!("qoperator convs: max |diff| vs onnxruntime {max_diff} steps");
    assert!(max_diff <= 1, "{max_diff} steps");
}

#[test]
fn input_files_of_the_wrong_dtype_or_format_are_rejected() {
    // float32 images read as int64 labels: wrong dtype, named.
    let err = read_i64(&fixture("digits_test_x.npy")).err().expect("dtype mismatch accepted");
    assert!(err.to_string().contains("<f4") && err.to_string().contains("int64 expected"), "{err}");
    // An ONNX file is not a .npy file.
    let err = read_f32(&fixture("digits_int8.onnx")).err().expect("not an npy file");
    assert!(err.to_string().contains("not a .npy file"), "{err}");
}

#[test]
fn pad_and_average_pool_match_onnxruntime() {
    let model = import(fixture("pad_pool_int8.onnx")).unwrap();
    assert_eq!(model.output_info().shape, vec![1, 4, 5, 5]);
    let x = read_f32(&fixture("pad_pool_inputs.npy")).unwrap();
    let ort = read_f32(&fixture("pad_pool_ort_int8_logits.npy")).unwrap();
    let (max_diff, _, _) = compare(&model, &x.data, &ort.data, 2);
    println!("pad + average pool: max |diff| vs onnxruntime {max_diff} steps");
    assert!(max_diff <= 1, "{max_diff} steps");
}

/// The pad + average pool model in QOperator form: Pad on the int8 tensor (its constant the zero point) and
/// onnxruntime's com.microsoft QLinearAveragePool.
#[test]
fn qoperator_pad_and_average_pool_match_onnxruntime() {
    let model = import(fixture("pad_pool_qop_int8.onnx")).unwrap();
    let ops: Vec<String> = model.layers.iter().map(|l| format!("{:?}", l.op).split([' ', '{']).next().unwrap().to_string()).collect();
    assert_eq!(ops, ["Conv", "Pad", "AveragePool"]);
    assert_eq!(model.output_info().shape, vec![1, 4, 5, 5]);
    let x = read_f32(&fixture("pad_pool_inputs.npy")).unwrap();
    let ort = read_f32(&fixture("pad_pool_qop_ort_int8_logits.npy")).unwrap();
    let (max_diff, _, _) = compare(&model, &x.data, &ort.data, 2);
    println!("QOperator pad + average pool: max |diff| vs onnxruntime {max_diff} steps");
    assert!(max_diff <= 1, "{max_diff} steps");
}

#[test]
fn qdq_matmul_matches_onnxruntime() {
    let model = import(fixture("matmul_int8.onnx")).unwrap();
    assert_eq!(model.output_info().shape, vec![1, 10]);
    let x = read_f32(&fixture("matmul_inputs.npy")).unwrap();
    let ort = read_f32(&fixture("matmul_ort_int8_logits.npy")).unwrap();
    let (max_diff, agree, _) = compare(&model, &x.data, &ort.data, 2);
    println!("QDQ MatMul: max |diff| vs onnxruntime {max_diff} steps, top-1 {agree}/2");
    assert!(max_diff <= 1, "{max_diff} steps");
}
