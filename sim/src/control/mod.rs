//! Entropy control: the EntroPIC PI controller (docs/mathematics.md §3, §7), the probe
//! controller used for plant identification, and the peer methods of
//! docs/peers.md, all behind one interface that knows nothing of the bandit.
//!
//! A training loop (toy or LLM) does, per controller step:
//! 1. measure the entropy (`Measurement`) and call [`Controller::update`],
//!    which returns a [`Directive`] (α, the peer coefficient, ...);
//! 2. per optimizer step, call [`loss::token_loss`] with the directive and
//!    the token-level inputs; it returns the loss value and its gradient with
//!    respect to each token's log-probability and full-distribution entropy,
//!    which the caller back-propagates (analytically in the toy, through a
//!    detached-coefficient surrogate in candle in the LLM).

mod controller;
pub mod exact_f64;
pub mod loss;
mod validate;

use serde::{Deserialize, Serialize};

/// Which entropy method runs. `none` is plain GRPO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    #[default]
    None,
    /// EntroPIC (P when `ki = 0`, PI otherwise).
    Entropic,
    /// Fixed α schedule (docs/mathematics.md §7), for identification.
    Probe,
    EntropyBonus,
    AdaptiveEntropy,
    ClipCov,
    KlCov,
    ClipHigher,
}

/// Line between high- and low-probability tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// `π(y_t) > tau` (the authors').
    #[default]
    Tau,
    /// `π(y_t) > exp(−H_t)`, H_t the entropy at that token's position (ours).
    ExpNegH,
}

/// Weight of the extra term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// `α · mean_{HP}(−r|A|)`: HP weights `1 ± α·N/|HP|` (the authors').
    #[default]
    Official,
    /// `α · Σ_{HP}(−r|A|)/N`: HP weights `1 ± α` (ours).
    Plain,
}

/// Which tokens the extra term covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    HighProb,
    All,
}

/// When the controller steps and which entropy it sees (docs/mathematics.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Once per optimizer step, on that minibatch's entropy under the policy
    /// being updated (the authors' code).
    #[default]
    Current,
    /// Once per rollout batch, on the batch entropy under the behaviour policy.
    Rollout,
}

/// Form of the PI law (docs/mathematics.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IntegralForm {
    /// `α_t = Kp·e_t + Ki·I_{t−1}`, then `I_t = I_{t−1} + e_t` (the authors').
    #[default]
    Before,
    /// `I_t = I_{t−1} + e_t`, then `α_t = Kp·e_t + Ki·I_t`.
    After,
}

/// The default (Kp, Ki) for `scale_free = true`, used by the regime map's
/// `scalefree` arms and the LLM validation's scale-free arm.
///
/// Chosen on the toy by the grid of `sim/tests/scale_free_gains.rs`
/// (docs/mathematics.md §3): two deterministic toy families at targets
/// {0.3, 0.5, 0.7}·H0, α clipped to ±5; the pair that settles in all six
/// with overshoot ≤ 10% and α off its clip in the hold, fastest in the
/// worst case, ties to the smallest gains. The test fails if this constant
/// is not the grid's choice.
pub const SCALE_FREE_GAINS: (f64, f64) = (100.0, 0.003);

/// Controller and peer-method settings (the `[control]` table of a scenario,
/// and of an LLM GRPO config). Every field has a serde default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    pub method: Method,
    /// Target entropy H_tar (nats); EntroPIC, probe (for e), adaptive_entropy.
    #[serde(with = "exact_f64")]
    pub target: f64,
    #[serde(with = "exact_f64")]
    pub kp: f64,
    #[serde(with = "exact_f64")]
    pub ki: f64,
    /// α is clipped to [−alpha_max, alpha_max]; `inf` disables the clip.
    #[serde(with = "exact_f64")]
    pub alpha_max: f64,
    #[serde(with = "exact_f64")]
    pub tau: f64,
    pub threshold: Threshold,
    pub weighting: Weighting,
    pub scope: Scope,
    pub measure: Measure,
    pub integral_form: IntegralForm,
    /// Conditional-integration anti-windup: the integral does not grow while
    /// α is saturated in the direction of the error (ours; off by default).
    pub anti_windup: bool,
    /// Scale-free gains (ours; off by default): the PI law acts on the
    /// relative error `e / target` instead of `e`, so one (Kp, Ki) means the
    /// same at a target of 0.03 nats and of 0.3 (docs/mathematics.md §3).
    /// Equivalent to absolute gains `(Kp, Ki) / target`. The recorded
    /// `error` stays `x − target` in nats; `integral` accumulates the
    /// relative error. Requires `target > 0`. Default pair:
    /// [`SCALE_FREE_GAINS`].
    pub scale_free: bool,
    /// Probe schedule: `[steps, alpha]` pairs, played in order, the last held.
    pub probe: Vec<(usize, f64)>,
    /// entropy_bonus: fixed coefficient c in `L − c·H̄`.
    #[serde(with = "exact_f64")]
    pub entropy_coef: f64,
    /// adaptive_entropy (Skywork-OR1): Δ, c_min, c_max, c₀.
    #[serde(with = "exact_f64")]
    pub adaptive_delta: f64,
    #[serde(with = "exact_f64")]
    pub adaptive_c_min: f64,
    #[serde(with = "exact_f64")]
    pub adaptive_c_max: f64,
    #[serde(with = "exact_f64")]
    pub adaptive_c0: f64,
    /// clip_cov: r_c, ω_low, ω_high.
    #[serde(with = "exact_f64")]
    pub clip_cov_ratio: f64,
    #[serde(with = "exact_f64")]
    pub clip_cov_low: f64,
    #[serde(with = "exact_f64")]
    pub clip_cov_high: f64,
    /// kl_cov: ratio and β.
    #[serde(with = "exact_f64")]
    pub kl_cov_ratio: f64,
    #[serde(with = "exact_f64")]
    pub kl_cov_coef: f64,
    /// clip_higher (DAPO): ε_high that replaces `LossConfig::eps_high`
    /// (docs/peers.md §6: 0.28; ε_low stays `LossConfig::eps_low`).
    #[serde(with = "exact_f64")]
    pub clip_higher_eps_high: f64,
}

/// The two moments of a training step at which a trainer offers the
/// controller a measurement (docs/mathematics.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// A rollout batch is about to be trained on: its behaviour entropy
    /// (under the policy that sampled it), before the first update.
    RolloutBatch,
    /// One optimizer step: the entropy of its minibatch under the policy
    /// being updated (the training forward pass), before the update.
    OptimizerStep,
}

/// What the controller measured at one controller step.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Measurement {
    /// Token-mean full-distribution entropy (nats).
    pub entropy: f64,
    /// Token-mean NLL of the sampled tokens under the behaviour policy
    /// (`−mean logπ_old(y)`), Skywork's controller input; NaN if unknown.
    pub sampled_nll: f64,
}

/// What the method decided for the coming update(s).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Directive {
    /// EntroPIC / probe α (0 for other methods).
    #[serde(with = "exact_f64")]
    pub alpha: f64,
    /// Entropy-bonus coefficient actually applied (0 when none).
    #[serde(with = "exact_f64")]
    pub entropy_coef: f64,
    /// Error e = H − H_tar at this controller step. Every method reports it
    /// against `cfg.target` (so logs compare across methods); for
    /// adaptive_entropy H is that method's input (see [`Controller::update`]).
    #[serde(with = "exact_f64")]
    pub error: f64,
    /// Integral after this controller step.
    #[serde(with = "exact_f64")]
    pub integral: f64,
}

/// Controller state that saves and restores exactly (serde round trip).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ControllerState {
    /// Controller steps taken so far (the probe schedule's clock).
    pub steps: usize,
    /// Accumulated error I (EntroPIC, probe).
    #[serde(with = "exact_f64")]
    pub integral: f64,
    /// The peer coefficient held for the next step: adaptive_entropy's c,
    /// entropy_bonus's fixed c, 0 otherwise.
    #[serde(with = "exact_f64")]
    pub coef: f64,
    pub last: Directive,
    /// adaptive_entropy: whether the last measured entropy was below target.
    pub below_target: bool,
}

/// One entropy method with its state; a step function (argmin style).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Controller {
    pub cfg: ControlConfig,
    pub state: ControllerState,
}

impl Default for ControlConfig {
    /// The authors' law where it applies (Kp = 1, Ki = 0.01, τ = 0.95, no
    /// option of ours), and the peers' defaults from docs/peers.md.
    fn default() -> Self {
        ControlConfig {
            method: Method::None,
            target: 0.1,
            kp: 1.0,
            ki: 0.01,
            alpha_max: 1.0,
            tau: 0.95,
            threshold: Threshold::Tau,
            weighting: Weighting::Official,
            scope: Scope::HighProb,
            measure: Measure::Current,
            integral_form: IntegralForm::Before,
            anti_windup: false,
            scale_free: false,
            probe: Vec::new(),
            entropy_coef: 0.001,
            adaptive_delta: 1e-4,
            adaptive_c_min: 0.0,
            adaptive_c_max: 0.005,
            adaptive_c0: 0.0,
            clip_cov_ratio: 2e-4,
            clip_cov_low: 1.0,
            clip_cov_high: 5.0,
            kl_cov_ratio: 2e-3,
            kl_cov_coef: 1.0,
            clip_higher_eps_high: 0.28,
        }
    }
}

/// Whether one token is high-probability under `ctl` (docs/mathematics.md §3): scope
/// `all` → always; threshold `tau` → `π(y) = exp(logp) > τ`; `exp_neg_h` →
/// `exp(logp) > exp(−H)`, H the entropy at the token's position.
/// `logp` is under the policy being updated, not the behaviour policy.
#[inline]
pub fn is_high_prob(ctl: &ControlConfig, logp: f64, entropy: f64) -> bool {
    match (ctl.scope, ctl.threshold) {
        (Scope::All, _) => true,
        (Scope::HighProb, Threshold::Tau) => logp.exp() > ctl.tau,
        (Scope::HighProb, Threshold::ExpNegH) => logp.exp() > (-entropy).exp(),
    }
}

/// The HP mask of docs/mathematics.md §3 for tokens with log-probabilities `logp` and
/// position entropies `entropy` ([`is_high_prob`] per token). The result has
/// `logp.len()` entries; `entropy` is read only for `exp_neg_h`, where a
/// token without an entropy entry counts as not high-probability.
pub fn hp_mask(ctl: &ControlConfig, logp: &[f64], entropy: &[f64]) -> Vec<bool> {
    logp.iter()
        .enumerate()
        .map(|(t, &lp)| match (ctl.scope, ctl.threshold) {
            (Scope::HighProb, Threshold::ExpNegH) => {
                entropy.get(t).is_some_and(|&h| is_high_prob(ctl, lp, h))
            }
            _ => is_high_prob(ctl, lp, f64::NAN),
        })
        .collect()
}

/// The probe schedule's α at controller step `k` (0-based): pairs
/// `(steps, alpha)` in order, the last alpha held after the end; 0 when the
/// schedule is empty.
pub fn probe_alpha(schedule: &[(usize, f64)], k: usize) -> f64 {
    let mut end = 0usize;
    for &(steps, alpha) in schedule {
        end = end.saturating_add(steps);
        if k < end {
            return alpha;
        }
    }
    schedule.last().map_or(0.0, |&(_, alpha)| alpha)
}

/// `x` limited to `[lo, hi]`, NaN-transparent: a NaN `x` stays NaN (so a
/// broken run shows up), and NaN or crossed bounds never panic (unlike
/// `f64::clamp`) or swallow `x` (unlike `max`/`min`).
#[inline]
pub(crate) fn clip(x: f64, lo: f64, hi: f64) -> f64 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}
