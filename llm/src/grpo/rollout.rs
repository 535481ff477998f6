//! Rollout batches: sampled completions with their rewards, group
//! advantages and behaviour log-probs, and the training-path forward pass
//! that gives per-token log-probs and entropies of the response tokens.
use crate::error::Result;
use crate::model::Qwen2;
use crate::sample::token_logp_entropy_with;
use candle_core::{Tensor, D};
use serde::{Deserialize, Serialize};

/// One sampled completion. Floats are f64 (exact in JSON with serde_json's
/// `float_roundtrip`), so a checkpointed queue resumes bit for bit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seq {
    /// `<s>` and the prompt's tokens.
    pub prompt: Vec<u32>,
    /// Generated tokens, the stop token included when one was hit.
    pub completion: Vec<u32>,
    pub reward: f64,
    /// Group advantage (docs/mathematics.md §2), shared by all its tokens.
    pub adv: f64,
    /// log π_old of each completion token and the full-vocab entropy at its
    /// position under the behaviour policy (training-path forward pass at
    /// sampling time, so the first on-policy ratio is exactly 1).
    pub logp_old: Vec<f64>,
    pub ent_old: Vec<f64>,
    /// log π_ref of each completion token (only with a KL term).
    pub logp_ref: Option<Vec<f64>>,
}

/// A rollout batch: `groups` groups of `G` consecutive sequences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Rollout {
    pub seqs: Vec<Seq>,
    pub group_size: usize,
    /// The step whose policy sampled it.
    pub sampled_at: usize,
}

impl Rollout {
    /// Number of prompt groups.
    pub fn groups(&self) -> usize {
        self.seqs.len() / self.group_size.max(1)
    }
    /// Mean reward over all sequences.
    pub fn reward_mean(&self) -> f64 {
        let n = self.seqs.len().max(1) as f64;
        self.seqs.iter().map(|s| s.reward).sum::<f64>() / n
    }
    /// Share of the prompt groups whose advantages are all zero (every
    /// response got the same reward), docs/metrics.md §1; 0 when empty.
    pub fn zero_adv_frac(&self) -> f64 {
        let g = self.group_size.max(1);
        let groups = self.seqs.len() / g;
        if groups == 0 {
            return 0.0;
        }
        let zero = self
            .seqs
            .chunks_exact(g)
            .filter(|c| c.iter().all(|s| s.adv == 0.0))
            .count();
        zero as f64 / groups as f64
    }
    /// Token-mean of a per-token field over all response tokens.
    pub fn token_mean(&self, f: impl Fn(&Seq) -> &[f64]) -> f64 {
        let (mut s, mut n) = (0.0, 0usize);
        for q in &self.seqs {
            s += f(q).iter().sum::<f64>();
            n += f(q).len();
        }
        s / n.max(1) as f64
    }
}

/// Log-probs of the completion tokens and entropies at their positions,
/// under `model` at temperature `t`, from the differentiable training path
/// (`Qwen2::forward_train`): each (N,) with N = Σ completion lengths, in
/// sequence order. Sequences are right-padded with `pad` (masked).
pub fn response_logp_entropy(
    model: &Qwen2,
    seqs: &[&Seq],
    pad: u32,
    t: f64,
) -> Result<(Tensor, Tensor)> {
    let dev = model.device();
    let l = seqs
        .iter()
        .map(|s| s.prompt.len() + s.completion.len())
        .max()
        .unwrap_or(1);
    let b = seqs.len();
    let (mut ids, mut mask, mut tgt, mut idx) = (
        Vec::with_capacity(b * l),
        Vec::with_capacity(b * l),
        Vec::with_capacity(b * l),
        Vec::new(),
    );
    for (r, s) in seqs.iter().enumerate() {
        let row: Vec<u32> = s.prompt.iter().chain(&s.completion).copied().collect();
        for j in 0..l {
            ids.push(row.get(j).copied().unwrap_or(pad));
            mask.push((j < row.len()) as u32);
            tgt.push(row.get(j + 1).copied().unwrap_or(pad));
        }
        // position j predicts token j+1: completion token i sits at prompt_len + i
        let p = s.prompt.len();
        for j in (p - 1)..(p - 1 + s.completion.len()) {
            idx.push((r * l + j) as u32);
        }
    }
    let ids = Tensor::from_vec(ids, (b, l), dev)?;
    let mask = Tensor::from_vec(mask, (b, l), dev)?;
    let tgt = Tensor::from_vec(tgt, (b, l), dev)?;
    let logits = model.forward_train(&ids, &mask)?; // (B, L, V)
    let (logp, ent) = token_logp_entropy_with(&logits, &tgt, t, model.train_ops())?; // (B, L) each
    let idx = Tensor::from_vec(idx, (idx_len(seqs),), dev)?;
    let logp = logp.flatten_all()?.index_select(&idx, D::Minus1)?;
    let ent = ent.flatten_all()?.index_select(&idx, D::Minus1)?;
    Ok((logp, ent))
}

fn idx_len(seqs: &[&Seq]) -> usize {
    seqs.iter().map(|s| s.completion.len()).sum()
}
