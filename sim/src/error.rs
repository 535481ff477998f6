//! Typed errors of the simulator.
use thiserror::Error;

/// Everything that can go wrong inside `entropic-sim`.
#[derive(Debug, Error)]
pub enum SimError {
    /// Bad input: a file, a key and the allowed range. The CLI exits 2.
    /// An empty `key` (the file as a whole: missing, unreadable, not TOML)
    /// is left out of the message.
    #[error("{file}: {}{msg}", if key.is_empty() { String::new() } else { format!("key `{key}`: ") })]
    Input {
        file: String,
        key: String,
        msg: String,
    },
    /// A quantity became NaN or infinite during a run. The CLI exits 1.
    #[error("non-finite {quantity} at step {step} (seed {seed}, arm {arm})")]
    NonFinite {
        quantity: String,
        step: usize,
        seed: u64,
        arm: String,
    },
    /// Input/output failure.
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

impl SimError {
    /// Bad input on `key` of `file`.
    pub fn input(file: impl Into<String>, key: impl Into<String>, msg: impl Into<String>) -> Self {
        SimError::Input {
            file: file.into(),
            key: key.into(),
            msg: msg.into(),
        }
    }
    /// Bad input concerning the file `file` as a whole (no key).
    pub fn file(file: impl Into<String>, msg: impl Into<String>) -> Self {
        SimError::input(file, "", msg)
    }
    /// Whether the CLI should exit with code 2 (bad input).
    pub fn is_input(&self) -> bool {
        matches!(self, SimError::Input { .. })
    }
}

pub type Result<T> = std::result::Result<T, SimError>;
