//! `thm-4-3` (Theorem 4.3, Yang et al. 2025): off-policy, PI control
//! converges and P does not. Off-policy training is made by the two
//! staleness models of docs/mathematics.md §7 — asynchronous lag `d ∈ {0, 1, 2, 4, 8}`
//! and `ppo_epochs ∈ {1, 2, 4}` (one minibatch) — under both `measure`
//! modes; one verdict per measure mode. See `proofs/thm-4-3.md`.

use crate::closedloop::{self as cl, CellRun, Control, FailsWhen, Family, GrpoVary};
use crate::error::ProofsError;
use crate::verdict::{ClaimSection, ClaimVerdict, Counterexample, Ctx, Mode, Verdict};
use entropic_sim::control::Measure;
use entropic_sim::report::markdown_table;

/// Claim id.
pub const CLAIM: &str = "thm-4-3";

/// Target (nats): the middle target of `thm-4-2`, one that plain GRPO does
/// not stay at on either family, so reaching it is the controller's doing.
pub const TARGET: f64 = 0.2;

/// (families with their seeds, steps, lags, epochs) of one mode.
type Grid = (
    Vec<(Family, usize)>,
    usize,
    &'static [usize],
    &'static [usize],
);

/// The P (`ki = 0`) or PI arm with the controller measuring on `measure`
/// (`"current"` or `"rollout"`).
pub(crate) fn control(ki: f64, measure: &str) -> Control {
    let mut c = Control::entropic(TARGET, 1.0, ki);
    c.cfg.measure = match measure {
        "rollout" => Measure::Rollout,
        _ => Measure::Current,
    };
    c.shown = &["method", "target", "kp", "ki", "measure"];
    c
}

/// The grid of `mode`.
fn grid(mode: Mode) -> Grid {
    match mode {
        Mode::Quick => (vec![(Family::Tabular, 3)], 200, &[0, 4], &[1, 2]),
        Mode::Full => (
            vec![(Family::Tabular, 8), (Family::Sequence, 2)],
            250,
            &[0, 1, 2, 4, 8],
            &[1, 2, 4],
        ),
    }
}

/// Runs the check.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let (fams, steps, lags, epochs) = grid(ctx.mode);
    let mut verdicts = Vec::new();
    let mut md = format!(
        "Target {TARGET} nats, official law (τ 0.95, |α| ≤ 1, Kp 1; PI Ki 0.01, P Ki 0), first \
         learning rate of each family. A run pair (same seed and configuration) agrees with the \
         claim when PI reaches the target (thm-4-2's criterion) and P does not; only off-policy \
         configurations (lag > 0 or epochs > 1) count. Stability: max|e| over the last quarter / \
         max|e| over the second quarter (> 1: growing), and the share of sign changes of e over \
         the last half (oscillation).\n\n"
    );
    for measure in ["current", "rollout"] {
        let mut rows = Vec::new();
        let (mut k, mut n) = (0, 0);
        let mut good = Vec::new();
        let mut cx: Option<Counterexample> = None;
        let mut fig_cells: Vec<(String, CellRun)> = Vec::new();
        for &(fam, seeds) in &fams {
            for &d in lags {
                for &ep in epochs {
                    let grpo = GrpoVary {
                        lag: Some(d),
                        ppo_epochs: Some(ep),
                        ..GrpoVary::lr(fam.lrs()[0])
                    };
                    let labels = [
                        ("family", fam.name().to_string()),
                        ("measure", measure.to_string()),
                        ("lag", d.to_string()),
                        ("epochs", ep.to_string()),
                    ];
                    let p = cl::run_cell(
                        &cl::cell(fam, steps, grpo, &control(0.0, measure), &labels)?,
                        seeds,
                    )?;
                    let pi = cl::run_cell(
                        &cl::cell(fam, steps, grpo, &control(0.01, measure), &labels)?,
                        seeds,
                    )?;
                    let off = d > 0 || ep > 1;
                    let mut all = true;
                    for (po, io) in p.outcomes.iter().zip(&pi.outcomes) {
                        let holds = io.reached && !po.reached;
                        all &= holds;
                        if off {
                            n += 1;
                            k += holds as usize;
                            if !holds && cx.is_none() {
                                cx = Some(if !io.reached {
                                    cl::counterexample(&pi, io, FailsWhen::NotReached)
                                } else {
                                    cl::counterexample(&p, po, FailsWhen::Reached)
                                });
                            }
                        }
                    }
                    if off && all {
                        good.push(cl::label(&pi));
                    }
                    let st = |c: &CellRun, i: usize| {
                        cl::f3(cl::mean_of(c, |o| {
                            let s = cl::stability(o, TARGET);
                            if i == 0 {
                                s.0
                            } else {
                                s.1
                            }
                        }))
                    };
                    let reached = |c: &CellRun| c.outcomes.iter().filter(|o| o.reached).count();
                    let unstable =
                        |c: &CellRun| c.outcomes.iter().filter(|o| o.diverged.is_some()).count();
                    rows.push(vec![
                        fam.name().into(),
                        d.to_string(),
                        ep.to_string(),
                        cl::frac(reached(&p), seeds),
                        cl::frac(reached(&pi), seeds),
                        cl::f3(cl::mean_of(&p, |o| o.figs.final_abs_err)),
                        cl::f3(cl::mean_of(&pi, |o| o.figs.final_abs_err)),
                        format!("{} / {}", st(&p, 0), st(&p, 1)),
                        format!("{} / {}", st(&pi, 0), st(&pi, 1)),
                        format!("{}/{}", unstable(&p), unstable(&pi)),
                    ]);
                    if d == *lags.last().unwrap_or(&0) && ep == 1 && fig_cells.len() < 2 {
                        fig_cells.push((format!("P {} lag {d}", fam.name()), p));
                        fig_cells.push((format!("PI {} lag {d}", fam.name()), pi));
                    }
                }
            }
        }
        let (v, condition) = if n > 0 && k == n {
            (
                Verdict::Confirmed,
                "PI reaches the target and P does not on every off-policy run".to_string(),
            )
        } else if !good.is_empty() {
            (
                Verdict::Conditional,
                format!(
                    "PI reaches and P does not on every seed only for: {}",
                    good.join("; ")
                ),
            )
        } else {
            (Verdict::Refuted, format!("PI reaches and P does not on {k} of {n} off-policy run pairs; no configuration on every seed"))
        };
        let mut cv = ClaimVerdict::from_counts(CLAIM, measure, v, condition, k, n);
        cv.counterexample = if k < n { cx } else { None };
        let name = format!("thm43_{measure}.svg");
        let refs: Vec<(&str, &CellRun)> = fig_cells.iter().map(|(l, c)| (l.as_str(), c)).collect();
        if !refs.is_empty() {
            cv.figures.push(cl::plot_entropy(
                &ctx.out_dir,
                &name,
                &format!("thm-4-3 measure = {measure}"),
                &refs,
            )?);
        }
        md.push_str(&format!("### measure = {measure}\n\n"));
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
        md.push_str(&format!("\n\n![]({name})\n\n"));
        verdicts.push(cv);
    }
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "Theorem 4.3: off-policy, PI converges and P does not".into(),
        verdicts,
        markdown: md,
    })
}

/// Reruns a counterexample of this check; true when the failure recurs.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    cl::reproduce(cx)
}
