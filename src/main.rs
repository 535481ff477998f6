//! `entropic`: the command-line front end (glue code over the library crates).
//! `main() -> ExitCode` calls `run() -> anyhow::Result<ExitCode>`; exit codes
//! as DESIGN.md: 0 success, 2 bad input (file, key and range named), 1 other.

mod bench;
mod cmd_run;
mod cmd_selftest;
mod cmd_tune;
mod cmd_verify;
mod interrupt;
mod output;
mod validate;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: candle allocates and frees a fresh
/// buffer for every op, and glibc returns large ones to the kernel each
/// time (mmap/munmap, page faults, zeroing). Measured with
/// `llm/examples/train_prof.rs` on the `bench llm` training shape, 2-core
/// machine: 6,050 → 8,900 tokens/s on 1 thread, 5,620 → 10,770 on 2.
/// Allocation does not touch any computed value, so results are unchanged.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use entropic_sim::SimError;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "entropic",
    version,
    about = "Simulate and verify entropy controllers (EntroPIC and peers) for RL of language models"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Language-model commands: pretrain, eval, entropy (candle, Qwen2 architecture).
    Llm {
        #[command(subcommand)]
        cmd: entropic_llm::cli::LlmCommand,
    },
    /// Run a scenario: metrics.jsonl per arm, summary.json, report.md and SVG plots.
    ///
    /// Refused before any work (exit 2) when the output place is a file or not
    /// writable, or when the memory estimated from the scenario exceeds the
    /// machine's available memory or ENTROPIC_MAX_MEMORY (bytes, K/M/G/T
    /// suffixes). See docs/robustness.md.
    Run {
        /// Scenario TOML file.
        scenario: PathBuf,
        /// Output folder (default runs/<scenario stem>/). The run writes into
        /// DIR.partial/ and replaces DIR with it when it completes; an
        /// interrupted run (Ctrl-C, SIGTERM: exit 130/143) keeps its finished
        /// seeds there.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Number of seeds (overrides the scenario's `seeds`).
        #[arg(long)]
        seeds: Option<usize>,
        /// Replace a non-empty --out folder, removing only the files listed in
        /// its .entropic-manifest.json (what an earlier entropic run wrote);
        /// a folder without a manifest is refused even with --force. Also
        /// discards an interrupted run in DIR.partial/.
        #[arg(long)]
        force: bool,
        /// Continue the interrupted run in DIR.partial/ (same scenario and
        /// seeds); finished seeds are kept, the result is that of an
        /// uninterrupted run.
        #[arg(long)]
        resume: bool,
    },
    /// Scenario reference: `--keys` prints every key with its default, range and meaning.
    Scenario {
        #[arg(long)]
        keys: bool,
    },
    /// Run every claim check; write verification.md, verification.json and SVGs.
    Verify {
        /// Reduced grids (tests and CI; under a minute).
        #[arg(long)]
        quick: bool,
        /// Output folder (default reports/).
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
    /// The linearised loop of MATH.md §6: spectral radius, stable or not, P's steady-state error.
    Stability {
        /// Plant gain g (entropy drop per unit α per step), > 0.
        #[arg(long)]
        gain: f64,
        /// Delay d in controller steps.
        #[arg(long, default_value_t = 0)]
        delay: usize,
        #[arg(long)]
        kp: f64,
        #[arg(long, default_value_t = 0.0)]
        ki: f64,
        /// Drift b (entropy change per step without control).
        #[arg(long, default_value_t = 0.0)]
        drift: f64,
        /// `before` (the authors': integral before this step's error) or `after`.
        #[arg(long, default_value = "before")]
        integral: String,
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks: `sim` (the bandit) or `llm` (the transformer).
    Bench {
        /// `sim` or `llm`.
        what: String,
        /// One JSON object per configuration.
        #[arg(long)]
        json: bool,
        /// Runs per configuration (median reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Identify drift, gain and delay from a log and recommend EntroPIC gains; `--probe` prints a probe schedule.
    Tune {
        #[command(flatten)]
        args: cmd_tune::TuneArgs,
    },
    /// Smoke-test the transformer on the CPU, and with `--cuda` on the GPU (exit 1 without one).
    Selftest {
        /// Also run on CUDA GPU 0 and compare with the CPU.
        #[arg(long)]
        cuda: bool,
        #[command(flatten)]
        args: cmd_selftest::SelftestArgs,
    },
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            let input = e.downcast_ref::<SimError>().is_some_and(|s| s.is_input())
                || e.downcast_ref::<InputError>().is_some();
            eprintln!("error: {e:#}");
            if input {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// A bad-input error raised by the binary itself (exit code 2).
#[derive(Debug)]
pub struct InputError(pub String);
impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for InputError {}

fn run() -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    match cli.cmd {
        Cmd::Run {
            scenario,
            out,
            seeds,
            force,
            resume,
        } => cmd_run::run(&scenario, out, seeds, force, resume),
        Cmd::Scenario { keys } => {
            if !keys {
                return Err(
                    InputError("scenario: pass --keys to print the key reference".into()).into(),
                );
            }
            print!("{}", entropic_sim::keys::markdown());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Verify { quick, out } => cmd_verify::run(quick, &out),
        Cmd::Stability {
            gain,
            delay,
            kp,
            ki,
            drift,
            integral,
            json,
        } => stability(gain, delay, kp, ki, drift, &integral, json),
        Cmd::Bench { what, json, runs } => match what.as_str() {
            "sim" => bench::sim(json, runs),
            "llm" => {
                let v = entropic_llm::cli::bench_llm(json).map_err(llm_err)?;
                if json {
                    println!("{v}");
                }
                Ok(ExitCode::SUCCESS)
            }
            other => Err(InputError(format!(
                "bench: unknown benchmark `{other}` (allowed: sim, llm)"
            ))
            .into()),
        },
        Cmd::Tune { args } => cmd_tune::run(args),
        Cmd::Selftest { cuda, args } => cmd_selftest::run(cuda, args),
        Cmd::Llm { cmd } => {
            entropic_llm::cli::run(cmd).map_err(llm_err)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn stability(
    gain: f64,
    delay: usize,
    kp: f64,
    ki: f64,
    drift: f64,
    integral: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use entropic_proofs::linear::{analyse, IntegralForm, LoopParams};
    validate::stability(gain, kp, ki, drift)?;
    let form = match integral {
        "before" => IntegralForm::Before,
        "after" => IntegralForm::After,
        other => {
            return Err(
                InputError(format!("--integral: must be before or after (got {other})")).into(),
            )
        }
    };
    let p = LoopParams {
        gain,
        delay,
        kp,
        ki,
        drift,
        form,
    };
    let r = analyse(&p).map_err(|e| InputError(format!("stability: {e}")))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let law = if ki == 0.0 { "P" } else { "PI" };
        println!(
            "{law} loop, g = {gain}, d = {delay}, Kp = {kp}, Ki = {ki}, integral {integral}: spectral radius {:.4} -> {}",
            r.spectral_radius,
            if r.stable { "stable" } else { "unstable" }
        );
        if let Some(e) = r.steady_state_error {
            println!("steady-state error for drift b = {drift}: {e:.4} nats");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An `entropic-llm` error at the CLI edge: bad input exits 2, the rest 1.
fn llm_err(e: entropic_llm::LlmError) -> anyhow::Error {
    if e.is_input() {
        InputError(e.to_string()).into()
    } else {
        anyhow::Error::new(e)
    }
}
