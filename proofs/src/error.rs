//! The error type of the claims crate.

/// Any error of this crate; modules keep their own typed errors and convert
/// into this one with `?`.
#[derive(Debug, thiserror::Error)]
pub enum ProofsError {
    #[error(transparent)]
    Linear(#[from] crate::linear::LinearError),
    #[error(transparent)]
    Ident(#[from] IdentError),
    /// A simulator error, kept typed (a bad scenario is still an input
    /// error; a non-finite run a check cannot treat as an observation, I/O).
    #[error(transparent)]
    Sim(#[from] entropic_sim::SimError),
    /// Anything else: writing the report, a panicking check, a counterexample
    /// that does not parse.
    #[error("{0}")]
    Other(String),
}

/// Why a log cannot be identified.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IdentError {
    #[error("entropy and alpha logs differ in length ({entropy} and {alpha} steps)")]
    LengthMismatch { entropy: usize, alpha: usize },
    #[error(
        "too few usable steps: {rows} regression rows with delay {d} \
         ({skipped} rows skipped for NaN); at least {minimum} are needed"
    )]
    TooFewSteps {
        rows: usize,
        minimum: usize,
        skipped: usize,
        d: usize,
    },
    #[error("entropy is constant over the log: there is nothing to fit")]
    ConstantEntropy,
    #[error(
        "α is constant over the log: g is not identifiable; run a probe (docs/mathematics.md §6)"
    )]
    ConstantAlpha,
    #[error(
        "α is a function of the error alone (P control): g is not identifiable; \
         run a probe (docs/mathematics.md §6) (|corr(α_t, H_t)| = {corr:.5} on {on})"
    )]
    PControl { corr: f64, on: &'static str },
    #[error(
        "α is not finite at some step: a probe's α is its schedule and must be known at every step"
    )]
    NonFiniteAlpha,
    #[error("the paired estimator needs at least one probe/plain twin")]
    NoTwins,
    #[error("the α schedule is not a draw of the stated PRBS design: {why}")]
    NotADraw { why: String },
    #[error("the lag decay must be in [0, 1) (got {lag})")]
    BadLag { lag: f64 },
}
