//! Judge step of `linear-model`: per controller, the share of counted grid
//! points where prediction and simulation agree, the verdict and the
//! counterexample.

use super::grid::GridResult;
use super::model::{Form, CLAIM, TARGET_AGREEMENT};
use crate::error::ProofsError;
use crate::verdict::{ClaimVerdict, Counterexample, Verdict};
use entropic_sim::report::fmt_sig;

/// The verdict of controller `form` over its grid points `pts` (delays
/// `delays`): confirmed when at least [`TARGET_AGREEMENT`] of the counted
/// points (outside the band) agree, conditional from 50%, else refuted; the
/// counterexample is the first disagreeing point. Also returns the
/// disagreeing points.
pub(super) fn form(
    form: Form,
    pts: &[&GridResult],
    delays: &[usize],
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
    let bad: Vec<&&&GridResult> = counted.iter().filter(|r| !r.agrees()).collect();
    let cond = if bad.is_empty() {
        format!("predicted stability matched the simulation at every counted point (ρ 0.8–1.2, d ∈ {delays:?})")
    } else {
        let mut by_d = std::collections::BTreeMap::<usize, (usize, f64, f64)>::new();
        for r in &bad {
            let e = by_d.entry(r.point.d).or_insert((0, f64::INFINITY, 0.0));
            e.0 += 1;
            e.1 = e.1.min(r.point.rho);
            e.2 = e.2.max(r.point.rho);
        }
        format!(
            "{k} of {n} points agree; disagreements: {}",
            by_d.iter()
                .map(|(d, (c, lo, hi))| format!("{c} at d={d} (ρ {lo:.2}–{hi:.2})"))
                .collect::<Vec<_>>()
                .join(", ")
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
