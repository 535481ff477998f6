//! Run figures (docs/design.md §8, "Figures of a run"): how close a run came to its
//! entropy target, when it settled, how far it overshot, how often α sat at
//! its clip, and the same aggregated over seeds with 95% intervals.
//!
//! The definitions are the same on toy and LLM runs and are computed on
//! `entropy`, the value the controller saw; [`run_figures_on`] computes them
//! on `entropy_exact` instead.
//!
//! Choices where docs/design.md is silent (each repeated on the item it concerns):
//! - The series is the slice's records sorted by `step` (stable), so records
//!   written out of order give the same figures.
//! - The target of a step is that record's `target` when present and finite,
//!   else the `target` argument. An uncontrolled arm (plain GRPO) carries no
//!   target: the caller passes the target of the scenario's controlled arms,
//!   and that arm's figures are then *relative to that reference target*.
//! - "Last quarter of steps" is the last `ceil(n / 4)` steps (at least one).
//! - A non-finite entropy (a diverged run) is kept: it makes the last-quarter
//!   means non-finite and counts as outside the settling band. Aggregates
//!   skip non-finite values (their `n` then shows how many seeds counted).
use crate::metrics::Record;
use crate::stats::{mean_ci_bounded, wilson, Estimate};
use serde::{Deserialize, Serialize};

/// Confidence level of every interval in an [`Aggregate`].
pub const LEVEL: f64 = 0.95;

/// Settling band half-width floor in nats (docs/design.md §8: max(0.05 nats, 0.1·H_tar)).
pub const SETTLE_ABS: f64 = 0.05;
/// Settling band as a fraction of the target (docs/design.md §8).
pub const SETTLE_REL: f64 = 0.1;

/// Relative slack when testing |α| against its clip, so a value clamped to
/// the clip and then round-tripped through JSON still counts as saturated.
const CLIP_SLACK: f64 = 1e-9;

/// Which entropy series the figures are computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// `entropy`: what the controller saw (docs/design.md's default).
    Entropy,
    /// `entropy_exact`: exact (bandit) or fresh-sample estimate (LLM);
    /// records without it are skipped.
    EntropyExact,
}

impl Field {
    /// The value of this field in `r`, if present.
    pub fn get(self, r: &Record) -> Option<f64> {
        match self {
            Field::Entropy => Some(r.entropy),
            Field::EntropyExact => r.entropy_exact,
        }
    }
}

/// Deserialises an `f64` that serde_json wrote as `null` (it writes NaN and
/// infinities as `null`) back to NaN, so figures of a diverged or empty run
/// round-trip through `summary.json`.
use crate::stats::f64_or_nan;

/// Figures of one seed of one arm (docs/design.md §8 definitions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    /// Mean |H − H_tar| over the last quarter of steps (nats).
    #[serde(deserialize_with = "f64_or_nan")]
    pub final_abs_err: f64,
    /// `final_abs_err` divided by the mean target over the same steps.
    #[serde(deserialize_with = "f64_or_nan")]
    pub final_rel_err: f64,
    /// First step from which |e| ≤ max(0.05, 0.1·H_tar) holds to the end;
    /// `None` if the last step is outside the band (never settled).
    pub settling_step: Option<usize>,
    /// Largest excursion past the target after the first crossing, as a
    /// fraction of the initial |e|; 0 if the error never changes sign.
    /// NaN when it crosses but the initial error is 0 or not finite.
    #[serde(deserialize_with = "f64_or_nan")]
    pub overshoot: f64,
    /// Share of steps (among those recording α) with |α| at its clip; 0
    /// when the clip is infinite or no step records α.
    pub alpha_saturated: f64,
    /// Mean `pass_rate` over the last quarter of steps, if any records it.
    pub final_pass_rate: Option<f64>,
    /// Smallest α recorded, if any.
    pub alpha_min: Option<f64>,
    /// Largest α recorded, if any.
    pub alpha_max: Option<f64>,
    /// Mean entropy over the last quarter of steps (nats). Chosen over the
    /// last step alone because it is less noisy and matches `final_abs_err`.
    #[serde(deserialize_with = "f64_or_nan")]
    pub final_entropy: f64,
    /// Entropy at the first step (nats).
    #[serde(deserialize_with = "f64_or_nan")]
    pub initial_entropy: f64,
}

/// Run figures on `entropy` (the controller's view); see [`run_figures_on`].
pub fn run_figures(records: &[Record], target: f64, alpha_clip: f64) -> RunFigures {
    run_figures_on(records, target, alpha_clip, Field::Entropy)
}

/// Run figures of one seed on `field` (docs/design.md §8, "Figures of a run").
///
/// `target` is used for steps whose record carries no finite `target`; for
/// an uncontrolled arm pass the controlled arms' target, and read its
/// figures as relative to that reference. `alpha_clip` is the clip of |α|
/// (`f64::INFINITY` when unclipped). Records lacking `field` are skipped;
/// with no steps left every figure is NaN/`None` (`alpha_saturated` 0).
pub fn run_figures_on(
    records: &[Record],
    target: f64,
    alpha_clip: f64,
    field: Field,
) -> RunFigures {
    let mut recs: Vec<&Record> = records.iter().filter(|r| field.get(r).is_some()).collect();
    recs.sort_by_key(|r| r.step);
    // (step, H, H_tar) per step.
    let pts: Vec<(usize, f64, f64)> = recs
        .iter()
        .map(|r| {
            let tar = r.target.filter(|t| t.is_finite()).unwrap_or(target);
            (r.step, field.get(r).unwrap_or(f64::NAN), tar)
        })
        .collect();
    let n = pts.len();
    let (alpha_saturated, alpha_min, alpha_max) = alpha_figures(records, alpha_clip);
    if n == 0 {
        return RunFigures {
            final_abs_err: f64::NAN,
            final_rel_err: f64::NAN,
            settling_step: None,
            overshoot: f64::NAN,
            alpha_saturated,
            final_pass_rate: None,
            alpha_min,
            alpha_max,
            final_entropy: f64::NAN,
            initial_entropy: f64::NAN,
        };
    }
    let tail_start = crate::stats::last_quarter_start(n);
    let tail = &pts[tail_start..];
    let q = tail.len() as f64;
    let final_abs_err = tail.iter().map(|&(_, h, t)| (h - t).abs()).sum::<f64>() / q;
    let tail_target = tail.iter().map(|&(_, _, t)| t).sum::<f64>() / q;
    let final_entropy = tail.iter().map(|&(_, h, _)| h).sum::<f64>() / q;
    let pass: Vec<f64> = recs[tail_start..]
        .iter()
        .filter_map(|r| r.pass_rate)
        .collect();
    let final_pass_rate = (!pass.is_empty()).then(|| pass.iter().sum::<f64>() / pass.len() as f64);

    RunFigures {
        final_abs_err,
        final_rel_err: final_abs_err / tail_target,
        settling_step: settling_step(&pts),
        overshoot: overshoot(&pts),
        alpha_saturated,
        final_pass_rate,
        alpha_min,
        alpha_max,
        final_entropy,
        initial_entropy: pts[0].1,
    }
}

/// Settling step on `entropy` with a band relative to the target alone,
/// |e| ≤ `rel`·H_tar (no 0.05-nat floor): for runs whose whole entropy is
/// near or below docs/design.md §8's floor (a small LLM's token-mean entropy),
/// where `settling_step` is 0 for every run. `target` as in [`run_figures`].
pub fn settling_step_rel(records: &[Record], target: f64, rel: f64) -> Option<usize> {
    let mut recs: Vec<&Record> = records.iter().collect();
    recs.sort_by_key(|r| r.step);
    let pts: Vec<(usize, f64, f64)> = recs
        .iter()
        .map(|r| {
            let tar = r.target.filter(|t| t.is_finite()).unwrap_or(target);
            (r.step, r.entropy, tar)
        })
        .collect();
    settling_step_tol(&pts, |t| rel * t)
}

/// Settling step of `(step, H, H_tar)` points: the step just after the last
/// one outside the band |e| ≤ max(SETTLE_ABS, SETTLE_REL·H_tar); a
/// non-finite error counts as outside.
fn settling_step(pts: &[(usize, f64, f64)]) -> Option<usize> {
    settling_step_tol(pts, |t| SETTLE_ABS.max(SETTLE_REL * t))
}

fn settling_step_tol(pts: &[(usize, f64, f64)], tol: impl Fn(f64) -> f64) -> Option<usize> {
    let outside = |&(_, h, t): &(usize, f64, f64)| {
        let e = (h - t).abs();
        e.is_nan() || e > tol(t)
    };
    match pts.iter().rposition(outside) {
        None => pts.first().map(|p| p.0),
        Some(i) => pts.get(i + 1).map(|p| p.0),
    }
}

/// Overshoot of `(step, H, H_tar)` points: with s the sign of the first
/// non-zero error, the first crossing is the first step with s·e < 0; the
/// overshoot is max(−s·e) from there on, divided by |e| at the first step.
fn overshoot(pts: &[(usize, f64, f64)]) -> f64 {
    let errs: Vec<f64> = pts.iter().map(|&(_, h, t)| h - t).collect();
    let Some(s) = errs
        .iter()
        .find(|e| **e != 0.0 && e.is_finite())
        .map(|e| e.signum())
    else {
        return 0.0;
    };
    let Some(cross) = errs.iter().position(|e| s * e < 0.0) else {
        return 0.0;
    };
    let peak = errs[cross..].iter().map(|e| -s * e).fold(0.0_f64, f64::max);
    let e0 = errs[0].abs();
    if e0 > 0.0 && e0.is_finite() {
        peak / e0
    } else {
        f64::NAN
    }
}

/// (share of α-recording steps with |α| at the clip, min α, max α).
fn alpha_figures(records: &[Record], alpha_clip: f64) -> (f64, Option<f64>, Option<f64>) {
    let alphas: Vec<f64> = records
        .iter()
        .filter_map(|r| r.alpha)
        .filter(|a| a.is_finite())
        .collect();
    let min = alphas.iter().copied().reduce(f64::min);
    let max = alphas.iter().copied().reduce(f64::max);
    if alphas.is_empty() || !alpha_clip.is_finite() {
        return (0.0, min, max);
    }
    let at_clip = alphas
        .iter()
        .filter(|a| a.abs() >= alpha_clip.abs() * (1.0 - CLIP_SLACK))
        .count();
    (at_clip as f64 / alphas.len() as f64, min, max)
}

/// Figures of one arm over seeds: per-seed figures (seed order kept) and
/// their means with 95% Student-t intervals (Wilson for the settled share).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Which series the figures were computed on.
    pub field: Field,
    /// (seed, figures) in the order the seeds were given.
    pub per_seed: Vec<(u64, RunFigures)>,
    pub final_abs_err: Estimate,
    pub final_rel_err: Estimate,
    /// Mean settling step over the seeds that settled (`n` = how many did).
    pub settling_step: Estimate,
    /// Share of seeds that settled, with a Wilson interval.
    pub settled: Estimate,
    /// Mean overshoot over seeds with a defined overshoot.
    pub overshoot: Estimate,
    pub alpha_saturated: Estimate,
    /// Mean final pass rate over seeds that record one; `None` if none does.
    pub final_pass_rate: Option<Estimate>,
    pub final_entropy: Estimate,
    /// (smallest, largest) α over all seeds, if any seed records α.
    pub alpha_range: Option<(f64, f64)>,
}

/// [`aggregate_on`] on `entropy`.
pub fn aggregate(per_seed: &[(u64, Vec<Record>)], target: f64, alpha_clip: f64) -> Aggregate {
    aggregate_on(per_seed, target, alpha_clip, Field::Entropy)
}

/// Figures of every seed on `field` and their aggregate at [`LEVEL`].
/// Non-finite per-seed figures are left out of the means (see `n`).
pub fn aggregate_on(
    per_seed: &[(u64, Vec<Record>)],
    target: f64,
    alpha_clip: f64,
    field: Field,
) -> Aggregate {
    let figs: Vec<(u64, RunFigures)> = per_seed
        .iter()
        .map(|(seed, recs)| (*seed, run_figures_on(recs, target, alpha_clip, field)))
        .collect();
    // every figure is bounded below by 0; shares also above by 1
    let inf = f64::INFINITY;
    let col = |f: fn(&RunFigures) -> f64, hi: f64| {
        let xs: Vec<f64> = figs.iter().map(|(_, r)| f(r)).collect();
        mean_ci_bounded(&xs, LEVEL, 0.0, hi)
    };
    let settle: Vec<f64> = figs
        .iter()
        .filter_map(|(_, r)| r.settling_step.map(|s| s as f64))
        .collect();
    let pass: Vec<f64> = figs.iter().filter_map(|(_, r)| r.final_pass_rate).collect();
    let amin = figs
        .iter()
        .filter_map(|(_, r)| r.alpha_min)
        .reduce(f64::min);
    let amax = figs
        .iter()
        .filter_map(|(_, r)| r.alpha_max)
        .reduce(f64::max);
    Aggregate {
        field,
        final_abs_err: col(|r| r.final_abs_err, inf),
        final_rel_err: col(|r| r.final_rel_err, inf),
        settling_step: mean_ci_bounded(&settle, LEVEL, 0.0, inf),
        settled: wilson(settle.len(), figs.len(), LEVEL),
        overshoot: col(|r| r.overshoot, inf),
        alpha_saturated: col(|r| r.alpha_saturated, 1.0),
        final_pass_rate: (!pass.is_empty()).then(|| mean_ci_bounded(&pass, LEVEL, 0.0, 1.0)),
        final_entropy: col(|r| r.final_entropy, inf),
        alpha_range: amin.zip(amax),
        per_seed: figs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of one seed with `entropy[i]` at step i, and optional α and
    /// pass rates per step.
    fn series(entropy: &[f64], alpha: &[f64], pass: &[f64]) -> Vec<Record> {
        entropy
            .iter()
            .enumerate()
            .map(|(i, &h)| Record {
                arm: "a".into(),
                step: i,
                entropy: h,
                alpha: alpha.get(i).copied(),
                pass_rate: pass.get(i).copied(),
                ..Record::default()
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn settling_overshoot_saturation_and_last_quarter() {
        let h = [2.0, 1.5, 0.8, 1.15, 1.05, 0.95, 1.02, 0.98];
        let alpha = [1.0, 1.0, -1.0, 0.5, 0.2, 0.1, 0.0, 0.0];
        let pass = [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.6, 0.8];
        let f = run_figures(&series(&h, &alpha, &pass), 1.0, 1.0);
        // Target 1: e = [1, .5, -.2, .15, .05, -.05, .02, -.02]; band
        // max(0.05, 0.1·1) = 0.1. n = 8 → last quarter = steps 6, 7:
        // final |e| = (0.02 + 0.02)/2 = 0.02, rel = 0.02/1.
        assert!(close(f.final_abs_err, 0.02), "{f:?}");
        assert!(close(f.final_rel_err, 0.02), "{f:?}");
        // Last step outside the band is step 3 (|0.15| > 0.1) → settles at 4.
        assert_eq!(f.settling_step, Some(4));
        // Starts above (s = +1); first crossing at step 2 (e = -0.2); largest
        // −e from there is 0.2; initial |e| = 1 → overshoot 0.2.
        assert!(close(f.overshoot, 0.2), "{f:?}");
        // |α| ≥ 1 at steps 0, 1, 2 → 3/8.
        assert!(close(f.alpha_saturated, 0.375), "{f:?}");
        assert_eq!((f.alpha_min, f.alpha_max), (Some(-1.0), Some(1.0)));
        // Pass rate over steps 6, 7: (0.6 + 0.8)/2 = 0.7.
        assert!(close(f.final_pass_rate.unwrap_or(f64::NAN), 0.7), "{f:?}");
        // Final entropy (1.02 + 0.98)/2 = 1; initial 2.
        assert!(
            close(f.final_entropy, 1.0) && f.initial_entropy == 2.0,
            "{f:?}"
        );
        // Unclipped α never saturates.
        assert_eq!(
            run_figures(&series(&h, &alpha, &pass), 1.0, f64::INFINITY).alpha_saturated,
            0.0
        );
    }

    #[test]
    fn relative_band_has_no_floor() {
        // Target 0.03 (a small LLM's scale): e = [.03, -.02, .004, -.002].
        // docs/design.md §8's band max(0.05, 0.003) = 0.05 holds from step 0; the
        // relative band 0.1·0.03 = 0.003 is left last at step 2 (|.004|) →
        // settles at 3.
        let r = series(&[0.06, 0.01, 0.034, 0.028], &[], &[]);
        assert_eq!(run_figures(&r, 0.03, 1.0).settling_step, Some(0));
        assert_eq!(settling_step_rel(&r, 0.03, 0.1), Some(3));
        // Outside at the last step → never.
        let r = series(&[0.06, 0.01, 0.02], &[], &[]);
        assert_eq!(settling_step_rel(&r, 0.03, 0.1), None);
    }

    #[test]
    fn never_settles_when_last_step_is_outside() {
        // e = [1, -.5, .5, -.5] (target 1, band 0.1): the last step is
        // outside → None. Crossing at step 1, largest −e = 0.5 → 0.5/1.
        // n = 4 → last quarter = step 3 alone: final |e| = 0.5.
        let f = run_figures(&series(&[2.0, 0.5, 1.5, 0.5], &[], &[]), 1.0, 1.0);
        assert_eq!(f.settling_step, None);
        assert!(
            close(f.overshoot, 0.5) && close(f.final_abs_err, 0.5),
            "{f:?}"
        );
        // No α, no pass rate recorded.
        assert_eq!(
            (f.alpha_saturated, f.alpha_min, f.final_pass_rate),
            (0.0, None, None)
        );
    }

    #[test]
    fn no_crossing_means_zero_overshoot_and_inside_from_start_settles_at_first_step() {
        // e = [1, .5, .2, .05]: never crosses → 0; last outside is step 2 → 3.
        let f = run_figures(&series(&[2.0, 1.5, 1.2, 1.05], &[], &[]), 1.0, 1.0);
        assert_eq!((f.overshoot, f.settling_step), (0.0, Some(3)));
        // e = [0, .04] with band 0.05 → inside from step 0.
        let g = run_figures(&series(&[0.3, 0.34], &[], &[]), 0.3, 1.0);
        assert_eq!(g.settling_step, Some(0));
        // |e| exactly on the band edge is inside (≤): target 0 → band 0.05,
        // e = [1, 0.05, 0.05] → settles at step 1.
        let edge = run_figures(&series(&[1.0, 0.05, 0.05], &[], &[]), 0.0, 1.0);
        assert_eq!(edge.settling_step, Some(1));
        // Starts on the target then crosses: the fraction is undefined.
        let h = run_figures(&series(&[1.0, 1.5, 0.5], &[], &[]), 1.0, 1.0);
        assert!(h.overshoot.is_nan(), "{h:?}");
    }

    #[test]
    fn last_quarter_rounds_up_and_order_and_record_targets_are_respected() {
        // n = 10 → ceil(10/4) = 3 steps (7, 8, 9); entropy = step, target 100:
        // final |e| = (93 + 92 + 91)/3 = 92, final H = 8.
        let h: Vec<f64> = (0..10).map(f64::from).collect();
        let mut recs = series(&h, &[], &[]);
        let f = run_figures(&recs, 100.0, 1.0);
        assert!(
            close(f.final_abs_err, 92.0) && close(f.final_entropy, 8.0),
            "{f:?}"
        );
        // Shuffled records give the same figures (sorted by step).
        recs.reverse();
        assert_eq!(run_figures(&recs, 100.0, 1.0), f);
        // A record's own target wins over the argument: target 9 on every
        // record → errors (2, 1, 0) → 1.
        for r in &mut recs {
            r.target = Some(9.0);
        }
        assert!(close(run_figures(&recs, 100.0, 1.0).final_abs_err, 1.0));
    }

    #[test]
    fn figures_on_entropy_exact_skip_records_without_it() {
        // entropy_exact = 3 on steps 0..2, absent on step 3 (entropy 0):
        // on the exact field n = 3, last quarter = step 2: |3 − 1| = 2.
        let mut recs = series(&[5.0, 5.0, 5.0, 0.0], &[], &[]);
        for r in recs.iter_mut().take(3) {
            r.entropy_exact = Some(3.0);
        }
        let f = run_figures_on(&recs, 1.0, 1.0, Field::EntropyExact);
        assert!(
            close(f.final_abs_err, 2.0) && f.initial_entropy == 3.0,
            "{f:?}"
        );
        // On `entropy` the last step counts: |0 − 1| = 1.
        assert!(close(run_figures(&recs, 1.0, 1.0).final_abs_err, 1.0));
        // No records → NaN figures, not a panic.
        assert!(run_figures(&[], 1.0, 1.0).final_abs_err.is_nan());
    }

    #[test]
    fn aggregate_of_three_seeds_keeps_order_and_counts_settled_seeds() {
        // Target 2, band max(0.05, 0.2) = 0.2; last quarter = last step.
        // seed 7: e = 0.1 throughout → |e| 0.1, settles at 0.
        // seed 3: e = [1, .5, .15, -.2] → |e| 0.2, last outside step 1 → 2.
        // seed 5: e = [0, 0, 0, .3] → |e| 0.3, never settles.
        let per_seed = vec![
            (7, series(&[2.1; 4], &[0.5], &[])),
            (3, series(&[3.0, 2.5, 2.15, 1.8], &[-0.25], &[])),
            (5, series(&[2.0, 2.0, 2.0, 2.3], &[], &[])),
        ];
        let a = aggregate(&per_seed, 2.0, 1.0);
        assert_eq!(
            a.per_seed.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec![7, 3, 5]
        );
        // Mean |e| = 0.2, sd 0.1, se 0.1/√3 = 0.0577350, t(0.975, 2) = 4.302653
        // → half-width 0.248414.
        assert!((a.final_abs_err.mean - 0.2).abs() < 1e-12, "{a:?}");
        assert!((a.final_abs_err.hi - 0.448414).abs() < 1e-5, "{a:?}");
        assert_eq!(a.final_abs_err.n, 3);
        // Two of three settled, at steps 0 and 2 → mean 1 over n = 2.
        assert_eq!((a.settled.n, a.settled.mean), (3, 2.0 / 3.0));
        assert_eq!((a.settling_step.n, a.settling_step.mean), (2, 1.0));
        // α range over seeds: [-0.25, 0.5]; no pass rate anywhere.
        assert_eq!(a.alpha_range, Some((-0.25, 0.5)));
        assert_eq!(a.final_pass_rate, None);
    }

    #[test]
    fn run_figures_round_trip_json_even_when_nan() {
        let f = run_figures(&[], 1.0, 1.0);
        let back: RunFigures = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert!(back.final_abs_err.is_nan() && back.overshoot.is_nan());
        let g = run_figures(&series(&[2.0, 1.0], &[], &[]), 1.0, 1.0);
        let back: RunFigures = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(back, g);
    }
}
