//! The columns of the model circuit and the registration of every gate and lookup for a [`Shape`].

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed, Instance};
use halo2_proofs::poly::Rotation;

use crate::gadgets;
use crate::shape::Shape;
use crate::table;

#[derive(Clone, Debug)]
pub struct ModelConfig {
    pub shape: Shape,
    pub advice: Vec<Column<Advice>>,
    pub instance: Column<Instance>,
    /// Deduplicated constants (zero points, padding values, public weights), equality-enabled.
    pub konst: Column<Fixed>,
    /// Per-row gate parameters; each gate reads them its own way.
    pub params: Vec<Column<Fixed>>,
    /// Per-lane lookup tag (0 = lane off).
    pub tags: Vec<Column<Fixed>>,
    /// The shared table: (tag, tag·x, tag·y).
    pub table: [Column<Fixed>; 3],
    pub q_dot: Column<Fixed>,
    pub q_add: Column<Fixed>,
    pub q_res: Column<Fixed>,
    pub q_pack: Column<Fixed>,
    pub q_bias: Column<Fixed>,
    pub q_full_a: Column<Fixed>,
    pub q_full_b: Column<Fixed>,
    pub q_partial: Column<Fixed>,
}

impl ModelConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, shape: Shape) -> Self {
        let advice: Vec<_> = (0..shape.width).map(|_| meta.advice_column()).collect();
        for a in &advice {
            meta.enable_equality(*a);
        }
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let konst = meta.fixed_column();
        meta.enable_equality(konst);
        let mut fixed = || meta.fixed_column();
        let params = (0..shape.params()).map(|_| fixed()).collect();
        let tags = (0..shape.lanes()).map(|_| fixed()).collect();
        let table = [fixed(), fixed(), fixed()];
        let cfg = ModelConfig {
            advice,
            instance,
            konst,
            params,
            tags,
            table,
            q_dot: fixed(),
            q_add: fixed(),
            q_res: fixed(),
            q_pack: fixed(),
            q_bias: fixed(),
            q_full_a: fixed(),
            q_full_b: fixed(),
            q_partial: fixed(),
            shape,
        };
        table::configure(meta, &cfg);
        gadgets::dot::configure(meta, &cfg);
        gadgets::adder::configure(meta, &cfg);
        gadgets::div_clip::configure(meta, &cfg);
        gadgets::byte_store::configure(meta, &cfg);
        gadgets::bias::configure(meta, &cfg);
        gadgets::poseidon::configure(meta, &cfg);
        cfg
    }
}

/// Query helpers used by the gadgets' gate definitions.
pub struct Q<'a, 'm> {
    pub meta: &'a mut halo2_proofs::plonk::VirtualCells<'m, Fr>,
    pub cfg: &'a ModelConfig,
}

impl Q<'_, '_> {
    pub fn a(&mut self, col: usize, rot: i32) -> Expression<Fr> {
        self.meta.query_advice(self.cfg.advice[col], Rotation(rot))
    }
    pub fn f(&mut self, col: Column<Fixed>, rot: i32) -> Expression<Fr> {
        self.meta.query_fixed(col, Rotation(rot))
    }
    pub fn p(&mut self, i: usize, rot: i32) -> Expression<Fr> {
        let c = self.cfg.params[i];
        self.f(c, rot)
    }
}

pub fn c(v: Fr) -> Expression<Fr> {
    Expression::Constant(v)
}
