//! The constants, grid and arm configuration of `cor-4-4`, shared by its
//! compute, judge and render steps (and by the closed-loop tests).

use crate::closedloop::{Control, Family};
use crate::verdict::Mode;
use entropic_sim::control::Scope;

/// Claim id.
pub const CLAIM: &str = "cor-4-4";

/// Target: as `thm-4-3` (a target plain GRPO misses).
pub const TARGET: f64 = crate::thm43::TARGET;

/// Seeds of the paper-like variant (full mode): 8 seeds × 4 thresholds,
/// 32 (seed, τ) pairs.
const PAPER_SEEDS: usize = 8;

/// ((family, seeds) in report order, steps, thresholds τ) of one mode;
/// full mode adds the paper-like family (docs/mathematics.md §8.1) at its
/// own target [`target`].
pub(super) fn grid(mode: Mode) -> (Vec<(Family, usize)>, usize, &'static [f64]) {
    match mode {
        Mode::Quick => (vec![(Family::Tabular, 3)], 200, &[0.8, 0.95]),
        Mode::Full => (
            Family::ALL
                .into_iter()
                .map(|f| (f, 16))
                .chain([(Family::PaperLike, PAPER_SEEDS)])
                .collect(),
            300,
            &[0.5, 0.8, 0.95, 0.99],
        ),
    }
}

/// The target of a family: [`TARGET`], or the paper's 0.1 nats on the
/// paper-like family ([`crate::family::TARGET`]).
pub(super) fn target(fam: Family) -> f64 {
    match fam {
        Family::PaperLike => crate::family::TARGET,
        _ => TARGET,
    }
}

/// The PI arm with the extra term on `scope` at threshold `tau`.
#[cfg(test)]
pub(crate) fn control(scope: Scope, tau: f64) -> Control {
    control_at(TARGET, scope, tau)
}

/// [`control`] at `target`.
pub(crate) fn control_at(target: f64, scope: Scope, tau: f64) -> Control {
    let mut c = Control::entropic(target, 1.0, 0.01);
    c.cfg.scope = scope;
    c.cfg.tau = tau;
    c.shown = &["method", "target", "kp", "ki", "scope", "tau"];
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper-like variant: full mode only, at the paper's 0.1 nats, at
    /// most 64 (seed, τ) pairs; the other families keep [`TARGET`].
    #[test]
    fn paper_like_variant_is_full_only_and_at_most_64_pairs() {
        let (fams, _, taus) = grid(Mode::Full);
        let seeds: Vec<usize> = fams
            .iter()
            .filter(|f| f.0 == Family::PaperLike)
            .map(|f| f.1)
            .collect();
        assert_eq!(seeds.len(), 1);
        assert!(seeds[0] * taus.len() <= 64);
        assert_eq!(target(Family::PaperLike), crate::family::TARGET);
        assert_eq!(target(Family::Sequence), TARGET);
        let (q, _, _) = grid(Mode::Quick);
        assert!(q.iter().all(|f| f.0 != Family::PaperLike));
    }
}
