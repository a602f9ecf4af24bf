//! Engine correctness: MSM against the naive sum and halo2curves, NTT against the naive DFT and halo2's FFT.
//! Run with `cargo test -p zkinfer-backend --release engine`.

mod common;

mod engine {
    use halo2_proofs::arithmetic::best_fft;
    use halo2_proofs::fft::recursive::FFTData;
    use halo2_proofs::halo2curves::ff::{Field, PrimeField, WithSmallOrderMulGroup};
    use halo2_proofs::halo2curves::group::{prime::PrimeCurveAffine, Curve, Group};
    use halo2_proofs::halo2curves::msm::msm_best;
    use zkinfer_backend::engine::cpu::msm::{msm_with_plan, msm_with_plan_on, plan, MsmPlan};
    use zkinfer_backend::engine::root_of_unity;
    use zkinfer_backend::{CpuEngine, Engine, EngineError, Fr, G1Affine, NttDirection, G1};

    use super::common::*;

    fn engine_msm(e: &CpuEngine, bases: &[G1Affine], scalars: &[Fr]) -> G1 {
        let h = e.load_bases(bases).unwrap();
        e.msm(&h, scalars).unwrap()
    }

    #[test]
    fn msm_matches_naive_sum_for_every_small_size() {
        let e = CpuEngine::new();
        let bases = points(300, 1);
        let h = e.load_bases(&bases).unwrap();
        for n in (0..=70).chain([100, 127, 128, 129, 255, 256, 299, 300]) {
            let s = scalars(n, 1000 + n as u64);
            assert_eq!(e.msm(&h, &s).unwrap(), naive_msm(&bases[..n], &s), "n = {n}");
        }
    }

    #[test]
    fn msm_every_window_width_and_chunking() {
        let bases = points(333, 2);
        let s = scalars(333, 3);
        let want = naive_msm(&bases, &s);
        for window in 1..=18 {
            for chunks in 1..=3 {
                // One window per task, a few, and every window in one task (the last group may be shorter).
                for group in [1, 3, 1000] {
                    let got = msm_with_plan(&bases, false, &s, MsmPlan { window, chunks, group });
                    assert_eq!(got, want, "window {window}, chunks {chunks}, group {group}");
                }
            }
        }
    }

    /// The batched affine additions on IFMA lanes (where the CPU has them) and on the scalar path give the same
    /// point, for every window width (full batches, partial last groups, doublings from repeated bases).
    #[test]
    fn msm_lanes_equal_scalar_path() {
        let mut bases = points(2000, 5);
        // Repeated bases with equal digits make doublings and P + (-P) inside batches.
        for i in 0..200 {
            bases[1000 + i] = bases[i];
        }
        let mut s = scalars(2000, 6);
        for i in 0..200 {
            s[1000 + i] = if i % 2 == 0 { s[i] } else { -s[i] };
        }
        let want = naive_msm(&bases, &s);
        for (window, group) in [(4, 1), (7, 1), (9, 1), (11, 1), (13, 1), (16, 1), (6, 20), (7, 9), (8, 5)] {
            let plan = MsmPlan { window, chunks: 2, group };
            let scalar = msm_with_plan_on(&bases, false, &s, plan, false);
            let lanes = msm_with_plan_on(&bases, false, &s, plan, true);
            assert_eq!(scalar, want, "scalar path, window {window}, group {group}");
            assert_eq!(lanes, want, "lanes, window {window}, group {group}");
        }
    }

    #[test]
    fn msm_plan_is_sane() {
        for log_n in 0..=24 {
            let p = plan(1 << log_n, 2, 254);
            let windows = zkinfer_backend::engine::cpu::msm::num_windows(p.window, 254);
            assert!((1..=18).contains(&p.window) && p.chunks >= 1, "2^{log_n}: {p:?}");
            assert!((1..=windows).contains(&p.group), "2^{log_n}: {p:?}");
        }
        // Large inputs get wide windows, one per task; a verifier-sized MSM groups its windows.
        assert!(plan(1 << 20, 2, 254).window >= 12);
        assert_eq!(plan(1 << 20, 2, 254).group, 1);
        assert!(plan(2774, 2, 254).group > 1, "{:?}", plan(2774, 2, 254));
    }

    #[test]
    fn msm_edge_inputs() {
        let e = CpuEngine::new();
        let minus_one = -Fr::ONE; // r - 1
        for n in [1usize, 2, 7, 64, 1500, 5000] {
            let bases = points(n, 10 + n as u64);
            let h = e.load_bases(&bases).unwrap();
            let g_sum: G1 = bases.iter().fold(G1::identity(), |a, p| a + p);

            // All-zero scalars -> identity.
            assert_eq!(e.msm(&h, &vec![Fr::ZERO; n]).unwrap(), G1::identity(), "zeros n={n}");
            // r - 1 everywhere -> -(sum of bases).
            assert_eq!(e.msm(&h, &vec![minus_one; n]).unwrap(), -g_sum, "r-1 n={n}");
            // One constant scalar: every point lands in the same buckets (the spill path).
            let c = Fr::from(0x1234_5678_9abc_def0u64) + Fr::from(u64::MAX).square();
            assert_eq!(e.msm(&h, &vec![c; n]).unwrap(), g_sum * c, "constant n={n}");
            // Scalar 1 and 2^k patterns (single non-zero digit).
            let ones: Vec<Fr> = (0..n).map(|i| Fr::from(1u64 << (i % 64))).collect();
            assert_eq!(e.msm(&h, &ones).unwrap(), naive_msm(&bases, &ones), "powers of two n={n}");

            // Repeated base: the same point everywhere (doubling and cancellation inside buckets).
            let p = bases[0];
            let same = vec![p; n];
            let s = scalars(n, 20 + n as u64);
            let total: Fr = s.iter().sum();
            assert_eq!(engine_msm(&e, &same, &s), p * total, "repeated base n={n}");
            assert_eq!(engine_msm(&e, &same, &vec![c; n]), p * (c * Fr::from(n as u64)), "repeated base+scalar n={n}");

            // P and -P alternating with equal scalars cancel.
            let pm: Vec<G1Affine> = (0..n).map(|i| if i % 2 == 0 { p } else { -p }).collect();
            let want = if n % 2 == 1 { p * c } else { G1::identity() };
            assert_eq!(engine_msm(&e, &pm, &vec![c; n]), want, "P,-P n={n}");

            // Identity points among the bases are ignored.
            let mut with_id = bases.clone();
            for i in (0..n).step_by(3) {
                with_id[i] = G1Affine::identity();
            }
            let s = scalars(n, 30 + n as u64);
            let want = naive_msm(&with_id, &s);
            assert_eq!(engine_msm(&e, &with_id, &s), want, "identity bases n={n}");
            if n >= 1500 {
                assert_eq!(want, msm_best(&s, &with_id));
            }
        }
    }

    #[test]
    fn msm_small_signed_scalars() {
        // Quantized witnesses: small values of both signs (negative ones are r − |v|), zeros, and one full scalar.
        let e = CpuEngine::new();
        for n in [5usize, 300, 4000] {
            let bases = points(n, 60 + n as u64);
            let h = e.load_bases(&bases).unwrap();
            let small: Vec<Fr> = (0..n)
                .map(|i| {
                    let v = Fr::from((i as u64 * 7919) % 300);
                    if i % 3 == 0 { -v } else { v }
                })
                .collect();
            assert_eq!(e.msm(&h, &small).unwrap(), msm_best(&small, &bases), "small n={n}");
            let bytes: Vec<Fr> = (0..n).map(|i| -Fr::from((i % 256) as u64)).collect();
            assert_eq!(e.msm(&h, &bytes).unwrap(), msm_best(&bytes, &bases), "negative bytes n={n}");
            let mut mixed = small.clone();
            mixed[n / 2] = scalars(1, 61)[0];
            assert_eq!(e.msm(&h, &mixed).unwrap(), msm_best(&mixed, &bases), "mixed n={n}");
            for window in [1, 5, 13] {
                assert_eq!(
                    msm_with_plan(&bases, false, &small, MsmPlan::windowed(window, 2)),
                    msm_best(&small, &bases),
                    "small n={n} window={window}"
                );
            }
        }
    }

    #[test]
    fn msm_matches_halo2curves_at_large_sizes() {
        let e = CpuEngine::new();
        let max = 1 << 20;
        let bases = points(max, 4);
        let h = e.load_bases(&bases).unwrap();
        for n in [1 << 12, (1 << 14) + 3, 1 << 16, (1 << 18) - 1, 1 << 20] {
            let s = scalars(n, 40 + n as u64);
            assert_eq!(e.msm(&h, &s).unwrap(), msm_best(&s, &bases[..n]), "n = {n}");
        }
    }

    #[test]
    fn msm_errors_are_reported() {
        let e = CpuEngine::new();
        let other = CpuEngine::new();
        let bases = points(4, 5);
        let h = e.load_bases(&bases).unwrap();
        assert!(matches!(e.msm(&h, &scalars(5, 1)), Err(EngineError::TooManyScalars { .. })));
        let err = other.msm(&h, &scalars(2, 1)).unwrap_err();
        assert!(matches!(err, EngineError::ForeignHandle { .. }), "{err}");
        assert!(err.to_string().contains("belongs to engine"), "{err}");
        assert_eq!(e.msm(&h, &[]).unwrap(), G1::identity());
    }

    #[test]
    fn ntt_matches_naive_dft() {
        let e = CpuEngine::new();
        for log_n in 0..=8u32 {
            let n = 1usize << log_n;
            let a = scalars(n, 50 + log_n as u64);
            let omega = root_of_unity(log_n);
            let want = naive_dft(&a, omega, Fr::ONE);
            let mut got = a.clone();
            e.ntt(&mut got, NttDirection::Forward).unwrap();
            assert_eq!(got, want, "forward 2^{log_n}");
            // Inverse: the naive DFT with omega^-1, divided by n.
            let n_inv = Fr::from(n as u64).invert().unwrap();
            let want_inv: Vec<Fr> =
                naive_dft(&a, omega.invert().unwrap(), Fr::ONE).into_iter().map(|x| x * n_inv).collect();
            let mut got = a.clone();
            e.ntt(&mut got, NttDirection::Inverse).unwrap();
            assert_eq!(got, want_inv, "inverse 2^{log_n}");
        }
    }

    #[test]
    fn ntt_matches_halo2_fft_across_the_four_step_boundary() {
        let e = CpuEngine::new();
        for log_n in 9..=17u32 {
            let n = 1usize << log_n;
            let a = scalars(n, 60 + log_n as u64);
            let omega = root_of_unity(log_n);
            let data = FFTData::new(n, omega, omega.invert().unwrap());
            let mut want = a.clone();
            best_fft(&mut want, omega, log_n, &data, false);
            let mut got = a.clone();
            e.ntt(&mut got, NttDirection::Forward).unwrap();
            assert!(got == want, "forward 2^{log_n} differs from halo2");
        }
    }

    #[test]
    fn intt_of_ntt_is_identity_up_to_2_20() {
        let e = CpuEngine::new();
        for log_n in 0..=20u32 {
            let a = scalars(1 << log_n, 70 + log_n as u64);
            let mut b = a.clone();
            e.ntt(&mut b, NttDirection::Forward).unwrap();
            if log_n >= 2 {
                assert!(b != a);
            }
            e.ntt(&mut b, NttDirection::Inverse).unwrap();
            assert!(b == a, "roundtrip 2^{log_n}");
        }
    }

    #[test]
    fn coset_ntt_matches_direct_evaluation() {
        let e = CpuEngine::new();
        let g = Fr::MULTIPLICATIVE_GENERATOR;
        for log_n in (0..=7u32).chain([12]) {
            let n = 1usize << log_n;
            let a = scalars(n, 80 + log_n as u64);
            let want = naive_dft(&a, root_of_unity(log_n), g);
            let mut got = a.clone();
            e.coset_ntt(&mut got, g, NttDirection::Forward).unwrap();
            assert!(got == want, "coset forward 2^{log_n}");
            e.coset_ntt(&mut got, g, NttDirection::Inverse).unwrap();
            assert!(got == a, "coset inverse 2^{log_n}");
        }
        // Roundtrips at sizes that take the four-step path, with halo2's extended-domain style generator zeta.
        let zeta = Fr::ZETA;
        for log_n in [14u32, 18] {
            let a = scalars(1 << log_n, 90 + log_n as u64);
            let mut b = a.clone();
            e.coset_ntt(&mut b, zeta, NttDirection::Forward).unwrap();
            let mut plain = a.clone();
            e.ntt(&mut plain, NttDirection::Forward).unwrap();
            assert!(b != plain);
            e.coset_ntt(&mut b, zeta, NttDirection::Inverse).unwrap();
            assert!(b == a, "coset roundtrip 2^{log_n}");
        }
    }

    /// The four-step path takes the coset's powers inside the transform (and `write_coset_ntt` reads its source in
    /// place of a copy): both must equal scaling by g^i first and a plain NTT, on both sides of the direct-size
    /// boundary, with even and odd log sizes (the four-step split differs).
    #[test]
    fn fused_coset_ntt_equals_scaling_then_plain_ntt() {
        let e = CpuEngine::new();
        for log_n in [1u32, 9, 11, 12, 13, 16, 17] {
            let n = 1usize << log_n;
            let a = scalars(n, 300 + log_n as u64);
            for g in [Fr::ZETA, Fr::MULTIPLICATIVE_GENERATOR * Fr::from(12345)] {
                let mut want: Vec<Fr> = a.iter().scan(Fr::ONE, |p, v| { let r = *v * *p; *p *= g; Some(r) }).collect();
                e.ntt(&mut want, NttDirection::Forward).unwrap();
                let mut got = a.clone();
                e.coset_ntt(&mut got, g, NttDirection::Forward).unwrap();
                assert!(got == want, "coset_ntt 2^{log_n}");
                let mut buf = e.alloc(n).unwrap();
                e.write_coset_ntt(&mut buf, &a, g).unwrap();
                let mut out = vec![Fr::ZERO; n];
                e.download(&buf, &mut out).unwrap();
                assert!(out == want, "write_coset_ntt 2^{log_n}");
            }
        }
        let mut buf = e.alloc(8).unwrap();
        assert!(matches!(e.write_coset_ntt(&mut buf, &[Fr::ONE; 4], Fr::ZETA), Err(EngineError::LengthMismatch { .. })));
        assert!(matches!(e.write_coset_ntt(&mut buf, &[Fr::ONE; 8], Fr::ZERO), Err(EngineError::ZeroCoset { .. })));
    }

    #[test]
    fn ntt_rejects_bad_sizes() {
        let e = CpuEngine::new();
        for len in [0usize, 3, 6, 1000] {
            let mut v = vec![Fr::ONE; len];
            let err = e.ntt(&mut v, NttDirection::Forward).unwrap_err();
            assert!(matches!(err, EngineError::NotPowerOfTwo { .. }), "{err}");
        }
        let mut v = vec![Fr::ONE; 4];
        let err = e.coset_ntt(&mut v, Fr::ZERO, NttDirection::Forward).unwrap_err();
        assert!(matches!(err, EngineError::ZeroCoset { .. }), "{err}");
        assert_eq!(v, vec![Fr::ONE; 4], "a rejected call leaves the input untouched");
    }

    #[test]
    fn resident_buffers_match_slice_operations() {
        let e = CpuEngine::new();
        let n = 1 << 13;
        let a = scalars(n, 100);
        let b = scalars(n, 101);
        let mut buf = e.upload(&a).unwrap();
        let other = e.upload(&b).unwrap();

        e.ntt_buffer(&mut buf, None, NttDirection::Forward).unwrap();
        let mut want = a.clone();
        e.ntt(&mut want, NttDirection::Forward).unwrap();
        let mut out = vec![Fr::ZERO; n];
        e.download(&buf, &mut out).unwrap();
        assert!(out == want);

        e.ntt_buffer(&mut buf, None, NttDirection::Inverse).unwrap();
        e.mul_assign(&mut buf, &other).unwrap();
        e.add_scaled(&mut buf, Fr::from(3), &other).unwrap();
        e.sub_assign(&mut buf, &other).unwrap();
        e.add_assign(&mut buf, &other).unwrap();
        e.scale(&mut buf, Fr::from(5)).unwrap();
        e.distribute_powers(&mut buf, Fr::from(7)).unwrap();
        e.download(&buf, &mut out).unwrap();
        let mut w = Fr::ONE;
        for i in 0..n {
            let expect = (a[i] * b[i] + Fr::from(3) * b[i]) * Fr::from(5) * w;
            assert_eq!(out[i], expect, "i = {i}");
            w *= Fr::from(7);
        }

        let bases = points(n, 102);
        let h = e.load_bases(&bases).unwrap();
        assert_eq!(e.msm_buffer(&h, &other).unwrap(), msm_best(&b, &bases));

        let short = e.alloc(3).unwrap();
        assert!(matches!(e.mul_assign(&mut buf, &short), Err(EngineError::LengthMismatch { .. })));
        let foreign = CpuEngine::new().upload(&a).unwrap();
        assert!(matches!(e.add_assign(&mut buf, &foreign), Err(EngineError::ForeignHandle { .. })));
        let mut wrong = vec![Fr::ZERO; 5];
        assert!(matches!(e.download(&buf, &mut wrong), Err(EngineError::LengthMismatch { .. })));
        let _ = G1::generator().to_affine();
    }
}
