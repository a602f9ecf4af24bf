use thiserror::Error;

#[derive(Debug, Error)]
pub enum CircuitError {
    #[error("layer '{layer}': {what}")]
    Unsupported { layer: String, what: String },
    #[error("layer '{layer}': pre-activation {value} is outside the clip table's range [-{bound}, {bound}); raise clip_bits")]
    ClipRange { layer: String, value: i128, bound: i64 },
    #[error("{what} value {value} does not fit {bits} bits")]
    OutOfRange { what: String, value: i64, bits: u32 },
    #[error("denominator_bits must be a multiple of 8 in 8..=32, got {0}")]
    Denominator(u32),
    #[error("input has {got} values, the model expects {want}")]
    InputLength { got: usize, want: usize },
    #[error("the circuit needs 2^{need} rows, more than the 2^{max} allowed")]
    TooLarge { need: u32, max: u32 },
    #[error(transparent)]
    Import(#[from] zkinfer_import::ImportError),
}

pub type Result<T> = std::result::Result<T, CircuitError>;
