//! Figure 2's token quadrants (`fig-2-quadrants`) as an executable check
//! (page: `proofs/fig-2-quadrants.md`).
//!
//! Paper (Yang et al. 2025, arXiv 2511.15248, Figure 2): P↑ (high-probability
//! positive tokens) lowers entropy, P↓ raises it, N↑ (high-probability
//! negative) raises it, N↓ lowers it; masking a quadrant removes its effect.
//!
//! Tested in the sampled GRPO simulator, tabular and sequence mode, with
//! Adam as the simulator's scenarios run it. For each quadrant q, paired on
//! the same seeds (same instance, same first rollout):
//! - `only_q`: train on q only (the other three masked): the entropy change
//!   `ΔH = H_S − H_0` after [`STEPS`] steps must have q's sign;
//! - `mask_q`: mask q alone: `ΔH(mask_q) − ΔH(base)` must have the opposite
//!   sign (removing a lowering effect raises entropy relative to plain GRPO).
//!
//! Masked tokens get zero advantage and stay in the token-mean denominator
//! (the simulator's `grpo.mask`). The line between high and low probability
//! is the paper's fixed τ = 0.95 or `exp(−H)` (the exact line of the
//! sampled-logit rule, docs/mathematics.md §4): one verdict per (mode × line).
//! In full mode the paper-like family of docs/mathematics.md §8.1 is a third
//! mode with its own verdicts (`paper-like/<line>`, 8 seeds).
//! A run in which the trained set never held a token (ΔH exactly 0, or no
//! difference from base) is counted as "empty", not as a success or failure.
//!
//! Layout: `compute` (the runs), `judge` (decisions, verdicts,
//! counterexamples), `render` (Markdown and figures); [`check`] runs them
//! in that order.

mod compute;
mod judge;
mod model;
mod render;
#[cfg(test)]
mod tests;

use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx};
use compute::last;
use entropic_sim::bandit::BanditConfig;
use entropic_sim::grpo::GrpoConfig;
pub use model::{
    arm_grpo, families, families_for, run_dh, Family, CLAIM, LINES, PAPER_MODE, SIGNS, STEPS, TAU,
};

/// Runs the check (see the module doc and `proofs/fig-2-quadrants.md`):
/// compute every run, judge each (mode, line), then render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let fams = families_for(ctx.mode);
    let runs = compute::compute(ctx.mode, &fams)?;
    let mut md = render::intro(&fams, &runs);
    let mut verdicts = Vec::new();
    let paper = fams.iter().any(|f| f.mode == PAPER_MODE);
    let modes = ["sequence", "tabular", PAPER_MODE];
    for mode in &modes[..if paper { 3 } else { 2 }] {
        let mode = *mode;
        for (li, &(lname, tau)) in LINES.iter().enumerate() {
            let judged = judge::line(&fams, &runs, mode, li, lname, tau);
            let fig = render::figure(&ctx.out_dir, &fams, &runs, mode, li, lname)?;
            md.push_str(&render::line_section(mode, lname, &judged.subs, &fig));
            let mut v = judged.verdict;
            v.figures = vec![fig];
            verdicts.push(v);
        }
    }
    md.push_str(&render::per_family(&fams, &runs));
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "Figure 2: entropy effect of each token quadrant".into(),
        verdicts,
        markdown: md,
    })
}

/// Rebuild a counterexample's runs from its seed and instance and say whether
/// the value again has the sign opposite to the paper's.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    let v = &cx.instance;
    let bad = |w: &str| ProofsError::Other(format!("fig-2-quadrants counterexample: bad {w}"));
    let bandit: BanditConfig =
        serde_json::from_value(v["bandit"].clone()).map_err(|_| bad("bandit"))?;
    let grpo: GrpoConfig = serde_json::from_value(v["grpo"].clone()).map_err(|_| bad("grpo"))?;
    let steps = v["steps"].as_u64().ok_or_else(|| bad("steps"))? as usize;
    let sign = v["expected_sign"]
        .as_f64()
        .ok_or_else(|| bad("expected_sign"))?;
    if steps == 0 || steps > 100_000 {
        return Err(bad("steps"));
    }
    let mut val = last(&run_dh(&bandit, &grpo, cx.seed, steps)?);
    if !v["base_grpo"].is_null() {
        let g0: GrpoConfig =
            serde_json::from_value(v["base_grpo"].clone()).map_err(|_| bad("base_grpo"))?;
        val -= last(&run_dh(&bandit, &g0, cx.seed, steps)?);
    }
    Ok(val != 0.0 && val * sign < 0.0)
}
