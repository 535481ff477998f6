//! `llm-validation.md` and its SVGs: the per-arm figures of both sides
//! beside the settling their identified plants predict, the plants, and
//! plain statements of what is seen.

use super::arms::{arm_config, clip_of};
use super::model::Side;
use super::preset::{Preset, PresetFile, ValidateParams};
use super::scoring::{arm_delay, identify_side, predicted_settling, Plant, REL_BAND};
use anyhow::{Context, Result};
use entropic_sim::figures::{run_figures, settling_step_rel, RunFigures};
use entropic_sim::metrics::Record;
use entropic_sim::report::{fmt_sig, line_plot_svg, markdown_table, write_atomic, ArmSeries};
use std::path::{Path, PathBuf};

fn f(x: f64) -> String {
    if x.is_finite() {
        fmt_sig(x, 3)
    } else {
        "n/a".into()
    }
}

/// Per-arm figure rows of one side.
fn figure_rows(
    side_name: &str,
    side: &Side,
    pf: &PresetFile,
    plant: &Plant,
    v: &ValidateParams,
) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (arm, recs) in &side.arms {
        let fig = run_figures(recs, side.target, clip_of(pf, arm));
        let predicted = match arm.as_str() {
            "p-on" | "pi-on" | "p-off" | "pi-off" => {
                let (c, delay) = arm_config(&pf.grpo, v, arm, side.target)
                    .map(|c| (c.control.clone(), arm_delay(&c)))
                    .unwrap_or_default();
                let e0 = side.initial_entropy - side.target;
                predicted_settling(plant, &c, delay, e0, recs.len().max(1))
            }
            _ => ["—".into(), "—".into()],
        };
        let rel = settling_step_rel(recs, side.target, REL_BAND);
        rows.push(row(side_name, arm, &fig, predicted, rel));
    }
    rows
}

fn row(
    side: &str,
    arm: &str,
    fig: &RunFigures,
    predicted: [String; 2],
    rel: Option<usize>,
) -> Vec<String> {
    let [pred_design, pred_rel] = predicted;
    let range = match (fig.alpha_min, fig.alpha_max) {
        (Some(a), Some(b)) => format!("[{}, {}]", f(a), f(b)),
        _ => "—".into(),
    };
    vec![
        side.to_string(),
        arm.to_string(),
        f(fig.initial_entropy),
        f(fig.final_entropy),
        f(fig.final_abs_err),
        f(fig.final_rel_err),
        fig.settling_step.map_or("never".into(), |s| s.to_string()),
        pred_design,
        rel.map_or("never".into(), |s| s.to_string()),
        pred_rel,
        f(fig.overshoot),
        range,
        f(fig.alpha_saturated),
    ]
}

fn plant_cells(p: &Plant) -> (String, String) {
    match &p.fit {
        Ok(fit) => (
            format!("{} [{}, {}]", f(fit.b), f(fit.b_ci.0), f(fit.b_ci.1)),
            format!("{} [{}, {}]", f(fit.g), f(fit.g_ci.0), f(fit.g_ci.1)),
        ),
        Err(e) => (format!("not identified: {e}"), "—".into()),
    }
}

/// One arm's records as the plots' one "seed".
type Seeds = Vec<(u64, Vec<Record>)>;
/// (file suffix, title, y label, field, draw the target line).
type Plot = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Record) -> Option<f64>,
    bool,
);

/// Writes `llm-validation.md` and its SVGs into `dir`; returns the report path.
pub(super) fn write_report(
    dir: &Path,
    preset: Preset,
    pf: &PresetFile,
    llm: &Side,
    toy: &Side,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let v = &pf.validate;
    let per_seed: Vec<(String, Seeds)> = llm
        .arms
        .iter()
        .chain([&("probe".to_string(), llm.probe.clone())])
        .map(|(a, r)| (a.clone(), vec![(0u64, r.clone())]))
        .collect();
    let series: Vec<ArmSeries> = per_seed
        .iter()
        .map(|(a, s)| ArmSeries {
            label: a.clone(),
            per_seed: s,
        })
        .collect();
    let stem = format!("llm-validation-{}", preset.name());
    let plots: [Plot; 5] = [
        (
            "entropy",
            "token-mean entropy (controller's view)",
            "nats",
            |r| Some(r.entropy),
            true,
        ),
        ("alpha", "α", "α", |r| r.alpha, false),
        (
            "hp_frac",
            "high-probability token share",
            "|HP|/N",
            |r| r.hp_frac,
            false,
        ),
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
    let mut md = String::new();
    md.push_str(&format!(
        "# LLM validation (`entropic llm validate --preset {}`)\n\n",
        preset.name()
    ));
    md.push_str(&format!(
        "Target: {} × the base model's initial token-mean entropy (fraction fixed before any result). \
         LLM: H0 = {} nats → target {} nats. Toy (sequence-mode bandit of scenarios/onpolicy-pi.toml, \
         seed 0): H0 = {} → target {}. Controller settings on both sides: the preset's `[control]` \
         (kp {}, ki {}, τ {}, |α| ≤ {}, measure {:?}); P arms ki = 0; off-policy arms lag = {}. \
         LLM arms: {} steps of {} prompts × {}; toy arms: {} steps.\n\n",
        v.target_fraction,
        f(llm.initial_entropy),
        f(llm.target),
        f(toy.initial_entropy),
        f(toy.target),
        pf.grpo.control.kp,
        pf.grpo.control.ki,
        pf.grpo.control.tau,
        pf.grpo.control.alpha_max,
        pf.grpo.control.measure,
        v.off_lag,
        pf.grpo.grpo.steps,
        pf.grpo.grpo.batch_prompts,
        pf.grpo.grpo.group_size,
        v.toy_steps,
    ));
    let secs: f64 = llm
        .arms
        .iter()
        .map(|(_, r)| r)
        .chain([&llm.probe])
        .flat_map(|r| r.iter().filter_map(|x| x.seconds))
        .sum();
    md.push_str(&format!(
        "LLM training time, all arms and the probe: {:.1} minutes (sum of the per-step `seconds` of \
         the records, validation passes included, checkpoint writes not).\n\n",
        secs / 60.0
    ));
    md.push_str("## Plots (LLM, one line per arm)\n\n");
    for (name, title, y, field, hline) in plots {
        let file = format!("{stem}-{name}.svg");
        line_plot_svg(
            &dir.join(&file),
            title,
            y,
            &series,
            field,
            hline.then_some((llm.target, "target")),
        )?;
        md.push_str(&format!("![{title}]({file})\n\n"));
    }
    let lp = identify_side(&llm.probe);
    let tp = identify_side(&toy.probe);
    md.push_str("## Figures per arm, toy vs LLM\n\n");
    md.push_str(
        "docs/design.md §8 figures on `entropy`; plain GRPO's are relative to the controlled arms' target. \
         `predicted settling` is the settling step of the linear loop with the plant identified \
         from that side's probe (delay 0 on-policy and whenever `measure = current`; `off_lag` \
         off-policy with `measure = rollout`, docs/mathematics.md §7) and the arm's gains, \
         over the arm's horizon. `settling ±10%` and `predicted ±10%` are the same with the band \
         |e| ≤ 0.1·H_tar and no 0.05-nat floor: docs/design.md §8's floor is wider than the tiny LLM's whole \
         entropy, so its `settling_step` is 0 for every LLM arm, plain GRPO included.\n\n",
    );
    let mut rows = figure_rows("toy", toy, pf, &tp, v);
    rows.extend(figure_rows("LLM", llm, pf, &lp, v));
    md.push_str(&markdown_table(
        &[
            "side",
            "arm",
            "H initial",
            "H final",
            "final_abs_err",
            "final_rel_err",
            "settling_step",
            "predicted settling",
            "settling ±10%",
            "predicted ±10%",
            "overshoot",
            "α range",
            "α saturated",
        ],
        &rows,
    ));
    md.push_str("\n## Plant identified from each side's probe\n\n");
    md.push_str(&format!(
        "Fit of ΔH_t = b − g·α_t (`entropic_proofs::ident::identify`, d = 0, 95% intervals). \
         Probe schedules: LLM {:?}, toy {:?} (`[steps, α]`, α unclipped).\n\n",
        v.probe, v.toy_probe
    ));
    let (lb, lg) = plant_cells(&lp);
    let (tb, tg) = plant_cells(&tp);
    md.push_str(&markdown_table(
        &["side", "drift b", "gain g"],
        &[vec!["toy".into(), tb, tg], vec!["LLM".into(), lb, lg]],
    ));
    md.push_str("\n## What is seen\n\n");
    for (name, side, plant) in [("LLM", llm, &lp), ("toy", toy, &tp)] {
        md.push_str(&observations(name, side, pf, plant));
    }
    let path = dir.join("llm-validation.md");
    write_atomic(&path, md.as_bytes())?;
    Ok(path)
}

/// Plain statements of the two questions of the issue, computed.
fn observations(name: &str, side: &Side, pf: &PresetFile, plant: &Plant) -> String {
    let get = |a: &str| side.arms.iter().find(|(n, _)| n == a).map(|(_, r)| r);
    let mut s = String::new();
    if let Some(r) = get("grpo") {
        let fig = run_figures(r, side.target, f64::INFINITY);
        let crossed = r.iter().any(|x| x.entropy < side.target);
        let below = (side.target - fig.final_entropy) / side.target;
        s.push_str(&format!(
            "- {name}: plain GRPO's entropy {} the target ({}); its last-quarter mean is {} nats, {}% {} the target, so it {} end ≥ 30% below it.\n",
            if crossed { "crosses" } else { "does not cross" },
            f(side.target),
            f(fig.final_entropy),
            f(below.abs() * 100.0),
            if below >= 0.0 { "below" } else { "above" },
            if below >= 0.3 { "does" } else { "does not" },
        ));
    }
    if let Some(r) = get("pi-on") {
        let fig = run_figures(r, side.target, pf.grpo.control.alpha_max);
        s.push_str(&format!(
            "- {name}: PI on-policy final_rel_err = {} ({} the 0.10 bar); settling step {} (docs/design.md §8's band), {} (±10% band); α saturated {} of steps.\n",
            f(fig.final_rel_err),
            if fig.final_rel_err <= 0.10 { "meets" } else { "misses" },
            fig.settling_step.map_or("never".into(), |x| x.to_string()),
            settling_step_rel(r, side.target, REL_BAND).map_or("never".into(), |x| x.to_string()),
            f(fig.alpha_saturated),
        ));
    }
    let (lo, hi) = side
        .probe
        .iter()
        .filter_map(|r| r.alpha)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), a| {
            (l.min(a), h.max(a))
        });
    match &plant.fit {
        Ok(fit) if fit.g_ci.0 > 0.0 => s.push_str(&format!(
            "- {name}: the probe identifies a gain g = {} [{}, {}] > 0: α in [{}, {}] moves entropy as the controller assumes; holding the target needs α* = b/g = {}.\n",
            f(fit.g), f(fit.g_ci.0), f(fit.g_ci.1), f(lo), f(hi), f(fit.b / fit.g)
        )),
        Ok(fit) => s.push_str(&format!(
            "- {name}: the probe's gain g = {} has a 95% interval [{}, {}] that includes 0: with α stepped through [{}, {}] (unclipped) the EntroPIC term has no measurable authority over entropy here, so no gains can be tuned from this probe.\n",
            f(fit.g), f(fit.g_ci.0), f(fit.g_ci.1), f(lo), f(hi)
        )),
        Err(e) => s.push_str(&format!("- {name}: the probe identifies no plant: {e}.\n")),
    }
    s
}
