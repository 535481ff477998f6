//! Library-level tests of `tune`'s refusals and outputs (issue 12, item 8).
use super::*;
use crate::ident::Fit;
use crate::ident_power;
use crate::linear::IntegralForm;
use entropic_sim::control::{ControlConfig, Measure, Method, Scope, Threshold, Weighting};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// `H_{t+1} = H_t + b − g·α_{t−d} + w_t` with α from `law(t, H_t, I_{t−1})`
/// (`I` the running sum of `H − target` before this step).
fn run(
    (b, g, d): (f64, f64, usize),
    steps: usize,
    sigma: f64,
    seed: u64,
    law: impl Fn(usize, f64, f64) -> f64,
) -> Series {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let w = Normal::new(0.0, sigma).unwrap();
    let (mut h, mut a, mut integral) = (vec![1.3], Vec::new(), 0.0);
    for t in 0..steps {
        a.push(law(t, h[t], integral));
        integral += h[t] - 1.0;
        if t + 1 < steps {
            let ad = if t >= d { a[t - d] } else { 0.0 };
            h.push(h[t] + b - g * ad + w.sample(&mut rng));
        }
    }
    Series {
        source: "test".into(),
        step: (0..steps).map(|t| t as f64).collect(),
        entropy: h,
        alpha: a,
        ..Series::default()
    }
}

const PLANT: (f64, f64, usize) = (-0.002, 0.01, 1);

fn probe(steps: usize, seed: u64) -> Series {
    let sched = ident_power::prbs(steps, 0.5, 10, seed);
    run(PLANT, steps, 1e-3, seed, move |t, _, _| sched[t])
}

#[test]
fn probe_logs_pass_the_open_loop_check() {
    for seed in 0..20 {
        let c = check_open_loop(&probe(300, seed)).expect("a probe is open loop");
        assert!(c.corr_alpha_entropy.abs() < 0.6, "{c:?}");
        // A two-level probe is at its largest |α| on every row: no
        // unsaturated rows to regress on (NaN), which passes.
        assert!(
            c.r2_alpha_on_error.is_nan() || c.r2_alpha_on_error <= 0.9,
            "{c:?}"
        );
    }
}

#[test]
fn closed_loop_logs_are_refused_with_the_reason() {
    // P control, unclipped: α_t = 2·(H_t − 1), corr = 1.
    let p = run(PLANT, 300, 1e-3, 1, |_, h, _| 2.0 * (h - 1.0));
    let e = identify(&p, None).unwrap_err();
    assert!(matches!(e, TuneError::NotOpenLoop { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("corr") && msg.contains("P control") && msg.contains("probe"),
        "{msg}"
    );
    // PI control clipped to ±0.05 and saturated part of the time: the
    // correlation alone does not catch it, α's dependence on H_t and its
    // running sum on the unsaturated steps does.
    let pi = run(PLANT, 300, 1e-3, 2, |_, h, i| {
        (0.5 * (h - 1.0) + 0.01 * i).clamp(-0.05, 0.05)
    });
    let sat = pi.alpha.iter().filter(|a| a.abs() == 0.05).count();
    assert!(
        (30..270).contains(&sat),
        "the case needs some saturation: {sat}"
    );
    let e = check_open_loop(&pi).unwrap_err();
    assert!(e.to_string().contains("running sum"), "{e}");
    // Stuck at one clip (as the official PI arm was 99.8% of the time): α
    // is constant but for a few steps, and the fit explains nothing.
    let stuck = run((0.0, 0.01, 1), 300, 1e-3, 7, |t, _, _| {
        if t % 150 == 0 {
            0.049
        } else {
            0.05
        }
    });
    let e = identify_with_power(&stuck, None, Some(1), None, 0.0).unwrap_err();
    assert!(
        matches!(
            e,
            TuneError::NotIdentified { .. } | TuneError::ExplainsNothing { .. }
        ),
        "{e}"
    );
    // The same with a gentle PI that never saturates.
    let pi = run(PLANT, 300, 1e-3, 3, |_, h, i| 0.5 * (h - 1.0) + 0.01 * i);
    assert!(matches!(
        identify_with_power(&pi, None, Some(1), None, 0.0),
        Err(TuneError::NotOpenLoop { .. })
    ));
}

#[test]
fn a_fit_that_explains_nothing_is_refused() {
    // The plant has no gain: the estimator's interval holds 0, and the
    // refusal names the detectable g and the verdict of docs/mathematics.md §9.
    let sched = ident_power::prbs(300, 0.5, 10, 9);
    let flat = run((-0.002, 0.0, 1), 300, 1e-3, 9, |t, _, _| sched[t]);
    match identify_with_power(&flat, None, Some(1), None, 0.0) {
        Err(
            e @ TuneError::NotIdentified {
                verdict,
                detectable,
                lo,
                hi,
                caveat,
                ..
            },
        ) => {
            // read with Newey–West: the refusal says what that assumes
            assert_eq!(caveat, Some(NEWEY_WEST_CAVEAT));
            assert!(e.to_string().contains("is approximate"), "{e}");
            assert!(lo < 0.0 && hi > 0.0);
            assert!(detectable > 0.0 && detectable.is_finite());
            // 300 steps of noise 1e-3 detect far less than the drift 0.002.
            assert_eq!(verdict, "no authority beyond the drift");
        }
        other => panic!("{other:?}"),
    }
    // A significant but negligible gain: R² below the threshold.
    let fit = Fit {
        b: -0.002,
        g: 0.01,
        d: 0,
        b_ci: (-0.003, -0.001),
        g_ci: (0.001, 0.02),
        b_se: 5e-4,
        g_se: 4e-3,
        residual_rms: 0.1,
        n: 5000,
        r2: 0.0082,
        skipped_nan: 0,
    };
    let spec = DesignSpec {
        settle: 50,
        target: 1.0,
        band: None,
        e0: 0.3,
        alpha_max: f64::INFINITY,
        form: IntegralForm::Before,
        max_overshoot: 0.25,
    };
    let e = recommend(&fit, &spec).unwrap_err();
    assert!(matches!(e, TuneError::ExplainsNothing { .. }), "{e}");
    assert!(e.to_string().contains("0.0082"), "{e}");
    // And a gain whose interval holds 0 reports the detectable g.
    let e = recommend(
        &Fit {
            g_ci: (-0.001, 0.02),
            r2: 0.5,
            ..fit
        },
        &spec,
    )
    .unwrap_err();
    assert!(e.to_string().contains("80% power"), "{e}");
}

#[test]
fn a_good_probe_is_identified_paired_or_unpaired_and_recommended() {
    let s = probe(300, 4);
    let id = identify_with_power(&s, None, None, None, 0.0).expect("unpaired");
    assert_eq!(id.estimate.design, ident_power::DesignKind::Unpaired);
    assert_eq!(id.estimate.d, 1);
    assert!(id.fit.g_ci.0 < 0.01 && 0.01 < id.fit.g_ci.1, "{:?}", id.fit);
    // Its plain twin: the same noise without α (so D is exactly −g·A).
    let plain = run(PLANT, 300, 1e-3, 4, |_, _, _| 0.0);
    let id2 = identify_with_power(&s, Some(&plain), Some(1), None, 0.0).expect("paired");
    assert_eq!(
        id2.estimate.design,
        ident_power::DesignKind::Paired { seeds: 1 }
    );
    assert!((id2.fit.g - 0.01).abs() < 1e-9, "{:?}", id2.fit);
    assert!(id2.estimate.g_detectable < id.estimate.g_detectable);
    // Each interval says what it rests on: Newey–West's variance model,
    // one seed's model of the noise in time.
    assert_eq!(id.interval_caveat, Some(NEWEY_WEST_CAVEAT));
    assert_eq!(id2.interval_caveat, Some(PAIRED_FEW_SEEDS_CAVEAT));
    // A twin that applied α, or of another length, is refused.
    assert!(matches!(
        identify_with_power(&s, Some(&s), Some(1), None, 0.0),
        Err(TuneError::BadTwin(_))
    ));
    let short = run(PLANT, 200, 1e-3, 4, |_, _, _| 0.0);
    assert!(matches!(
        identify_with_power(&s, Some(&short), Some(1), None, 0.0),
        Err(TuneError::BadTwin(_))
    ));
    let spec = DesignSpec {
        settle: 60,
        target: 1.0,
        band: None,
        e0: 0.3,
        alpha_max: f64::INFINITY,
        form: IntegralForm::Before,
        max_overshoot: 0.25,
    };
    let r = recommend(&id.fit, &spec).expect("recommend");
    assert_eq!(r.alpha_max, f64::INFINITY);
}

#[test]
fn the_snippet_carries_every_key_the_prediction_assumed() {
    let s = probe(300, 5);
    let id = identify_with_power(&s, None, None, None, 0.0).expect("identify");
    let spec = DesignSpec {
        settle: 60,
        target: 1.0,
        band: None,
        e0: 0.3,
        alpha_max: f64::INFINITY,
        form: IntegralForm::After,
        max_overshoot: 0.25,
    };
    let r = recommend(&id.fit, &spec).expect("recommend");
    let probe_cfg = ControlConfig {
        method: Method::Probe,
        scope: Scope::All,
        weighting: Weighting::default(),
        threshold: Threshold::default(),
        measure: Measure::default(),
        tau: 0.9,
        ..ControlConfig::default()
    };
    let snip = scenario_snippet_with(&r, &probe_cfg);
    let base =
        "seeds = 1\nsteps = 20\n[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n";
    let sc = entropic_sim::scenario::parse("tuned.toml", "tuned", &format!("{base}{snip}"))
        .unwrap_or_else(|e| panic!("{e}\n{snip}"));
    let c = &sc.runs[0].control;
    // Every key read back equals what the prediction assumed.
    assert_eq!(c.method, Method::Entropic);
    assert_eq!(c.alpha_max, f64::INFINITY);
    assert_eq!(c.integral_form, IntegralForm::After);
    assert!(!c.anti_windup);
    assert_eq!(c.target, 1.0);
    assert_eq!(fmt_gain(c.kp), fmt_gain(r.kp));
    assert_eq!(fmt_gain(c.ki), fmt_gain(r.ki));
    assert_eq!(
        (c.scope, c.weighting, c.threshold, c.measure, c.tau),
        (
            probe_cfg.scope,
            probe_cfg.weighting,
            probe_cfg.threshold,
            probe_cfg.measure,
            0.9
        )
    );
    // The scope differs from the default, so omitting it would change the
    // run: the plain snippet must at least carry the clip and say so.
    assert_ne!(Scope::All, ControlConfig::default().scope);
    let plain = scenario_snippet(&r);
    assert!(
        plain.contains("alpha_max = inf") && plain.contains("scope"),
        "{plain}"
    );
    let sc = entropic_sim::scenario::parse("t.toml", "t", &format!("{base}{plain}"))
        .unwrap_or_else(|e| panic!("{e}\n{plain}"));
    assert_eq!(sc.runs[0].control.alpha_max, f64::INFINITY);
}

#[test]
fn a_csv_in_reverse_step_order_is_ordered_by_step() {
    let s = probe(200, 6);
    let mut fwd = String::from("step,entropy,alpha\n");
    for t in 0..200 {
        fwd += &format!("{t},{},{}\n", s.entropy[t], s.alpha[t]);
    }
    let mut lines: Vec<&str> = fwd.lines().skip(1).collect();
    lines.reverse();
    let rev = format!("step,entropy,alpha\n{}\n", lines.join("\n"));
    let a = parse_csv(&fwd, &Columns::default()).unwrap();
    let b = parse_csv(&rev, &Columns::default()).unwrap();
    assert_eq!(
        (a.step.clone(), a.entropy.clone()),
        (b.step.clone(), b.entropy.clone())
    );
    assert_eq!(a.alpha, b.alpha);
    assert!(b.source.contains("ordered by step"), "{}", b.source);
    assert!(!a.source.contains("ordered"));
    let (fa, fb) = (
        identify(&a, Some(1)).unwrap(),
        identify(&b, Some(1)).unwrap(),
    );
    assert_eq!(fa.fit, fb.fit);
    // A missing step where the order is needed is refused.
    let holed = rev.replacen("199,", ",", 1);
    assert!(matches!(
        parse_csv(&holed, &Columns::default()),
        Err(TuneError::UnorderableSteps { row: 1 })
    ));
}

#[test]
fn seeds_pool_into_one_paired_fit_and_four_on_one_schedule_need_no_caveat() {
    use ident_power::VarianceSource as V;
    // Four seeds of one schedule (each probe beside its plain twin: the
    // same process noise, plus the probe's own measurement noise), then
    // four seeds each on its own schedule.
    let shared = ident_power::prbs(300, 0.5, 10, 7);
    let arms = |own: bool| -> Vec<(Series, Series)> {
        (0..4u64)
            .map(|s| {
                let sched = if own {
                    ident_power::prbs(300, 0.5, 10, 50 + s)
                } else {
                    shared.clone()
                };
                let mut probe = run(PLANT, 300, 1e-3, 100 + s, move |t, _, _| sched[t]);
                let mut rng = ChaCha8Rng::seed_from_u64(900 + s);
                let v = Normal::new(0.0, 5e-4).unwrap();
                for h in &mut probe.entropy {
                    *h += v.sample(&mut rng);
                }
                (probe, run(PLANT, 300, 1e-3, 100 + s, |_, _, _| 0.0))
            })
            .collect()
    };
    for (own, caveat) in [(false, None), (true, Some(PAIRED_FEW_SEEDS_CAVEAT))] {
        let pairs = arms(own);
        let refs: Vec<(&Series, &Series)> = pairs.iter().map(|(p, q)| (p, q)).collect();
        let id = identify_paired_seeds(&refs, Some(1)).expect("pooled");
        assert_eq!(
            id.estimate.design,
            ident_power::DesignKind::Paired { seeds: 4 }
        );
        let (lo, hi) = id.fit.g_ci;
        assert!(lo < 0.01 && 0.01 < hi && hi - lo < 1e-3, "[{lo}, {hi}]");
        assert_eq!(id.interval_caveat, caveat, "own schedules: {own}");
        let source = if own { V::Increments } else { V::SeedSlopes };
        assert_eq!(id.estimate.variance, source);
        // Three of them: too few for the seeds' own spread.
        let id3 = identify_paired_seeds(&refs[..3], Some(1)).expect("pooled");
        assert_eq!(id3.interval_caveat, Some(PAIRED_FEW_SEEDS_CAVEAT));
        let source = if own { V::Increments } else { V::BetweenSeeds };
        assert_eq!(id3.estimate.variance, source);
    }
    assert!(matches!(
        identify_paired_seeds(&[], Some(1)),
        Err(TuneError::BadTwin(_))
    ));
}

#[test]
fn pair_seeds_reads_each_seed_beside_the_twins_and_names_a_missing_one() {
    let line = |arm: &str, seed: u64, t: usize| {
        format!("{{\"arm\":\"{arm}\",\"seed\":{seed},\"step\":{t},\"entropy\":1,\"alpha\":0}}\n")
    };
    let log = |arm: &str, seeds: &[u64]| -> String {
        seeds
            .iter()
            .flat_map(|&s| (0..3).map(move |t| (s, t)))
            .map(|(s, t)| line(arm, s, t))
            .collect()
    };
    let cols = Columns::default();
    let pairs = pair_seeds(
        &log("probe", &[0, 1, 2]),
        &log("plain", &[0, 1, 2]),
        &cols,
        None,
    )
    .expect("paired")
    .expect("several seeds");
    assert_eq!(pairs.len(), 3);
    assert!(pairs[2].0.source.contains("seed=2") && pairs[2].1.source.contains("seed=2"));
    // One run: nothing to pool.
    assert_eq!(
        pair_seeds(&log("probe", &[0]), &log("plain", &[0]), &cols, None),
        Ok(None)
    );
    // A twin without seed 2, or a CSV twin: refused, naming what is missing.
    match pair_seeds(
        &log("probe", &[0, 1, 2]),
        &log("plain", &[0, 1]),
        &cols,
        None,
    ) {
        Err(TuneError::BadTwin(m)) => assert!(m.contains("seed 2"), "{m}"),
        other => panic!("{other:?}"),
    }
    match pair_seeds(
        &log("probe", &[0, 1]),
        "step,entropy,alpha\n0,1,0\n",
        &cols,
        None,
    ) {
        Err(TuneError::BadTwin(m)) => assert!(m.contains("CSV"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_twin_log_without_an_alpha_column_reads_alpha_as_absent() {
    let csv = "step,entropy\n0,1.0\n1,0.9\n";
    // a probe needs its α; a twin's may be absent (its arm applied none)
    assert!(matches!(
        parse_log(csv, &Columns::default(), None, None),
        Err(TuneError::MissingColumn { role: "alpha", .. })
    ));
    let t = parse_twin_log(csv, &Columns::default(), None).expect("twin");
    assert_eq!(t.entropy, vec![1.0, 0.9]);
    assert!(t.alpha.iter().all(|a| a.is_nan()), "{:?}", t.alpha);
    // a named α column that is missing is still refused
    let named = Columns::parse("alpha=my_alpha").unwrap();
    assert!(parse_twin_log(csv, &named, None).is_err());
}

#[test]
fn seeds_of_one_run_are_listed_only_for_one_run_over_several_seeds() {
    let line = |arm: &str, seed: u64| {
        format!("{{\"arm\":\"{arm}\",\"seed\":{seed},\"entropy\":1,\"alpha\":0}}\n")
    };
    let three: String = (0..3).map(|s| line("probe", s)).collect();
    assert_eq!(seeds_of_one_run(&three, None), Some(vec![0, 1, 2]));
    assert_eq!(seeds_of_one_run(&line("probe", 4), None), None);
    assert_eq!(seeds_of_one_run("step,entropy,alpha\n0,1,0\n", None), None);
    let two_arms = format!("{three}{}", line("plain", 0));
    assert_eq!(seeds_of_one_run(&two_arms, None), None);
    assert_eq!(
        seeds_of_one_run(&two_arms, Some("probe")),
        Some(vec![0, 1, 2])
    );
}
