//! Judge step of `thm-4-3`: a run pair (same seed and configuration)
//! agrees with the claim when PI reaches the target and P does not; only
//! off-policy configurations count. One verdict per measure mode.

use super::compute::Config;
use super::model::CLAIM;
use crate::closedloop::{self as cl, FailsWhen};
use crate::verdict::{ClaimVerdict, Counterexample, Verdict};

/// The verdict of one measure mode over its configurations (no figures).
pub(super) fn verdict(measure: &str, configs: &[Config]) -> ClaimVerdict {
    let (mut k, mut n) = (0, 0);
    let mut good = Vec::new();
    let mut cx: Option<Counterexample> = None;
    for c in configs {
        let off = c.off_policy();
        let mut all = true;
        for (po, io) in c.p.outcomes.iter().zip(&c.pi.outcomes) {
            let holds = io.reached && !po.reached;
            all &= holds;
            if off {
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
        }
        if off && all {
            good.push(cl::label(&c.pi));
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
    cv
}
