//! Tests of `control::loss::token_loss`: each method on a small example
//! computed by hand, the EntroPIC quadrant weights (docs/mathematics.md §3), N = 0, and
//! a central finite-difference check of the gradient for every method.

use entropic_sim::control::loss::{token_loss, LossConfig, TokenInputs, TokenLoss};
use entropic_sim::control::{ControlConfig, Directive, Method, Scope, Threshold, Weighting};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn ctl(method: Method) -> ControlConfig {
    ControlConfig {
        method,
        ..ControlConfig::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + b.abs())
}

/// Inputs with `logp_old = logp − delta`.
#[derive(Clone)]
struct Case {
    adv: Vec<f64>,
    logp: Vec<f64>,
    logp_old: Vec<f64>,
    logp_ref: Option<Vec<f64>>,
    entropy: Vec<f64>,
}

impl Case {
    fn new(adv: &[f64], logp: &[f64], delta: &[f64]) -> Case {
        Case {
            adv: adv.to_vec(),
            logp: logp.to_vec(),
            logp_old: logp.iter().zip(delta).map(|(l, d)| l - d).collect(),
            logp_ref: None,
            entropy: vec![1.0; adv.len()],
        }
    }
    fn inputs(&self) -> TokenInputs<'_> {
        TokenInputs {
            adv: &self.adv,
            logp: &self.logp,
            logp_old: &self.logp_old,
            logp_ref: self.logp_ref.as_deref(),
            entropy: &self.entropy,
            weight: None,
        }
    }
    fn loss(&self, cfg: &LossConfig, c: &ControlConfig, d: &Directive, seed: u64) -> TokenLoss {
        token_loss(
            cfg,
            c,
            d,
            &self.inputs(),
            &mut ChaCha8Rng::seed_from_u64(seed),
        )
    }
}

#[test]
fn ppo_clip_and_dual_clip_by_hand() {
    // t0: A = 1, r = 1.5: max(−1.5, −1.2) = −1.2, clipped branch, grad 0.
    // t1: A = −1, r = 4: max(4, 1.2) = 4 > −A·3 = 3 → dual clip, ℓ = 3, grad 0.
    // t2: A = 1, r = 0.9: max(−0.9, −0.9) unclipped, ℓ = −0.9, grad −A·r/N = −0.3.
    // loss = (−1.2 + 3 − 0.9)/3 = 0.3; clip_frac = 2/3.
    let c = Case::new(
        &[1.0, -1.0, 1.0],
        &[-1.0; 3],
        &[1.5f64.ln(), 4f64.ln(), 0.9f64.ln()],
    );
    let out = c.loss(
        &LossConfig::default(),
        &ctl(Method::None),
        &Directive::default(),
        0,
    );
    assert!(close(out.loss, 0.3), "{}", out.loss);
    assert!(close(out.dlogp[0], 0.0) && close(out.dlogp[1], 0.0) && close(out.dlogp[2], -0.3));
    assert!(close(out.stats.clip_frac, 2.0 / 3.0));
    // dual_clip = inf: t1 keeps ℓ = 4 (grad −A·r/3 = 4/3): loss = (−1.2 + 4 − 0.9)/3.
    let no_dual = LossConfig {
        dual_clip: f64::INFINITY,
        ..LossConfig::default()
    };
    let out = c.loss(&no_dual, &ctl(Method::None), &Directive::default(), 0);
    assert!(close(out.loss, 1.9 / 3.0) && close(out.dlogp[1], 4.0 / 3.0));
}

/// P↑, P↓, N↑, N↓ on-policy (r = 1): the effective weight of token t is
/// `dlogp_t / (−A_t/N)` (docs/mathematics.md §3).
#[test]
fn entropic_quadrant_weights() {
    // p = 0.99 (P↑), 0.3 (P↓), 0.98 (N↑), 0.2 (N↓); τ = 0.95 → |HP| = 2, N = 4.
    let logp: Vec<f64> = [0.99f64, 0.3, 0.98, 0.2].iter().map(|p| p.ln()).collect();
    let c = Case::new(&[1.0, 1.0, -1.0, -1.0], &logp, &[0.0; 4]);
    let d = Directive {
        alpha: 0.3,
        ..Directive::default()
    };
    let weights = |out: &TokenLoss| -> Vec<f64> {
        (0..4).map(|t| out.dlogp[t] / (-c.adv[t] / 4.0)).collect()
    };
    let cfg = LossConfig::default();
    // official: 1 + α·N/|HP| = 1 + 0.3·2 = 1.6 (P↑), 1 − 0.6 = 0.4 (N↑), 1 else.
    // loss = mean(−A) + α·mean_HP(−|A|) = 0 + 0.3·(−1) = −0.3.
    let out = c.loss(&cfg, &ctl(Method::Entropic), &d, 0);
    let w = weights(&out);
    for (g, want) in w.iter().zip([1.6, 1.0, 0.4, 1.0]) {
        assert!(close(*g, want), "official {w:?}");
    }
    assert!(close(out.loss, -0.3) && out.stats.n_hp == 2 && close(out.stats.hp_frac, 0.5));
    // plain: 1 ± α = 1.3, 0.7; loss = 0.3·(−2)/4 = −0.15. Probe acts the same.
    for m in [Method::Entropic, Method::Probe] {
        let plain = ControlConfig {
            weighting: Weighting::Plain,
            ..ctl(m)
        };
        let out = c.loss(&cfg, &plain, &d, 0);
        let w = weights(&out);
        for (g, want) in w.iter().zip([1.3, 1.0, 0.7, 1.0]) {
            assert!(close(*g, want), "plain {m:?} {w:?}");
        }
        assert!(close(out.loss, -0.15));
    }
    // scope all, official: N/|HP| = 1 → every positive 1.3, every negative 0.7.
    let all = ControlConfig {
        scope: Scope::All,
        ..ctl(Method::Entropic)
    };
    let w = weights(&c.loss(&cfg, &all, &d, 0));
    for (g, want) in w.iter().zip([1.3, 1.3, 0.7, 0.7]) {
        assert!(close(*g, want), "all {w:?}");
    }
    // |HP| = 0 (τ = 0.999): no extra term, weights 1, loss = mean(−A) = 0.
    let none = ControlConfig {
        tau: 0.999,
        ..ctl(Method::Entropic)
    };
    let out = c.loss(&cfg, &none, &d, 0);
    assert!(weights(&out).iter().all(|&g| close(g, 1.0)) && out.loss == 0.0 && out.stats.n_hp == 0);
    // Other methods ignore α but still report hp_frac with the threshold.
    let out = c.loss(&cfg, &ctl(Method::None), &d, 0);
    assert!(weights(&out).iter().all(|&g| close(g, 1.0)) && close(out.stats.hp_frac, 0.5));
}

#[test]
fn entropic_hp_judged_under_current_policy() {
    // logp = ln 0.97 (HP under π_θ) but logp_old = ln 0.5 (not HP under π_old);
    // r = 0.97/0.5 = 1.94 (PPO-clipped: A > 0, r > 1.2 → grad 0), the extra
    // term still acts with r unclipped: official, |HP| = 1, N = 1:
    // loss = −1.2 + α·(−1.94) with α = 0.5 → −2.17; grad α·(−r) = −0.97.
    let c = Case::new(&[1.0], &[0.97f64.ln()], &[(0.97f64 / 0.5).ln()]);
    let d = Directive {
        alpha: 0.5,
        ..Directive::default()
    };
    let out = c.loss(&LossConfig::default(), &ctl(Method::Entropic), &d, 0);
    assert!(
        close(out.loss, -2.17) && close(out.dlogp[0], -0.97),
        "{out:?}"
    );
}

#[test]
fn entropy_bonus_by_hand() {
    // On-policy A = (1, −1, 0): PPO part mean(−A) = 0; H = (1, 2, 3), mean 2;
    // loss = −0.01·2 = −0.02; dentropy = −0.01/3 each.
    let mut c = Case::new(&[1.0, -1.0, 0.0], &[-1.0; 3], &[0.0; 3]);
    c.entropy = vec![1.0, 2.0, 3.0];
    let d = Directive {
        entropy_coef: 0.01,
        ..Directive::default()
    };
    for m in [Method::EntropyBonus, Method::AdaptiveEntropy] {
        let out = c.loss(&LossConfig::default(), &ctl(m), &d, 0);
        assert!(close(out.loss, -0.02), "{m:?}");
        assert!(out.dentropy.iter().all(|&g| close(g, -0.01 / 3.0)));
    }
    // Another method ignores the coefficient.
    let out = c.loss(&LossConfig::default(), &ctl(Method::None), &d, 0);
    assert!(out.loss == 0.0 && out.dentropy.iter().all(|&g| g == 0.0));
}

#[test]
fn clip_cov_by_hand() {
    // A = (1, 1, −1, −1), logp = (−0.1, −2, −0.1, −2), on-policy.
    // Ā = 0, mean logp = −1.05: Cov = (0.95, −0.95, −0.95, 0.95).
    // ω = (0.5, 5): candidates t0, t3. r_c = 0.25: ⌊0.25·4⌋ = 1 picked.
    // Per-token −A = (−1, −1, 1, 1), sum 0: zeroing t0 gives 1/4, t3 gives −1/4.
    let c = Case::new(
        &[1.0, 1.0, -1.0, -1.0],
        &[-0.1, -2.0, -0.1, -2.0],
        &[0.0; 4],
    );
    let cc = ControlConfig {
        clip_cov_ratio: 0.25,
        clip_cov_low: 0.5,
        clip_cov_high: 5.0,
        ..ctl(Method::ClipCov)
    };
    let mut picked = [0usize; 4];
    for seed in 0..40 {
        let out = c.loss(&LossConfig::default(), &cc, &Directive::default(), seed);
        assert_eq!(out.stats.n_selected, 1);
        let zeroed: Vec<usize> = (0..4).filter(|&t| out.dlogp[t] == 0.0).collect();
        assert_eq!(zeroed.len(), 1);
        let t = zeroed[0];
        picked[t] += 1;
        assert!(
            close(out.loss, if t == 0 { 0.25 } else { -0.25 }),
            "{t} {}",
            out.loss
        );
        // Unselected tokens keep −A/N.
        assert!((0..4)
            .filter(|&s| s != t)
            .all(|s| close(out.dlogp[s], -c.adv[s] / 4.0)));
    }
    assert!(
        picked[0] > 5 && picked[3] > 5 && picked[1] == 0 && picked[2] == 0,
        "{picked:?}"
    );
    // r_c = 0.5 → 2 picked = both candidates: loss (−1 + 1)/4 = 0.
    let both = ControlConfig {
        clip_cov_ratio: 0.5,
        ..cc.clone()
    };
    let out = c.loss(&LossConfig::default(), &both, &Directive::default(), 0);
    assert!(
        out.loss == 0.0 && out.dlogp[0] == 0.0 && out.dlogp[3] == 0.0 && out.stats.n_selected == 2
    );
    // A PPO-clipped token is never a candidate: t0 at r = 1.5 (A > 0) is
    // clipped; Cov is unchanged (it uses logp, not the ratio).
    let mut off = Case::new(
        &[1.0, 1.0, -1.0, -1.0],
        &[-0.1, -2.0, -0.1, -2.0],
        &[1.5f64.ln(), 0.0, 0.0, 0.0],
    );
    off.entropy = vec![1.0; 4];
    for seed in 0..10 {
        let out = off.loss(&LossConfig::default(), &cc, &Directive::default(), seed);
        assert!(out.dlogp[3] == 0.0 && out.dlogp[1] != 0.0 && out.stats.n_selected == 1);
    }
}

#[test]
fn kl_cov_by_hand() {
    // Same Cov as clip_cov: (0.95, −0.95, −0.95, 0.95); k = max(1, ⌊0.25·4⌋) = 1,
    // the tie t0/t3 goes to the lower index t0. Δ = (0.1, 0.3, −0.1, 0.2), no
    // PPO clip (t1 at r = e^0.3 would be clipped by PPO), β = 1:
    // loss = (−e^0.1 + 0.1 − e^0.3 + e^−0.1 + e^0.2)/4,
    // dlogp = ((−e^0.1 + 1), −e^0.3, e^−0.1, e^0.2)/4.
    let c = Case::new(
        &[1.0, 1.0, -1.0, -1.0],
        &[-0.1, -2.0, -0.1, -2.0],
        &[0.1, 0.3, -0.1, 0.2],
    );
    let kc = ControlConfig {
        kl_cov_ratio: 0.25,
        kl_cov_coef: 1.0,
        ..ctl(Method::KlCov)
    };
    let out = c.loss(&LossConfig::default(), &kc, &Directive::default(), 0);
    let e = f64::exp;
    let want_loss = (-e(0.1) + 0.1 - e(0.3) + e(-0.1) + e(0.2)) / 4.0;
    let want_grad = [
        (1.0 - e(0.1)) / 4.0,
        -e(0.3) / 4.0,
        e(-0.1) / 4.0,
        e(0.2) / 4.0,
    ];
    assert!(
        (out.loss - want_loss).abs() < 1e-12,
        "{} vs {want_loss}",
        out.loss
    );
    for (t, want) in want_grad.iter().enumerate() {
        assert!((out.dlogp[t] - want).abs() < 1e-12, "t{t}");
    }
    assert_eq!((out.stats.n_selected, out.stats.clip_frac), (1, 0.0));
}

#[test]
fn clip_higher_by_hand() {
    // A = (1, 0, 1): the A = 0 token is dropped, N = 2. t0 r = 1.25 < 1.28
    // unclipped (ℓ = −1.25, grad −1.25/2); t2 r = 1.3 → clipped at 1.28
    // (ℓ = −1.28, grad 0). loss = (−1.25 − 1.28)/2 = −1.265, clip_frac 1/2.
    let c = Case::new(
        &[1.0, 0.0, 1.0],
        &[-1.0; 3],
        &[1.25f64.ln(), 0.5, 1.3f64.ln()],
    );
    let out = c.loss(
        &LossConfig::default(),
        &ctl(Method::ClipHigher),
        &Directive::default(),
        0,
    );
    assert!(close(out.loss, -1.265), "{}", out.loss);
    assert!(close(out.dlogp[0], -0.625) && out.dlogp[1] == 0.0 && out.dlogp[2] == 0.0);
    assert_eq!(out.stats.n_tokens, 2);
    assert!(close(out.stats.clip_frac, 0.5));
    // With ε_high = 0.2 (method none) t0 is clipped too and N = 3:
    // loss = (−1.2 + 0 − 1.2)/3 = −0.8.
    let out = c.loss(
        &LossConfig::default(),
        &ctl(Method::None),
        &Directive::default(),
        0,
    );
    assert!(close(out.loss, -0.8));
}

#[test]
fn k3_kl_by_hand() {
    // A = 0 on-policy: only the KL. x = ref − logp = (−0.5, 1, 30):
    // kl = (e^−0.5 + 0.5 − 1, e − 2, clamp(e^20 − 21) = 10),
    // loss = 0.1·mean kl; grad 0.1·(1 − eˣ)/3 where unclamped, 0 at t2.
    let mut c = Case::new(&[0.0; 3], &[-1.0, -2.0, -31.0], &[0.0; 3]);
    c.logp_ref = Some(vec![-1.5, -1.0, -1.0]);
    let cfg = LossConfig {
        kl_coef: 0.1,
        ..LossConfig::default()
    };
    let out = c.loss(&cfg, &ctl(Method::None), &Directive::default(), 0);
    let kl = [(-0.5f64).exp() - 0.5, 1f64.exp() - 2.0, 10.0];
    let mean_kl = kl.iter().sum::<f64>() / 3.0;
    assert!(close(out.loss, 0.1 * mean_kl) && close(out.stats.kl, mean_kl));
    assert!(close(out.dlogp[0], 0.1 * (1.0 - (-0.5f64).exp()) / 3.0));
    assert!(close(out.dlogp[1], 0.1 * (1.0 - 1f64.exp()) / 3.0) && out.dlogp[2] == 0.0);
    // kl_coef = 0: reported, not in the loss.
    let out = c.loss(
        &LossConfig::default(),
        &ctl(Method::None),
        &Directive::default(),
        0,
    );
    assert!(out.loss == 0.0 && close(out.stats.kl, mean_kl));
}

#[test]
fn empty_inputs_give_zero() {
    let c = Case::new(&[], &[], &[]);
    let zeros = Case::new(&[0.0, 0.0], &[-1.0, -2.0], &[0.1, 0.2]);
    let d = Directive {
        alpha: 0.7,
        entropy_coef: 0.1,
        ..Directive::default()
    };
    for m in [
        Method::None,
        Method::Entropic,
        Method::Probe,
        Method::EntropyBonus,
        Method::AdaptiveEntropy,
        Method::ClipCov,
        Method::KlCov,
        Method::ClipHigher,
    ] {
        let out = c.loss(&LossConfig::default(), &ctl(m), &d, 0);
        assert!(
            out.loss == 0.0 && out.dlogp.is_empty() && out.dentropy.is_empty(),
            "{m:?}"
        );
        assert_eq!(out.stats.n_tokens, 0);
    }
    // clip_higher with every A = 0: every token dropped, no NaN.
    let out = zeros.loss(&LossConfig::default(), &ctl(Method::ClipHigher), &d, 0);
    assert!(out.loss == 0.0 && out.dlogp == [0.0, 0.0] && out.stats.hp_frac == 0.0);
}

#[test]
fn nan_inputs_propagate_without_panic() {
    let c = Case::new(&[1.0, -1.0], &[f64::NAN, -1.0], &[0.0, 0.0]);
    let d = Directive {
        alpha: 0.5,
        ..Directive::default()
    };
    let odd = LossConfig {
        eps_low: f64::NAN,
        dual_clip: f64::NAN,
        ..LossConfig::default()
    };
    for m in [
        Method::None,
        Method::Entropic,
        Method::ClipCov,
        Method::KlCov,
        Method::ClipHigher,
    ] {
        let all = ControlConfig {
            scope: Scope::All,
            ..ctl(m)
        };
        assert!(
            c.loss(&LossConfig::default(), &all, &d, 0).loss.is_nan(),
            "{m:?}"
        );
        // NaN settings do not panic either.
        let _ = c.loss(&odd, &all, &d, 0);
    }
}

#[test]
fn loss_config_validate() {
    assert!(LossConfig::default().validate("f", "loss").is_ok());
    assert!(LossConfig {
        dual_clip: f64::INFINITY,
        ..LossConfig::default()
    }
    .validate("f", "loss")
    .is_ok());
    for (bad, key) in [
        (
            LossConfig {
                dual_clip: 1.0,
                ..LossConfig::default()
            },
            "loss.dual_clip",
        ),
        (
            LossConfig {
                eps_low: 1.0,
                ..LossConfig::default()
            },
            "loss.eps_low",
        ),
        (
            LossConfig {
                eps_high: f64::NAN,
                ..LossConfig::default()
            },
            "loss.eps_high",
        ),
        (
            LossConfig {
                kl_coef: -0.1,
                ..LossConfig::default()
            },
            "loss.kl_coef",
        ),
    ] {
        let err = bad.validate("f", "loss").expect_err(key);
        assert!(err.is_input() && err.to_string().contains(key), "{err}");
    }
}

/// Random inputs away from the kinks (clip edges, HP threshold, |Δ| = 0),
/// including clipped, dual-clipped and ±20-clamped tokens.
fn random_case(rng: &mut ChaCha8Rng, n: usize) -> Case {
    let mut c = Case::new(&[], &[], &[]);
    for t in 0..n {
        let adv = if t % 9 == 4 {
            0.0
        } else {
            rng.random_range(0.1..2.0) * if rng.random_bool(0.5) { 1.0 } else { -1.0 }
        };
        // Half near-deterministic (p in 0.96..0.999, HP at τ = 0.95), half not.
        let logp = if t % 2 == 0 {
            rng.random_range(-0.04..-0.001)
        } else {
            rng.random_range(-4.0..-0.2)
        };
        let delta = match t % 10 {
            0..=5 => {
                let d: f64 = rng.random_range(-0.12..0.12);
                if d.abs() < 1e-3 {
                    0.05
                } else {
                    d
                }
            }
            6 | 7 => rng.random_range(0.4..0.7) * if t % 2 == 0 { 1.0 } else { -1.0 },
            8 => 1.5,   // r = 4.5: dual clip for A < 0
            _ => -25.0, // beyond the ±20 clamp (r = e^-20; e^+20 would swamp the difference quotient)
        };
        // Entropy away from the exp(−H) line: |logp + H| > 0.01.
        let mut h: f64 = rng.random_range(0.01..3.0);
        if (logp + h).abs() < 0.01 {
            h += 0.05;
        }
        c.adv.push(adv);
        c.logp.push(logp);
        c.logp_old.push(logp - delta);
        c.entropy.push(h);
    }
    c.logp_ref = Some(
        c.logp
            .iter()
            .enumerate()
            .map(|(t, l)| {
                if t % 13 == 0 {
                    l + 25.0
                } else {
                    l + rng.random_range(-1.0..1.0)
                }
            })
            .collect(),
    );
    c
}

#[test]
fn gradients_match_central_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let c = random_case(&mut rng, 60);
    let d = Directive {
        alpha: 0.37,
        entropy_coef: 0.013,
        ..Directive::default()
    };
    let cfg = LossConfig {
        kl_coef: 0.05,
        ..LossConfig::default()
    };
    let mut arms: Vec<ControlConfig> = Vec::new();
    for w in [Weighting::Official, Weighting::Plain] {
        for th in [Threshold::Tau, Threshold::ExpNegH] {
            for s in [Scope::HighProb, Scope::All] {
                arms.push(ControlConfig {
                    weighting: w,
                    threshold: th,
                    scope: s,
                    ..ctl(Method::Entropic)
                });
            }
        }
    }
    arms.push(ctl(Method::Probe));
    for m in [
        Method::None,
        Method::EntropyBonus,
        Method::AdaptiveEntropy,
        Method::ClipHigher,
    ] {
        arms.push(ctl(m));
    }
    arms.push(ControlConfig {
        clip_cov_ratio: 0.1,
        clip_cov_low: 0.05,
        clip_cov_high: 3.0,
        ..ctl(Method::ClipCov)
    });
    arms.push(ControlConfig {
        kl_cov_ratio: 0.1,
        ..ctl(Method::KlCov)
    });
    let h = 1e-6;
    for arm in &arms {
        let base = c.loss(&cfg, arm, &d, 9);
        // The inputs reach every branch this arm has.
        assert!(
            base.stats.clip_frac > 0.0 || arm.method == Method::KlCov,
            "{arm:?}"
        );
        if matches!(arm.method, Method::ClipCov | Method::KlCov) {
            assert!(base.stats.n_selected > 0, "{:?}", arm.method);
        }
        if arm.method == Method::Entropic {
            assert!(base.stats.n_hp > 0);
        }
        for t in 0..c.adv.len() {
            for which in [0, 1] {
                let eval = |x: f64| {
                    let mut p = c.clone();
                    if which == 0 {
                        p.logp[t] = x;
                    } else {
                        p.entropy[t] = x;
                    }
                    p.loss(&cfg, arm, &d, 9).loss
                };
                let x0 = if which == 0 { c.logp[t] } else { c.entropy[t] };
                let (up, down) = (eval(x0 + h), eval(x0 - h));
                let fd = (up - down) / (2.0 * h);
                let g = if which == 0 {
                    base.dlogp[t]
                } else {
                    base.dentropy[t]
                };
                assert!(
                    (fd - g).abs() < 1e-6 * (1.0 + g.abs()),
                    "{:?} {:?} t{t} {}: fd {fd} vs {g}",
                    arm.method,
                    arm.weighting,
                    ["dlogp", "dentropy"][which]
                );
            }
        }
    }
}

/// Integer token weights equal repeating tokens: weights (2, 1, 1) give the
/// loss and per-token gradient of the batch (t0, t0, t1, t2), with t0's two
/// copies' gradients summed. Checked for the official EntroPIC term and PPO.
#[test]
fn weights_equal_repeated_tokens() {
    let adv = [1.0, -0.5, 0.8];
    let logp = [-0.01, -0.02, -1.5];
    let logp_old = [-0.02, -0.01, -1.4];
    let ent = [0.3, 0.3, 1.2];
    let w = [2.0, 1.0, 1.0];
    let ctl = ControlConfig {
        method: Method::Entropic,
        ..Default::default()
    };
    let d = Directive {
        alpha: 0.4,
        ..Default::default()
    };
    let cfg = LossConfig::default();
    let weighted = TokenInputs {
        adv: &adv,
        logp: &logp,
        logp_old: &logp_old,
        logp_ref: None,
        entropy: &ent,
        weight: Some(&w),
    };
    let a2 = [adv[0], adv[0], adv[1], adv[2]];
    let l2 = [logp[0], logp[0], logp[1], logp[2]];
    let o2 = [logp_old[0], logp_old[0], logp_old[1], logp_old[2]];
    let e2 = [ent[0], ent[0], ent[1], ent[2]];
    let rep = TokenInputs {
        adv: &a2,
        logp: &l2,
        logp_old: &o2,
        logp_ref: None,
        entropy: &e2,
        weight: None,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let lw = token_loss(&cfg, &ctl, &d, &weighted, &mut rng);
    let lr = token_loss(&cfg, &ctl, &d, &rep, &mut rng);
    assert!(
        (lw.loss - lr.loss).abs() < 1e-12,
        "{} vs {}",
        lw.loss,
        lr.loss
    );
    assert!((lw.dlogp[0] - (lr.dlogp[0] + lr.dlogp[1])).abs() < 1e-12);
    assert!((lw.dlogp[2] - lr.dlogp[3]).abs() < 1e-12);
    assert!((lw.stats.hp_frac - lr.stats.hp_frac).abs() < 1e-12);
}
