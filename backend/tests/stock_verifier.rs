//! zkinfer's own prover against halo2-axiom's STOCK verifier.
//! Run with `cargo test -p zkinfer-backend --release stock_verifier`.

mod common;

mod stock_verifier {
    use std::sync::Arc;

    use halo2_proofs::halo2curves::ff::Field;
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::{keygen_pk, keygen_vk, keygen_vk_custom, Circuit, ConstraintSystem, ProvingKey};
    use halo2_proofs::poly::kzg::commitment::ParamsKZG;
    use zkinfer_testkit::DotProductCircuit;
    use zkinfer_testkit::sample_circuits::{
        copies::ManyCopies, fibonacci::Fibonacci, instances::PublicColumns, selectors::ManySelectors,
        tuple_lookup::TupleLookup, Sample,
    };
    use zkinfer_backend::plonk::{prove_blake2b, ProveError};
    use zkinfer_backend::params::EngineParams;
    use zkinfer_backend::stock::verify_stock;
    use zkinfer_backend::engine::cuda::CudaEngine;
    use zkinfer_backend::{Bn256, CpuEngine, Fr, G1Affine};

    use super::common::rng;

    pub fn ours<C: Circuit<Fr>>(
        params: &EngineParams,
        pk: &ProvingKey<G1Affine>,
        circuit: &C,
        instances: &[&[Fr]],
        seed: u64,
    ) -> Result<Vec<u8>, ProveError> {
        Ok(prove_blake2b(params, pk, circuit, instances, rng(seed))?.0)
    }

    /// Dev SRS (seeded), params on a CPU engine, and stock keys for `circuit`.
    pub fn keys<C: Circuit<Fr>>(circuit: &C, k: u32, seed: u64) -> (EngineParams, ProvingKey<G1Affine>) {
        let params = EngineParams::new(ParamsKZG::<Bn256>::setup(k, rng(seed)), Arc::new(CpuEngine::new())).unwrap();
        let vk = keygen_vk(params.stock(), &circuit.without_witnesses()).unwrap();
        let pk = keygen_pk(params.stock(), vk, &circuit.without_witnesses()).unwrap();
        (params, pk)
    }

    /// Full check of one circuit: MockProver accepts the honest witness and rejects the tampered one; our proof
    /// verifies with the stock verifier and is deterministic; the tampered witness is refused by the prover.
    fn check<S: Sample>(circuit: S, compress_selectors: bool) -> Vec<u8> {
        let k = circuit.k();
        let instances = circuit.instances();
        let inst: Vec<&[Fr]> = instances.iter().map(Vec::as_slice).collect();
        MockProver::run(k, &circuit, instances.clone()).unwrap().assert_satisfied();
        let bad = circuit.tampered();
        assert!(MockProver::run(k, &bad, instances.clone()).unwrap().verify().is_err(), "tamper not caught by MockProver");

        let stock = ParamsKZG::<Bn256>::setup(k, rng(k as u64));
        let params = EngineParams::new(stock.clone(), Arc::new(CpuEngine::new())).unwrap();
        let vk = keygen_vk_custom(&stock, &circuit.without_witnesses(), compress_selectors).unwrap();
        let pk = keygen_pk(&stock, vk, &circuit.without_witnesses()).unwrap();

        // The quotient as the prover runs it (folded by y, block-wise) equals the constraints as compiled.
        let [before, after] = zkinfer_backend::plonk::quotient::self_test_compiled(&params, &pk, 200, rng(k as u64 + 1))
            .expect("the compiled quotient program differs from the constraints");
        eprintln!("quotient program (ops, multiplications): {before:?} -> {after:?}");
        // The same on the CUDA engine (host emulator): the kernels generated from the folded groups.
        let emu = EngineParams::new(stock.clone(), Arc::new(CudaEngine::emulated().expect("CUDA emulator (g++)"))).unwrap();
        assert_eq!(
            zkinfer_backend::plonk::quotient::self_test_compiled(&emu, &pk, 200, rng(k as u64 + 1))
                .expect("the generated quotient kernels differ from the constraints"),
            [before, after]
        );

        let cosets = zkinfer_backend::plonk::cosets::Cosets::for_pieces(pk.get_vk().get_domain().get_quotient_poly_degree());
        eprintln!("degree {}: the quotient on {cosets:?}", pk.get_vk().cs().degree());
        let proof = ours(&params, &pk, &circuit, &inst, 7).unwrap();
        verify_stock(&stock, pk.get_vk(), &inst, &proof).expect("stock verifier rejected our proof");
        assert_eq!(proof, ours(&params, &pk, &circuit, &inst, 7).unwrap(), "same seed, same bytes");
        assert_ne!(proof, ours(&params, &pk, &circuit, &inst, 8).unwrap(), "the RNG reaches the proof");

        // An unsatisfied witness is an error, never a proof (the self-check at x, or a lookup input not in its table).
        match ours(&params, &pk, &bad, &inst, 9) {
            Ok(p) => panic!("the prover proved a tampered witness (stock verifier: {:?})", verify_stock(&stock, pk.get_vk(), &inst, &p)),
            Err(e) => eprintln!("tampered witness refused by the prover: {e}"),
        }
        proof
    }

    #[test]
    fn custom_gates_with_rotations() {
        check(Fibonacci::new(300, 1, 1), false);
    }

    #[test]
    fn copy_constraints_across_many_columns() {
        let c = ManyCopies::new(12, 100, 5);
        let mut cs = ConstraintSystem::<Fr>::default();
        ManyCopies::configure(&mut cs);
        assert!(cs.permutation().get_columns().len() >= 14);
        check(c, false);
    }

    #[test]
    fn tuple_lookup() {
        check(TupleLookup::new(700), false);
    }

    #[test]
    fn several_instance_columns() {
        check(PublicColumns::new(200), false);
    }

    #[test]
    fn compressed_selectors() {
        let c = ManySelectors::new(300);
        let stock = ParamsKZG::<Bn256>::setup(c.k(), rng(1));
        let plain = keygen_vk_custom(&stock, &c, false).unwrap();
        let compressed = keygen_vk_custom(&stock, &c, true).unwrap();
        assert!(
            compressed.cs().num_fixed_columns() < plain.cs().num_fixed_columns(),
            "halo2-axiom did not compress the selectors"
        );
        check(c.clone(), false);
        check(c, true);
    }

    #[test]
    fn dot_product_with_byte_lookups() {
        let len = 700;
        let k = DotProductCircuit::min_k(len);
        let stock = ParamsKZG::<Bn256>::setup(k, rng(1));
        let params = EngineParams::new(stock.clone(), Arc::new(CpuEngine::new())).unwrap();
        let circuit = DotProductCircuit::random(len, &mut rng(2));
        let vk = keygen_vk(&stock, &circuit.without_witnesses()).unwrap();
        let pk = keygen_pk(&stock, vk, &circuit.without_witnesses()).unwrap();
        let out = circuit.output();
        let proof = ours(&params, &pk, &circuit, &[&[out]], 3).unwrap();
        verify_stock(&stock, pk.get_vk(), &[&[out]], &proof).expect("stock verifier rejected our proof");
        assert_eq!(proof, ours(&params, &pk, &circuit, &[&[out]], 3).unwrap(), "same seed, same bytes");
        // A false claim: either refused or rejected.
        let wrong = [out + Fr::ONE];
        if let Ok(p) = ours(&params, &pk, &circuit, &[&wrong], 4) {
            assert!(verify_stock(&stock, pk.get_vk(), &[&wrong], &p).is_err());
        }
    }

    #[test]
    fn larger_circuit_at_k14() {
        let c = Fibonacci::new(12_000, 3, 5);
        assert!(c.k() >= 14, "k = {}", c.k());
        check(c, false);
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let c = Fibonacci::new(50, 1, 1);
        let (params, pk) = keys(&c, c.k(), 1);
        let inst = c.instances();
        // Wrong number of instance columns.
        let err = ours(&params, &pk, &c, &[], 1).unwrap_err();
        assert!(matches!(err, ProveError::InstanceColumns { .. }), "{err}");
        // Too many public values.
        let too_many = vec![Fr::ONE; 1 << c.k()];
        let err = ours(&params, &pk, &c, &[&too_many], 1).unwrap_err();
        assert!(matches!(err, ProveError::InstanceTooLarge { .. }), "{err}");
        // Params of another size.
        let other = EngineParams::new(ParamsKZG::<Bn256>::setup(c.k() + 1, rng(2)), Arc::new(CpuEngine::new())).unwrap();
        let err = ours(&other, &pk, &c, &[&inst[0]], 1).unwrap_err();
        assert!(matches!(err, ProveError::ParamsMismatch { .. }), "{err}");
        // A lookup input outside the table is refused with the lookup's name.
        let t = TupleLookup::new(100);
        let (params, pk) = keys(&t, t.k(), 3);
        let ti = t.instances();
        let err = ours(&params, &pk, &t.tampered(), &[&ti[0]], 1).unwrap_err();
        assert!(err.to_string().contains("(x, y) in (t, t^3 + 7)"), "{err}");
    }
}

/// A gate above halo2-axiom's degree cap cannot be proven soundly; the prover must say so instead of emitting a
/// proof no verifier accepts.
mod stock_verifier_degree_cap {
    use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
    use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error};
    use halo2_proofs::poly::Rotation;
    use zkinfer_backend::plonk::ProveError;
    use zkinfer_backend::Fr;

    use super::stock_verifier::{keys, ours};

    #[derive(Clone, Default)]
    struct Degree7;

    impl Circuit<Fr> for Degree7 {
        type Config = (Column<Advice>, halo2_proofs::plonk::Selector);
        type FloorPlanner = SimpleFloorPlanner;
        type Params = ();
        fn without_witnesses(&self) -> Self {
            Degree7
        }
        fn configure(meta: &mut ConstraintSystem<Fr>) -> Self::Config {
            let a = meta.advice_column();
            let s = meta.selector();
            meta.create_gate("a^6 = a^6", |m| {
                let s = m.query_selector(s);
                let a = m.query_advice(a, Rotation::cur());
                let a3 = a.clone() * a.clone() * a;
                vec![s * (a3.clone() * a3.clone() - a3.clone() * a3)]
            });
            (a, s)
        }
        fn synthesize(&self, c: Self::Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
            layouter.assign_region(
                || "r",
                |mut region| {
                    c.1.enable(&mut region, 0)?;
                    region.assign_advice(c.0, 0, Value::known(Fr::from(3)));
                    Ok(())
                },
            )
        }
    }

    #[test]
    fn gates_above_the_degree_cap_are_refused() {
        let (params, pk) = keys(&Degree7, 5, 1);
        let err = ours(&params, &pk, &Degree7, &[], 1).unwrap_err();
        assert!(matches!(err, ProveError::Unsupported(_)), "{err}");
        assert!(err.to_string().contains("MAX_DEGREE"), "{err}");
    }
}

/// Multi-phase advice (a column in the second phase, drawn after a challenge) is refused with a clear error.
mod stock_verifier_multi_phase {
    use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
    use halo2_proofs::plonk::{Advice, Challenge, Circuit, Column, ConstraintSystem, Error, FirstPhase, SecondPhase};
    use halo2_proofs::poly::Rotation;
    use zkinfer_backend::plonk::ProveError;
    use zkinfer_backend::Fr;

    use super::stock_verifier::{keys, ours};

    #[derive(Clone, Default)]
    struct TwoPhase;

    impl Circuit<Fr> for TwoPhase {
        type Config = (Column<Advice>, Column<Advice>, Challenge);
        type FloorPlanner = SimpleFloorPlanner;
        type Params = ();
        fn without_witnesses(&self) -> Self {
            TwoPhase
        }
        fn configure(meta: &mut ConstraintSystem<Fr>) -> Self::Config {
            let a = meta.advice_column_in(FirstPhase);
            let b = meta.advice_column_in(SecondPhase);
            let r = meta.challenge_usable_after(FirstPhase);
            meta.create_gate("b = r * a", |m| {
                let a = m.query_advice(a, Rotation::cur());
                let b = m.query_advice(b, Rotation::cur());
                let r = m.query_challenge(r);
                vec![b - r * a]
            });
            (a, b, r)
        }
        fn synthesize(&self, c: Self::Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
            let r = layouter.get_challenge(c.2);
            layouter.assign_region(
                || "r",
                |mut region| {
                    region.assign_advice(c.0, 0, Value::known(Fr::from(2)));
                    region.assign_advice(c.1, 0, r.map(|r| r * Fr::from(2)));
                    Ok(())
                },
            )
        }
    }

    #[test]
    fn multi_phase_circuits_are_refused() {
        let (params, pk) = keys(&TwoPhase, 5, 1);
        let err = ours(&params, &pk, &TwoPhase, &[], 1).unwrap_err();
        assert!(matches!(err, ProveError::Unsupported(_)), "{err}");
        assert!(err.to_string().contains("multi-phase"), "{err}");
    }
}

/// Cells assigned as fractions (`Assigned::Rational`), a fraction with a zero denominator (zero, as halo2 has it),
/// and a cell assigned twice: the witness collector keeps field values plus a list of denominators, so each of
/// these must come out exactly as halo2's own `Assigned` evaluation gives.
mod stock_verifier_fractions {
    use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::halo2curves::ff::Field;
    use halo2_proofs::plonk::{Advice, Assigned, Circuit, Column, ConstraintSystem, Error, Selector};
    use halo2_proofs::poly::kzg::commitment::ParamsKZG;
    use halo2_proofs::poly::Rotation;
    use zkinfer_backend::stock::verify_stock;
    use zkinfer_backend::{Bn256, Fr};

    use super::common::rng;
    use super::stock_verifier::{keys, ours};

    /// a · b = c on every enabled row, with b assigned as the fraction c / a; `overwrite_last` assigns the last
    /// row's b first as a wrong fraction, then again as the right plain value (so no stale denominator may stay).
    #[derive(Clone, Default)]
    struct Fractions {
        rows: Vec<(u64, u64)>,
        wrong: bool,
    }

    impl Circuit<Fr> for Fractions {
        type Config = ([Column<Advice>; 3], Selector);
        type FloorPlanner = SimpleFloorPlanner;
        type Params = ();
        fn without_witnesses(&self) -> Self {
            self.clone()
        }
        fn configure(meta: &mut ConstraintSystem<Fr>) -> Self::Config {
            let cols = [meta.advice_column(), meta.advice_column(), meta.advice_column()];
            let s = meta.selector();
            meta.create_gate("a·b = c", |m| {
                let s = m.query_selector(s);
                let [a, b, c] = cols.map(|c| m.query_advice(c, Rotation::cur()));
                vec![s * (a * b - c)]
            });
            (cols, s)
        }
        fn synthesize(&self, (cols, s): Self::Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
            layouter.assign_region(
                || "fractions",
                |mut region| {
                    for (row, &(a, c)) in self.rows.iter().enumerate() {
                        let (a, c) = (Fr::from(a), Fr::from(c));
                        s.enable(&mut region, row)?;
                        region.assign_advice(cols[0], row, Value::known(a));
                        region.assign_advice(cols[2], row, Value::known(c));
                        // b = c / a as halo2's fraction (0 when a = 0, as Assigned evaluates a zero denominator).
                        region.assign_advice(cols[1], row, Value::known(Assigned::Rational(c, a)));
                    }
                    let last = self.rows.len() - 1;
                    let (a, c) = (Fr::from(self.rows[last].0), Fr::from(self.rows[last].1));
                    region.assign_advice(cols[1], last, Value::known(Assigned::Rational(c + Fr::ONE, a)));
                    let b = if self.wrong { c * a.invert().unwrap() + Fr::ONE } else { c * a.invert().unwrap() };
                    region.assign_advice(cols[1], last, Value::known(Assigned::Trivial(b)));
                    Ok(())
                },
            )
        }
    }

    #[test]
    fn fractions_and_reassigned_cells_prove_and_verify() {
        let honest = Fractions { rows: vec![(3, 5), (7, 1), (0, 0), (11, 13), (2, 9)], wrong: false };
        // halo2-axiom's MockProver unwraps every inverse, so it only sees the rows without a zero denominator.
        let nonzero = Fractions { rows: vec![(3, 5), (7, 1), (11, 13), (2, 9)], wrong: false };
        MockProver::run(5, &nonzero, vec![]).unwrap().assert_satisfied();
        let (params, pk) = keys(&honest, 5, 1);
        let proof = ours(&params, &pk, &honest, &[], 1).unwrap();
        let stock = ParamsKZG::<Bn256>::setup(5, rng(1));
        verify_stock(&stock, pk.get_vk(), &[], &proof).unwrap();
        // The reassigned cell's second value is wrong: no proof.
        assert!(MockProver::run(5, &Fractions { wrong: true, ..nonzero }, vec![]).unwrap().verify().is_err());
        let wrong = Fractions { wrong: true, ..honest };
        assert!(ours(&params, &pk, &wrong, &[], 1).is_err());
    }
}
