//! `thm-4-3` (Theorem 4.3, Yang et al. 2025): off-policy, PI control
//! converges and P does not. Off-policy training is made by the two
//! staleness models of docs/mathematics.md §7 — asynchronous lag `d ∈ {0, 1, 2, 4, 8}`
//! and `ppo_epochs ∈ {1, 2, 4}` (one minibatch) — under both `measure`
//! modes; one verdict per measure mode. See `proofs/thm-4-3.md`.
//!
//! Layout: `model` (constants, grid, arms), `compute` (the runs), `judge`
//! (verdicts), `render` (Markdown and figures); [`check`] runs them in that
//! order.

mod compute;
mod judge;
mod model;
mod render;

#[cfg(test)]
pub(crate) use model::control;
pub use model::{CLAIM, TARGET};

use crate::closedloop as cl;
use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx};

/// Runs the check: per measure mode, compute every configuration, judge,
/// then render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let grid = model::grid(ctx.mode);
    let max_lag = *grid.2.last().unwrap_or(&0);
    let mut verdicts = Vec::new();
    let mut md = render::intro();
    for measure in model::MEASURES {
        let configs = compute::compute(&grid, measure)?;
        let mut cv = judge::verdict(measure, &configs);
        if let Some(f) = render::figure(&ctx.out_dir, measure, &configs, max_lag)? {
            cv.figures.push(f);
        }
        md.push_str(&render::section(measure, &configs));
        verdicts.push(cv);
    }
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "Theorem 4.3: off-policy, PI converges and P does not".into(),
        verdicts,
        markdown: md,
    })
}

/// Reruns a counterexample of this check; true when the failure recurs.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    cl::reproduce(cx)
}
