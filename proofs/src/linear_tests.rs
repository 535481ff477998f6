//! Tests of the linear closed-loop analysis (docs/mathematics.md §6).
use super::*;

const B: IntegralForm = IntegralForm::Before;
const A: IntegralForm = IntegralForm::After;

fn params(gain: f64, delay: usize, kp: f64, ki: f64, drift: f64, form: IntegralForm) -> LoopParams {
    LoopParams {
        gain,
        delay,
        kp,
        ki,
        drift,
        form,
    }
}

/// Evaluates an ascending-power polynomial at the complex point `(re, im)`.
fn eval(c: &[f64], (re, im): (f64, f64)) -> f64 {
    let (mut pr, mut pi) = (0.0, 0.0);
    for &ck in c.iter().rev() {
        let (nr, ni) = (pr * re - pi * im + ck, pr * im + pi * re);
        pr = nr;
        pi = ni;
    }
    pr.hypot(pi)
}

/// Growth rate per step of a simulated error series: the ratio of the
/// largest |e| in a late window to that in an earlier one, to the power
/// 1/(distance). Windows of 200 steps cover several periods of the dominant
/// oscillation, so this estimates the spectral radius.
fn simulated_rate(p: &LoopParams) -> f64 {
    let es = simulate(p, 1.0, 2000, f64::INFINITY);
    let peak = |r: std::ops::Range<usize>| es[r].iter().map(|x| x.0.abs()).fold(0.0, f64::max);
    (peak(1800..2000) / peak(1000..1200)).powf(1.0 / 800.0)
}

#[test]
fn char_poly_matches_hand_expansion() {
    // g=0.1, d=1, Kp=1, Ki=0.05.
    // Before: (z−1)² z + 0.1(z−1) + 0.005 = z³ − 2z² + 1.1z − 0.095
    assert_eq!(
        char_poly(0.1, 1, 1.0, 0.05, B),
        vec![-0.095, 1.1, -2.0, 1.0]
    );
    // After: (z−1)² z + 0.1(z−1) + 0.005z = z³ − 2z² + 1.105z − 0.1
    let a = char_poly(0.1, 1, 1.0, 0.05, A);
    let want = [-0.1, 1.105, -2.0, 1.0];
    assert!(
        a.iter().zip(want).all(|(x, y)| (x - y).abs() < 1e-15),
        "{a:?}"
    );
    // P (ki = 0), degree d+1: (z−1)z + 0.1 = z² − z + 0.1, no factor (z−1).
    assert_eq!(char_poly(0.1, 1, 1.0, 0.0, B), vec![0.1, -1.0, 1.0]);
}

#[test]
fn reference_radii_of_math_md() {
    // docs/mathematics.md §6, g = 0.1, d = 4: Before 0.936 / 1.0175, After 0.925 / 1.025.
    let cases = [
        (1.0, 0.05, B, 0.936),
        (3.0, 0.3, B, 1.0175),
        (1.0, 0.05, A, 0.925),
        (3.0, 0.3, A, 1.025),
    ];
    for (kp, ki, form, want) in cases {
        let r = analyse(&params(0.1, 4, kp, ki, 0.0, form)).unwrap();
        assert!(
            (r.spectral_radius - want).abs() < 1e-3,
            "{kp} {ki} {form:?}: {r:?}"
        );
        assert_eq!(r.stable, want < 1.0);
        assert_eq!(r.roots.len(), 6);
    }
}

#[test]
fn roots_are_roots_of_the_polynomial() {
    for (kp, ki, form, d) in [
        (1.0, 0.05, B, 4),
        (3.0, 0.3, A, 4),
        (2.0, 0.0, B, 3),
        (0.5, 0.2, B, 0),
    ] {
        let c = char_poly(0.1, d, kp, ki, form);
        let r = analyse(&params(0.1, d, kp, ki, 0.0, form)).unwrap();
        assert_eq!(r.roots.len(), c.len() - 1);
        for z in &r.roots {
            assert!(eval(&c, *z) < 1e-10, "p({z:?}) = {}", eval(&c, *z));
        }
    }
}

#[test]
fn spectral_radius_matches_simulated_growth() {
    // Stable and unstable, both forms, P and PI, with and without delay.
    let cases = [
        (0.1, 4, 1.0, 0.05, B),
        (0.1, 4, 3.0, 0.3, B),
        (0.1, 4, 1.0, 0.05, A),
        (0.1, 4, 3.0, 0.3, A),
        (0.1, 4, 1.0, 0.0, B),
        (0.1, 4, 4.0, 0.0, B),
        (0.3, 2, 1.0, 0.2, B),
    ];
    for (g, d, kp, ki, form) in cases {
        let p = params(g, d, kp, ki, 0.0, form);
        let rho = spectral_radius(g, d, kp, ki, form);
        let sim = simulated_rate(&p);
        assert!(
            (sim - rho).abs() < 2e-3,
            "{p:?}: rho {rho}, simulated {sim}"
        );
        let es = simulate(&p, 1.0, 2000, f64::INFINITY);
        let last = es[1999].0.abs().max(es[1998].0.abs());
        if rho < 1.0 {
            assert!(last < 1e-6, "{p:?} should decay: {last}");
        } else {
            assert!(last > 10.0, "{p:?} should grow: {last}");
        }
    }
}

#[test]
fn p_form_has_no_spurious_unit_root() {
    // (z−1)z^4 + 0.1: stable; the PI polynomial with ki = 0 would add z = 1.
    let r = analyse(&params(0.1, 4, 1.0, 0.0, 0.0, B)).unwrap();
    assert!(r.stable && r.roots.len() == 5, "{r:?}");
}

#[test]
fn steady_state_errors() {
    // P: e* = b/(g·Kp) = 0.01/(0.1·1) = 0.1 (docs/mathematics.md §6); PI: 0.
    let p = params(0.1, 4, 1.0, 0.0, 0.01, B);
    let r = analyse(&p).unwrap();
    assert!((r.steady_state_error.unwrap() - 0.1).abs() < 1e-12);
    let es = simulate(&p, 1.0, 2000, f64::INFINITY);
    assert!((es[1999].0 - 0.1).abs() < 1e-9, "{:?}", es[1999]);
    for form in [B, A] {
        let p = params(0.1, 4, 1.0, 0.05, 0.01, form);
        assert_eq!(analyse(&p).unwrap().steady_state_error, Some(0.0));
        let es = simulate(&p, 1.0, 2000, f64::INFINITY);
        assert!(es[1999].0.abs() < 1e-9, "{:?}", es[1999]);
        // At rest α = b/g = 0.1 cancels the drift.
        assert!((es[1999].1 - 0.1).abs() < 1e-9, "{:?}", es[1999]);
    }
    assert_eq!(
        analyse(&params(0.1, 4, 3.0, 0.3, 0.01, B))
            .unwrap()
            .steady_state_error,
        None
    );
}

#[test]
fn simulate_follows_the_controller_step_by_step() {
    // g = 0.5, d = 1, Kp = 1, Ki = 0.5, b = 0, e0 = 1 (hand computation):
    // Before: α0 = 1 + 0.5·0 = 1, I = 1, e1 = 1 − 0.5·0 = 1;
    //         α1 = 1 + 0.5·1 = 1.5, I = 2, e2 = 1 − 0.5·1 = 0.5;
    //         α2 = 0.5 + 0.5·2 = 1.5, I = 2.5, e3 = 0.5 − 0.5·1.5 = −0.25.
    let s = simulate(&params(0.5, 1, 1.0, 0.5, 0.0, B), 1.0, 4, f64::INFINITY);
    assert_eq!(
        s,
        vec![
            (1.0, 1.0),
            (1.0, 1.5),
            (0.5, 1.5),
            (-0.25, -0.25 + 0.5 * 2.5)
        ]
    );
    // After: I = 1, α0 = 1 + 0.5·1 = 1.5, e1 = 1;
    //        I = 2, α1 = 1 + 1 = 2, e2 = 1 − 0.5·1.5 = 0.25;
    //        I = 2.25, α2 = 0.25 + 1.125 = 1.375, e3 = 0.25 − 0.5·2 = −0.75.
    let s = simulate(&params(0.5, 1, 1.0, 0.5, 0.0, A), 1.0, 4, f64::INFINITY);
    assert_eq!(s[..3], [(1.0, 1.5), (1.0, 2.0), (0.25, 1.375)]);
    assert_eq!(s[3].0, -0.75);
    // Before with clip 1: α0 = 1, α1 = clip(1.5) = 1, e2 = 0.5,
    // α2 = clip(0.5 + 0.5·2) = 1, e3 = 0.5 − 0.5·1 = 0 (the integral is not clipped).
    let s = simulate(&params(0.5, 1, 1.0, 0.5, 0.0, B), 1.0, 4, 1.0);
    assert_eq!(s[..3], [(1.0, 1.0), (1.0, 1.0), (0.5, 1.0)]);
    assert_eq!(s[3].0, 0.0);
}

#[test]
fn clip_turns_instability_into_a_bounded_oscillation() {
    // Linear-unstable gains (ρ ≈ 1.0175) with the authors' clip |α| ≤ 1.
    let p = params(0.1, 4, 3.0, 0.3, 0.0, B);
    let s = simulate(&p, 0.5, 5000, 1.0);
    let late_max = s[4000..].iter().map(|x| x.0.abs()).fold(0.0, f64::max);
    let late_min = s[4000..]
        .iter()
        .map(|x| x.0.abs())
        .fold(f64::INFINITY, f64::min);
    assert!(late_max < 10.0, "bounded: {late_max}");
    let pred = predict(&p, 0.5, 0.05, 5000, 1.0).unwrap();
    assert!(
        pred.settling_step.is_none() && pred.final_abs_err > 0.05,
        "{pred:?} {late_min}"
    );
}

#[test]
fn predict_matches_closed_forms() {
    // P, d = 0: e_{t+1} = (1 − g·Kp) e_t. g = 0.5: e_t = 0.5^t; |e| ≤ 0.05 from
    // t = ⌈log(0.05)/log(0.5)⌉ = ⌈4.32⌉ = 5; never crosses: overshoot 0.
    let pr = predict(
        &params(0.5, 0, 1.0, 0.0, 0.0, B),
        1.0,
        0.05,
        100,
        f64::INFINITY,
    )
    .unwrap();
    assert_eq!(pr.settling_step, Some(5));
    assert_eq!(pr.overshoot, 0.0);
    assert!(pr.steady_state_error.abs() < 1e-12);
    // g = 1.5: e_t = (−0.5)^t; crosses at t = 1 with e = −0.5: overshoot 0.5.
    let pr = predict(
        &params(1.5, 0, 1.0, 0.0, 0.0, B),
        -1.0,
        0.05,
        100,
        f64::INFINITY,
    )
    .unwrap();
    assert_eq!(pr.settling_step, Some(5));
    assert!((pr.overshoot - 0.5).abs() < 1e-12, "{pr:?}");
    // P with drift: e* = b/(g·Kp) = 0.02/0.5 = 0.04.
    let pr = predict(
        &params(0.5, 0, 1.0, 0.0, 0.02, B),
        1.0,
        0.05,
        200,
        f64::INFINITY,
    )
    .unwrap();
    assert!((pr.steady_state_error - 0.04).abs() < 1e-12, "{pr:?}");
    assert_eq!(design_band(0.1), 0.05);
    assert_eq!(design_band(2.0), 0.2);
}

#[test]
fn gain_margin_finds_the_edge() {
    // P, d = 0: root z = 1 − g·k·Kp, stable iff 0 < g·k·Kp < 2: margin 2/(0.1·1) = 20.
    let k = gain_margin(0.1, 0, 1.0, 0.0, B);
    assert!((k - 20.0).abs() < 1e-6, "{k}");
    for (kp, ki, form) in [(1.0, 0.05, B), (3.0, 0.3, B), (1.0, 0.05, A)] {
        let k = gain_margin(0.1, 4, kp, ki, form);
        let nominal_stable = spectral_radius(0.1, 4, kp, ki, form) < 1.0;
        assert_eq!(k > 1.0, nominal_stable, "{kp} {ki}: {k}");
        assert!(spectral_radius(0.1, 4, k * kp, k * ki, form) < 1.0);
        assert!(spectral_radius(0.1, 4, k * (1.0 + 1e-6) * kp, k * (1.0 + 1e-6) * ki, form) >= 1.0);
    }
    assert_eq!(gain_margin(0.0, 4, 1.0, 0.05, B), 0.0);
    assert!(gain_margin(f64::NAN, 4, 1.0, 0.05, B).is_nan());
}

#[test]
fn stable_region_is_the_grid_of_radii() {
    let kp = [0.5, 1.0, 3.0];
    let ki = [0.0, 0.05, 0.3];
    let grid = stable_region(0.1, 4, B, &kp, &ki);
    assert_eq!(grid.len(), 3);
    for (i, row) in grid.iter().enumerate() {
        assert_eq!(row.len(), 3);
        for (j, &r) in row.iter().enumerate() {
            assert_eq!(r, spectral_radius(0.1, 4, kp[i], ki[j], B));
        }
    }
    assert!(grid[1][1] < 1.0 && grid[2][2] > 1.0);
}

#[test]
fn bad_input_is_refused() {
    assert!(matches!(
        analyse(&params(f64::NAN, 4, 1.0, 0.0, 0.0, B)),
        Err(LinearError::NotFinite { name: "gain", .. })
    ));
    assert!(matches!(
        analyse(&params(0.1, MAX_DELAY + 1, 1.0, 0.0, 0.0, B)),
        Err(LinearError::DelayTooLarge { .. })
    ));
    let p = params(0.1, 4, 1.0, 0.0, 0.0, B);
    assert!(predict(&p, 1.0, 0.0, 10, 1.0).is_err());
    assert!(predict(&p, 1.0, 0.05, 0, 1.0).is_err());
    assert!(predict(&p, 1.0, 0.05, 10, f64::NAN).is_err());
    assert!(spectral_radius(0.1, 4, f64::INFINITY, 0.0, B).is_nan());
}

#[test]
fn report_serialises_to_json() {
    let r = analyse(&params(0.1, 4, 1.0, 0.05, 0.01, B)).unwrap();
    let s = serde_json::to_string(&r).unwrap();
    assert!(
        s.contains("\"spectral_radius\"") && s.contains("\"form\":\"before\""),
        "{s}"
    );
    let back: StabilityReport = serde_json::from_str(&s).unwrap();
    assert_eq!(back, r);
}
