//! The map's outputs, assembled from the cell files: `regime-map.json`
//! (`{"complete", "cells": [...]}`, no times), `regime-map.md` (tables,
//! definitions, and how long each cell took) and the SVG heatmaps over
//! K × tail mass of the core cells, one pair per optimizer.
use super::classify::{HOLD_REL_ERR, SATURATED_SHARE};
use super::model::{ArmKind, ArmResult, CellFile, CellKind, Outcome};
use entropic_sim::numfmt::fmt_sig;
use entropic_sim::optim::OptimizerKind;
use entropic_sim::plot::{Heatmap, RGBColor, BLUE, GREEN, GREY, RED};
use entropic_sim::report::{markdown_table, write_atomic};
use std::path::Path;

/// The PI arm whose outcome the first heatmap shows.
pub const HEADLINE_ARM: &str = "pi-official@half";

fn opt(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| fmt_sig(v, 3))
}

fn interval(x: Option<f64>, ci: [Option<f64>; 2]) -> String {
    match x {
        None => "–".into(),
        Some(v) => format!("{} [{}, {}]", fmt_sig(v, 3), opt(ci[0]), opt(ci[1])),
    }
}

/// `g / |b|`, the gain against the drift (NaN when either is missing).
pub fn g_over_b(g: Option<f64>, b: Option<f64>) -> Option<f64> {
    let r = g? / b?.abs();
    r.is_finite().then_some(r)
}

fn outcome_colour(o: Outcome) -> RGBColor {
    match o {
        Outcome::Holds => GREEN,
        Outcome::HoldsLate => RGBColor(152, 223, 138),
        Outcome::Saturated => RGBColor(255, 127, 14),
        Outcome::NoAuthority => RED,
        Outcome::LostAuthority => RGBColor(148, 103, 189),
        Outcome::Misses => BLUE,
        Outcome::Undetermined => GREY,
    }
}

fn opt_name(o: OptimizerKind) -> &'static str {
    match o {
        OptimizerKind::Adam => "adam",
        OptimizerKind::Sgd => "sgd",
    }
}

/// `regime-map.json`: every finished cell's result in grid order.
pub fn json(files: &[CellFile], complete: bool) -> serde_json::Value {
    let cells: Vec<&super::model::CellResult> = files.iter().map(|f| &f.result).collect();
    serde_json::json!({ "complete": complete, "cells": cells })
}

/// The SVG heatmaps of the core cells (one pair per optimizer present):
/// the outcome of [`HEADLINE_ARM`] and `g/|b|`; returns their file names.
fn heatmaps(dir: &Path, files: &[CellFile]) -> anyhow::Result<Vec<String>> {
    let mut written = Vec::new();
    for o in [OptimizerKind::Adam, OptimizerKind::Sgd] {
        let core: Vec<&CellFile> = files
            .iter()
            .filter(|f| f.spec.kind == CellKind::Core && f.spec.optimizer == o)
            .collect();
        if core.is_empty() {
            continue;
        }
        let mut ks: Vec<usize> = core.iter().map(|f| f.spec.vocab).collect();
        ks.sort_unstable();
        ks.dedup();
        let mut qs: Vec<f64> = core.iter().map(|f| f.spec.tail_mass).collect();
        qs.sort_by(f64::total_cmp);
        qs.dedup();
        let cols: Vec<String> = ks.iter().map(|k| k.to_string()).collect();
        let rows: Vec<String> = qs.iter().map(|q| fmt_sig(*q, 3)).collect();
        let pos = |f: &CellFile| {
            (
                ks.iter().position(|&k| k == f.spec.vocab).unwrap_or(0),
                qs.iter().position(|&q| q == f.spec.tail_mass).unwrap_or(0),
            )
        };
        let name = opt_name(o);
        let mut h = Heatmap::new(
            &format!("{HEADLINE_ARM} outcome ({name})"),
            "vocabulary K",
            "tail mass",
            &cols,
            &rows,
        );
        for f in &core {
            let (c, r) = pos(f);
            if let Some(out) = f.result.arms.get(HEADLINE_ARM).and_then(|a| a.outcome) {
                h.cell(c, r, outcome_colour(out), out.name());
            }
        }
        let legend: Vec<(RGBColor, &str)> = Outcome::ALL
            .iter()
            .map(|o| (outcome_colour(*o), o.name()))
            .collect();
        h.legend(&legend);
        let file = format!("regime-map-outcome-{name}.svg");
        h.write(&dir.join(&file))?;
        written.push(file);
        let mut h = Heatmap::new(
            &format!("g / |b| ({name})"),
            "vocabulary K",
            "tail mass",
            &cols,
            &rows,
        );
        for f in &core {
            let (c, r) = pos(f);
            match g_over_b(f.result.g, f.result.b) {
                Some(x) => {
                    let colour = if x >= 1.0 { GREEN } else { RED };
                    h.cell(c, r, colour, &fmt_sig(x, 2));
                }
                None => h.cell(c, r, GREY, "n/a"),
            }
        }
        h.legend(&[(GREEN, "g ≥ |b|"), (RED, "g < |b|"), (GREY, "no estimate")]);
        let file = format!("regime-map-g-over-b-{name}.svg");
        h.write(&dir.join(&file))?;
        written.push(file);
    }
    Ok(written)
}

fn arm_row(name: &str, a: &ArmResult) -> Vec<String> {
    vec![
        name.to_string(),
        a.seeds.to_string(),
        opt(a.target),
        opt(a.h_final),
        opt(a.final_rel_err),
        opt(a.settling_step),
        opt(a.pass_final),
        opt(a.pass_cost),
        opt(a.alpha_saturated),
        opt(a.zero_adv_share),
        a.outcome.map_or(String::new(), |o| o.name().to_string()),
    ]
}

/// Writes `regime-map.md`, `regime-map.json` and the heatmaps of `files`
/// (finished cells, grid order) into `dir`; `planned` is the number of
/// cells asked for, `notes` lines put first (partial run, filters).
pub fn write(
    dir: &Path,
    files: &[CellFile],
    planned: usize,
    quick: bool,
    notes: &[String],
) -> anyhow::Result<()> {
    let complete = files.len() == planned;
    write_atomic(
        &dir.join("regime-map.json"),
        serde_json::to_string_pretty(&json(files, complete))?.as_bytes(),
    )?;
    let svgs = heatmaps(dir, files)?;
    let mut md = String::new();
    md.push_str(&format!(
        "# Regime map{}\n\n",
        if quick { " (quick)" } else { "" }
    ));
    for n in notes {
        md.push_str(&format!("{n}\n\n"));
    }
    if !complete {
        md.push_str(&format!(
            "**Partial**: {} of {planned} cells finished; `entropic map --resume` continues.\n\n",
            files.len()
        ));
    }
    if let Some(f) = files.first() {
        md.push_str(&format!(
            "Each cell runs `grpo`, constant-α twins and EntroPIC-PI arms for {} steps on the same seeds. What ran: {} (`ran_as` in each cell's JSON).\n\n",
            f.spec.steps, f.result.ran_as
        ));
    }
    md.push_str(&format!(
        "Everything is measured on `entropy_exact`. H0: exact entropy before training (mean over `grpo`'s seeds); targets low/half/high/paper = 0.3/0.5/0.7/(0.10/0.12)·H0. `g`, `b`: the paired estimator of docs/mathematics.md §9 pooled over the four constant-α twins of `grpo` (`b` from the `alpha-1` twins' plain arm). Outcomes, the first that fits: `saturated` (|α| at its clip on more than {} of the last quarter), `holds` (mean final_rel_err ≤ {} and median settling step, band |e| ≤ 0.1·H_tar without floor, at most half the horizon), `holds-late` (the same, later), `no-authority` (detectable g < |b| and g's upper end < |b|), `lost-authority` (g > 0 significantly in the first window, interval below |b| at the target's level), `misses` (g > 0 significantly at the target's level), `undetermined`.\n\n",
        SATURATED_SHARE, HOLD_REL_ERR
    ));
    // cells
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|f| {
            let r = &f.result;
            let oc = |arm: &str| {
                r.arms
                    .get(arm)
                    .and_then(|a| a.outcome)
                    .map_or("–".to_string(), |o| o.name().to_string())
            };
            vec![
                r.id.clone(),
                r.vocab.to_string(),
                fmt_sig(r.tail_mass, 3),
                r.length.to_string(),
                fmt_sig(r.det_share, 3),
                fmt_sig(r.temperature, 2),
                opt_name(r.optimizer).into(),
                fmt_sig(r.lr, 3),
                opt(r.h0),
                opt(r.hp_frac0),
                interval(r.g, r.g_ci),
                opt(r.g_detectable),
                interval(r.b, r.b_ci),
                opt(g_over_b(r.g, r.b)),
                oc("pi-official@half"),
                oc("pi-scaled@half"),
                oc("pi-scalefree@half"),
            ]
        })
        .collect();
    md.push_str("## Cells\n\n");
    md.push_str(&markdown_table(
        &[
            "cell",
            "K",
            "tail",
            "L",
            "det share",
            "T",
            "opt",
            "lr",
            "H0",
            "hp_frac0",
            "g [95%]",
            "g detectable",
            "b [95%]",
            "g/|b|",
            "official@half",
            "scaled@half",
            "scalefree@half",
        ],
        &rows,
    ));
    // PI outcomes
    let mut pi_names: Vec<String> = Vec::new();
    for f in files {
        for a in super::cells::arms(&f.spec) {
            if matches!(a.kind, ArmKind::Pi(..)) && !pi_names.contains(&a.name) {
                pi_names.push(a.name);
            }
        }
    }
    md.push_str("\n## Outcomes of the PI arms\n\n");
    let mut headers: Vec<&str> = vec!["cell"];
    headers.extend(pi_names.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|f| {
            let mut row = vec![f.result.id.clone()];
            row.extend(pi_names.iter().map(|n| {
                f.result
                    .arms
                    .get(n)
                    .and_then(|a| a.outcome)
                    .map_or("–".to_string(), |o| o.name().to_string())
            }));
            row
        })
        .collect();
    md.push_str(&markdown_table(&headers, &rows));
    let mut counts: Vec<String> = Vec::new();
    for o in Outcome::ALL {
        let n = files
            .iter()
            .flat_map(|f| f.result.arms.values())
            .filter(|a| a.outcome == Some(o))
            .count();
        if n > 0 {
            counts.push(format!("{} {n}", o.name()));
        }
    }
    md.push_str(&format!("\nPI arms by outcome: {}.\n", counts.join(", ")));
    // per cell
    md.push_str("\n## Arms per cell\n\nFigures over each arm's seeds: h_final (last-quarter mean), final_rel_err (against `target`; 0.5·H0 for arms without one), settling step (median), pass rate (last quarter) and its cost against `grpo`, share of the last quarter with α at its clip, share of zero-advantage groups over the last quarter.\n");
    for f in files {
        let r = &f.result;
        md.push_str(&format!("\n### {}\n\n", r.id));
        // in the order the arms ran
        let rows: Vec<Vec<String>> = super::cells::arms(&f.spec)
            .iter()
            .filter_map(|s| r.arms.get(&s.name).map(|a| arm_row(&s.name, a)))
            .collect();
        md.push_str(&markdown_table(
            &[
                "arm",
                "seeds",
                "target",
                "h_final",
                "final_rel_err",
                "settling",
                "pass_final",
                "pass_cost",
                "α saturated",
                "zero-adv",
                "outcome",
            ],
            &rows,
        ));
        if !r.g_windows.is_empty() {
            md.push_str("\ng along the run (pooled twins):\n\n");
            let rows: Vec<Vec<String>> = r
                .g_windows
                .iter()
                .map(|w| {
                    vec![
                        format!("{}–{}", w.start, w.end),
                        opt(w.mean_entropy),
                        interval(w.g, w.g_ci),
                        opt(w.g_detectable),
                        interval(w.b, w.b_ci),
                    ]
                })
                .collect();
            md.push_str(&markdown_table(
                &["steps", "mean H", "g [95%]", "g detectable", "b [95%]"],
                &rows,
            ));
        }
    }
    if !svgs.is_empty() {
        md.push_str("\n## Figures\n\n");
        for s in &svgs {
            md.push_str(&format!("![{s}]({s})\n"));
        }
    }
    md.push_str("\n## Provenance\n\nWall time of each cell as it ran and the build that computed it (cells reused by `--resume` keep the time and build of the run that computed them; \"unknown\": a build that did not know its git revision, or a cell file older than this column).\n\n");
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|f| {
            vec![
                f.result.id.clone(),
                format!("{:.1}", f.seconds),
                f.threads.to_string(),
                f.git_revision.clone().unwrap_or_else(|| "unknown".into()),
            ]
        })
        .collect();
    md.push_str(&markdown_table(
        &["cell", "seconds", "threads", "build"],
        &rows,
    ));
    let total: f64 = files.iter().map(|f| f.seconds).sum();
    md.push_str(&format!(
        "\nTotal {:.1} s over {} cells.\n",
        total,
        files.len()
    ));
    write_atomic(&dir.join("regime-map.md"), md.as_bytes())?;
    Ok(())
}
