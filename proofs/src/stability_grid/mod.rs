//! Claim `linear-model` (ours): does the linearised
//! loop of docs/mathematics.md §6 predict which gains the simulated EntroPIC loop holds?
//!
//! 1. The plant `(b, g)` is identified ([`crate::ident::identify`]) from a
//!    probe run (docs/mathematics.md §7: α steps of known size, clip removed) on one
//!    tabular bandit with exact sampling (no sampling noise).
//! 2. For each delay `d` and controller (P; PI with the integral before or
//!    after this step's error), gains are chosen so the *predicted* spectral
//!    radius ([`crate::linear::spectral_radius`]) is spread evenly over
//!    0.8..1.2 along rays `g·Ki = r·g·Kp` (r = 0 is P).
//! 3. Each point is simulated with α unclipped (`alpha_max = inf`), delay
//!    realised as `grpo.lag = d` with `control.measure = "rollout"` (the
//!    measurement is then `d` steps old, docs/mathematics.md §7), and classified
//!    ([`classify`]); points with `|ρ − 1| < 0.02` are reported apart.
//! 4. Predicted-unstable points are re-run with the official clip
//!    (`alpha_max = 1`) to tell limit cycles from convergence and drift.
//!
//! The instance (a principle, not tuned for agreement): the plant must
//! respond smoothly and with a definite sign to α. So every token is under
//! the controller's term (`scope = "all"`, plain `1 ± α` weights: no
//! threshold crossings that make the gain jump), the update rule is
//! sampled-logit with the correct action at the mode (docs/mathematics.md §5: there
//! positive-only training lowers and negative-only raises entropy, so α has
//! a definite effect; under vanilla both act in the same direction and the
//! gain is near zero), SGD (the update is linear in the token weights; Adam
//! normalises it away) and `batch_prompts = prompts` (no prompt sampling).
//!
//! Layout: the plant and one point's simulation here, `grid` (compute),
//! `judge` (verdicts), `render` (Markdown and figures); [`check`] runs them
//! in that order.

mod grid;
mod judge;
mod model;
mod render;
#[cfg(test)]
mod tests;

pub use grid::{error_scale, run_grid, GridResult};
use model::FORMS;
pub use model::*;

use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx};

/// Claim check `linear-model`: identify the plant, simulate the grid,
/// judge each controller, then render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let plant = identify_plant()?;
    let grid = run_grid(ctx.mode, &plant)?;
    let sz = grid::sizes(ctx.mode);
    let mut verdicts = Vec::new();
    let mut disagreements = Vec::new();
    for form in FORMS {
        let pts: Vec<&GridResult> = grid.iter().filter(|r| r.point.form == form).collect();
        let full = ctx.mode == crate::verdict::Mode::Full;
        let (mut v, bad) = judge::form(form, &pts, sz.delays, &plant, full)?;
        for &d in sz.delays {
            let name = format!("linear-model-{}-d{d}.svg", form.slug());
            let here: Vec<&GridResult> = pts.iter().copied().filter(|r| r.point.d == d).collect();
            render::figure(ctx, &name, form, d, plant.fit.g, &here)?;
            v.figures.push(name);
        }
        disagreements.extend(bad);
        verdicts.push(v);
    }
    let markdown = render::markdown(&plant, &grid, &verdicts, &disagreements);
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "the linearised loop predicts stability".into(),
        verdicts,
        markdown,
    })
}

/// Re-runs a `linear-model` counterexample; `Ok(true)` when the simulated
/// stability still disagrees with the prediction stored with it.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    let p: Point = serde_json::from_value(cx.instance.clone())
        .map_err(|e| ProofsError::Other(format!("linear-model counterexample: {e}")))?;
    let plant = identify_plant()?;
    let sim = simulate_point(&p, plant.ln_k, error_scale(&p, &plant.fit))?;
    Ok((p.rho >= 1.0) != sim.unstable)
}
