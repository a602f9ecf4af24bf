//! The proof, argument by argument in transcript order; each step is one call into the argument that owns it:
//! vk + instances absorbed → advice committed ([`columns`]) → θ → lookup A', S' ([`lookup`]) → β, γ →
//! permutation Z's ([`permutation`]) → lookup Z's → vanishing random poly ([`vanishing`]) → y → h committed
//! ([`quotient`]) → x → evaluations (advice, fixed, random poly, σ, permutation, lookups) → SHPLONK openings in
//! the verifier's order (advice, permutation, lookups, fixed, σ, vanishing) ([`shplonk`]).

use halo2_proofs::plonk::{Circuit, ProvingKey};
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rand_core::RngCore;

use super::quotient::{Challenges, Layout};
use super::shplonk::Openings;
use super::{columns, gates, lookup, permutation, quotient, shplonk, vanishing, Ctx, ProveError};
use crate::params::EngineParams;
use crate::{Fr, G1Affine};

/// Wall time per prover phase, in order.
#[derive(Clone, Debug, Default)]
pub struct ProveStats {
    pub phases: Vec<(&'static str, std::time::Duration)>,
    /// Where the quotient's columns lived (see [`super::quotient::Placement`]).
    pub quotient_placement: Option<super::quotient::Placement>,
    /// Whether the witness columns stayed in the engine's memory from commitment to quotient ([`Ctx::kept`]).
    pub witness_on_engine: bool,
}

impl ProveStats {
    fn lap(&mut self, name: &'static str, since: &mut std::time::Instant, on_phase: &mut dyn FnMut(&'static str)) {
        let now = std::time::Instant::now();
        self.phases.push((name, now - *since));
        on_phase(name);
        tracing::debug!("prove: {name} {:.3} s", (now - *since).as_secs_f64());
        *since = now;
    }
}

/// The prover's phases in the order they finish (what `prove_observed` reports, and [`ProveStats`] times).
pub const PHASES: [&str; 7] = [
    "witness + advice commitments",
    "lookup permuted columns",
    "permutation + lookup products",
    "to coefficients (INTT)",
    "quotient h(X) + commitments",
    "evaluations",
    "SHPLONK multi-open",
];

/// Checks what the prover supports and the inputs' shapes, and sets up the shared context.
pub(crate) fn context<'a>(
    params: &'a EngineParams,
    pk: &'a ProvingKey<G1Affine>,
    instances: &[&[Fr]],
) -> Result<Ctx<'a>, ProveError> {
    let vk = pk.get_vk();
    let cs = vk.cs();
    let domain = vk.get_domain();
    let k = domain.k();
    let n = 1usize << k;
    let params_k = halo2_proofs::poly::commitment::Params::k(params);
    if params_k != k {
        return Err(ProveError::ParamsMismatch { params_k, pk_k: k });
    }
    if cs.advice_column_phase().iter().any(|&p| p > 0) || cs.challenge_phase().iter().any(|&p| p > 0) {
        return Err(ProveError::Unsupported(
            "multi-phase advice (columns or challenges after the first phase); prove it with halo2's stock prover"
                .into(),
        ));
    }
    gates::check_degrees(cs)?;
    if instances.len() != cs.num_instance_columns() {
        return Err(ProveError::InstanceColumns {
            expected: cs.num_instance_columns(),
            got: instances.len(),
        });
    }
    let blinding_factors = cs.blinding_factors();
    let usable_rows = n - (blinding_factors + 1);
    for (column, values) in instances.iter().enumerate() {
        if values.len() > usable_rows {
            return Err(ProveError::InstanceTooLarge {
                column,
                len: values.len(),
                usable: usable_rows,
                k,
            });
        }
    }
    let mut ctx = Ctx {
        engine: params.engine().as_ref(),
        params,
        pk,
        cs,
        domain,
        n,
        blinding_factors,
        usable_rows,
        challenges: Vec::new(),
        kept: None,
        evals: Default::default(),
    };
    let columns = Layout::full(&ctx, permutation::sets(cs)).len;
    if super::ctx::keep_witness_on_engine(ctx.engine, columns, n) {
        ctx.kept = Some(std::sync::Mutex::new((0..columns).map(|_| None).collect()));
    }
    Ok(ctx)
}

/// Proves `circuit` into `transcript`, calling `on_phase` as each of [`PHASES`] finishes.
pub fn create_proof<C, E, T>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: &mut impl RngCore,
    transcript: &mut T,
    on_phase: &mut dyn FnMut(&'static str),
) -> Result<ProveStats, ProveError>
where
    C: Circuit<Fr>,
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    let mut stats = ProveStats::default();
    let mut t = std::time::Instant::now();
    let mut ctx = context(params, pk, instances)?;
    let squeeze = |t: &mut T| *t.squeeze_challenge_scalar::<()>();

    pk.get_vk()
        .hash_into(transcript)
        .map_err(|e| ProveError::Transcript(std::io::Error::other(format!("{e:?}"))))?;
    columns::absorb_instances(instances, transcript)?;
    let instance_values = columns::instance_values(instances, ctx.n);
    let layout = Layout::full(&ctx, permutation::sets(ctx.cs));
    let advice_values = columns::commit_advice(&ctx, &layout, circuit, instances, rng, transcript)?;
    stats.witness_on_engine = ctx.kept.is_some();
    stats.lap(PHASES[0], &mut t, on_phase);
    ctx.challenges = (0..ctx.cs.num_challenges()).map(|_| squeeze(transcript)).collect();

    let theta = squeeze(transcript);
    let fixed_values: Vec<&[Fr]> = pk.fixed_values().iter().map(|p| &p[..]).collect();
    let base_columns: Vec<&[Fr]> = fixed_values
        .iter()
        .copied()
        .chain(advice_values.iter().map(Vec::as_slice))
        .chain(instance_values.iter().map(Vec::as_slice))
        .collect();
    let permuted =
        lookup::commit_permuted(&ctx, theta, &base_columns, &Layout::base(&ctx), layout.lookup, rng, transcript)?;
    drop(base_columns);
    stats.lap(PHASES[1], &mut t, on_phase);

    let beta = squeeze(transcript);
    let gamma = squeeze(transcript);
    let permutation =
        permutation::commit(&ctx, layout.perm_z, &advice_values, &fixed_values, &instance_values, beta, gamma, rng, transcript)?;
    let lookups = lookup::commit_products(&ctx, layout.lookup, permuted, beta, gamma, rng, transcript)?;
    stats.lap(PHASES[2], &mut t, on_phase);

    let vanishing = vanishing::commit(&ctx, rng, transcript)?;
    let y = squeeze(transcript);
    // Everything to coefficient form (engine INTTs), Lagrange copies dropped as we go.
    let advice: Vec<Vec<Fr>> = advice_values
        .into_iter()
        .enumerate()
        .map(|(i, v)| ctx.witness_to_coeff(v, layout.advice + i))
        .collect::<Result<_, _>>()?;
    let instance: Vec<Vec<Fr>> = instance_values.into_iter().map(|v| ctx.to_coeff(v)).collect::<Result<_, _>>()?;
    let permutation = permutation.construct(&ctx, layout.perm_z)?;
    let lookups: Vec<lookup::Constructed> = lookups
        .into_iter()
        .enumerate()
        .map(|(j, l)| l.construct(&ctx, layout.lookup + 3 * j))
        .collect::<Result<_, _>>()?;
    stats.lap(PHASES[3], &mut t, on_phase);

    debug_assert_eq!(layout.len, Layout::full(&ctx, permutation.sets()).len);
    let program = quotient::numerator_program(&ctx, &layout, &Challenges { theta, beta, gamma })?;
    let quotient_columns =
        coefficient_columns(pk, &advice, &instance, permutation.polys(), lookups.iter().flat_map(lookup::Constructed::polys));
    debug_assert_eq!(quotient_columns.len(), layout.len);
    let kept = ctx.take_kept();
    let on_engine: Vec<Option<&crate::engine::ScalarBuffer>> = kept.iter().map(Option::as_ref).collect();
    let (h, placement) = quotient::h(&ctx, &program, &quotient_columns, &on_engine, y)?;
    drop(on_engine);
    drop(kept);
    stats.quotient_placement = Some(placement);
    drop(quotient_columns);
    let vanishing = vanishing.construct(&ctx, h, transcript)?;
    stats.lap(PHASES[4], &mut t, on_phase);

    let x = squeeze(transcript);
    columns::evaluate_advice(&ctx, &advice, x, transcript)?;
    columns::evaluate_fixed(&ctx, x, transcript)?;
    let vanishing = vanishing.evaluate(&ctx, x, transcript)?;
    permutation::evaluate_common(&ctx, x, transcript)?;
    let permutation = permutation.evaluate(&ctx, x, transcript)?;
    let lookups: Vec<lookup::Evaluated> =
        lookups.into_iter().map(|l| l.evaluate(&ctx, x, transcript)).collect::<Result<_, _>>()?;
    // The verifier's identity at x, from the evaluations just written (SHPLONK reuses them and h(x)).
    let columns = coefficient_columns(pk, &advice, &instance, permutation.polys(), lookups.iter().flat_map(lookup::Evaluated::polys));
    quotient::check(&ctx, &program, &columns, y, ctx.eval(vanishing.folded_h(), x), x)?;
    drop(columns);
    stats.lap(PHASES[5], &mut t, on_phase);

    let mut openings = Openings::default();
    columns::open_advice(&mut openings, &ctx, &advice, x);
    permutation.open(&mut openings, &ctx, x);
    for l in &lookups {
        l.open(&mut openings, &ctx, x);
    }
    columns::open_fixed(&mut openings, &ctx, x);
    permutation::open_common(&mut openings, &ctx, x);
    vanishing.open(&mut openings, x);
    shplonk::open(&ctx, &openings.polys, &openings.queries, transcript)?;
    stats.lap(PHASES[6], &mut t, on_phase);
    Ok(stats)
}

/// The quotient's columns in coefficient form, in `Layout::full` order: fixed, advice, instance, σ, the permutation
/// products, each lookup's A', S', Z, then l0, l_last, l_active.
fn coefficient_columns<'a>(
    pk: &'a ProvingKey<G1Affine>,
    advice: &'a [Vec<Fr>],
    instance: &'a [Vec<Fr>],
    permutation: impl Iterator<Item = &'a [Fr]>,
    lookups: impl Iterator<Item = &'a [Fr]>,
) -> Vec<&'a [Fr]> {
    let mut columns: Vec<&[Fr]> = Vec::new();
    columns.extend(pk.fixed_polys().iter().map(|p| &p[..]));
    columns.extend(advice.iter().map(Vec::as_slice));
    columns.extend(instance.iter().map(Vec::as_slice));
    columns.extend(pk.permutation().polys().iter().map(|p| &p[..]));
    columns.extend(permutation);
    columns.extend(lookups);
    columns.extend([&pk.l0()[..], &pk.l_last()[..], &pk.l_active_row()[..]]);
    columns
}
