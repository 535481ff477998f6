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
    /// A peer method's coefficient (entropy bonus weight etc.).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub coef: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reward_mean: Option<f64>,
    /// Exact expected pass rate over all prompts (bandit only, on the
    /// same steps as `entropy_exact`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pass_rate: Option<f64>,
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
