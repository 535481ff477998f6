//! Judge step of `linear-model`: per controller, the share of counted grid
//! points where prediction and simulation agree, the verdict and the
//! counterexample; each disagreement gets its cause ([`cause`]).

use super::grid::GridResult;
use super::model::{Form, Plant, AGREEMENT_AT_7996DE4, CLAIM, PROBE_STEPS, TARGET_AGREEMENT};
use crate::error::ProofsError;
use crate::linear::gain_margin;
use crate::verdict::{ClaimVerdict, Counterexample, Verdict};
use entropic_sim::report::fmt_sig;

/// Why a counted point disagrees, read off its numbers (the first that
/// applies, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Cause {
    /// The prediction flips within the gain's range along the probe
    /// ([`GridResult::flips_in_gain_range`]): the constant gain cannot call it.
    GainRange,
    /// Predicted unstable, simulated stable, but the error did grow out of
    /// the linear range first (as predicted) and the nonlinear plant
    /// brought it back to an equilibrium it then held: today's rule judges
    /// only the last quarter.
    Reset,
    /// Predicted stable, simulated unstable, the error growing only after
    /// the first quarter (late), and the gain rise that reaches ρ = 1 is
    /// within the drift of the windowed gain along the probe, extrapolated
    /// to the run's length ([`drift_over_run`]): the gain drifted with the
    /// policy while the entropy was held.
    Drift,
    /// None of the above.
    Other,
}

impl Cause {
    pub(super) fn word(self) -> &'static str {
        match self {
            Cause::GainRange => "ρ flips within the gain's range along the probe",
            Cause::Reset => {
                "grew out of the linear range as predicted, then held after a nonlinear reset"
            }
            Cause::Drift => "held, then grew late (gain drift with the policy)",
            Cause::Other => "unexplained",
        }
    }
}

/// Relative rise of the gain over a run of `steps` steps if it kept the
/// rate it had along the probe: `(g_max − g_min)/g` of the windows, per
/// [`PROBE_STEPS`], times `steps`.
pub(super) fn drift_over_run(plant: &Plant, steps: usize) -> f64 {
    let (lo, hi) = plant.g_range;
    (hi - lo) / plant.fit.g * steps as f64 / PROBE_STEPS as f64
}

/// The cause of a disagreement (see [`Cause`]).
pub(super) fn cause(r: &GridResult, plant: &Plant) -> Cause {
    let predicted_unstable = r.point.rho >= 1.0;
    let late = r.sim.first_escape.is_none_or(|t| t >= r.point.steps / 4);
    if r.flips_in_gain_range() {
        Cause::GainRange
    } else if predicted_unstable && r.sim.first_escape.is_some() {
        Cause::Reset
    } else if !predicted_unstable
        && late
        && gain_change_to_boundary(r, plant.fit.g) <= drift_over_run(plant, r.point.steps)
    {
        Cause::Drift
    } else {
        Cause::Other
    }
}

/// Gain change (relative) that puts the point on ρ = 1: `gain_margin − 1`
/// (the margin scales `Kp`, `Ki`, which for the loop is the same as
/// scaling `g`).
pub(super) fn gain_change_to_boundary(r: &GridResult, g: f64) -> f64 {
    let ki = if r.point.form == Form::P {
        0.0
    } else {
        r.point.ki
    };
    gain_margin(g, r.point.d, r.point.kp, ki, r.point.form.integral()) - 1.0
}

/// The verdict of controller `form` over its grid points `pts` (delays
/// `delays`): confirmed when at least [`TARGET_AGREEMENT`] of the counted
/// points (outside the band) agree, conditional from 50%, else refuted; the
/// counterexample is the first disagreeing point. The condition gives the
/// agreement at 7996de4 beside today's, the state-dependent loop's and the
/// first-departure rule's, and the disagreements by cause. Also returns the
/// disagreeing points. `full`: the full grid, the one 7996de4's figures
/// belong to (the quick grid prints no comparison).
pub(super) fn form(
    form: Form,
    pts: &[&GridResult],
    delays: &[usize],
    plant: &Plant,
    full: bool,
) -> Result<(ClaimVerdict, Vec<GridResult>), ProofsError> {
    let counted: Vec<&&GridResult> = pts.iter().filter(|r| !r.in_band()).collect();
    let k = counted.iter().filter(|r| r.agrees()).count();
    let n = counted.len();
    let rate = if n > 0 { k as f64 / n as f64 } else { f64::NAN };
    let verdict = if rate >= TARGET_AGREEMENT {
        Verdict::Confirmed
    } else if rate >= 0.5 {
        Verdict::Conditional
    } else {
        Verdict::Refuted
    };
    let was = AGREEMENT_AT_7996DE4
        .iter()
        .find(|w| w.0 == form)
        .filter(|_| full)
        .map_or(String::new(), |w| {
            format!(" (was {}/{} at 7996de4)", w.1, w.2)
        });
    let k_state = counted.iter().filter(|r| r.state_agrees()).count();
    let k_first = counted
        .iter()
        .filter(|r| r.agrees_first_departure())
        .count();
    let bad: Vec<&&&GridResult> = counted.iter().filter(|r| !r.agrees()).collect();
    let head = format!(
        "{k} of {n} points agree{was}; state-dependent loop {k_state}/{n}; \
         first-departure rule {k_first}/{n}"
    );
    let cond = if bad.is_empty() {
        format!(
            "{head}; predicted stability matched the simulation at every counted point (ρ 0.8–1.2, d ∈ {delays:?})"
        )
    } else {
        let mut by = std::collections::BTreeMap::<Cause, (usize, f64, f64, Vec<usize>)>::new();
        for r in &bad {
            let e = by
                .entry(cause(r, plant))
                .or_insert((0, f64::INFINITY, 0.0, Vec::new()));
            e.0 += 1;
            e.1 = e.1.min(r.point.rho);
            e.2 = e.2.max(r.point.rho);
            if !e.3.contains(&r.point.d) {
                e.3.push(r.point.d);
            }
        }
        format!(
            "{head}; disagreements: {}",
            by.iter()
                .map(|(c, (m, lo, hi, ds))| format!(
                    "{m} {} (ρ {lo:.2}–{hi:.2}, d ∈ {ds:?})",
                    c.word()
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    let mut v = ClaimVerdict::from_counts(CLAIM, form.variant(), verdict, cond, k, n);
    if let Some(b) = bad.first() {
        v.counterexample = Some(Counterexample {
            seed: 0,
            instance: serde_json::to_value(b.point)
                .map_err(|e| ProofsError::Other(e.to_string()))?,
            observed: format!(
                "predicted ρ = {:.3} ({}), simulated {} (growth {}, diverged {})",
                b.point.rho,
                if b.point.rho >= 1.0 {
                    "unstable"
                } else {
                    "stable"
                },
                if b.sim.unstable { "unstable" } else { "stable" },
                fmt_sig(b.sim.growth, 3),
                b.sim.diverged
            ),
        });
    }
    Ok((v, bad.iter().map(|r| ****r).collect()))
}
