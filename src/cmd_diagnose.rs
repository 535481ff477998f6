//! `entropic llm diagnose`: where a checkpoint's entropy sits on a task
//! (docs/mathematics.md §8), measured by [`entropic_llm::diagnose::measure`].
//!
//! Prompts come from `--prompts FILE` (JSONL, one `{"prompt": ...}` per
//! line, with an optional `"answer"`: pass@k is reported only when every
//! line has one), or `--task` (synthetic kinds, or the checkpoint's own
//! task when neither is given), `--problems` of them from the validation
//! split.
//!
//! Then it places the model on the regime map (the committed
//! `reports/regime-map.json`, built in, or `--map FILE`) and reports what
//! the nearest cell predicts ([`crate::lab::diagnose`]; docs/diagnose.md §1–§4).
// `!(x > 0.0)` is used on purpose: it also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
use crate::device_args::DeviceArgs;
use crate::error::InputError;
use crate::lab::diagnose::{
    self as place, committed_map, histogram_svg, model_features, read_map, GainSpec, Map,
    Placement, Prediction,
};
use clap::Args;
use entropic_llm::checkpoint::{self, stop_tokens};
use entropic_llm::diagnose::{measure, Diagnosis, MeasureConfig};
use entropic_llm::eval::problem_set;
use entropic_llm::pretrain::EvalConfig;
use entropic_sim::optim::OptimizerKind;
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
    /// Print everything as JSON (diagnosis, map hash, placement, prediction).
    #[arg(long)]
    pub json: bool,
    /// A regime map (`entropic map`'s regime-map.json) instead of the
    /// committed one built into the binary.
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// Write the histogram of per-token entropy (HP and other tokens) here.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Target (nats) of the suggested gains (default: the paper's 0.10/0.12
    /// of the measured entropy).
    #[arg(long, allow_negative_numbers = true)]
    pub target: Option<f64>,
    /// Compare with the map's cells of this optimizer (`adam`, `sgd`) or
    /// `any`. Default `adam`: LLM RL trains with Adam(W), and the map's SGD
    /// cells repeat the Adam cells' instances (equal features).
    #[arg(long, default_value = "adam", value_parser = ["adam", "sgd", "any"])]
    pub optimizer: String,
    /// Wanted settling step of the suggested gains (updates of the map's
    /// toy cell).
    #[arg(long, default_value_t = 50)]
    pub settle: usize,
}

/// Reads `--map`, or the built-in map.
fn load_map(path: Option<&Path>) -> Result<Map, InputError> {
    match path {
        None => committed_map(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| InputError(format!("--map {}: cannot read: {e}", p.display())))?;
            read_map(&text, &format!("--map {}", p.display()))
        }
    }
}

/// The placement and prediction part of the text output.
pub fn map_summary(map: &Map, pl: &Placement, pr: Option<&Prediction>) -> String {
    let mut s = format!(
        "regime map {} ({} cells{}), sha256 {}\n",
        map.source,
        map.cells.len(),
        if map.complete { "" } else { ", incomplete" },
        map.sha256
    );
    s += &format!(
        "features (model vs the range of the {} {} cells; distance standardised by the {}):\n",
        pl.cells,
        pl.optimizer.as_deref().unwrap_or("(any optimizer)"),
        pl.spread
    );
    for e in &pl.extents {
        s += &format!(
            "  {:<17} {:>9.4}   map [{:.4}, {:.4}]{}\n",
            e.feature,
            e.model,
            e.min,
            e.max,
            if e.outside { "   OUTSIDE" } else { "" }
        );
    }
    if pl.outside {
        s += &format!(
            "outside the map (beyond its range by more than {:.0}% on a feature): predictions are extrapolated\n",
            100.0 * pl.outside_margin
        );
    }
    s += "nearest cells:\n";
    for n in &pl.neighbours {
        s += &format!(
            "  {:<24} distance {:.3}  (K {}, T {}, {}, length {}; H0 {:.4}, hp_frac0 {:.3}, hp_entropy_share0 {:.3})\n",
            n.id,
            n.distance,
            n.vocab,
            n.temperature,
            n.optimizer,
            n.length,
            n.features.entropy,
            n.features.hp_frac,
            n.features.hp_entropy_share
        );
    }
    let Some(p) = pr else {
        return s;
    };
    s += &format!(
        "prediction{} from cell {} (distance {:.3}{}; a toy cell's result, not a measurement of this model):\n",
        if p.extrapolated { " (extrapolated)" } else { "" },
        p.cell,
        p.distance,
        if p.temperature_differs {
            ", at another temperature than this diagnosis"
        } else {
            ""
        }
    );
    let outcomes: Vec<String> = p
        .outcomes
        .iter()
        .map(|(k, o)| format!("{k} {}", o.name()))
        .collect();
    s += &format!("  PI outcomes: {}\n", outcomes.join(", "));
    s += &format!(
        "  g/|b| {}\n",
        p.g_over_abs_b.map_or("n/a".into(), |x| format!("{x:.3}"))
    );
    let fr = |v: &[f64]| {
        v.iter()
            .map(|f| format!("{f:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    s += &match p.official_target_range {
        Some([lo, hi]) => format!(
            "  official law (Kp 1, Ki 0.01) held at H_tar/H0 in {{{}}}: targets {:.4}–{:.4} nats here\n",
            fr(&p.official_holds_fractions),
            lo,
            hi
        ),
        None => format!(
            "  official law (Kp 1, Ki 0.01) held at none of H_tar/H0 {{{}}}\n",
            fr(&p.official_tried_fractions)
        ),
    };
    let g = &p.gains;
    s += &match (&g.recommendation, &g.refused) {
        (Some(r), _) => format!(
            "  suggested gains for target {:.4} nats, settling by step {}: Kp {}, Ki {}{} (tune's method on the cell's plant scaled to this entropy: g {:.3e}, b {:.3e})\n",
            g.target,
            g.settle,
            entropic_proofs::tune::fmt_gain(r.kp),
            entropic_proofs::tune::fmt_gain(r.ki),
            if r.met { "" } else { " (fastest found; the settling time is not met at every corner)" },
            g.g,
            g.b
        ),
        (None, Some(why)) => format!(
            "  no suggested gains for target {:.4} nats: {why}\n",
            g.target
        ),
        (None, None) => String::new(),
    };
    s
}

/// A `--prompts` file as read: prompts, answers when every line has one,
/// and each prompt's line number.
type Prompts = (Vec<String>, Option<Vec<String>>, Vec<usize>);

/// Reads a `--prompts` JSONL file: prompts, and answers when every line has one.
fn read_prompts(path: &Path) -> Result<Prompts, InputError> {
    let file = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError(format!("{file}: cannot read: {e}")))?;
    let (mut prompts, mut answers, mut all) = (Vec::new(), Vec::new(), true);
    let mut lines = Vec::new();
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
        lines.push(i + 1);
        match v.get("answer") {
            Some(serde_json::Value::String(a)) => answers.push(a.clone()),
            Some(serde_json::Value::Number(n)) => answers.push(n.to_string()),
            _ => all = false,
        }
    }
    if prompts.is_empty() {
        return Err(InputError(format!("{file}: empty dataset: no prompts")));
    }
    Ok((prompts, all.then_some(answers), lines))
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
    if let Some(t) = a.target.filter(|t| !(t.is_finite() && *t >= 0.0)) {
        return Err(InputError(format!("--target: must be a finite entropy >= 0, got {t}")).into());
    }
    if a.settle == 0 {
        return Err(InputError("--settle: must be at least 1 step".into()).into());
    }
    if let Some(p) = &a.svg {
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(InputError(format!(
                    "--svg {}: folder {} does not exist",
                    p.display(),
                    dir.display()
                ))
                .into());
            }
        }
    }
    let map = load_map(a.map.as_deref())?;
    let optimizer = match a.optimizer.as_str() {
        "adam" => Some(OptimizerKind::Adam),
        "sgd" => Some(OptimizerKind::Sgd),
        _ => None,
    };
    if !map
        .cells
        .iter()
        .any(|c| optimizer.is_none_or(|o| c.optimizer == o))
    {
        return Err(InputError(format!(
            "--optimizer {}: {} has no cell of that optimizer (use --optimizer any)",
            a.optimizer, map.source
        ))
        .into());
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
        Some((prompts, answers, lines)) => {
            // a tokenizer without byte fallback drops what it cannot
            // encode: refuse the file rather than measure other prompts
            for (p, line) in prompts.iter().zip(lines) {
                if let Some(ch) = ck.tok.first_unencodable(p)? {
                    return Err(InputError(format!(
                        "{}: line {line}: character {ch:?} cannot be encoded by {} (no byte fallback)",
                        a.prompts.as_deref().unwrap_or(Path::new("")).display(),
                        a.model.join("tokenizer.json").display()
                    ))
                    .into());
                }
            }
            (prompts, answers)
        }
        None => {
            let probs = problem_set(&ck.task, a.task.as_deref(), a.problems)?;
            (
                probs.iter().map(|p| p.prompt.clone()).collect(),
                Some(probs.into_iter().map(|p| p.answer).collect()),
            )
        }
    };
    let stop = stop_tokens(&ck);
    let pad = ck.model.config().pad_id(&stop);
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
    let features = model_features(&d);
    let placement = place::place(&map, &features, optimizer);
    let spec = GainSpec {
        target: a.target,
        settle: a.settle,
        max_overshoot: 0.1,
    };
    let prediction = place::predict(
        &map,
        &placement,
        d.composition.entropy_mean,
        d.temperature,
        &spec,
    );
    if let Some(p) = &a.svg {
        histogram_svg(p, &d)?;
    }
    if a.json {
        let v = serde_json::json!({
            "model": a.model.display().to_string(),
            "diagnosis": d,
            "features": features,
            "map": {
                "source": map.source,
                "sha256": map.sha256,
                "complete": map.complete,
                "cells": map.cells.len(),
            },
            "placement": placement,
            "prediction": prediction,
            "svg": a.svg.as_ref().map(|p| p.display().to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", summary(&d));
        print!("{}", map_summary(&map, &placement, prediction.as_ref()));
        if let Some(p) = &a.svg {
            println!("histogram: {}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
