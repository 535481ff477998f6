//! `entropic llm diagnose`: where a checkpoint's entropy sits on a task
//! (docs/mathematics.md §8), measured by [`entropic_llm::diagnose::measure`].
//!
//! Prompts come from `--prompts FILE` (JSONL, one `{"prompt": ...}` per
//! line, with an optional `"answer"`: pass@k is reported only when every
//! line has one), or `--task` (synthetic kinds, or the checkpoint's own
//! task when neither is given), `--problems` of them from the validation
//! split.
// `!(x > 0.0)` is used on purpose: it also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
use crate::cmd_llm::DeviceArgs;
use crate::error::InputError;
use clap::Args;
use entropic_llm::checkpoint::{self, stop_tokens};
use entropic_llm::diagnose::{measure, Diagnosis, MeasureConfig};
use entropic_llm::eval::problem_set;
use entropic_llm::pretrain::EvalConfig;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags of `entropic llm diagnose`.
#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Checkpoint directory (Hugging Face layout: config.json,
    /// model.safetensors, tokenizer.json).
    #[arg(long)]
    pub model: PathBuf,
    /// JSONL file of {"prompt": ..., "answer": ...} (answer optional).
    #[arg(long, conflicts_with = "task")]
    pub prompts: Option<PathBuf>,
    /// Synthetic task kinds `add,sub,mul,mixed` (default: the checkpoint's task).
    #[arg(long)]
    pub task: Option<String>,
    /// Prompts drawn from the task's validation split (with --task or the
    /// checkpoint's task).
    #[arg(long, default_value_t = 256)]
    pub problems: usize,
    /// Sampling temperature (> 0): the GRPO rollout temperature.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub temperature: f64,
    /// Completions per prompt (pass@k uses k = samples).
    #[arg(long, default_value_t = 8)]
    pub samples: usize,
    /// Most generated tokens per completion (default: the checkpoint's eval
    /// setting, else 24).
    #[arg(long)]
    pub max_new_tokens: Option<usize>,
    /// HP threshold τ (docs/mathematics.md §3).
    #[arg(long, default_value_t = 0.95)]
    pub tau: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub dev: DeviceArgs,
    /// Print the diagnosis as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Reads a `--prompts` JSONL file: prompts, and answers when every line has one.
fn read_prompts(path: &Path) -> Result<(Vec<String>, Option<Vec<String>>), InputError> {
    let file = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError(format!("{file}: cannot read: {e}")))?;
    let (mut prompts, mut answers, mut all) = (Vec::new(), Vec::new(), true);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| InputError(format!("{file}: line {}: not JSON: {e}", i + 1)))?;
        let p = v.get("prompt").and_then(|p| p.as_str()).ok_or_else(|| {
            InputError(format!(
                "{file}: line {}: expected {{\"prompt\": \"...\"}}",
                i + 1
            ))
        })?;
        prompts.push(p.to_string());
        match v.get("answer") {
            Some(serde_json::Value::String(a)) => answers.push(a.clone()),
            Some(serde_json::Value::Number(n)) => answers.push(n.to_string()),
            _ => all = false,
        }
    }
    if prompts.is_empty() {
        return Err(InputError(format!("{file}: empty dataset: no prompts")));
    }
    Ok((prompts, all.then_some(answers)))
}

/// The human-readable summary of a diagnosis.
pub fn summary(d: &Diagnosis) -> String {
    let c = &d.composition;
    let mut s = format!(
        "{} prompts × {} samples at T = {} (vocabulary {}), {} tokens, {:.1} per completion ({:.0}% stopped)\n",
        d.prompts,
        d.samples,
        d.temperature,
        d.vocab,
        c.n_tokens,
        d.mean_tokens,
        100.0 * d.stopped_frac
    );
    s += &format!(
        "token-mean entropy {:.4} nats; hp_frac {:.3} (τ = {}); hp_entropy_share {:.3}; tail_mass_hp {:.4}\n",
        c.entropy_mean, c.hp_frac, d.tau, c.hp_entropy_share, c.tail_mass_hp
    );
    s += "entropy quantiles:";
    for (q, v) in &d.entropy_quantiles {
        s += &format!(" q{}={:.4}", q, v);
    }
    s += "\n";
    if let Some(p1) = d.pass_at_1 {
        s += &format!("pass@1 {p1:.3}");
        if let Some(pk) = d.pass_at_k {
            s += &format!("  pass@{} {pk:.3}", d.samples);
        }
        s += "\n";
    }
    s
}

/// Runs `entropic llm diagnose`.
pub fn run(a: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    if !(a.temperature > 0.0 && a.temperature.is_finite()) {
        return Err(
            InputError(format!("--temperature: must be > 0, got {}", a.temperature)).into(),
        );
    }
    if a.samples == 0 || a.problems == 0 {
        return Err(InputError("--samples and --problems: must be at least 1".into()).into());
    }
    if !(a.tau > 0.0 && a.tau < 1.0) {
        return Err(InputError(format!("--tau: must be in (0, 1), got {}", a.tau)).into());
    }
    let given = match &a.prompts {
        Some(p) => Some(read_prompts(p)?),
        None => None,
    };
    let (device, dtype) = a.dev.resolve()?;
    let ck = checkpoint::load(&a.model, &device, dtype)?;
    let saved_eval: EvalConfig = ck
        .task
        .as_ref()
        .and_then(|t| t.get("eval"))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let (prompts, answers) = match given {
        Some(x) => x,
        None => {
            let probs = problem_set(&ck.task, a.task.as_deref(), a.problems)?;
            (
                probs.iter().map(|p| p.prompt.clone()).collect(),
                Some(probs.into_iter().map(|p| p.answer).collect()),
            )
        }
    };
    let stop = stop_tokens(&ck);
    let pad = ck
        .model
        .config()
        .pad_token_id
        .or(stop.first().copied())
        .unwrap_or(0);
    let cfg = MeasureConfig {
        temperature: a.temperature,
        samples: a.samples,
        max_new_tokens: a.max_new_tokens.unwrap_or(saved_eval.max_new_tokens),
        batch: saved_eval.batch,
        tau: a.tau,
        seed: a.seed,
        stop,
        pad_id: pad,
    };
    let d = measure(&ck.model, &ck.tok, &prompts, answers.as_deref(), &cfg)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", summary(&d));
    }
    Ok(ExitCode::SUCCESS)
}
