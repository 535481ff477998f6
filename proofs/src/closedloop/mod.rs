//! Shared helpers of the closed-loop claim checks (`thm-4-2`, `thm-4-3`,
//! `cor-4-4`, `temperature`): the two instance families, one run cell per
//! configuration (a typed run config, and its scenario text, so a
//! counterexample is that text and a seed), the fixed "reaches the target" criterion, the verdict rule,
//! probe identification of `b` and `g` (docs/mathematics.md §6) and figures.
//!
//! Instance families, chosen on principle before looking at results (and
//! the paper-like family of docs/mathematics.md §8.1, which each check
//! runs as an extra variant with a relative settling band):
//! - `sequence`: the LLM-like sequence bandit of docs/design.md §4 (most positions
//!   near-deterministic, two forking positions), Adam, sampled rollouts —
//!   the regime the official τ = 0.95 law is built for.
//! - `tabular`: a tabular bandit with `sampling = "exact"` (the expected
//!   update, no sampling noise) and plain SGD over the whole prompt set, the
//!   setting of the paper's policy-gradient analysis. SGD rather than Adam
//!   because Adam's per-coordinate normalisation of a tabular
//!   parameterisation largely undoes a per-context reweighting (observed:
//!   with Adam the controlled and uncontrolled tabular runs coincide to three
//!   decimals).

use crate::error::ProofsError;
use crate::verdict::{ClaimVerdict, Counterexample, Verdict};
use entropic_sim::figures::{run_figures, settling_step_rel, RunFigures, SETTLE_ABS, SETTLE_REL};
use entropic_sim::metrics::Record;
use entropic_sim::report::{line_plot_svg, ArmSeries};
use entropic_sim::runner;
use entropic_sim::scenario::{self, RunConfig};
use entropic_sim::stats::last_quarter;
use serde_json::json;
use std::path::Path;

mod cell;
#[cfg(test)]
mod tests;

pub use cell::{cell, Cell, Control, Family, GrpoVary};

/// One seed's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub seed: u64,
    pub records: Vec<Record>,
    pub figs: RunFigures,
    /// The simulator stopped the run (non-finite value): "unstable".
    pub diverged: Option<String>,
    /// The fixed criterion [`reached`].
    pub reached: bool,
    /// The settling band the outcome was judged with ([`Family::band`]).
    pub band: f64,
}

/// A cell and its seeds' outcomes (seed order).
#[derive(Debug, Clone)]
pub struct CellRun {
    pub cell: Cell,
    pub target: f64,
    pub outcomes: Vec<Outcome>,
}

/// The settling band of docs/design.md §8: `max(0.05, 0.1·H_tar)` nats.
pub fn band(target: f64) -> f64 {
    SETTLE_ABS.max(SETTLE_REL * target)
}

/// "Reaches the target" (fixed before any result was seen): the run did
/// not diverge, settled (|e| ≤ band from some step to the end) and its
/// final_abs_err (last quarter) is ≤ the band; all on `entropy`, what the
/// controller saw (docs/design.md §8's figures).
pub fn reached(figs: &RunFigures, target: f64, diverged: bool) -> bool {
    reached_in(figs, band(target), diverged)
}

/// [`reached`] with the band given (`figs.settling_step` must be the
/// settling step in that band).
pub fn reached_in(figs: &RunFigures, band: f64, diverged: bool) -> bool {
    !diverged && figs.settling_step.is_some() && figs.final_abs_err <= band
}

/// The run of a counterexample's scenario text.
fn the_run(cell_text: &str) -> Result<RunConfig, ProofsError> {
    let sc = scenario::parse("closedloop", "closedloop", cell_text)?;
    sc.runs
        .into_iter()
        .next()
        .ok_or_else(|| ProofsError::Other("scenario has no run".into()))
}

/// One seed's outcome, judged in `fam`'s band: for the paper-like family
/// `figs.settling_step` is the settling step in the relative band
/// `0.1·H_tar` ([`Family::band`]), so every figure and criterion downstream
/// uses the band the outcome was judged with.
fn outcome(
    rc: &RunConfig,
    fam: Family,
    seed: u64,
    records: Vec<Record>,
    err: Option<String>,
) -> Outcome {
    let target = rc.control.target;
    let mut figs = run_figures(&records, target, rc.control.alpha_max);
    if fam == Family::PaperLike {
        figs.settling_step = settling_step_rel(&records, target, SETTLE_REL);
    }
    let band = fam.band(target);
    let reached = reached_in(&figs, band, err.is_some());
    Outcome {
        seed,
        records,
        figs,
        diverged: err,
        reached,
        band,
    }
}

/// Runs a cell on seeds `0..seeds` (in parallel, seed order kept).
pub fn run_cell(cell: &Cell, seeds: usize) -> Result<CellRun, ProofsError> {
    let rc = &cell.run;
    let outcomes = runner::run_config(rc, seeds, &|| {})
        .into_iter()
        .map(|r| {
            outcome(
                rc,
                cell.family,
                r.seed,
                r.records,
                r.error.map(|e| e.to_string()),
            )
        })
        .collect();
    Ok(CellRun {
        cell: cell.clone(),
        target: rc.control.target,
        outcomes,
    })
}

/// Runs every cell.
pub fn run_cells(cells: &[Cell], seeds: usize) -> Result<Vec<CellRun>, ProofsError> {
    cells.iter().map(|c| run_cell(c, seeds)).collect()
}

/// What counts as the claim failing on one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailsWhen {
    /// The claim says the run reaches the target.
    NotReached,
    /// The claim says the run does not reach it (P off-policy, Thm 4.3).
    Reached,
}

impl FailsWhen {
    fn as_str(self) -> &'static str {
        match self {
            FailsWhen::NotReached => "not_reached",
            FailsWhen::Reached => "reached",
        }
    }
    /// Whether the claim held on this outcome.
    pub fn holds(self, o: &Outcome) -> bool {
        match self {
            FailsWhen::NotReached => o.reached,
            FailsWhen::Reached => !o.reached,
        }
    }
}

/// A counterexample for one failing run: the scenario text, the seed and
/// what happened.
pub fn counterexample(cr: &CellRun, o: &Outcome, fails: FailsWhen) -> Counterexample {
    Counterexample {
        seed: o.seed,
        instance: json!({
            "scenario": cr.cell.text,
            "fails_when": fails.as_str(),
            "labels": cr.cell.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        }),
        observed: describe(o, cr.target),
    }
}

/// A one-line description of an outcome.
pub fn describe(o: &Outcome, target: f64) -> String {
    let f = &o.figs;
    format!(
        "target {target}: final entropy {:.4} (final_abs_err {:.4}, band {:.3}), settled at {}, \
         α saturated {:.0}% of steps, reached = {}{}",
        f.final_entropy,
        f.final_abs_err,
        o.band,
        f.settling_step
            .map_or("never".to_string(), |s| s.to_string()),
        100.0 * f.alpha_saturated,
        o.reached,
        o.diverged
            .as_ref()
            .map_or(String::new(), |e| format!(", unstable: {e}"))
    )
}

/// Reruns the failing run of `cx` and says whether the failure is observed
/// again (same criterion, same seed, same scenario text).
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    let text = cx
        .instance
        .get("scenario")
        .and_then(|v| v.as_str())
        .ok_or_else(|| ProofsError::Other("counterexample lacks `scenario`".into()))?;
    let fails = match cx.instance.get("fails_when").and_then(|v| v.as_str()) {
        Some("reached") => FailsWhen::Reached,
        Some("not_reached") => FailsWhen::NotReached,
        _ => {
            return Err(ProofsError::Other(
                "counterexample lacks `fails_when`".into(),
            ))
        }
    };
    let rc = the_run(text)?;
    let fam = Family::from_text(text)
        .ok_or_else(|| ProofsError::Other("counterexample's scenario names no family".into()))?;
    let r = runner::run_seed(&rc, cx.seed, &|| {});
    let o = outcome(&rc, fam, cx.seed, r.records, r.error.map(|e| e.to_string()));
    Ok(!fails.holds(&o))
}

/// The verdict rule, fixed in advance: over all runs of `cells`, `k` runs
/// where the claim held of `n`. Confirmed when `k = n`; conditional when at
/// least one cell holds on every seed (the condition lists those cells);
/// refuted otherwise. A counterexample (the first failing run) is attached
/// whenever `k < n`.
pub fn verdict(
    claim: &str,
    variant: &str,
    cells: &[&CellRun],
    fails: FailsWhen,
    what: &str,
) -> ClaimVerdict {
    let n: usize = cells.iter().map(|c| c.outcomes.len()).sum();
    let k: usize = cells
        .iter()
        .map(|c| c.outcomes.iter().filter(|o| fails.holds(o)).count())
        .sum();
    let good: Vec<String> = cells
        .iter()
        .filter(|c| c.outcomes.iter().all(|o| fails.holds(o)))
        .map(|c| label(c))
        .collect();
    let (v, condition) = if k == n {
        (Verdict::Confirmed, format!("{what} on every run"))
    } else if !good.is_empty() {
        (
            Verdict::Conditional,
            format!("{what} on every seed only for: {}", good.join("; ")),
        )
    } else {
        (
            Verdict::Refuted,
            format!("{what} on {k} of {n} runs; no configuration holds on every seed"),
        )
    };
    let mut cv = ClaimVerdict::from_counts(claim, variant, v, condition, k, n);
    cv.counterexample = cells.iter().find_map(|c| {
        c.outcomes
            .iter()
            .find(|o| !fails.holds(o))
            .map(|o| counterexample(c, o, fails))
    });
    cv
}

/// `k=v, ...` of a cell.
pub fn label(c: &CellRun) -> String {
    c.cell
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Mean over seeds of a per-outcome number (NaN skipped).
pub fn mean_of(c: &CellRun, f: impl Fn(&Outcome) -> f64) -> f64 {
    let v: Vec<f64> = c.outcomes.iter().map(f).filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Signed mean error `H − H_tar` over the last quarter of steps.
pub fn final_signed_err(o: &Outcome, target: f64) -> f64 {
    if o.records.is_empty() {
        return f64::NAN;
    }
    let tail = last_quarter(&o.records);
    tail.iter().map(|r| r.entropy - target).sum::<f64>() / tail.len() as f64
}

/// Stability of one run: `max|e|` over the last quarter divided by `max|e|`
/// over the second quarter (> 1: the error grows; NaN for a run too short
/// or diverged), and the share of sign changes of `e` over the last half
/// (oscillation).
pub fn stability(o: &Outcome, target: f64) -> (f64, f64) {
    let n = o.records.len();
    if n < 8 || o.diverged.is_some() {
        return (f64::NAN, f64::NAN);
    }
    let e: Vec<f64> = o.records.iter().map(|r| r.entropy - target).collect();
    let maxabs = |s: &[f64]| s.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    let ratio = maxabs(last_quarter(&e)) / maxabs(&e[n / 4..n / 2]).max(1e-12);
    let half = &e[n / 2..];
    let flips = half.windows(2).filter(|w| w[0] * w[1] < 0.0).count();
    (ratio, flips as f64 / (half.len() - 1) as f64)
}

/// Entropy plot of several cells (mean over seeds with a band), target line
/// of the first cell; written to `dir/name`, returns `name`.
pub fn plot_entropy(
    dir: &Path,
    name: &str,
    title: &str,
    cells: &[(&str, &CellRun)],
) -> Result<String, ProofsError> {
    let per: Vec<Vec<(u64, Vec<Record>)>> = cells
        .iter()
        .map(|(_, c)| {
            c.outcomes
                .iter()
                .map(|o| (o.seed, o.records.clone()))
                .collect()
        })
        .collect();
    let series: Vec<ArmSeries> = cells
        .iter()
        .zip(&per)
        .map(|((l, _), p)| ArmSeries {
            label: l.to_string(),
            per_seed: p,
        })
        .collect();
    let target = cells.first().map(|(_, c)| c.target).unwrap_or(f64::NAN);
    line_plot_svg(
        &dir.join(name),
        title,
        "entropy (nats)",
        &series,
        |r| Some(r.entropy),
        Some((target, "target")),
    )?;
    Ok(name.to_string())
}

/// The sentence a check's section adds when its runs include the
/// paper-like family (empty otherwise, so sections without it are
/// unchanged).
pub fn paper_like_note(fams: impl IntoIterator<Item = Family>, target: &str) -> String {
    if fams.into_iter().any(|f| f == Family::PaperLike) {
        format!(
            "The `paper-like` rows are the paper-like family of docs/mathematics.md §8.1 \
             (per-position, K 256, 32 tokens, Zipf tail, T 0.6, H0 ≈ 0.128 nats; full mode \
             only) at {target}; their band is 0.1·H_tar with no 0.05-nat floor.\n\n"
        )
    } else {
        String::new()
    }
}

/// Markdown cell `k/n`.
pub fn frac(k: usize, n: usize) -> String {
    format!("{k}/{n}")
}

/// Short number.
pub fn f3(x: f64) -> String {
    entropic_sim::report::fmt_sig(x, 3)
}
