//! Token-level policy loss with the entropy method's weighting, and its
//! gradient with respect to each token's log-probability and entropy.
//! Shared by the toy and the LLM trainer (HELPER-OWNED bodies).

use serde::{Deserialize, Serialize};

/// PPO/GRPO loss settings (verl defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossConfig {
    pub eps_low: f64,
    pub eps_high: f64,
    /// Dual-clip constant c for A < 0 (verl 3.0); `inf` disables it.
    pub dual_clip: f64,
    /// β of the k3 KL to the reference policy (0 = off).
    pub kl_coef: f64,
}

/// Token-level inputs of one optimizer step (N valid tokens).
#[derive(Debug, Clone, Copy)]
pub struct TokenInputs<'a> {
    /// Advantage of each token (its sequence's advantage).
    pub adv: &'a [f64],
    /// log π_θ(y_t) under the policy being updated (temperature-scaled).
    pub logp: &'a [f64],
    /// log π_old(y_t) under the behaviour policy that sampled it.
    pub logp_old: &'a [f64],
    /// log π_ref(y_t) for the KL term, if any.
    pub logp_ref: Option<&'a [f64]>,
    /// Full-distribution entropy at each token's position under π_θ.
    pub entropy: &'a [f64],
}

/// Summary numbers of one loss evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LossStats {
    pub n_tokens: usize,
    pub n_hp: usize,
    /// |HP| / N.
    pub hp_frac: f64,
    /// Share of tokens whose PPO clip is active.
    pub clip_frac: f64,
    /// Token-mean k3 KL to the reference (0 when none).
    pub kl: f64,
    /// Tokens selected by clip_cov / kl_cov.
    pub n_selected: usize,
}

/// The loss and its gradient.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TokenLoss {
    pub loss: f64,
    /// ∂loss/∂logp_t.
    pub dlogp: Vec<f64>,
    /// ∂loss/∂H_t (entropy-bonus methods; zeros otherwise).
    pub dentropy: Vec<f64>,
    pub stats: LossStats,
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig { eps_low: 0.2, eps_high: 0.2, dual_clip: 3.0, kl_coef: 0.0 }
    }
}
