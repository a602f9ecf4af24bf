//! The CUDA engine on a real GPU against the CPU engine, bit for bit; and engine selection on this machine.
//! Without a GPU (or without `--features cuda`) the GPU tests print `skipped: <reason>` and pass.
//! `cargo test -p zkinfer-backend --release --features cuda cuda_gpu`

mod common;

mod cuda_gpu {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use halo2_proofs::halo2curves::ff::{Field, WithSmallOrderMulGroup};
    use halo2_proofs::halo2curves::group::Curve;
    use zkinfer_backend::engine::cuda::CudaEngine;
    use zkinfer_backend::{select_engine, CpuEngine, Engine, EngineError, EngineKind, Fr, NttDirection};

    use super::common::*;

    fn gpu_or_skip() -> Option<CudaEngine> {
        match CudaEngine::new() {
            Ok(e) => {
                println!("running on {}", e.describe());
                Some(e)
            }
            Err(e) => {
                println!("skipped: {e}");
                None
            }
        }
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn cuda_engine_selection_on_this_machine() {
        let cap = Captured::default();
        let writer = cap.clone();
        let sub = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        let auto = tracing::subscriber::with_default(sub, || select_engine(EngineKind::Auto)).unwrap();
        let log = String::from_utf8(cap.0.lock().unwrap().clone()).unwrap();
        match CudaEngine::new() {
            Ok(_) => {
                assert_eq!(auto.name(), "cuda");
                assert!(select_engine(EngineKind::Cuda).is_ok());
                assert!(log.is_empty(), "no warning when CUDA works: {log}");
            }
            Err(EngineError::Unavailable { reason, .. }) => {
                assert_eq!(auto.name(), "cpu");
                let lines: Vec<&str> = log.lines().collect();
                assert_eq!(lines.len(), 1, "exactly one warning line: {log}");
                assert!(lines[0].contains("WARN") && lines[0].contains("using the CPU engine") && lines[0].contains(&reason));
                match select_engine(EngineKind::Cuda) {
                    Err(EngineError::Unavailable { engine: "cuda", reason: r, .. }) => assert_eq!(r, reason),
                    other => panic!("expected Unavailable, got {other:?}"),
                }
                println!("auto -> cpu; warning: {}", lines[0]);
            }
            Err(e) => panic!("unexpected error kind: {e}"),
        }
    }

    #[test]
    fn cuda_gpu_msm_matches_cpu() {
        let Some(g) = gpu_or_skip() else { return };
        let cpu = CpuEngine::new();
        // Every power of two up to 2^24 (the largest commitment a k = 24 segment makes), plus odd sizes.
        let max = 1usize << 24;
        let bases = points(max, 1);
        let (hg, hc) = (g.load_bases(&bases).unwrap(), cpu.load_bases(&bases).unwrap());
        let mut sizes: Vec<usize> = (0..=24).map(|k| 1usize << k).collect();
        sizes.extend([3, 1000, 12345, (1 << 20) - 1, (1 << 20) + 7, 3_000_000]);
        for n in sizes {
            let s = scalars(n, n as u64);
            let want = cpu.msm(&hc, &s).unwrap().to_affine();
            assert_eq!(g.msm(&hg, &s).unwrap().to_affine(), want, "random n = {n}");
            let buf = g.upload(&s).unwrap();
            assert_eq!(g.msm_buffer(&hg, &buf).unwrap().to_affine(), want, "msm_buffer n = {n}");
            println!("msm n = {n}: equal");
        }
        for n in [1usize << 16, 1 << 20, 1 << 22] {
            let int8: Vec<Fr> = (0..n)
                .map(|i| {
                    let v = ((i * 37 + 11) % 256) as i64 - 128;
                    if v < 0 { -Fr::from(v.unsigned_abs()) } else { Fr::from(v as u64) }
                })
                .collect();
            let edge: [(&str, Vec<Fr>); 4] = [
                ("zeros", vec![Fr::ZERO; n]),
                ("r - 1", vec![-Fr::ONE; n]),
                ("constant", vec![Fr::from(0xdead_beef_u64).square(); n]),
                ("int8", int8),
            ];
            for (what, s) in edge {
                let want = cpu.msm(&hc, &s).unwrap().to_affine();
                assert_eq!(g.msm(&hg, &s).unwrap().to_affine(), want, "{what} n = {n}");
            }
        }
        // Batches as a prover commits them: 48 int8 columns, 8 random ones and a zero column at 2^20 (one bucket
        // problem per window width), from host slices and from resident buffers.
        let n = 1usize << 20;
        let mut cols: Vec<Vec<Fr>> = (0..48u64)
            .map(|j| {
                (0..n)
                    .map(|i| {
                        let v = ((i as u64 * (2 * j + 37) + j) % 256) as i64 - 128;
                        if v < 0 { -Fr::from(v.unsigned_abs()) } else { Fr::from(v as u64) }
                    })
                    .collect()
            })
            .collect();
        cols.extend((0..8).map(|j| scalars(n, 100 + j)));
        cols.push(vec![Fr::ZERO; n]);
        cols.push(scalars(12345, 7));
        let refs: Vec<&[Fr]> = cols.iter().map(|c| c.as_slice()).collect();
        let want: Vec<_> = cpu.msm_batch(&hc, &refs).unwrap().iter().map(|p| p.to_affine()).collect();
        let got: Vec<_> = g.msm_batch(&hg, &refs).unwrap().iter().map(|p| p.to_affine()).collect();
        assert_eq!(got, want, "msm_batch");
        let bufs: Vec<_> = refs.iter().map(|s| g.upload(s).unwrap()).collect();
        let brefs: Vec<_> = bufs.iter().collect();
        let got: Vec<_> = g.msm_batch_buffers(&hg, &brefs).unwrap().iter().map(|p| p.to_affine()).collect();
        assert_eq!(got, want, "msm_batch_buffers");
        println!("msm batches of {} columns: equal", cols.len());
    }

    #[test]
    fn cuda_gpu_ntt_matches_cpu() {
        let Some(g) = gpu_or_skip() else { return };
        let cpu = CpuEngine::new();
        // 2^26: the extended domain (4n) of a k = 24 circuit.
        for log_n in 1..=26u32 {
            let input = scalars(1 << log_n, 50 + log_n as u64);
            for dir in [NttDirection::Forward, NttDirection::Inverse] {
                let (mut a, mut b) = (input.clone(), input.clone());
                g.ntt(&mut a, dir).unwrap();
                cpu.ntt(&mut b, dir).unwrap();
                assert!(a == b, "ntt 2^{log_n} {dir:?}");
                let (mut a, mut b) = (input.clone(), input.clone());
                g.coset_ntt(&mut a, Fr::ZETA, dir).unwrap();
                cpu.coset_ntt(&mut b, Fr::ZETA, dir).unwrap();
                assert!(a == b, "coset ntt 2^{log_n} {dir:?}");
            }
            let mut buf = g.upload(&input).unwrap();
            g.ntt_buffer(&mut buf, Some(Fr::ZETA), NttDirection::Forward).unwrap();
            g.ntt_buffer(&mut buf, Some(Fr::ZETA), NttDirection::Inverse).unwrap();
            let mut back = vec![Fr::ZERO; input.len()];
            g.download(&buf, &mut back).unwrap();
            assert!(back == input, "coset roundtrip 2^{log_n}");
            println!("ntt 2^{log_n}: equal");
        }
    }

    #[test]
    fn cuda_gpu_field_and_buffers_match_cpu() {
        let Some(g) = gpu_or_skip() else { return };
        let cpu = CpuEngine::new();
        let n = 1 << 20;
        let (x, y) = (scalars(n, 1), scalars(n, 2));
        let c = Fr::from(987654321u64).square();
        let mut outs = Vec::new();
        for e in [&g as &dyn Engine, &cpu] {
            let mut a = e.upload(&x).unwrap();
            let b = e.upload(&y).unwrap();
            e.mul_assign(&mut a, &b).unwrap();
            e.add_assign(&mut a, &b).unwrap();
            e.sub_assign(&mut a, &b).unwrap();
            e.add_scaled(&mut a, c, &b).unwrap();
            e.scale(&mut a, c).unwrap();
            e.distribute_powers(&mut a, c).unwrap();
            let mut v = vec![Fr::ZERO; n];
            e.download(&a, &mut v).unwrap();
            outs.push(v);
        }
        assert!(outs[0] == outs[1], "element-wise ops");
        // Field kernels on the GPU against halo2curves (the emulated test does the full table).
        let a: Vec<[u64; 4]> = [Fr::ZERO, Fr::ONE, -Fr::ONE, c].iter().map(|f| zkinfer_backend::engine::cuda::device::limbs(zkinfer_backend::engine::cuda::device::fr_bytes(std::slice::from_ref(f)))).collect();
        let got = g.field_ops_raw(false, &a, &a).unwrap();
        let mont = |f: Fr| zkinfer_backend::engine::cuda::device::limbs(zkinfer_backend::engine::cuda::device::fr_bytes(&[f]));
        assert_eq!(got[6 * 3 + 2], mont(c * c));
        assert_eq!(got[6 * 2 + 4], mont(-Fr::ONE));
    }

    /// The quotient on the GPU: a generated row-program kernel over 2^20 rows, the kernels generated from every
    /// test-kit circuit's quotient groups against its compiled constraints, and whole proofs with the GPU engine
    /// byte for byte the CPU engine's, accepted by the stock verifier.
    #[test]
    fn cuda_gpu_quotient_kernels_and_proofs_match_cpu() {
        use zkinfer_backend::engine::cuda::row_kernel::every_op_program;
        use zkinfer_backend::params::EngineParams;
        use zkinfer_backend::plonk::{prove_blake2b, quotient};
        use zkinfer_backend::stock::verify_stock;
        use zkinfer_testkit::sample_circuits::{
            copies::ManyCopies, fibonacci::Fibonacci, instances::PublicColumns, selectors::ManySelectors,
            tuple_lookup::TupleLookup, Sample,
        };

        let Some(g) = gpu_or_skip() else { return };
        let g: Arc<dyn Engine> = Arc::new(g);
        let n = 1 << 20;
        let p = every_op_program();
        let cols: Vec<Vec<Fr>> = (0..3).map(|i| scalars(n, 10 + i)).collect();
        let refs: Vec<&[Fr]> = cols.iter().map(Vec::as_slice).collect();
        let (coset, omega, y) = (Fr::ZETA, zkinfer_backend::engine::root_of_unity(20), Fr::from(5));
        let (mut a, mut b) = (vec![Fr::ZERO; n], vec![Fr::ZERO; n]);
        g.evaluate_rows(&p, &refs, coset, omega, y, &mut a).unwrap();
        CpuEngine::new().evaluate_rows(&p, &refs, coset, omega, y, &mut b).unwrap();
        assert!(a == b, "row program over 2^20 rows");

        fn case<S: Sample>(g: &Arc<dyn Engine>, circuit: S) {
            let k = circuit.k();
            let (stock, pk, inst) = sample_keys(&circuit);
            let inst: Vec<&[Fr]> = inst.iter().map(Vec::as_slice).collect();
            let cpu = EngineParams::new(stock.clone(), Arc::new(CpuEngine::new())).unwrap();
            let gpu = EngineParams::new(stock.clone(), g.clone()).unwrap();
            assert_eq!(
                quotient::self_test_compiled(&gpu, &pk, 1000, rng(3)).expect("generated kernels differ from the constraints"),
                quotient::self_test_compiled(&cpu, &pk, 1000, rng(3)).unwrap()
            );
            let (want, _) = prove_blake2b(&cpu, &pk, &circuit, &inst, rng(5)).unwrap();
            let (got, stats) = prove_blake2b(&gpu, &pk, &circuit, &inst, rng(5)).unwrap();
            assert!(got == want, "k {k}: the GPU proof differs from the CPU engine's");
            verify_stock(&stock, pk.get_vk(), &inst, &got).expect("stock verifier accepts the GPU proof");
            println!("k {k}: GPU proof equals the CPU proof, quotient {:?}", stats.quotient_placement);
        }
        case(&g, Fibonacci::new(300, 1, 1));
        case(&g, TupleLookup::new(200));
        case(&g, ManyCopies::new(12, 100, 5));
        case(&g, PublicColumns::new(100));
        case(&g, ManySelectors::new(100));
    }
}
