//! `temperature`: the paper's claim that EntroPIC is robust to the
//! sampling temperature. PI (official law and gains) at T ∈ {0.6, 0.8,
//! 1.0, 1.2} on both families, same target at every T (entropy measured at
//! the sampling temperature, docs/mathematics.md §1); a run agrees when it reaches the
//! target. In full mode also on the paper-like family
//! (docs/mathematics.md §8.1) at the paper's target 0.1 nats, verdict
//! variant `paper-like`. See `proofs/temperature.md`.
//!
//! Layout: `model` (constants, grid), `compute` (the runs), `judge`
//! (verdicts), `render` (Markdown and figures); [`check`] runs them in that
//! order.

mod compute;
mod judge;
mod model;
mod render;

pub use model::{CLAIM, TARGET};

use crate::closedloop as cl;
use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx};

/// Runs the check: compute every family's cells, judge each family, then
/// render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let (fams, steps, temps) = model::grid(ctx.mode);
    let runs = compute::compute(&fams, steps, temps)?;
    let mut verdicts = Vec::new();
    let mut md = render::intro();
    md.push_str(&cl::paper_like_note(
        fams.iter().map(|f| f.0),
        &format!(
            "target {} nats at every temperature (its own rollout temperature is 0.6)",
            crate::family::TARGET
        ),
    ));
    for fr in &runs {
        let mut v = judge::verdict(fr);
        let name = render::figure(&ctx.out_dir, fr)?;
        md.push_str(&format!("![]({name})\n\n"));
        v.figures.push(name);
        verdicts.push(v);
    }
    md.push_str(&render::table(&runs));
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "Robustness to the sampling temperature".into(),
        verdicts,
        markdown: md,
    })
}

/// Reruns a counterexample of this check; true when the failure recurs.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    cl::reproduce(cx)
}
