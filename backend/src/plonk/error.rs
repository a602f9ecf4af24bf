//! Why a proof could not be made.

/// Every way the prover refuses or fails; the witness errors name what the circuit author can fix.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("circuit synthesis failed: {0:?}")]
    Synthesis(halo2_proofs::plonk::Error),
    #[error("witness: {0}")]
    Witness(String),
    #[error("unsupported circuit: {0}")]
    Unsupported(String),
    #[error("expected {expected} instance columns, got {got}")]
    InstanceColumns { expected: usize, got: usize },
    #[error("instance column {column} has {len} values but only {usable} rows are usable at k = {k}")]
    InstanceTooLarge {
        column: usize,
        len: usize,
        usable: usize,
        k: u32,
    },
    #[error("params are for k = {params_k} but the proving key is for k = {pk_k}")]
    ParamsMismatch { params_k: u32, pk_k: u32 },
    #[error("the witness does not satisfy the circuit's constraints (check it with halo2's MockProver)")]
    Unsatisfied,
    #[error("lookup `{lookup}`: the input at row {row} is not in the table (the witness does not satisfy the circuit)")]
    LookupFailed { lookup: String, row: usize },
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("transcript: {0}")]
    Transcript(#[from] std::io::Error),
}
