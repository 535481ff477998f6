//! `entropic`: the command-line front end (glue code over the library crates).
//! `main() -> ExitCode` calls `run() -> anyhow::Result<ExitCode>`; exit codes
//! as docs/design.md §7: 0 success, 2 bad input (file, key and range named), 1 other,
//! decided by the error's type in [`error::exit_code`].
//!
//! Layers (checked by `tests/layers.rs`): `entropic_sim` at the ground,
//! `entropic_llm` and `entropic_proofs` side by side above it, [`lab`] (the
//! experiments that combine them) above both, and the `cmd_*` modules (clap
//! and printing) on top.

mod bench;
mod cmd_compare;
mod cmd_diagnose;
mod cmd_llm;
mod cmd_map;
mod cmd_run;
mod cmd_selftest;
mod cmd_stability;
mod cmd_tune;
mod cmd_verify;
mod device_args;
mod error;
mod interrupt;
mod lab;
mod output;
mod threads;
mod validate;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: candle allocates and frees a fresh
/// buffer for every op, and glibc returns large ones to the kernel each
/// time (mmap/munmap, page faults, zeroing). Measured with
/// `llm/examples/train_prof.rs` on the `bench llm` training shape, 2-core
/// machine: 6,050 → 8,900 tokens/s on 1 thread, 5,620 → 10,770 on 2.
/// Allocation does not touch any computed value, so results are unchanged.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option ids (`mi_option_e` in the `mimalloc.h` of version 3,
/// the one `libmimalloc-sys` 0.1.49 builds by default; the crate names no
/// constant for these two). A test checks that they read the documented
/// defaults (1 and 1,000 ms), so a version whose enum moved fails it
/// instead of setting another option.
const MI_OPTION_PURGE_DECOMMITS: libmimalloc_sys::mi_option_t = 5;
#[cfg(test)]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory mapped: mimalloc purges memory that has stayed free
/// for a while (version 3: a second), and by default a purge decommits it (`MADV_DONTNEED`), so the next
/// allocation there faults its pages in again and the kernel zeroes them.
/// Candle frees and allocates a buffer per op, a training step reuses the
/// same sizes again and again, and a tenth of a step went to those
/// faults (`perf`, issue 14). With `purge_decommits = 0` a purge only marks the pages
/// free (`MADV_FREE`): the kernel takes them back only when it needs the
/// memory, and reusing them costs nothing until then. Measured with `bench
/// llm --json` on this project's 2-core machine, near-idle, three
/// interleaved rounds per setting and thread count: the base shape's
/// training 2,861–3,213 → 3,817–3,949 tokens/s on 1 thread and
/// 4,010–4,600 → 4,722–5,088 on 2, its generation 7,361–7,928 →
/// 8,391–8,436 on 1 thread; the tiny shape's figures moved by 0–5%.
/// Never purging (`purge_delay = -1`) measured the same and would keep
/// the memory from the kernel for good. Peak resident memory unchanged
/// (610–641 MB for the whole `bench llm`). Set as mimalloc's default
/// (`mi_option_set_default`), which mimalloc ignores when the user set the
/// option in the environment (`MIMALLOC_PURGE_DECOMMITS`, or its legacy
/// name `MIMALLOC_RESET_DECOMMITS`, any case): their value stands.
/// Allocation does not touch any computed value, so results are unchanged.
/// The profiling examples in `llm/examples` install mimalloc without this;
/// run them with `MIMALLOC_PURGE_DECOMMITS=0` to match the binary.
fn keep_freed_memory_mapped() {
    // SAFETY: sets the default of one integer option of the linked
    // mimalloc, before any other thread exists; any value is valid for it.
    unsafe { libmimalloc_sys::mi_option_set_default(MI_OPTION_PURGE_DECOMMITS, 0) };
}

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

/// `entropic bench <what>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BenchWhat {
    /// The bandit simulator.
    Sim,
    /// The transformer (CPU).
    Llm,
    /// One spinning thread for at most 10 minutes: the busy process of
    /// `bench llm --contended`.
    #[value(hide = true)]
    Busy,
}

#[derive(Subcommand)]
enum Cmd {
    /// Language-model commands: pretrain, eval, grpo, validate, entropy, diagnose, keys, selftest (candle, Qwen2 architecture).
    Llm {
        #[command(subcommand)]
        cmd: cmd_llm::LlmCommand,
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
        /// Print the headline figures (summary.json's per-arm figures, 95%
        /// intervals, without per-seed values) as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Scenario reference: every key with its default, range and meaning
    /// (`--keys` is accepted and means the same).
    Scenario {
        /// The same reference (accepted for symmetry with `llm keys`).
        #[arg(long)]
        keys: bool,
    },
    /// Validate a scenario and print its resolved configuration (every arm
    /// and sweep point with every default filled in) as TOML; runs nothing.
    Check {
        /// Scenario TOML file.
        scenario: PathBuf,
    },
    /// The regime map: where EntroPIC acts, cell by cell (K × tail mass,
    /// variations); writes regime-map.md, regime-map.json, SVG heatmaps and
    /// one JSON per finished cell, resumable cell by cell.
    Map {
        #[command(flatten)]
        args: cmd_map::MapArgs,
    },
    /// Run every claim check; write verification.md, verification.json and SVGs.
    Verify {
        /// Reduced grids (tests and CI; under a minute).
        #[arg(long)]
        quick: bool,
        /// Output folder [default: reports, with --quick runs/verify-quick,
        /// so a quick run never replaces the committed full report].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The linearised loop of docs/mathematics.md §6: spectral radius, stable or not, P's steady-state error.
    Stability {
        #[command(flatten)]
        args: cmd_stability::StabilityArgs,
    },
    /// Benchmarks: `sim` (the bandit) or `llm` (the transformer).
    Bench {
        #[arg(value_enum)]
        what: BenchWhat,
        /// One JSON object per configuration.
        #[arg(long)]
        json: bool,
        /// Runs per configuration of `bench sim` (median reported); `bench
        /// llm` uses its own fixed counts (5, recompute 2).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// `bench llm` only: also beside one busy process this command
        /// starts, against the idle one-thread figures.
        #[arg(long)]
        contended: bool,
    },
    /// Print a shell completion script: `entropic completions bash >
    /// ~/.local/share/bash-completion/completions/entropic` (zsh: a `_entropic`
    /// file on $fpath; fish: ~/.config/fish/completions/entropic.fish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Compare two run output folders (of `entropic run`): each figure of
    /// each arm side by side with the difference B − A and its 95% interval,
    /// as Markdown, and with `--out` a plot of both runs' entropy curves.
    Compare {
        /// The first run's output folder (A).
        a: PathBuf,
        /// The second run's output folder (B).
        b: PathBuf,
        /// Write the Markdown to this file and the plot beside it as
        /// `<stem>-entropy.svg`; without it the Markdown goes to stdout and
        /// no plot is written.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Identify drift, gain and delay from a log and recommend EntroPIC gains
    /// (`identify`), print a probe schedule (`probe`), or regenerate reports/tune.md (`validate`).
    Tune {
        #[command(subcommand)]
        cmd: cmd_tune::TuneCommand,
    },
}

fn main() -> ExitCode {
    keep_freed_memory_mapped();
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error::one_line(&e));
            ExitCode::from(error::exit_code(&e))
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    // the transformer's default thread count: the cores free now
    // (src/threads.rs), before any thread starts
    let llm_work = matches!(
        cli.cmd,
        Cmd::Llm { .. }
            | Cmd::Bench {
                what: BenchWhat::Llm,
                contended: false,
                ..
            }
    );
    if llm_work {
        threads::set_llm_default();
        entropic_llm::device::set_cpu_matmul_threading();
    }
    match cli.cmd {
        Cmd::Run {
            scenario,
            out,
            seeds,
            force,
            resume,
            json,
        } => cmd_run::run(&scenario, out, seeds, force, resume, json),
        Cmd::Scenario { keys: _ } => {
            print!("{}", entropic_sim::keys::markdown());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Check { scenario } => cmd_run::check(&scenario),
        Cmd::Map { args } => cmd_map::run(&args),
        Cmd::Verify { quick, out } => {
            let out = out.unwrap_or_else(|| {
                PathBuf::from(if quick {
                    "runs/verify-quick"
                } else {
                    "reports"
                })
            });
            cmd_verify::run(quick, &out)
        }
        Cmd::Stability { args } => cmd_stability::run(&args),
        Cmd::Bench {
            what,
            json,
            runs,
            contended,
        } => match what {
            BenchWhat::Sim if contended => {
                Err(error::InputError("--contended: only for `bench llm`".into()).into())
            }
            BenchWhat::Sim => bench::sim(json, runs),
            BenchWhat::Busy => Ok(bench::busy(600)),
            BenchWhat::Llm if contended => bench::llm_contended(json),
            BenchWhat::Llm => {
                entropic_llm::bench::bench_llm(json)?;
                Ok(ExitCode::SUCCESS)
            }
        },
        Cmd::Tune { cmd } => cmd_tune::run(cmd),
        Cmd::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "entropic",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Compare { a, b, out } => cmd_compare::run(&a, &b, out.as_deref()),
        Cmd::Llm { cmd } => cmd_llm::run(cmd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `stability --delay`'s help states the largest delay the analysis
    /// takes.
    #[test]
    fn stability_delay_help_states_the_maximum() {
        let cmd = Cli::command();
        let help = cmd
            .find_subcommand("stability")
            .and_then(|s| s.get_arguments().find(|a| a.get_id() == "delay"))
            .and_then(|a| a.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        let max = entropic_proofs::linear::MAX_DELAY.to_string();
        assert!(help.contains(&max), "{help}");
    }

    /// The two option ids read mimalloc's documented defaults (purge
    /// decommits: on; purge delay: 1,000 ms) in a process that has not set
    /// them: the ids name the options [`keep_freed_memory_mapped`] means.
    #[test]
    fn mimalloc_option_ids_name_the_purge_options() {
        // SAFETY: reads of integer options of the linked mimalloc.
        let (decommits, delay) = unsafe {
            (
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DECOMMITS),
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
            )
        };
        if std::env::var_os("MIMALLOC_PURGE_DECOMMITS").is_none() {
            assert_eq!(decommits, 1);
        }
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(delay, 1000);
        }
    }
}
