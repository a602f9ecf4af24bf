//! halo2-axiom's stock `create_proof` with commitment MSMs through an Engine; the stock verifier is the
//! oracle. Run with `cargo test -p zkinfer-backend --release stock_msm_hook`.

mod common;

mod stock_msm_hook {
    use std::sync::Arc;

    use halo2_proofs::dev::MockProver;
    use halo2_proofs::halo2curves::ff::Field;
    use halo2_proofs::plonk::{create_proof, keygen_pk, keygen_vk};
    use halo2_proofs::poly::commitment::{Blind, Params, ParamsProver};
    use halo2_proofs::poly::EvaluationDomain;
    use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
    use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
    use halo2_proofs::transcript::{Blake2bWrite, Challenge255, TranscriptWriterBuffer};
        use zkinfer_backend::params::EngineParams;
    use zkinfer_backend::stock::{prove_stock_with_engine, verify_stock};
    use zkinfer_testkit::DotProductCircuit;
    use zkinfer_backend::{Bn256, CpuEngine, Fr, G1Affine};

    use super::common::rng;

    struct Setup {
        stock: ParamsKZG<Bn256>,
        params: EngineParams,
        circuit: DotProductCircuit,
        pk: halo2_proofs::plonk::ProvingKey<G1Affine>,
    }

    fn setup(len: usize, seed: u64) -> Setup {
        let k = DotProductCircuit::min_k(len);
        let stock = ParamsKZG::<Bn256>::setup(k, rng(seed));
        let params = EngineParams::new(stock.clone(), Arc::new(CpuEngine::new())).unwrap();
        let circuit = DotProductCircuit::random(len, &mut rng(seed + 1));
        let vk = keygen_vk(&params, &circuit.without_witnesses_pub()).unwrap();
        let pk = keygen_pk(&params, vk, &circuit.without_witnesses_pub()).unwrap();
        Setup {
            stock,
            params,
            circuit,
            pk,
        }
    }

    // `Circuit::without_witnesses` under a name that does not clash with the trait import below.
    trait WithoutWitnesses {
        fn without_witnesses_pub(&self) -> Self;
    }
    impl WithoutWitnesses for DotProductCircuit {
        fn without_witnesses_pub(&self) -> Self {
            halo2_proofs::plonk::Circuit::without_witnesses(self)
        }
    }

    #[test]
    fn mock_prover_accepts_honest_and_rejects_wrong_output() {
        let c = DotProductCircuit::random(300, &mut rng(1));
        let k = DotProductCircuit::min_k(300);
        let out = c.output();
        MockProver::run(k, &c, vec![vec![out]]).unwrap().assert_satisfied();
        let bad = MockProver::run(k, &c, vec![vec![out + Fr::ONE]]).unwrap();
        assert!(bad.verify().is_err());
    }

    #[test]
    fn hooked_proof_verifies_with_stock_verifier() {
        let s = setup(700, 10);
        let out = s.circuit.output();
        let proof = prove_stock_with_engine(&s.params, &s.pk, s.circuit.clone(), &[&[out]], rng(11)).unwrap();
        assert!(s.params.engine_msm_count() > 0, "no commitment went through the engine");
        assert_eq!(s.params.fallback_msm_count(), 0);
        verify_stock(&s.stock, s.pk.get_vk(), &[&[out]], &proof).expect("stock verifier rejected our proof");

        // The verifier is not a rubber stamp: wrong public output, flipped proof bytes, truncated proof.
        assert!(verify_stock(&s.stock, s.pk.get_vk(), &[&[out + Fr::ONE]], &proof).is_err());
        for i in [0, proof.len() / 2, proof.len() - 1] {
            let mut bad = proof.clone();
            bad[i] ^= 1;
            assert!(verify_stock(&s.stock, s.pk.get_vk(), &[&[out]], &bad).is_err(), "flip at {i}");
        }
        assert!(verify_stock(&s.stock, s.pk.get_vk(), &[&[out]], &proof[..proof.len() - 32]).is_err());
    }

    #[test]
    fn hooked_keys_and_commitments_equal_stock() {
        let s = setup(500, 20);
        let out = s.circuit.output();
        // Keys: keygen through the engine gives the stock verifying key.
        let stock_vk = keygen_vk(&s.stock, &s.circuit.without_witnesses_pub()).unwrap();
        assert_eq!(stock_vk.transcript_repr(), s.pk.get_vk().transcript_repr());

        // Every commitment entry point agrees with the stock params, for full and short polynomials.
        let n = s.stock.n() as usize;
        for len in [n, n / 2 + 3, 1] {
            let mut lagrange = EvaluationDomain::<Fr>::new(1, s.stock.k()).empty_lagrange();
            let mut coeff = EvaluationDomain::<Fr>::new(1, s.stock.k()).empty_coeff();
            let mut r = rng(len as u64);
            for i in 0..len {
                lagrange[i] = Fr::random(&mut r);
                coeff[i] = Fr::random(&mut r);
            }
            assert_eq!(s.params.commit_lagrange(&lagrange, Blind::default()), s.stock.commit_lagrange(&lagrange, Blind::default()));
            assert_eq!(s.params.commit(&coeff, Blind::default()), s.stock.commit(&coeff, Blind::default()));
        }

        // halo2-axiom's prover is not deterministic for a fixed RNG (its vanishing argument draws from
        // thread_rng), so whole proofs cannot be compared; the advice commitments come first in the transcript
        // and depend only on the witness and our RNG, so those bytes must match the stock prover's.
        let ours = prove_stock_with_engine(&s.params, &s.pk, s.circuit.clone(), &[&[out]], rng(21)).unwrap();
        let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(Vec::new());
        create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
            &s.stock,
            &s.pk,
            &[s.circuit.clone()],
            &[&[&[out]]],
            rng(21),
            &mut transcript,
        )
        .unwrap();
        let stock = transcript.finalize();
        let advice_bytes = 32 * s.pk.get_vk().cs().num_advice_columns();
        assert_eq!(ours[..advice_bytes], stock[..advice_bytes]);
        assert_eq!(ours.len(), stock.len());
    }

    #[test]
    fn a_witness_that_fails_mock_prover_gives_a_rejected_proof() {
        let s = setup(300, 30);
        let wrong = s.circuit.output() + Fr::ONE;
        // The prover does not check constraints; the proof for a false statement must not verify.
        match prove_stock_with_engine(&s.params, &s.pk, s.circuit.clone(), &[&[wrong]], rng(31)) {
            Ok(proof) => assert!(verify_stock(&s.stock, s.pk.get_vk(), &[&[wrong]], &proof).is_err()),
            Err(_) => {}
        }
    }

    #[test]
    fn downsized_params_still_prove() {
        let len = 200;
        let k = DotProductCircuit::min_k(len);
        let mut stock = ParamsKZG::<Bn256>::setup(k + 2, rng(40));
        let mut params = EngineParams::new(stock.clone(), Arc::new(CpuEngine::new())).unwrap();
        params.downsize(k);
        stock.downsize(k);
        let circuit = DotProductCircuit::random(len, &mut rng(41));
        let vk = keygen_vk(&params, &circuit.without_witnesses_pub()).unwrap();
        let pk = keygen_pk(&params, vk, &circuit.without_witnesses_pub()).unwrap();
        let out = circuit.output();
        let proof = prove_stock_with_engine(&params, &pk, circuit, &[&[out]], rng(42)).unwrap();
        verify_stock(&stock, pk.get_vk(), &[&[out]], &proof).unwrap();
        assert_eq!(params.k(), k);
    }
}

/// An engine whose MSMs always fail, as a lost GPU would: the hook must fall back, never commit wrongly.
mod failing_engine {
    use zkinfer_backend::engine::program::RowProgram;
    use zkinfer_backend::engine::{EngineId, Result};
    use zkinfer_backend::{Bases, CpuEngine, Engine, EngineError, Fr, G1Affine, NttDirection, ScalarBuffer, G1};

    #[derive(Debug, Default)]
    pub struct FailingMsm(pub CpuEngine);

    impl Engine for FailingMsm {
        fn id(&self) -> EngineId {
            self.0.id()
        }
        fn describe(&self) -> String {
            "engine whose MSMs fail".into()
        }
        fn load_bases(&self, points: &[G1Affine]) -> Result<Bases> {
            self.0.load_bases(points)
        }
        fn msm(&self, _: &Bases, _: &[Fr]) -> Result<G1> {
            Err(EngineError::Device { op: "msm", msg: "simulated device loss".into() })
        }
        fn msm_buffer(&self, b: &Bases, s: &ScalarBuffer) -> Result<G1> {
            self.0.msm_buffer(b, s)
        }
        fn ntt(&self, v: &mut [Fr], d: NttDirection) -> Result<()> {
            self.0.ntt(v, d)
        }
        fn coset_ntt(&self, v: &mut [Fr], g: Fr, d: NttDirection) -> Result<()> {
            self.0.coset_ntt(v, g, d)
        }
        fn ntt_buffer(&self, b: &mut ScalarBuffer, g: Option<Fr>, d: NttDirection) -> Result<()> {
            self.0.ntt_buffer(b, g, d)
        }
        fn alloc(&self, len: usize) -> Result<ScalarBuffer> {
            self.0.alloc(len)
        }
        fn upload(&self, v: &[Fr]) -> Result<ScalarBuffer> {
            self.0.upload(v)
        }
        fn write(&self, b: &mut ScalarBuffer, v: &[Fr]) -> Result<()> {
            self.0.write(b, v)
        }
        fn copy_from(&self, d: &mut ScalarBuffer, s: &ScalarBuffer) -> Result<()> {
            self.0.copy_from(d, s)
        }
        fn evaluate_rows_buffers(
            &self,
            p: &RowProgram,
            c: &[Option<&ScalarBuffer>],
            g: Fr,
            w: Fr,
            y: Fr,
            o: &mut ScalarBuffer,
        ) -> Result<()> {
            self.0.evaluate_rows_buffers(p, c, g, w, y, o)
        }
        fn download(&self, b: &ScalarBuffer, o: &mut [Fr]) -> Result<()> {
            self.0.download(b, o)
        }
        fn mul_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()> {
            self.0.mul_assign(a, b)
        }
        fn add_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()> {
            self.0.add_assign(a, b)
        }
        fn sub_assign(&self, a: &mut ScalarBuffer, b: &ScalarBuffer) -> Result<()> {
            self.0.sub_assign(a, b)
        }
        fn add_scaled(&self, a: &mut ScalarBuffer, c: Fr, b: &ScalarBuffer) -> Result<()> {
            self.0.add_scaled(a, c, b)
        }
        fn scale(&self, a: &mut ScalarBuffer, c: Fr) -> Result<()> {
            self.0.scale(a, c)
        }
        fn distribute_powers(&self, a: &mut ScalarBuffer, c: Fr) -> Result<()> {
            self.0.distribute_powers(a, c)
        }
        fn evaluate_rows(
            &self,
            p: &RowProgram,
            c: &[&[Fr]],
            g: Fr,
            w: Fr,
            y: Fr,
            out: &mut [Fr],
        ) -> Result<()> {
            self.0.evaluate_rows(p, c, g, w, y, out)
        }
    }
}

mod stock_msm_hook_fallback {
    use std::sync::Arc;

    use halo2_proofs::plonk::{keygen_pk, keygen_vk, Circuit};
    use halo2_proofs::poly::kzg::commitment::ParamsKZG;
        use zkinfer_backend::params::EngineParams;
    use zkinfer_backend::stock::{prove_stock_with_engine, verify_stock};
    use zkinfer_testkit::DotProductCircuit;
    use zkinfer_backend::Bn256;

    use super::common::rng;
    use super::failing_engine::FailingMsm;

    #[test]
    fn stock_msm_hook_falls_back_when_the_engine_fails() {
        let len = 100;
        let stock = ParamsKZG::<Bn256>::setup(DotProductCircuit::min_k(len), rng(50));
        let params = EngineParams::new(stock.clone(), Arc::new(FailingMsm::default())).unwrap();
        let circuit = DotProductCircuit::random(len, &mut rng(51));
        let vk = keygen_vk(&params, &circuit.without_witnesses()).unwrap();
        let pk = keygen_pk(&params, vk, &circuit.without_witnesses()).unwrap();
        let out = circuit.output();
        let proof = prove_stock_with_engine(&params, &pk, circuit, &[&[out]], rng(52)).unwrap();
        verify_stock(&stock, pk.get_vk(), &[&[out]], &proof).unwrap();
        assert_eq!(params.engine_msm_count(), 0);
        assert!(params.fallback_msm_count() > 0);
    }
}
