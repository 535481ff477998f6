//! Render step of `thm-4-3`: the section's Markdown (intro, one table per
//! measure mode) and its figures.

use super::compute::Config;
use super::model::{target, TARGET};
use crate::closedloop::{self as cl, CellRun};
use crate::error::ProofsError;
use entropic_sim::report::markdown_table;
use std::path::Path;

/// The section's opening paragraph.
pub(super) fn intro() -> String {
    format!(
        "Target {TARGET} nats, official law (τ 0.95, |α| ≤ 1, Kp 1; PI Ki 0.01, P Ki 0), first \
         learning rate of each family. A run pair (same seed and configuration) agrees with the \
         claim when PI reaches the target (thm-4-2's criterion) and P does not. Two staleness \
         models, one verdict each per measure mode: `lag` (asynchronous lag d > 0, one epoch, \
         one minibatch; ratios against the behaviour policy of d steps ago) and `minibatches` \
         (the authors' definition: lag 0 and more than one optimizer step per rollout batch, \
         minibatches > 1 or epochs > 1; π_old is the policy at the start of the step); the \
         on-policy row (lag 0, one epoch, one minibatch) is a reference, not counted. \
         Stability: max|e| over the last quarter / max|e| over the second quarter (> 1: \
         growing), and the share of sign changes of e over the last half (oscillation).\n\n"
    )
}

/// One table row per configuration.
fn row(c: &Config) -> Vec<String> {
    let st = |cr: &CellRun, i: usize| {
        cl::f3(cl::mean_of(cr, |o| {
            let s = cl::stability(o, target(c.fam));
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
        c.stale.model().name().into(),
        c.stale.lag.to_string(),
        c.stale.epochs.to_string(),
        c.stale.minibatches.to_string(),
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
/// largest lag); `None` when the grid has no lag configuration. `measure`
/// names the file and the title (the paper-like variant passes
/// `paper-like-current`).
pub(super) fn figure(
    out_dir: &Path,
    measure: &str,
    configs: &[Config],
) -> Result<Option<String>, ProofsError> {
    let max_lag = configs.iter().map(|c| c.stale.lag).max().unwrap_or(0);
    let Some(c) = configs
        .iter()
        .find(|c| max_lag > 0 && c.stale.lag == max_lag)
    else {
        return Ok(None);
    };
    let (lp, lpi) = (
        format!("P {} lag {}", c.fam.name(), c.stale.lag),
        format!("PI {} lag {}", c.fam.name(), c.stale.lag),
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
pub(super) fn section(measure: &str, configs: &[Config], figure: Option<&str>) -> String {
    let rows: Vec<Vec<String>> = configs.iter().map(row).collect();
    let mut md = format!("### measure = {measure}\n\n");
    md.push_str(&markdown_table(
        &[
            "family",
            "staleness",
            "lag",
            "epochs",
            "minibatches",
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
    md.push_str("\n\n");
    if let Some(f) = figure {
        md.push_str(&format!("![]({f})\n\n"));
    }
    md
}
