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

/// The controller's measurement modes, one verdict each.
pub(super) const MEASURES: [&str; 2] = ["current", "rollout"];

/// (families with their seeds, steps, lags, epochs) of one mode.
pub(super) type Grid = (
    Vec<(Family, usize)>,
    usize,
    &'static [usize],
    &'static [usize],
);

/// The P (`ki = 0`) or PI arm with the controller measuring on `measure`
/// (`"current"` or `"rollout"`).
pub(crate) fn control(ki: f64, measure: &str) -> Control {
    let mut c = Control::entropic(TARGET, 1.0, ki);
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
        Mode::Quick => (vec![(Family::Tabular, 3)], 200, &[0, 4], &[1, 2]),
        Mode::Full => (
            vec![(Family::Tabular, 8), (Family::Sequence, 2)],
            250,
            &[0, 1, 2, 4, 8],
            &[1, 2, 4],
        ),
    }
}
