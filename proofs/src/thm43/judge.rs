//! Judge step of `thm-4-3`: a run pair (same seed and configuration)
//! agrees with the claim when PI reaches the target and P does not; only
//! the configurations of one staleness model count. One verdict per
//! (measure mode, staleness model).

use super::compute::Config;
use super::model::{Staleness, CLAIM};
use crate::closedloop::{self as cl, FailsWhen};
use crate::verdict::{ClaimVerdict, Counterexample, Verdict};

/// The verdict of one measure mode and staleness model (variant
/// `<measure>/<model>`) over the configurations of that model (no
/// figures).
pub(super) fn verdict(measure: &str, model: Staleness, configs: &[Config]) -> ClaimVerdict {
    let (mut k, mut n) = (0, 0);
    let mut good = Vec::new();
    let mut cx: Option<Counterexample> = None;
    for c in configs.iter().filter(|c| c.stale.model() == model) {
        let mut all = true;
        for (po, io) in c.p.outcomes.iter().zip(&c.pi.outcomes) {
            let holds = io.reached && !po.reached;
            all &= holds;
            n += 1;
            k += holds as usize;
            if !holds && cx.is_none() {
                cx = Some(if !io.reached {
                    cl::counterexample(&c.pi, io, FailsWhen::NotReached)
                } else {
                    cl::counterexample(&c.p, po, FailsWhen::Reached)
                });
            }
        }
        if all {
            good.push(cl::label(&c.pi));
        }
    }
    let m = model.name();
    let (v, condition) = if n > 0 && k == n {
        (
            Verdict::Confirmed,
            format!("PI reaches the target and P does not on every {m} run"),
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
        (
            Verdict::Refuted,
            format!(
                "PI reaches and P does not on {k} of {n} {m} run pairs; no configuration on every seed"
            ),
        )
    };
    let variant = format!("{measure}/{m}");
    let mut cv = ClaimVerdict::from_counts(CLAIM, &variant, v, condition, k, n);
    cv.counterexample = if k < n { cx } else { None };
    cv
}
