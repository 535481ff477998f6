//! `entropic run`: scenario → metrics, summary and report.

use crate::error::InputError;
use entropic_sim::control::Method;
use entropic_sim::figures::{aggregate, aggregate_on, Aggregate, Field};
use entropic_sim::metrics::Record;
use entropic_sim::report::{fmt_sig, ranking_table, write_atomic, write_run_report, ArmSeries};
use entropic_sim::runner::{run_config, write_jsonl, SeedRun};
use entropic_sim::scenario::{load, RunConfig};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Serialize)]
struct ConfigSummary<'a> {
    arm: &'a str,
    sweep: Option<&'a str>,
    folder: String,
    /// Target the figures are measured against (the scenario's controlled
    /// target for an uncontrolled arm).
    target: f64,
    config: &'a RunConfig,
    figures: Aggregate,
    figures_exact: Aggregate,
    stopped: Vec<String>,
}

/// The target figures are computed against: this run's own when it has a
/// controller, else the first controlled run's (so a plain GRPO arm is
/// measured against the same line), else its configured target.
pub fn reference_target(runs: &[RunConfig], rc: &RunConfig) -> f64 {
    if rc.control.method != Method::None {
        return rc.control.target;
    }
    runs.iter()
        .find(|r| r.control.method != Method::None)
        .map(|r| r.control.target)
        .unwrap_or(rc.control.target)
}

pub fn label(rc: &RunConfig) -> String {
    match &rc.sweep {
        Some(s) => format!("{}/{}", rc.arm, s),
        None => rc.arm.clone(),
    }
}

pub fn run(
    path: &Path,
    out: Option<PathBuf>,
    seeds: Option<usize>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let sc = load(path)?;
    let seeds = seeds.unwrap_or(sc.seeds);
    if seeds == 0 || seeds > 10_000 {
        return Err(InputError(format!("--seeds: must be in 1..=10000 (got {seeds})")).into());
    }
    let dir = match out {
        Some(d) => {
            let non_empty = d
                .read_dir()
                .map(|mut r| r.next().is_some())
                .unwrap_or(false);
            if non_empty && !force {
                return Err(InputError(format!(
                    "--out {}: folder is not empty (pass --force to write into it)",
                    d.display()
                ))
                .into());
            }
            d
        }
        None => {
            let d = PathBuf::from("runs").join(path.file_stem().unwrap_or_default());
            if d.exists() {
                std::fs::remove_dir_all(&d)
                    .map_err(|e| anyhow::anyhow!("{}: cannot replace: {e}", d.display()))?;
            }
            d
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let total: u64 = sc.runs.iter().map(|r| (r.steps * seeds) as u64).sum();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(total)
    } else {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {percent}% {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let tick = || bar.inc(1);
    let mut results: Vec<(RunConfig, Vec<SeedRun>)> = Vec::new();
    let mut first_err = None;
    for rc in &sc.runs {
        bar.set_message(label(rc));
        let runs = run_config(rc, seeds, &tick);
        let folder = dir.join(label(rc));
        std::fs::create_dir_all(&folder)
            .map_err(|e| anyhow::anyhow!("{}: {e}", folder.display()))?;
        write_jsonl(&folder.join("metrics.jsonl"), &runs)?;
        if first_err.is_none() {
            first_err = runs
                .iter()
                .find_map(|r| r.error.as_ref().map(|e| e.to_string()));
        }
        results.push((rc.clone(), runs));
        if first_err.is_some() {
            break;
        }
    }
    bar.finish_and_clear();
    // summary.json and report
    let per_seed: Vec<Vec<(u64, Vec<Record>)>> = results
        .iter()
        .map(|(_, runs)| runs.iter().map(|r| (r.seed, r.records.clone())).collect())
        .collect();
    let mut summaries = Vec::new();
    let mut arms = Vec::new();
    for ((rc, runs), ps) in results.iter().zip(&per_seed) {
        let target = reference_target(&sc.runs, rc);
        let clip = rc.control.alpha_max;
        let figures = aggregate(ps, target, clip);
        let figures_exact = aggregate_on(ps, target, clip, Field::EntropyExact);
        arms.push((label(rc), figures.clone()));
        summaries.push(ConfigSummary {
            arm: &rc.arm,
            sweep: rc.sweep.as_deref(),
            folder: label(rc),
            target,
            config: rc,
            figures,
            figures_exact,
            stopped: runs
                .iter()
                .filter_map(|r| r.error.as_ref().map(|e| e.to_string()))
                .collect(),
        });
    }
    let summary = serde_json::json!({ "scenario": sc.name, "expect": sc.expect, "seeds": seeds, "configs": summaries });
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    let series: Vec<ArmSeries> = results
        .iter()
        .zip(&per_seed)
        .map(|((rc, _), ps)| ArmSeries {
            label: label(rc),
            per_seed: ps,
        })
        .collect();
    let target = sc
        .runs
        .iter()
        .find(|r| r.control.method != Method::None)
        .map(|r| r.control.target);
    let mut notes: Vec<String> = vec![format!("{} seeds; scenario `{}`; figures on `entropy` (what the controller saw); 95% intervals over seeds.", seeds, path.display())];
    if let Some(e) = &first_err {
        notes.push(format!(
            "The run stopped early: {e}. Records up to that step are kept."
        ));
    }
    notes.extend(findings(&results, &summaries));
    write_run_report(&dir, &sc.name, &sc.expect, &arms, &series, target, &notes)?;
    if arms.len() >= 3 {
        let path = dir.join("report.md");
        let mut md = std::fs::read_to_string(&path)?;
        md.push_str("\n## Ranking\n\nEvery arm ranked by final |e| (ascending), with its settling step and final pass rate.\n\n");
        md.push_str(&ranking_table(&arms));
        write_atomic(&path, md.as_bytes())?;
    }
    if let Some(e) = first_err {
        eprintln!(
            "error: {e} (records before it are written to {})",
            dir.display()
        );
        return Ok(ExitCode::from(1));
    }
    eprintln!("wrote {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// What the simulator shows, in sentences computed from the figures: for each
/// arm, where `entropy_exact` ends against the target (last-quarter mean of
/// |H − H_tar| and of H), and on how many seeds it settled: the table's
/// criterion and word (|e| inside the band max(0.05, 0.1·H_tar) from some
/// step to the end, docs/design.md §8), here on `entropy_exact`.
fn findings(results: &[(RunConfig, Vec<SeedRun>)], summaries: &[ConfigSummary]) -> Vec<String> {
    let mut out = Vec::new();
    for ((rc, runs), s) in results.iter().zip(summaries) {
        let f = &s.figures_exact;
        if f.final_abs_err.n == 0 {
            continue;
        }
        let band = (0.1 * s.target).max(0.05);
        let settled = f
            .per_seed
            .iter()
            .filter(|(_, r)| r.settling_step.is_some())
            .count();
        let start: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.records.first().and_then(|x| x.entropy_exact))
            .collect();
        let h0 = start.iter().sum::<f64>() / start.len().max(1) as f64;
        let h1 = f.final_entropy.mean;
        let rel = (h1 - s.target) / s.target;
        let side = if rel < 0.0 { "below" } else { "above" };
        out.push(format!(
            "`{}`: entropy_exact goes from {} to {} nats (last quarter), {}% {} the target {}; mean |e| {} [{}, {}]; settled (|e| ≤ {} nats to the end) on {}/{} seeds.",
            label(rc),
            fmt_sig(h0, 3),
            fmt_sig(h1, 3),
            fmt_sig(rel.abs() * 100.0, 2).replace('%', ""),
            side,
            fmt_sig(s.target, 3),
            fmt_sig(f.final_abs_err.mean, 3),
            fmt_sig(f.final_abs_err.lo, 3),
            fmt_sig(f.final_abs_err.hi, 3),
            fmt_sig(band, 2),
            settled,
            f.per_seed.len()
        ));
    }
    out
}
