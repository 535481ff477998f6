//! The constants, grid and arm configuration of `cor-4-4`, shared by its
//! compute, judge and render steps (and by the closed-loop tests).

use crate::closedloop::{Control, Family};
use crate::verdict::Mode;
use entropic_sim::control::Scope;

/// Claim id.
pub const CLAIM: &str = "cor-4-4";

/// Target: as `thm-4-3` (a target plain GRPO misses).
pub const TARGET: f64 = crate::thm43::TARGET;

/// (families, seeds, steps, thresholds τ) of one mode.
pub(super) fn grid(mode: Mode) -> (Vec<Family>, usize, usize, &'static [f64]) {
    match mode {
        Mode::Quick => (vec![Family::Tabular], 3, 200, &[0.8, 0.95]),
        Mode::Full => (Family::ALL.to_vec(), 16, 300, &[0.5, 0.8, 0.95, 0.99]),
    }
}

/// The PI arm with the extra term on `scope` at threshold `tau`.
pub(crate) fn control(scope: Scope, tau: f64) -> Control {
    let mut c = Control::entropic(TARGET, 1.0, 0.01);
    c.cfg.scope = scope;
    c.cfg.tau = tau;
    c.shown = &["method", "target", "kp", "ki", "scope", "tau"];
    c
}
