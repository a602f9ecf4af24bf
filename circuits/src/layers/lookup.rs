//! Elementwise int8 → int8 functions (activations): each element is one lookup lane (its input copied in, its
//! output next to it) tagged with the function's section of the shared table — no gate, no new lookup argument;
//! `lanes` elements per row.

use zkinfer_import::ir::{self, Op, QuantModel};

use super::layer::{Layer, WeightCells};
use crate::error::Result;
use crate::layouter::{RowLayouter, Wire};
use crate::shape::Shape;

pub struct Lookup<'a> {
    outs: usize,
    table: &'a [i32],
}

impl<'a> Lookup<'a> {
    pub fn new(node: &'a ir::Layer, model: &'a QuantModel) -> Self {
        let Op::Lookup { table, .. } = &node.op else { unreachable!("registered for Op::Lookup") };
        Lookup { outs: model.tensors[node.output].shape.iter().product(), table }
    }
}

impl Layer for Lookup<'_> {
    fn rows(&self, s: &Shape) -> usize {
        self.outs.div_ceil(s.lanes())
    }

    fn functions(&self) -> Vec<Vec<i32>> {
        vec![self.table.to_vec()]
    }

    fn assign(&self, lay: &mut RowLayouter, inputs: &[&[Wire]], _: &WeightCells) -> Result<Vec<Wire>> {
        let x = inputs[0];
        let lanes = lay.cols.shape.lanes();
        let tag = lay.cols.shape.function_tag(self.table);
        let start = lay.alloc(self.rows(&lay.cols.shape))?;
        let mut out = Vec::with_capacity(x.len());
        for (i, xi) in x.iter().enumerate() {
            let (row, lane) = (start + i / lanes, i % lanes);
            lay.copy_in(2 * lane, row, xi);
            out.push(lay.put(2 * lane + 1, row, self.table[(xi.val + 128) as usize] as i64));
            lay.tag(lane, row, tag);
        }
        Ok(out)
    }
}
