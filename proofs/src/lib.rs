//! `entropic-proofs` provides the analysis side of `entropic`: the
//! linearised closed loop of the EntroPIC controller and plant
//! identification from a run's log (MATH.md §6); the paper's claims as
//! executable checks are added here as further modules.
//!
//! - [`linear`]: the loop `e_{t+1} = e_t + b − g·α_{t−d}` under P or PI
//!   control (either integral form): characteristic polynomial, spectral
//!   radius and [`linear::StabilityReport`] ([`linear::analyse`], what
//!   `entropic stability` prints), the simulated recursion, predicted
//!   settling/overshoot, stable regions and gain margins.
//! - [`ident`]: least-squares identification of drift, gain and delay from
//!   a log of `(H_t, α_t)`, refusing logs where the gain is not identifiable
//!   (constant α, or P control); and identification with power
//!   (docs/mathematics.md §9): the paired (probe minus plain twin) and
//!   unpaired (prewhitened Newey–West) estimators with the smallest
//!   detectable gain, a PRBS schedule, gains in windows along a run and the
//!   state-dependent loop they define.
//!
//! The authors' gains on a plant with `g = 0.1` and a 4-step delay are
//! stable; tripling Kp and multiplying Ki by six is not:
//!
//! ```
//! use entropic_proofs::linear::{analyse, IntegralForm, LoopParams};
//! let p = LoopParams { gain: 0.1, delay: 4, kp: 1.0, ki: 0.05, drift: 0.0,
//!                      form: IntegralForm::Before };
//! let r = analyse(&p)?;
//! assert!(r.stable && (r.spectral_radius - 0.936).abs() < 1e-3);
//! let r = analyse(&LoopParams { kp: 3.0, ki: 0.3, ..p })?;
//! assert!(!r.stable && (r.spectral_radius - 1.0175).abs() < 1e-3);
//! # Ok::<(), entropic_proofs::ProofsError>(())
//! ```

pub mod closedloop;
pub mod controllability;
pub mod cor41;
pub mod cor44;
pub mod ident;
pub mod linear;
pub mod quadrants;
pub mod stability_grid;
pub mod temperature;
pub mod thm42;
pub mod thm43;
pub mod tune;
pub mod verdict;
pub mod verify;

/// Any error of this crate; modules keep their own typed errors and convert
/// into this one with `?`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProofsError {
    #[error(transparent)]
    Linear(#[from] linear::LinearError),
    #[error(transparent)]
    Ident(#[from] ident::IdentError),
    /// A simulator error (bad scenario, non-finite run that a check cannot
    /// treat as an observation, I/O).
    #[error("{0}")]
    Sim(String),
}

impl From<entropic_sim::SimError> for ProofsError {
    fn from(e: entropic_sim::SimError) -> Self {
        ProofsError::Sim(e.to_string())
    }
}
