//! Render step of `thm-4-2`: the section's Markdown (intro, table, figure
//! links) and its figures.

use super::compute::FamilyRuns;
use super::judge::predict;
use crate::closedloop as cl;
use crate::error::ProofsError;
use entropic_sim::report::markdown_table;
use std::path::Path;

/// The section's opening paragraph.
pub(super) fn intro() -> String {
    String::from(
        "On-policy (lag 0, one PPO epoch), official law (τ 0.95, official weighting, |α| ≤ 1, \
         Kp 1; PI Ki 0.01, P Ki 0). Reached = settled in the band max(0.05, 0.1·H_tar) and \
         final_abs_err ≤ band. Predicted e* = b/(g·Kp) from a probe run on the same \
         instances (fit on the probe's steps with H in [0.5, 1.5]·H_tar); measured e = mean \
         H − H_tar over P's last quarter.\n\n",
    )
}

/// One table row per (family, lr, target).
pub(super) fn rows(runs: &[FamilyRuns]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for fr in runs {
        let seeds = fr.seeds;
        for (probe, t) in fr.iter() {
            let pr = predict(probe, t);
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
            let k = |c: &cl::CellRun| c.outcomes.iter().filter(|o| o.reached).count();
            let tt = t.target;
            rows.push(vec![
                fr.fam.name().to_string(),
                format!("{:?}", t.lr),
                format!("{tt:?}"),
                if pr.gs.is_empty() {
                    "n/a".into()
                } else {
                    cl::f3(mean(&pr.gs))
                },
                if pr.pred.is_empty() {
                    "n/a".into()
                } else {
                    cl::f3(mean(&pr.pred))
                },
                format!("{}/{}", pr.sat, pr.pred.len()),
                cl::f3(cl::mean_of(&t.p, |o| cl::final_signed_err(o, tt))),
                format!("{}/{}", pr.agree, pr.pred.len()),
                t.none_reached
                    .map_or_else(|| "-".to_string(), |n| cl::frac(n, seeds)),
                cl::frac(k(&t.p), seeds),
                cl::frac(k(&t.pi), seeds),
                cl::f3(cl::mean_of(&t.pi, |o| cl::final_signed_err(o, tt))),
                cl::f3(cl::mean_of(&t.pi, |o| {
                    o.figs.settling_step.map_or(f64::NAN, |s| s as f64)
                })),
            ]);
        }
    }
    rows
}

/// The family's figure name (`thm42_<family>.svg`).
pub(super) fn figure_name(fr: &FamilyRuns) -> String {
    format!("thm42_{}.svg", fr.fam.name())
}

/// Writes the family's figure: P vs PI at the first lr's middle target.
pub(super) fn figure(out_dir: &Path, fr: &FamilyRuns) -> Result<String, ProofsError> {
    let targets = fr.targets;
    let mid = targets.len() / 2;
    let cells: Vec<_> = fr.iter().map(|(_, t)| t).collect();
    cl::plot_entropy(
        out_dir,
        &figure_name(fr),
        &format!(
            "thm-4-2 {} lr {:?} target {:?}",
            fr.fam.name(),
            fr.fam.lrs()[0],
            targets[mid]
        ),
        &[("P", &cells[mid].p), ("PI", &cells[mid].pi)],
    )
}

/// The table and the figure links.
pub(super) fn table(runs: &[FamilyRuns]) -> String {
    let mut md = markdown_table(
        &[
            "family",
            "lr",
            "target",
            "probe g",
            "predicted e* (P)",
            "|e*|>1 (P saturates)",
            "measured e (P)",
            "agree within band",
            "none 'reached'",
            "P reached",
            "PI reached",
            "measured e (PI)",
            "PI settling step",
        ],
        &rows(runs),
    );
    md.push_str("\n\n");
    for fr in runs {
        md.push_str(&format!("![]({})\n\n", figure_name(fr)));
    }
    md
}
