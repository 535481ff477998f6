//! Prints the α sequences of a few controller configurations on a fixed
//! entropy sequence, straight from `entropic_sim::control::Controller`
//! (no Python involved), as JSON. `python/tests/test_controller.py`
//! replays the same sequences through the Python binding and requires
//! identical α (bit for bit); `.ci/run` regenerates this file's output and
//! the test reads it (`ENTROPIC_ALPHA_FIXTURE`), the committed copy in
//! `python/tests/fixtures/alpha.json` serves local runs.
//!
//! `cargo run --release -p entropic-py --example alpha_fixture`

use entropic_sim::control::{ControlConfig, Controller, Measurement};
use serde_json::{json, Value};

fn main() -> Result<(), serde_json::Error> {
    // A deterministic entropy path that crosses the target, saturates a
    // clipped controller and comes back: 60 controller steps.
    let entropy: Vec<f64> = (0..60)
        .map(|t| {
            let t = t as f64;
            0.25 + 0.3 * (t / 7.0).sin() * (-t / 80.0).exp() + 0.02 * (t * 1.7).cos()
        })
        .collect();
    // (Python keyword options, the same as a ControlConfig over the defaults)
    let cases: Vec<Value> = vec![
        json!({"method": "entropic", "target": 0.1, "kp": 1.0, "ki": 0.01}),
        json!({"method": "entropic", "target": 0.2, "kp": 3.0, "ki": 0.5, "alpha_max": 0.3,
               "integral_form": "after", "anti_windup": true}),
        json!({"method": "entropic", "target": 0.2, "kp": 3.0, "ki": 0.5, "alpha_max": 0.3,
               "anti_windup": true}),
        json!({"method": "entropic", "target": 0.15, "kp": 0.7, "ki": 0.0, "alpha_max": "inf"}),
        json!({"method": "probe", "target": 0.1, "kp": 1.0, "ki": 0.01, "alpha_max": "inf",
               "probe": [[7, 0.4], [3, -0.2], [11, 0.1]]}),
        json!({"method": "adaptive_entropy", "target": 0.3, "kp": 1.0, "ki": 0.01,
               "adaptive_delta": 0.001, "adaptive_c0": 0.002, "adaptive_c_max": 0.004}),
    ];
    let mut out = Vec::new();
    for options in cases {
        let cfg: ControlConfig = serde_json::from_value(options.clone())?;
        let mut c = Controller::new(cfg);
        let (mut alpha, mut coef) = (Vec::new(), Vec::new());
        for &h in &entropy {
            let d = c.update(Measurement {
                entropy: h,
                sampled_nll: f64::NAN,
            });
            alpha.push(d.alpha);
            coef.push(d.entropy_coef);
        }
        out.push(
            json!({"options": options, "alpha": alpha, "entropy_coef": coef,
                        "final_state": c.state}),
        );
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({"entropy": entropy, "cases": out}))?
    );
    Ok(())
}
