//! Witness collection: runs the circuit's floor planner against our own `Assignment` and returns the advice
//! columns in Lagrange form (fractions batch-inverted), before blinding.

use std::collections::HashMap;

use halo2_proofs::circuit::Value;
use halo2_proofs::halo2curves::ff::{BatchInvert, Field};
use halo2_proofs::plonk::{
    Advice, Any, Assigned, Assignment, Challenge, Circuit, Column, ConstraintSystem, Error, FloorPlanner, Fixed,
    Instance, Selector,
};

use super::ProveError;
use crate::Fr;

/// Cells go straight into field columns of n rows (32 bytes a cell; an `Assigned` per cell would be 72). The rare
/// fraction keeps its numerator in place and its denominator in `fractions`, inverted in one batch at the end.
struct Collector<'a> {
    advice: Vec<Vec<Fr>>,
    /// (column, row) → denominator; a cell assigned again loses its entry unless the new value is a fraction too.
    fractions: HashMap<(usize, usize), Fr>,
    instances: &'a [&'a [Fr]],
    usable_rows: usize,
    k: u32,
    /// First out-of-range assignment (the Assignment API has no error channel for it).
    overflow: Option<(usize, usize)>,
    /// First advice cell assigned an unknown value.
    unknown: Option<(usize, usize)>,
}

impl Assignment<Fr> for Collector<'_> {
    fn enter_region<NR: Into<String>, N: FnOnce() -> NR>(&mut self, _: N) {}
    fn annotate_column<A: FnOnce() -> AR, AR: Into<String>>(&mut self, _: A, _: Column<Any>) {}
    fn exit_region(&mut self) {}
    fn enable_selector<A: FnOnce() -> AR, AR: Into<String>>(
        &mut self,
        _: A,
        _: &Selector,
        _: usize,
    ) -> Result<(), Error> {
        Ok(())
    }

    fn query_instance(&self, column: Column<Instance>, row: usize) -> Result<Value<Fr>, Error> {
        if row >= self.usable_rows {
            return Err(Error::NotEnoughRowsAvailable { current_k: self.k });
        }
        Ok(Value::known(
            self.instances
                .get(column.index())
                .and_then(|c| c.get(row))
                .copied()
                .unwrap_or(Fr::ZERO),
        ))
    }

    /// The value is stored as a field element; what is returned is `Value::unknown()`, since no `Assigned` is kept to
    /// point at. A circuit that computes a later cell from a value read back here gets an unknown cell, which
    /// `synthesize` refuses (an error, never a wrong witness); halo2's floor planners only keep the returned cell.
    fn assign_advice<'v>(&mut self, column: Column<Advice>, row: usize, to: Value<Assigned<Fr>>) -> Value<&'v Assigned<Fr>> {
        let mut value = None;
        to.map(|v| value = Some(v));
        let Some(value) = value else {
            self.unknown.get_or_insert((column.index(), row));
            return Value::unknown();
        };
        if row >= self.usable_rows {
            self.overflow.get_or_insert((column.index(), row));
            return Value::unknown();
        }
        self.advice[column.index()][row] = value.numerator();
        match value.denominator() {
            Some(d) => {
                self.fractions.insert((column.index(), row), d);
            }
            None if !self.fractions.is_empty() => {
                self.fractions.remove(&(column.index(), row));
            }
            None => {}
        }
        Value::unknown()
    }

    fn assign_fixed(&mut self, _: Column<Fixed>, _: usize, _: Assigned<Fr>) {}
    fn copy(&mut self, _: Column<Any>, _: usize, _: Column<Any>, _: usize) {}
    fn fill_from_row(&mut self, _: Column<Fixed>, _: usize, _: Value<Assigned<Fr>>) -> Result<(), Error> {
        Ok(())
    }
    fn get_challenge(&self, _: Challenge) -> Value<Fr> {
        // Single-phase proving: no challenge is available while phase-0 advice is being assigned.
        Value::unknown()
    }
    fn push_namespace<NR: Into<String>, N: FnOnce() -> NR>(&mut self, _: N) {}
    fn pop_namespace(&mut self, _: Option<String>) {}
}

/// Synthesizes `circuit` and returns one Lagrange column of length n per advice column (rows past `usable_rows`
/// are zero; the prover fills them with blinding values).
pub fn synthesize<C: Circuit<Fr>>(
    cs: &ConstraintSystem<Fr>,
    circuit: &C,
    instances: &[&[Fr]],
    k: u32,
    usable_rows: usize,
) -> Result<Vec<Vec<Fr>>, ProveError> {
    let n = 1usize << k;
    let mut meta = ConstraintSystem::default();
    let config = C::configure_with_params(&mut meta, circuit.params());
    let mut collector = Collector {
        advice: vec![vec![Fr::ZERO; n]; cs.num_advice_columns()],
        fractions: HashMap::new(),
        instances,
        usable_rows,
        k,
        overflow: None,
        unknown: None,
    };
    C::FloorPlanner::synthesize(&mut collector, circuit, config, cs.constants().clone())
        .map_err(ProveError::Synthesis)?;
    if let Some((column, row)) = collector.overflow {
        return Err(ProveError::Witness(format!(
            "advice column {column} assigned at row {row}, past the {usable_rows} usable rows of k = {k}"
        )));
    }
    if let Some((column, row)) = collector.unknown {
        return Err(ProveError::Witness(format!(
            "advice column {column}, row {row} was assigned an unknown value (a circuit built without witnesses, or \
             one computing it from a value read back from an assigned cell, which this prover does not return)"
        )));
    }

    // Every fraction's denominator inverted at once (a zero denominator stays zero, as halo2's `Assigned` has it).
    let mut advice = collector.advice;
    let (cells, mut denominators): (Vec<(usize, usize)>, Vec<Fr>) = collector.fractions.into_iter().unzip();
    denominators.iter_mut().batch_invert();
    for ((column, row), inv) in cells.into_iter().zip(denominators) {
        advice[column][row] *= inv;
    }
    Ok(advice)
}
