//! The constants, grid and arm configurations of `thm-4-3`, shared by its
//! compute, judge and render steps (and by `cor-4-4` and `temperature`,
//! which use its target).

use crate::closedloop::{Control, Family};
use crate::verdict::Mode;
use entropic_sim::control::Measure;

/// Claim id.
pub const CLAIM: &str = "thm-4-3";

/// Target (nats): the middle target of `thm-4-2`, one that plain GRPO does
/// not stay at on either family, so reaching it is the controller's doing.
pub const TARGET: f64 = 0.2;

/// The controller's measurement modes.
pub(super) const MEASURES: [&str; 2] = ["current", "rollout"];

/// How a configuration is off-policy (docs/mathematics.md §7); one verdict
/// per (measure mode, staleness model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Staleness {
    /// The on-policy reference row (lag 0, one epoch, one minibatch): shown,
    /// not counted.
    OnPolicy,
    /// Asynchronous lag `d > 0`, one epoch, one minibatch: the ratio's
    /// denominator is the behaviour policy of `d` steps ago.
    Lag,
    /// The authors' definition (yk7333/EntroPIC on verl): lag 0 and more
    /// than one optimizer step per rollout batch (`minibatches > 1` or
    /// `ppo_epochs > 1`), π_old the policy at the start of the step (in the
    /// toy the rollout's own log-probs, taken by that policy just before
    /// the first update).
    Minibatches,
}

impl Staleness {
    /// The name in verdict variants and tables.
    pub(super) fn name(self) -> &'static str {
        match self {
            Staleness::OnPolicy => "on-policy",
            Staleness::Lag => "lag",
            Staleness::Minibatches => "minibatches",
        }
    }
}

/// The counted staleness models, in verdict order.
pub(super) const MODELS: [Staleness; 2] = [Staleness::Lag, Staleness::Minibatches];

/// One off-policy configuration: `(lag, ppo_epochs, minibatches)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stale {
    pub lag: usize,
    pub epochs: usize,
    pub minibatches: usize,
}

impl Stale {
    const fn new(lag: usize, epochs: usize, minibatches: usize) -> Self {
        Stale {
            lag,
            epochs,
            minibatches,
        }
    }

    /// The staleness model this configuration belongs to.
    pub(super) fn model(self) -> Staleness {
        if self.lag > 0 {
            Staleness::Lag
        } else if self.epochs > 1 || self.minibatches > 1 {
            Staleness::Minibatches
        } else {
            Staleness::OnPolicy
        }
    }
}

/// The grid of one mode: families with their seeds, steps, and the
/// configurations in table order (the on-policy reference first).
pub(super) struct Grid {
    pub fams: Vec<(Family, usize)>,
    pub steps: usize,
    pub configs: &'static [Stale],
}

/// Full: the reference, lag d ∈ {1, 2, 4, 8}, then (minibatches, epochs) ∈
/// {(2, 1), (4, 1), (1, 2), (1, 4)} at lag 0; 10 seeds (8 tabular, 2
/// sequence), so each (measure, model) verdict counts 40 run pairs.
const FULL: [Stale; 9] = [
    Stale::new(0, 1, 1),
    Stale::new(1, 1, 1),
    Stale::new(2, 1, 1),
    Stale::new(4, 1, 1),
    Stale::new(8, 1, 1),
    Stale::new(0, 1, 2),
    Stale::new(0, 1, 4),
    Stale::new(0, 2, 1),
    Stale::new(0, 4, 1),
];

/// Quick: the reference, lag 4, 2 minibatches, 2 epochs.
const QUICK: [Stale; 4] = [
    Stale::new(0, 1, 1),
    Stale::new(4, 1, 1),
    Stale::new(0, 1, 2),
    Stale::new(0, 2, 1),
];

/// The paper-like variant (full mode only, docs/mathematics.md §8.1): the
/// reference, lag 2 and 8, 2 minibatches, 2 epochs, measured on
/// `current` (the default), 6 seeds, 300 steps, at the paper's target
/// 0.1 nats; each (staleness model) verdict counts 12 run pairs.
const PAPER: [Stale; 5] = [
    Stale::new(0, 1, 1),
    Stale::new(2, 1, 1),
    Stale::new(8, 1, 1),
    Stale::new(0, 1, 2),
    Stale::new(0, 2, 1),
];

/// The measure mode of the paper-like variant.
pub(super) const PAPER_MEASURE: &str = "current";

/// The paper-like variant's grid (`None` in quick mode).
pub(super) fn paper_grid(mode: Mode) -> Option<Grid> {
    (mode == Mode::Full).then(|| Grid {
        fams: vec![(Family::PaperLike, 6)],
        steps: 300,
        configs: &PAPER,
    })
}

/// The target of a family: [`TARGET`], or the paper's 0.1 nats on the
/// paper-like family ([`crate::family::TARGET`]).
pub(super) fn target(fam: Family) -> f64 {
    match fam {
        Family::PaperLike => crate::family::TARGET,
        _ => TARGET,
    }
}

/// The P (`ki = 0`) or PI arm with the controller measuring on `measure`
/// (`"current"` or `"rollout"`).
#[cfg(test)]
pub(crate) fn control(ki: f64, measure: &str) -> Control {
    control_at(TARGET, ki, measure)
}

/// [`control`] at `target`.
pub(super) fn control_at(target: f64, ki: f64, measure: &str) -> Control {
    let mut c = Control::entropic(target, 1.0, ki);
    c.cfg.measure = match measure {
        "rollout" => Measure::Rollout,
        _ => Measure::Current,
    };
    c.shown = &["method", "target", "kp", "ki", "measure"];
    c
}

/// The grid of `mode`.
pub(super) fn grid(mode: Mode) -> Grid {
    match mode {
        Mode::Quick => Grid {
            fams: vec![(Family::Tabular, 3)],
            steps: 200,
            configs: &QUICK,
        },
        Mode::Full => Grid {
            fams: vec![(Family::Tabular, 8), (Family::Sequence, 2)],
            steps: 250,
            configs: &FULL,
        },
    }
}
