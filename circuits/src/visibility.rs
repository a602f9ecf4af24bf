//! Which parts of a proof stay hidden behind a Poseidon commitment; the others are public values.

/// Which parts stay hidden behind a Poseidon commitment (the others are public values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Visibility {
    pub hide_input: bool,
    pub hide_weights: bool,
    pub hide_output: bool,
}

impl Visibility {
    pub const HIDDEN_WEIGHTS_AND_INPUT: Visibility = Visibility { hide_input: true, hide_weights: true, hide_output: false };
}
