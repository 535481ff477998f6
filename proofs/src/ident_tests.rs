//! Tests of plant identification (docs/mathematics.md §6) on synthetic logs.
use super::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const TARGET: f64 = 0.5;

/// A probe schedule: blocks of 25 steps at levels of known size (docs/mathematics.md §7).
fn probe(t: usize) -> f64 {
    [0.5, -0.5, 1.0, 0.0, -1.0, 0.25][(t / 25) % 6]
}

/// Log of `H_{t+1} = H_t + b − g·α_{t−d} + σ·ε_t` (α = 0 before the start)
/// where α is chosen from `(t, H_t)` by `law`.
fn synth(
    (b, g, d, sigma): (f64, f64, usize, f64),
    n: usize,
    seed: u64,
    law: impl Fn(usize, f64) -> f64,
) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, sigma).unwrap();
    let (mut h, mut a) = (vec![TARGET + 0.3], Vec::new());
    for t in 0..n {
        a.push(law(t, h[t]));
        if t + 1 < n {
            let delayed = if t >= d { a[t - d] } else { 0.0 };
            h.push(h[t] + b - g * delayed + noise.sample(&mut rng));
        }
    }
    (h, a)
}

const PLANT: (f64, f64, usize, f64) = (0.004, 0.08, 2, 0.01);

#[test]
fn recovers_a_known_plant_from_a_probe() {
    let (h, a) = synth(PLANT, 600, 7, |t, _| probe(t));
    let (fit, residuals) = identify_delay(&h, &a, 6).unwrap();
    assert_eq!(fit.d, 2, "{residuals:?}");
    assert_eq!(residuals.len(), 7);
    assert!(residuals.iter().all(|r| r.1 >= residuals[2].1));
    assert!(fit.b_ci.0 < PLANT.0 && PLANT.0 < fit.b_ci.1, "{fit:?}");
    assert!(fit.g_ci.0 < PLANT.1 && PLANT.1 < fit.g_ci.1, "{fit:?}");
    // The noise sd is 0.01; the residual RMS estimates it.
    assert!((fit.residual_rms - 0.01).abs() < 0.001, "{fit:?}");
    assert_eq!((fit.n, fit.skipped_nan), (597, 0));
}

#[test]
fn intervals_cover_at_their_level() {
    // 200 seeded logs: a 95% interval should hold the truth in about 190
    // (binomial sd ≈ 3); [180, 198] is about ±3 sd.
    let (mut cover_b, mut cover_g) = (0, 0);
    for seed in 0..200 {
        let (h, a) = synth(PLANT, 300, seed, |t, _| probe(t));
        let fit = identify(&h, &a, 2).unwrap();
        cover_b += usize::from(fit.b_ci.0 < PLANT.0 && PLANT.0 < fit.b_ci.1);
        cover_g += usize::from(fit.g_ci.0 < PLANT.1 && PLANT.1 < fit.g_ci.1);
    }
    assert!((180..=198).contains(&cover_b), "b covered {cover_b}/200");
    assert!((180..=198).contains(&cover_g), "g covered {cover_g}/200");
}

#[test]
fn ols_matches_hand_computation() {
    // d = 0, x = α alternating ±1 over 10 rows, y = 0.1 − 0.5·x + r with
    // r = 0.01·[1,1,−1,−1,1,1,−1,−1,0,0], orthogonal to 1 and x, so
    // b = 0.1, g = 0.5 exactly; SSR = 8e-4, s² = 8e-4/8 = 1e-4, Sxx = 10,
    // x̄ = 0: se(g) = se(b) = 0.01/√10 = 0.00316228; t_{0.975,8} = 2.306004,
    // half-width 0.00729222; residual RMS = √(8e-4/10) = 0.00894427.
    let r = [1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 0.0, 0.0];
    let a: Vec<f64> = (0..11)
        .map(|t| if t % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let mut h = vec![1.0];
    for t in 0..10 {
        h.push(h[t] + 0.1 - 0.5 * a[t] + 0.01 * r[t]);
    }
    let fit = identify(&h, &a, 0).unwrap();
    assert!(
        (fit.b - 0.1).abs() < 1e-12 && (fit.g - 0.5).abs() < 1e-12,
        "{fit:?}"
    );
    assert!((fit.g_se - 0.00316228).abs() < 1e-8, "{fit:?}");
    assert!((fit.b_se - 0.00316228).abs() < 1e-8, "{fit:?}");
    assert!((fit.g_ci.1 - 0.5 - 0.00729222).abs() < 1e-7, "{fit:?}");
    assert!((fit.b_ci.0 - 0.1 + 0.00729222).abs() < 1e-7, "{fit:?}");
    assert!((fit.residual_rms - 0.00894427).abs() < 1e-8, "{fit:?}");
    assert_eq!(fit.n, 10);
}

#[test]
fn p_control_log_is_refused() {
    // Unclipped P control: α_t = 2·(H_t − H_tar), exactly affine in H_t.
    let (h, a) = synth(PLANT, 400, 1, |_, h| 2.0 * (h - TARGET));
    let err = identify(&h, &a, 2).unwrap_err();
    assert!(matches!(err, IdentError::PControl { .. }), "{err:?}");
    assert!(err.to_string().contains("P control"), "{err}");
    // Clipped to |α| ≤ 0.1 (often saturated): caught on the unsaturated steps.
    let (h, a) = synth(PLANT, 400, 1, |_, h| (20.0 * (h - TARGET)).clamp(-0.1, 0.1));
    let saturated = a.iter().filter(|x| x.abs() == 0.1).count();
    assert!(saturated > 40, "the test needs saturation: {saturated}");
    let err = identify(&h, &a, 2).unwrap_err();
    assert!(
        matches!(
            err,
            IdentError::PControl {
                on: "the unsaturated steps",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(identify_delay(&h, &a, 3).is_err());
}

#[test]
fn degenerate_logs_are_refused() {
    let (h, _) = synth(PLANT, 100, 3, |t, _| probe(t));
    assert_eq!(identify(&h, &[0.3; 100], 0), Err(IdentError::ConstantAlpha));
    let a: Vec<f64> = (0..100).map(probe).collect();
    assert_eq!(
        identify(&[0.7; 100], &a, 0),
        Err(IdentError::ConstantEntropy)
    );
    assert!(matches!(
        identify(&h[..12], &a[..12], 2),
        Err(IdentError::TooFewSteps {
            rows: 9,
            minimum: MIN_ROWS,
            ..
        })
    ));
    assert!(matches!(
        identify(&h, &a[..99], 0),
        Err(IdentError::LengthMismatch { .. })
    ));
    assert!(identify_delay(&h[..15], &a[..15], 6).is_err());
}

#[test]
fn nan_rows_are_skipped_and_counted() {
    let (mut h, mut a) = synth(PLANT, 300, 5, |t, _| probe(t));
    let clean = identify(&h, &a, 2).unwrap();
    // A NaN at H_50 removes rows t = 49 and 50; a NaN at α_100 removes the
    // row that uses it, t = 102 (d = 2): 3 rows skipped, 297 − 3 = 294 used.
    h[50] = f64::NAN;
    a[100] = f64::NAN;
    let fit = identify(&h, &a, 2).unwrap();
    assert_eq!((fit.skipped_nan, fit.n), (3, clean.n - 3));
    assert!((fit.g - clean.g).abs() < 0.01, "{fit:?} vs {clean:?}");
}
