//! Tests of `linear-model`: the gain search and the classification.

use super::*;
use crate::linear::{spectral_radius, IntegralForm};

#[test]
fn gain_for_radius_hits_the_radius() {
    // d = 0, P: root z = 1 − g·Kp, so ρ = 1.2 on the rising branch at s = 2.2
    let s = gain_for_radius(0, Form::P, 0.0, 1.2).unwrap();
    assert!((s - 2.2).abs() < 1e-6, "{s}");
    for rho in [0.95, 1.1] {
        let s = gain_for_radius(2, Form::Before, 0.1, rho).unwrap();
        let got = spectral_radius(1.0, 2, s, 0.1 * s, IntegralForm::Before);
        assert!((got - rho).abs() < 1e-6, "{got} vs {rho}");
    }
}

#[test]
fn classify_growth_and_divergence() {
    use entropic_sim::metrics::Record;
    let p = Point {
        d: 0,
        form: Form::P,
        kp: 1.0,
        ki: 0.0,
        target: 1.0,
        steps: 8,
        alpha_max: f64::INFINITY,
        rho: 0.9,
    };
    let rec = |h: f64| Record {
        entropy: h,
        ..Default::default()
    };
    // errors: second quarter (steps 2,3) max 0.1; last quarter (6,7) max 0.3 → growth 3
    let grow: Vec<Record> = [0.0, 0.0, 0.1, -0.05, 0.0, 0.0, 0.3, 0.0]
        .iter()
        .map(|e| rec(1.0 + e))
        .collect();
    let o = classify(&grow, false, &p, 2.0, 1.0);
    assert!((o.growth - 3.0).abs() < 1e-9 && o.unstable && !o.diverged);
    let decay: Vec<Record> = [0.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0.15, 0.0]
        .iter()
        .map(|e| rec(1.0 + e))
        .collect();
    assert!(!classify(&decay, false, &p, 2.0, 1.0).unstable); // growth 1.5 < 2
                                                              // last max 0.15 ≥ 10 × 0.01: escaped
    assert!(classify(&decay, false, &p, 2.0, 0.01).escaped);
    let mut hit = decay.clone();
    hit[4].entropy = 0.005; // within 0.01 of 0
    assert!(classify(&hit, false, &p, 2.0, 1.0).diverged);
    assert!(classify(&decay[..5], true, &p, 2.0, 1.0).unstable); // stopped early
}
