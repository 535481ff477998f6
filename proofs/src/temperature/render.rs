//! Render step of `temperature`: the section's Markdown (intro, figure
//! links, table) and its figures.

use super::compute::FamilyRuns;
use super::model::TARGET;
use crate::closedloop::{self as cl, CellRun};
use crate::error::ProofsError;
use entropic_sim::report::markdown_table;
use std::path::Path;

/// The section's opening paragraph.
pub(super) fn intro() -> String {
    format!(
        "PI (Kp 1, Ki 0.01, τ 0.95, |α| ≤ 1), target {TARGET} nats at every temperature, \
         on-policy, first learning rate of each family; plain GRPO (none) as reference.\n\n"
    )
}

/// Writes the family's figure (PI at every temperature) and returns its
/// name.
pub(super) fn figure(out_dir: &Path, fr: &FamilyRuns) -> Result<String, ProofsError> {
    let name = format!("temperature_{}.svg", fr.fam.name());
    let labels: Vec<String> = fr.temps.iter().map(|t| format!("T {}", t.t)).collect();
    let plot: Vec<(&str, &CellRun)> = labels
        .iter()
        .map(String::as_str)
        .zip(fr.temps.iter().map(|t| &t.pi))
        .collect();
    cl::plot_entropy(
        out_dir,
        &name,
        &format!("temperature {}", fr.fam.name()),
        &plot,
    )
}

/// The table of every family and temperature.
pub(super) fn table(runs: &[FamilyRuns]) -> String {
    let r = |c: &CellRun| c.outcomes.iter().filter(|o| o.reached).count();
    let mut rows = Vec::new();
    for fr in runs {
        for t in &fr.temps {
            rows.push(vec![
                fr.fam.name().into(),
                format!("{:?}", t.t),
                cl::frac(r(&t.none), fr.seeds),
                cl::frac(r(&t.pi), fr.seeds),
                cl::f3(cl::mean_of(&t.none, |o| o.figs.final_entropy)),
                cl::f3(cl::mean_of(&t.pi, |o| o.figs.final_entropy)),
                cl::f3(cl::mean_of(&t.pi, |o| o.figs.alpha_saturated)),
            ]);
        }
    }
    let mut md = markdown_table(
        &[
            "family",
            "T",
            "none 'reached'",
            "PI reached",
            "none final H",
            "PI final H",
            "PI α saturated",
        ],
        &rows,
    );
    md.push('\n');
    md
}
