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
//! A run in which the trained set never held a token (ΔH exactly 0, or no
//! difference from base) is counted as "empty", not as a success or failure.
//!
//! Layout: `compute` (the runs), `judge` (decisions, verdicts,
//! counterexamples), `render` (Markdown and figures); [`check`] runs them
//! in that order.

mod compute;
mod judge;
mod render;
#[cfg(test)]
mod tests;

use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx, Mode};
use compute::last;
use entropic_sim::bandit::{BanditConfig, CorrectRank, PolicyKind};
use entropic_sim::control::ControlConfig;
use entropic_sim::grpo::{GrpoConfig, Trainer};

/// Claim id in `verification.json`.
pub const CLAIM: &str = "fig-2-quadrants";
/// Training steps per run before the entropy change is read.
pub const STEPS: usize = 10;
/// The paper's fixed line τ.
pub const TAU: f64 = 0.95;
/// Mask keys of the simulator, in [`Quadrant::ALL`] order.
const KEYS: [&str; 4] = ["p_up", "p_down", "n_up", "n_down"];
/// The paper's sign of each quadrant's effect on entropy (P↑ −, P↓ +, N↑ +, N↓ −).
pub const SIGNS: [f64; 4] = [-1.0, 1.0, 1.0, -1.0];

/// A line and its `grpo.mask_tau` value (negative = `exp(−H)`).
pub const LINES: [(&str, f64); 2] = [("tau_0.95", TAU), ("exp_neg_h", -1.0)];

/// One instance family: a name, the bandit and the GRPO settings.
#[derive(Debug, Clone)]
pub struct Family {
    pub mode: &'static str,
    pub label: String,
    pub bandit: BanditConfig,
    pub grpo: GrpoConfig,
}

/// The families: sequence mode as docs/design.md §4's known configuration (128
/// prompts, K 16, L 8, 2 forks, margin 8, pass rate [0.1, 0.6], Adam lr
/// 0.02, B 32, G 8); tabular (64 prompts, K 16, C random, pass rate
/// [0.02, 0.98], defaults lr 0.05, B 32, G 8) at logit scales 1, 4, 16 so
/// both regimes appear (at scale 1 no token exceeds τ; our choice of the
/// wide pass-rate range lets some correct tokens exceed τ).
pub fn families() -> Vec<Family> {
    let mut out = vec![Family {
        mode: "sequence",
        label: "sequence".into(),
        bandit: BanditConfig {
            policy: PolicyKind::Sequence,
            prompts: 128,
            actions: 16,
            length: 8,
            forks: 2,
            det_margin: 8.0,
            pass_rate: vec![0.1, 0.6],
            ..Default::default()
        },
        grpo: GrpoConfig {
            lr: 0.02,
            batch_prompts: 32,
            group_size: 8,
            ..Default::default()
        },
    }];
    for scale in [1.0, 4.0, 16.0] {
        out.push(Family {
            mode: "tabular",
            label: format!("tabular scale {scale}"),
            bandit: BanditConfig {
                policy: PolicyKind::Tabular,
                prompts: 64,
                actions: 16,
                logit_scale: scale,
                correct_rank: CorrectRank::Random,
                pass_rate: vec![0.02, 0.98],
                ..Default::default()
            },
            grpo: GrpoConfig {
                batch_prompts: 32,
                group_size: 8,
                ..Default::default()
            },
        });
    }
    out
}

/// Seeds per family of `mode`.
fn seeds(mode: Mode, fam: &Family) -> u64 {
    match (mode, fam.mode) {
        (Mode::Quick, "sequence") => 3,
        (Mode::Quick, _) => 6,
        (Mode::Full, "sequence") => 60,
        (Mode::Full, _) => 100,
    }
}

/// The GRPO settings of an arm: `mask` quadrants masked on `line`.
pub fn arm_grpo(base: &GrpoConfig, mask: &[usize], mask_tau: f64) -> GrpoConfig {
    GrpoConfig {
        mask: mask.iter().map(|&i| KEYS[i].to_string()).collect(),
        mask_tau,
        ..base.clone()
    }
}

/// Entropy changes `H_t − H_0`, t = 1..=steps, of one run.
pub fn run_dh(
    bandit: &BanditConfig,
    grpo: &GrpoConfig,
    seed: u64,
    steps: usize,
) -> Result<Vec<f64>, ProofsError> {
    let mut tr = Trainer::new(bandit, grpo, &ControlConfig::default(), seed, CLAIM);
    let (h0, _) = tr.policy.exact_entropy_and_pass(grpo.temperature);
    let mut out = Vec::with_capacity(steps);
    for _ in 0..steps {
        let r = tr.step(true)?;
        out.push(r.entropy_exact.unwrap_or(f64::NAN) - h0);
    }
    Ok(out)
}

/// Runs the check (see the module doc and `proofs/fig-2-quadrants.md`):
/// compute every run, judge each (mode, line), then render.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let fams = families();
    let runs = compute::compute(ctx.mode, &fams)?;
    let mut md = render::intro(&fams, &runs);
    let mut verdicts = Vec::new();
    for mode in ["sequence", "tabular"] {
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
    let bad = |w: &str| ProofsError::Sim(format!("fig-2-quadrants counterexample: bad {w}"));
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
