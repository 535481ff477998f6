//! The constants and grid of `temperature`, shared by its compute, judge
//! and render steps.

use crate::closedloop::Family;
use crate::verdict::Mode;

/// Claim id.
pub const CLAIM: &str = "temperature";

/// Target: as `thm-4-3`.
pub const TARGET: f64 = crate::thm43::TARGET;

const TEMPS: [f64; 4] = [0.6, 0.8, 1.0, 1.2];

/// Seeds of the paper-like variant (full mode): 8 seeds × 4
/// temperatures, 32 PI runs.
const PAPER_SEEDS: usize = 8;

/// ((family, seeds) in report order, steps, temperatures) of one mode;
/// full mode adds the paper-like family (docs/mathematics.md §8.1), whose
/// own rollout temperature is 0.6, at its target [`target`].
pub(super) fn grid(mode: Mode) -> (Vec<(Family, usize)>, usize, &'static [f64]) {
    match mode {
        Mode::Quick => (vec![(Family::Tabular, 3)], 200, &TEMPS[..]),
        Mode::Full => (
            Family::ALL
                .into_iter()
                .map(|f| (f, 16))
                .chain([(Family::PaperLike, PAPER_SEEDS)])
                .collect(),
            300,
            &TEMPS[..],
        ),
    }
}

/// The target of a family: [`TARGET`], or the paper's 0.1 nats on the
/// paper-like family ([`crate::family::TARGET`]), at every temperature.
pub(super) fn target(fam: Family) -> f64 {
    match fam {
        Family::PaperLike => crate::family::TARGET,
        _ => TARGET,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper-like variant: full mode only, at the paper's 0.1 nats, at
    /// most 64 PI runs; the other families keep [`TARGET`].
    #[test]
    fn paper_like_variant_is_full_only_and_at_most_64_runs() {
        let (fams, _, temps) = grid(Mode::Full);
        let seeds: Vec<usize> = fams
            .iter()
            .filter(|f| f.0 == Family::PaperLike)
            .map(|f| f.1)
            .collect();
        assert_eq!(seeds.len(), 1);
        assert!(seeds[0] * temps.len() <= 64);
        assert_eq!(target(Family::PaperLike), crate::family::TARGET);
        assert_eq!(target(Family::Tabular), TARGET);
        let (q, _, _) = grid(Mode::Quick);
        assert!(q.iter().all(|f| f.0 != Family::PaperLike));
    }
}
