//! pass@k on a problem set, and the per-token entropy probe.
use crate::error::{LlmError, Result};
use crate::model::Qwen2;
use crate::sample::{generate, token_logp_entropy, Draws, SampleConfig};
use crate::tasks::{load_jsonl, reward, ArithConfig, Kind, Problem};
use crate::tokenizer::Tok;
use candle_core::Tensor;
use serde::Serialize;
use std::path::Path;

/// Unbiased pass@k from `n` samples of which `c` are correct (Chen et al.
/// 2021, the Codex paper: `1 − C(n−c, k)/C(n, k)`, computed as
/// `1 − Π_{i=n−c+1}^{n} (1 − k/i)`). Requires `k ≤ n`.
pub fn pass_at_k(n: usize, c: usize, k: usize) -> f64 {
    if n < k || k == 0 {
        return f64::NAN;
    }
    if n - c < k {
        return 1.0;
    }
    1.0 - ((n - c + 1)..=n)
        .map(|i| 1.0 - k as f64 / i as f64)
        .product::<f64>()
}

/// Result of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalResult {
    #[serde(rename = "pass@1")]
    pub pass_at_1: f64,
    #[serde(rename = "pass@k")]
    pub pass_at_k: f64,
    pub k: usize,
    /// Samples per problem.
    pub n: usize,
    pub temperature: f64,
    pub problems: usize,
    /// Mean number of generated tokens per sample.
    pub mean_tokens: f64,
}

/// Samples `n` completions per problem (in batches of `batch` sequences)
/// and averages pass@1 and pass@k over problems. Sample `s` of problem `i`
/// is row `i·n + s` of `draws` (keyed), so the figures do not depend on
/// `batch`.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    model: &Qwen2,
    tok: &Tok,
    problems: &[Problem],
    n: usize,
    k: usize,
    batch: usize,
    sc: &SampleConfig,
    draws: Draws,
) -> Result<EvalResult> {
    if problems.is_empty() {
        return Err(LlmError::input(
            "task",
            "empty dataset: no problems to evaluate",
        ));
    }
    if k == 0 {
        return Err(LlmError::input("--k", "must be at least 1, got 0"));
    }
    if n < k {
        return Err(LlmError::input(
            "--k",
            format!("needs at least k samples per problem (--n), got k = {k}, n = {n}"),
        ));
    }
    // The prompt starts with BOS when the model has one (as in pretraining).
    let bos = model.config().bos_token_id;
    let mut jobs: Vec<(usize, Vec<u32>)> = Vec::new();
    for (i, p) in problems.iter().enumerate() {
        let ids: Vec<u32> = bos.iter().copied().chain(tok.encode(&p.prompt)?).collect();
        for _ in 0..n {
            jobs.push((i, ids.clone()));
        }
    }
    let mut correct = vec![0usize; problems.len()];
    let mut tokens = 0usize;
    for (c, chunk) in jobs.chunks(batch.max(1)).enumerate() {
        let prompts: Vec<Vec<u32>> = chunk.iter().map(|j| j.1.clone()).collect();
        let out = generate(
            model,
            &prompts,
            sc,
            draws.from_row((c * batch.max(1)) as u64),
        )?;
        for ((i, _), s) in chunk.iter().zip(out) {
            tokens += s.tokens.len();
            let text = tok.decode(&s.tokens)?;
            correct[*i] += reward(&text, &problems[*i].answer) as usize;
        }
    }
    let m = problems.len() as f64;
    Ok(EvalResult {
        pass_at_1: correct.iter().map(|&c| pass_at_k(n, c, 1)).sum::<f64>() / m,
        pass_at_k: correct.iter().map(|&c| pass_at_k(n, c, k)).sum::<f64>() / m,
        k,
        n,
        temperature: sc.temperature,
        problems: problems.len(),
        mean_tokens: tokens as f64 / jobs.len() as f64,
    })
}

/// One token of the entropy probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenEntropy {
    pub id: u32,
    pub token: String,
    /// log π(token | prefix); `None` for a first token without context.
    pub logprob: Option<f64>,
    /// Entropy (nats) of the full next-token distribution that predicted
    /// this token; `None` for a first token without context.
    pub entropy: Option<f64>,
    /// The raw (untempered) logits of the position that predicted this
    /// token, over the whole vocabulary; only with `--logits` (for checking
    /// a checkpoint against another implementation, e.g. transformers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logits: Option<Vec<f32>>,
}

/// Per-token log-prob and entropy of `text` under `model` at `temperature`.
/// When the model config has a `bos_token_id`, it is prepended so that the
/// first token of the text gets a prediction too (it is not reported).
/// With `with_logits`, each predicted token also carries the raw logits of
/// the position that predicted it.
pub fn entropy_probe(
    model: &Qwen2,
    tok: &Tok,
    text: &str,
    temperature: f64,
    with_logits: bool,
) -> Result<Vec<TokenEntropy>> {
    let ids = tok.encode(text)?;
    if ids.is_empty() {
        return Err(LlmError::input("--text", "empty text (no tokens)"));
    }
    // A character outside the vocabulary becomes `<unk>`, whose entropy
    // says nothing about the text: refuse it, naming the character.
    if let Some(unk) = tok.id(crate::tokenizer::UNK) {
        if ids.contains(&unk) {
            for c in text.chars() {
                if tok.encode(&c.to_string())?.contains(&unk) {
                    return Err(LlmError::input(
                        "--text",
                        format!(
                            "character {c:?} (U+{:04X}) is not in the model's vocabulary",
                            c as u32
                        ),
                    ));
                }
            }
            return Err(LlmError::input(
                "--text",
                "the text encodes to <unk>: it has characters outside the model's vocabulary",
            ));
        }
    }
    let bos = model.config().bos_token_id;
    let full: Vec<u32> = bos.iter().copied().chain(ids.iter().copied()).collect();
    let l = full.len();
    let dev = model.device();
    let input = Tensor::from_vec(full.clone(), (1, l), dev)?;
    let mask = Tensor::ones((1, l), candle_core::DType::U32, dev)?;
    let logits = model.forward_masked(&input, &mask, true)?;
    let mut out = Vec::with_capacity(ids.len());
    let skip = bos.is_some() as usize;
    if skip == 0 {
        out.push(TokenEntropy {
            id: full[0],
            token: tok.token(full[0]),
            logprob: None,
            entropy: None,
            logits: None,
        });
    }
    if l > 1 {
        // position t predicts token t+1
        let pred = logits.narrow(1, 0, l - 1)?;
        let tgt = Tensor::from_vec(full[1..].to_vec(), (1, l - 1), dev)?;
        let (lp, h) = token_logp_entropy(&pred, &tgt, temperature)?;
        let (lp, h) = (
            lp.squeeze(0)?.to_vec1::<f32>()?,
            h.squeeze(0)?.to_vec1::<f32>()?,
        );
        let rows: Option<Vec<Vec<f32>>> = if with_logits {
            Some(
                pred.squeeze(0)?
                    .to_dtype(candle_core::DType::F32)?
                    .to_vec2()?,
            )
        } else {
            None
        };
        for (j, &id) in full[1..].iter().enumerate() {
            out.push(TokenEntropy {
                id,
                token: tok.token(id),
                logprob: Some(lp[j] as f64),
                entropy: Some(h[j] as f64),
                logits: rows.as_ref().map(|r| r[j].clone()),
            });
        }
    }
    Ok(out)
}

/// The problems of `--task` (or the checkpoint's saved task): a JSONL file,
/// or synthetic kinds with the saved difficulty and split.
pub fn problem_set(
    saved: &Option<serde_json::Value>,
    task: Option<&str>,
    n: usize,
) -> Result<Vec<Problem>> {
    // Without --task the checkpoint's own task is used; a checkpoint without
    // one (task.json missing, or without `arith`) is refused rather than
    // evaluated on a default task it may never have seen.
    let mut arith: ArithConfig = match saved.as_ref().and_then(|t| t.get("arith")) {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| LlmError::input("task.json", format!("`arith`: {e}")))?,
        None if task.is_none() => {
            return Err(LlmError::input(
                "--task",
                "the checkpoint has no task (task.json missing or without `arith`): pass --task add, sub, mul, mixed or a .jsonl file",
            ))
        }
        None => ArithConfig::default(),
    };
    if let Some(t) = task {
        if t.ends_with(".jsonl") || t.starts_with("jsonl:") {
            return load_jsonl(Path::new(t.trim_start_matches("jsonl:")));
        }
        let mut kinds = Vec::new();
        for k in t.split(',') {
            kinds.push(match k.trim() {
                "add" => Kind::Add,
                "sub" => Kind::Sub,
                "mul" => Kind::Mul,
                "mixed" => Kind::Mixed,
                other => {
                    return Err(LlmError::input(
                        "--task",
                        format!("unknown task `{other}` (add, sub, mul, mixed, or a .jsonl file)"),
                    ))
                }
            });
        }
        arith.kinds = kinds;
    }
    arith.validate("--task")?;
    if n == 0 {
        return Err(LlmError::input(
            "--problems",
            "empty dataset: need at least 1 problem",
        ));
    }
    Ok(arith.validation_problems(n))
}
