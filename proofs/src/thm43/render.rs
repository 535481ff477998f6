//! Render step of `thm-4-3`: the section's Markdown (intro, one table per
//! measure mode) and its figures.

use super::compute::Config;
use super::model::TARGET;
use crate::closedloop::{self as cl, CellRun};
use crate::error::ProofsError;
use entropic_sim::report::markdown_table;
use std::path::Path;

/// The section's opening paragraph.
pub(super) fn intro() -> String {
    format!(
        "Target {TARGET} nats, official law (τ 0.95, |α| ≤ 1, Kp 1; PI Ki 0.01, P Ki 0), first \
         learning rate of each family. A run pair (same seed and configuration) agrees with the \
         claim when PI reaches the target (thm-4-2's criterion) and P does not; only off-policy \
         configurations (lag > 0 or epochs > 1) count. Stability: max|e| over the last quarter / \
         max|e| over the second quarter (> 1: growing), and the share of sign changes of e over \
         the last half (oscillation).\n\n"
    )
}

/// One table row per configuration.
fn row(c: &Config) -> Vec<String> {
    let st = |cr: &CellRun, i: usize| {
        cl::f3(cl::mean_of(cr, |o| {
            let s = cl::stability(o, TARGET);
            if i == 0 {
                s.0
            } else {
                s.1
            }
        }))
    };
    let reached = |cr: &CellRun| cr.outcomes.iter().filter(|o| o.reached).count();
    let unstable = |cr: &CellRun| cr.outcomes.iter().filter(|o| o.diverged.is_some()).count();
    vec![
        c.fam.name().into(),
        c.lag.to_string(),
        c.epochs.to_string(),
        cl::frac(reached(&c.p), c.seeds),
        cl::frac(reached(&c.pi), c.seeds),
        cl::f3(cl::mean_of(&c.p, |o| o.figs.final_abs_err)),
        cl::f3(cl::mean_of(&c.pi, |o| o.figs.final_abs_err)),
        format!("{} / {}", st(&c.p, 0), st(&c.p, 1)),
        format!("{} / {}", st(&c.pi, 0), st(&c.pi, 1)),
        format!("{}/{}", unstable(&c.p), unstable(&c.pi)),
    ]
}

/// The measure mode's figure name.
pub(super) fn figure_name(measure: &str) -> String {
    format!("thm43_{measure}.svg")
}

/// Writes the measure mode's figure (P and PI of the first family at the
/// largest lag, one epoch); `None` when no configuration qualifies.
pub(super) fn figure(
    out_dir: &Path,
    measure: &str,
    configs: &[Config],
    max_lag: usize,
) -> Result<Option<String>, ProofsError> {
    let Some(c) = configs.iter().find(|c| c.lag == max_lag && c.epochs == 1) else {
        return Ok(None);
    };
    let (lp, lpi) = (
        format!("P {} lag {}", c.fam.name(), c.lag),
        format!("PI {} lag {}", c.fam.name(), c.lag),
    );
    cl::plot_entropy(
        out_dir,
        &figure_name(measure),
        &format!("thm-4-3 measure = {measure}"),
        &[(lp.as_str(), &c.p), (lpi.as_str(), &c.pi)],
    )
    .map(Some)
}

/// The measure mode's subsection: heading, table, figure link.
pub(super) fn section(measure: &str, configs: &[Config]) -> String {
    let rows: Vec<Vec<String>> = configs.iter().map(row).collect();
    let mut md = format!("### measure = {measure}\n\n");
    md.push_str(&markdown_table(
        &[
            "family",
            "lag",
            "epochs",
            "P reached",
            "PI reached",
            "P final |e|",
            "PI final |e|",
            "P growth / flips",
            "PI growth / flips",
            "unstable P/PI",
        ],
        &rows,
    ));
    md.push_str(&format!("\n\n![]({})\n\n", figure_name(measure)));
    md
}
