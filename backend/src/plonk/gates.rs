//! The circuit's custom gates: every polynomial of every gate must vanish on every row, so each is one
//! constraint of the quotient, compiled straight from the gate's expression (selectors are fixed columns by now).
//! The gates own no commitments or evaluations: they read the advice/fixed/instance columns' ([`super::columns`]).

use std::cell::RefCell;

use halo2_proofs::plonk::ConstraintSystem;

use super::quotient::{compile_expression, Layout};
use super::{Ctx, ProveError};
use crate::engine::program::{Node, RowProgram};
use crate::Fr;

/// Refuses gates above the constraint system's degree. halo2-axiom sizes the quotient with cs.degree(), which it
/// caps at the MAX_DEGREE env var (default 5); a gate above the cap cannot be proven soundly by any halo2-axiom
/// prover.
pub fn check_degrees(cs: &ConstraintSystem<Fr>) -> Result<(), ProveError> {
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
    Ok(())
}

/// The gates' constraints, gate by gate and polynomial by polynomial (the verifier's fold order).
pub fn constraints(ctx: &Ctx<'_>, prog: &RefCell<RowProgram>, layout: &Layout) -> Result<Vec<Node>, ProveError> {
    let mut outputs = Vec::new();
    for gate in ctx.cs.gates() {
        for poly in gate.polynomials() {
            outputs.push(compile_expression(prog, poly, layout, &ctx.challenges)?);
        }
    }
    Ok(outputs)
}
