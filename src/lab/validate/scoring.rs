//! The plant `(b, g)` identified from a side's probe and the settling
//! steps it predicts for a controlled arm (`entropic_proofs::ident`,
//! `entropic_proofs::linear`).

use entropic_llm::grpo::config::GrpoFile;
use entropic_proofs::ident::{identify, Fit};
use entropic_proofs::linear::{design_band, predict, LoopParams};
use entropic_sim::control::{ControlConfig, Measure};
use entropic_sim::metrics::Record;

/// The loop delay the prediction of an arm uses (docs/mathematics.md §7):
/// 0 when its controller measures the current policy (`measure =
/// current`: α acts on the update it was computed for, whatever the lag),
/// the arm's `grpo.lag` when it measures the rollout batch (`measure =
/// rollout`: the measurement is `lag` steps old). The plant itself is
/// identified with delay 0, from an on-policy probe.
pub(super) fn arm_delay(c: &GrpoFile) -> usize {
    match c.control.measure {
        Measure::Current => 0,
        Measure::Rollout => c.grpo.lag,
    }
}

/// One identified plant or the reason it could not be identified.
pub(super) struct Plant {
    pub fit: std::result::Result<Fit, String>,
}

pub(super) fn identify_side(probe: &[Record]) -> Plant {
    let h: Vec<f64> = probe.iter().map(|r| r.entropy).collect();
    let a: Vec<f64> = probe.iter().map(|r| r.alpha.unwrap_or(f64::NAN)).collect();
    Plant {
        fit: identify(&h, &a, 0).map_err(|e| e.to_string()),
    }
}

/// The settling steps the identified plant predicts for a P/PI arm, with
/// docs/design.md §8's band and with the relative band [`REL_BAND`].
pub(super) fn predicted_settling(
    plant: &Plant,
    c: &ControlConfig,
    delay: usize,
    e0: f64,
    steps: usize,
) -> [String; 2] {
    let Ok(Fit { b, g, .. }) = plant.fit else {
        return ["n/a (no plant)".into(), "n/a (no plant)".into()];
    };
    let p = LoopParams {
        gain: g,
        delay,
        kp: c.kp,
        ki: c.ki,
        drift: b,
        form: c.integral_form,
    };
    let bands = [design_band(c.target), REL_BAND * c.target];
    let cells: Vec<String> = bands
        .iter()
        .map(|&band| match predict(&p, e0, band, steps, c.alpha_max) {
            Ok(pr) => pr.settling_step.map_or("never".into(), |s| s.to_string()),
            Err(e) => format!("n/a ({e})"),
        })
        .collect();
    [cells[0].clone(), cells[1].clone()]
}

/// The relative settling band of the extra columns: |e| ≤ 10 % of the
/// target, without docs/design.md §8's 0.05-nat floor, which is wider than the
/// tiny LLM's whole token-mean entropy (so its docs/design.md §8 settling step is
/// 0 for every arm, even plain GRPO).
pub(super) const REL_BAND: f64 = 0.1;
