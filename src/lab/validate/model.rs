//! The options of one validation and what each side produced, shared by
//! the run and report steps.

use entropic_sim::metrics::Record;
use std::path::PathBuf;

use super::preset::Preset;

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

/// What one side (toy or LLM) produced: per-arm records, the probe, targets.
#[derive(Debug, Clone)]
pub struct Side {
    pub initial_entropy: f64,
    pub target: f64,
    /// `(arm, records)` in [`ARMS`](super::preset::ARMS) order.
    pub arms: Vec<(String, Vec<Record>)>,
    pub probe: Vec<Record>,
}

/// The paths and figures a validation wrote.
#[derive(Debug, Clone)]
pub struct ValidateOutcome {
    pub report: PathBuf,
    /// Both sides' records (read by the tests; the command prints the path).
    #[allow(dead_code)]
    pub llm: Side,
    #[allow(dead_code)]
    pub toy: Side,
}
