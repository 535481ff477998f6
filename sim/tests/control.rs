//! Tests of the controller step (docs/mathematics.md §3, §6, §7; docs/peers.md) and of the
//! config checks and exact serde round trip.

use entropic_sim::control::{
    hp_mask, probe_alpha, ControlConfig, Controller, IntegralForm, Measurement, Method, Scope,
    Threshold,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cfg(method: Method) -> ControlConfig {
    ControlConfig {
        method,
        ..ControlConfig::default()
    }
}

fn meas(h: f64) -> Measurement {
    Measurement {
        entropy: h,
        sampled_nll: f64::NAN,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + b.abs())
}

/// Runs the controller on entropies `hs`, returns (α, I) per step.
fn run(c: ControlConfig, hs: &[f64]) -> Vec<(f64, f64)> {
    let mut ctl = Controller::new(c);
    hs.iter()
        .map(|&h| {
            let d = ctl.update(meas(h));
            (d.alpha, d.integral)
        })
        .collect()
}

fn assert_seq(got: &[(f64, f64)], want: &[(f64, f64)]) {
    assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            close(g.0, w.0) && close(g.1, w.1),
            "step {k}: got {g:?}, want {w:?}"
        );
    }
}

#[test]
fn p_control_step_response_and_clip() {
    let c = ControlConfig {
        method: Method::Entropic,
        kp: 2.0,
        ki: 0.0,
        target: 0.5,
        ..cfg(Method::Entropic)
    };
    // e = 0.7−0.5 = 0.2 → α = 2·0.2 = 0.4; e = 1.0 → 2.0 clipped to 1;
    // e = −0.5 → −1.0 (exactly at the clip). I = 0.2, 1.2, 0.7.
    let got = run(c.clone(), &[0.7, 1.5, 0.0]);
    assert_seq(&got, &[(0.4, 0.2), (1.0, 1.2), (-1.0, 0.7)]);
    // alpha_max = inf: no clip, α = 2·1.0 = 2.0 at the second step.
    let got = run(
        ControlConfig {
            alpha_max: f64::INFINITY,
            ..c.clone()
        },
        &[0.7, 1.5],
    );
    assert_seq(&got, &[(0.4, 0.2), (2.0, 1.2)]);
    let ctl = Controller::new(c);
    assert!(ctl.alpha_saturated(1.0) && ctl.alpha_saturated(-1.0) && !ctl.alpha_saturated(0.99));
    let free = Controller::new(ControlConfig {
        alpha_max: f64::INFINITY,
        ..cfg(Method::Entropic)
    });
    assert!(!free.alpha_saturated(1e300));
}

#[test]
fn pi_control_both_integral_forms() {
    let base = ControlConfig {
        kp: 1.0,
        ki: 0.5,
        target: 0.0,
        ..cfg(Method::Entropic)
    };
    let hs = [0.2, 0.3, -0.1];
    // before: α₁ = 0.2 + 0.5·0 = 0.2, I = 0.2; α₂ = 0.3 + 0.5·0.2 = 0.4,
    // I = 0.5; α₃ = −0.1 + 0.5·0.5 = 0.15, I = 0.4.
    assert_seq(
        &run(base.clone(), &hs),
        &[(0.2, 0.2), (0.4, 0.5), (0.15, 0.4)],
    );
    // after: I = 0.2, α₁ = 0.2 + 0.1 = 0.3; I = 0.5, α₂ = 0.3 + 0.25 = 0.55;
    // I = 0.4, α₃ = −0.1 + 0.2 = 0.1.
    let after = ControlConfig {
        integral_form: IntegralForm::After,
        ..base
    };
    assert_seq(&run(after, &hs), &[(0.3, 0.2), (0.55, 0.5), (0.1, 0.4)]);
}

#[test]
fn anti_windup_conditional_integration() {
    let base = ControlConfig {
        kp: 1.0,
        ki: 1.0,
        target: 0.0,
        ..cfg(Method::Entropic)
    };
    let hs = [2.0, 2.0, -0.5];
    // Without anti-windup: α = clip(2) = 1, I = 2; α = clip(2 + 2) = 1,
    // I = 4; α = clip(−0.5 + 4) = 1, I = 3.5.
    assert_seq(
        &run(base.clone(), &hs),
        &[(1.0, 2.0), (1.0, 4.0), (1.0, 3.5)],
    );
    // With: α = 1 saturated, e·α > 0 → I stays 0 (twice); then
    // α = −0.5 + 0 = −0.5 (not saturated) → I = −0.5.
    let aw = ControlConfig {
        anti_windup: true,
        ..base.clone()
    };
    assert_seq(
        &run(aw.clone(), &hs),
        &[(1.0, 0.0), (1.0, 0.0), (-0.5, -0.5)],
    );
    // Saturated but the error points out of the clip: integrates. kp = 0.1:
    // α = 0.09, I = 0.9; α = 0.09 + 0.9 = 0.99, I = 1.8; e = −0.1:
    // α = clip(−0.01 + 1.8) = 1 saturated, e·α < 0 → I = 1.7.
    let aw2 = ControlConfig {
        kp: 0.1,
        ..aw.clone()
    };
    assert_seq(
        &run(aw2, &[0.9, 0.9, -0.1]),
        &[(0.09, 0.9), (0.99, 1.8), (1.0, 1.7)],
    );
    // After form: trial α' = clip(2 + (0 + 2)) = 1 saturated with e > 0 → I
    // kept at 0, output clip(2 + 0) = 1; then e = 0.3: trial clip(0.3 + 0.3)
    // = 0.6 unsaturated → I = 0.3, α = 0.6.
    let aw_after = ControlConfig {
        integral_form: IntegralForm::After,
        ..aw
    };
    assert_seq(&run(aw_after, &[2.0, 0.3]), &[(1.0, 0.0), (0.6, 0.3)]);
    // No clip → anti-windup never acts: I = 2, 4 as without it.
    let free = ControlConfig {
        anti_windup: true,
        alpha_max: f64::INFINITY,
        ..base
    };
    assert_seq(&run(free, &[2.0, 2.0]), &[(2.0, 2.0), (4.0, 4.0)]);
}

#[test]
fn probe_schedule_is_played_clipped_and_held() {
    let sched = vec![(2, 0.5), (1, -0.3), (2, 2.0)];
    let c = ControlConfig {
        probe: sched.clone(),
        target: 1.0,
        ..cfg(Method::Probe)
    };
    // α: 0.5, 0.5, −0.3, then 2.0 clipped to 1 and held after the end.
    // e = H − 1 = 0.5 each step, I = 0.5·k.
    let got = run(c.clone(), &[1.5; 7]);
    let want: Vec<(f64, f64)> = [0.5, 0.5, -0.3, 1.0, 1.0, 1.0, 1.0]
        .iter()
        .enumerate()
        .map(|(k, &a)| (a, 0.5 * (k + 1) as f64))
        .collect();
    assert_seq(&got, &want);
    // Unclipped with alpha_max = inf.
    let got = run(
        ControlConfig {
            alpha_max: f64::INFINITY,
            ..c
        },
        &[1.5; 6],
    );
    assert!(close(got[5].0, 2.0));
    assert_eq!(probe_alpha(&[], 3), 0.0);
    assert_eq!(probe_alpha(&sched, 2), -0.3);
}

#[test]
fn adaptive_entropy_follows_skywork_order() {
    let c = ControlConfig {
        target: 0.2,
        adaptive_delta: 0.001,
        adaptive_c_min: 0.0,
        adaptive_c_max: 0.0025,
        adaptive_c0: 0.001,
        ..cfg(Method::AdaptiveEntropy)
    };
    let mut ctl = Controller::new(c);
    // Input is sampled_nll when finite (entropy 5.0 is ignored):
    // x = 0.1, 0.1, 0.1, 0.3, 0.1. Hand sequence (applied, c after):
    // k0: enabled initially → applied c₀ = 0.001; x < 0.2 → c = 0.002
    // k1: applied 0.002; c = min(0.003, 0.0025) = 0.0025
    // k2: applied 0.0025; c stays 0.0025 (clip)
    // k3: applied 0.0025 (k2 was below); x ≥ target → c = 0.0015, disabled
    // k4: applied 0 (k3 was above); c = 0.0025, enabled
    let xs = [0.1, 0.1, 0.1, 0.3, 0.1];
    let want = [
        (0.001, 0.002),
        (0.002, 0.0025),
        (0.0025, 0.0025),
        (0.0025, 0.0015),
        (0.0, 0.0025),
    ];
    for (k, (&x, &(applied, c_after))) in xs.iter().zip(&want).enumerate() {
        let d = ctl.update(Measurement {
            entropy: 5.0,
            sampled_nll: x,
        });
        assert!(
            close(d.entropy_coef, applied),
            "step {k}: applied {}",
            d.entropy_coef
        );
        assert!(
            close(ctl.state.coef, c_after),
            "step {k}: c {}",
            ctl.state.coef
        );
        assert!(close(d.error, x - 0.2));
    }
    // Without sampled_nll the full entropy is the input: 5.0 ≥ 0.2 → c falls.
    let before = ctl.state.coef;
    ctl.update(meas(5.0));
    assert!(close(ctl.state.coef, before - 0.001) && !ctl.state.below_target);
}

#[test]
fn stateless_methods_and_entropy_bonus() {
    for m in [
        Method::None,
        Method::ClipCov,
        Method::KlCov,
        Method::ClipHigher,
    ] {
        let mut ctl = Controller::new(ControlConfig {
            target: 0.3,
            ..cfg(m)
        });
        let d = ctl.update(meas(1.0));
        // e = 1.0 − 0.3 = 0.7; nothing else.
        assert_eq!(
            (d.alpha, d.entropy_coef, d.integral),
            (0.0, 0.0, 0.0),
            "{m:?}"
        );
        assert!(close(d.error, 0.7));
        assert_eq!(ctl.state.steps, 1);
    }
    let mut ctl = Controller::new(ControlConfig {
        entropy_coef: 0.004,
        ..cfg(Method::EntropyBonus)
    });
    assert_eq!(ctl.update(meas(1.0)).entropy_coef, 0.004);
}

#[test]
fn hp_mask_thresholds_and_scope() {
    let logp = [0.99f64.ln(), 0.3f64.ln(), 0.96f64.ln()];
    let h = [0.5, 2.0, 0.01];
    // τ = 0.95: p = 0.99, 0.96 are HP.
    assert_eq!(
        hp_mask(&cfg(Method::Entropic), &logp, &h),
        [true, false, true]
    );
    // exp(−H) = 0.607, 0.135, 0.990: p = 0.99 > 0.607, 0.3 > 0.135, 0.96 < 0.990.
    let c = ControlConfig {
        threshold: Threshold::ExpNegH,
        ..cfg(Method::Entropic)
    };
    assert_eq!(hp_mask(&c, &logp, &h), [true, true, false]);
    // A token with no entropy entry is not HP under exp(−H).
    assert_eq!(hp_mask(&c, &logp, &h[..1]), [true, false, false]);
    let c = ControlConfig {
        scope: Scope::All,
        ..cfg(Method::Entropic)
    };
    assert_eq!(hp_mask(&c, &logp, &[]), [true, true, true]);
}

/// 50 updates, save, restore, 50 more on both: identical bit for bit.
#[test]
fn serde_round_trip_is_exact() {
    let configs = [
        ControlConfig {
            ki: 0.37,
            anti_windup: true,
            target: 0.3,
            ..cfg(Method::Entropic)
        },
        ControlConfig {
            integral_form: IntegralForm::After,
            alpha_max: f64::INFINITY,
            ..cfg(Method::Entropic)
        },
        ControlConfig {
            probe: vec![(7, 0.3), (11, -0.21)],
            ..cfg(Method::Probe)
        },
        ControlConfig {
            target: 0.5,
            adaptive_delta: 1.3e-4,
            ..cfg(Method::AdaptiveEntropy)
        },
    ];
    for c in configs {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let draw = |rng: &mut ChaCha8Rng| Measurement {
            entropy: rng.random_range(0.0..1.0),
            sampled_nll: rng.random_range(0.0..1.0),
        };
        let mut a = Controller::new(c.clone());
        for _ in 0..50 {
            a.update(draw(&mut rng));
        }
        let json = serde_json::to_string(&a).expect("serialize");
        let mut b: Controller = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(a, b, "{json}");
        assert_eq!(a.state.integral.to_bits(), b.state.integral.to_bits());
        for _ in 0..50 {
            let m = draw(&mut rng);
            let (da, db) = (a.update(m), b.update(m));
            for (x, y) in [
                (da.alpha, db.alpha),
                (da.integral, db.integral),
                (da.entropy_coef, db.entropy_coef),
            ] {
                assert_eq!(x.to_bits(), y.to_bits(), "{:?}", c.method);
            }
        }
        assert_eq!(a, b);
    }
}

#[test]
fn config_round_trips_through_toml_with_inf() {
    let c = ControlConfig {
        alpha_max: f64::INFINITY,
        kp: 0.1 + 0.2,
        ..cfg(Method::Entropic)
    };
    let text = toml::to_string(&c).expect("toml");
    let back: ControlConfig = toml::from_str(&text).expect("parse");
    assert_eq!(back, c, "{text}");
    // A hand-written scenario may write inf as a TOML float.
    let hand: ControlConfig =
        toml::from_str("method = \"entropic\"\nalpha_max = inf\n").expect("parse");
    assert_eq!(hand.alpha_max, f64::INFINITY);
    assert_eq!(hand.clip_higher_eps_high, 0.28);
}

#[test]
fn validate_accepts_defaults_and_names_bad_keys() {
    for m in [
        Method::None,
        Method::Entropic,
        Method::EntropyBonus,
        Method::AdaptiveEntropy,
        Method::ClipCov,
        Method::KlCov,
        Method::ClipHigher,
    ] {
        assert!(cfg(m).validate("s.toml", "control").is_ok(), "{m:?}");
    }
    assert!(ControlConfig {
        alpha_max: f64::INFINITY,
        ..cfg(Method::Entropic)
    }
    .validate("f", "control")
    .is_ok());
    let probe_ok = ControlConfig {
        probe: vec![(3, 0.2)],
        ..cfg(Method::Probe)
    };
    assert!(probe_ok.validate("f", "control").is_ok());
    let bad: Vec<(ControlConfig, &str)> = vec![
        (cfg(Method::Probe), "control.probe"),
        (
            ControlConfig {
                probe: vec![(0, 0.2)],
                ..cfg(Method::Probe)
            },
            "control.probe[0]",
        ),
        (
            ControlConfig {
                probe: vec![(1, f64::NAN)],
                ..cfg(Method::Probe)
            },
            "control.probe[0]",
        ),
        (
            ControlConfig {
                tau: 1.0,
                ..cfg(Method::None)
            },
            "control.tau",
        ),
        (
            ControlConfig {
                target: -0.1,
                ..cfg(Method::None)
            },
            "control.target",
        ),
        (
            ControlConfig {
                kp: f64::INFINITY,
                ..cfg(Method::None)
            },
            "control.kp",
        ),
        (
            ControlConfig {
                ki: f64::NAN,
                ..cfg(Method::None)
            },
            "control.ki",
        ),
        (
            ControlConfig {
                alpha_max: f64::NAN,
                ..cfg(Method::None)
            },
            "control.alpha_max",
        ),
        (
            ControlConfig {
                alpha_max: 0.0,
                ..cfg(Method::None)
            },
            "control.alpha_max",
        ),
        (
            ControlConfig {
                adaptive_c0: 0.01,
                ..cfg(Method::None)
            },
            "control.adaptive_c0",
        ),
        (
            ControlConfig {
                adaptive_c_max: -1.0,
                ..cfg(Method::None)
            },
            "control.adaptive_c_max",
        ),
        (
            ControlConfig {
                clip_cov_high: 0.5,
                ..cfg(Method::None)
            },
            "control.clip_cov_high",
        ),
        (
            ControlConfig {
                kl_cov_ratio: 0.0,
                ..cfg(Method::None)
            },
            "control.kl_cov_ratio",
        ),
        (
            ControlConfig {
                entropy_coef: f64::INFINITY,
                ..cfg(Method::None)
            },
            "control.entropy_coef",
        ),
    ];
    for (c, key) in bad {
        match c.validate("s.toml", "control") {
            Err(entropic_sim::SimError::Input { file, key: k, msg }) => {
                assert_eq!((file.as_str(), k.as_str()), ("s.toml", key));
                assert!(msg.contains("must be") && msg.contains("(got"), "{msg}");
            }
            other => panic!("{key}: expected an input error, got {other:?}"),
        }
    }
}

#[test]
fn scale_free_acts_on_the_relative_error() {
    // target 0.2, Kp 0.1, Ki 0.05, entropies 0.3, 0.1: relative errors
    // +0.5, −0.5. Step 1: α = 0.1·0.5 + 0.05·0 = 0.05, I = 0.5;
    // step 2: α = 0.1·(−0.5) + 0.05·0.5 = −0.025, I = 0. The recorded
    // error stays in nats (+0.1, −0.1).
    let c = ControlConfig {
        kp: 0.1,
        ki: 0.05,
        target: 0.2,
        scale_free: true,
        ..cfg(Method::Entropic)
    };
    assert_seq(&run(c.clone(), &[0.3, 0.1]), &[(0.05, 0.5), (-0.025, 0.0)]);
    let mut ctl = Controller::new(c.clone());
    assert!(close(ctl.update(meas(0.3)).error, 0.1));
    // Same α as absolute gains divided by the target.
    let abs = ControlConfig {
        kp: 0.1 / 0.2,
        ki: 0.05 / 0.2,
        scale_free: false,
        ..c.clone()
    };
    let (a, b) = (run(c.clone(), &[0.3, 0.1]), run(abs, &[0.3, 0.1]));
    for (x, y) in a.iter().zip(&b) {
        assert!(close(x.0, y.0), "{a:?} vs {b:?}");
    }
    // A zero target is refused when the law divides by it.
    let zero = ControlConfig { target: 0.0, ..c };
    let err = zero.validate("s.toml", "control").unwrap_err().to_string();
    assert!(
        err.contains("control.target") && err.contains("scale_free"),
        "{err}"
    );
}
