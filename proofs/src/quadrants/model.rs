//! The families, constants and single-run pieces of `fig-2-quadrants`
//! shared by its compute, judge and render steps.

use crate::error::ProofsError;
use crate::verdict::Mode;
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
pub(super) const KEYS: [&str; 4] = ["p_up", "p_down", "n_up", "n_down"];
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

/// The mode name of the paper-like family.
pub const PAPER_MODE: &str = "paper-like";

/// The families a mode runs: [`families`], and in full mode also the
/// paper-like family of docs/mathematics.md §8.1 (its own rollout
/// temperature 0.6 and Adam 0.02; its own verdicts per line).
pub fn families_for(mode: Mode) -> Vec<Family> {
    let mut out = families();
    if mode == Mode::Full {
        let (bandit, grpo) = crate::family::paper_like();
        out.push(Family {
            mode: PAPER_MODE,
            label: PAPER_MODE.into(),
            bandit,
            grpo,
        });
    }
    out
}

/// Seeds per family of `mode` (the paper-like family: 8, so each of its
/// verdicts counts at most 8 sub-claims × 8 seeds = 64 runs).
pub(super) fn seeds(mode: Mode, fam: &Family) -> u64 {
    match (mode, fam.mode) {
        (_, PAPER_MODE) => 8,
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
