//! zkinfer's keygen: the same verifying and proving keys as halo2-axiom's `keygen_vk` + `keygen_pk` (byte for byte;
//! `tests/keygen.rs` holds it to them), made faster where halo2's spends its time:
//! - one synthesis, not two, into columns of field elements (halo2 keeps a 72-byte `Assigned` per fixed cell);
//! - every commitment (fixed columns, permutation σ) and every INTT on the engine;
//! - σ_i's commitment from the cells copy constraints move only: where nothing moves, σ_i(ωʲ) = δⁱωʲ, and the
//!   column δⁱωʲ over all rows is the polynomial δⁱX, whose commitment is δⁱ·[s]G — a point of the monomial SRS. So
//!   [σ_i] = δⁱ·g₁ + Σ_j (σ_i(ωʲ) − δⁱωʲ)·Lⱼ, an MSM whose scalars are zero except at copied cells.
//!
//! The permutation is built exactly as halo2's keygen builds it (union by cycle size, the two cells' successors
//! swapped on every merge), so σ, and with it every key byte, is the same.

use std::collections::HashMap;

use halo2_proofs::circuit::Value;
use halo2_proofs::halo2curves::ff::{BatchInvert, Field, PrimeField};
use halo2_proofs::plonk::{
    permutation, Advice, Any, Assigned, Assignment, Challenge, Circuit, Column, ConstraintSystem, Error, FloorPlanner,
    Fixed, Instance, ProvingKey, Selector, VerifyingKey,
};
use halo2_proofs::poly::commitment::{Params, ParamsProver};
use halo2_proofs::poly::EvaluationDomain;
use rayon::prelude::*;

use crate::engine::NttDirection;
use crate::plonk::ctx::normalize;
use crate::params::{EngineParams, KeygenError};
use crate::{Fr, G1Affine};

/// What [`keygen`] reports to its observer, in order, as each step is done (progress bars).
pub const STEPS: [&str; 3] = ["synthesis", "commitments", "polynomials"];

/// The verifying and proving keys of `circuit` (its witness is not used) on `params`, equal to halo2-axiom's
/// `keygen_pk(params, keygen_vk_custom(params, circuit, compress_selectors)?, circuit)`. `on_step` gets each of
/// [`STEPS`].
pub fn keygen<C: Circuit<Fr>>(
    params: &EngineParams,
    circuit: &C,
    compress_selectors: bool,
    on_step: &mut dyn FnMut(&'static str),
) -> Result<ProvingKey<G1Affine>, KeygenError> {
    let k = params.k();
    let n = 1usize << k;
    let mut cs = ConstraintSystem::default();
    let config = C::configure_with_params(&mut cs, circuit.params());
    let domain = EvaluationDomain::<Fr>::new(cs.degree() as u32, k);
    if n < cs.minimum_rows() {
        return Err(KeygenError::Synthesis(Error::NotEnoughRowsAvailable { current_k: k }));
    }

    // Synthesis.
    let blinding = cs.blinding_factors();
    let mut asm = Assembly {
        k,
        usable_rows: n - (blinding + 1),
        fixed: vec![vec![Fr::ZERO; n]; cs.num_fixed_columns()],
        fractions: HashMap::new(),
        selectors: vec![vec![false; n]; cs.num_selectors()],
        copies: Copies::new(cs.permutation().get_columns(), n),
        misuse: None,
    };
    C::FloorPlanner::synthesize(&mut asm, circuit, config, cs.constants().clone()).map_err(KeygenError::Synthesis)?;
    if let Some(why) = asm.misuse {
        return Err(KeygenError::Circuit(why));
    }
    let Assembly { mut fixed, fractions, selectors, copies, .. } = asm;
    let (cells, mut denominators): (Vec<(usize, usize)>, Vec<Fr>) = fractions.into_iter().unzip();
    denominators.iter_mut().batch_invert();
    for ((column, row), inv) in cells.into_iter().zip(denominators) {
        fixed[column][row] *= inv;
    }
    let (cs, selector_columns, vk_selectors) = if compress_selectors {
        let (cs, polys) = cs.compress_selectors(selectors.clone());
        (cs, polys, selectors)
    } else {
        let (cs, polys) = cs.directly_convert_selectors_to_fixed(selectors);
        (cs, polys, Vec::new())
    };
    fixed.extend(selector_columns);
    let sigma = copies.sigma_values(&domain);
    on_step(STEPS[0]);

    // Commitments: fixed columns as they are; σ as δⁱ·g₁ plus the MSM of what copies moved.
    let engine = params.engine();
    let t = std::time::Instant::now();
    let refs: Vec<&[Fr]> = fixed.iter().map(Vec::as_slice).collect();
    let fixed_commitments = normalize(engine.msm_batch(params.lagrange_bases(), &refs)?);
    let fixed_s = t.elapsed().as_secs_f64();
    let sigma_commitments = {
        // δⁱ·g₁ for column i: the commitment of δⁱX, what σ_i would be if no copy moved a cell.
        let moved = sigma.moved();
        if tracing::enabled!(tracing::Level::DEBUG) {
            // A pass over every σ cell, only for this line.
            let cells = moved.iter().map(|c| c.iter().filter(|v| !bool::from(v.is_zero())).count()).sum::<usize>();
            tracing::debug!(
                "keygen: {} fixed columns committed in {fixed_s:.2} s; {} of {} permutation cells moved by copies",
                fixed.len(),
                cells,
                moved.len() * n
            );
        }
        let refs: Vec<&[Fr]> = moved.iter().map(Vec::as_slice).collect();
        let parts = engine.msm_batch(params.lagrange_bases(), &refs)?;
        let g1 = params.stock().get_g()[1];
        normalize(parts.into_iter().zip(&sigma.delta).map(|(p, d)| p + g1 * d).collect())
    };
    let vk = VerifyingKey::from_parts(
        domain.clone(),
        fixed_commitments,
        permutation::VerifyingKey::from_commitments(sigma_commitments),
        cs,
        vk_selectors,
        compress_selectors,
    );
    tracing::debug!("keygen: {} σ columns committed in {:.2} s", sigma.columns.len(), t.elapsed().as_secs_f64() - fixed_s);
    on_step(STEPS[1]);

    // The proving key's polynomials: every column to coefficients on the engine.
    let last = n - blinding - 1;
    let mut l0 = vec![Fr::ZERO; n];
    l0[0] = Fr::ONE;
    let mut l_last = vec![Fr::ZERO; n];
    l_last[last] = Fr::ONE;
    let l_active_row: Vec<Fr> = (0..n).map(|i| if i < last { Fr::ONE } else { Fr::ZERO }).collect();
    let mut polys: Vec<Vec<Fr>> = vec![l0, l_last, l_active_row];
    polys.extend(fixed.iter().cloned());
    polys.extend(sigma.columns.iter().cloned());
    {
        let mut refs: Vec<&mut [Fr]> = polys.iter_mut().map(Vec::as_mut_slice).collect();
        engine.ntt_batch(&mut refs, NttDirection::Inverse)?;
    }
    let mut polys = polys.into_iter().map(|p| domain.coeff_from_vec(p));
    let mut take = |count: usize| polys.by_ref().take(count).collect::<Vec<_>>();
    let [l0, l_last, l_active_row]: [_; 3] = take(3).try_into().expect("three fixed Lagrange polynomials");
    let fixed_polys = take(fixed.len());
    let sigma_polys = take(sigma.columns.len());
    let fixed_values = fixed.into_iter().map(|v| domain.lagrange_from_vec(v)).collect();
    let sigma_values = sigma.columns.into_iter().map(|v| domain.lagrange_from_vec(v)).collect();
    on_step(STEPS[2]);
    Ok(ProvingKey::from_parts(
        vk,
        l0,
        l_last,
        l_active_row,
        fixed_values,
        fixed_polys,
        permutation::ProvingKey::from_parts(sigma_values, sigma_polys),
    ))
}

/// The circuit's fixed cells, selectors and copies, as halo2's keygen collects them; the witness is ignored.
struct Assembly {
    k: u32,
    usable_rows: usize,
    fixed: Vec<Vec<Fr>>,
    /// (column, row) → denominator of a fixed cell assigned a fraction, inverted in one batch at the end.
    fractions: HashMap<(usize, usize), Fr>,
    selectors: Vec<Vec<bool>>,
    copies: Copies,
    /// The first misuse the `Assignment` API has no error channel for (halo2's keygen panics on these).
    misuse: Option<String>,
}

impl Assembly {
    fn refuse(&mut self, why: impl FnOnce() -> String) {
        if self.misuse.is_none() {
            self.misuse = Some(why());
        }
    }
    fn rows_error(&self) -> Error {
        Error::NotEnoughRowsAvailable { current_k: self.k }
    }
}

impl Assignment<Fr> for Assembly {
    fn enter_region<NR: Into<String>, N: FnOnce() -> NR>(&mut self, _: N) {}
    fn exit_region(&mut self) {}
    fn annotate_column<A: FnOnce() -> AR, AR: Into<String>>(&mut self, _: A, _: Column<Any>) {}
    fn push_namespace<NR: Into<String>, N: FnOnce() -> NR>(&mut self, _: N) {}
    fn pop_namespace(&mut self, _: Option<String>) {}

    fn enable_selector<A: FnOnce() -> AR, AR: Into<String>>(
        &mut self,
        _: A,
        selector: &Selector,
        row: usize,
    ) -> Result<(), Error> {
        if row >= self.usable_rows {
            return Err(self.rows_error());
        }
        self.selectors[selector.index()][row] = true;
        Ok(())
    }

    fn query_instance(&self, _: Column<Instance>, row: usize) -> Result<Value<Fr>, Error> {
        if row >= self.usable_rows {
            return Err(self.rows_error());
        }
        Ok(Value::unknown())
    }

    fn assign_advice<'v>(&mut self, _: Column<Advice>, _: usize, _: Value<Assigned<Fr>>) -> Value<&'v Assigned<Fr>> {
        Value::unknown()
    }

    fn assign_fixed(&mut self, column: Column<Fixed>, row: usize, to: Assigned<Fr>) {
        let (c, usable) = (column.index(), self.usable_rows);
        if row >= usable || c >= self.fixed.len() {
            return self.refuse(|| format!("fixed column {c} assigned at row {row}, past the {usable} usable rows"));
        }
        self.fixed[c][row] = to.numerator();
        match to.denominator() {
            Some(d) => {
                self.fractions.insert((c, row), d);
            }
            None if !self.fractions.is_empty() => {
                self.fractions.remove(&(c, row));
            }
            None => {}
        }
    }

    fn fill_from_row(&mut self, column: Column<Fixed>, from_row: usize, to: Value<Assigned<Fr>>) -> Result<(), Error> {
        if from_row >= self.usable_rows {
            return Err(self.rows_error());
        }
        if column.index() >= self.fixed.len() {
            return Err(Error::BoundsFailure);
        }
        let mut value = None;
        to.map(|v| value = Some(v));
        let value = value.ok_or(Error::Synthesis)?;
        for row in from_row..self.usable_rows {
            self.assign_fixed(column, row, value);
        }
        Ok(())
    }

    fn copy(&mut self, left: Column<Any>, left_row: usize, right: Column<Any>, right_row: usize) {
        let usable = self.usable_rows;
        if left_row >= usable || right_row >= usable {
            return self.refuse(|| format!("copy at rows {left_row} and {right_row}, past the {usable} usable rows"));
        }
        if let Err(why) = self.copies.copy(left, left_row, right, right_row) {
            self.refuse(|| why);
        }
    }

    fn get_challenge(&self, _: Challenge) -> Value<Fr> {
        Value::unknown()
    }
}

/// A cell of the permutation: (index among the permutation's columns, row).
type Cell = (u32, u32);

/// The copy constraints as cycles of cells: `next` maps every cell to the next cell of its cycle (itself when it is
/// copied nowhere), `root` names each cell's cycle and `size` counts a cycle's cells (at its root).
struct Copies {
    columns: Vec<Column<Any>>,
    next: Vec<Vec<Cell>>,
    root: Vec<Vec<Cell>>,
    size: Vec<Vec<u32>>,
}

impl Copies {
    fn new(columns: Vec<Column<Any>>, n: usize) -> Self {
        let identity: Vec<Vec<Cell>> =
            (0..columns.len()).map(|c| (0..n).map(|r| (c as u32, r as u32)).collect()).collect();
        Copies { size: vec![vec![1; n]; columns.len()], next: identity.clone(), root: identity, columns }
    }

    fn index(&self, column: Column<Any>) -> Result<u32, String> {
        self.columns
            .iter()
            .position(|c| *c == column)
            .map(|i| i as u32)
            .ok_or_else(|| format!("copy into {column:?}, a column without equality enabled"))
    }

    /// Joins the cycles of two cells: the smaller cycle's cells take the larger's root, and the two cells swap
    /// successors, which splices the cycles into one (halo2's order, so σ comes out the same).
    fn copy(&mut self, left: Column<Any>, left_row: usize, right: Column<Any>, right_row: usize) -> Result<(), String> {
        let l = (self.index(left)?, left_row as u32);
        let r = (self.index(right)?, right_row as u32);
        let at = |v: &Vec<Vec<Cell>>, c: Cell| v[c.0 as usize][c.1 as usize];
        let (mut big, mut small) = (at(&self.root, l), at(&self.root, r));
        if big == small {
            return Ok(());
        }
        if self.size[big.0 as usize][big.1 as usize] < self.size[small.0 as usize][small.1 as usize] {
            std::mem::swap(&mut big, &mut small);
        }
        self.size[big.0 as usize][big.1 as usize] += self.size[small.0 as usize][small.1 as usize];
        let mut cell = small;
        loop {
            self.root[cell.0 as usize][cell.1 as usize] = big;
            cell = at(&self.next, cell);
            if cell == small {
                break;
            }
        }
        let (ln, rn) = (at(&self.next, l), at(&self.next, r));
        self.next[l.0 as usize][l.1 as usize] = rn;
        self.next[r.0 as usize][r.1 as usize] = ln;
        Ok(())
    }

    /// σ in Lagrange form: σ_i(ωʲ) = δᶜωʳ for (c, r) the cell after (i, j) in its cycle.
    fn sigma_values(self, domain: &EvaluationDomain<Fr>) -> Sigma {
        let n = self.next.first().map_or(0, Vec::len);
        let omega = powers(domain.get_omega(), n);
        let delta = powers(Fr::DELTA, self.columns.len());
        let columns = self
            .next
            .par_iter()
            .map(|col| col.iter().map(|&(c, r)| delta[c as usize] * omega[r as usize]).collect())
            .collect();
        Sigma { columns, next: self.next, omega, delta }
    }
}

/// σ's columns, with the cycles they came from and the powers of ω and δ they are made of.
struct Sigma {
    columns: Vec<Vec<Fr>>,
    next: Vec<Vec<Cell>>,
    omega: Vec<Fr>,
    delta: Vec<Fr>,
}

impl Sigma {
    /// σ_i − δⁱωʲ per column: zero wherever no copy moved the cell.
    fn moved(&self) -> Vec<Vec<Fr>> {
        let (omega, delta) = (&self.omega, &self.delta);
        (self.columns.par_iter().zip(&self.next).enumerate())
            .map(|(i, (values, next))| {
                (values.iter().zip(next).enumerate())
                    .map(|(j, (&v, &cell))| if cell == (i as u32, j as u32) { Fr::ZERO } else { v - delta[i] * omega[j] })
                    .collect()
            })
            .collect()
    }
}

/// 1, x, x², … (len terms), in parallel chunks.
fn powers(x: Fr, len: usize) -> Vec<Fr> {
    const CHUNK: usize = 1 << 14;
    let mut out = vec![Fr::ZERO; len];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut p = x.pow_vartime([(c * CHUNK) as u64]);
        for v in chunk {
            *v = p;
            p *= x;
        }
    });
    out
}
