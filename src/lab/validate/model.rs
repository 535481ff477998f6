//! The options of one validation and what each side produced, shared by
//! the run and report steps.

use std::path::PathBuf;

use super::design::Design;
use super::measure::LlmCell;
use super::preset::Preset;
use super::scoring::Scorecard;

/// Options of one `entropic llm validate` call.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    pub preset: Preset,
    /// Base checkpoint; `None`: pretrain into `out/base/` (reused if there).
    pub model: Option<PathBuf>,
    /// Run directory (default `runs/validate-<preset>/`).
    pub out: PathBuf,
    /// Directory of `llm-validation.md` and its SVGs (default `reports/`).
    pub report: PathBuf,
    /// No per-step lines on stderr.
    pub quiet: bool,
}

/// The paths and figures a validation wrote.
#[derive(Debug, Clone)]
pub struct ValidateOutcome {
    pub report: PathBuf,
    /// The LLM measured as a map cell, the scorecard and the design (read
    /// by the tests; the command prints the path).
    #[allow(dead_code)]
    pub cell: LlmCell,
    #[allow(dead_code)]
    pub scorecard: Scorecard,
    #[allow(dead_code)]
    pub design: Design,
}
