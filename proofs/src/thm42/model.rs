//! The constants, grid and arm configurations of `thm-4-2`, shared by its
//! compute, judge and render steps (and by the closed-loop tests).

use crate::closedloop::{self as cl, Control, Family};
use crate::ident;
use crate::verdict::Mode;
use entropic_sim::control::{ControlConfig, Method};

/// Claim id.
pub const CLAIM: &str = "thm-4-2";

/// Targets (nats): the authors' default 0.1 and two above it, all inside
/// the range plain GRPO passes through on both families.
const TARGETS: [f64; 3] = [0.1, 0.2, 0.3];

/// Probe schedule: blocks of `PROBE_BLOCK` steps cycling through these α
/// (known values; no clip), so `g` is identifiable (docs/mathematics.md §6).
const PROBE_ALPHAS: [f64; 5] = [0.0, 0.5, -0.5, 1.0, -1.0];
const PROBE_BLOCK: usize = 10;

/// The paper-like variant's targets (nats): the paper's 0.1 (against its
/// start of 0.12; the family starts at 0.128) and 0.05, the low end of the
/// paper's range at T = 0.6; plain GRPO passes both within the horizon.
pub const PAPER_TARGETS: [f64; 2] = [0.1, 0.05];

/// The paper-like variant's seeds and steps (full mode only): one learning
/// rate, 16 seeds, so each of its P and PI verdicts counts 32 runs.
const PAPER_SEEDS: usize = 16;
const PAPER_STEPS: usize = 300;

/// One family's part of the grid.
#[derive(Debug, Clone, Copy)]
pub(super) struct Part {
    pub fam: Family,
    pub seeds: usize,
    pub steps: usize,
    /// The first `n_lr` learning rates of the family.
    pub n_lr: usize,
    pub targets: &'static [f64],
}

/// The grid of a mode: both families with (seeds, steps, learning rates
/// used, targets used), and in full mode the paper-like variant
/// (docs/mathematics.md §8.1) after them. Quick mode leaves the paper-like
/// variant out (its time and the quick snapshots).
pub(super) fn grid(mode: Mode) -> Vec<Part> {
    let (seeds, steps, n_lr, targets): (usize, usize, usize, &'static [f64]) = match mode {
        Mode::Quick => (4, 200, 1, &TARGETS[..2]),
        Mode::Full => (32, 250, 2, &TARGETS),
    };
    let mut out: Vec<Part> = Family::ALL
        .into_iter()
        .map(|fam| Part {
            fam,
            seeds,
            steps,
            n_lr,
            targets,
        })
        .collect();
    if mode == Mode::Full {
        out.push(Part {
            fam: Family::PaperLike,
            seeds: PAPER_SEEDS,
            steps: PAPER_STEPS,
            n_lr: 1,
            targets: &PAPER_TARGETS,
        });
    }
    out
}

/// The `[control]` section of the P (`ki = 0`) or PI arm.
pub fn control(target: f64, pi: bool) -> Control {
    Control::entropic(target, 1.0, if pi { 0.01 } else { 0.0 })
}

/// The probe's `[control]` section covering `steps`.
pub fn probe_control(steps: usize) -> Control {
    let probe = (0..steps.div_ceil(PROBE_BLOCK))
        .map(|i| (PROBE_BLOCK, PROBE_ALPHAS[i % PROBE_ALPHAS.len()]))
        .collect();
    Control {
        cfg: ControlConfig {
            method: Method::Probe,
            target: 0.2,
            alpha_max: f64::INFINITY,
            probe,
            ..Default::default()
        },
        shown: &["method", "target", "alpha_max", "probe"],
    }
}

/// `b`, `g` of one probe run near `target`: the fit uses only the steps
/// whose entropy lies in `[0.5·H_tar, 1.5·H_tar]` (the others are set to
/// NaN, which [`ident::identify`] skips), since the plant is nonlinear and
/// the P controller settles near the target; delay 0 (on-policy,
/// `measure = current`: α acts on the step it was computed on).
pub fn local_fit(o: &cl::Outcome, target: f64) -> Option<ident::Fit> {
    let h: Vec<f64> = o
        .records
        .iter()
        .map(|r| {
            if (0.5 * target..=1.5 * target).contains(&r.entropy) {
                r.entropy
            } else {
                f64::NAN
            }
        })
        .collect();
    let a: Vec<f64> = o.records.iter().map(|r| r.alpha.unwrap_or(0.0)).collect();
    ident::identify(&h, &a, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Full mode runs the paper-like family once, after both families, at
    /// one learning rate with at most 64 runs per verdict (P and PI each
    /// count seeds × targets); quick mode leaves it out.
    #[test]
    fn paper_like_part_is_full_only_and_at_most_64_runs() {
        let full = grid(Mode::Full);
        let paper: Vec<&Part> = full.iter().filter(|p| p.fam == Family::PaperLike).collect();
        assert_eq!(paper.len(), 1);
        let p = paper[0];
        assert_eq!(full.last().map(|x| x.fam), Some(Family::PaperLike));
        let n = p.seeds * p.targets.len() * p.n_lr;
        assert!((16..=64).contains(&n), "{n}");
        assert!(p.targets.iter().all(|&t| t < 0.128));
        assert!(grid(Mode::Quick).iter().all(|p| p.fam != Family::PaperLike));
    }
}
