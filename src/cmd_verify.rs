//! `entropic verify [--quick] [--out DIR]`: every claim check
//! ([`entropic_proofs::verify::run_all`]); writes `verification.md`,
//! `verification.json`, `verification.stamp.json` and the SVGs into DIR.
//!
//! Per-claim timings go to stderr; a progress bar only on a terminal. A
//! refuted claim is a finding (exit 0); a check that failed → exit 1 after
//! the report of the others is written.
use crate::error::InputError;
use crate::output;
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

/// The staging folder of `out`: `.NAME.verify-tmp` beside it (same file
/// system, so each file moves into place with one rename).
fn staging_of(out: &Path) -> PathBuf {
    let canon = out.canonicalize().unwrap_or_else(|_| out.to_path_buf());
    match (canon.parent(), canon.file_name()) {
        (Some(parent), Some(name)) => {
            parent.join(format!(".{}.verify-tmp", name.to_string_lossy()))
        }
        _ => canon.join(".verify-tmp"),
    }
}

/// Checks `out` first (a file or an unwritable place: exit 2 before any
/// check runs), runs the checks into a staging folder beside it and then
/// moves each file into `out`: an interrupted `verify` leaves `out` as it
/// was, and the other files of `out` (other reports) are never touched.
pub fn run(quick: bool, out: &Path) -> anyhow::Result<ExitCode> {
    output::check_place(out, &format!("--out {}", out.display()))?;
    let staging = staging_of(out);
    if staging.exists() {
        // left by an interrupted verify
        std::fs::remove_dir_all(&staging).map_err(|e| {
            InputError(format!(
                "{}: cannot remove: {}",
                staging.display(),
                output::io_reason(&e)
            ))
        })?;
    }
    output::check_place(&staging, &format!("--out {}", out.display()))?;
    let r = run_into(quick, out, &staging);
    let _ = std::fs::remove_dir_all(&staging);
    r
}

/// Adds the provenance (version, command line, git revision, time) to the
/// stamp the checks wrote; the Markdown stays free of it.
fn stamp_provenance(path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), output::io_reason(&e)))?;
    let mut v: serde_json::Value = serde_json::from_str(&text)?;
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "provenance".into(),
            serde_json::to_value(output::provenance())?,
        );
    }
    entropic_sim::atomic::write_atomic(path, serde_json::to_string_pretty(&v)?.as_bytes())?;
    Ok(())
}

fn run_into(quick: bool, out: &Path, staging: &Path) -> anyhow::Result<ExitCode> {
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
    let outcome = verify::run_all(mode, staging, &workspace_root(), &|id, secs, _i, _n| {
        bar.suspend(|| eprintln!("verify: {id:<18} {secs:7.2} s"));
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    stamp_provenance(&staging.join(verify::STAMP_FILE))?;
    output::move_into(staging, out)?;
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
