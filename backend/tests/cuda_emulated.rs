//! The CUDA engine's kernels and launch sequences on the host emulator (kernels compiled by g++), checked bit for
//! bit against the CPU engine and halo2curves. Needs g++ (C++20); runs without a GPU.
//! `cargo test -p zkinfer-backend cuda_emulated`

mod common;

mod cuda_emulated {
    use std::sync::OnceLock;

    use halo2_proofs::halo2curves::ff::{Field, PrimeField, WithSmallOrderMulGroup};
    use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
    use halo2_proofs::halo2curves::group::{Curve, Group};
    use zkinfer_backend::engine::cuda::device::{fq_bytes, fr_bytes, limbs, montgomery_layout_ok};
    use zkinfer_backend::engine::cuda::msm::Combine;
    use zkinfer_backend::engine::cuda::CudaEngine;
    use zkinfer_backend::{CpuEngine, Engine, EngineError, Fq, Fr, G1Affine, NttDirection, G1};

    use super::common::*;

    /// One emulated engine per test process (the emulator library is built once).
    fn gpu() -> &'static CudaEngine {
        static E: OnceLock<CudaEngine> = OnceLock::new();
        E.get_or_init(|| match CudaEngine::emulated() {
            Ok(e) => e,
            Err(e) => panic!("the CUDA emulator is required for these tests: {e}"),
        })
    }

    fn cpu() -> &'static CpuEngine {
        static E: OnceLock<CpuEngine> = OnceLock::new();
        E.get_or_init(CpuEngine::new)
    }

    fn affine(p: G1) -> G1Affine {
        p.to_affine()
    }

    /// Quantized-model values: small magnitudes, negatives as r - |v|.
    fn int8(i: usize) -> Fr {
        let v = ((i * 37 + 11) % 256) as i64 - 128;
        if v < 0 { -Fr::from(v.unsigned_abs()) } else { Fr::from(v as u64) }
    }

    #[test]
    fn cuda_layout_is_montgomery_limbs() {
        assert!(montgomery_layout_ok());
        assert_eq!(std::mem::size_of::<G1Affine>(), 64);
        // Fr::from(1) in Montgomery form is R mod r, and its canonical bytes are 1.
        assert_eq!(Fr::ONE.to_repr().as_ref()[0], 1);
    }

    fn field_case<F: PrimeField>(fq: bool, bytes: fn(&[F]) -> &[u8], p_minus_1: F) {
        let mut vals: Vec<F> = vec![F::ZERO, F::ONE, p_minus_1, F::from(2), -F::from(2), F::from(u64::MAX)];
        let mut r = rng(if fq { 7 } else { 8 });
        vals.extend((0..20).map(|_| F::random(&mut r)));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for x in &vals {
            for y in &vals {
                a.push(*x);
                b.push(*y);
            }
        }
        let to_limbs = |v: &[F]| bytes(v).chunks(32).map(limbs).collect::<Vec<_>>();
        let got = gpu().field_ops_raw(fq, &to_limbs(&a), &to_limbs(&b)).unwrap();
        assert_eq!(got.len(), 6 * a.len());
        for i in 0..a.len() {
            let (x, y) = (a[i], b[i]);
            let inv = Option::<F>::from(x.invert()).unwrap_or(F::ZERO);
            let want = [x + y, x - y, x * y, x.square(), inv];
            for (k, w) in want.iter().enumerate() {
                assert_eq!(got[6 * i + k], to_limbs(std::slice::from_ref(w))[0], "op {k} on pair {i}");
            }
            let canon = limbs(x.to_repr().as_ref());
            assert_eq!(got[6 * i + 5], canon, "from_mont on pair {i}");
        }
        // The comparison can fail: a mutated input gives a different product.
        let mut a2 = to_limbs(&a[..2]);
        a2[1][0] ^= 1;
        let bad = gpu().field_ops_raw(fq, &a2, &to_limbs(&b[..2])).unwrap();
        assert_ne!(bad[6 + 2], to_limbs(&[a[1] * b[1]])[0]);
    }

    #[test]
    fn cuda_field_arithmetic_matches_halo2curves() {
        field_case::<Fq>(true, fq_bytes, -Fq::ONE);
        field_case::<Fr>(false, fr_bytes, -Fr::ONE);
    }

    #[test]
    fn cuda_msm_random_sizes_match_cpu() {
        let bases = points(1 << 12, 1);
        let (hg, hc) = (gpu().load_bases(&bases).unwrap(), cpu().load_bases(&bases).unwrap());
        for n in [1usize, 2, 3, 7, 31, 100, 255, 256, 1000, 1025, 2048, 4095, 4096] {
            let s = scalars(n, 100 + n as u64);
            let want = cpu().msm(&hc, &s).unwrap();
            assert_eq!(affine(gpu().msm(&hg, &s).unwrap()), affine(want), "n = {n}");
        }
        // The check can fail: one changed scalar changes the result.
        let mut s = scalars(300, 5);
        let want = cpu().msm(&hc, &s).unwrap();
        s[17] += Fr::ONE;
        assert_ne!(affine(gpu().msm(&hg, &s).unwrap()), affine(want));
    }

    #[test]
    fn cuda_msm_edge_inputs_match_cpu() {
        let n = 2000;
        let mut bases = points(n, 2);
        let (hg, hc) = (gpu().load_bases(&bases).unwrap(), cpu().load_bases(&bases).unwrap());
        let check = |hg: &_, hc: &_, s: &[Fr], what: &str| {
            let want = cpu().msm(hc, s).unwrap();
            assert_eq!(affine(gpu().msm(hg, s).unwrap()), affine(want), "{what}");
        };
        check(&hg, &hc, &vec![Fr::ZERO; n], "all zero");
        assert_eq!(gpu().msm(&hg, &vec![Fr::ZERO; n]).unwrap(), G1::identity());
        check(&hg, &hc, &vec![Fr::ONE; n], "all one");
        check(&hg, &hc, &vec![-Fr::ONE; n], "all r - 1");
        let c = Fr::from(0x1234_5678_9abc_def0u64) + Fr::from(u64::MAX).square();
        check(&hg, &hc, &vec![c; n], "one constant scalar (every point in the same buckets)");
        let i8s: Vec<Fr> = (0..n).map(int8).collect();
        check(&hg, &hc, &i8s, "int8 values");
        let pow2: Vec<Fr> = (0..n).map(|i| Fr::from(2).pow_vartime([(i % 254) as u64])).collect();
        check(&hg, &hc, &pow2, "powers of two");
        let mixed: Vec<Fr> = (0..n).map(|i| if i % 3 == 0 { Fr::ZERO } else { -Fr::from(i as u64) }).collect();
        check(&hg, &hc, &mixed, "zeros and small negatives");
        check(&hg, &hc, &[], "empty");

        // Repeated base, and P / -P cancellation inside buckets.
        let same = vec![bases[0]; n];
        let (sg, sc) = (gpu().load_bases(&same).unwrap(), cpu().load_bases(&same).unwrap());
        check(&sg, &sc, &scalars(n, 3), "repeated base, random scalars");
        check(&sg, &sc, &vec![Fr::from(5); n], "repeated base, constant scalar (doublings)");
        let pm: Vec<G1Affine> = (0..n).map(|i| if i % 2 == 0 { bases[i / 2] } else { -bases[i / 2] }).collect();
        let (pg, pc) = (gpu().load_bases(&pm).unwrap(), cpu().load_bases(&pm).unwrap());
        check(&pg, &pc, &vec![Fr::from(7); n], "P and -P cancel");
        assert_eq!(gpu().msm(&pg, &vec![Fr::from(7); n]).unwrap(), G1::identity());

        // Identity bases.
        for i in (0..n).step_by(5) {
            bases[i] = G1Affine::identity();
        }
        let (ig, ic) = (gpu().load_bases(&bases).unwrap(), cpu().load_bases(&bases).unwrap());
        check(&ig, &ic, &scalars(n, 4), "identity bases");
    }

    /// Int8-valued witnesses (small positives and r - |v| negatives, zeros among them): the device negates the
    /// scalars above (r - 1) / 2 and sizes the windows by the longest result, as the CPU engine does.
    #[test]
    fn cuda_msm_int8_scalars_match_cpu() {
        let bases = points(4096, 21);
        let (hg, hc) = (gpu().load_bases(&bases).unwrap(), cpu().load_bases(&bases).unwrap());
        for n in [1usize, 2, 31, 32, 33, 100, 1000, 4096] {
            let s: Vec<Fr> = (0..n).map(|i| int8(i * 13 + n)).collect();
            let want = affine(cpu().msm(&hc, &s).unwrap());
            assert_eq!(affine(gpu().msm(&hg, &s).unwrap()), want, "int8, n = {n}");
            if n == 100 || n == 4096 {
                for c in [1u32, 2, 4, 7, 8, 9, 13, 16] {
                    let got = gpu().msm_with_options(&hg, &s, c, Combine::Host).unwrap();
                    assert_eq!(affine(got), want, "int8, n = {n}, window {c}");
                }
            }
        }
        // Only negatives (every scalar r - v), only -128 / 127, and one large scalar among int8 ones (which forces
        // the full window count again).
        let neg: Vec<Fr> = (0..777).map(|i| -Fr::from(1 + (i % 128) as u64)).collect();
        let ends: Vec<Fr> = (0..777).map(|i| if i % 2 == 0 { -Fr::from(128) } else { Fr::from(127) }).collect();
        let mut big: Vec<Fr> = (0..777).map(int8).collect();
        big[500] = scalars(1, 77)[0];
        for (s, what) in [(&neg, "negatives"), (&ends, "-128 and 127"), (&big, "int8 and one random scalar")] {
            let want = affine(cpu().msm(&hc, s).unwrap());
            assert_eq!(affine(gpu().msm(&hg, s).unwrap()), want, "{what}");
            let got = gpu().msm_with_options(&hg, s, 5, Combine::Device).unwrap();
            assert_eq!(affine(got), want, "{what}, window 5, device combine");
        }
        // The check can fail: one changed int8 scalar changes the result.
        let mut s: Vec<Fr> = (0..300).map(int8).collect();
        let want = affine(cpu().msm(&hc, &s).unwrap());
        s[17] = -s[17] - Fr::ONE;
        assert_ne!(affine(gpu().msm(&hg, &s).unwrap()), want);
    }

    /// Scalars around (r - 1) / 2, where the device switches between s and r - s.
    #[test]
    fn cuda_msm_negation_boundary_matches_cpu() {
        let half = -Fr::TWO_INV; // (r - 1) / 2: kept; (r + 1) / 2 = TWO_INV: negated
        let around = [half - Fr::ONE, half, half + Fr::ONE, half + Fr::from(2), Fr::ZERO, Fr::ONE, -Fr::ONE];
        let n = 500;
        let bases = points(n, 22);
        let (hg, hc) = (gpu().load_bases(&bases).unwrap(), cpu().load_bases(&bases).unwrap());
        let r = scalars(n, 23);
        let s: Vec<Fr> = (0..n).map(|i| if i % 3 == 0 { r[i] } else { around[i % around.len()] }).collect();
        let want = affine(naive_msm(&bases, &s));
        assert_eq!(affine(cpu().msm(&hc, &s).unwrap()), want);
        for c in [3u32, 8, 11] {
            assert_eq!(affine(gpu().msm_with_options(&hg, &s, c, Combine::Host).unwrap()), want, "window {c}");
        }
        let s: Vec<Fr> = around.to_vec();
        assert_eq!(affine(gpu().msm(&hg, &s).unwrap()), affine(naive_msm(&bases[..7], &s)), "boundary values alone");
    }

    #[test]
    fn cuda_msm_window_count_follows_bit_length() {
        use zkinfer_backend::engine::cuda::msm::num_windows;
        assert_eq!(num_windows(0, 16), 0, "all-zero scalars need no window");
        assert_eq!(num_windows(8, 16), 1, "int8 magnitudes (<= 128) fit one 16-bit window");
        assert_eq!(num_windows(8, 8), 2, "128 needs a carry window at c = 8");
        assert_eq!(num_windows(7, 8), 1);
        assert_eq!(num_windows(253, 1), 254);
        assert_eq!(num_windows(253, 16), 16);
    }

    #[test]
    fn cuda_msm_every_window_width() {
        let bases = points(300, 3);
        let s = scalars(300, 6);
        let want = affine(naive_msm(&bases, &s));
        let hg = gpu().load_bases(&bases).unwrap();
        for c in [1u32, 2, 3, 4, 5, 7, 8, 11, 13] {
            for combine in [Combine::Host, Combine::Device] {
                let got = gpu().msm_with_options(&hg, &s, c, combine).unwrap();
                assert_eq!(affine(got), want, "window {c}, {combine:?}");
            }
        }
        assert!(gpu().msm_with_options(&hg, &s, 0, Combine::Host).is_err());
        assert!(gpu().msm_with_options(&hg, &s, 21, Combine::Host).is_err());
    }

    #[test]
    fn cuda_msm_buffer_batch_and_errors() {
        let bases = points(512, 4);
        let hg = gpu().load_bases(&bases).unwrap();
        let s = scalars(512, 7);
        let want = affine(naive_msm(&bases, &s));
        let buf = gpu().upload(&s).unwrap();
        assert_eq!(affine(gpu().msm_buffer(&hg, &buf).unwrap()), want);
        let s2 = scalars(100, 8);
        let got = gpu().msm_batch(&hg, &[&s, &s2]).unwrap();
        assert_eq!(affine(got[0]), want);
        assert_eq!(affine(got[1]), affine(naive_msm(&bases[..100], &s2)));
        // Too many scalars, foreign handles.
        assert!(matches!(gpu().msm(&hg, &scalars(513, 1)), Err(EngineError::TooManyScalars { .. })));
        let hc = cpu().load_bases(&bases).unwrap();
        assert!(matches!(gpu().msm(&hc, &s), Err(EngineError::ForeignHandle { .. })));
        assert!(matches!(cpu().msm(&hg, &s), Err(EngineError::ForeignHandle { .. })));
        let other = CudaEngine::emulated().unwrap();
        assert!(matches!(other.msm(&hg, &s), Err(EngineError::ForeignHandle { .. })));
        assert!(matches!(other.msm_buffer(&other.load_bases(&bases).unwrap(), &buf), Err(EngineError::ForeignHandle { .. })));
    }

    /// Columns of a batch as a prover has them: int8, full-size, all-zero, empty, a single scalar, the negation
    /// boundary, and shorter columns (another window width).
    fn batch_columns() -> Vec<Vec<Fr>> {
        let half = -Fr::from(2).invert().unwrap(); // (r - 1) / 2: the largest scalar that is not negated
        let mut boundary = vec![-Fr::ONE, half, half + Fr::ONE, Fr::ONE];
        boundary.extend(scalars(200, 31));
        vec![
            (0..1024).map(int8).collect(),
            scalars(1024, 21),
            vec![Fr::ZERO; 1024],
            Vec::new(),
            vec![Fr::from(5)],
            boundary,
            (0..300).map(|i| int8(i * 3)).collect(),
            scalars(700, 22),
            (0..1024).map(|i| int8(i + 1)).collect(),
        ]
    }

    #[test]
    fn cuda_msm_batches_match_cpu() {
        let bases = points(1024, 9);
        let cols = batch_columns();
        let refs: Vec<&[Fr]> = cols.iter().map(|c| c.as_slice()).collect();
        let hc = cpu().load_bases(&bases).unwrap();
        let want: Vec<G1Affine> = refs.iter().map(|s| affine(cpu().msm(&hc, s).unwrap())).collect();
        assert_eq!(want[0], affine(naive_msm(&bases, &cols[0])), "the CPU oracle itself");

        // Plenty of device memory (every column in one bucket problem per width), and a device so small that the
        // columns go up in several chunks and their buckets in several groups: the same sums, and less memory held.
        let mut peaks = Vec::new();
        for memory in [16u64 << 30, 3 << 20] {
            let g = CudaEngine::emulated_with_memory(memory).unwrap();
            let hg = g.load_bases(&bases).unwrap();
            g.reset_device_memory_peak();
            let got: Vec<G1Affine> = g.msm_batch(&hg, &refs).unwrap().into_iter().map(affine).collect();
            assert_eq!(got, want, "msm_batch, {memory} bytes of device memory");
            peaks.push(g.device_memory_peak().unwrap());

            let bufs: Vec<_> = refs.iter().map(|s| g.upload(s).unwrap()).collect();
            let brefs: Vec<_> = bufs.iter().collect();
            let got: Vec<G1Affine> = g.msm_batch_buffers(&hg, &brefs).unwrap().into_iter().map(affine).collect();
            assert_eq!(got, want, "msm_batch_buffers, {memory} bytes of device memory");
            for (b, s) in bufs.iter().zip(&refs) {
                let mut back = vec![Fr::ZERO; s.len()];
                g.download(b, &mut back).unwrap();
                assert_eq!(&back, s, "msm_batch_buffers left its buffers as they were");
            }
        }
        assert!(peaks[1] < peaks[0], "a small device holds less at once: peaks {peaks:?}");

        // One wrong scalar in one column changes that column's sum only.
        let mut broken = cols.clone();
        broken[6][17] += Fr::ONE;
        let brefs: Vec<&[Fr]> = broken.iter().map(|c| c.as_slice()).collect();
        let hg = gpu().load_bases(&bases).unwrap();
        let got: Vec<G1Affine> = gpu().msm_batch(&hg, &brefs).unwrap().into_iter().map(affine).collect();
        for (j, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g == w, j != 6, "column {j}");
        }
        // More scalars than bases, and foreign buffers, are refused.
        let long = scalars(1025, 3);
        assert!(matches!(gpu().msm_batch(&hg, &[&cols[0], &long]), Err(EngineError::TooManyScalars { .. })));
        let other = CudaEngine::emulated().unwrap();
        let foreign = other.upload(&cols[0]).unwrap();
        assert!(matches!(gpu().msm_batch_buffers(&hg, &[&foreign]), Err(EngineError::ForeignHandle { .. })));
    }

    fn ntt_all_ways(log_n: u32) {
        let n = 1usize << log_n;
        let input = scalars(n, 300 + log_n as u64);
        let g = Fr::ZETA;
        for dir in [NttDirection::Forward, NttDirection::Inverse] {
            let (mut a, mut b) = (input.clone(), input.clone());
            gpu().ntt(&mut a, dir).unwrap();
            cpu().ntt(&mut b, dir).unwrap();
            assert_eq!(a, b, "ntt 2^{log_n} {dir:?}");
            let (mut a, mut b) = (input.clone(), input.clone());
            gpu().coset_ntt(&mut a, g, dir).unwrap();
            cpu().coset_ntt(&mut b, g, dir).unwrap();
            assert_eq!(a, b, "coset ntt 2^{log_n} {dir:?}");
        }
        let mut a = input.clone();
        gpu().coset_ntt(&mut a, g, NttDirection::Forward).unwrap();
        gpu().coset_ntt(&mut a, g, NttDirection::Inverse).unwrap();
        assert_eq!(a, input, "coset roundtrip 2^{log_n}");
    }

    #[test]
    fn cuda_ntt_small_sizes_match_cpu() {
        for log_n in 0..=9 {
            ntt_all_ways(log_n);
        }
    }

    #[test]
    fn cuda_ntt_large_sizes_match_cpu() {
        // 2^10 is one full first pass; 2^11.. add later passes (2^14: 10 + 4 stages).
        for log_n in 10..=14 {
            ntt_all_ways(log_n);
        }
    }

    #[test]
    fn cuda_ntt_detects_a_wrong_input_and_rejects_bad_sizes() {
        let input = scalars(1 << 11, 9);
        let mut want = input.clone();
        cpu().ntt(&mut want, NttDirection::Forward).unwrap();
        let mut a = input.clone();
        a[1000] += Fr::ONE;
        gpu().ntt(&mut a, NttDirection::Forward).unwrap();
        assert_ne!(a, want);
        assert!(matches!(gpu().ntt(&mut [Fr::ONE; 3], NttDirection::Forward), Err(EngineError::NotPowerOfTwo { .. })));
        assert!(matches!(gpu().ntt(&mut [], NttDirection::Forward), Err(EngineError::NotPowerOfTwo { .. })));
        assert!(matches!(
            gpu().coset_ntt(&mut [Fr::ONE; 4], Fr::ZERO, NttDirection::Forward),
            Err(EngineError::ZeroCoset { .. })
        ));
    }

    #[test]
    fn cuda_buffers_match_cpu() {
        let n = 1 << 12;
        let (x, y) = (scalars(n, 10), scalars(n, 11));
        let c = Fr::from(123456789u64).square();
        let e: [&dyn Engine; 2] = [gpu(), cpu()];
        let mut outs = Vec::new();
        for eng in e {
            let mut a = eng.upload(&x).unwrap();
            let b = eng.upload(&y).unwrap();
            let mut seq = Vec::new();
            let mut snap = |a: &zkinfer_backend::ScalarBuffer| {
                let mut v = vec![Fr::ZERO; n];
                eng.download(a, &mut v).unwrap();
                seq.push(v);
            };
            snap(&a);
            eng.mul_assign(&mut a, &b).unwrap();
            snap(&a);
            eng.add_assign(&mut a, &b).unwrap();
            snap(&a);
            eng.sub_assign(&mut a, &b).unwrap();
            snap(&a);
            eng.add_scaled(&mut a, c, &b).unwrap();
            snap(&a);
            eng.scale(&mut a, c).unwrap();
            snap(&a);
            eng.distribute_powers(&mut a, c).unwrap();
            snap(&a);
            eng.ntt_buffer(&mut a, None, NttDirection::Forward).unwrap();
            snap(&a);
            eng.ntt_buffer(&mut a, Some(Fr::ZETA), NttDirection::Inverse).unwrap();
            snap(&a);
            let z = eng.alloc(n).unwrap();
            snap(&z);
            outs.push(seq);
        }
        assert_eq!(outs[0][0], x, "upload/download roundtrip");
        for (i, (g, c)) in outs[0].iter().zip(&outs[1]).enumerate() {
            assert_eq!(g, c, "step {i}");
        }
    }

    #[test]
    fn cuda_buffer_errors() {
        let g = gpu();
        let mut a = g.upload(&scalars(8, 1)).unwrap();
        let b = g.upload(&scalars(4, 2)).unwrap();
        assert!(matches!(g.mul_assign(&mut a, &b), Err(EngineError::LengthMismatch { .. })));
        assert!(matches!(g.download(&a, &mut vec![Fr::ZERO; 7]), Err(EngineError::LengthMismatch { .. })));
        let mut cbuf = cpu().upload(&scalars(8, 3)).unwrap();
        assert!(matches!(g.add_assign(&mut a, &cbuf), Err(EngineError::ForeignHandle { .. })));
        assert!(matches!(cpu().add_assign(&mut cbuf, &a), Err(EngineError::ForeignHandle { .. })));
        assert!(matches!(g.ntt_buffer(&mut cbuf, None, NttDirection::Forward), Err(EngineError::ForeignHandle { .. })));
        // Empty buffers and an empty MSM are fine.
        let mut e = g.alloc(0).unwrap();
        let e2 = g.upload(&[]).unwrap();
        g.mul_assign(&mut e, &e2).unwrap();
        g.scale(&mut e, Fr::ONE).unwrap();
        g.download(&e, &mut []).unwrap();
        let h = g.load_bases(&[]).unwrap();
        assert_eq!(g.msm(&h, &[]).unwrap(), G1::identity());
    }

    #[test]
    fn cuda_device_memory_is_metered() {
        // A fresh engine: the shared one's meter moves with the tests running beside this one.
        let g = CudaEngine::emulated().unwrap();
        let cpu_engine = CpuEngine::new();
        assert_eq!(cpu_engine.device_memory_peak(), None, "host engines report no device memory");
        let before = g.device_memory_peak().unwrap();
        let a = g.upload(&scalars(1000, 5)).unwrap();
        let after = g.device_memory_peak().unwrap();
        assert!(after >= before + 32_000, "peak {after} after uploading 32,000 bytes (was {before})");
        drop(a);
        g.reset_device_memory_peak();
        assert!(g.device_memory_peak().unwrap() < after, "reset starts a window at the memory held now");
    }

    /// Whole proofs with the CUDA engine on the emulator: MSMs, NTTs and the quotient's generated kernels on the
    /// "device", under each quotient placement (every column resident; coset columns per part; a device too small,
    /// so the phase falls back to the CPU engine) — byte for byte the CPU engine's proof, which the stock verifier
    /// accepts; and a tampered witness is still refused.
    #[test]
    fn cuda_proofs_equal_cpu_proofs_under_every_quotient_placement() {
        use std::sync::Arc;
        use zkinfer_backend::params::EngineParams;
        use zkinfer_backend::plonk::prove_blake2b;
        use zkinfer_backend::plonk::quotient::Placement;
        use zkinfer_backend::stock::verify_stock;
        use zkinfer_testkit::sample_circuits::{fibonacci::Fibonacci, tuple_lookup::TupleLookup, Sample};

        fn case<S: Sample>(circuit: S) {
            let k = circuit.k();
            let (stock, pk, inst) = sample_keys(&circuit);
            let inst: Vec<&[Fr]> = inst.iter().map(Vec::as_slice).collect();
            let prove = |engine: Arc<dyn Engine>, c: &S| {
                let params = EngineParams::new(stock.clone(), engine).unwrap();
                prove_blake2b(&params, &pk, c, &inst, rng(5))
            };
            let (want, _) = prove(Arc::new(CpuEngine::new()), &circuit).unwrap();
            verify_stock(&stock, pk.get_vk(), &inst, &want).unwrap();
            // Device memory from one column's worth up: the plan moves from the CPU fallback through coset columns
            // per part to every column resident.
            let mut seen = Vec::new();
            for cols in [1u64, 2, 3, 4, 6, 8, 11, 16, 22, 32, 45, 64, 90, 128, 1 << 12] {
                let memory = cols * (32u64 << k);
                let gpu = Arc::new(CudaEngine::emulated_with_memory(memory).unwrap());
                let (got, stats) = prove(gpu.clone(), &circuit).unwrap();
                let placement = stats.quotient_placement.unwrap();
                assert_eq!(got, want, "k {k}, {cols} columns of device memory ({placement:?}): proof differs from the CPU engine's");
                if !seen.contains(&placement) {
                    seen.push(placement);
                    match prove(gpu, &circuit.tampered()) {
                        Ok((p, _)) => assert!(verify_stock(&stock, pk.get_vk(), &inst, &p).is_err(), "a tampered witness verified"),
                        Err(e) => eprintln!("{placement:?}: tampered witness refused: {e}"),
                    }
                }
                if placement == Placement::Resident {
                    break;
                }
            }
            assert_eq!(seen, [Placement::Host, Placement::PerPart, Placement::Resident], "k {k}: placements tried");
            // Room for everything: the witness columns also stay on the device from their commitment to the quotient.
            let (got, stats) = prove(Arc::new(CudaEngine::emulated_with_memory(1 << 30).unwrap()), &circuit).unwrap();
            assert!(stats.witness_on_engine && stats.quotient_placement == Some(Placement::Resident));
            assert_eq!(got, want, "k {k}: witness kept on the device: proof differs from the CPU engine's");
        }
        case(Fibonacci::new(40, 1, 1));
        case(TupleLookup::new(40));
    }
}
