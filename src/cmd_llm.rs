//! `entropic llm <command>`: the clap front end of the LLM crate
//! (pretrain, eval, grpo, diagnose, entropy, selftest) and of the LLM validation of
//! the orchestration layer (`validate`, [`crate::lab::validate`]).
// `!(x > 0.0)` is used on purpose: it also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::nonminimal_bool)]
use crate::cmd_selftest::SelftestArgs;
use crate::device_args::DeviceArgs;
use crate::error::InputError;
use crate::lab::validate::{validate, Preset, ValidateOptions};
use clap::Subcommand;
use entropic_llm::checkpoint::{self, stop_tokens};
use entropic_llm::eval::{entropy_probe, evaluate, problem_set};
use entropic_llm::grpo;
use entropic_llm::pretrain::{pretrain, EvalConfig, LlmScenario};
use entropic_llm::sample::{Draws, SampleConfig};
use std::path::PathBuf;
use std::process::ExitCode;

/// `entropic llm <command>`.
#[derive(Debug, Subcommand)]
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
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        temperature: f64,
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
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
    /// side, and the report `REPORT/llm-validation.md` with its SVGs.
    Validate {
        #[arg(long, value_enum, default_value = "cpu")]
        preset: Preset,
        /// Base checkpoint (default: pretrain one into `OUT/base/`, reused).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Run directory (default `runs/validate-<preset>/`); resumed.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Report directory (default: `reports/` for the `cpu` preset, whose
        /// report is the committed one; the run directory for the others, so
        /// a smoke or GPU run never replaces it).
        #[arg(long)]
        report: Option<PathBuf>,
        /// No per-step lines on stderr.
        #[arg(long)]
        quiet: bool,
    },
    /// Smoke-test the transformer on the CPU, and with `--cuda` on the GPU
    /// (exit 1 without one).
    Selftest {
        /// Also run on CUDA GPU 0 and compare with the CPU.
        #[arg(long)]
        cuda: bool,
        #[command(flatten)]
        args: SelftestArgs,
    },
    /// Reference of the LLM config keys (`[model]`, `[task]`, `[pretrain]`,
    /// `[eval]`, `[grpo]`, and the presets' `[validate]`): type, default,
    /// range, meaning.
    Keys,
    /// Where a checkpoint's entropy sits on a task: sample completions and
    /// report the composition (token-mean entropy, hp_frac,
    /// hp_entropy_share, tail_mass_hp), entropy quantiles and pass@k.
    Diagnose(crate::cmd_diagnose::DiagnoseArgs),
    /// Per-token log-prob and next-token entropy of a text.
    Entropy {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        text: String,
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
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

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs one `entropic llm` command.
pub fn run(cmd: LlmCommand) -> anyhow::Result<ExitCode> {
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
                return Err(InputError(format!(
                    "{}: not empty; pass --force to overwrite",
                    out.display()
                ))
                .into());
            }
            // an --out where nothing can be written is an input error
            // (exit 2) before any training (src/output.rs)
            crate::output::check_creatable(&out, "--out")?;
            let use_bar = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
            let r = pretrain(&sc, &out, use_bar)?;
            if json {
                print_json(&r)?;
            } else {
                let at_k = if r.eval.k == 1 {
                    String::new()
                } else {
                    format!(", pass@{} {:.3}", r.eval.k, r.eval.pass_at_k)
                };
                let load = |l: Option<[f64; 3]>| {
                    l.map_or("n/a".to_string(), |l| {
                        format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2])
                    })
                };
                println!(
                    "{} params, vocab {}, {} steps in {:.0} s ({:.0} tok/s; tokenizer {:.0} s; load average {} at start, {} at end), final loss {:.4}; pass@1 {:.3}{at_k} (T = {}) → {}",
                    r.params, r.vocab, r.steps, r.train_seconds, r.train_tokens_per_s, r.tokenizer_seconds,
                    load(r.load_start), load(r.load_end), r.final_loss,
                    r.eval.pass_at_1, r.eval.temperature, out.display()
                );
            }
            Ok(ExitCode::SUCCESS)
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
                return Err(InputError(
                    "--temperature / --top-p: temperature ≥ 0, top-p in (0, 1]".into(),
                )
                .into());
            }
            let stop = stop_tokens(&ck);
            let pad = ck.model.config().pad_id(&stop);
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
                Draws::new(seed, 0, 0),
            )?;
            if json {
                print_json(&r)?;
            } else {
                // pass@k with k = 1 is pass@1: printed once
                let at_k = if k == 1 {
                    String::new()
                } else {
                    format!("  pass@{} {:.4}", k, r.pass_at_k)
                };
                println!(
                    "pass@1 {:.4}{at_k}  ({} problems × {} samples, T = {})",
                    r.pass_at_1, r.problems, n, temperature
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        LlmCommand::Grpo {
            config,
            model,
            out,
            dev,
            quiet,
        } => {
            let (device, dtype) = dev.resolve()?;
            crate::output::check_creatable(&out, "--out")?;
            grpo::run_command(&config, &model, &out, &device, dtype, quiet)?;
            Ok(ExitCode::SUCCESS)
        }
        LlmCommand::Validate {
            preset,
            model,
            out,
            report,
            quiet,
        } => {
            let out = out.unwrap_or_else(|| format!("runs/validate-{}", preset.name()).into());
            let report = report.unwrap_or_else(|| match preset {
                Preset::Cpu => "reports".into(),
                Preset::Smoke | Preset::Gpu => out.clone(),
            });
            let opts = ValidateOptions {
                preset,
                model,
                out,
                report,
                quiet,
            };
            let o = validate(&opts)?;
            crate::output::write_stamp(
                &o.report,
                serde_json::json!({ "report": "llm validate", "preset": preset.name() }),
            )?;
            println!("report → {}", o.report.display());
            Ok(ExitCode::SUCCESS)
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
                return Err(InputError("--temperature: must be > 0".into()).into());
            }
            let rows = entropy_probe(&ck.model, &ck.tok, &text, temperature, logits)?;
            if json {
                print_json(&rows)?;
                return Ok(ExitCode::SUCCESS);
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
            Ok(ExitCode::SUCCESS)
        }
        LlmCommand::Diagnose(a) => crate::cmd_diagnose::run(a),
        LlmCommand::Selftest { cuda, args } => crate::cmd_selftest::run(cuda, args),
        LlmCommand::Keys => {
            print!("{}", entropic_llm::keys::markdown());
            print!("{}", crate::lab::validate::keys_markdown());
            Ok(ExitCode::SUCCESS)
        }
    }
}
