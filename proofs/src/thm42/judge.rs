//! Judge step of `thm-4-2`: P's predicted steady-state error against the
//! measured one, and the P and PI verdicts of each family.

use super::compute::{FamilyRuns, TargetRuns};
use super::model::{local_fit, CLAIM};
use crate::closedloop::{self as cl, CellRun, FailsWhen};
use crate::verdict::ClaimVerdict;

/// P's prediction `e* = b/(g·Kp)` per seed (from the probe) against P's
/// measured final error.
pub(super) struct Prediction {
    /// The probe's `g` of each seed with a usable fit.
    pub gs: Vec<f64>,
    /// `e*` of each seed with a usable fit.
    pub pred: Vec<f64>,
    /// Seeds whose measured error is within the band of `e*`.
    pub agree: usize,
    /// Seeds with `|e*| > 1` (P saturates).
    pub sat: usize,
}

/// The prediction of one target's P cell from its learning rate's probe.
pub(super) fn predict(probe: &CellRun, t: &TargetRuns) -> Prediction {
    let mut pred = Vec::new();
    let mut gs = Vec::new();
    let mut agree = 0;
    let mut sat = 0;
    for (po, o) in probe.outcomes.iter().zip(&t.p.outcomes) {
        if let Some(f) = local_fit(po, t.target).filter(|f| f.g.is_finite() && f.g != 0.0) {
            let e_star = f.b / f.g; // Kp = 1
            gs.push(f.g);
            pred.push(e_star);
            if e_star.abs() > 1.0 {
                sat += 1;
            }
            let m = cl::final_signed_err(o, t.target);
            if (m - e_star).abs() <= o.band {
                agree += 1;
            }
        }
    }
    Prediction {
        gs,
        pred,
        agree,
        sat,
    }
}

/// The family's verdicts, P then PI ("reaches the target" on every cell),
/// without figures.
pub(super) fn verdicts(fr: &FamilyRuns) -> [(&'static str, ClaimVerdict); 2] {
    let p: Vec<&CellRun> = fr.iter().map(|(_, t)| &t.p).collect();
    let pi: Vec<&CellRun> = fr.iter().map(|(_, t)| &t.pi).collect();
    [("P", p), ("PI", pi)].map(|(arm, refs)| {
        let v = cl::verdict(
            CLAIM,
            &format!("{arm}/{}", fr.fam.name()),
            &refs,
            FailsWhen::NotReached,
            &format!("{arm} reaches the target"),
        );
        (arm, v)
    })
}
