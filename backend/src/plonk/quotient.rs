//! The quotient h(X) = (Σ y^i C_i(X)) / (X^n - 1) over every constraint of the circuit, in the verifier's order:
//! gate polynomials, then the permutation argument, then each lookup. Each argument compiles its own constraints
//! ([`super::gates`], [`super::permutation`], [`super::lookup`]); this file holds the shared machinery: the
//! column layout, expression compilation, evaluating the program over the extended domain and the self-check.
//!
//! The constraints are compiled once into a [`RowProgram`]; h is evaluated one base-size coset g_i·H at a time
//! ([`Cosets`]: halo2's ζ·ω_ext^i, or three cosets for circuits of degree 4): every referenced column is moved
//! onto it with an engine coset NTT, the engine evaluates the program on its n rows, and the values are divided by
//! the constant g_i^n - 1 (the vanishing polynomial is constant on such a coset). Only one part's column values are
//! alive at a time, never the whole extended domain of every column — and within a part, only the columns of the
//! constraint groups in flight ([`split`]): each column is moved onto the coset when its first group needs it and
//! freed after its last. [`Cosets::interpolate`] turns the parts' values into h's coefficients.
//!
//! All of it runs on engine buffers, so on a GPU the columns, the coset NTTs and the evaluation (a kernel generated
//! from each group's program) stay on the device; [`Placement`] decides from the free device memory whether every
//! column is uploaded once for all parts, or per part, or — a device too small — the phase runs on the CPU engine.

use std::cell::RefCell;

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::Expression;
use rayon::prelude::*;

use super::cosets::Cosets;
use super::{gates, lookup, permutation, Ctx, ProveError};
use crate::engine::program::groups::{split, Groups};
use crate::engine::program::{multiplications, Node, RowProgram};
use crate::engine::{NttDirection, ScalarBuffer};
use crate::Fr;

/// Where each kind of column sits in a program's column list.
#[derive(Clone, Debug)]
pub struct Layout {
    pub fixed: usize,
    pub advice: usize,
    pub instance: usize,
    pub sigma: usize,
    pub perm_z: usize,
    /// Three columns per lookup: A', S', Z.
    pub lookup: usize,
    pub l0: usize,
    pub l_last: usize,
    pub l_active: usize,
    pub len: usize,
}

impl Layout {
    /// fixed | advice | instance only (programs over Lagrange values, e.g. lookup compression).
    pub fn base(ctx: &Ctx<'_>) -> Self {
        let f = ctx.cs.num_fixed_columns();
        let a = ctx.cs.num_advice_columns();
        let i = ctx.cs.num_instance_columns();
        let end = f + a + i;
        Layout {
            fixed: 0,
            advice: f,
            instance: f + a,
            sigma: end,
            perm_z: end,
            lookup: end,
            l0: end,
            l_last: end,
            l_active: end,
            len: end,
        }
    }

    /// Every column the quotient reads.
    pub fn full(ctx: &Ctx<'_>, perm_sets: usize) -> Self {
        let b = Self::base(ctx);
        let sigma = b.len;
        let perm_z = sigma + ctx.pk.permutation().polys().len();
        let lookup = perm_z + perm_sets;
        let l0 = lookup + 3 * ctx.cs.lookups().len();
        Layout {
            sigma,
            perm_z,
            lookup,
            l0,
            l_last: l0 + 1,
            l_active: l0 + 2,
            len: l0 + 3,
            ..b
        }
    }
}

/// Adds an expression to a program; challenges are constants by now. Virtual selectors cannot appear in a proving
/// key's constraint system (keygen turns them into fixed columns), so meeting one is an error.
pub fn compile_expression(
    prog: &RefCell<RowProgram>,
    e: &Expression<Fr>,
    layout: &Layout,
    challenges: &[Fr],
) -> Result<Node, ProveError> {
    let bad = RefCell::new(None::<String>);
    let node = e.evaluate(
        &|c| prog.borrow_mut().constant(c),
        &|_| {
            bad.borrow_mut().get_or_insert("a virtual selector survived keygen".into());
            prog.borrow_mut().constant(Fr::ZERO)
        },
        &|q| prog.borrow_mut().column(layout.fixed + q.column_index(), q.rotation().0),
        &|q| prog.borrow_mut().column(layout.advice + q.column_index(), q.rotation().0),
        &|q| prog.borrow_mut().column(layout.instance + q.column_index(), q.rotation().0),
        &|c| match challenges.get(c.index()) {
            Some(v) => prog.borrow_mut().constant(*v),
            None => {
                bad.borrow_mut().get_or_insert(format!("challenge {} has no value", c.index()));
                prog.borrow_mut().constant(Fr::ZERO)
            }
        },
        &|a| prog.borrow_mut().neg(a),
        &|a, b| prog.borrow_mut().add(a, b),
        &|a, b| prog.borrow_mut().mul(a, b),
        &|a, s| prog.borrow_mut().scale(a, s),
    );
    match bad.into_inner() {
        Some(msg) => Err(ProveError::Unsupported(msg)),
        None => Ok(node),
    }
}

/// Adds the theta-compression Σ θ^(m-1-i) e_i of a lookup's input or table expressions (zero if there are none).
pub fn compile_compressed(
    prog: &RefCell<RowProgram>,
    exprs: &[Expression<Fr>],
    theta: Fr,
    layout: &Layout,
    challenges: &[Fr],
) -> Result<Node, ProveError> {
    let mut acc: Option<Node> = None;
    for e in exprs {
        let v = compile_expression(prog, e, layout, challenges)?;
        let mut p = prog.borrow_mut();
        acc = Some(match acc {
            None => v,
            Some(a) => {
                let t = p.scale(a, theta);
                p.add(t, v)
            }
        });
    }
    Ok(match acc {
        Some(a) => a,
        None => prog.borrow_mut().constant(Fr::ZERO),
    })
}

/// Challenges the quotient needs.
pub struct Challenges {
    pub theta: Fr,
    pub beta: Fr,
    pub gamma: Fr,
}

/// Nodes every argument's constraints share: 1, the first/last/active-row Lagrange columns, β and γ.
#[derive(Clone, Copy)]
pub struct Common {
    pub one: Node,
    pub l0: Node,
    pub l_last: Node,
    pub l_active: Node,
    pub beta: Node,
    pub gamma: Node,
}

/// Compiles every constraint, in the verifier's fold order: gates, permutation, lookups.
pub fn numerator_program(ctx: &Ctx<'_>, layout: &Layout, ch: &Challenges) -> Result<RowProgram, ProveError> {
    let prog = RefCell::new(RowProgram::new(layout.len));
    let mut outputs = gates::constraints(ctx, &prog, layout)?;
    let common = {
        let p = &mut *prog.borrow_mut();
        Common {
            one: p.constant(Fr::ONE),
            l0: p.column(layout.l0, 0),
            l_last: p.column(layout.l_last, 0),
            l_active: p.column(layout.l_active, 0),
            beta: p.constant(ch.beta),
            gamma: p.constant(ch.gamma),
        }
    };
    outputs.extend(permutation::constraints(ctx, &mut prog.borrow_mut(), layout, &common, ch));
    outputs.extend(lookup::constraints(ctx, &prog, layout, &common, ch)?);
    let mut p = prog.into_inner();
    for o in outputs {
        p.output(o);
    }
    Ok(p)
}

/// h(X) for the program over `columns` (coefficient form, in `Layout::full` order). h is a polynomial only if
/// every constraint vanishes on the domain: the prover checks the identity at x once the evaluations are written
/// ([`check`]), and a witness that does not satisfy the circuit gets no proof.
///
/// The engine evaluates the program with y folded in, group by group ([`split`]: few multiplications, and only a
/// group's columns on the coset at a time); the self-check evaluates the program as compiled, constraint by
/// constraint, so it also checks the folding and the grouping.
/// `on_engine[c]`, when given, is column c's coefficients already in the engine's memory (the same values as
/// `columns[c]`), used instead of uploading them.
pub fn h(
    ctx: &Ctx<'_>,
    program: &RowProgram,
    columns: &[&[Fr]],
    on_engine: &[Option<&ScalarBuffer>],
    y: Fr,
) -> Result<(Vec<Fr>, Placement), ProveError> {
    let groups = split(program, y);
    tracing::debug!(
        "quotient program: {} ops ({} multiplications) folded into {} group(s) of {} ops ({} multiplications); \
         at most {} of {} columns on a coset at once",
        program.ops.len(),
        multiplications(program),
        groups.groups.len(),
        groups.groups.iter().map(|g| g.program.ops.len()).sum::<usize>(),
        groups.groups.iter().map(|g| multiplications(&g.program)).sum::<usize>(),
        groups.peak,
        groups.used,
    );
    compute_h(ctx, &groups, columns, on_engine)
}

/// Where the quotient's columns live while the parts are evaluated, chosen from the engine's free device memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Every coefficient column the numerator reads is uploaded once and copied onto each coset on the device
    /// (a GPU with room for them): one host-to-device copy per column for the whole quotient.
    Resident,
    /// Coset columns only, filled from host coefficients for each part (the CPU engine, whose buffers are host
    /// memory, and a GPU without room for every column).
    PerPart,
    /// The device cannot hold even one group's columns: the phase runs on the CPU engine.
    Host,
}

impl Placement {
    /// The placement for `engine`: device memory needed, with a tenth kept free, against what it has.
    /// `on_engine`: how many of the columns the groups read are already in the engine's memory.
    pub fn plan(engine: &dyn crate::engine::Engine, n: usize, groups: &Groups, on_engine: usize) -> (Placement, String) {
        let Some(free) = engine.device_memory_free() else {
            return (Placement::PerPart, "host-memory engine".into());
        };
        let col = (n * 32) as u64;
        let budget = free / 10 * 9;
        // Coset columns at the peak, the running sum and the next one (launch tables are within the margin).
        let per_part = (groups.peak as u64 + 2) * col;
        let resident = per_part + groups.used.saturating_sub(on_engine) as u64 * col;
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let why = format!(
            "{:.2} GiB of device memory free; all {} columns resident ({} already) need {:.2} GiB more, one part's {} \
             columns {:.2} GiB",
            gib(free),
            groups.used,
            on_engine,
            gib(resident),
            groups.peak,
            gib(per_part)
        );
        if resident <= budget {
            (Placement::Resident, why)
        } else if per_part <= budget {
            (Placement::PerPart, why)
        } else {
            (Placement::Host, why)
        }
    }
}

/// Coefficients of h(X), truncated to n·(degree − 1) as the verifier expects.
pub fn compute_h(
    ctx: &Ctx<'_>,
    groups: &Groups,
    coeffs: &[&[Fr]],
    on_engine: &[Option<&ScalarBuffer>],
) -> Result<(Vec<Fr>, Placement), ProveError> {
    let read = columns_read(groups, coeffs.len());
    let already = (0..coeffs.len()).filter(|&c| read[c] && on_engine.get(c).is_some_and(Option::is_some)).count();
    let (placement, why) = Placement::plan(ctx.engine, ctx.n, groups, already);
    let h = match placement {
        Placement::Host => {
            tracing::warn!("quotient: on the CPU engine, the device is too small ({why})");
            // Buffers of the device engine mean nothing to the CPU engine.
            let none = vec![None; coeffs.len()];
            compute_h_on(&crate::engine::cpu::CpuEngine::new(), ctx, groups, coeffs, &read, &none, Placement::PerPart)
        }
        p => {
            tracing::debug!("quotient: columns {p:?} on {} ({why})", ctx.engine.name());
            compute_h_on(ctx.engine, ctx, groups, coeffs, &read, on_engine, p)
        }
    }?;
    Ok((h, placement))
}

/// For each of `len` columns, whether any group reads it.
fn columns_read(groups: &Groups, len: usize) -> Vec<bool> {
    let mut read = vec![false; len];
    for g in &groups.groups {
        for &c in &g.columns {
            read[c] = true;
        }
    }
    read
}

fn compute_h_on(
    engine: &dyn crate::engine::Engine,
    ctx: &Ctx<'_>,
    groups: &Groups,
    coeffs: &[&[Fr]],
    read: &[bool],
    on_engine: &[Option<&ScalarBuffer>],
    placement: Placement,
) -> Result<Vec<Fr>, ProveError> {
    let n = ctx.n;
    let k = ctx.domain.k();
    let pieces = ctx.domain.get_quotient_poly_degree();
    let cosets = Cosets::for_pieces(pieces);
    let parts = cosets.parts();
    let omega = ctx.domain.get_omega();

    // Columns uploaded here (Resident): those the groups read and not already on the engine.
    let uploaded: Vec<Option<ScalarBuffer>> = if placement == Placement::Resident {
        coeffs
            .iter()
            .enumerate()
            .map(|(c, v)| if read[c] && on_engine.get(c).is_none_or(Option::is_none) { engine.upload(v).map(Some) } else { Ok(None) })
            .collect::<Result<_, _>>()?
    } else {
        (0..coeffs.len()).map(|_| None).collect()
    };
    let resident: Vec<Option<&ScalarBuffer>> =
        (0..coeffs.len()).map(|c| on_engine.get(c).copied().flatten().or(uploaded[c].as_ref())).collect();
    let mut bufs: Vec<Option<ScalarBuffer>> = (0..coeffs.len()).map(|_| None).collect();
    let mut spare: Vec<ScalarBuffer> = Vec::new();
    let mut values: Vec<Vec<Fr>> = Vec::with_capacity(parts);
    let (mut acc, mut next) = (engine.alloc(n)?, engine.alloc(n)?);
    let (mut t_ntt, mut t_eval) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for g in cosets.generators(k) {
        engine.scale(&mut acc, Fr::ZERO)?;
        for (gi, group) in groups.groups.iter().enumerate() {
            let t0 = std::time::Instant::now();
            for &c in &group.columns {
                if bufs[c].is_none() {
                    let mut buf = match spare.pop() {
                        Some(b) => b,
                        None => engine.alloc(n)?,
                    };
                    match resident[c] {
                        Some(r) => {
                            engine.copy_from(&mut buf, r)?;
                            engine.ntt_buffer(&mut buf, Some(g), NttDirection::Forward)?;
                        }
                        None => engine.write_coset_ntt(&mut buf, coeffs[c], g)?,
                    }
                    bufs[c] = Some(buf);
                }
            }
            let mut cols: Vec<Option<&ScalarBuffer>> = vec![None; groups.acc + 1];
            for (c, b) in bufs.iter().enumerate() {
                cols[c] = b.as_ref();
            }
            cols[groups.acc] = Some(&acc);
            let t1 = std::time::Instant::now();
            t_ntt += t1 - t0;
            engine.evaluate_rows_buffers(&group.program, &cols, g, omega, Fr::ONE, &mut next)?;
            t_eval += t1.elapsed();
            std::mem::swap(&mut acc, &mut next);
            for &c in &group.columns {
                if groups.last_use[c] == Some(gi) {
                    spare.extend(bufs[c].take());
                }
            }
        }
        let mut part = vec![Fr::ZERO; n];
        engine.download(&acc, &mut part)?;
        let inv = (g.pow_vartime([n as u64]) - Fr::ONE).invert().unwrap();
        part.par_iter_mut().for_each(|v| *v *= inv);
        values.push(part);
    }
    drop(resident);
    drop((uploaded, bufs, spare, acc, next));
    let t2 = std::time::Instant::now();
    let h = cosets.interpolate(engine, values, k, pieces)?;
    tracing::debug!(
        "quotient: {parts} parts ({cosets:?}), {} group(s), {} columns (at most {} at once): coset NTTs {:.3} s, row program \
         {:.3} s, final INTT {:.3} s",
        groups.groups.len(),
        groups.used,
        groups.peak,
        t_ntt.as_secs_f64(),
        t_eval.as_secs_f64(),
        t2.elapsed().as_secs_f64()
    );
    Ok(h)
}

/// Self-check, the verifier's own identity at the challenge x (off the domain): h(x)·(x^n − 1) must equal the
/// folded constraints computed from the columns' evaluations at the rotations of x the program reads. `h_x` is
/// h(x). The evaluations come from [`Ctx::eval`], so the opened ones are those the evaluations phase wrote and
/// SHPLONK reuses; only the columns the verifier derives itself (instance, l0, l_last, l_active) are evaluated
/// here. An unsatisfied witness makes h no polynomial, so this fails except with probability ~ degree / |F|.
pub fn check(ctx: &Ctx<'_>, program: &RowProgram, coeffs: &[&[Fr]], y: Fr, h_x: Fr, x: Fr) -> Result<(), ProveError> {
    let rot = program.max_rotation() as usize;
    let m = 2 * rot + 1;
    let mut wanted: Vec<(usize, usize)> = program
        .ops
        .iter()
        .filter_map(|op| match op {
            crate::engine::program::Op::Column { column, rotation } => {
                Some((*column as usize, (*rotation as i64 + rot as i64) as usize))
            }
            _ => None,
        })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let values: Vec<Fr> =
        wanted.par_iter().map(|&(c, j)| ctx.eval(coeffs[c], ctx.rotate(x, j as i32 - rot as i32))).collect();
    let mut columns = vec![vec![Fr::ZERO; m]; coeffs.len()];
    for (&(c, j), v) in wanted.iter().zip(values) {
        columns[c][j] = v;
    }
    let refs: Vec<&[Fr]> = columns.iter().map(Vec::as_slice).collect();
    let mut scratch = vec![Fr::ZERO; program.ops.len()];
    let rhs = crate::engine::program::eval_row(program, &refs, rot, x, y, &mut scratch);
    if h_x * (x.pow_vartime([ctx.n as u64]) - Fr::ONE) != rhs {
        return Err(ProveError::Unsatisfied);
    }
    Ok(())
}

/// The quotient numerator the prover compiles for a key, under random challenges, with random columns of `rows`
/// rows: what the self-check ([`self_test_compiled`]) and the criterion benchmark (`benches/benches/engine.rs`)
/// evaluate two ways — as compiled, row by row and constraint by constraint ([`Sample::naive`]), and as the prover
/// runs it, folded by y group by group and evaluated block-wise by an engine ([`Sample::grouped`]).
#[doc(hidden)]
pub struct Sample {
    pub program: RowProgram,
    pub groups: Groups,
    pub y: Fr,
    pub columns: Vec<Vec<Fr>>,
    /// The first row's point and the step between rows.
    pub coset: Fr,
    pub omega: Fr,
}

impl Sample {
    pub fn new(
        params: &crate::params::EngineParams,
        pk: &halo2_proofs::plonk::ProvingKey<crate::G1Affine>,
        rows: usize,
        mut rng: impl rand_core::RngCore,
    ) -> Result<Sample, String> {
        let cs = pk.get_vk().cs();
        let empty: Vec<&[Fr]> = vec![&[]; cs.num_instance_columns()];
        let mut ctx = super::prover::context(params, pk, &empty).map_err(|e| e.to_string())?;
        ctx.challenges = (0..cs.num_challenges()).map(|_| Fr::random(&mut rng)).collect();
        let layout = Layout::full(&ctx, permutation::sets(cs));
        let ch = Challenges { theta: Fr::random(&mut rng), beta: Fr::random(&mut rng), gamma: Fr::random(&mut rng) };
        let program = numerator_program(&ctx, &layout, &ch).map_err(|e| e.to_string())?;
        let y = Fr::random(&mut rng);
        let groups = split(&program, y);
        let columns = (0..layout.len).map(|_| (0..rows).map(|_| Fr::random(&mut rng)).collect()).collect();
        let (coset, omega) = (Fr::random(&mut rng), Fr::random(&mut rng));
        Ok(Sample { program, groups, y, columns, coset, omega })
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// As the prover runs it: each group folded with its y-weights into a running sum, block-wise on `engine`.
    pub fn grouped(&self, engine: &dyn crate::Engine) -> Result<Vec<Fr>, String> {
        let rows = self.rows();
        let (mut acc, mut next) = (vec![Fr::ZERO; rows], vec![Fr::ZERO; rows]);
        for g in &self.groups.groups {
            let mut refs: Vec<&[Fr]> = self.columns.iter().map(Vec::as_slice).collect();
            refs.push(&acc);
            engine.evaluate_rows(&g.program, &refs, self.coset, self.omega, Fr::ONE, &mut next).map_err(|e| e.to_string())?;
            std::mem::swap(&mut acc, &mut next);
        }
        Ok(acc)
    }

    /// As compiled, before folding: the whole program interpreted row by row (rows in parallel).
    pub fn naive(&self) -> Vec<Fr> {
        const CHUNK: usize = 256;
        let refs: Vec<&[Fr]> = self.columns.iter().map(Vec::as_slice).collect();
        let mut out = vec![Fr::ZERO; self.rows()];
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
            let mut scratch = vec![Fr::ZERO; self.program.ops.len()];
            let mut x = self.coset * self.omega.pow_vartime([(c * CHUNK) as u64]);
            for (i, v) in chunk.iter_mut().enumerate() {
                *v = crate::engine::program::eval_row(&self.program, &refs, c * CHUNK + i, x, self.y, &mut scratch);
                x *= self.omega;
            }
        });
        out
    }

    /// (ops, multiplications per row) as compiled and summed over the folded groups.
    pub fn costs(&self) -> [(usize, usize); 2] {
        let ops = self.groups.groups.iter().map(|g| g.program.ops.len()).sum();
        let muls = self.groups.groups.iter().map(|g| multiplications(&g.program)).sum();
        [(self.program.ops.len(), multiplications(&self.program)), (ops, muls)]
    }
}

/// Test support (the backend's and the circuits' tests): a [`Sample`] evaluated both ways by `params`' engine,
/// which must agree on every row. Returns the program's (ops, multiplications) before and after folding, or the
/// first row that differs.
#[doc(hidden)]
pub fn self_test_compiled(
    params: &crate::params::EngineParams,
    pk: &halo2_proofs::plonk::ProvingKey<crate::G1Affine>,
    rows: usize,
    rng: impl rand_core::RngCore,
) -> Result<[(usize, usize); 2], String> {
    let sample = Sample::new(params, pk, rows, rng)?;
    let grouped = sample.grouped(params.engine().as_ref())?;
    for (row, (g, want)) in grouped.iter().zip(sample.naive()).enumerate() {
        if *g != want {
            return Err(format!(
                "row {row}: folded by group ({} groups) {g:?}, as compiled {want:?}",
                sample.groups.groups.len()
            ));
        }
    }
    Ok(sample.costs())
}
