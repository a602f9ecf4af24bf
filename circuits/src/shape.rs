//! The circuit's shape — `Circuit::Params`: advice columns, requantisation units and lookup lanes per row, the dot
//! gate's width, the clamps of the clip table and k. Everything here is arithmetic on those numbers; the planner
//! (`plan`) picks them for a model.

use crate::native::pack::PACK;
use crate::native::poseidon;

/// halo2 reserves the last rows for blinding: 5 factors (3 advice queries + 2) plus the last-row flag.
pub const RESERVED_ROWS: usize = 6;
/// Entries of the byte-pair range check in the shared table.
pub const RANGE_ENTRIES: usize = 256 * 256;
/// Columns of one Poseidon band: the state plus the partial round's square.
pub const BAND: usize = poseidon::WIDTH + 1;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shape {
    /// Advice columns.
    pub width: usize,
    /// Rescale (division + clip) units per row.
    pub units: usize,
    /// Bytes of the remainder r < b = 2^(8·limbs).
    pub limbs: usize,
    /// Dot-product gate: `dot_n` terms per group, `dot_m` groups sharing one operand.
    pub dot_n: usize,
    pub dot_m: usize,
    /// The distinct (lo, hi) clamps of the model: clip-table tags 2, 3, …
    pub clamps: Vec<(i32, i32)>,
    /// The clip table covers pre-activations u in [−2^clip_bits, 2^clip_bits).
    pub clip_bits: u32,
    /// The distinct elementwise int8 functions (activation tables, 256 outputs for x = −128..127): tags
    /// 2 + clamps.len(), … Skipped when empty, so keys and circuit digests of models without activation tables
    /// are what they were before tables existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Vec<i32>>,
    pub k: u32,
}

impl Shape {
    pub fn lanes_per_unit(&self) -> usize {
        1 + self.limbs.div_ceil(2)
    }
    /// Lookup lanes: lane l reads advice columns 2l and 2l+1.
    pub fn lanes(&self) -> usize {
        self.units * self.lanes_per_unit()
    }
    /// Bytes per byte-store row: the largest divisor of PACK that the lanes hold.
    pub fn store_bytes_per_row(&self) -> usize {
        (1..=PACK).rev().find(|d| PACK % d == 0 && *d <= 2 * self.lanes()).unwrap_or(1)
    }
    /// Fixed "parameter" columns shared by the gates (zero points, offsets, round constants).
    pub fn params(&self) -> usize {
        poseidon::WIDTH.max(3 * self.units).max(3)
    }
    pub fn bands(&self) -> usize {
        self.width / BAND
    }
    /// Int32 groups per row (four bytes and the int32, five columns each).
    pub fn int32_groups(&self) -> usize {
        self.width / 5
    }
    pub fn adder_width(&self) -> usize {
        self.width - 1
    }
    pub fn clip_bound(&self) -> i64 {
        1i64 << self.clip_bits
    }
    pub fn table_rows(&self) -> usize {
        RANGE_ENTRIES + self.clamps.len() * 2 * self.clip_bound() as usize + self.functions.len() * 256
    }
    /// The tag of an elementwise function's table section.
    pub fn function_tag(&self, table: &[i32]) -> u64 {
        (2 + self.clamps.len() + self.functions.iter().position(|f| f == table).expect("function planned")) as u64
    }
    pub fn usable_rows(&self) -> usize {
        (1usize << self.k) - RESERVED_ROWS
    }
    pub fn clamp_tag(&self, lo: i32, hi: i32) -> u64 {
        2 + self.clamps.iter().position(|c| *c == (lo, hi)).expect("clamp planned") as u64
    }
    /// Advice columns plus the columns the lookups and permutation add (what the prover commits to).
    pub fn committed_columns(&self) -> usize {
        self.width + 3 * self.lanes() + (self.width + 2).div_ceil(3)
    }
    /// Whether every gate fits the columns and has at least one constraint (halo2 panics on an empty gate, and a
    /// shape read from a keys manifest reaches `configure`).
    pub fn valid(&self) -> bool {
        let l2 = 2 * self.lanes();
        self.units >= 1
            && self.limbs >= 1
            && self.width >= l2 + 4 * self.units
            && self.width > l2
            && self.dot_n * (self.dot_m + 1) + self.dot_m <= self.width
            && self.dot_n >= 1
            && self.dot_m >= 1
            && self.bands() >= 1
    }
}
