//! Verdict objects (docs/design.md §6) and the shape every claim check has, so
//! `entropic verify` can run them all and write `verification.json` and
//! `verification.md`.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The honest outcome of a claim check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Holds on every instance/run checked (within the stated tolerance).
    Confirmed,
    /// Holds under the stated `condition` only.
    Conditional,
    /// Fails; `counterexample` reproduces the failure from its seed.
    Refuted,
}

/// A failure that reproduces from `seed` and the `instance` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    pub seed: u64,
    /// Everything needed to rebuild the instance (probabilities, correct set,
    /// scenario keys, ...), as JSON.
    pub instance: serde_json::Value,
    /// What was observed, in words and numbers.
    pub observed: String,
}

/// One verdict object of `verification.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimVerdict {
    /// One of `cor-4-1`, `fig-2-quadrants`, `thm-4-2`, `thm-4-3`, `cor-4-4`,
    /// `temperature`, `controllability`, `linear-model`.
    pub claim: String,
    /// e.g. the update rule or the `measure` mode.
    pub variant: String,
    pub verdict: Verdict,
    /// The condition under which the claim holds (or the finding, in words).
    pub condition: String,
    /// Share of instances/runs on which the claim's statement held.
    pub rate: f64,
    /// 95% interval of `rate` (Wilson).
    pub ci: [f64; 2],
    pub n: usize,
    pub counterexample: Option<Counterexample>,
    /// SVG files (relative to the report folder).
    pub figures: Vec<String>,
}

/// How much work a check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Reduced grids for tests and CI: the whole `verify --quick` in well
    /// under a minute on 2 cores.
    Quick,
    /// What `reports/` holds: the whole `verify` in at most 10 minutes on 2 cores.
    Full,
}

/// What a check gets.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub mode: Mode,
    /// Folder for the check's SVG figures (created by the caller).
    pub out_dir: PathBuf,
}

/// What a check returns: its verdict objects and its section of
/// `verification.md` (Markdown body without the `## claim` heading; it
/// embeds its figures as `![](name.svg)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimSection {
    pub claim: String,
    pub title: String,
    pub verdicts: Vec<ClaimVerdict>,
    pub markdown: String,
}

impl ClaimVerdict {
    /// A verdict with a Wilson interval from `k` successes of `n`.
    pub fn from_counts(
        claim: &str,
        variant: &str,
        verdict: Verdict,
        condition: impl Into<String>,
        k: usize,
        n: usize,
    ) -> Self {
        let e = entropic_sim::stats::wilson(k, n, 0.95);
        ClaimVerdict {
            claim: claim.into(),
            variant: variant.into(),
            verdict,
            condition: condition.into(),
            rate: if n > 0 { k as f64 / n as f64 } else { f64::NAN },
            ci: [e.lo, e.hi],
            n,
            counterexample: None,
            figures: Vec::new(),
        }
    }
}
