//! Group-relative advantages (docs/mathematics.md §2), shared by both GRPO trainers:
//! the toy ([`crate::grpo`]) and the LLM (`entropic_llm::grpo`) import them
//! from here by name, so the two compute the same advantage from the same
//! rewards.
use serde::{Deserialize, Serialize};

/// Standard deviation used to normalise group advantages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AdvStd {
    /// Unbiased (N−1), as verl.
    #[default]
    Unbiased,
    /// ddof 0.
    Population,
    /// No division (Dr. GRPO).
    None,
}

/// Group advantages `(r − mean)/(std + ε)` (docs/mathematics.md §2); all-equal groups get 0.
pub fn group_advantages(rewards: &[f64], std: AdvStd, eps: f64, out: &mut [f64]) {
    let n = rewards.len() as f64;
    let mean = rewards.iter().sum::<f64>() / n;
    let ss: f64 = rewards.iter().map(|r| (r - mean).powi(2)).sum();
    let sd = match std {
        AdvStd::Unbiased => {
            if n > 1.0 {
                (ss / (n - 1.0)).sqrt()
            } else {
                0.0
            }
        }
        AdvStd::Population => (ss / n).sqrt(),
        AdvStd::None => 0.0,
    };
    for (o, r) in out.iter_mut().zip(rewards) {
        *o = if ss == 0.0 {
            0.0
        } else if std == AdvStd::None {
            r - mean
        } else {
            (r - mean) / (sd + eps)
        };
    }
}
