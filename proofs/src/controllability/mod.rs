//! Claim `controllability` (ours, docs/mathematics.md §5):
//! with α clipped to [−1, 1], each weighting variant of EntroPIC can hold
//! only a limited range of targets.
//!
//! For each variant (official `1 ± α·N/|HP|`, plain `1 ± α`, scope all,
//! threshold `exp(−H)`), with and without anti-windup, and each instance
//! family (tabular high-entropy, tabular low-entropy, sequence), targets are
//! swept as fractions of the family's initial entropy; a target is *held*
//! when `final_abs_err` (docs/design.md §8: mean |H − H_tar| over the last quarter,
//! on the controller's `entropy`) is at most [`HOLD_TOL`]. Reported per
//! variant: the held targets per family, the share of steps α spends at the
//! clip, and the integral's excursion max |I|.
//!
//! Criterion (documented in the section): the claim "each variant holds
//! only a limited range" is *refuted* for a variant that holds every swept
//! target in every family; otherwise the verdict is *conditional* and its
//! condition is the measured ranges (the claim's content is the range).
//!
//! In full mode the official variant (with and without anti-windup) is
//! also swept on the paper-like family (docs/mathematics.md §8.1, 300
//! steps), where a target is held within `0.1·H_tar` (its entropy is ≈
//! 0.13 nats), with its own verdicts `official/paper-like` and
//! `official+anti-windup/paper-like`.
//!
//! Layout: `model` (families, variants, one run), `compute` (the sweep),
//! `judge` (verdicts), `render` (Markdown and figures); [`check`] runs them
//! in that order.

mod compute;
mod judge;
mod model;
mod render;
#[cfg(test)]
mod tests;

pub use model::{hold_tol, run_cell, Cell, CellResult, CLAIM, HOLD_TOL, MAX_TARGET_SHARE};

use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx};

/// Claim check `controllability`: compute the sweep, judge each variant,
/// then render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let sw = compute::compute(ctx.mode)?;
    let mut md = render::intro(ctx.mode, &sw);
    let mut verdicts = Vec::new();
    for &var in model::VARIANTS {
        for aw in [false, true] {
            verdicts.push(judge::verdict(&sw, var, aw)?);
        }
    }
    for aw in [false, true] {
        verdicts.extend(judge::verdict_paper(&sw, "official", aw)?);
    }
    md.push_str(&render::table_and_figures(&ctx.out_dir, &sw)?);
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "the range of targets each weighting variant holds".into(),
        verdicts,
        markdown: md,
    })
}

/// Re-runs a `controllability` counterexample; `Ok(true)` when the target
/// is again not held.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    let c: Cell = serde_json::from_value(cx.instance.clone())
        .map_err(|e| ProofsError::Other(format!("controllability counterexample: {e}")))?;
    Ok(!run_cell(&c)?.held)
}
