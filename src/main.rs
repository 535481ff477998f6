//! Temporary wiring of `entropic llm` and `entropic bench llm` ([LLM-1]);
//! the lead's main.rs replaces this.
use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "entropic")]
enum Cli {
    /// Language-model commands.
    #[command(subcommand)]
    Llm(entropic_llm::cli::LlmCommand),
    /// Benchmarks.
    Bench {
        /// Which benchmark (only `llm` here).
        what: String,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let r = match Cli::parse() {
        Cli::Llm(cmd) => entropic_llm::cli::run(cmd),
        Cli::Bench { what, json } if what == "llm" => entropic_llm::cli::bench_llm(json).map(|v| {
            if json {
                println!("{v}");
            }
        }),
        Cli::Bench { what, .. } => Err(entropic_llm::LlmError::input(
            "bench",
            format!("unknown benchmark `{what}`"),
        )),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_input() { 2 } else { 1 })
        }
    }
}
