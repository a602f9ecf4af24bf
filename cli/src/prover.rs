//! The `--prover` argument (a clap adapter over the backend's [`Prover`]) and proving behind a progress stage, one
//! step per prover phase — the one prover dispatch `prove`, `demo`, `selftest` and `bench` share.

use clap::builder::PossibleValue;
use halo2_proofs::plonk::{Circuit, ProvingKey};
use rand_core::RngCore;
use zkinfer_backend::provers::{Proved, Prover, ProverError, ProverParams};
use zkinfer_backend::{Fr, G1Affine};

use crate::ui::Ui;

/// `--prover zkinfer|stock`: the backend's [`Prover`] (which must not depend on clap), named for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProverArg(pub Prover);

impl clap::ValueEnum for ProverArg {
    fn value_variants<'a>() -> &'a [Self] {
        &[ProverArg(Prover::Zkinfer), ProverArg(Prover::Stock)]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.name()).help(self.0.describe()))
    }
}

/// Proves with `prover` while a progress stage titled `title` steps through the prover's phases.
#[allow(clippy::too_many_arguments)]
pub fn prove_staged<'a, C: Circuit<Fr> + Clone>(
    ui: &Ui,
    title: &str,
    prover: Prover,
    params: impl Into<ProverParams<'a>>,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: impl RngCore,
) -> Result<Proved, ProverError> {
    let phases = prover.phases();
    let stage = ui.stage(title, phases.len() as u64);
    if let Some(first) = phases.first() {
        stage.message(first);
    }
    let mut next = 1;
    let proved = prover.prove(params, pk, circuit, instances, rng, &mut |done| {
        stage.step(done, phases.get(next).copied().unwrap_or(""));
        next += 1;
    })?;
    stage.finish();
    Ok(proved)
}

/// The (phase, seconds) list reports carry, from zkinfer's prover (empty from the stock one).
pub fn phase_seconds(proved: &Proved) -> Vec<(String, f64)> {
    proved.stats.iter().flat_map(|s| &s.phases).map(|(n, d)| (n.to_string(), d.as_secs_f64())).collect()
}
