//! The constants, grid and arm configurations of `thm-4-2`, shared by its
//! compute, judge and render steps (and by the closed-loop tests).

use crate::closedloop::{self as cl, Control};
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

/// (seeds, steps, learning rates used, targets used) per mode.
pub(super) fn grid(mode: Mode) -> (usize, usize, usize, &'static [f64]) {
    match mode {
        Mode::Quick => (4, 200, 1, &TARGETS[..2]),
        Mode::Full => (32, 250, 2, &TARGETS),
    }
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
