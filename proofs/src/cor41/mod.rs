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
//! - (a) first order: [`cor41_closed_form`] (`∇H · E[Δz]`);
//! - (b) a finite expected step `z + E[Δz]` with `η = ETA`, true entropy change;
//! - (c) sampled GRPO, G = 8, group-normalised advantages, `train_on =
//!   positive | negative` in the tabular simulator, one SGD step per group,
//!   the mean entropy change over many groups.
//!
//! Instances of (a), (b) are built by the simulator's own instance code
//! ([`Policy::new`] with one prompt, seeded by the instance seed), so a
//! counterexample also reproduces in a scenario with `instance_seed`.
//!
//! Layout: [`compute`] (the changes, no verdicts), `judge` (verdicts,
//! conditions, counterexamples), `render` (Markdown and figures); [`check`]
//! runs them in that order.

mod compute;
mod judge;
mod render;
#[cfg(test)]
mod tests;

pub use compute::grpo_group_dh;

use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx};
use entropic_sim::bandit::{BanditConfig, CorrectRank, Policy, PolicyKind};
use entropic_sim::entropy::{
    cor41_closed_form, cov_pi_logpi, entropy, expected_delta_z, softmax, UpdateRule,
};
use entropic_sim::grpo::TrainOn;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Claim id in `verification.json`.
pub const CLAIM: &str = "cor-4-1";
/// Step size of the finite expected step (b) and of the GRPO step (c):
/// small enough that the first order dominates on most instances, large
/// enough to be a real step.
pub const ETA: f64 = 0.1;
/// Action counts, log-spaced 2..1024.
pub const KS: [usize; 10] = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// Standard deviations of the initial logits.
pub const SCALES: [f64; 4] = [0.5, 1.0, 2.0, 4.0];
/// Where the correct set sits in the ranking of the logits.
pub const RANKS: [CorrectRank; 4] = [
    CorrectRank::Mode,
    CorrectRank::Middle,
    CorrectRank::Rare,
    CorrectRank::Random,
];
/// Samples per group in part (c), as the authors' run script.
pub const GROUP: usize = 8;

/// One instance family of parts (a), (b): K, logit scale, rank of C, |C|.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Family {
    pub k: usize,
    pub scale: f64,
    pub rank: CorrectRank,
    pub correct_size: usize,
}

/// An instance: logits `z`, `π = softmax(z)`, membership of C.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub z: Vec<f64>,
    pub p: Vec<f64>,
    pub correct: Vec<bool>,
}

fn rank_name(r: CorrectRank) -> &'static str {
    match r {
        CorrectRank::Mode => "mode",
        CorrectRank::Middle => "middle",
        CorrectRank::Rare => "rare",
        CorrectRank::Random => "random",
    }
}

/// Correct-set sizes of a K: 1, and `max(2, K/4)` for K ≥ 4 ("larger";
/// our choice: a quarter of the actions, the order of an LLM's set of
/// acceptable tokens at a fork is unknown).
pub fn sizes(k: usize) -> Vec<usize> {
    if k >= 4 {
        vec![1, (k / 4).max(2)]
    } else {
        vec![1]
    }
}

/// Every family of (a), (b), in report order (K, |C|, scale, rank).
pub fn families() -> Vec<Family> {
    let mut out = Vec::new();
    for &k in &KS {
        for correct_size in sizes(k) {
            for &scale in &SCALES {
                for &rank in &RANKS {
                    out.push(Family {
                        k,
                        scale,
                        rank,
                        correct_size,
                    });
                }
            }
        }
    }
    out
}

/// The instance of `f` for `seed`: the simulator's tabular instance with
/// one prompt (logits `~ N(0, scale²)`, C by rank), instance RNG = ChaCha8(seed).
pub fn instance(f: &Family, seed: u64) -> Instance {
    let cfg = BanditConfig {
        policy: PolicyKind::Tabular,
        prompts: 1,
        actions: f.k,
        logit_scale: f.scale,
        correct_size: f.correct_size.clamp(1, f.k - 1),
        correct_rank: f.rank,
        ..Default::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pol = Policy::new(&cfg, &mut rng);
    Instance {
        p: softmax(&pol.params, 1.0),
        z: pol.params,
        correct: pol.accept,
    }
}

/// Advantages of the positive-only (`1 − p` on C) and negative-only (`−p`
/// off C) updates (docs/mathematics.md §5).
pub fn split_advantages(p: &[f64], correct: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let pc: f64 = p
        .iter()
        .zip(correct)
        .filter(|(_, &c)| c)
        .map(|(x, _)| x)
        .sum();
    let pos = correct
        .iter()
        .map(|&c| if c { 1.0 - pc } else { 0.0 })
        .collect();
    let neg = correct.iter().map(|&c| if c { 0.0 } else { -pc }).collect();
    (pos, neg)
}

/// True entropy change of the finite expected step `z + E[Δz]` (docs/mathematics.md §4's
/// `E[Δz]`) with advantage function `adv`.
pub fn finite_step_dh(rule: UpdateRule, z: &[f64], adv: &[f64], eta: f64) -> f64 {
    let p = softmax(z, 1.0);
    let dz = expected_delta_z(rule, &p, adv, eta);
    let z1: Vec<f64> = z.iter().zip(&dz).map(|(a, b)| a + b).collect();
    entropy(&softmax(&z1, 1.0)) - entropy(&p)
}

/// `(S_C, S_¬C)` of docs/mathematics.md §5: `S_C = Σ_{j∈C} π_j²(log π_j + H)`, `S_¬C = c − S_C`.
pub fn s_terms(p: &[f64], correct: &[bool]) -> (f64, f64) {
    let h = entropy(p);
    let s_c: f64 = p
        .iter()
        .zip(correct)
        .filter(|(&x, &c)| c && x > 0.0)
        .map(|(&x, _)| x * x * (x.ln() + h))
        .sum();
    (s_c, cov_pi_logpi(p) - s_c)
}

/// The claim's statement on one pair of changes: `ΔH₊ < 0 < ΔH₋`.
pub fn holds(dp: f64, dn: f64) -> bool {
    dp < 0.0 && dn > 0.0
}

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
    let bad = |what: &str| ProofsError::Sim(format!("cor-4-1 counterexample: bad {what}"));
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
