//! zkinfer's own halo2-compatible KZG prover.
//!
//! Proves circuits written against halo2-axiom's frontend with keys from stock `keygen_vk` / `keygen_pk`; every
//! MSM, NTT, coset NTT and the quotient evaluation go through the [`Engine`](crate::Engine) held by the
//! [`EngineParams`]. The transcript is byte-for-byte the protocol halo2-axiom's `verify_proof` with
//! `VerifierSHPLONK` reads, so the stock verifier accepts our proofs. Order (one file per argument):
//! instances absorbed → advice committed ([`witness`]) → θ → lookup A', S' ([`lookup`]) → β, γ → permutation Z's
//! ([`permutation`]) → lookup Z's → vanishing random poly ([`vanishing`]) → y → h pieces ([`quotient`]) → x →
//! evaluations → SHPLONK ([`shplonk`]).
//!
//! Not supported (clear error): multi-phase advice (columns in phase > 0).

pub mod lookup;
pub mod permutation;
pub mod poly;
pub mod quotient;
pub mod shplonk;
pub mod vanishing;
pub mod witness;

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, ProvingKey};
use halo2_proofs::poly::{EvaluationDomain, Rotation};
use halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite};
use rand_core::RngCore;

use crate::engine::{Engine, EngineError, NttDirection};
use crate::params::EngineParams;
use crate::{Fr, G1Affine, G1};
use quotient::{Challenges, Layout};
use shplonk::Query;

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("circuit synthesis failed: {0:?}")]
    Synthesis(halo2_proofs::plonk::Error),
    #[error("witness: {0}")]
    Witness(String),
    #[error("unsupported circuit: {0}")]
    Unsupported(String),
    #[error("expected {expected} instance columns, got {got}")]
    InstanceColumns { expected: usize, got: usize },
    #[error("instance column {column} has {len} values but only {usable} rows are usable at k = {k}")]
    InstanceTooLarge {
        column: usize,
        len: usize,
        usable: usize,
        k: u32,
    },
    #[error("params are for k = {params_k} but the proving key is for k = {pk_k}")]
    ParamsMismatch { params_k: u32, pk_k: u32 },
    #[error("the witness does not satisfy the circuit's constraints (check it with halo2's MockProver)")]
    Unsatisfied,
    #[error("lookup `{lookup}`: the input at row {row} is not in the table (the witness does not satisfy the circuit)")]
    LookupFailed { lookup: String, row: usize },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("transcript: {0}")]
    Transcript(#[from] std::io::Error),
}

/// Everything the arguments share during one proof.
pub struct Ctx<'a> {
    pub engine: &'a dyn Engine,
    pub params: &'a EngineParams,
    pub pk: &'a ProvingKey<G1Affine>,
    pub cs: &'a ConstraintSystem<Fr>,
    pub domain: &'a EvaluationDomain<Fr>,
    pub n: usize,
    pub blinding_factors: usize,
    /// Rows 0..usable_rows hold the witness; the rest are blinding rows plus the "last" row.
    pub usable_rows: usize,
    pub challenges: Vec<Fr>,
}

fn normalize(points: Vec<G1>) -> Vec<G1Affine> {
    let mut out = vec![G1Affine::default(); points.len()];
    G1::batch_normalize(&points, &mut out);
    out
}

impl Ctx<'_> {
    /// Commitments of Lagrange-form columns (SRS in the Lagrange basis), one batched engine call.
    pub fn commit_lagrange(&self, polys: &[&[Fr]]) -> Result<Vec<G1Affine>, ProveError> {
        Ok(normalize(self.engine.msm_batch(self.params.lagrange_bases(), polys)?))
    }
    /// Commitments of coefficient-form polynomials.
    pub fn commit_coeff(&self, polys: &[&[Fr]]) -> Result<Vec<G1Affine>, ProveError> {
        Ok(normalize(self.engine.msm_batch(self.params.monomial_bases(), polys)?))
    }
    /// Lagrange values → coefficients (engine INTT), consuming the values.
    pub fn to_coeff(&self, mut v: Vec<Fr>) -> Result<Vec<Fr>, ProveError> {
        self.engine.ntt(&mut v, NttDirection::Inverse)?;
        Ok(v)
    }
    fn rotate(&self, x: Fr, r: i32) -> Fr {
        self.domain.rotate_omega(x, Rotation(r))
    }
}

/// Wall time per prover phase, in order.
#[derive(Clone, Debug, Default)]
pub struct ProveStats {
    pub phases: Vec<(&'static str, std::time::Duration)>,
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

/// Proves `circuit` with public `instances` (one slice per instance column) into `transcript`.
/// The proof is accepted by halo2-axiom's `verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK, ..>` with
/// the stock verifier params `params.stock()`. The same RNG seed gives the same proof bytes.
pub fn prove<C, E, T>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: impl RngCore,
    transcript: &mut T,
) -> Result<(), ProveError>
where
    C: Circuit<Fr>,
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    prove_with_stats(params, pk, circuit, instances, rng, transcript).map(|_| ())
}

/// The prover's phases in the order they finish (what [`prove_observed`] reports, and [`ProveStats`] times).
pub const PHASES: [&str; 7] = [
    "witness + advice commitments",
    "lookup permuted columns",
    "permutation + lookup products",
    "to coefficients (INTT)",
    "quotient h(X) + commitments",
    "evaluations",
    "SHPLONK multi-open",
];

/// [`prove`], also returning the time spent in each phase.
pub fn prove_with_stats<C, E, T>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: impl RngCore,
    transcript: &mut T,
) -> Result<ProveStats, ProveError>
where
    C: Circuit<Fr>,
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    prove_observed(params, pk, circuit, instances, rng, transcript, &mut |_| {})
}

/// [`prove_with_stats`], calling `on_phase` with each entry of [`PHASES`] as it finishes (progress bars).
pub fn prove_observed<C, E, T>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    mut rng: impl RngCore,
    transcript: &mut T,
    on_phase: &mut dyn FnMut(&'static str),
) -> Result<ProveStats, ProveError>
where
    C: Circuit<Fr>,
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    let rng = &mut rng;
    let mut stats = ProveStats::default();
    let mut t = std::time::Instant::now();
    let vk = pk.get_vk();
    let cs = vk.cs();
    let domain = vk.get_domain();
    let k = domain.k();
    let n = 1usize << k;
    if halo2_proofs::poly::commitment::Params::k(params) != k {
        return Err(ProveError::ParamsMismatch {
            params_k: halo2_proofs::poly::commitment::Params::k(params),
            pk_k: k,
        });
    }
    if cs.advice_column_phase().iter().any(|&p| p > 0) || cs.challenge_phase().iter().any(|&p| p > 0) {
        return Err(ProveError::Unsupported(
            "multi-phase advice (columns or challenges after the first phase); prove it with halo2's stock prover"
                .into(),
        ));
    }
    // halo2-axiom sizes the quotient with cs.degree(), which it caps at the MAX_DEGREE env var (default 5); a gate
    // above the cap cannot be proven soundly by any halo2-axiom prover.
    let max_degree = cs.degree();
    for gate in cs.gates() {
        for poly in gate.polynomials() {
            if poly.degree() > max_degree {
                return Err(ProveError::Unsupported(format!(
                    "gate `{}` has degree {} but the constraint system's degree is {} (halo2-axiom caps it with \
                     the MAX_DEGREE environment variable, default 5)",
                    gate.name(),
                    poly.degree(),
                    max_degree
                )));
            }
        }
    }
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
    };

    // Phase 0: vk, instances, advice.
    vk.hash_into(transcript).map_err(|e| ProveError::Transcript(std::io::Error::other(format!("{e:?}"))))?;
    for values in instances {
        for v in values.iter() {
            transcript.common_scalar(*v)?;
        }
    }
    let instance_values: Vec<Vec<Fr>> = instances
        .iter()
        .map(|v| {
            let mut col = v.to_vec();
            col.resize(n, Fr::ZERO);
            col
        })
        .collect();
    let mut advice_values = witness::synthesize(cs, circuit, instances, k, usable_rows)?;
    for col in advice_values.iter_mut() {
        for cell in &mut col[usable_rows..] {
            *cell = Fr::random(&mut *rng);
        }
    }
    let advice_refs: Vec<&[Fr]> = advice_values.iter().map(Vec::as_slice).collect();
    for c in ctx.commit_lagrange(&advice_refs)? {
        transcript.write_point(c)?;
    }
    stats.lap("witness + advice commitments", &mut t, on_phase);
    ctx.challenges = (0..cs.num_challenges())
        .map(|_| *transcript.squeeze_challenge_scalar::<()>())
        .collect();

    // Lookups: permuted columns.
    let theta = *transcript.squeeze_challenge_scalar::<()>();
    let fixed_values: Vec<&[Fr]> = pk.fixed_values().iter().map(|p| &p[..]).collect();
    let base = Layout::base(&ctx);
    let base_columns: Vec<&[Fr]> = fixed_values
        .iter()
        .copied()
        .chain(advice_values.iter().map(Vec::as_slice))
        .chain(instance_values.iter().map(Vec::as_slice))
        .collect();
    let (permuted, commitments) = lookup::commit_permuted(&ctx, theta, &base_columns, &base, rng)?;
    for c in commitments {
        transcript.write_point(c)?;
    }

    stats.lap("lookup permuted columns", &mut t, on_phase);
    // Permutation products.
    let beta = *transcript.squeeze_challenge_scalar::<()>();
    let gamma = *transcript.squeeze_challenge_scalar::<()>();
    let perm_z = permutation::products(&ctx, &advice_values, &fixed_values, &instance_values, beta, gamma, rng);
    let refs: Vec<&[Fr]> = perm_z.iter().map(Vec::as_slice).collect();
    for c in ctx.commit_lagrange(&refs)? {
        transcript.write_point(c)?;
    }

    // Lookup products.
    let lookup_z: Vec<Vec<Fr>> = permuted.iter().map(|p| lookup::product(&ctx, p, beta, gamma, rng)).collect();
    let refs: Vec<&[Fr]> = lookup_z.iter().map(Vec::as_slice).collect();
    for c in ctx.commit_lagrange(&refs)? {
        transcript.write_point(c)?;
    }

    stats.lap("permutation + lookup products", &mut t, on_phase);
    // Vanishing argument: random polynomial.
    let random_poly = vanishing::random_poly(n, rng);
    transcript.write_point(ctx.commit_coeff(&[&random_poly])?[0])?;
    let y = *transcript.squeeze_challenge_scalar::<()>();

    // Everything to coefficient form (engine INTTs), Lagrange copies dropped as we go.
    drop(base_columns);
    let advice: Vec<Vec<Fr>> = advice_values.into_iter().map(|v| ctx.to_coeff(v)).collect::<Result<_, _>>()?;
    let instance: Vec<Vec<Fr>> = instance_values.into_iter().map(|v| ctx.to_coeff(v)).collect::<Result<_, _>>()?;
    let perm_z: Vec<Vec<Fr>> = perm_z.into_iter().map(|v| ctx.to_coeff(v)).collect::<Result<_, _>>()?;
    let mut lookup_polys: Vec<[Vec<Fr>; 3]> = Vec::new();
    for (p, z) in permuted.into_iter().zip(lookup_z) {
        lookup_polys.push([ctx.to_coeff(p.permuted_input)?, ctx.to_coeff(p.permuted_table)?, ctx.to_coeff(z)?]);
    }

    stats.lap("to coefficients (INTT)", &mut t, on_phase);
    // Quotient.
    let layout = Layout::full(&ctx, perm_z.len());
    let program = quotient::numerator_program(&ctx, &layout, perm_z.len(), &Challenges { theta, beta, gamma })?;
    let fixed_polys: Vec<&[Fr]> = pk.fixed_polys().iter().map(|p| &p[..]).collect();
    let sigma_polys: Vec<&[Fr]> = pk.permutation().polys().iter().map(|p| &p[..]).collect();
    let mut columns: Vec<&[Fr]> = Vec::with_capacity(layout.len);
    columns.extend(fixed_polys.iter().copied());
    columns.extend(advice.iter().map(Vec::as_slice));
    columns.extend(instance.iter().map(Vec::as_slice));
    columns.extend(sigma_polys.iter().copied());
    columns.extend(perm_z.iter().map(Vec::as_slice));
    for l in &lookup_polys {
        columns.extend(l.iter().map(Vec::as_slice));
    }
    columns.push(&pk.l0()[..]);
    columns.push(&pk.l_last()[..]);
    columns.push(&pk.l_active_row()[..]);
    debug_assert_eq!(columns.len(), layout.len);
    let h = quotient::compute_h(&ctx, &program, &columns, y)?;
    // h is a polynomial only if every constraint vanishes on the domain: check the identity at a point derived
    // from the transcript state so far, and refuse to emit a proof for a witness that does not satisfy the circuit.
    let (lhs, rhs) = quotient::check_at(&ctx, &program, &columns, y, &h, y.square() + Fr::from(3));
    if lhs != rhs {
        return Err(ProveError::Unsatisfied);
    }
    let pieces = vanishing::pieces(&h, n);
    for c in ctx.commit_coeff(&pieces)? {
        transcript.write_point(c)?;
    }

    stats.lap("quotient h(X) + commitments", &mut t, on_phase);
    // Evaluations at x.
    let x = *transcript.squeeze_challenge_scalar::<()>();
    let xn = x.pow_vartime([n as u64]);
    let write = |t: &mut T, p: &[Fr], at: Fr| -> Result<(), ProveError> {
        t.write_scalar(poly::eval(p, at))?;
        Ok(())
    };
    for &(column, rot) in cs.advice_queries() {
        write(transcript, &advice[column.index()], ctx.rotate(x, rot.0))?;
    }
    for &(column, rot) in cs.fixed_queries() {
        write(transcript, fixed_polys[column.index()], ctx.rotate(x, rot.0))?;
    }
    write(transcript, &random_poly, x)?;
    for s in &sigma_polys {
        write(transcript, s, x)?;
    }
    let x_next = ctx.rotate(x, 1);
    let x_prev = ctx.rotate(x, -1);
    let x_last = ctx.rotate(x, -((blinding_factors + 1) as i32));
    for (i, z) in perm_z.iter().enumerate() {
        write(transcript, z, x)?;
        write(transcript, z, x_next)?;
        if i + 1 < perm_z.len() {
            write(transcript, z, x_last)?;
        }
    }
    for [a, s, z] in &lookup_polys {
        write(transcript, z, x)?;
        write(transcript, z, x_next)?;
        write(transcript, a, x)?;
        write(transcript, a, x_prev)?;
        write(transcript, s, x)?;
    }

    stats.lap("evaluations", &mut t, on_phase);
    // Multi-opening, queries in the verifier's order.
    let h_x = vanishing::combine_pieces(&pieces, xn, n);
    let mut polys: Vec<&[Fr]> = Vec::new();
    let mut queries: Vec<Query> = Vec::new();
    let mut q = |poly: usize, point: Fr| queries.push(Query { poly, point });
    let advice_base = polys.len();
    polys.extend(advice.iter().map(Vec::as_slice));
    for &(column, rot) in cs.advice_queries() {
        q(advice_base + column.index(), ctx.rotate(x, rot.0));
    }
    let perm_base = polys.len();
    polys.extend(perm_z.iter().map(Vec::as_slice));
    for i in 0..perm_z.len() {
        q(perm_base + i, x);
        q(perm_base + i, x_next);
    }
    for i in (0..perm_z.len()).rev().skip(1) {
        q(perm_base + i, x_last);
    }
    for l in &lookup_polys {
        let (a, s, z) = (polys.len(), polys.len() + 1, polys.len() + 2);
        polys.extend(l.iter().map(Vec::as_slice));
        q(z, x);
        q(a, x);
        q(s, x);
        q(a, x_prev);
        q(z, x_next);
    }
    let fixed_base = polys.len();
    polys.extend(fixed_polys.iter().copied());
    for &(column, rot) in cs.fixed_queries() {
        q(fixed_base + column.index(), ctx.rotate(x, rot.0));
    }
    let sigma_base = polys.len();
    polys.extend(sigma_polys.iter().copied());
    for i in 0..sigma_polys.len() {
        q(sigma_base + i, x);
    }
    q(polys.len(), x);
    polys.push(&h_x);
    q(polys.len(), x);
    polys.push(&random_poly);
    shplonk::open(&ctx, &polys, &queries, transcript)?;
    stats.lap("SHPLONK multi-open", &mut t, on_phase);
    Ok(stats)
}

/// [`prove_with_stats`] into a fresh Blake2b transcript (the one halo2's stock verifier reads): the proof bytes.
pub fn prove_blake2b<C: Circuit<Fr>>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: impl RngCore,
) -> Result<(Vec<u8>, ProveStats), ProveError> {
    prove_blake2b_observed(params, pk, circuit, instances, rng, &mut |_| {})
}

/// [`prove_blake2b`] with a phase observer (see [`prove_observed`]).
pub fn prove_blake2b_observed<C: Circuit<Fr>>(
    params: &EngineParams,
    pk: &ProvingKey<G1Affine>,
    circuit: &C,
    instances: &[&[Fr]],
    rng: impl RngCore,
    on_phase: &mut dyn FnMut(&'static str),
) -> Result<(Vec<u8>, ProveStats), ProveError> {
    use halo2_proofs::transcript::{Blake2bWrite, Challenge255, TranscriptWriterBuffer};
    let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(Vec::new());
    let stats = prove_observed(params, pk, circuit, instances, rng, &mut transcript, on_phase)?;
    Ok((transcript.finalize(), stats))
}
