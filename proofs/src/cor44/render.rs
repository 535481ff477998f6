//! Render step of `cor-4-4`: the section's Markdown (intro, figure links,
//! table) and its figures.

use super::compute::FamilyRuns;
use super::judge::{agree, reached};
use super::model::TARGET;
use crate::closedloop::{self as cl, CellRun};
use crate::error::ProofsError;
use entropic_sim::report::markdown_table;
use std::path::Path;

/// The section's opening paragraph.
pub(super) fn intro() -> String {
    format!(
        "PI (Kp 1, Ki 0.01, |α| ≤ 1, official weighting), target {TARGET} nats, on-policy, \
         first learning rate of each family. `all` puts the extra term on every token \
         (τ irrelevant); `high_prob` only on tokens with π > τ. A seed agrees at τ when \
         high_prob reaches the target whenever all does.\n\n"
    )
}

/// Writes the family's figure (`all` and every τ) and returns its name.
pub(super) fn figure(out_dir: &Path, fr: &FamilyRuns) -> Result<String, ProofsError> {
    let name = format!("cor44_{}.svg", fr.fam.name());
    let labels: Vec<String> = fr
        .hp
        .iter()
        .map(|(tau, _)| format!("high_prob τ {tau}"))
        .collect();
    let mut refs: Vec<(&str, &CellRun)> = vec![("all", &fr.all)];
    refs.extend(
        labels
            .iter()
            .map(String::as_str)
            .zip(fr.hp.iter().map(|(_, c)| c)),
    );
    cl::plot_entropy(out_dir, &name, &format!("cor-4-4 {}", fr.fam.name()), &refs)
}

/// The family's table rows: `all`, then each τ.
fn rows(fr: &FamilyRuns) -> Vec<Vec<String>> {
    let seeds = fr.seeds;
    let mut rows = vec![vec![
        fr.fam.name().into(),
        "all".into(),
        "-".into(),
        cl::frac(reached(&fr.all), seeds),
        cl::f3(cl::mean_of(&fr.all, |o| o.figs.final_abs_err)),
        cl::f3(cl::mean_of(&fr.all, |o| o.figs.alpha_saturated)),
        "-".into(),
    ]];
    for (tau, hp) in &fr.hp {
        rows.push(vec![
            fr.fam.name().into(),
            "high_prob".into(),
            format!("{tau:?}"),
            cl::frac(reached(hp), seeds),
            cl::f3(cl::mean_of(hp, |o| o.figs.final_abs_err)),
            cl::f3(cl::mean_of(hp, |o| o.figs.alpha_saturated)),
            cl::frac(agree(&fr.all, hp), seeds),
        ]);
    }
    rows
}

/// The table of every family.
pub(super) fn table(runs: &[FamilyRuns]) -> String {
    let rows: Vec<Vec<String>> = runs.iter().flat_map(rows).collect();
    let mut md = markdown_table(
        &[
            "family",
            "scope",
            "τ",
            "reached",
            "final |e|",
            "α saturated",
            "agrees with claim",
        ],
        &rows,
    );
    md.push('\n');
    md
}
