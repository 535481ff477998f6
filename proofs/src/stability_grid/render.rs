//! Render step of `linear-model`: the section's Markdown and the
//! stability-region figures.

use super::grid::GridResult;
use super::judge::{cause, drift_over_run, gain_change_to_boundary, Cause};
use super::model::{
    gain_for_radius, Form, Plant, SimOutcome, BAND, E0, ESCAPE, FORMS, TARGET_AGREEMENT, WINDOW,
};
use crate::error::ProofsError;
use crate::linear::spectral_radius;
use crate::verdict::{ClaimVerdict, Ctx};
use entropic_sim::plot::{Key, Scatter, BLUE, GREEN, GREY, RED};
use entropic_sim::report::fmt_sig;

/// The section's Markdown: plant, grid, the table of every point, the
/// clipped re-runs, the disagreements explained, the figures.
pub(super) fn markdown(
    plant: &Plant,
    grid: &[GridResult],
    verdicts: &[ClaimVerdict],
    disagreements: &[GridResult],
) -> String {
    let f = &plant.fit;
    let mut md = format!(
        "**Claim (docs/mathematics.md §6):** near the target, one controller step is \
         `e_{{t+1}} = e_t + b − g·α_{{t−d}}`, so the loop with P or PI control is stable \
         exactly when the spectral radius ρ of its characteristic polynomial is below 1.\n\n\
         **Plant.** Tabular bandit (32 prompts, 8 actions, logit scale 2), exact sampling, \
         sampled-logit rule with the correct action at the mode, SGD lr 0.1, `scope = all`, \
         plain `1 ± α` weights: every token is under the term and α has a definite sign of \
         effect (docs/mathematics.md §5), so the plant is smooth in α. Identified from a 200-step probe \
         (α steps ±0.25..±1, unclipped) and its plain twin (same seed, `method = none`; exact \
         sampling, so the twins are one run until α first moves) with the paired estimator of \
         docs/mathematics.md §9 (the twins' entropy difference on cumulative α: the drift cancels): \
         g = {} [{}, {}], b = {} [{}, {}] (from the plain twin), R² = {}, residual rms {} nats \
         (n = {}). Until 7996de4 the grid used OLS of the probe's ΔH on α alone: g = {} [{}, {}], \
         b = {}; its constant b cannot follow the drift, which changes along the run (see the windows).\n\n\
         **State dependence.** The paired gain in {WINDOW}-step windows along the probe \
         (docs/mathematics.md §8): {}. The gain took values over a range of ±{}% around its \
         centre along 200 steps; at d = 0 the grid's ρ from 0.8 to 1.2 spans g·Kp ± 10%, so \
         points near the boundary are within the gain's own variation. Beside each point the \
         table gives ρ at the smallest and largest windowed gain (*ρ over g range*) and the \
         state-dependent loop `e_{{t+1}} = e_t + b(H) − g(H)·α_{{t−d}}` (b, g interpolated in H \
         between the windows, held beyond them; unclipped) classified by the same rule.\n\n\
         **Grid.** Gains on rays `Ki = r·Kp` chosen so the predicted ρ is spread evenly over \
         0.8..1.2 on the rising branch; each run starts {E0} nats above the target \
         (H₀ = {}), delay as `lag = d` with `measure = rollout`, α unclipped. \
         *Simulated unstable*: non-finite, entropy within 0.01 of 0 or ln K, or \
         max |e| over the last quarter ≥ 2 × over the second quarter, or (ours) ≥ {ESCAPE} × the \
         larger of the initial error and P's predicted offset |b|/(g·Kp) (a bounded oscillation far \
         outside the linear range). Points with \
         |ρ − 1| < {BAND} are not counted. Verdict per controller: confirmed when ≥ {}% agree, \
         conditional when ≥ 50%, else refuted. *First-departure rule* (reported beside, not \
         the verdict's): a run counts as unstable as soon as its error leaves the linear range \
         (≥ {ESCAPE} × the error scale at any step), whatever it does afterwards — the linear \
         claim is about the neighbourhood of the equilibrium, and once the error and α are far \
         outside it (|α| in the hundreds against the probe's ±1) the run's later return to an \
         equilibrium is the nonlinear plant's doing, not the linear loop's.\n\n",
        fmt_sig(f.g, 3),
        fmt_sig(f.g_ci.0, 3),
        fmt_sig(f.g_ci.1, 3),
        fmt_sig(f.b, 3),
        fmt_sig(f.b_ci.0, 3),
        fmt_sig(f.b_ci.1, 3),
        fmt_sig(f.r2, 3),
        fmt_sig(f.residual_rms, 2),
        f.n,
        fmt_sig(plant.ols.g, 3),
        fmt_sig(plant.ols.g_ci.0, 3),
        fmt_sig(plant.ols.g_ci.1, 3),
        fmt_sig(plant.ols.b, 3),
        plant
            .windows
            .iter()
            .map(|w| format!(
                "steps {}–{} (mean H {}) g = {} [{}, {}], b = {}",
                w.start,
                w.end,
                fmt_sig(w.mean_entropy, 4),
                fmt_sig(w.estimate.g, 3),
                fmt_sig(w.estimate.g_ci.0, 3),
                fmt_sig(w.estimate.g_ci.1, 3),
                fmt_sig(w.estimate.b, 3)
            ))
            .collect::<Vec<_>>()
            .join("; "),
        fmt_sig(
            100.0 * (plant.g_range.1 - plant.g_range.0) / (plant.g_range.1 + plant.g_range.0),
            2
        ),
        fmt_sig(plant.h0, 3),
        (TARGET_AGREEMENT * 100.0) as u32,
    );
    let mut rows = Vec::new();
    for form in FORMS {
        let pts: Vec<&GridResult> = grid.iter().filter(|r| r.point.form == form).collect();
        for r in &pts {
            rows.push(vec![
                form.variant().to_string(),
                r.point.d.to_string(),
                fmt_sig(r.point.kp * f.g, 3),
                fmt_sig(r.point.ki * f.g, 3),
                format!("{:.3}", r.point.rho),
                if r.sim.unstable { "unstable" } else { "stable" }.into(),
                if r.in_band() {
                    "band"
                } else if r.agrees() {
                    "yes"
                } else {
                    "**no**"
                }
                .into(),
                fmt_sig(r.sim.growth, 2),
                fmt_sig(r.sim.last_max, 2),
                r.sim.first_escape.map_or(String::new(), |t| t.to_string()),
                format!("{:.3}–{:.3}", r.rho_range.0, r.rho_range.1),
                if r.state.unstable {
                    "unstable"
                } else {
                    "stable"
                }
                .into(),
                clipped_word(r.clipped.as_ref()).into(),
            ]);
        }
    }
    md.push_str(&entropic_sim::report::markdown_table(
        &[
            "controller",
            "d",
            "g·Kp",
            "g·Ki",
            "predicted ρ",
            "simulated",
            "agree",
            "growth",
            "last max |e|",
            "left linear range at",
            "ρ over g range",
            "state loop",
            "with clip |α| ≤ 1",
        ],
        &rows,
    ));
    md.push_str("\n*growth* = max |e| over the last quarter / over the second quarter. \
                 *With clip*: predicted-unstable points re-run with `alpha_max = 1`: \
                 `limit cycle` (bounded but large, α at both clips in the last quarter), `saturated` \
                 (bounded, α at one clip: the clip limits authority), `converged`, `diverged`.\n\n");
    let (mut lc, mut sat, mut conv, mut div) = (0, 0, 0, 0);
    for r in grid.iter().filter_map(|r| r.clipped.as_ref()) {
        match clipped_word(Some(r)) {
            "limit cycle" => lc += 1,
            "saturated" => sat += 1,
            "converged" => conv += 1,
            _ => div += 1,
        }
    }
    md.push_str(&format!(
        "With the clip, the {} predicted-unstable points gave {lc} limit cycles, {sat} saturated, \
         {conv} converged and {div} diverged/growing runs.\n\n",
        lc + sat + conv + div
    ));
    if disagreements.is_empty() {
        md.push_str("No counted point disagreed.\n\n");
    } else {
        md.push_str(&format!(
            "**Disagreements.** Where the loop held and then grew late, its entropy was held \
             near the target all along: the gain is a property of the policy, not of the \
             entropy alone, and it drifts while the controller holds H against the drift (g \
             rose along the probe as the policy sharpened); the state-dependent loop, whose \
             state is H, cannot see that drift. The failure where α > 0 early leaves no \
             authority later does not arise on this grid (every run starts {E0} nats from its \
             target); its toy instance is the test `windowed_gain_falls_on_a_toy_arm` in this \
             claim's tests, where the state-dependent loop does explain it.\n\n"
        ));
        for r in disagreements {
            md.push_str(&explain(r, plant));
            md.push(' ');
        }
        md.push_str("\n\n");
    }
    for v in verdicts {
        for fig in &v.figures {
            md.push_str(&format!("![]({fig})\n"));
        }
    }
    md
}

fn clipped_word(c: Option<&SimOutcome>) -> &'static str {
    match c {
        None => "",
        Some(c) if c.diverged || c.growth >= 2.0 => "diverged",
        Some(c) if c.escaped && !c.both_sides && c.saturated > 0.5 => "saturated",
        Some(c) if c.escaped && c.both_sides => "limit cycle",
        Some(c) if c.escaped => "oscillating",
        Some(c) if c.both_sides => "limit cycle",
        Some(c) if c.saturated > 0.5 => "saturated",
        Some(_) => "converged",
    }
}

/// One line per disagreement: what was predicted, what happened, and its
/// cause ([`cause`]) with the numbers behind it.
fn explain(r: &GridResult, plant: &Plant) -> String {
    let change = 100.0 * gain_change_to_boundary(r, plant.fit.g);
    let why = match cause(r, plant) {
        Cause::GainRange => format!(
            "ρ over the windowed gains is {:.3}–{:.3}, across 1: a gain change of {}% puts \
             this point on the boundary, inside the gain's own variation along the probe",
            r.rho_range.0,
            r.rho_range.1,
            fmt_sig(change, 2)
        ),
        Cause::Reset => format!(
            "the error grew as predicted and left the linear range at step {} (peak |α| {}, the \
             probe's ±1), then the nonlinear plant returned it to an equilibrium that it held to \
             the end: unstable by the first-departure rule, stable by today's last-quarter rule",
            r.sim.first_escape.unwrap_or(0),
            fmt_sig(r.sim.alpha_peak, 3)
        ),
        Cause::Drift => format!(
            "the loop held, then its error grew after the first quarter{}: a gain {}% above g \
             makes it unstable, and the windowed gain rose {}% along the 200-step probe ({}% \
             at that rate over this {}-step run) — the gain drifts with the policy while the \
             controller holds H",
            r.sim.first_escape.map_or(String::new(), |t| format!(
                " (out of the linear range at step {t})"
            )),
            fmt_sig(change, 2),
            fmt_sig(100.0 * (plant.g_range.1 - plant.g_range.0) / plant.fit.g, 2),
            fmt_sig(100.0 * drift_over_run(plant, r.point.steps), 2),
            r.point.steps
        ),
        Cause::Other => format!(
            "no cause found in the numbers (a gain change of {}% reaches the boundary)",
            fmt_sig(change, 2)
        ),
    };
    format!(
        "{} d={}, Kp={}, Ki={}: predicted ρ={:.3}, simulated {} (growth {}), state loop {} — {why}.",
        r.point.form.variant(),
        r.point.d,
        fmt_sig(r.point.kp, 3),
        fmt_sig(r.point.ki, 3),
        r.point.rho,
        if r.sim.unstable { "unstable" } else { "stable" },
        fmt_sig(r.sim.growth, 3),
        if r.state.unstable { "unstable" } else { "stable" },
    )
}

/// The predicted boundary (ρ = 1 in the (Kp, Ki) plane) over the simulated
/// points: green circles stable, red crosses unstable, grey in the band.
pub(super) fn figure(
    ctx: &Ctx,
    name: &str,
    form: Form,
    d: usize,
    g: f64,
    pts: &[&GridResult],
) -> Result<(), ProofsError> {
    let xmax = pts.iter().map(|r| r.point.kp).fold(0.0, f64::max).max(1e-9) * 1.15;
    let ymax = pts
        .iter()
        .map(|r| r.point.ki)
        .fold(0.0, f64::max)
        .max(xmax * 0.05)
        * 1.15;
    let mut plot = Scatter::new(
        &format!(
            "{} d={d}: predicted boundary ρ=1 and simulated runs",
            form.variant()
        ),
        "Kp",
        if form == Form::P { "Ki (P: 0)" } else { "Ki" },
        (0.0, xmax),
        (0.0, ymax),
    );
    if form == Form::P {
        // P: the boundary is one point on the Kp axis
        if let Some(s) = gain_for_radius(d, form, 0.0, 1.0) {
            plot.vline(s / g, BLUE);
        }
    } else {
        let mut line = Vec::new();
        for i in 1..=120 {
            let kp = xmax * i as f64 / 120.0;
            // smallest Ki on a fine scan where ρ ≥ 1 (starting inside the region)
            let mut prev_stable = false;
            for j in 1..=200 {
                let ki = ymax * j as f64 / 200.0;
                let st = spectral_radius(g, d, kp, ki, form.integral()) < 1.0;
                if prev_stable && !st {
                    line.push((kp, ki));
                    break;
                }
                prev_stable = st;
            }
        }
        plot.polyline(&line, BLUE);
    }
    for r in pts {
        let (x, y) = (r.point.kp, r.point.ki);
        if r.in_band() {
            plot.circle(x, y, GREY, true);
        } else if r.sim.unstable {
            plot.cross(x, y, RED);
        } else {
            plot.circle(x, y, GREEN, false);
        }
    }
    plot.legend(&[
        (Key::Line, BLUE, "predicted ρ = 1"),
        (Key::Ring, GREEN, "simulated stable"),
        (Key::Cross, RED, "simulated unstable"),
        (Key::Dot, GREY, "too close to call"),
    ]);
    Ok(plot.write(&ctx.out_dir.join(name))?)
}
