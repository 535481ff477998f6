//! `entropic verify [--quick] [--out DIR]`: every claim check
//! ([`entropic_proofs::verify::run_all`]); writes `verification.md`,
//! `verification.json`, `verification.stamp.json` and the SVGs into DIR.
//!
//! Per-claim timings go to stderr; a progress bar only on a terminal. A
//! refuted claim is a finding (exit 0); a check that failed → exit 1 after
//! the report of the others is written.
use entropic_proofs::verdict::Mode;
use entropic_proofs::verify;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The workspace root whose sources the stamp hashes: the folder this
/// binary was built from when it still holds `sim/src` (the usual
/// `cargo run`), else the current directory.
fn workspace_root() -> PathBuf {
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if built.join("sim/src").is_dir() {
        built
    } else {
        PathBuf::from(".")
    }
}

pub fn run(quick: bool, out: &Path) -> anyhow::Result<ExitCode> {
    let mode = if quick { Mode::Quick } else { Mode::Full };
    let n = verify::checks().len() as u64;
    let bar = ProgressBar::with_draw_target(
        Some(n),
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} claims {elapsed} {msg}") {
        bar.set_style(style);
    }
    let t0 = std::time::Instant::now();
    let outcome = verify::run_all(mode, out, &workspace_root(), &|id, secs, _i, _n| {
        bar.suspend(|| eprintln!("verify: {id:<18} {secs:7.2} s"));
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let verdicts = outcome.verdicts();
    eprintln!(
        "verify: {} verdicts from {} checks in {:.1} s → {}",
        verdicts.len(),
        outcome.runs.len(),
        t0.elapsed().as_secs_f64(),
        out.join("verification.md").display()
    );
    print!("{}", verify::summary_table(&verdicts));
    let failures = outcome.failures();
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for (id, e) in failures {
            eprintln!("error: check {id} failed: {e}");
        }
        Ok(ExitCode::from(1))
    }
}
