//! `entropic-proofs`: the analysis side of `entropic`. The paper's claims
//! as executable checks (each with its page `proofs/<id>.md`, indexed in
//! `docs/claims.md`), the linearised closed loop of the EntroPIC controller
//! (docs/mathematics.md §6) and plant identification from a run's log.
//!
//! Claim checks, one module per claim id of `verification.json`:
//! - [`cor41`]: `cor-4-1`, positive-only / negative-only updates
//!   (docs/mathematics.md §5), in closed form, finite step and GRPO groups;
//! - [`quadrants`]: `fig-2-quadrants`, the entropy effect of each token
//!   quadrant of Figure 2, by masking it out of training;
//! - [`thm42`]: `thm-4-2`, on-policy P and PI control reach the target;
//! - [`thm43`]: `thm-4-3`, off-policy PI converges and P does not;
//! - [`cor44`]: `cor-4-4`, the extra term on high-probability tokens only;
//! - [`temperature`]: `temperature`, robustness to the sampling temperature;
//! - [`controllability`]: `controllability` (ours), the targets each
//!   weighting variant holds with α clipped to [−1, 1];
//! - [`stability_grid`]: `linear-model` (ours), whether the linear loop
//!   predicts which gains the simulated loop holds.
//!
//! Shared by the checks and the CLI:
//! - [`family`]: the paper-like instance family (docs/mathematics.md §8.1),
//!   used by the regime map and the checks' paper-like variants;
//! - [`closedloop`]: the instance families and run cells of the closed-loop
//!   checks (`thm-4-2`, `thm-4-3`, `cor-4-4`, `temperature`);
//! - [`verdict`]: the verdict objects and the shape of a check;
//! - [`verify`]: the registry of checks and reproducers, and the writer of
//!   `verification.{md,json}` and the source stamp (`entropic verify`);
//! - [`linear`]: the loop `e_{t+1} = e_t + b − g·α_{t−d}` under P or PI
//!   control (either integral form): characteristic polynomial, spectral
//!   radius and [`linear::StabilityReport`] ([`linear::analyse`], what
//!   `entropic stability` prints), the simulated recursion, predicted
//!   settling/overshoot, stable regions and gain margins;
//! - [`ident`]: least-squares identification of drift, gain and delay from
//!   a log of `(H_t, α_t)`, refusing logs where the gain is not identifiable
//!   (constant α, or P control); and identification with power
//!   (docs/mathematics.md §9): the paired (probe minus plain twin) and
//!   unpaired (Newey–West in differences) estimators with the smallest
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
pub mod error;
pub mod family;
pub mod ident;
pub mod ident_power;
pub mod linear;
pub mod quadrants;
pub mod stability_grid;
pub mod temperature;
pub mod thm42;
pub mod thm43;
pub mod tune;
pub mod verdict;
pub mod verify;

pub use error::ProofsError;
