//! Per-token log-probs and entropies, and batched sampling with a KV cache.
use crate::error::{LlmError, Result};
use crate::model::{position_ids, KvCache, Qwen2, TrainOps};
use candle_core::{DType, Tensor, D};
use entropic_sim::keyed::Key;

/// Log-prob of each target and full-vocab entropy at each position under
/// `π = softmax(logits / T)` (docs/mathematics.md §1; docs/peers.md: `H = logsumexp(z) −
/// Σ softmax(z)·z`, `z = logits/T`). `logits` (B, L, V), `targets` (B, L)
/// u32; returns `(logp, entropy)`, both (B, L) f32 (f64 for f64 logits)
/// and differentiable. On the CPU in f32/f64 this is one fused kernel
/// ([`crate::kernels::logp_entropy`]); elsewhere candle's composed ops
/// ([`token_logp_entropy_with`] chooses).
pub fn token_logp_entropy(
    logits: &Tensor,
    targets: &Tensor,
    temperature: f64,
) -> Result<(Tensor, Tensor)> {
    token_logp_entropy_with(logits, targets, temperature, TrainOps::Fused)
}

/// [`token_logp_entropy`] with the training path's choice of ops: the
/// fused kernel where `ops` is [`TrainOps::Fused`] and
/// [`crate::kernels::supported`] says it runs, else the composed
/// log-softmax, gather and `−Σ π·log π`. The two agree to rounding (a test
/// compares them and their gradients in f64), not bit for bit.
pub fn token_logp_entropy_with(
    logits: &Tensor,
    targets: &Tensor,
    temperature: f64,
    ops: TrainOps,
) -> Result<(Tensor, Tensor)> {
    if !(temperature > 0.0) {
        return Err(LlmError::input(
            "temperature",
            format!("must be > 0, got {temperature}"),
        ));
    }
    if ops == TrainOps::Fused && crate::kernels::supported(logits.device(), logits.dtype()) {
        let out = crate::kernels::logp_entropy(logits, targets, temperature)?;
        let logp = out.narrow(D::Minus1, 0, 1)?.squeeze(D::Minus1)?;
        let entropy = out.narrow(D::Minus1, 1, 1)?.squeeze(D::Minus1)?;
        return Ok((logp, entropy));
    }
    let z = match logits.dtype() {
        DType::F64 => (logits / temperature)?,
        _ => (logits.to_dtype(DType::F32)? / temperature)?,
    };
    let lsm = candle_nn::ops::log_softmax(&z, D::Minus1)?;
    let logp = lsm
        .gather(
            &targets
                .to_dtype(DType::U32)?
                .unsqueeze(D::Minus1)?
                .contiguous()?,
            D::Minus1,
        )?
        .squeeze(D::Minus1)?;
    let entropy = (lsm.exp()? * &lsm)?.sum(D::Minus1)?.neg()?;
    Ok((logp, entropy))
}

/// Sampling settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleConfig {
    /// Most tokens generated per sequence (the stop token included).
    pub max_new_tokens: usize,
    /// Softmax temperature; 0 means greedy (argmax).
    pub temperature: f64,
    /// Nucleus mass in (0, 1]; 1 keeps the whole distribution.
    pub top_p: f64,
    /// A sequence ends at the first of these tokens (kept in its output).
    pub stop: Vec<u32>,
    /// Token used for left padding of prompts (never attended to).
    pub pad_id: u32,
    /// Reuse keys/values (true) or recompute the whole sequence each step
    /// (false: slow; the reference the cache is checked against).
    pub use_cache: bool,
}

/// One generated continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Generated token ids, the stop token included when one was hit.
    pub tokens: Vec<u32>,
    /// Behaviour log-prob of each token: `log softmax(z/T)` at the sampled
    /// id, before top-p truncation (so it is the π of docs/mathematics.md; with top-p
    /// < 1 the truncated sampler's own log-prob differs). Greedy: T = 1.
    pub logps: Vec<f32>,
    /// Entropy (nats) of the full next-token distribution `softmax(z/T)`
    /// at each generated position (greedy: T = 1), before top-p truncation,
    /// like `logps`: what docs/mathematics.md §1 calls `H_t`.
    pub entropies: Vec<f32>,
    /// Whether a stop token ended it (else `max_new_tokens` did).
    pub stopped: bool,
}

/// Where [`generate`]'s uniforms come from: keyed draws
/// (`entropic_sim::keyed`), one per (row, position), so rows that finished
/// draw nothing and shift nothing, and twins (runs differing only in α)
/// draw the same numbers wherever their policies agree.
///
/// The key is `(seed, stream, step, row, position)`: `row` is
/// `first_row +` the row's index in the call, so a caller that splits one
/// batch into chunks keeps each row's draws (the trainer's row is
/// `prompt slot·G + sample`); `position` counts generated tokens.
/// Callers that do not train (eval, bench) pick any `step` and a `stream`
/// of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draws {
    pub seed: u64,
    /// Separates independent uses of one seed (training rollouts,
    /// validation, evaluation).
    pub stream: u64,
    /// Rollout ordinal (the trainer), or any counter of the caller.
    pub step: u64,
    /// Row coordinate of the call's first row.
    pub first_row: u64,
}

impl Draws {
    /// Draws for `(seed, stream, step)` from row 0.
    pub fn new(seed: u64, stream: u64, step: u64) -> Draws {
        Draws {
            seed,
            stream,
            step,
            first_row: 0,
        }
    }

    /// The same draws, with the call's rows starting at `first_row`.
    pub fn from_row(self, first_row: u64) -> Draws {
        Draws { first_row, ..self }
    }

    /// The key of row `r` of the call (the position is its last coordinate).
    fn row_key(&self, r: usize) -> Key {
        Key::new(self.seed)
            .child(self.stream)
            .child(self.step)
            .child(self.first_row + r as u64)
    }
}

/// Indices of `z` by descending value (`f32::total_cmp`), ties by
/// ascending index: the permutation of a stable sort by `total_cmp`
/// descending, computed by sorting one integer key per entry (the value's
/// order-preserving bits, inverted, above the index) instead of comparing
/// through the indices; the top-p walk's order, so the same draws pick the
/// same tokens.
fn descending(z: &[f32]) -> Vec<usize> {
    debug_assert!(z.len() <= u32::MAX as usize);
    let mut keys: Vec<u64> = z
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let b = x.to_bits();
            // ascending total order as unsigned bits (as f32::total_cmp)
            let up = if b >> 31 == 1 { !b } else { b | 0x8000_0000 };
            (u64::from(!up) << 32) | i as u64
        })
        .collect();
    keys.sort_unstable();
    keys.into_iter()
        .map(|k| (k & 0xffff_ffff) as usize)
        .collect()
}

/// Draws a token from one row of logits with the uniform `u ∈ [0, 1)`;
/// returns (id, behaviour log-prob, entropy of `softmax(row/T)`).
fn pick(row: &[f32], t: f64, top_p: f64, u: f64) -> (u32, f32, f32) {
    let tt = if t > 0.0 { t as f32 } else { 1.0 };
    let z: Vec<f32> = row.iter().map(|x| x / tt).collect();
    let max = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let (mut sum, mut dot) = (0.0f32, 0.0f32);
    for &x in &z {
        let e = (x - max).exp();
        sum += e;
        dot += e * (x - max);
    }
    let lse = max + sum.ln();
    // H = lse − Σ p·z = ln Σe − Σ e·(z − max)/Σe, shifted for stability
    let entropy = (sum.ln() - dot / sum).max(0.0);
    let logp = |i: usize| z[i] - lse;
    if t <= 0.0 {
        let a = (0..z.len()).fold(0, |b, i| if z[i] > z[b] { i } else { b });
        return (a as u32, logp(a), entropy);
    }
    let idx = descending(&z);
    let mut kept = Vec::new();
    let mut mass = 0.0f64;
    for &i in &idx {
        let p = (logp(i) as f64).exp();
        kept.push((i, p));
        mass += p;
        if mass >= top_p {
            break;
        }
    }
    let mut u = u * mass;
    for &(i, p) in &kept {
        if u < p {
            return (i as u32, logp(i), entropy);
        }
        u -= p;
    }
    let i = kept.last().map_or(0, |x| x.0);
    (i as u32, logp(i), entropy)
}

/// Samples a continuation for each prompt, all in one batch: prompts are
/// left-padded (masked out, positions not shifted), finished rows keep
/// running on padding until every row stops or `max_new_tokens` is reached.
/// Token `l` of row `r` uses the keyed uniform of `(draws, r, l)`; greedy
/// (T = 0) draws nothing.
///
/// On the CPU it runs inside candle's thread pool
/// (`Device::with_context`): every small parallel op of a decoding step
/// then starts on a worker of that pool instead of being handed to rayon's
/// global pool and waited for, a hand-over (two context switches) per op
/// that cost 14–38% of generation's throughput at `bench llm`'s shapes on
/// 1 and 2 threads. Same ops, same bits.
pub fn generate(
    model: &Qwen2,
    prompts: &[Vec<u32>],
    cfg: &SampleConfig,
    draws: Draws,
) -> Result<Vec<Sample>> {
    model
        .device()
        .with_context(|| generate_here(model, prompts, cfg, draws))
}

/// [`generate`] on the calling thread.
fn generate_here(
    model: &Qwen2,
    prompts: &[Vec<u32>],
    cfg: &SampleConfig,
    draws: Draws,
) -> Result<Vec<Sample>> {
    let b = prompts.len();
    if b == 0 {
        return Ok(Vec::new());
    }
    if prompts.iter().any(|p| p.is_empty()) {
        return Err(LlmError::input("prompt", "empty prompt (no tokens)"));
    }
    let dev = model.device();
    let lp = prompts.iter().map(|p| p.len()).max().unwrap_or(0);
    let mut ids: Vec<Vec<u32>> = prompts
        .iter()
        .map(|p| [vec![cfg.pad_id; lp - p.len()], p.clone()].concat())
        .collect();
    let mut mask: Vec<Vec<u8>> = prompts
        .iter()
        .map(|p| [vec![0u8; lp - p.len()], vec![1u8; p.len()]].concat())
        .collect();
    let mut out: Vec<Sample> = vec![
        Sample {
            tokens: vec![],
            logps: vec![],
            entropies: vec![],
            stopped: false
        };
        b
    ];
    let mut cache = KvCache::with_room(lp + cfg.max_new_tokens);
    let to_tensor = |rows: &[Vec<u32>]| -> Result<Tensor> {
        let w = rows[0].len();
        Ok(Tensor::from_vec(rows.concat(), (rows.len(), w), dev)?)
    };
    let mut logits = model.step(
        &to_tensor(&ids)?,
        &position_ids(&mask),
        &mask,
        &mut cache,
        true,
    )?;
    for step in 0..cfg.max_new_tokens {
        let rows = logits.to_vec2::<f32>()?;
        let mut next = Vec::with_capacity(b);
        for (ri, (r, s)) in rows.iter().zip(out.iter_mut()).enumerate() {
            if s.stopped {
                next.push(cfg.pad_id);
                continue;
            }
            let u = if cfg.temperature > 0.0 {
                draws.row_key(ri).uniform(step as u64)
            } else {
                0.0
            };
            let (tok, lp, h) = pick(r, cfg.temperature, cfg.top_p, u);
            s.tokens.push(tok);
            s.logps.push(lp);
            s.entropies.push(h);
            s.stopped = cfg.stop.contains(&tok);
            next.push(tok);
        }
        if out.iter().all(|s| s.stopped) || step + 1 == cfg.max_new_tokens {
            break;
        }
        for ((row, m), &t) in ids.iter_mut().zip(mask.iter_mut()).zip(&next) {
            row.push(t);
            m.push(1);
        }
        let pos = position_ids(&mask);
        logits = if cfg.use_cache {
            let last: Vec<Vec<u32>> = pos.iter().map(|p| vec![p[p.len() - 1]]).collect();
            let step_ids: Vec<Vec<u32>> = next.iter().map(|&t| vec![t]).collect();
            model.step(&to_tensor(&step_ids)?, &last, &mask, &mut cache, true)?
        } else {
            model.step(
                &to_tensor(&ids)?,
                &pos,
                &mask,
                &mut KvCache::default(),
                true,
            )?
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::descending;
    use rand::{Rng, SeedableRng};

    /// The integer-key sort is the stable `total_cmp` sort it replaced:
    /// random rows with repeated values, both zeros, infinities and NaN.
    #[test]
    fn descending_is_the_stable_total_cmp_order() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let special = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            1e-40,
        ];
        for n in [1, 2, 7, 48, 1024] {
            let z: Vec<f32> = (0..n)
                .map(|_| match rng.random_range(0..4) {
                    0 => special[rng.random_range(0..special.len())],
                    1 => rng.random_range(-3..3) as f32,
                    _ => rng.random_range(-20.0f32..20.0),
                })
                .collect();
            let mut want: Vec<usize> = (0..n).collect();
            want.sort_by(|&a, &b| z[b].total_cmp(&z[a]));
            assert_eq!(descending(&z), want, "{z:?}");
        }
    }
}
