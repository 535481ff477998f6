//! The per-step record shared by the toy and the LLM trainer: one line of
//! `metrics.jsonl`. Which trainer writes which field, and when a field is
//! absent, is documented field by field in `docs/metrics.md`. The run
//! figures computed from a series of records live in [`crate::figures`].
use serde::{Deserialize, Serialize};

/// One step of one seed of one arm. Absent fields are omitted in JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub arm: String,
    /// The swept keys and values of this sweep point (`key=value,...`), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sweep: Option<String>,
    pub step: usize,
    pub seed: u64,
    /// The entropy the controller saw this step (nats).
    pub entropy: f64,
    /// Bandit: exact mean entropy over all prompts, on step 0, every
    /// `exact_every` steps and the last. LLM: token-mean entropy of the validation samples
    /// under the current policy, on validation steps only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entropy_exact: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub integral: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alpha: Option<f64>,
    /// |HP| / N of the last optimizer step of this step (with the
    /// configured threshold, also for methods other than EntroPIC).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hp_frac: Option<f64>,
    /// Σ_{t∈HP} H_t / Σ_t H_t over the same tokens and HP rule as
    /// `hp_frac` (absent when undefined: no entropy; the LLM trainer does
    /// not write it yet).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hp_entropy_share: Option<f64>,
    /// Mean over the HP tokens of 1 − π(y_t) (absent when |HP| = 0; the LLM
    /// trainer does not write it yet).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tail_mass_hp: Option<f64>,
    /// A peer method's coefficient (entropy bonus weight etc.).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub coef: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reward_mean: Option<f64>,
    /// Exact expected pass rate over all prompts (bandit only, on the
    /// same steps as `entropy_exact`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pass_rate: Option<f64>,
    /// Share of the batch's groups (prompts) whose advantages are all zero
    /// (every response of the group got the same reward), in the batch
    /// trained on (docs/metrics.md §1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub zero_adv_frac: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub val_pass_at_1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub clip_frac: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kl: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub grad_norm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sample_tokens_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub train_tokens_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seconds: Option<f64>,
}

/// The controller's part of a step's record, one presence rule for both
/// trainers (the toy's `sim::grpo` and the LLM's `entropic_llm::grpo`):
/// - `target` and `error` whenever a target is set: for every controlled
///   method, and for a plain-GRPO arm given a target (> 0), so that its
///   distance from the target is logged and plotted like a controlled arm's;
///   `error` only where it is finite;
/// - `integral` and `alpha` for the EntroPIC and probe methods;
/// - `coef` for the entropy-bonus methods (fixed and adaptive).
///
/// `d` is the directive that was in force for this step's last update,
/// whichever measurement (`current` or `rollout`) produced it.
pub fn controller_fields(
    cfg: &crate::control::ControlConfig,
    d: &crate::control::Directive,
) -> ControllerFields {
    use crate::control::Method;
    let has_target = cfg.method != Method::None || cfg.target > 0.0;
    let pic = matches!(cfg.method, Method::Entropic | Method::Probe);
    let bonus = matches!(cfg.method, Method::EntropyBonus | Method::AdaptiveEntropy);
    ControllerFields {
        target: has_target.then_some(cfg.target),
        error: (has_target && d.error.is_finite()).then_some(d.error),
        integral: pic.then_some(d.integral),
        alpha: pic.then_some(d.alpha),
        coef: bonus.then_some(d.entropy_coef),
    }
}

/// See [`controller_fields`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ControllerFields {
    pub target: Option<f64>,
    pub error: Option<f64>,
    pub integral: Option<f64>,
    pub alpha: Option<f64>,
    pub coef: Option<f64>,
}

impl Record {
    /// A record of the shared schema with the controller's fields filled by
    /// [`controller_fields`]; the caller fills the measured ones.
    pub fn controlled(
        arm: String,
        step: usize,
        seed: u64,
        entropy: f64,
        cfg: &crate::control::ControlConfig,
        d: &crate::control::Directive,
    ) -> Record {
        let c = controller_fields(cfg, d);
        Record {
            arm,
            step,
            seed,
            entropy,
            target: c.target,
            error: c.error,
            integral: c.integral,
            alpha: c.alpha,
            coef: c.coef,
            ..Default::default()
        }
    }
}
