//! `thm-4-2` (Theorem 4.2, Yang et al. 2025): on-policy, P and PI control
//! drive entropy to the target. Checked on both instance families of
//! [`crate::closedloop`] over seeds × targets × learning rates with the
//! official law (τ = 0.95, official weighting, |α| ≤ 1, Kp = 1; PI with the
//! authors' Ki = 0.01, P with Ki = 0). P's steady-state error is compared
//! with `b/(g·Kp)` (docs/mathematics.md §6), `b` and `g` identified by
//! [`crate::ident::identify`] from an independent probe run on the same
//! instances, never from the P run itself. See `proofs/thm-4-2.md`.
//!
//! Layout: `model` (constants, grid, arms), `compute` (the runs), `judge`
//! (predictions and verdicts), `render` (Markdown and figures); [`check`]
//! runs them in that order.

mod compute;
mod judge;
mod model;
mod render;

pub use model::{control, local_fit, probe_control, CLAIM};

use crate::closedloop as cl;
use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx};

/// Runs the check: compute every cell, judge each family's P and PI arms,
/// then render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let runs = compute::compute(&model::grid(ctx.mode))?;
    let mut verdicts = Vec::new();
    for fr in &runs {
        for (arm, mut v) in judge::verdicts(fr) {
            // Figure: the default lr, middle target, P vs PI (written once,
            // linked from both verdicts).
            if arm == "PI" {
                v.figures.push(render::figure(&ctx.out_dir, fr)?);
            } else {
                v.figures.push(render::figure_name(fr));
            }
            verdicts.push(v);
        }
    }
    let mut md = render::intro();
    md.push_str(&cl::paper_like_note(
        runs.iter().map(|f| f.fam),
        "targets 0.1 and 0.05 nats",
    ));
    md.push_str(&render::table(&runs));
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "Theorem 4.2: on-policy, P and PI control drive entropy to the target".into(),
        verdicts,
        markdown: md,
    })
}

/// Reruns a counterexample of this check; true when the failure recurs.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    cl::reproduce(cx)
}
