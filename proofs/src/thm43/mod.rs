//! `thm-4-3` (Theorem 4.3, Yang et al. 2025): off-policy, PI control
//! converges and P does not. Off-policy training is made by the two
//! staleness models of docs/mathematics.md §7, each with its own verdict
//! per `measure` mode: asynchronous lag `d ∈ {1, 2, 4, 8}` (one epoch, one
//! minibatch), and the authors' definition, several optimizer steps per
//! rollout batch at lag 0 (`minibatches ∈ {2, 4}` or `ppo_epochs ∈ {2,
//! 4}`). In full mode also on the paper-like family (docs/mathematics.md
//! §8.1) at the paper's target 0.1 nats, measured on `current`, verdicts
//! `current/lag/paper-like` and `current/minibatches/paper-like`. See
//! `proofs/thm-4-3.md`.
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

/// Runs the check: per measure mode, compute every configuration, judge
/// each staleness model, then render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let grid = model::grid(ctx.mode);
    let mut verdicts = Vec::new();
    let mut md = render::intro();
    for measure in model::MEASURES {
        let configs = compute::compute(&grid, measure)?;
        let fig = render::figure(&ctx.out_dir, measure, &configs)?;
        for m in model::MODELS {
            let mut cv = judge::verdict(measure, m, &configs);
            cv.figures.extend(fig.clone());
            verdicts.push(cv);
        }
        md.push_str(&render::section(measure, &configs, fig.as_deref()));
    }
    if let Some(grid) = model::paper_grid(ctx.mode) {
        let measure = model::PAPER_MEASURE;
        let configs = compute::compute(&grid, measure)?;
        let tag = format!("{}-{measure}", cl::Family::PaperLike.name());
        let fig = render::figure(&ctx.out_dir, &tag, &configs)?;
        for m in model::MODELS {
            let mut cv = judge::verdict(measure, m, &configs);
            cv.figures.extend(fig.clone());
            verdicts.push(cv);
        }
        md.push_str(&cl::paper_like_note(
            [cl::Family::PaperLike],
            &format!("target {} nats", crate::family::TARGET),
        ));
        md.push_str(&render::section(&tag, &configs, fig.as_deref()));
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
