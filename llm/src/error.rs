//! Typed errors of the LLM crate.
use thiserror::Error;

/// Everything that can go wrong inside `entropic-llm`.
#[derive(Debug, Error)]
pub enum LlmError {
    /// Bad input: a file (or argument), what is wrong with it. The CLI exits 2.
    #[error("{file}: {msg}")]
    Input { file: String, msg: String },
    /// A tensor operation failed (not the user's fault). The CLI exits 1.
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
    /// Input/output failure while writing (reading failures are `Input`).
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Anything else with its cause.
    #[error("{0}")]
    Other(String),
}

impl LlmError {
    /// Bad input concerning `file` (a path, or an argument name).
    pub fn input(file: impl Into<String>, msg: impl Into<String>) -> Self {
        LlmError::Input {
            file: file.into(),
            msg: msg.into(),
        }
    }
    /// Whether the CLI should exit with code 2 (bad input).
    pub fn is_input(&self) -> bool {
        matches!(self, LlmError::Input { .. })
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, LlmError>;
