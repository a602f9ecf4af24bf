//! zkinfer's own prover against halo2-axiom's STOCK verifier.
//! Run with `cargo test -p zkinfer-backend --release stock_verifier`.

mod common;

mod stock_verifier {
    use std::sync::Arc;

    use halo2_proofs::halo2curves::ff::Field;
    use halo2_proofs::plonk::{keygen_pk, keygen_vk, Circuit, ProvingKey};
    use halo2_proofs::poly::kzg::commitment::ParamsKZG;
    use halo2_proofs::transcript::{Blake2bWrite, Challenge255, TranscriptWriterBuffer};
    use zkinfer_backend::demo_circuit::DotProductCircuit;
    use zkinfer_backend::plonk::{prove, ProveError};
    use zkinfer_backend::stock_hook::{verify_stock, EngineParams};
    use zkinfer_backend::{Bn256, CpuEngine, Fr, G1Affine};

    use super::common::rng;

    pub fn ours<C: Circuit<Fr>>(
        params: &EngineParams,
        pk: &ProvingKey<G1Affine>,
        circuit: &C,
        instances: &[&[Fr]],
        seed: u64,
    ) -> Result<Vec<u8>, ProveError> {
        let mut t = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(Vec::new());
        prove(params, pk, circuit, instances, rng(seed), &mut t)?;
        Ok(t.finalize())
    }

    #[test]
    fn dot_product_circuit() {
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
        let again = ours(&params, &pk, &circuit, &[&[out]], 3).unwrap();
        assert_eq!(proof, again, "same seed, same bytes");
        assert!(verify_stock(&stock, pk.get_vk(), &[&[out + Fr::ONE]], &proof).is_err());
    }
}
