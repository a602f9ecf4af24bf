//! Row programs: straight-line arithmetic over the per-row values of a set of columns, evaluated for every row of a
//! domain or coset. This is how the prover hands the quotient numerator (and lookup compressions) to an engine as
//! data, so a GPU engine can evaluate the same program on device-resident columns.
//!
//! Semantics of [`RowProgram`] for a call with columns `c`, coset point `g`, step `omega` and folding factor `y`,
//! at row r of n: `X = g * omega^r`; `Column { column, rotation }` reads `c[column][(r + rotation) mod n]`; the
//! outputs are folded as `acc = acc * y + value(output)` in order, and `acc` is row r's result.

pub mod block;
pub mod fold;
pub mod groups;

use std::collections::HashMap;

use halo2_proofs::halo2curves::ff::{Field, PrimeField};

use crate::Fr;

/// One instruction; operands index earlier instructions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Column { column: u32, rotation: i32 },
    Constant(Fr),
    /// The row's evaluation point g * omega^r.
    X,
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Neg(u32),
    Scale(u32, Fr),
}

impl Op {
    /// The instructions this one reads.
    pub fn operands(&self) -> impl Iterator<Item = Node> {
        let (a, b) = match *self {
            Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) => (Some(a), Some(b)),
            Op::Neg(a) | Op::Scale(a, _) => (Some(a), None),
            Op::Column { .. } | Op::Constant(_) | Op::X => (None, None),
        };
        a.into_iter().chain(b)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Column(u32, i32),
    Constant([u8; 32]),
    X,
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Neg(u32),
    Scale(u32, [u8; 32]),
}

/// A program plus the builder state that deduplicates identical instructions.
#[derive(Clone, Debug, Default)]
pub struct RowProgram {
    pub ops: Vec<Op>,
    pub outputs: Vec<u32>,
    pub num_columns: usize,
    dedup: HashMap<Key, u32>,
}

/// Handle to an instruction of a program being built.
pub type Node = u32;

impl RowProgram {
    pub fn new(num_columns: usize) -> Self {
        RowProgram {
            num_columns,
            ..Default::default()
        }
    }

    fn push(&mut self, key: Key, op: Op) -> Node {
        if let Some(&n) = self.dedup.get(&key) {
            return n;
        }
        let n = self.ops.len() as Node;
        self.ops.push(op);
        self.dedup.insert(key, n);
        n
    }

    pub fn column(&mut self, column: usize, rotation: i32) -> Node {
        assert!(column < self.num_columns, "column {column} out of range");
        self.push(Key::Column(column as u32, rotation), Op::Column { column: column as u32, rotation })
    }
    pub fn constant(&mut self, c: Fr) -> Node {
        self.push(Key::Constant(c.to_repr()), Op::Constant(c))
    }
    pub fn x(&mut self) -> Node {
        self.push(Key::X, Op::X)
    }
    pub fn add(&mut self, a: Node, b: Node) -> Node {
        let (a, b) = (a.min(b), a.max(b));
        self.push(Key::Add(a, b), Op::Add(a, b))
    }
    pub fn sub(&mut self, a: Node, b: Node) -> Node {
        self.push(Key::Sub(a, b), Op::Sub(a, b))
    }
    pub fn mul(&mut self, a: Node, b: Node) -> Node {
        let (a, b) = (a.min(b), a.max(b));
        self.push(Key::Mul(a, b), Op::Mul(a, b))
    }
    pub fn neg(&mut self, a: Node) -> Node {
        self.push(Key::Neg(a), Op::Neg(a))
    }
    pub fn scale(&mut self, a: Node, c: Fr) -> Node {
        self.push(Key::Scale(a, c.to_repr()), Op::Scale(a, c))
    }
    /// Appends an output to the fold.
    pub fn output(&mut self, n: Node) {
        self.outputs.push(n);
    }

    /// The same program without the ops no output depends on (operands renumbered, order kept).
    pub fn pruned(&self) -> RowProgram {
        let mut live = vec![false; self.ops.len()];
        for &o in &self.outputs {
            live[o as usize] = true;
        }
        for i in (0..self.ops.len()).rev() {
            if live[i] {
                for a in self.ops[i].operands() {
                    live[a as usize] = true;
                }
            }
        }
        let mut out = RowProgram::new(self.num_columns);
        let mut map = vec![0 as Node; self.ops.len()];
        for (i, op) in self.ops.iter().enumerate() {
            if !live[i] {
                continue;
            }
            let m = |x: u32| map[x as usize];
            map[i] = match *op {
                Op::Column { column, rotation } => out.column(column as usize, rotation),
                Op::Constant(c) => out.constant(c),
                Op::X => out.x(),
                Op::Add(a, b) => out.add(m(a), m(b)),
                Op::Sub(a, b) => out.sub(m(a), m(b)),
                Op::Mul(a, b) => out.mul(m(a), m(b)),
                Op::Neg(a) => out.neg(m(a)),
                Op::Scale(a, c) => out.scale(m(a), c),
            };
        }
        for &o in &self.outputs {
            out.output(map[o as usize]);
        }
        out
    }

    /// The largest |rotation| used (for callers that size padded buffers).
    pub fn max_rotation(&self) -> i32 {
        self.ops
            .iter()
            .filter_map(|op| match op {
                Op::Column { rotation, .. } => Some(rotation.abs()),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// Field multiplications per row, the cost that dominates evaluation: products, scalings and, with several
/// outputs, the fold by y (one per output).
pub fn multiplications(p: &RowProgram) -> usize {
    let fold = if p.outputs.len() > 1 { p.outputs.len() } else { 0 };
    p.ops.iter().filter(|o| matches!(o, Op::Mul(..) | Op::Scale(..))).count() + fold
}

/// Reference interpreter, one row at a time, used by the CPU engine. `scratch` holds one value per instruction.
#[inline]
pub fn eval_row(program: &RowProgram, columns: &[&[Fr]], row: usize, x: Fr, y: Fr, scratch: &mut [Fr]) -> Fr {
    for (i, op) in program.ops.iter().enumerate() {
        let v = match *op {
            Op::Column { column, rotation } => {
                let n = columns[column as usize].len() as i64;
                let idx = (row as i64 + rotation as i64).rem_euclid(n) as usize;
                columns[column as usize][idx]
            }
            Op::Constant(c) => c,
            Op::X => x,
            Op::Add(a, b) => scratch[a as usize] + scratch[b as usize],
            Op::Sub(a, b) => scratch[a as usize] - scratch[b as usize],
            Op::Mul(a, b) => scratch[a as usize] * scratch[b as usize],
            Op::Neg(a) => -scratch[a as usize],
            Op::Scale(a, c) => scratch[a as usize] * c,
        };
        scratch[i] = v;
    }
    let mut acc = Fr::ZERO;
    for &o in &program.outputs {
        acc = acc * y + scratch[o as usize];
    }
    acc
}


/// A random program over `columns` columns (every op kind, rotations −3..3, shared subexpressions, several
/// outputs): the fuzz input of the folding and block-evaluation tests.
#[cfg(test)]
pub(crate) fn random_program(seed: u64, columns: usize, ops: usize) -> RowProgram {
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let mut p = RowProgram::new(columns);
    let mut nodes: Vec<Node> = Vec::new();
    for c in 0..columns {
        nodes.push(p.column(c, 0));
    }
    nodes.push(p.x());
    while p.ops.len() < ops {
        let pick = |r: &mut ChaCha20Rng, nodes: &[Node]| nodes[(r.next_u32() as usize) % nodes.len()];
        let (a, b) = (pick(&mut r, &nodes), pick(&mut r, &nodes));
        let small = Fr::from(u64::from(r.next_u32() % 5));
        let n = match r.next_u32() % 10 {
            0 => p.column((r.next_u32() as usize) % columns, (r.next_u32() % 7) as i32 - 3),
            1 => p.constant(if r.next_u32() % 2 == 0 { small } else { Fr::random(&mut r) }),
            2 | 3 => p.add(a, b),
            4 => p.sub(a, b),
            5 | 6 => p.mul(a, b),
            7 => p.neg(a),
            _ => p.scale(a, if r.next_u32() % 2 == 0 { small } else { Fr::random(&mut r) }),
        };
        nodes.push(n);
        if r.next_u32() % 6 == 0 {
            p.output(n);
        }
    }
    let last = *nodes.last().unwrap();
    p.output(last);
    p
}
