//! Corollary 4.1 (`cor-4-1`) as an executable check (page: `proofs/cor-4-1.md`).
//!
//! Paper (Yang et al. 2025, arXiv 2511.15248): "When the reward values for
//! positive and negative samples follow a binary distribution, and the
//! expected advantage equals zero, training exclusively with
//! positive/negative samples using a policy gradient method will result in a
//! decrease/increase of the policy's entropy."
//!
//! Our formulation (docs/mathematics.md §5): one context with logits `z`, correct set
//! `C`, `p = π(C)`; the positive-only update has advantage `1 − p` on `C`
//! (0 elsewhere), the negative-only update `−p` off `C`; together they are
//! the zero-mean binary advantage. The claim is `ΔH₊ < 0 < ΔH₋`. Checked
//! three ways per update rule of docs/mathematics.md §4:
//! - (a) first order: `entropic_sim::entropy::cor41_closed_form` (`∇H · E[Δz]`);
//! - (b) a finite expected step `z + E[Δz]` with `η = ETA`, true entropy change;
//! - (c) sampled GRPO, G = 8, group-normalised advantages, `train_on =
//!   positive | negative` in the tabular simulator, one SGD step per group,
//!   the mean entropy change over many groups.
//!
//! Instances of (a), (b) are built by the simulator's own instance code
//! (`Policy::new` with one prompt, seeded by the instance seed), so a
//! counterexample also reproduces in a scenario with `instance_seed`.
//!
//! Layout: [`compute`] (the changes, no verdicts), `judge` (verdicts,
//! conditions, counterexamples), `render` (Markdown and figures); [`check`]
//! runs them in that order.

mod compute;
mod judge;
mod model;
mod render;
#[cfg(test)]
mod tests;

pub use compute::grpo_group_dh;
pub use model::{
    families, finite_step_dh, holds, instance, s_terms, sizes, split_advantages, Family, Instance,
    CLAIM, ETA, GROUP, KS, RANKS, SCALES,
};

use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx};
use entropic_sim::entropy::{cor41_closed_form, UpdateRule};
use entropic_sim::grpo::TrainOn;

/// Runs the check (see the module doc and `proofs/cor-4-1.md`): compute
/// every instance, judge each rule and part, then render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    // compute
    let fams = families();
    let per = compute::instances_per_family(ctx.mode);
    let rows = compute::expected_rows(&fams, per);
    let grows = compute::run_grpo(ctx.mode)?;
    let groups = compute::grpo_groups(ctx.mode);
    // judge
    let mut expected = Vec::new();
    for (ri, rule) in UpdateRule::ALL.iter().copied().enumerate() {
        for kind in judge::KINDS {
            let mut e = judge::expected(&rows, ri, rule, kind);
            if kind == "finite_step" {
                e.verdict.figures = vec![render::figure_name(rule)];
            }
            expected.push(e);
        }
    }
    let grpo: Vec<judge::Grpo> = UpdateRule::ALL
        .iter()
        .enumerate()
        .map(|(ri, &rule)| judge::grpo(&grows, ri, rule, groups))
        .collect();
    // render
    render::figures(&ctx.out_dir, &rows)?;
    let markdown = render::markdown(fams.len(), per, &rows, &expected, &grows, &grpo, groups);
    let verdicts = expected
        .into_iter()
        .map(|e| e.verdict)
        .chain(grpo.into_iter().map(|g| g.verdict))
        .collect();
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "Corollary 4.1: positive-only lowers, negative-only raises entropy".into(),
        verdicts,
        markdown,
    })
}

/// Rebuild a counterexample's instance and say whether the claim fails on
/// it again (`ΔH₊ < 0 < ΔH₋` false).
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    let v = &cx.instance;
    let bad = |what: &str| ProofsError::Other(format!("cor-4-1 counterexample: bad {what}"));
    let rule = match v["rule"].as_str() {
        Some("vanilla") => UpdateRule::Vanilla,
        Some("sampled_logit") => UpdateRule::SampledLogit,
        Some("natural") => UpdateRule::Natural,
        _ => return Err(bad("rule")),
    };
    let eta = v["eta"].as_f64().ok_or_else(|| bad("eta"))?;
    match v["kind"].as_str() {
        Some(kind @ ("first_order" | "finite_step")) => {
            let fam: Family =
                serde_json::from_value(v["family"].clone()).map_err(|_| bad("family"))?;
            if fam.k < 2 || fam.correct_size == 0 || fam.correct_size >= fam.k {
                return Err(bad("family"));
            }
            let inst = instance(&fam, cx.seed);
            let (dp, dn) = if kind == "first_order" {
                cor41_closed_form(rule, &inst.p, &inst.correct, eta)
            } else {
                let (pos, neg) = split_advantages(&inst.p, &inst.correct);
                (
                    finite_step_dh(rule, &inst.z, &pos, eta),
                    finite_step_dh(rule, &inst.z, &neg, eta),
                )
            };
            Ok(!holds(dp, dn))
        }
        Some("grpo") => {
            let z: Vec<f64> =
                serde_json::from_value(v["logits"].clone()).map_err(|_| bad("logits"))?;
            let correct: Vec<usize> =
                serde_json::from_value(v["correct"].clone()).map_err(|_| bad("correct"))?;
            let groups = v["groups"].as_u64().ok_or_else(|| bad("groups"))? as usize;
            if z.len() < 2 || correct.iter().any(|&a| a >= z.len()) || groups == 0 {
                return Err(bad("instance"));
            }
            let mean = |x: Vec<f64>| x.iter().sum::<f64>() / x.len() as f64;
            let dp = mean(grpo_group_dh(
                rule,
                &z,
                &correct,
                groups,
                TrainOn::Positive,
                cx.seed,
            )?);
            let dn = mean(grpo_group_dh(
                rule,
                &z,
                &correct,
                groups,
                TrainOn::Negative,
                cx.seed,
            )?);
            Ok(!holds(dp, dn))
        }
        _ => Err(bad("kind")),
    }
}
