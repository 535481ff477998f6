//! The per-step record shared by the toy and the LLM trainer (DESIGN.md),
//! and the run figures computed from a series of records.
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
    /// Exact mean entropy over all prompts (bandit), or fresh-sample estimate (LLM).
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
    /// |HP| / N of the last update this step.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hp_frac: Option<f64>,
    /// A peer method's coefficient (entropy bonus weight etc.).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub coef: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reward_mean: Option<f64>,
    /// Exact expected pass rate over all prompts (bandit).
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
