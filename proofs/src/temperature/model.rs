//! The constants and grid of `temperature`, shared by its compute, judge
//! and render steps.

use crate::closedloop::Family;
use crate::verdict::Mode;

/// Claim id.
pub const CLAIM: &str = "temperature";

/// Target: as `thm-4-3`.
pub const TARGET: f64 = crate::thm43::TARGET;

const TEMPS: [f64; 4] = [0.6, 0.8, 1.0, 1.2];

/// (families, seeds, steps, temperatures) of one mode.
pub(super) fn grid(mode: Mode) -> (Vec<Family>, usize, usize, &'static [f64]) {
    match mode {
        Mode::Quick => (vec![Family::Tabular], 3, 200, &TEMPS[..]),
        Mode::Full => (Family::ALL.to_vec(), 16, 300, &TEMPS[..]),
    }
}
