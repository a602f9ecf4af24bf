//! The column set of the model circuit for a [`Shape`]: advice, instance, constants, gate parameters, lookup tags,
//! the shared table and one selector per gate — and [`GateQuery`], the query helpers the gadgets' gates use. The
//! gadgets register their own gates on these columns; the model decides which ones (`model::configure`).

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed, Instance, VirtualCells};
use halo2_proofs::poly::Rotation;

use crate::shape::Shape;

/// Parameter-column slots shared by the chained gates (dot, adder, pack): the zero points of the two operands and
/// the chain flag (1 on every row that continues the previous row's accumulator).
pub const P_ZS: usize = 0;
pub const P_ZT: usize = 1;
pub const P_CHAIN: usize = 2;

#[derive(Clone, Debug)]
pub struct Columns {
    pub shape: Shape,
    pub advice: Vec<Column<Advice>>,
    pub instance: Column<Instance>,
    /// Deduplicated constants (zero points, padding values, public weights), equality-enabled.
    pub constants: Column<Fixed>,
    /// Per-row gate parameters; each gate reads them its own way.
    pub params: Vec<Column<Fixed>>,
    /// Per-lane lookup tag (0 = lane off).
    pub tags: Vec<Column<Fixed>>,
    /// The shared table: (tag, tag·x, tag·y).
    pub table: [Column<Fixed>; 3],
    pub q_dot: Column<Fixed>,
    pub q_add: Column<Fixed>,
    pub q_requant: Column<Fixed>,
    pub q_pack: Column<Fixed>,
    pub q_int32: Column<Fixed>,
    pub q_full_a: Column<Fixed>,
    pub q_full_b: Column<Fixed>,
    pub q_partial: Column<Fixed>,
}

impl Columns {
    /// Allocates the columns (no gates). The allocation order fixes the column indices, hence the proof's bytes.
    pub fn allocate(meta: &mut ConstraintSystem<Fr>, shape: Shape) -> Self {
        let advice: Vec<_> = (0..shape.width).map(|_| meta.advice_column()).collect();
        for a in &advice {
            meta.enable_equality(*a);
        }
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let constants = meta.fixed_column();
        meta.enable_equality(constants);
        let mut fixed = || meta.fixed_column();
        let params = (0..shape.params()).map(|_| fixed()).collect();
        let tags = (0..shape.lanes()).map(|_| fixed()).collect();
        let table = [fixed(), fixed(), fixed()];
        Columns {
            advice,
            instance,
            constants,
            params,
            tags,
            table,
            q_dot: fixed(),
            q_add: fixed(),
            q_requant: fixed(),
            q_pack: fixed(),
            q_int32: fixed(),
            q_full_a: fixed(),
            q_full_b: fixed(),
            q_partial: fixed(),
            shape,
        }
    }
}

/// Query helpers for gate definitions: cells by advice index, fixed column or parameter slot, at a row rotation.
pub struct GateQuery<'a, 'm> {
    pub meta: &'a mut VirtualCells<'m, Fr>,
    pub cols: &'a Columns,
}

impl GateQuery<'_, '_> {
    pub fn advice(&mut self, col: usize, rot: i32) -> Expression<Fr> {
        self.meta.query_advice(self.cols.advice[col], Rotation(rot))
    }
    pub fn fixed(&mut self, col: Column<Fixed>, rot: i32) -> Expression<Fr> {
        self.meta.query_fixed(col, Rotation(rot))
    }
    pub fn param(&mut self, slot: usize, rot: i32) -> Expression<Fr> {
        let col = self.cols.params[slot];
        self.fixed(col, rot)
    }
}

/// A field constant inside a gate expression.
pub fn constant(v: Fr) -> Expression<Fr> {
    Expression::Constant(v)
}
