//! Judge step of `cor-4-4`: a seed agrees at τ when `high_prob` reaches the
//! target whenever `all` does; one verdict per family.

use super::compute::FamilyRuns;
use super::model::CLAIM;
use crate::closedloop::{self as cl, CellRun, FailsWhen};
use crate::verdict::{ClaimVerdict, Verdict};

/// Seeds on which a cell reached the target.
pub(super) fn reached(c: &CellRun) -> usize {
    c.outcomes.iter().filter(|o| o.reached).count()
}

/// Seeds of the τ cell `hp` that agree with the claim against `all`.
pub(super) fn agree(all: &CellRun, hp: &CellRun) -> usize {
    all.outcomes
        .iter()
        .zip(&hp.outcomes)
        .filter(|(a, h)| !a.reached || h.reached)
        .count()
}

/// The family's verdict (no figures).
pub(super) fn verdict(fr: &FamilyRuns) -> ClaimVerdict {
    let seeds = fr.seeds;
    let n_all = reached(&fr.all);
    let (mut k, mut n) = (0, 0);
    let mut good = Vec::new();
    let mut cx = None;
    let mut hp_reached = 0;
    for (tau, hp) in &fr.hp {
        hp_reached += reached(hp);
        for (a, h) in fr.all.outcomes.iter().zip(&hp.outcomes) {
            let holds = !a.reached || h.reached;
            if !holds && cx.is_none() {
                cx = Some(cl::counterexample(hp, h, FailsWhen::NotReached));
            }
        }
        let agree = agree(&fr.all, hp);
        k += agree;
        n += seeds;
        if agree == seeds {
            good.push(format!("tau={tau:?}"));
        }
    }
    let (v, condition) = if n_all == 0 {
        (Verdict::Conditional, format!("untested (vacuous): scope all never reached the target ({seeds} seeds), so there was no convergence to keep; high_prob reached on {} of {n} (seed, τ) runs", hp_reached))
    } else if k == n {
        (Verdict::Confirmed, format!("high_prob reaches the target whenever all does (all reached on {n_all} of {seeds} seeds)"))
    } else if !good.is_empty() {
        (Verdict::Conditional, format!("high_prob reaches whenever all does only for {} (all reached on {n_all} of {seeds} seeds)", good.join(", ")))
    } else {
        (
            Verdict::Refuted,
            format!(
                "high_prob fails where all reaches on {} of {n} (seed, τ) pairs",
                n - k
            ),
        )
    };
    // In the vacuous case (scope all never converged) the rate is the
    // share of high_prob runs that reached the target, not the vacuously
    // true "agrees" count, so the table never shows 1.00 for nothing.
    let (k, n) = if n_all == 0 { (hp_reached, n) } else { (k, n) };
    let mut cv = ClaimVerdict::from_counts(CLAIM, fr.fam.name(), v, condition, k, n);
    cv.counterexample = cx;
    cv
}
