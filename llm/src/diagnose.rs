//! Where a checkpoint's entropy sits on a set of prompts
//! (docs/mathematics.md §8): sample completions at a temperature, and read
//! the composition of the sampled tokens (`hp_frac`, `hp_entropy_share`,
//! `tail_mass_hp`, token-mean entropy; `entropic_sim::composition`, the
//! same definitions the simulator and the GRPO trainer use), quantiles of
//! the per-token entropy, the mean entropy by response position, and
//! pass@1 / pass@k where the prompts have answers.
//!
//! Chosen where the docs are silent:
//! - The tokens measured are the generated ones (the response), the stop
//!   token included, as in a GRPO rollout; prompts are not scored.
//! - Entropy is that of the full tempered distribution `softmax(z/T)` at
//!   each generated position, before any top-p truncation (`top_p` is 1
//!   here): the `H_t` the controller averages.
//! - Sample `s` of prompt `i` is row `i·samples + s` of keyed draws
//!   (`seed`, stream [`STREAM`]), so the sampled tokens do not depend on
//!   the batch size (barring a draw that falls within rounding of a
//!   boundary between two tokens); the entropies can differ in the last
//!   float bits between batch sizes, because a matrix product's rounding
//!   depends on its shape. The same settings give the same figures.
use crate::error::{LlmError, Result};
use crate::eval::pass_at_k;
use crate::model::Qwen2;
use crate::sample::{generate, Draws, SampleConfig};
use crate::tasks::reward;
use crate::tokenizer::Tok;
use entropic_sim::composition::{composition, Composition};
use serde::Serialize;

/// Stream of the keyed draws used by [`measure`] (separate from training
/// rollouts, validation and `llm eval`).
pub const STREAM: u64 = 0xd1a6;

/// Quantile levels of the per-token entropy reported by [`measure`].
pub const QUANTILES: [f64; 7] = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0];

/// Settings of one measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureConfig {
    /// Sampling temperature (> 0).
    pub temperature: f64,
    /// Completions per prompt (≥ 1).
    pub samples: usize,
    /// Most generated tokens per completion.
    pub max_new_tokens: usize,
    /// Sequences per sampling batch (any value gives the same figures).
    pub batch: usize,
    /// HP threshold τ on the sampled token's probability (docs/mathematics.md §3).
    pub tau: f64,
    /// Seed of the keyed draws.
    pub seed: u64,
    /// Stop tokens (kept in the completion).
    pub stop: Vec<u32>,
    /// Left-padding token.
    pub pad_id: u32,
}

/// One generated token: its entropy and whether it is high-probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TokenPoint {
    pub entropy: f32,
    pub hp: bool,
}

/// What [`measure`] finds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub temperature: f64,
    pub tau: f64,
    pub prompts: usize,
    pub samples: usize,
    /// The model's vocabulary size (`config.json`).
    pub vocab: usize,
    /// Composition of every generated token (docs/mathematics.md §8).
    pub composition: Composition,
    /// `(level, entropy)` for each of [`QUANTILES`], over generated tokens
    /// (nearest rank).
    pub entropy_quantiles: Vec<(f64, f64)>,
    /// Mean entropy of the tokens at response position `p` (0-based), over
    /// the completions that reached it.
    pub entropy_by_position: Vec<f64>,
    /// Mean generated tokens per completion.
    pub mean_tokens: f64,
    /// Share of completions that ended with a stop token.
    pub stopped_frac: f64,
    /// pass@1 over prompts (None when the prompts have no answers).
    #[serde(rename = "pass@1")]
    pub pass_at_1: Option<f64>,
    /// pass@k for k = `samples` (None without answers or with one sample).
    #[serde(rename = "pass@k")]
    pub pass_at_k: Option<f64>,
    /// Every generated token, for histograms (not serialised).
    #[serde(skip)]
    pub tokens: Vec<TokenPoint>,
    /// Each completion's token-mean entropy (not serialised): the spread a
    /// validation measurement on a few prompts inherits.
    #[serde(skip)]
    pub completion_entropy: Vec<f64>,
}

/// Samples `cfg.samples` completions for each prompt and measures them (see
/// the module doc). `answers`, when given, has one reference per prompt and
/// is scored with [`reward`]. Errors: no prompts, an empty prompt, answers
/// of another length, settings out of range, no tokens generated.
pub fn measure(
    model: &Qwen2,
    tok: &Tok,
    prompts: &[String],
    answers: Option<&[String]>,
    cfg: &MeasureConfig,
) -> Result<Diagnosis> {
    if prompts.is_empty() {
        return Err(LlmError::input("prompts", "empty dataset: no prompts"));
    }
    if let Some(a) = answers {
        if a.len() != prompts.len() {
            return Err(LlmError::input(
                "prompts",
                format!("{} answers for {} prompts", a.len(), prompts.len()),
            ));
        }
    }
    if !(cfg.temperature > 0.0 && cfg.temperature.is_finite()) {
        return Err(LlmError::input(
            "--temperature",
            format!("must be > 0, got {}", cfg.temperature),
        ));
    }
    if cfg.samples == 0 || cfg.max_new_tokens == 0 {
        return Err(LlmError::input(
            "--samples",
            "samples and max_new_tokens must be at least 1",
        ));
    }
    if !(cfg.tau > 0.0 && cfg.tau < 1.0) {
        return Err(LlmError::input(
            "tau",
            format!("must be in (0, 1), got {}", cfg.tau),
        ));
    }
    let bos = model.config().bos_token_id;
    let mut jobs: Vec<(usize, Vec<u32>)> = Vec::with_capacity(prompts.len() * cfg.samples);
    for (i, p) in prompts.iter().enumerate() {
        let ids: Vec<u32> = bos.iter().copied().chain(tok.encode(p)?).collect();
        if ids.is_empty() {
            return Err(LlmError::input(
                "prompts",
                format!("prompt {} encodes to no tokens", i + 1),
            ));
        }
        for _ in 0..cfg.samples {
            jobs.push((i, ids.clone()));
        }
    }
    let sc = SampleConfig {
        max_new_tokens: cfg.max_new_tokens,
        temperature: cfg.temperature,
        top_p: 1.0,
        stop: cfg.stop.clone(),
        pad_id: cfg.pad_id,
        use_cache: true,
    };
    let draws = Draws::new(cfg.seed, STREAM, 0);
    let batch = cfg.batch.max(1);
    let (mut logp, mut ent) = (Vec::new(), Vec::new());
    let mut by_pos: Vec<(f64, usize)> = Vec::new();
    let mut correct = vec![0usize; prompts.len()];
    let mut stopped = 0usize;
    let mut completion_entropy = Vec::with_capacity(jobs.len());
    for (c, chunk) in jobs.chunks(batch).enumerate() {
        let rows: Vec<Vec<u32>> = chunk.iter().map(|j| j.1.clone()).collect();
        let out = generate(model, &rows, &sc, draws.from_row((c * batch) as u64))?;
        for ((i, _), s) in chunk.iter().zip(out) {
            stopped += s.stopped as usize;
            if !s.entropies.is_empty() {
                completion_entropy.push(
                    s.entropies.iter().map(|&h| h as f64).sum::<f64>() / s.entropies.len() as f64,
                );
            }
            for (p, (&lp, &h)) in s.logps.iter().zip(&s.entropies).enumerate() {
                logp.push(lp as f64);
                ent.push(h as f64);
                if by_pos.len() <= p {
                    by_pos.push((0.0, 0));
                }
                by_pos[p].0 += h as f64;
                by_pos[p].1 += 1;
            }
            if let Some(a) = answers {
                correct[*i] += reward(&tok.decode(&s.tokens)?, &a[*i]) as usize;
            }
        }
    }
    if logp.is_empty() {
        return Err(LlmError::input("prompts", "no tokens were generated"));
    }
    let comp = composition(&logp, &ent, cfg.tau)
        .map_err(|e| LlmError::input("model", format!("composition: {e}")))?;
    let tokens: Vec<TokenPoint> = logp
        .iter()
        .zip(&ent)
        .map(|(&lp, &h)| TokenPoint {
            entropy: h as f32,
            hp: lp.exp() > cfg.tau,
        })
        .collect();
    let mut sorted = ent.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let entropy_quantiles = QUANTILES
        .iter()
        .map(|&q| {
            // nearest rank: the ⌈q·n⌉-th smallest
            let r = ((q * n as f64).ceil() as usize).clamp(1, n);
            (q, sorted[r - 1])
        })
        .collect();
    let m = prompts.len() as f64;
    let (pass_at_1, pass_at_k) = match answers {
        Some(_) => (
            Some(
                correct
                    .iter()
                    .map(|&c| pass_at_k(cfg.samples, c, 1))
                    .sum::<f64>()
                    / m,
            ),
            (cfg.samples > 1).then(|| {
                correct
                    .iter()
                    .map(|&c| pass_at_k(cfg.samples, c, cfg.samples))
                    .sum::<f64>()
                    / m
            }),
        ),
        None => (None, None),
    };
    Ok(Diagnosis {
        temperature: cfg.temperature,
        tau: cfg.tau,
        prompts: prompts.len(),
        samples: cfg.samples,
        vocab: model.config().vocab_size,
        composition: comp,
        entropy_quantiles,
        entropy_by_position: by_pos.iter().map(|(s, c)| s / *c as f64).collect(),
        mean_tokens: n as f64 / jobs.len() as f64,
        stopped_frac: stopped as f64 / jobs.len() as f64,
        pass_at_1,
        pass_at_k,
        tokens,
        completion_entropy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Qwen2Config;
    use candle_core::{DType, Device};

    fn tiny() -> (Qwen2, Tok) {
        let tok = Tok::char_level().unwrap();
        let mut cfg = Qwen2Config::tiny(tok.vocab_size(), 32, 64, 2, 4, 2);
        cfg.bos_token_id = tok.id(crate::tokenizer::BOS);
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
        let model = Qwen2::init(&cfg, &Device::Cpu, DType::F32, &mut rng).unwrap();
        (model, tok)
    }

    fn cfg(batch: usize) -> MeasureConfig {
        MeasureConfig {
            temperature: 1.0,
            samples: 3,
            max_new_tokens: 6,
            batch,
            tau: 0.95,
            seed: 5,
            stop: vec![],
            pad_id: 0,
        }
    }

    /// The same settings give the same figures; another batch size gives
    /// the same tokens and entropies within rounding (keyed draws); the
    /// composition matches its definition recomputed from the tokens; a
    /// random model (near-uniform over ~60 tokens) has no HP token and an
    /// entropy near ln V.
    #[test]
    fn measure_is_batch_free_and_consistent() {
        let (model, tok) = tiny();
        let prompts: Vec<String> = ["1+2=", "33+4=", "5+6="].map(String::from).to_vec();
        let answers: Vec<String> = ["3", "37", "11"].map(String::from).to_vec();
        let a = measure(&model, &tok, &prompts, Some(&answers), &cfg(2)).unwrap();
        let again = measure(&model, &tok, &prompts, Some(&answers), &cfg(2)).unwrap();
        assert_eq!(a.tokens, again.tokens);
        assert_eq!(a.entropy_quantiles, again.entropy_quantiles);
        let b = measure(&model, &tok, &prompts, Some(&answers), &cfg(9)).unwrap();
        assert_eq!(a.tokens.len(), b.tokens.len());
        for (x, y) in a.tokens.iter().zip(&b.tokens) {
            assert!((x.entropy - y.entropy).abs() < 1e-4 && x.hp == y.hp);
        }
        assert_eq!(a.tokens.len(), 3 * 3 * 6);
        assert_eq!(a.composition.n_tokens, a.tokens.len());
        let mean = a.tokens.iter().map(|t| t.entropy as f64).sum::<f64>() / a.tokens.len() as f64;
        assert!((mean - a.composition.entropy_mean).abs() < 1e-6);
        let ln_v = (tok.vocab_size() as f64).ln();
        assert!(
            a.composition.entropy_mean > 0.8 * ln_v && a.composition.entropy_mean <= ln_v + 1e-6
        );
        assert_eq!(a.composition.n_hp, 0);
        assert!(a.pass_at_1.is_some() && a.pass_at_k.is_some());
        let q = &a.entropy_quantiles;
        assert!(q.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(a.entropy_by_position.len(), 6);
        let c = measure(&model, &tok, &prompts, None, &cfg(2)).unwrap();
        assert_eq!(c.pass_at_1, None);
        assert_eq!(c.tokens, a.tokens);
    }

    #[test]
    fn bad_settings_are_input_errors() {
        let (model, tok) = tiny();
        let p = vec!["1+2=".to_string()];
        let mut c = cfg(2);
        c.temperature = 0.0;
        assert!(matches!(
            measure(&model, &tok, &p, None, &c),
            Err(LlmError::Input { .. })
        ));
        assert!(matches!(
            measure(&model, &tok, &[], None, &cfg(2)),
            Err(LlmError::Input { .. })
        ));
        assert!(matches!(
            measure(&model, &tok, &p, Some(&[]), &cfg(2)),
            Err(LlmError::Input { .. })
        ));
    }
}
