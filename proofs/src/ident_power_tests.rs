//! Must-show tests of the estimators (docs/mathematics.md §9) on a
//! simulated scalar plant with measurement noise.
use super::randomized::{unpaired_randomized, PrbsDraw, RANDOMIZATION_DRAWS};
use super::*;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// The simulated plant `e_{t+1} = e_t + b − g·α_{t−d} + w_t`, observed as
/// `y_t = e_t + v_t`.
#[derive(Debug, Clone, Copy)]
struct Plant {
    b: f64,
    g: f64,
    d: usize,
    sigma_w: f64,
    sigma_v: f64,
    steps: usize,
}

/// `σ_v² / σ_w² = 11/3` makes the lag-1 autocorrelation of `Δy` (α = 0)
/// `−σ_v²/(σ_w² + 2σ_v²) = −0.44`.
const PLANT: Plant = Plant {
    b: 0.004,
    g: 0.002,
    d: 2,
    sigma_w: 0.004,
    sigma_v: 0.004 * 1.914_854_215_512_676, // √(11/3)
    steps: 300,
};

/// One probe arm and its plain twin: the process noise `w` is shared (same
/// RNG streams), the measurement noise of each arm is its own (the
/// conservative case for the difference).
fn simulate(p: &Plant, alpha: &[f64], seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let w = Normal::new(0.0, p.sigma_w).unwrap();
    let v = Normal::new(0.0, p.sigma_v).unwrap();
    let (mut ep, mut eq) = (0.5, 0.5);
    let (mut probe, mut plain) = (Vec::new(), Vec::new());
    for t in 0..p.steps {
        probe.push(ep + v.sample(&mut rng));
        plain.push(eq + v.sample(&mut rng));
        let a = if t >= p.d { alpha[t - p.d] } else { 0.0 };
        let wt = w.sample(&mut rng);
        ep += p.b - p.g * a + wt;
        eq += p.b + wt;
    }
    (probe, plain)
}

fn lag1(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let c0: f64 = xs.iter().map(|x| (x - m).powi(2)).sum();
    let c1: f64 = xs.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    c1 / c0
}

/// Repetitions of every coverage check: a 95% interval should cover in
/// about 190 (binomial sd ≈ 3); the accepted band 180..=198 is 90–99%.
const REPS: u64 = 200;
const BAND: std::ops::RangeInclusive<usize> = 180..=198;
/// PRBS minimum hold of the must-show design (above the delay).
const HOLD: usize = 10;

/// Repetition `seed`: its PRBS (amplitude 1) and the two arms.
fn rep(p: &Plant, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let alpha = prbs(p.steps, 1.0, HOLD, 1000 + seed);
    let (probe, plain) = simulate(p, &alpha, seed);
    (alpha, probe, plain)
}

fn pair<'a>(alpha: &'a [f64], probe: &'a [f64], plain: &'a [f64]) -> [Twin<'a>; 1] {
    [Twin {
        probe,
        plain,
        alpha,
    }]
}

fn covers(ci: (f64, f64), x: f64) -> usize {
    usize::from(ci.0 < x && x < ci.1)
}

#[test]
fn the_simulated_plant_has_the_issues_autocorrelation() {
    // Lag-1 autocorrelation of the observed first differences of the plain
    // arm, averaged over the repetitions; the model value is −0.44.
    let rho = (0..REPS)
        .map(|s| {
            let (_, _, plain) = rep(&PLANT, s);
            let dy: Vec<f64> = plain.windows(2).map(|w| w[1] - w[0]).collect();
            lag1(&dy)
        })
        .sum::<f64>()
        / REPS as f64;
    println!("lag-1 autocorrelation of Δy: {rho:.3}");
    assert!((-0.47..=-0.41).contains(&rho), "{rho}");
}

#[test]
fn paired_and_unpaired_intervals_cover_the_true_gain() {
    let p = PLANT;
    let (mut paired_g, mut paired_b, mut unpaired_g, mut unpaired_b) = (0, 0, 0, 0);
    for s in 0..REPS {
        let (alpha, probe, plain) = rep(&p, s);
        let e = paired(&pair(&alpha, &probe, &plain), p.d).unwrap();
        paired_g += covers(e.g_ci, p.g);
        paired_b += covers(e.b_ci, p.b);
        let u = unpaired(&probe, &alpha, p.d).unwrap();
        unpaired_g += covers(u.g_ci, p.g);
        unpaired_b += covers(u.b_ci, p.b);
    }
    // Measured: paired g 184, b 189; unpaired g 194, b 198 (of 200; with
    // t quantiles instead of its fixed-b ones: g 190, b 197; the first,
    // prewhitened version of unpaired: g 190, b 187).
    println!(
        "coverage of 200: paired g {paired_g} b {paired_b}; unpaired g {unpaired_g} b {unpaired_b}"
    );
    for (name, c) in [
        ("paired g", paired_g),
        ("paired b", paired_b),
        ("unpaired g", unpaired_g),
        ("unpaired b", unpaired_b),
    ] {
        assert!(BAND.contains(&c), "{name} covered {c}/200");
    }
}

/// The gain at which `estimate` rejects `g = 0` in 80% of the repetitions
/// (bisection over `g` with the same seeds throughout), and the mean
/// `g_detectable` the estimator reported at `g = 0`.
fn empirical_power_gain(estimate: impl Fn(&Plant, u64) -> GainEstimate) -> (f64, f64) {
    let reps = 100;
    let null = Plant { g: 0.0, ..PLANT };
    let claimed = (0..reps)
        .map(|s| estimate(&null, s).g_detectable)
        .sum::<f64>()
        / reps as f64;
    let power = |g: f64| {
        let p = Plant { g, ..PLANT };
        (0..reps)
            .filter(|&s| estimate(&p, s).rejects_zero())
            .count() as f64
            / reps as f64
    };
    let (mut lo, mut hi) = (0.0, 4.0 * claimed);
    assert!(power(hi) > 0.8, "bracket: power at {hi} is {}", power(hi));
    for _ in 0..12 {
        let mid = 0.5 * (lo + hi);
        if power(mid) < 0.8 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi), claimed)
}

#[test]
fn detectable_gain_matches_the_simulated_80_percent_power_gain() {
    let (emp_p, claim_p) = empirical_power_gain(|p, s| {
        let (alpha, probe, plain) = rep(p, s);
        paired(&pair(&alpha, &probe, &plain), p.d).unwrap()
    });
    let (emp_u, claim_u) = empirical_power_gain(|p, s| {
        let (alpha, probe, _) = rep(p, s);
        unpaired(&probe, &alpha, p.d).unwrap()
    });
    println!(
        "80%-power gain: paired {emp_p:.3e} (reported {claim_p:.3e}); unpaired {emp_u:.3e} (reported {claim_u:.3e})"
    );
    // Measured: paired 6.43e-5 (reported 6.99e-5), unpaired 9.96e-4
    // (reported 1.056e-3; with t quantiles 9.70e-4, reported 9.94e-4; the
    // first, prewhitened version: 7.63e-4, reported 7.20e-4: not filtering
    // needs 27% more gain for 80% power on this plant, whose drift is
    // constant). Here D's noise is the two arms' measurement
    // noise alone, so the paired variance's increments have θ̂ near −1,
    // where it is Newey–West in levels (docs/mathematics.md §9).
    for (emp, claim) in [(emp_p, claim_p), (emp_u, claim_u)] {
        let ratio = claim / emp;
        assert!((1.0 / 1.5..=1.5).contains(&ratio), "{claim} vs {emp}");
    }
    // The sampled toy's gain is not a knob, so its tests move the fits of
    // one gain by location instead (toy_tests::empirical_power_gain). On
    // this linear plant the shift of the fits at the plant's own g gives
    // the bisection's figure (measured 2026-11-30: paired 6.404e-5 against
    // 6.427e-5, unpaired 9.904e-4 against 9.960e-4; predicted within 5%
    // before the run).
    let shifted = |estimate: &dyn Fn(&Plant, u64) -> GainEstimate| {
        let fits: Vec<GainEstimate> = (0..100).map(|s| estimate(&PLANT, s)).collect();
        super::toy_tests::empirical_power_gain(&fits)
    };
    let shift_p = shifted(&|p, s| {
        let (alpha, probe, plain) = rep(p, s);
        paired(&pair(&alpha, &probe, &plain), p.d).unwrap()
    });
    let shift_u = shifted(&|p, s| {
        let (alpha, probe, _) = rep(p, s);
        unpaired(&probe, &alpha, p.d).unwrap()
    });
    println!("by location shift: paired {shift_p:.3e}, unpaired {shift_u:.3e}");
    for (shift, emp) in [(shift_p, emp_p), (shift_u, emp_u)] {
        assert!((shift / emp - 1.0).abs() < 0.05, "{shift} vs {emp}");
    }
    // The pairing is the better design: a smaller detectable gain.
    assert!(claim_p < claim_u);
}

#[test]
fn placebo_prbs_on_a_plain_arm_covers_zero() {
    // The plain arm never applied α; a PRBS used as its regressor anyway has
    // true gain 0.
    let mut cover = 0;
    for s in 0..REPS {
        let (alpha, _, plain) = rep(&PLANT, s);
        cover += covers(unpaired(&plain, &alpha, PLANT.d).unwrap().g_ci, 0.0);
    }
    // Measured: 196 (195 with t quantiles instead of fixed-b).
    println!("placebo: 0 covered in {cover}/200");
    assert!(BAND.contains(&cover), "{cover}");
}

#[test]
fn levels_regressions_under_cover_which_is_why_they_are_not_used() {
    // The same data fitted in levels on [1, t, A_t]: the residual carries
    // the accumulated process noise, a random walk. Measured: OLS intervals
    // cover g in 45 of 200, Newey–West in 84 (the estimators above: 184
    // and 190).
    let p = PLANT;
    let (mut ols, mut hac) = (0, 0);
    for s in 0..REPS {
        let (alpha, probe, _) = rep(&p, s);
        let f = levels_fit(&probe, &alpha, p.d).unwrap();
        let g = -f.beta[2];
        let (q, _) = quantiles(f.df);
        let half = |v: f64| q * v.sqrt();
        cover_add(&mut ols, g, half(f.cov_ols[(2, 2)]), p.g);
        cover_add(&mut hac, g, half(f.cov[(2, 2)]), p.g);
    }
    println!("levels: OLS covers g in {ols}/200, HAC in {hac}/200");
    assert!(ols < 120 && hac < 150, "ols {ols}, hac {hac}");
}

fn cover_add(count: &mut usize, est: f64, half: f64, truth: f64) {
    *count += usize::from((est - truth).abs() < half);
}

#[test]
fn paired_recovers_an_exact_difference_and_pools_seeds() {
    // Noise-free twins: D_t = −g·A_t exactly.
    let alpha = prbs(120, 0.5, 4, 3);
    let a = cumulative_alpha(&alpha, 1);
    let plain: Vec<f64> = (0..120).map(|t| 1.0 - 0.01 * t as f64).collect();
    let probe: Vec<f64> = plain.iter().zip(&a).map(|(h, a)| h - 0.03 * a).collect();
    let e = paired(&pair(&alpha, &probe, &plain), 1).unwrap();
    assert!(
        (e.g - 0.03).abs() < 1e-12 && (e.b + 0.01).abs() < 1e-12,
        "{e:?}"
    );
    assert_eq!(e.design, DesignKind::Paired { seeds: 1 });
    // Two seeds pool their rows.
    let tw = Twin {
        probe: &probe,
        plain: &plain,
        alpha: &alpha,
    };
    let two = paired(&[tw, tw], 1).unwrap();
    assert_eq!(two.n, 240);
    assert_eq!(two.design, DesignKind::Paired { seeds: 2 });
}

/// Seeds under two schedules (α = +1 and −1, each seed's probes twins of
/// its one plain arm): the variance is the spread of the seeds' own pooled
/// slopes, computed here by hand; a seed missing a schedule, or seeds
/// whose schedules differ, fall back to the increments; over 200
/// repetitions of four seeds the interval covers the true `g` in 90–99%.
#[test]
fn seeds_under_several_schedules_are_the_replicates() {
    let p = Plant {
        d: 0,
        steps: 120,
        ..PLANT
    };
    let (up, down) = (vec![1.0; p.steps], vec![-1.0; p.steps]);
    // (plain, probe +1, probe −1) of one seed: the process noise shared,
    // each arm its own measurement noise (as `simulate`, one more arm).
    let seed_runs = |seed: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let w = Normal::new(0.0, p.sigma_w).unwrap();
        let v = Normal::new(0.0, p.sigma_v).unwrap();
        let mut e = [0.5; 3];
        let mut out: [Vec<f64>; 3] = Default::default();
        for _ in 0..p.steps {
            for (o, x) in out.iter_mut().zip(&e) {
                o.push(x + v.sample(&mut rng));
            }
            let wt = w.sample(&mut rng);
            for (x, a) in e.iter_mut().zip([0.0, 1.0, -1.0]) {
                *x += p.b - p.g * a + wt;
            }
        }
        let [plain, pu, pd] = out;
        (plain, pu, pd)
    };
    let runs: Vec<_> = (0..3).map(|s| seed_runs(500 + s)).collect();
    // every −1 twin, then every +1 twin (the order of src/lab/map/measure.rs)
    let mut tw: Vec<Twin<'_>> = runs
        .iter()
        .map(|(q, _, pd)| Twin {
            probe: pd,
            plain: q,
            alpha: &down,
        })
        .collect();
    tw.extend(runs.iter().map(|(q, pu, _)| Twin {
        probe: pu,
        plain: q,
        alpha: &up,
    }));
    let e = paired(&tw, 0).unwrap();
    assert_eq!(e.variance, VarianceSource::SeedSlopes);
    assert_eq!(e.df, 2.0);
    // by hand: each seed's slope of D on A over both of its twins
    let (au, ad) = (cumulative_alpha(&up, 0), cumulative_alpha(&down, 0));
    let aa: f64 = au.iter().chain(&ad).map(|a| a * a).sum();
    let slopes: Vec<f64> = runs
        .iter()
        .map(|(q, pu, pd)| {
            (0..p.steps)
                .map(|t| au[t] * (pu[t] - q[t]) + ad[t] * (pd[t] - q[t]))
                .sum::<f64>()
                / aa
        })
        .collect();
    let m = slopes.iter().sum::<f64>() / 3.0;
    let s2 = slopes.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 2.0;
    assert!((e.g + m).abs() < 1e-12 * m.abs().max(1e-3), "{} {m}", e.g);
    assert!(
        (e.g_se - (s2 / 3.0).sqrt()).abs() < 1e-12 * e.g_se,
        "{}",
        e.g_se
    );
    // the drift from each plain arm once: as from the three plains alone
    let plains: Vec<Twin<'_>> = runs
        .iter()
        .map(|(q, pu, _)| Twin {
            probe: pu,
            plain: q,
            alpha: &up,
        })
        .collect();
    assert_eq!((e.b, e.b_se), {
        let one = paired(&plains, 0).unwrap();
        (one.b, one.b_se)
    });
    // a seed without its −1 twin: no common design, the increments
    let e = paired(&tw[1..], 0).unwrap();
    assert_eq!(e.variance, VarianceSource::Increments);
    // one seed's twins under other schedules (+1 twice): the same
    let mut odd = tw.clone();
    odd[0].alpha = &up;
    assert_eq!(
        paired(&odd, 0).unwrap().variance,
        VarianceSource::Increments
    );
    // the regime map's layout: some seeds under more schedules than others
    // (there 8 seeds of ±1 and 4 of ±0.5): not one design, the increments
    let half = vec![0.5; p.steps];
    let mut uneven = tw.clone();
    uneven.push(Twin {
        probe: &runs[0].1,
        plain: &runs[0].0,
        alpha: &half,
    });
    assert_eq!(
        paired(&uneven, 0).unwrap().variance,
        VarianceSource::Increments
    );
    // coverage over repetitions of four seeds
    let covered: usize = (0..REPS)
        .map(|r| {
            let runs: Vec<_> = (0..4).map(|s| seed_runs(10_000 + 4 * r + s)).collect();
            let mut tw: Vec<Twin<'_>> = Vec::new();
            for (q, pu, pd) in &runs {
                tw.push(Twin {
                    probe: pu,
                    plain: q,
                    alpha: &up,
                });
                tw.push(Twin {
                    probe: pd,
                    plain: q,
                    alpha: &down,
                });
            }
            let e = paired(&tw, 0).unwrap();
            covers(e.g_ci, p.g)
        })
        .sum();
    assert!(
        BAND.contains(&covered),
        "covers the true g in {covered}/{REPS}"
    );
}

#[test]
fn estimators_refuse_what_they_cannot_fit() {
    let (alpha, probe, plain) = rep(&PLANT, 0);
    assert_eq!(paired(&[], 0), Err(IdentError::NoTwins));
    let zero = vec![0.0; alpha.len()];
    assert_eq!(
        paired(&pair(&zero, &probe, &plain), 0),
        Err(IdentError::ConstantAlpha)
    );
    assert_eq!(unpaired(&probe, &zero, 0), Err(IdentError::ConstantAlpha));
    // A constant α through a lag is a start-up ramp, still no design.
    let one = vec![1.0; alpha.len()];
    assert_eq!(
        unpaired_lagged(&probe, &one, 0, 0.9),
        Err(IdentError::ConstantAlpha)
    );
    assert!(matches!(
        unpaired_lagged(&probe, &alpha, 0, 1.0),
        Err(IdentError::BadLag { .. })
    ));
    assert!(matches!(
        unpaired(&probe[..10], &alpha, 0),
        Err(IdentError::LengthMismatch { .. })
    ));
    let mut bad = alpha.clone();
    bad[7] = f64::NAN;
    assert_eq!(unpaired(&probe, &bad, 0), Err(IdentError::NonFiniteAlpha));
    let short = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
    assert!(matches!(
        unpaired(&probe[..8], &short, 0),
        Err(IdentError::TooFewSteps { .. })
    ));
    assert!(matches!(
        unpaired(&[], &[], 0),
        Err(IdentError::TooFewSteps { .. })
    ));
    // A non-finite entropy skips its rows instead.
    let mut gap = probe.clone();
    gap[50] = f64::NAN;
    let u = unpaired(&gap, &alpha, PLANT.d).unwrap();
    assert_eq!(u.skipped_nan, 2);
}

#[test]
fn manchester_prbs_returns_to_zero_and_is_drawn_and_checked_as_one() {
    // One coin per 2·hold steps (the coins of `prbs` with hold 1), played
    // then negated; the cumulative α is 0 at every multiple of 2·hold and
    // never further than hold·amplitude from it.
    let (h, amp) = (5, 0.7);
    let m = prbs_manchester(103, amp, h, 42);
    assert_eq!(m, prbs_manchester(103, amp, h, 42));
    assert_ne!(m, prbs_manchester(103, amp, h, 43));
    assert_eq!(m.len(), 103);
    // Two levels, each half-block constant, the second half the first's
    // opposite (the last block cut at step 103), and both signs of coin.
    assert!(m.iter().all(|&x| x == amp || x == -amp));
    for (b, block) in m.chunks(2 * h).enumerate() {
        let (first, second) = block.split_at(h.min(block.len()));
        assert!(first.iter().all(|&x| x == first[0]), "block {b}");
        assert!(second.iter().all(|&x| x == -first[0]), "block {b}");
    }
    let starts: Vec<f64> = m.iter().step_by(2 * h).copied().collect();
    assert!(
        starts.contains(&amp) && starts.contains(&-amp),
        "{starts:?}"
    );
    let cum = cumulative_alpha(&m, 0);
    for (t, &c) in cum.iter().enumerate() {
        assert!(c.abs() <= h as f64 * amp + 1e-12, "step {t}: {c}");
        if t % (2 * h) == 0 {
            assert!(c.abs() < 1e-12, "step {t}: {c}");
        }
    }
    // A Manchester design draws Manchester schedules, which its check
    // accepts; it counts a block per coin (2·hold steps).
    let draw = PrbsDraw::from_step_0(0.0, 1.0, 10).coded(Coding::Manchester);
    assert_eq!(draw.blocks(300), 15);
    assert_eq!(PrbsDraw::from_step_0(0.0, 1.0, 10).blocks(300), 30);
    let d = draw.draw(&[], 300, 7);
    draw.check(&d).unwrap();
    let from = PrbsDraw::from_schedule(&d, 10, 0, None, Coding::Manchester).unwrap();
    assert_eq!(from, draw);
    // An NRZ schedule whose coins repeat is not a Manchester draw, and too
    // few coins (5 of 2·10 steps) are refused.
    let nrz = prbs(300, 1.0, 10, 7);
    let err = draw.check(&nrz).unwrap_err();
    assert!(err.to_string().contains("Manchester-coded"), "{err}");
    let err = draw.check(&d[..100]).unwrap_err();
    assert!(err.to_string().contains("5 block(s)"), "{err}");
    // A prelude held fixed, and a run that goes on after its PRBS holding
    // the last level: a draw of the design whose length is given, not of
    // one that takes the held tail for PRBS.
    let mut log = vec![0.25; 7];
    log.extend(prbs_manchester(240, 0.5, 10, 3).iter().map(|x| x + 0.25));
    let last = *log.last().unwrap();
    log.resize(300, last);
    let given = PrbsDraw::from_schedule(&log, 10, 7, Some(240), Coding::Manchester).unwrap();
    assert_eq!(
        (given.center, given.amplitude, given.blocks(300)),
        (0.25, 0.5, 12)
    );
    let redrawn = given.draw(&log, 300, 11);
    assert_eq!(&redrawn[..7], &log[..7]);
    given.check(&redrawn).unwrap();
    let err = PrbsDraw::from_schedule(&log, 10, 7, None, Coding::Manchester).unwrap_err();
    assert!(err.to_string().contains("give the PRBS's length"), "{err}");
    // A hold that overflows the block length is refused, not a panic.
    let huge = PrbsDraw::from_step_0(0.0, 1.0, usize::MAX).coded(Coding::Manchester);
    assert_eq!(huge.blocks(300), 1);
    assert!(huge.check(&d).is_err());
    assert_eq!("manchester".parse::<Coding>(), Ok(Coding::Manchester));
    assert!("gray".parse::<Coding>().is_err());
}

#[test]
fn prbs_is_deterministic_two_level_and_holds() {
    let a = prbs(500, 0.7, 6, 42);
    assert_eq!(a, prbs(500, 0.7, 6, 42));
    assert_ne!(a, prbs(500, 0.7, 6, 43));
    assert_eq!(a.len(), 500);
    assert!(a.iter().all(|&x| x == 0.7 || x == -0.7));
    // Every run but the last lasts at least the hold.
    let mut runs = vec![1];
    for w in a.windows(2) {
        if w[0] == w[1] {
            *runs.last_mut().unwrap() += 1;
        } else {
            runs.push(1);
        }
    }
    runs.pop();
    assert!(runs.iter().all(|&r| r >= 6), "{runs:?}");
    // Balanced and uncorrelated with time (loose: 500 steps, 84 draws).
    let mean = a.iter().sum::<f64>() / 500.0;
    assert!(mean.abs() < 0.25, "{mean}");
    assert_eq!(nw_bandwidth(300), 5);
    assert_eq!(nw_bandwidth(100), 4);
    assert_eq!(nw_bandwidth(3), 1);
    assert_eq!(
        cumulative_alpha(&[1.0, 2.0, 3.0, 4.0], 1),
        vec![0.0, 0.0, 1.0, 3.0]
    );
}

/// The true state-dependent plant of the windowed test: `g(H) = 0.02·H²`
/// (falling as the entropy falls, docs/mathematics.md §8), drift −0.001.
fn g_of(h: f64) -> f64 {
    0.02 * h * h
}
const B_STATE: f64 = -0.0012;

/// Probe and plain twin on the state-dependent plant (process noise shared,
/// measurement noise per arm), from `H = 1`.
fn state_twins(alpha: &[f64], seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (w, v) = (
        Normal::new(0.0, 0.002).unwrap(),
        Normal::new(0.0, 0.004).unwrap(),
    );
    let (mut hp, mut hq) = (1.0, 1.0);
    let (mut probe, mut plain) = (Vec::new(), Vec::new());
    for &a in alpha {
        probe.push(hp + v.sample(&mut rng));
        plain.push(hq + v.sample(&mut rng));
        let wt = w.sample(&mut rng);
        hp += B_STATE - g_of(hp) * a + wt;
        hq += B_STATE + wt;
    }
    (probe, plain)
}

#[test]
fn windowed_gain_falls_with_entropy_and_the_state_loop_reproduces_an_arm() {
    use crate::linear::{simulate as linear_simulate, IntegralForm, LoopParams};
    let steps = 600;
    let data: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = (0..4)
        .map(|s| {
            let a = prbs(steps, 0.1, 10, 50 + s);
            let (p, q) = state_twins(&a, s);
            (a, p, q)
        })
        .collect();
    let twins: Vec<Twin> = data
        .iter()
        .map(|(a, p, q)| Twin {
            probe: p,
            plain: q,
            alpha: a,
        })
        .collect();
    let w = paired_windows(&twins, 0, 150).unwrap();
    assert_eq!(w.len(), 4);
    for x in &w {
        println!(
            "window {}..{}: mean H {:.3}, g {:.4} [{:.4}, {:.4}] (true at mean H {:.4}), b {:.2e}",
            x.start,
            x.end,
            x.mean_entropy,
            x.estimate.g,
            x.estimate.g_ci.0,
            x.estimate.g_ci.1,
            g_of(x.mean_entropy),
            x.estimate.b
        );
    }
    // Entropy and gain fall window by window; the first and last intervals
    // do not overlap. Measured (g, true g at the window's mean H): 0.0160
    // (0.0169), 0.0105 (0.0111), 0.0069 (0.0059), 0.0029 (0.0027).
    assert!(w.windows(2).all(|p| p[1].mean_entropy < p[0].mean_entropy));
    assert!(w.windows(2).all(|p| p[1].estimate.g < p[0].estimate.g));
    assert!(w[3].estimate.g_ci.1 < w[0].estimate.g_ci.0);
    // An arm under PI control on the true plant (noise-free), started above
    // the target: α > 0 early spends the authority the loop needs later.
    let (target, kp, ki, amax, d): (f64, f64, f64, f64, usize) = (0.5, 5.0, 0.05, 0.15, 0);
    let mut h = 1.0;
    let (mut integral, mut arm) = (0.0, Vec::new());
    for _ in 0..steps {
        let e = h - target;
        let a = (kp * e + ki * integral).clamp(-amax, amax);
        integral += e;
        arm.push(e);
        h += B_STATE - g_of(h) * a;
    }
    let final_arm = arm[steps - 1];
    let table = StatePlant::from_windows(&w);
    let sim = table.simulate(
        target,
        0.5,
        (kp, ki, IntegralForm::Before),
        d,
        amax,
        None,
        steps,
    );
    let final_state = sim[steps - 1].0;
    // The constant-gain loop at the first window's gain, for contrast.
    let lin = linear_simulate(
        &LoopParams {
            gain: w[0].estimate.g,
            delay: d,
            kp,
            ki,
            drift: w[0].estimate.b,
            form: IntegralForm::Before,
        },
        0.5,
        steps,
        amax,
    );
    let final_lin = lin[steps - 1].0;
    // Measured: arm −0.548, state-dependent loop −0.456 (17% off), the
    // constant-gain loop +0.008 (it predicts the target is held).
    println!("final error: arm {final_arm:.4}, state-dependent loop {final_state:.4}, constant-gain loop {final_lin:.4}");
    assert!(final_lin.abs() < 0.1 * final_arm.abs());
    assert!(
        (final_state - final_arm).abs() <= 0.25 * final_arm.abs(),
        "{final_state} vs {final_arm}"
    );
}

#[test]
fn too_few_steps_names_the_real_delay_and_skipped_rows() {
    // 10 steps give 9 differences; one NaN entropy removes 2 of them.
    let alpha = prbs(10, 1.0, 2, 5);
    let mut h: Vec<f64> = (0..10).map(|t| 1.0 - 0.01 * t as f64).collect();
    h[4] = f64::NAN;
    let err = unpaired(&h, &alpha, 3).unwrap_err();
    assert_eq!(
        err,
        IdentError::TooFewSteps {
            rows: 7,
            minimum: crate::ident::MIN_ROWS,
            skipped: 2,
            d: 3
        }
    );
    assert!(err.to_string().contains("delay 3 (2 rows skipped"), "{err}");
    // The paired fit: 8 steps, one NaN in the probe.
    let alpha = prbs(8, 1.0, 2, 5);
    let plain: Vec<f64> = (0..8).map(|t| 1.0 - 0.01 * t as f64).collect();
    let mut probe = plain.clone();
    probe[2] = f64::NAN;
    let err = paired(&pair(&alpha, &probe, &plain), 1).unwrap_err();
    assert_eq!(
        err,
        IdentError::TooFewSteps {
            rows: 7,
            minimum: crate::ident::MIN_ROWS,
            skipped: 1,
            d: 1
        }
    );
}

#[test]
fn unpaired_windows_follow_an_ageing_plant_and_the_time_plant_replays_it() {
    use crate::linear::{simulate, simulate_varying, IntegralForm, LoopParams};
    // Noise-free plant whose gain doubles and drift triples at step 100.
    let (n, d) = (200, 1);
    let alpha = prbs(n, 1.0, 5, 9);
    let bg = |t: usize| {
        if t < 100 {
            (-0.001, 0.002)
        } else {
            (-0.003, 0.004)
        }
    };
    let mut h = vec![1.0];
    for t in 0..n - 1 {
        let a = if t >= d { alpha[t - d] } else { 0.0 };
        let (b, g) = bg(t);
        h.push(h[t] + b - g * a);
    }
    let w = unpaired_windows(&h, &alpha, d, 100).unwrap();
    assert_eq!(w.len(), 2);
    assert_eq!(
        (w[0].start, w[0].end, w[1].start, w[1].end),
        (0, 100, 100, 200)
    );
    for (x, t) in w.iter().zip([0, 100]) {
        let (b, g) = bg(t);
        assert!((x.estimate.g - g).abs() < 1e-9, "{:?}", x.estimate);
        assert!((x.estimate.b - b).abs() < 1e-9, "{:?}", x.estimate);
        assert_eq!(x.estimate.d, d);
    }
    let tp = TimePlant::from_windows(&w);
    let near = |x: (f64, f64), y: (f64, f64)| (x.0 - y.0).abs() < 1e-9 && (x.1 - y.1).abs() < 1e-9;
    assert!(near(tp.at(99), bg(99)));
    assert!(near(tp.at(100), bg(100)));
    assert!(near(tp.at(10_000), bg(150)));
    // A constant plant through simulate_varying is simulate, bit for bit.
    let p = LoopParams {
        gain: 0.002,
        delay: 1,
        kp: 40.0,
        ki: 0.5,
        drift: -0.001,
        form: IntegralForm::Before,
    };
    assert_eq!(
        simulate(&p, 0.3, 100, 2.0),
        simulate_varying(&p, &|_| (p.drift, p.gain), 0.3, 100, 2.0)
    );
    // The ageing plant replayed: the second half's stronger gain shows.
    let ageing = simulate_varying(&p, &|t| tp.at(t), 0.3, 200, 2.0);
    assert_ne!(ageing, simulate(&p, 0.3, 200, 2.0));
}

/// The must-show plant's PRBS as a [`PrbsDraw`] (what [`rep`] draws).
const DRAW: PrbsDraw = PrbsDraw::from_step_0(0.0, 1.0, HOLD);

#[test]
fn randomized_intervals_cover_the_true_gain_and_zero_on_the_placebo() {
    let p = PLANT;
    let (mut g_cov, mut placebo) = (0, 0);
    for s in 0..REPS {
        let (alpha, probe, plain) = rep(&p, s);
        let e = unpaired_randomized(&probe, &alpha, p.d, 0.0, &DRAW, 5000 + s).unwrap();
        g_cov += covers(e.g_ci, p.g);
        let z = unpaired_randomized(&plain, &alpha, p.d, 0.0, &DRAW, 5000 + s).unwrap();
        placebo += covers(z.g_ci, 0.0);
    }
    // Measured: g covered in 194, 0 on the placebo in 190 (of 200).
    println!("randomized: g covered in {g_cov}/200, placebo covers 0 in {placebo}/200");
    assert!(BAND.contains(&g_cov), "g covered {g_cov}/200");
    assert!(BAND.contains(&placebo), "placebo covered {placebo}/200");
}

#[test]
fn randomized_detectable_gain_matches_the_simulated_80_percent_power_gain() {
    let (emp, claim) = empirical_power_gain(|p, s| {
        let (alpha, probe, _) = rep(p, s);
        unpaired_randomized(&probe, &alpha, p.d, 0.0, &DRAW, 5000 + s).unwrap()
    });
    // Measured: 7.86e-4, reported 7.15e-4 (0.91 of it).
    println!("randomized 80%-power gain {emp:.3e} (reported {claim:.3e})");
    let ratio = claim / emp;
    assert!((1.0 / 1.5..=1.5).contains(&ratio), "{claim} vs {emp}");
}

#[test]
fn randomized_interval_collapses_on_an_exact_plant_and_checks_the_design() {
    // Noise-free: H = 1 + 0.01·t − 0.03·A exactly; every re-draw's
    // breakpoint is the true slope, so the interval is the point.
    let alpha = prbs(120, 1.0, 4, 3);
    let a = cumulative_alpha(&alpha, 1);
    let h: Vec<f64> = (0..120)
        .map(|t| 1.0 + 0.01 * t as f64 - 0.03 * a[t])
        .collect();
    let draw = PrbsDraw {
        min_hold: 4,
        ..DRAW
    };
    let e = unpaired_randomized(&h, &alpha, 1, 0.0, &draw, 1).unwrap();
    assert!((e.g - 0.03).abs() < 1e-12, "{e:?}");
    assert!(
        (e.g_ci.0 - 0.03).abs() < 1e-9 && (e.g_ci.1 - 0.03).abs() < 1e-9,
        "{e:?}"
    );
    assert_eq!(
        e.design,
        DesignKind::UnpairedRandomized {
            draws: RANDOMIZATION_DRAWS
        }
    );
    // A schedule that is not a draw of the stated design is refused.
    let wrong_hold = PrbsDraw {
        min_hold: 7,
        ..DRAW
    };
    let err = unpaired_randomized(&h, &alpha, 1, 0.0, &wrong_hold, 1).unwrap_err();
    assert!(matches!(err, IdentError::NotADraw { .. }), "{err}");
    let mut off = alpha.clone();
    off[50] = 0.5;
    let err = unpaired_randomized(&h, &off, 1, 0.0, &draw, 1).unwrap_err();
    assert!(err.to_string().contains("step 50"), "{err}");
    // A lagged plant, ΔH_t = b − g·x_t with x the geometric lag 0.9 of α:
    // the same exactness with lag 0.9, and a lag outside [0, 1) refused.
    let (mut x, mut hl) = (0.0, vec![1.0]);
    for t in 0..119 {
        x = 0.9 * x + 0.1 * alpha[t];
        hl.push(hl[t] + 0.01 - 0.03 * x);
    }
    let e = unpaired_randomized(&hl, &alpha, 0, 0.9, &draw, 1).unwrap();
    assert!((e.g - 0.03).abs() < 1e-9, "{e:?}");
    assert!(
        (e.g_ci.0 - 0.03).abs() < 1e-6 && (e.g_ci.1 - 0.03).abs() < 1e-6,
        "{e:?}"
    );
    assert!((e.b - 0.01).abs() < 1e-9, "{e:?}");
    assert!(matches!(
        unpaired_randomized(&hl, &alpha, 0, 1.0, &draw, 1),
        Err(IdentError::BadLag { .. })
    ));
    // The prelude is held: a draw keeps it and switches only after start.
    let pre = PrbsDraw {
        start: 10,
        center: -1.0,
        ..DRAW
    };
    let mut sched = vec![4.0; 10];
    sched.extend(prbs(90, 1.0, HOLD, 9).iter().map(|x| x - 1.0));
    pre.check(&sched).unwrap();
    let d = pre.draw(&sched, 100, 42);
    assert_eq!(&d[..10], &sched[..10]);
    pre.check(&d).unwrap();
    // A PRBS shorter than the log: its last level held after `len` steps,
    // in the draws too; a log that moves after it is not a draw.
    let short = PrbsDraw {
        len: Some(60),
        ..pre
    };
    let mut held = sched[..70].to_vec();
    held.resize(100, sched[69]);
    short.check(&held).unwrap();
    let d = short.draw(&held, 100, 7);
    assert!(d[70..].iter().all(|&x| x == d[69]), "{d:?}");
    let mut moved = held.clone();
    moved[85] = if held[69] == 0.0 { -2.0 } else { 0.0 };
    let err = short.check(&moved).unwrap_err();
    assert!(err.to_string().contains("step 85"), "{err}");
    // Too few blocks for a 5% test (5 < MIN_BLOCKS), and designs that
    // cannot switch, are refused; drawing them does not loop.
    let few = PrbsDraw {
        len: Some(50),
        ..pre
    };
    let err = few.check(&held).unwrap_err();
    assert!(err.to_string().contains("5 block(s)"), "{err}");
    let one = PrbsDraw {
        min_hold: 200,
        ..DRAW
    };
    assert!(one.check(&alpha).is_err());
    assert_eq!(one.draw(&[], 100, 1).len(), 100);
    let flat = PrbsDraw {
        amplitude: 0.0,
        ..DRAW
    };
    assert!(flat.check(&alpha).is_err());
    assert_eq!(flat.draw(&[], 100, 1), vec![0.0; 100]);
}

/// [`paired_df`] is what [`paired`] reports: one seed (one schedule and
/// two), two and three seeds on one schedule, four, and seeds under two
/// schedules, and too few rows to compare seeds.
#[test]
fn paired_df_is_the_fits_own() {
    let p = Plant {
        d: 0,
        steps: 80,
        ..PLANT
    };
    let alpha = prbs(p.steps, 1.0, 4, 11);
    let other: Vec<f64> = alpha.iter().map(|a| -a).collect();
    // (probe under `alpha`, plain, probe under `other`) of a seed: the
    // second probe's twin shares the plain arm.
    let runs: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = (0..4)
        .map(|s| {
            let (probe, plain) = simulate(&p, &alpha, 700 + s);
            let (probe2, _) = simulate(&p, &other, 700 + s);
            (probe, plain, probe2)
        })
        .collect();
    let one = |j: usize| -> Vec<Twin<'_>> {
        runs[..j]
            .iter()
            .map(|(probe, plain, _)| Twin {
                probe,
                plain,
                alpha: &alpha,
            })
            .collect()
    };
    let two = |j: usize| -> Vec<Twin<'_>> {
        let mut v = one(j);
        v.extend(runs[..j].iter().map(|(_, plain, probe2)| Twin {
            probe: probe2,
            plain,
            alpha: &other,
        }));
        v
    };
    for (twins, seeds, schedules) in [
        (one(1), 1, 1),
        (two(1), 1, 2),
        (one(2), 2, 1),
        (one(3), 3, 1),
        (one(4), 4, 1),
        (two(2), 2, 2),
        (two(3), 3, 2),
    ] {
        let e = paired(&twins, 0).unwrap();
        assert_eq!(
            e.df,
            paired_df(seeds, schedules, p.steps),
            "{seeds} seed(s), {schedules} schedule(s): {:?}",
            e.variance
        );
    }
    // Rows too few to compare the seeds step by step (8 < MIN_ROWS): the
    // increments of all rows, whatever the seeds.
    let short = Plant { steps: 8, ..p };
    let a8 = &alpha[..8];
    let runs8: Vec<(Vec<f64>, Vec<f64>)> = (0..4).map(|s| simulate(&short, a8, 800 + s)).collect();
    for j in [2, 4] {
        let tw: Vec<Twin<'_>> = runs8[..j]
            .iter()
            .map(|(probe, plain)| Twin {
                probe,
                plain,
                alpha: a8,
            })
            .collect();
        let e = paired(&tw, 0).unwrap();
        assert_eq!(e.variance, VarianceSource::Increments);
        assert_eq!(e.df, paired_df(j, 1, 8));
    }
    assert!(paired_df(0, 1, 10).is_nan() && paired_df(2, 0, 10).is_nan());
    // 4.16 at three degrees of freedom, 2.80 for many
    assert!((detectable_multiplier(3.0) - 4.1609).abs() < 1e-3);
    assert!((detectable_multiplier(1e4) - POWER_Z_SUM).abs() < 1e-3);
}

/// `z_{0.975} + z_{0.80}`.
const POWER_Z_SUM: f64 = 1.959_964 + 0.841_621;

#[test]
fn variance_source_names_are_its_json_names() {
    use VarianceSource::*;
    for v in [
        NeweyWest,
        Increments,
        BetweenSeeds,
        SeedSlopes,
        Randomization,
    ] {
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, format!("\"{}\"", v.name()));
        assert_eq!(serde_json::from_str::<VarianceSource>(&json).unwrap(), v);
    }
}
