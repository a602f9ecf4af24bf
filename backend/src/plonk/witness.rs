//! Witness collection: runs the circuit's floor planner against our own `Assignment` and returns the advice
//! columns in Lagrange form (Assigned fractions batch-inverted), before blinding.

use halo2_proofs::circuit::Value;
use halo2_proofs::halo2curves::ff::{BatchInvert, Field};
use halo2_proofs::plonk::{
    Advice, Any, Assigned, Assignment, Challenge, Circuit, Column, ConstraintSystem, Error, FloorPlanner, Fixed,
    Instance, Selector,
};

use super::ProveError;
use crate::Fr;

struct Collector<'a> {
    advice: Vec<Vec<Assigned<Fr>>>,
    instances: &'a [&'a [Fr]],
    usable_rows: usize,
    k: u32,
    /// First out-of-range assignment (the Assignment API has no error channel for it).
    overflow: Option<(usize, usize)>,
    /// First advice cell assigned an unknown value.
    unknown: Option<(usize, usize)>,
    sink: Assigned<Fr>,
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

    fn assign_advice<'v>(&mut self, column: Column<Advice>, row: usize, to: Value<Assigned<Fr>>) -> Value<&'v Assigned<Fr>> {
        let mut value = Assigned::Zero;
        let mut known = false;
        to.map(|v| {
            value = v;
            known = true;
        });
        if !known {
            self.unknown.get_or_insert((column.index(), row));
        }
        let cell = if row < self.usable_rows {
            &mut self.advice[column.index()][row]
        } else {
            self.overflow.get_or_insert((column.index(), row));
            &mut self.sink
        };
        *cell = value;
        // The floor planner holds this reference only while the collector lives; cells never move (the columns
        // are allocated up front and never resized).
        let ptr = cell as *const Assigned<Fr>;
        Value::known(unsafe { &*ptr })
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
        advice: vec![vec![Assigned::Zero; usable_rows]; cs.num_advice_columns()],
        instances,
        usable_rows,
        k,
        overflow: None,
        unknown: None,
        sink: Assigned::Zero,
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
            "advice column {column}, row {row} was assigned an unknown value (a circuit built without witnesses?)"
        )));
    }

    // Batch-invert every Rational denominator at once.
    let mut denominators: Vec<Fr> = collector
        .advice
        .iter()
        .flatten()
        .filter_map(|a| a.denominator())
        .collect();
    denominators.iter_mut().batch_invert();
    let mut inv = denominators.into_iter();
    Ok(collector
        .advice
        .into_iter()
        .map(|col| {
            let mut out: Vec<Fr> = col
                .into_iter()
                .map(|a| match a.denominator() {
                    Some(_) => a.numerator() * inv.next().unwrap(),
                    None => a.numerator(),
                })
                .collect();
            out.resize(n, Fr::ZERO);
            out
        })
        .collect())
}
