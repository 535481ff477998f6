//! Judge step of `thm-4-3`: a run pair (same seed and configuration)
//! agrees with the claim when PI reaches the target and P does not; only
//! the configurations of one staleness model count. One verdict per
//! (measure mode, staleness model).

use super::compute::Config;
use super::model::{Staleness, CLAIM};
use crate::closedloop::{self as cl, FailsWhen, Family};
use crate::verdict::{ClaimVerdict, Counterexample, Verdict};

/// The verdict of one measure mode and staleness model (variant
/// `<measure>/<model>`, or `<measure>/<model>/paper-like` when the
/// configurations are the paper-like family's) over the configurations of
/// that model (no figures).
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
    let paper = !configs.is_empty() && configs.iter().all(|c| c.fam == Family::PaperLike);
    let variant = if paper {
        format!("{measure}/{m}/{}", Family::PaperLike.name())
    } else {
        format!("{measure}/{m}")
    };
    let mut cv = ClaimVerdict::from_counts(CLAIM, &variant, v, condition, k, n);
    cv.counterexample = if k < n { cx } else { None };
    cv
}

#[cfg(test)]
mod tests {
    use super::super::compute::compute;
    use super::super::model::{paper_grid, Grid, Staleness};
    use super::*;
    use crate::verdict::Mode;

    /// The paper-like variant's verdicts carry the family in their name
    /// (`current/lag/paper-like`), the others do not, and the paper-like
    /// grid (full mode only) counts at most 64 run pairs per model. Runs
    /// 4 steps of one seed per configuration.
    #[test]
    fn paper_like_verdicts_name_the_family() {
        let full = paper_grid(Mode::Full).expect("full grid");
        assert!(paper_grid(Mode::Quick).is_none());
        for m in [Staleness::Lag, Staleness::Minibatches] {
            let n = full.configs.iter().filter(|c| c.model() == m).count() * full.fams[0].1;
            assert!((1..=64).contains(&n), "{n}");
        }
        let tiny = |fam| Grid {
            fams: vec![(fam, 1)],
            steps: 4,
            configs: full.configs,
        };
        let paper = compute(&tiny(Family::PaperLike), "current").unwrap();
        let v = verdict("current", Staleness::Lag, &paper);
        assert_eq!(v.variant, "current/lag/paper-like");
        assert_eq!(v.n, 2);
        let tab = compute(&tiny(Family::Tabular), "current").unwrap();
        assert_eq!(
            verdict("current", Staleness::Lag, &tab).variant,
            "current/lag"
        );
    }
}
