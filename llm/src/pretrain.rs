//! Warm start from random initialisation: supervised training of a tiny
//! Qwen2 on generated worked answers, a set share of them wrong, so the
//! base policy is imperfect and RL has room to improve it.
use crate::checkpoint;
use crate::config::Qwen2Config;
use crate::error::{LlmError, Result};
use crate::eval::{evaluate, EvalResult};
use crate::model::{Qwen2, TrainOps};
use crate::optim::{clip_grad_norm, AdamW, AdamWConfig};
use crate::sample::{Draws, SampleConfig};
use crate::tasks::ArithConfig;
use crate::tokenizer::{Tok, TokKind, TokenizerConfig, BOS, EOS, PAD};
use candle_core::{DType, Device, Tensor, D};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// Model shape of a scenario (`[model]`); the vocabulary comes from the
/// tokenizer (`[tokenizer]`), embeddings are tied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelShape {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub max_position_embeddings: usize,
}

impl Default for ModelShape {
    fn default() -> Self {
        ModelShape {
            hidden_size: 128,
            intermediate_size: 512,
            num_hidden_layers: 4,
            num_attention_heads: 4,
            num_key_value_heads: 2,
            max_position_embeddings: 64,
        }
    }
}

/// Training settings (`[pretrain]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PretrainConfig {
    /// Optimizer steps: the base is these steps, whatever the machine.
    pub steps: usize,
    /// Sequences per step.
    pub batch_size: usize,
    /// Peak learning rate; linear warm-up, then cosine decay to 10 %.
    pub lr: f64,
    pub warmup: usize,
    pub weight_decay: f64,
    /// Global gradient-norm clip.
    pub grad_clip: f64,
    /// Share of training answers worked out for a wrong result.
    pub wrong_frac: f64,
    /// Wall-clock budget of the training loop in seconds (0 = none). It
    /// never hands on a shorter base: when it runs out before `steps`,
    /// pretraining fails with [`LlmError::Incomplete`] and saves nothing.
    pub time_limit_s: f64,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        PretrainConfig {
            steps: 2000,
            batch_size: 64,
            lr: 3e-3,
            warmup: 100,
            weight_decay: 0.01,
            grad_clip: 1.0,
            wrong_frac: 0.4,
            time_limit_s: 0.0,
        }
    }
}

/// Evaluation settings stored with the checkpoint (`[eval]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Validation problems.
    pub problems: usize,
    /// Samples per problem (n ≥ k).
    pub n: usize,
    pub k: usize,
    pub temperature: f64,
    pub max_new_tokens: usize,
    /// Sequences per sampling batch.
    pub batch: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            problems: 200,
            n: 8,
            k: 8,
            temperature: 1.0,
            max_new_tokens: 24,
            batch: 256,
        }
    }
}

/// A scenario file for the LLM commands. Unknown top-level tables are
/// allowed (later commands add their own, e.g. `[grpo]`); each known table
/// refuses unknown keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LlmScenario {
    pub seed: u64,
    pub model: ModelShape,
    pub task: ArithConfig,
    pub pretrain: PretrainConfig,
    pub eval: EvalConfig,
    /// The tokenizer pretraining builds (default: the character one).
    pub tokenizer: TokenizerConfig,
}

impl LlmScenario {
    /// Reads and validates a scenario TOML.
    pub fn load(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| LlmError::input(&file, format!("cannot read: {e}")))?;
        let s: LlmScenario =
            toml::from_str(&text).map_err(|e| LlmError::toml(&file, &text, &e, true))?;
        s.validate(&file)?;
        Ok(s)
    }

    /// Range checks.
    pub fn validate(&self, file: &str) -> Result<()> {
        self.task.validate(file)?;
        self.tokenizer.validate(file)?;
        let p = &self.pretrain;
        let bad = |k: &str, m: &str| Err(LlmError::input(file, format!("key `{k}`: {m}")));
        if p.batch_size == 0 || p.steps == 0 {
            return bad("pretrain.steps / pretrain.batch_size", "must be at least 1");
        }
        if !(p.lr > 0.0) || !(0.0..=1.0).contains(&p.wrong_frac) || !(p.grad_clip > 0.0) {
            return bad(
                "pretrain.lr / wrong_frac / grad_clip",
                "lr > 0, wrong_frac in [0, 1], grad_clip > 0",
            );
        }
        let e = &self.eval;
        if e.k == 0 || e.n < e.k || e.problems == 0 || !(e.temperature >= 0.0) {
            return bad("eval", "need 1 ≤ k ≤ n, problems ≥ 1, temperature ≥ 0");
        }
        self.model_config(58).validate(file)
    }

    /// The Qwen2 config of `[model]` for a vocabulary of `vocab` tokens.
    pub fn model_config(&self, vocab: usize) -> Qwen2Config {
        let m = &self.model;
        let mut c = Qwen2Config::tiny(
            vocab,
            m.hidden_size,
            m.intermediate_size,
            m.num_hidden_layers,
            m.num_attention_heads,
            m.num_key_value_heads,
        );
        c.max_position_embeddings = m.max_position_embeddings;
        c
    }
}

/// Learning rate at `step` (0-based): linear warm-up to `lr`, cosine to `lr/10`.
pub fn lr_at(p: &PretrainConfig, step: usize) -> f64 {
    if step < p.warmup {
        return p.lr * (step + 1) as f64 / p.warmup as f64;
    }
    let t = (step - p.warmup) as f64 / (p.steps - p.warmup).max(1) as f64;
    p.lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos()))
}

/// A right-padded batch for next-token loss on completions only.
pub struct LmBatch {
    /// (B, L) u32 inputs.
    pub input: Tensor,
    /// (B, L) u32 attention mask.
    pub mask: Tensor,
    /// (B, L) u32 next tokens.
    pub target: Tensor,
    /// (B, L) f32: 1 where the target is a completion token.
    pub loss_mask: Tensor,
    /// Real (non-pad) input tokens.
    pub tokens: usize,
}

/// Builds an [`LmBatch`] from (prompt ids, completion ids) pairs.
pub fn lm_batch(pairs: &[(Vec<u32>, Vec<u32>)], pad: u32, dev: &Device) -> Result<LmBatch> {
    let l = pairs
        .iter()
        .map(|(p, c)| p.len() + c.len() - 1)
        .max()
        .unwrap_or(1);
    let b = pairs.len();
    let (mut inp, mut msk, mut tgt, mut lm) = (
        vec![pad; b * l],
        vec![0u32; b * l],
        vec![pad; b * l],
        vec![0f32; b * l],
    );
    let mut tokens = 0;
    for (r, (p, c)) in pairs.iter().enumerate() {
        let seq: Vec<u32> = p.iter().chain(c.iter()).copied().collect();
        for t in 0..seq.len() - 1 {
            inp[r * l + t] = seq[t];
            msk[r * l + t] = 1;
            tgt[r * l + t] = seq[t + 1];
            lm[r * l + t] = (t + 1 >= p.len()) as u8 as f32;
        }
        tokens += seq.len() - 1;
    }
    Ok(LmBatch {
        input: Tensor::from_vec(inp, (b, l), dev)?,
        mask: Tensor::from_vec(msk, (b, l), dev)?,
        target: Tensor::from_vec(tgt, (b, l), dev)?,
        loss_mask: Tensor::from_vec(lm, (b, l), dev)?,
        tokens,
    })
}

/// Mean next-token cross-entropy over the loss-masked positions (differentiable).
pub fn lm_loss(model: &Qwen2, batch: &LmBatch) -> Result<Tensor> {
    let logits = model.forward_train(&batch.input, &batch.mask)?;
    let logp = if model.train_ops() == TrainOps::Fused
        && crate::kernels::supported(logits.device(), logits.dtype())
    {
        // one fused pass (its entropy column, a division and a product per
        // element, is dropped)
        crate::kernels::logp_entropy(&logits, &batch.target, 1.0)?
            .narrow(D::Minus1, 0, 1)?
            .squeeze(D::Minus1)?
    } else {
        let lsm = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        lsm.gather(&batch.target.unsqueeze(D::Minus1)?.contiguous()?, D::Minus1)?
            .squeeze(D::Minus1)?
    };
    let n = batch.loss_mask.sum_all()?;
    Ok((logp * &batch.loss_mask)?
        .sum_all()?
        .neg()?
        .broadcast_div(&n)?)
}

/// The 1-, 5- and 15-minute load averages of `/proc/loadavg` (None where
/// it cannot be read, e.g. off Linux): printed beside a run's time, since
/// the time depends on what else the machine runs.
pub fn load_average() -> Option<[f64; 3]> {
    let t = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = t.split_whitespace().map(|x| x.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// The tokenizer of `sc`: the character one, or a BPE trained on
/// `tokenizer.corpus` generated training examples (prompts and responses
/// as separate texts, `pretrain.wrong_frac` as in training), drawn with a
/// generator of their own (seed `seed`, stream [`TOKENIZER_STREAM`]) so the
/// tokenizer does not shift the training data.
pub fn build_tokenizer(sc: &LlmScenario) -> Result<Tok> {
    match sc.tokenizer.kind {
        TokKind::Char => Tok::char_level(),
        TokKind::Bpe => {
            let mut rng = ChaCha8Rng::seed_from_u64(sc.seed);
            rng.set_stream(TOKENIZER_STREAM);
            let mut texts = Vec::with_capacity(2 * sc.tokenizer.corpus);
            for _ in 0..sc.tokenizer.corpus {
                let (p, work) = sc.task.train_example(sc.pretrain.wrong_frac, &mut rng);
                texts.push(p.prompt);
                texts.push(work);
            }
            Tok::train_bpe(texts.into_iter(), &sc.tokenizer)
        }
    }
}

/// ChaCha stream of the tokenizer corpus's generator.
pub const TOKENIZER_STREAM: u64 = 0x70c;

/// What a pretraining run produced.
#[derive(Debug, Clone, Serialize)]
pub struct PretrainReport {
    pub steps: usize,
    pub params: usize,
    /// Vocabulary size of the tokenizer.
    pub vocab: usize,
    /// Seconds spent building the tokenizer (BPE training), before the steps.
    pub tokenizer_seconds: f64,
    /// Load averages (1, 5, 15 min) when pretraining started and ended.
    pub load_start: Option<[f64; 3]>,
    pub load_end: Option<[f64; 3]>,
    pub final_loss: f64,
    pub train_seconds: f64,
    pub train_tokens_per_s: f64,
    pub eval: EvalResult,
}

/// Trains from scratch as `sc` says and writes the checkpoint to `out`,
/// then evaluates pass@1 / pass@k on the validation split.
pub fn pretrain(sc: &LlmScenario, out: &Path, progress: bool) -> Result<PretrainReport> {
    let dev = Device::Cpu;
    let load_start = load_average();
    let t0 = Instant::now();
    let tok = build_tokenizer(sc)?;
    let tokenizer_seconds = t0.elapsed().as_secs_f64();
    let id = |s: &str| {
        tok.id(s)
            .ok_or_else(|| LlmError::Other(format!("tokenizer lacks {s}")))
    };
    let (pad, eos, bos) = (id(PAD)?, id(EOS)?, id(BOS)?);
    let mut cfg = sc.model_config(tok.vocab_size());
    cfg.bos_token_id = Some(bos);
    cfg.eos_token_id = Some(eos.into());
    cfg.pad_token_id = Some(pad);
    let mut rng = ChaCha8Rng::seed_from_u64(sc.seed);
    let model = Qwen2::init(&cfg, &dev, DType::F32, &mut rng)?;
    let p = &sc.pretrain;
    let mut opt = AdamW::new(
        model.vars(),
        AdamWConfig {
            lr: p.lr,
            weight_decay: p.weight_decay,
            ..Default::default()
        },
    )?;
    let bar = if progress {
        indicatif::ProgressBar::new(p.steps as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let (mut tokens, mut loss_v, mut steps) = (0usize, f64::NAN, 0usize);
    for step in 0..p.steps {
        let elapsed_s = start.elapsed().as_secs_f64();
        if p.time_limit_s > 0.0 && elapsed_s > p.time_limit_s {
            bar.finish_and_clear();
            return Err(LlmError::Incomplete {
                done: step,
                steps: p.steps,
                limit_s: p.time_limit_s,
                elapsed_s,
            });
        }
        // lr → batch → forward/backward → clip → step → log
        opt.cfg.lr = lr_at(p, step);
        let mut pairs = Vec::with_capacity(p.batch_size);
        for _ in 0..p.batch_size {
            let (prob, work) = sc.task.train_example(p.wrong_frac, &mut rng);
            let mut c = tok.encode(&work)?;
            c.push(eos);
            let mut prompt = vec![bos];
            prompt.extend(tok.encode(&prob.prompt)?);
            pairs.push((prompt, c));
        }
        let batch = lm_batch(&pairs, pad, &dev)?;
        // in candle's CPU pool, as `generate` (crate::sample) explains
        let loss = dev.with_context(|| -> Result<Tensor> {
            let loss = lm_loss(&model, &batch)?;
            let mut grads = loss.backward()?;
            clip_grad_norm(model.vars(), &mut grads, p.grad_clip)?;
            opt.step(&grads)?;
            Ok(loss)
        })?;
        tokens += batch.tokens;
        steps = step + 1;
        loss_v = loss.to_scalar::<f32>()? as f64;
        if step % 10 == 0 {
            let tps = tokens as f64 / start.elapsed().as_secs_f64();
            bar.set_message(format!("loss {loss_v:.4}  {tps:.0} tok/s"));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let train_seconds = start.elapsed().as_secs_f64();
    let task = serde_json::json!({"arith": sc.task, "eval": sc.eval, "scenario": sc});
    checkpoint::save(out, &model, &tok, Some(&task))?;
    let e = &sc.eval;
    let val = sc.task.validation_problems(e.problems);
    let sample = SampleConfig {
        max_new_tokens: e.max_new_tokens,
        temperature: e.temperature,
        top_p: 1.0,
        stop: vec![eos],
        pad_id: pad,
        use_cache: true,
    };
    let eval = evaluate(
        &model,
        &tok,
        &val,
        e.n,
        e.k,
        e.batch,
        &sample,
        Draws::new(sc.seed + 1, 0, 0),
    )?;
    Ok(PretrainReport {
        steps,
        params: model.num_params(),
        vocab: tok.vocab_size(),
        tokenizer_seconds,
        load_start,
        load_end: load_average(),
        final_loss: loss_v,
        train_seconds,
        train_tokens_per_s: tokens as f64 / train_seconds,
        eval,
    })
}

#[cfg(test)]
mod tests {
    use super::{lm_batch, lm_loss};
    use crate::config::Qwen2Config;
    use crate::model::{Qwen2, TrainOps};
    use candle_core::{DType, Device, Tensor};
    use rand::SeedableRng;

    /// The language-model loss and the log-prob/entropy pair of
    /// [`crate::sample::token_logp_entropy_with`] (on narrowed, so
    /// non-contiguous, logits at T = 0.8, as GRPO and the self-test pass
    /// them) agree between the fused kernel and the composed ops, values
    /// and every parameter's gradient, to rounding in f64.
    #[test]
    fn fused_loss_matches_the_composed_one() -> crate::error::Result<()> {
        use crate::sample::token_logp_entropy_with;
        let cfg = Qwen2Config::tiny(12, 16, 32, 2, 4, 2);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut model = Qwen2::init(&cfg, &Device::Cpu, DType::F64, &mut rng)?;
        let pairs = vec![
            (vec![1u32, 4], vec![7u32, 2, 9]),
            (vec![3], vec![5, 11, 0, 6]),
        ];
        let mut batch = lm_batch(&pairs, 0, &Device::Cpu)?;
        // lm_batch's mask is f32 (the models it serves); this model is f64
        batch.loss_mask = batch.loss_mask.to_dtype(DType::F64)?;
        let ids = Tensor::new(&[[0u32, 3, 7, 1, 9, 2], [4, 4, 8, 11, 0, 5]], &Device::Cpu)?;
        let mask = Tensor::new(&[[0u32, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]], &Device::Cpu)?;
        let run = |m: &Qwen2| -> crate::error::Result<(Vec<f64>, Vec<Tensor>)> {
            let lm = lm_loss(m, &batch)?;
            let logits = m.forward_train(&ids, &mask)?;
            let (lp, h) = token_logp_entropy_with(
                &logits.narrow(1, 0, 5)?,
                &ids.narrow(1, 1, 5)?,
                0.8,
                m.train_ops(),
            )?;
            let total = ((&lm + lp.sum_all()?)? + (h.sum_all()? * 0.5)?)?;
            let g = total.backward()?;
            let mut vals = vec![lm.to_scalar::<f64>()?];
            vals.extend(lp.flatten_all()?.to_vec1::<f64>()?);
            vals.extend(h.flatten_all()?.to_vec1::<f64>()?);
            let grads = m
                .vars()
                .iter()
                .map(|(_, v)| g.get(v.as_tensor()).cloned().expect("a gradient"))
                .collect();
            Ok((vals, grads))
        };
        let (vf, gf) = run(&model)?;
        model.set_train_ops(TrainOps::Composed);
        let (vc, gc) = run(&model)?;
        for (a, b) in vf.iter().zip(&vc) {
            assert!((a - b).abs() < 1e-12, "values {a} vs {b}");
        }
        for ((name, _), (a, b)) in model.vars().iter().zip(gf.iter().zip(&gc)) {
            let d = (a - b)?.abs()?.max_all()?.to_scalar::<f64>()?;
            let s = b.abs()?.max_all()?.to_scalar::<f64>()?;
            assert!(s > 0.0, "{name}: zero gradient");
            assert!(d <= 1e-10 * s.max(1.0), "{name}: gradients differ by {d}");
        }
        Ok(())
    }
}
