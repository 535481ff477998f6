//! The `entropic llm ...` commands (clap), kept here so the binary only
//! wires them in.
use crate::checkpoint::{self, stop_tokens};
use crate::error::{LlmError, Result};
use crate::eval::{entropy_probe, evaluate};
use crate::pretrain::{pretrain, EvalConfig, LlmScenario};
use crate::sample::SampleConfig;
use crate::tasks::{load_jsonl, ArithConfig, Kind, Problem};
use candle_core::{DType, Device};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

pub use crate::bench::bench_llm;

/// `entropic llm <command>`.
#[derive(Debug, clap::Subcommand)]
pub enum LlmCommand {
    /// Train a tiny model from random initialisation on worked answers.
    Pretrain {
        /// Scenario TOML (e.g. scenarios/llm-tiny.toml).
        #[arg(long)]
        config: PathBuf,
        /// Output checkpoint directory.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite a non-empty `--out`.
        #[arg(long)]
        force: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// pass@1 and pass@k on the validation split.
    Eval {
        /// Checkpoint directory.
        #[arg(long)]
        model: PathBuf,
        /// Task: kinds `add,sub,mul,mixed` (comma-separated), or a `.jsonl`
        /// file of {"prompt", "answer"}. Default: the checkpoint's task.json.
        #[arg(long)]
        task: Option<String>,
        #[arg(long, default_value_t = 8)]
        k: usize,
        /// Samples per problem (default: k).
        #[arg(long)]
        n: Option<usize>,
        #[arg(long, default_value_t = 1.0)]
        temperature: f64,
        #[arg(long, default_value_t = 1.0)]
        top_p: f64,
        /// Validation problems (synthetic tasks).
        #[arg(long)]
        problems: Option<usize>,
        /// Most generated tokens per sample (default: the checkpoint's, else 24).
        #[arg(long)]
        max_new_tokens: Option<usize>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[command(flatten)]
        dev: DeviceArgs,
        #[arg(long)]
        json: bool,
    },
    /// GRPO with entropy control from a base checkpoint; an `--out` that
    /// holds a checkpoint resumes it.
    Grpo {
        /// GRPO config TOML (e.g. scenarios/llm-grpo.toml).
        #[arg(long)]
        config: PathBuf,
        /// Base checkpoint directory.
        #[arg(long)]
        model: PathBuf,
        /// Run directory (metrics.jsonl, checkpoints).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        dev: DeviceArgs,
        /// No per-step lines on stderr.
        #[arg(long)]
        quiet: bool,
    },
    /// The LLM validation: every control arm, a probe, the toy side by
    /// side, and the report (see `entropic_llm::validate`).
    Validate {
        #[arg(long, value_enum, default_value = "cpu")]
        preset: crate::validate::Preset,
        /// Base checkpoint (default: pretrain one into `OUT/base/`, reused).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Run directory (default `runs/validate-<preset>/`); resumed.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Report directory (default `reports/`).
        #[arg(long)]
        report: Option<PathBuf>,
        /// No per-step lines on stderr.
        #[arg(long)]
        quiet: bool,
    },
    /// Per-token log-prob and next-token entropy of a text.
    Entropy {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        text: String,
        #[arg(long, default_value_t = 1.0)]
        temperature: f64,
        #[command(flatten)]
        dev: DeviceArgs,
        #[arg(long)]
        json: bool,
        /// With --json: add each position's raw logits (`logits`, the full
        /// vocabulary), e.g. to compare with transformers
        /// (scripts/hf-check.py).
        #[arg(long, requires = "json")]
        logits: bool,
    },
}

/// Where and in which precision a model runs.
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArgs {
    /// `cpu`, or `cuda` (needs a binary built with the `cuda` feature).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// `f32`, or `bf16` (CUDA only).
    #[arg(long, default_value = "f32")]
    pub dtype: String,
}

impl DeviceArgs {
    /// The candle device and dtype; unknown names, `bf16` on CPU and CUDA
    /// in a CPU-only build are input errors.
    pub fn resolve(&self) -> Result<(Device, DType)> {
        let dev = match self.device.as_str() {
            "cpu" => Device::Cpu,
            "cuda" => Device::new_cuda(0)
                .map_err(|e| LlmError::input("--device", format!("cuda unavailable: {e}")))?,
            d => {
                return Err(LlmError::input(
                    "--device",
                    format!("unknown device `{d}` (cpu, cuda)"),
                ))
            }
        };
        let dt = match self.dtype.as_str() {
            "f32" => DType::F32,
            "bf16" if dev.is_cuda() => DType::BF16,
            "bf16" => return Err(LlmError::input("--dtype", "bf16 is supported on cuda only")),
            d => {
                return Err(LlmError::input(
                    "--dtype",
                    format!("unknown dtype `{d}` (f32, bf16)"),
                ))
            }
        };
        Ok((dev, dt))
    }
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).map_err(|e| LlmError::Other(e.to_string()))?
    );
    Ok(())
}

/// Runs one `entropic llm` command.
pub fn run(cmd: LlmCommand) -> Result<()> {
    match cmd {
        LlmCommand::Pretrain {
            config,
            out,
            force,
            json,
        } => {
            let sc = LlmScenario::load(&config)?;
            let nonempty = out
                .read_dir()
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
            if nonempty && !force {
                return Err(LlmError::input(
                    out.display().to_string(),
                    "not empty; pass --force to overwrite",
                ));
            }
            let use_bar = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
            let r = pretrain(&sc, &out, use_bar)?;
            if json {
                print_json(&r)?;
            } else {
                println!(
                    "{} params, {} steps in {:.0} s ({:.0} tok/s), final loss {:.4}; pass@1 {:.3}, pass@{} {:.3} (T = {}) → {}",
                    r.params, r.steps, r.train_seconds, r.train_tokens_per_s, r.final_loss,
                    r.eval.pass_at_1, r.eval.k, r.eval.pass_at_k, r.eval.temperature, out.display()
                );
            }
            Ok(())
        }
        LlmCommand::Eval {
            model,
            task,
            k,
            n,
            temperature,
            top_p,
            problems,
            max_new_tokens,
            seed,
            dev,
            json,
        } => {
            let (device, dtype) = dev.resolve()?;
            let ck = checkpoint::load(&model, &device, dtype)?;
            let saved_eval: EvalConfig = ck
                .task
                .as_ref()
                .and_then(|t| t.get("eval"))
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            let probs = problem_set(
                &ck.task,
                task.as_deref(),
                problems.unwrap_or(saved_eval.problems),
            )?;
            if !(temperature >= 0.0) || !(top_p > 0.0 && top_p <= 1.0) {
                return Err(LlmError::input(
                    "--temperature / --top-p",
                    "temperature ≥ 0, top-p in (0, 1]",
                ));
            }
            let stop = stop_tokens(&ck);
            let pad = ck
                .model
                .config()
                .pad_token_id
                .or(stop.first().copied())
                .unwrap_or(0);
            let sc = SampleConfig {
                max_new_tokens: max_new_tokens.unwrap_or(saved_eval.max_new_tokens),
                temperature,
                top_p,
                stop,
                pad_id: pad,
                use_cache: true,
            };
            let n = n.unwrap_or(k);
            let r = evaluate(
                &ck.model,
                &ck.tok,
                &probs,
                n,
                k,
                saved_eval.batch,
                &sc,
                &mut ChaCha8Rng::seed_from_u64(seed),
            )?;
            if json {
                print_json(&r)
            } else {
                println!(
                    "pass@1 {:.4}  pass@{} {:.4}  ({} problems × {} samples, T = {})",
                    r.pass_at_1, k, r.pass_at_k, r.problems, n, temperature
                );
                Ok(())
            }
        }
        LlmCommand::Grpo {
            config,
            model,
            out,
            dev,
            quiet,
        } => {
            let (device, dtype) = dev.resolve()?;
            crate::grpo::run_command(&config, &model, &out, &device, dtype, quiet)
        }
        LlmCommand::Validate {
            preset,
            model,
            out,
            report,
            quiet,
        } => {
            let opts = crate::validate::ValidateOptions {
                preset,
                model,
                out: out.unwrap_or_else(|| format!("runs/validate-{}", preset.name()).into()),
                report: report.unwrap_or_else(|| "reports".into()),
                quiet,
            };
            let o = crate::validate::validate(&opts)?;
            println!("report → {}", o.report.display());
            Ok(())
        }
        LlmCommand::Entropy {
            model,
            text,
            temperature,
            dev,
            json,
            logits,
        } => {
            let (device, dtype) = dev.resolve()?;
            let ck = checkpoint::load(&model, &device, dtype)?;
            if !(temperature > 0.0) {
                return Err(LlmError::input("--temperature", "must be > 0"));
            }
            let rows = entropy_probe(&ck.model, &ck.tok, &text, temperature, logits)?;
            if json {
                return print_json(&rows);
            }
            println!(
                "{:>6}  {:>10}  {:>9}  {:>8}",
                "id", "token", "logprob", "entropy"
            );
            for r in rows {
                let f = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.4}"));
                println!(
                    "{:>6}  {:>10}  {:>9}  {:>8}",
                    r.id,
                    format!("{:?}", r.token),
                    f(r.logprob),
                    f(r.entropy)
                );
            }
            Ok(())
        }
    }
}

/// The problems of `--task` (or the checkpoint's saved task): a JSONL file,
/// or synthetic kinds with the saved difficulty and split.
fn problem_set(
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
