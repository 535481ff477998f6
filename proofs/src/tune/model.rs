//! The types every part of `tune` shares: the log's series and columns,
//! the error, and the thresholds the checks and the search use.

use crate::ident::IdentError;
use crate::linear::LinearError;
use serde::{Deserialize, Serialize};

/// Largest delay model selection considers (the issue's `0..8`).
pub const MAX_DELAY: usize = 8;

/// Default column names tried in order when `--columns` does not name one:
/// ours first, then verl's (`actor/entropy`, `actor/control_alpha`), then
/// the step columns of W&B exports (`_step`, `Step`) and verl
/// (`trainer/global_step`).
pub const ENTROPY_NAMES: &[&str] = &["entropy", "actor/entropy"];
/// See [`ENTROPY_NAMES`].
pub const ALPHA_NAMES: &[&str] = &["alpha", "actor/control_alpha"];
/// See [`ENTROPY_NAMES`].
pub const STEP_NAMES: &[&str] = &[
    "step",
    "_step",
    "Step",
    "trainer/global_step",
    "global_step",
];

/// Why a log cannot be read, identified or tuned. Every variant is bad
/// input (the CLI exits 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TuneError {
    #[error("--columns: {0}")]
    BadColumns(String),
    #[error("no {role} column: tried {tried}; columns present: {present}")]
    MissingColumn {
        role: &'static str,
        tried: String,
        present: String,
    },
    #[error("the log has no data rows")]
    Empty,
    #[error("line {line}: {msg}")]
    Malformed { line: usize, msg: String },
    #[error("line {line}, column `{column}`: `{value}` is not a number")]
    BadValue {
        line: usize,
        column: String,
        value: String,
    },
    #[error("the log holds several runs; choose one with --arm/--seed: {0}")]
    Ambiguous(String),
    #[error("no run matches --arm/--seed; runs present: {0}")]
    NoMatch(String),
    #[error("{0}")]
    Ident(#[from] IdentError),
    #[error("{0}")]
    Linear(#[from] LinearError),
    #[error(
        "a randomization interval needs a fixed delay (--delay N; 0 for measure = current): \
         a delay selected on the same log depends on the schedule, and the test would no longer be exact"
    )]
    DelayNeeded,
    #[error("no target entropy: the log has no `target` field; pass --target")]
    NoTarget,
    #[error(
        "g is not significantly positive (95% interval [{lo:.4}, {hi:.4}]; the smallest g this \
         log detects with 80% power is {detectable:.3e}): the log does not identify a plant that \
         α controls; run a longer or larger probe (docs/mathematics.md §6, §9)"
    )]
    GainNotPositive { lo: f64, hi: f64, detectable: f64 },
    #[error(
        "α is not independent of the error ({reason}): a closed-loop (P or PI control) log \
         cannot identify g, the fit would predict its own answer; run a probe (docs/mathematics.md §6)"
    )]
    NotOpenLoop { reason: String },
    #[error(
        "the fit explains nothing: R² = {r2:.4} of the entropy steps, below {threshold}; \
         gains designed on it would be designed for noise; run a longer or larger probe \
         (docs/mathematics.md §9)"
    )]
    ExplainsNothing { r2: f64, threshold: f64 },
    #[error(
        "{verdict}: g = {g:.3e}, 95% interval [{lo:.3e}, {hi:.3e}] contains 0; the smallest g \
         this design detects with 80% power is {detectable:.3e} against a drift |b| = {b_abs:.3e} \
         (docs/mathematics.md §9); no gains are recommended{}",
        caveat.map_or(String::new(), |c| format!(". Note: {c}"))
    )]
    NotIdentified {
        verdict: &'static str,
        /// What the interval assumes, where the design's assumption may
        /// not hold ([`super::identify::NEWEY_WEST_CAVEAT`]).
        caveat: Option<&'static str>,
        g: f64,
        lo: f64,
        hi: f64,
        detectable: f64,
        b_abs: f64,
    },
    #[error("the plain twin: {0}")]
    BadTwin(String),
    #[error(
        "the step column has a missing value at row {row}, so the rows cannot be ordered by step"
    )]
    UnorderableSteps { row: usize },
    #[error("{name}: {msg}")]
    BadOption { name: &'static str, msg: String },
    #[error(
        "the target cannot be held within the α clip: holding it needs α = b/g = {needed:.3} \
         (from the fit), beyond ±{alpha_max}; raise --alpha-max or change the plant"
    )]
    OutOfAuthority { needed: f64, alpha_max: f64 },
    #[error("no gains on the search grid are stable at every corner of the interval")]
    NoStableGains,
}

/// Which columns hold entropy, α and the step; `None` tries the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Columns {
    pub entropy: Option<String>,
    pub alpha: Option<String>,
    pub step: Option<String>,
    /// A log without an α column reads α as absent (NaN) instead of being
    /// refused: a plain twin's log, whose arm applied no α and may not log
    /// one ([`crate::tune::parse_twin_log`]). Not set by [`Columns::parse`].
    #[serde(default)]
    pub alpha_optional: bool,
}

impl Columns {
    /// Parses `entropy=NAME,alpha=NAME,step=NAME` (any subset, any order).
    /// Names may contain `/` but not `,` or `=`.
    pub fn parse(s: &str) -> Result<Columns, TuneError> {
        let mut c = Columns::default();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| TuneError::BadColumns(format!("`{part}` is not ROLE=NAME")))?;
            let v = Some(v.trim().to_string());
            match k.trim() {
                "entropy" => c.entropy = v,
                "alpha" => c.alpha = v,
                "step" => c.step = v,
                other => {
                    return Err(TuneError::BadColumns(format!(
                        "unknown role `{other}` (allowed: entropy, alpha, step)"
                    )))
                }
            }
        }
        Ok(c)
    }
}

/// One run's series, in file order. Missing, empty or NaN values are kept
/// as NaN in place, so the time structure stays intact; [`crate::ident`]
/// skips the regression rows they touch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Which run of the file this is (`arm=.. seed=..`, or the file kind).
    pub source: String,
    pub entropy_column: String,
    pub alpha_column: String,
    pub step: Vec<f64>,
    pub entropy: Vec<f64>,
    pub alpha: Vec<f64>,
    /// The logged target (our `target` field), if any.
    pub target: Option<f64>,
    /// Rows whose entropy or α is missing or not finite.
    pub nan_rows: usize,
}

/// A log is closed-loop when `|corr(α_t, H_t)|` exceeds this: α then
/// follows the error (an unclipped P law gives 1). A probe's α is a
/// schedule fixed in advance; on the probes of this crate's tests it stays
/// below 0.5 even where α moves the entropy a lot.
pub const CLOSED_LOOP_CORR: f64 = 0.9;

/// A log is closed-loop when the regression of `α_t` on the error's
/// history (`1, H_t, Σ_{s<t} H_s, t`: the P and I terms of either integral
/// form with any target) explains more than this share of α's variance:
/// α is then (nearly) a deterministic function of the error, as under PI
/// control. Checked on the unsaturated steps (`|α|` below its largest
/// value), where a clipped controller is still linear.
pub const CLOSED_LOOP_R2: f64 = 0.99;

/// Smallest `R²` of the entropy steps that a recommendation rests on.
/// Below 1%, α accounts for almost none of what the entropy did, and gains
/// designed on the fit are designed for noise. (The official PI arm's
/// closed-loop log that once yielded `Kp = 741.2` had 0.0082; the
/// must-show simulated probe of `ident` at a gain of half the drift has
/// about 0.03.)
pub const MIN_R2: f64 = 0.01;
