//! `cor-4-4` (Corollary 4.4, Yang et al. 2025): weighting only
//! high-probability tokens keeps convergence. PI with `scope = high_prob`
//! at τ ∈ {0.5, 0.8, 0.95, 0.99} against `scope = all` on the same
//! instances; a seed agrees with the claim at τ when high_prob reaches the
//! target whenever `all` does. In full mode also on the paper-like family
//! (docs/mathematics.md §8.1) at the paper's target 0.1 nats, verdict
//! variant `paper-like`. See `proofs/cor-4-4.md`.
//!
//! Layout: `model` (constants, grid, arm), `compute` (the runs), `judge`
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

/// Runs the check: compute every family's cells, judge each family, then
/// render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let (fams, steps, taus) = model::grid(ctx.mode);
    let runs = compute::compute(&fams, steps, taus)?;
    let mut verdicts = Vec::new();
    let mut md = render::intro();
    md.push_str(&cl::paper_like_note(
        fams.iter().map(|f| f.0),
        &format!("target {} nats", crate::family::TARGET),
    ));
    for fr in &runs {
        let mut cv = judge::verdict(fr);
        let name = render::figure(&ctx.out_dir, fr)?;
        md.push_str(&format!("![]({name})\n\n"));
        cv.figures.push(name);
        verdicts.push(cv);
    }
    md.push_str(&render::table(&runs));
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "Corollary 4.4: weighting only high-probability tokens keeps convergence".into(),
        verdicts,
        markdown: md,
    })
}

/// Reruns a counterexample of this check; true when the failure recurs.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    cl::reproduce(cx)
}
