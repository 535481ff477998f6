//! `llm-validation.md`, `llm-validation.json` and the SVGs: the base's
//! composition, the prediction written before the arms, the twins'
//! design, each arm's figures and outcome, the identified gain and drift,
//! and the scorecard (docs/llm-validation.md).

use super::arms::LlmArm;
use super::design::Design;
use super::measure::LlmCell;
use super::prediction::Predicted;
use super::preset::{Preset, PresetFile};
use super::scoring::Scorecard;
use crate::lab::map::model::GainJson;
use anyhow::{Context, Result};
use entropic_proofs::ident_power::VarianceSource;
use entropic_sim::metrics::Record;
use entropic_sim::report::{fmt_sig, line_plot_svg, markdown_table, write_atomic, ArmSeries};
use std::path::{Path, PathBuf};

fn f(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => fmt_sig(v, 3),
        _ => "n/a".into(),
    }
}

fn gain_cell(g: &GainJson) -> String {
    match (g.g, &g.error) {
        (Some(v), _) => format!(
            "{} [{}, {}] (detectable {})",
            f(Some(v)),
            f(g.g_ci[0]),
            f(g.g_ci[1]),
            f(g.g_detectable)
        ),
        (None, Some(e)) => format!("not identified: {e}"),
        (None, None) => "n/a".into(),
    }
}

/// The design's plan against what the twins delivered: the realized
/// detectable gain beside the planned one and the drift, and what the
/// pooled interval may be read as:
/// - entirely above 0: authority is measured, whatever the power;
/// - entirely below 0: α acts against the law's sign convention (reported,
///   never read as authority);
/// - containing 0: "no authority" only where the design was not labelled
///   `undetermined` in advance and the realized detectable gain is below
///   |b|; else "not measured".
///
/// When the realized detectable gain exceeds twice the plan, the line
/// names what the plan leaves out (it does not test which one acted).
pub(super) fn power_check(design: &Design, g: &GainJson, b: Option<f64>) -> String {
    let (Some(det), Some(b)) = (g.g_detectable, b) else {
        return "Power: not assessed (no pooled gain or no drift was identified).".into();
    };
    let planned = design.planned_detectable;
    let ratio = (planned > 0.0).then(|| det / planned);
    let plan = format!(
        "Power: the realized detectable g is {} against the planned {} ({} the plan) and |b| {} ({}× |b|).",
        f(Some(det)),
        f(Some(planned)),
        ratio.map_or("n/a ×".into(), |r| format!("{}×", fmt_sig(r, 3))),
        f(Some(b.abs())),
        fmt_sig(det / b.abs(), 3),
    );
    let (lo, hi) = match g.g_ci {
        [Some(lo), Some(hi)] => (lo, hi),
        _ => (f64::NAN, f64::NAN),
    };
    let reading = if lo > 0.0 {
        "The pooled interval lies above 0: authority is measured, whatever the power."
    } else if hi < 0.0 {
        "The pooled interval lies below 0: α moved entropy against the law's sign convention; not read as authority."
    } else if design.label == "undetermined" {
        "The pooled interval contains 0 and the design was labelled undetermined in advance: not measured \
         (this says nothing about authority)."
    } else if det < b.abs() {
        "The pooled interval contains 0 with a detectable g below |b|: no authority at this design's power."
    } else {
        "The pooled interval contains 0 and the detectable g is above |b|: not measured (this says nothing about authority)."
    };
    let sizing = match (ratio.is_some_and(|r| r > 2.0), design.twin_seeds) {
        (false, _) => String::new(),
        (true, 1) => " The plan counts only the measurement noise σ_m and a difference linear in cumulative α; what it \
         leaves out, any of which can widen the interval (this line does not test which one did): a gain \
         that changes along the run (saturating, or unequal for α = ±1), which with one seed per schedule \
         the variance counts as noise (docs/mathematics.md §9), and twins that diverge. How large the first \
         can be: on the sampled toy, one seed on a constant α gave an interval 21 to 54 times its estimate's \
         real spread (`paired_one_seed_calibration` in proofs/src/ident_power_toy_tests.rs); from two seeds \
         the pooled variance is the seeds' own spread instead."
            .to_string(),
        (true, n) => {
            // The pooled fit's degrees of freedom as written (JSON from
            // before 2026-11-30 has none: the seeds' slopes, n − 1).
            let nu = g.df.unwrap_or((n - 1) as f64);
            let fit_mult = entropic_proofs::ident_power::detectable_multiplier(nu);
            let t = fit_mult / design.power_multiplier;
            let nu_s = if nu.fract() == 0.0 {
                format!("{nu:.0}")
            } else {
                fmt_sig(nu, 3)
            };
            // What the pooled interval rests on (JSON written before
            // 2026-11-30 does not say; from two seeds it was the seeds'
            // slopes).
            let source = match g.variance {
                None | Some(VarianceSource::SeedSlopes) => {
                    format!("the spread of the {n} seeds' own slopes")
                }
                Some(v) => format!(
                    "a `{}` variance, not the seeds' slopes (docs/mathematics.md §9)",
                    v.name()
                ),
            };
            let (pm, fm, ts) = (
                fmt_sig(design.power_multiplier, 3),
                fmt_sig(fit_mult, 3),
                fmt_sig(t, 3),
            );
            let quantiles = if t > 1.005 {
                format!(
                    " The plan took the detectable gain as {pm} standard errors; the pooled interval, {source} \
                     with {nu_s} degree(s) of freedom, takes {fm}: its Student t quantiles alone make a detectable \
                     gain {ts}× the plan's at the same standard error."
                )
            } else if t < 0.995 {
                format!(
                    " The plan took the detectable gain as {pm} standard errors; the pooled interval, {source} \
                     with {nu_s} degree(s) of freedom, takes {fm}: its quantiles make the detectable gain {ts}× \
                     the plan's at the same standard error."
                )
            } else {
                format!(
                    " The plan took the pooled interval's own quantiles ({source}, {nu_s} degree(s) of freedom)."
                )
            };
            let rest = match g.variance {
                None | Some(VarianceSource::SeedSlopes) => {
                    "the seeds' spread beyond the measurement noise (twins that diverge, a gain that differs \
                     between seeds); this line does not test which."
                }
                Some(_) => {
                    "the fit's standard error beyond the plan's, from a variance that is not the seeds' spread."
                }
            };
            format!(
                " The plan counts only the measurement noise σ_m and a difference linear in cumulative α.{quantiles} \
                 The rest, {}×, is {rest}",
                ratio.map_or("n/a".into(), |r| fmt_sig(r / t, 3)),
            )
        }
    };
    format!("{plan} {reading}{sizing}")
}

/// A JSON number at `path` (slash-separated keys) of `v`.
fn num(v: &serde_json::Value, path: &str) -> Option<f64> {
    path.split('/')
        .try_fold(v, |v, k| v.get(k))
        .and_then(|x| x.as_f64())
}

/// (file suffix, title, y label, field, draw the half-H0 line).
type Plot = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Record) -> Option<f64>,
    bool,
);

/// Writes the report into `dir`; returns the Markdown's path.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_report(
    dir: &Path,
    preset: Preset,
    pf: &PresetFile,
    predicted: &Predicted,
    design: &Design,
    arms: &[LlmArm],
    runs: &[Vec<(u64, Vec<Record>)>],
    cell: &LlmCell,
    card: &Scorecard,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let g = &pf.grpo.grpo;
    let p = &predicted.json;
    let mut md = format!(
        "# LLM validation (`entropic llm validate --preset {}`)\n\n",
        preset.name()
    );
    md += &format!(
        "The LLM measured as a cell of the regime map (docs/llm-validation.md), after a prediction from the \
         map written before the first arm ran ({}). Arms: {} steps of {} prompts × {}, lr {}, T {}; the entropy \
         of the {} validation prompts every {} update(s) (`entropy_exact`); H0 = {} nats (before training, \
         mean over {} seeds).\n\n",
        p.get("written_utc").and_then(|v| v.as_str()).unwrap_or("n/a"),
        g.steps,
        g.batch_prompts,
        g.group_size,
        g.lr,
        g.temperature,
        g.val_problems,
        g.val_every,
        f(cell.h0),
        cell.h_init.len(),
    );
    let secs: f64 = runs
        .iter()
        .flatten()
        .flat_map(|(_, r)| r.iter().filter_map(|x| x.seconds))
        .sum();
    md += &format!(
        "Training time of all arms: {:.1} minutes (sum of the records' `seconds`).\n\n",
        secs / 60.0
    );
    md += "## The base model\n\n";
    md += &markdown_table(
        &[
            "T",
            "token-mean entropy",
            "hp_frac",
            "hp_entropy_share",
            "tail_mass_hp",
            "pass@1",
            "pass@k",
            "σ_m",
        ],
        &[vec![
            f(num(p, "temperature")),
            f(num(p, "diagnosis/composition/entropy_mean")),
            f(num(p, "diagnosis/composition/hp_frac")),
            f(num(p, "diagnosis/composition/hp_entropy_share")),
            f(num(p, "diagnosis/composition/tail_mass_hp")),
            f(num(p, "diagnosis/pass@1")),
            f(num(p, "diagnosis/pass@k")),
            f(Some(predicted.sigma_m)),
        ]],
    );
    md += "\n## The prediction (`prediction.json`, written before the arms)\n\n";
    let pr = p.get("prediction");
    md += &format!(
        "Map SHA-256 `{}`. Nearest cell `{}` at distance {}{}. Predicted g/|b| {}; official target range {}.\n\n",
        p.get("map_sha256").and_then(|v| v.as_str()).unwrap_or("n/a"),
        pr.and_then(|x| x.get("cell")).and_then(|v| v.as_str()).unwrap_or("n/a"),
        f(pr.and_then(|x| num(x, "distance"))),
        if pr.and_then(|x| x.get("extrapolated")).and_then(|v| v.as_bool()) == Some(true) {
            " (outside the map: extrapolated)"
        } else {
            ""
        },
        f(predicted.g_over_abs_b),
        pr.and_then(|x| x.get("official_target_range"))
            .filter(|v| !v.is_null())
            .map_or("none (no official arm held in the cell)".into(), |v| v.to_string()),
    );
    md += "## The twins' design (sized before the twins ran)\n\n";
    md += &format!(
        "{} of at most {} seeds per twin arm; σ_m {} nats; pilot drift {} nats/update; planned detectable g {} \
         (SE {}); label **{}**{}.{}\n\n",
        design.twin_seeds,
        design.twin_seeds_max,
        f(Some(design.sigma_m)),
        f(Some(design.drift_pilot)),
        f(Some(design.planned_detectable)),
        f(Some(design.planned_se)),
        design.label,
        if design.label == "undetermined" {
            ": even the most seeds could not bring the detectable gain below the drift, so an interval that \
             contains 0 cannot say \"no authority\""
        } else {
            ""
        },
        match design.twin_seeds {
            1 => " With one seed per twin arm every paired interval's variance is a model of the twins' noise \
                  in time, which counts a gain that changes along the run as noise: on the sampled toy of \
                  docs/mathematics.md §9 its detectable gain was 21–54 times the 80%-power gain of the \
                  estimate's real spread (constant α)."
                .to_string(),
            n if n < entropic_proofs::ident_power::MIN_SEED_SLOPES => format!(
                " With {n} seeds per twin arm the pooled interval is the spread of the seeds' own slopes over \
                 both twins ({} degree(s) of freedom: on the sampled toy of docs/mathematics.md §9 its detectable \
                 gain was 1.7–1.8 times the 80%-power gain of the estimate's real spread from three seeds, 3.8–4.4 \
                 from two, which is its Student t quantiles: 0.87 and 0.68–0.75 of the gain its intervals \
                 detected), each arm's a model of the seeds' deviations from their mean (1.6–1.75 times the \
                 spread's from two seeds, 0.91–0.99 of the detected).",
                n - 1
            ),
            _ => String::new(),
        },
    );
    md += "## Identification (paired twins, docs/mathematics.md §9)\n\n";
    let mut rows = vec![
        vec!["pooled g".into(), gain_cell(&cell.g)],
        vec![
            "drift b".into(),
            format!("{} [{}, {}]", f(cell.b), f(cell.b_ci[0]), f(cell.b_ci[1])),
        ],
        vec!["g/|b|".into(), f(cell.g_over_abs_b)],
    ];
    for (arm, gj) in &cell.g_by_arm {
        rows.push(vec![format!("g of {arm}"), gain_cell(gj)]);
    }
    md += &markdown_table(&["estimate", "value [95% interval]"], &rows);
    md += &format!("\n{}\n", power_check(design, &cell.g, cell.b));
    md += "\n## Figures per arm\n\n";
    md += "On `entropy_exact` (validation prompts); `target` is the arm's, or half of H0 for arms without one; \
           settling: the median seed's first step from which |H − H_tar| ≤ 0.1·H_tar holds; `pass cost`: \
           `grpo`'s last-quarter validation pass@1 minus the arm's.\n\n";
    let mut rows = Vec::new();
    for (arm, rs) in arms.iter().zip(runs) {
        let Some(a) = cell.arms.get(&arm.spec.name) else {
            continue;
        };
        let (lo, hi) = rs
            .iter()
            .flat_map(|(_, r)| r.iter().filter_map(|x| x.alpha))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
                (l.min(x), h.max(x))
            });
        rows.push(vec![
            arm.spec.name.clone(),
            a.seeds.to_string(),
            f(a.target),
            f(a.h_final),
            f(a.final_rel_err),
            a.settling_step
                .map_or("never".into(), |s| format!("{s:.0}")),
            f(a.pass_final),
            f(a.pass_cost),
            if lo.is_finite() {
                format!("[{}, {}]", f(Some(lo)), f(Some(hi)))
            } else {
                "—".into()
            },
            f(a.alpha_saturated),
            a.outcome.map_or("—".into(), |o| o.name().to_string()),
        ]);
    }
    md += &markdown_table(
        &[
            "arm",
            "seeds",
            "target",
            "H final",
            "final_rel_err",
            "settling",
            "pass final",
            "pass cost",
            "α range",
            "α saturated",
            "outcome",
        ],
        &rows,
    );
    md += "\n## Scorecard\n\n";
    let rows: Vec<Vec<String>> = card
        .lines
        .iter()
        .map(|l| {
            vec![
                l.item.clone(),
                l.predicted.clone(),
                l.measured.clone(),
                l.verdict.clone(),
            ]
        })
        .collect();
    md += &markdown_table(&["item", "predicted", "measured", "verdict"], &rows);
    md += &format!(
        "\nOutcome classes: {} of {} informative comparisons match; {} uninformative (two nulls). g/|b| within 2×: {}.\n\n",
        card.class_matches,
        card.class_informative,
        card.class_uninformative,
        match card.ratio_within_2 {
            Some(true) => "yes",
            Some(false) => "no",
            None => "undetermined",
        }
    );
    md += "## Plots (mean over seeds per arm)\n\n";
    let per: Vec<(String, &[(u64, Vec<Record>)])> = arms
        .iter()
        .zip(runs)
        .map(|(a, r)| (a.spec.name.clone(), r.as_slice()))
        .collect();
    let series: Vec<ArmSeries> = per
        .iter()
        .map(|(a, s)| ArmSeries {
            label: a.clone(),
            per_seed: s,
        })
        .collect();
    let plots: [Plot; 4] = [
        (
            "entropy",
            "validation entropy (entropy_exact)",
            "nats",
            |r| r.entropy_exact,
            true,
        ),
        ("alpha", "α", "α", |r| r.alpha, false),
        (
            "reward",
            "training reward",
            "mean reward",
            |r| r.reward_mean,
            false,
        ),
        (
            "val_pass",
            "validation pass@1",
            "pass@1",
            |r| r.val_pass_at_1,
            false,
        ),
    ];
    let stem = format!("llm-validation-{}", preset.name());
    for (name, title, y, field, hline) in plots {
        let file = format!("{stem}-{name}.svg");
        line_plot_svg(
            &dir.join(&file),
            title,
            y,
            &series,
            field,
            hline
                .then(|| cell.h0.map(|h| (0.5 * h, "half of H0")))
                .flatten(),
        )?;
        md += &format!("![{title}]({file})\n\n");
    }
    let path = dir.join("llm-validation.md");
    write_atomic(&path, md.as_bytes())?;
    let json = serde_json::json!({
        "preset": preset.name(),
        "prediction": p,
        "design": design,
        "measured": cell,
        "scorecard": card,
    });
    write_atomic(
        &dir.join("llm-validation.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    Ok(path)
}
