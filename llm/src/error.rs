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
    /// An error of the shared simulator code: a `[control]` table its
    /// validation refused (`SimError::Input`, exit 2), a token-loss input
    /// check, or a non-finite quantity during training (`SimError::NonFinite`,
    /// the same error as the toy's; exit 1).
    #[error(transparent)]
    Sim(#[from] entropic_sim::SimError),
    /// JSON (de)serialisation of the trainer's own state failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A JSON file (`path`) could not be parsed.
    #[error("{path}: {source}")]
    JsonFile {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// Writing a `.safetensors` file failed.
    #[error("{path}: {source}")]
    Safetensors {
        path: String,
        #[source]
        source: safetensors::SafeTensorError,
    },
    /// The tokenizer library failed (`what`: the file or operation).
    #[error("{what}: {source}")]
    Tokenizer {
        what: String,
        #[source]
        source: tokenizers::Error,
    },
    /// Input/output failure while writing (reading failures are `Input`).
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Pretraining's wall-clock budget (`pretrain.time_limit_s`) ran out
    /// before its steps were done: the base is incomplete and nothing was
    /// saved (a base is defined by its steps, never by the clock). Exit 1.
    #[error("pretraining stopped by pretrain.time_limit_s = {limit_s} s after {done} of {steps} steps ({elapsed_s:.0} s): the base is incomplete and was not saved; raise time_limit_s (0 = none) or lower pretrain.steps")]
    Incomplete {
        done: usize,
        steps: usize,
        limit_s: f64,
        elapsed_s: f64,
    },
    /// Anything else, a message without a typed cause (no GPU, a tokenizer
    /// lacking a special token, inconsistent shapes).
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
    /// A TOML error in `text` (read from `file`) as one line naming the key
    /// and line (`entropic_sim::tomlmsg`); `with_line: false` for text that
    /// was re-serialised (its line numbers are not the file's).
    pub fn toml(file: &str, text: &str, e: &toml::de::Error, with_line: bool) -> Self {
        let mut p = entropic_sim::tomlmsg::from_text(text, e);
        if !with_line {
            p.line = None;
        }
        LlmError::input(file, p.sentence())
    }
    /// Whether the CLI should exit with code 2 (bad input).
    pub fn is_input(&self) -> bool {
        match self {
            LlmError::Input { .. } => true,
            LlmError::Sim(s) => s.is_input(),
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, LlmError>;
