//! The LLM-like policies (`per_position`, `factored`; sim::positional):
//! the factored gradient against finite differences, the exact entropy and
//! pass rate against Monte Carlo through the trainer's own rollout, the
//! initial tail mass against `tail_mass`, the entropy composition in the
//! record, and the validation of the new keys.

use entropic_sim::control::Directive;
use entropic_sim::entropy::{entropy, softmax};
use entropic_sim::grpo::{Rollout, Trainer};
use entropic_sim::scenario::parse;

fn trainer(text: &str, seed: u64) -> Trainer {
    let sc = parse("t.toml", "t", text).expect("scenario");
    let rc = &sc.runs[0];
    Trainer::new(&rc.bandit, &rc.grpo, &rc.control, seed, "t")
}

fn loss_at(tr: &mut Trainer, batch: &Rollout, d: &Directive) -> f64 {
    let n = batch.prompt.len();
    let f = tr.forward(batch, 0, n);
    tr.loss_grad(batch, 0, n, &f, d).0.loss
}

/// The trainer's analytic parameter gradient of the token loss (through
/// `E·h`, both factors) against central finite differences of the loss, on
/// every parameter of a small factored instance: relative error < 1e-5.
#[test]
fn factored_gradient_matches_finite_differences() {
    for method in ["none", "entropic", "entropy_bonus"] {
        let mut tr = trainer(
            &format!(
                "[bandit]\npolicy = \"factored\"\nprompts = 2\nactions = 12\nembed_dim = 5\n\
                 length = 3\nforks = 1\nlogit_scale = 1.0\ntail_mass = 0.2\ntail_shape = \"zipf\"\n\
                 [grpo]\ngroup_size = 6\nbatch_prompts = 2\ntemperature = 0.8\n\
                 [control]\nmethod = \"{method}\"\ntau = 0.5\nentropy_coef = 0.05\ntarget = 0.5\n"
            ),
            5,
        );
        // training moves the init off its special structure (zeros in E)
        for _ in 0..3 {
            tr.step(false).expect("step");
        }
        let mut batch = tr.rollout();
        batch.version = u64::MAX;
        assert!(
            batch.adv.iter().any(|&a| a != 0.0),
            "{method}: degenerate batch"
        );
        let d = Directive {
            alpha: 0.4,
            entropy_coef: 0.05,
            ..Default::default()
        };
        let n = batch.prompt.len();
        let f = tr.forward(&batch, 0, n);
        tr.loss_grad(&batch, 0, n, &f, &d);
        let grad = tr.grad.clone();
        let h = 1e-6;
        let mut fd = vec![0.0; grad.len()];
        for (i, g) in fd.iter_mut().enumerate() {
            let x = tr.policy.params[i];
            tr.policy.params[i] = x + h;
            let lp = loss_at(&mut tr, &batch, &d);
            tr.policy.params[i] = x - h;
            let lm = loss_at(&mut tr, &batch, &d);
            tr.policy.params[i] = x;
            *g = (lp - lm) / (2.0 * h);
        }
        let diff = fd
            .iter()
            .zip(&grad)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        assert!(norm > 1e-6, "{method}: zero gradient");
        let rel = diff / norm;
        eprintln!("factored/{method}: |fd − analytic| / |analytic| = {rel:.2e}");
        assert!(rel < 1e-5, "{method}: relative error {rel:e}");
    }
}

/// Exact token-mean entropy and pass rate against Monte Carlo from the
/// trainer's rollout (no updates): the sampled NLL is an unbiased estimate of
/// the entropy, the mean reward of the pass rate; tolerance 4 standard errors.
#[test]
fn exact_entropy_and_pass_rate_match_monte_carlo() {
    for (policy, extra) in [
        ("per_position", "actions = 64\n"),
        (
            "per_position",
            "actions = 64\ntail_shape = \"zipf\"\nfork_width = 6\n",
        ),
        (
            "factored",
            "actions = 256\nembed_dim = 8\ntail_shape = \"zipf\"\n",
        ),
        (
            "factored",
            "actions = 256\nembed_dim = 8\ntail_reward = \"neutral\"\n",
        ),
    ] {
        let mut tr = trainer(
            &format!(
                "[bandit]\npolicy = \"{policy}\"\nprompts = 6\n{extra}length = 6\nforks = 2\n\
                 tail_mass = 0.1\npass_rate = [0.3, 0.7]\n\
                 [grpo]\ngroup_size = 50\nbatch_prompts = 6\ntemperature = 0.8\n"
            ),
            11,
        );
        let (h_exact, pass_exact) = tr.policy.exact_entropy_and_pass(tr.grpo.temperature);
        let (mut nll, mut nll2, mut nt, mut rewards) = (0.0, 0.0, 0usize, 0.0);
        let rounds = 60;
        for _ in 0..rounds {
            let r = tr.rollout();
            for &lp in &r.logp_old {
                nll -= lp;
                nll2 += lp * lp;
                nt += 1;
            }
            rewards += r.reward_mean;
        }
        let n_resp = (rounds * 6 * 50) as f64;
        let h_mc = nll / nt as f64;
        let h_se = ((nll2 / nt as f64 - h_mc * h_mc) / nt as f64).sqrt();
        let pass_mc = rewards / rounds as f64;
        let pass_se = (pass_mc * (1.0 - pass_mc) / n_resp).sqrt();
        eprintln!(
            "{policy} {}: H exact {h_exact:.4} MC {h_mc:.4} ± {h_se:.4}; pass exact {pass_exact:.4} MC {pass_mc:.4} ± {pass_se:.4}",
            extra.trim().replace('\n', ", ")
        );
        assert!(
            (h_exact - h_mc).abs() < 4.0 * h_se,
            "{policy} {extra}: entropy {h_exact} vs MC {h_mc} ± {h_se}"
        );
        assert!(
            (pass_exact - pass_mc).abs() < 4.0 * pass_se.max(1e-9),
            "{policy} {extra}: pass {pass_exact} vs MC {pass_mc} ± {pass_se}"
        );
    }
}

/// The mean over near-deterministic positions of 1 − p_top at T = 1 is
/// `tail_mass` within ±10% (here: to rounding, since both policies set it
/// exactly), flat and Zipf, at the largest vocabularies.
#[test]
fn initial_tail_mass_is_tail_mass() {
    for (policy, k, extra) in [
        ("per_position", 4096, ""),
        ("factored", 32768, "embed_dim = 16\n"),
    ] {
        for shape in ["flat", "zipf"] {
            for q in [0.005, 0.03, 0.1] {
                let tr = trainer(
                    &format!(
                        "[bandit]\npolicy = \"{policy}\"\nprompts = 3\nactions = {k}\n{extra}\
                         length = 8\nforks = 2\ntail_mass = {q}\ntail_shape = \"{shape}\"\n\
                         [grpo]\nbatch_prompts = 3\n"
                    ),
                    2,
                );
                let pol = &tr.policy;
                let mut z = vec![0.0; k];
                let (mut tail, mut n) = (0.0, 0);
                for m in 0..pol.m {
                    for pos in (0..pol.l).filter(|p| !pol.fork_pos.contains(p)) {
                        pol.logits(m, pos, 0, &mut z);
                        let p = softmax(&z, 1.0);
                        let (top, &p_top) = p
                            .iter()
                            .enumerate()
                            .max_by(|a, b| a.1.total_cmp(b.1))
                            .expect("k > 0");
                        assert!(
                            pol.accepted(m, pos, top),
                            "the top token is the correct one"
                        );
                        tail += 1.0 - p_top;
                        n += 1;
                        if shape == "zipf" {
                            // largest / second-largest tail probability = 2^s (s = 1)
                            let mut t: Vec<f64> = p.clone();
                            t.sort_by(|a, b| b.total_cmp(a));
                            assert!((t[1] / t[2] - 2.0).abs() < 1e-9, "{policy}: zipf ratio");
                        } else {
                            let lo = p.iter().cloned().fold(1.0, f64::min);
                            let expect = q / (k - 1) as f64;
                            assert!((lo - expect).abs() < 1e-9 * expect, "{policy}: flat tail");
                        }
                    }
                }
                let mean = tail / n as f64;
                assert_eq!(n, 3 * 6);
                assert!(
                    (mean - q).abs() <= 0.1 * q,
                    "{policy}/{shape}: tail {mean} vs {q}"
                );
                assert!(
                    (mean - q).abs() < 1e-9,
                    "{policy}/{shape}: set exactly: {mean} vs {q}"
                );
            }
        }
    }
}

/// docs/mathematics.md §8's worked figure: a position with top probability
/// 0.95 and 0.05 spread evenly over 4,095 other tokens carries 0.61 nats.
#[test]
fn a_near_deterministic_position_carries_the_documented_entropy() {
    let tr = trainer(
        "[bandit]\npolicy = \"per_position\"\nprompts = 2\nactions = 4096\nlength = 4\nforks = 0\n\
         tail_mass = 0.05\n[grpo]\nbatch_prompts = 2\n",
        1,
    );
    let (h, pass) = tr.policy.exact_entropy_and_pass(1.0);
    let expect = -0.95f64 * 0.95f64.ln() - 0.05 * (0.05f64 / 4095.0).ln();
    assert!((h - expect).abs() < 1e-9, "{h} vs {expect}");
    assert!((expect - 0.61).abs() < 0.01);
    assert!((pass - 0.95f64.powi(4)).abs() < 1e-9, "{pass}");
    // and one position's distribution entropy, straight from its logits
    let mut z = vec![0.0; 4096];
    tr.policy.logits(0, 0, 0, &mut z);
    assert!((entropy(&softmax(&z, 1.0)) - expect).abs() < 1e-9);
}

/// An update at one position moves the factored tails at the others (the
/// shared embedding), and leaves a per-position policy's other prompts alone:
/// one step on one prompt moves every prompt's logits (factored) or only
/// that prompt's (per_position).
#[test]
fn factored_updates_are_shared_and_per_position_ones_are_not() {
    for (policy, moved_expect) in [("factored", 4), ("per_position", 1)] {
        let mut seed = 0;
        let (before, tr) = loop {
            let mut tr = trainer(
                &format!(
                    "[bandit]\npolicy = \"{policy}\"\nprompts = 4\nactions = 64\nembed_dim = 8\n\
                     length = 4\nforks = 1\npass_rate = [0.4, 0.6]\n\
                     [grpo]\ngroup_size = 8\nbatch_prompts = 1\n"
                ),
                seed,
            );
            let before = tr.policy.clone();
            let r = tr.step(false).expect("step");
            if r.reward_mean.is_some_and(|x| x > 0.0 && x < 1.0) {
                break (before, tr);
            }
            seed += 1;
            assert!(seed < 50, "no informative first step");
        };
        let mut z0 = vec![0.0; 64];
        let mut z1 = vec![0.0; 64];
        let moved = (0..4)
            .filter(|&m| {
                (0..4).any(|pos| {
                    before.logits(m, pos, 0, &mut z0);
                    tr.policy.logits(m, pos, 0, &mut z1);
                    z0 != z1
                })
            })
            .count();
        assert_eq!(moved, moved_expect, "{policy}");
    }
}

#[test]
fn the_record_carries_the_entropy_composition() {
    let mut tr = trainer(
        "[bandit]\npolicy = \"per_position\"\nprompts = 4\nactions = 256\nlength = 8\n\
         tail_mass = 0.03\n[grpo]\nbatch_prompts = 4\n[control]\ntau = 0.95\n",
        4,
    );
    let r = tr.step(true).expect("step");
    let (frac, share, tail) = (
        r.hp_frac.expect("hp_frac"),
        r.hp_entropy_share.expect("share"),
        r.tail_mass_hp.expect("tail"),
    );
    // 6 of 8 positions near-deterministic with p_top = 0.97 > τ: most of
    // those tokens are HP; they leave exactly 0.03 each
    assert!(frac > 0.5 && frac < 0.8, "{frac}");
    assert!((tail - 0.03).abs() < 1e-9, "{tail}");
    assert!(share > 0.0 && share < 1.0, "{share}");
}

#[test]
fn the_new_keys_are_validated() {
    let err = |text: &str| match parse("t.toml", "t", text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    };
    let cases = [
        (
            "policy = \"per_position\"\nactions = 4097",
            "bandit.actions",
            "4096",
        ),
        (
            "policy = \"factored\"\nactions = 40000",
            "bandit.actions",
            "32768",
        ),
        (
            "policy = \"per_position\"\nlength = 65\nforks = 2",
            "bandit.length",
            "64",
        ),
        ("policy = \"sequence\"\nlength = 17", "bandit.length", "16"),
        (
            "policy = \"per_position\"\nlength = 4\nforks = 5",
            "bandit.forks",
            "L",
        ),
        (
            "policy = \"per_position\"\ntail_mass = 0.0",
            "bandit.tail_mass",
            "(0, 1)",
        ),
        (
            "policy = \"factored\"\ntail_mass = 1.0",
            "bandit.tail_mass",
            "(0, 1)",
        ),
        (
            "policy = \"per_position\"\ntail_zipf = -1.0",
            "bandit.tail_zipf",
            "0..=10",
        ),
        (
            "policy = \"factored\"\nembed_dim = 65\nactions = 128",
            "bandit.embed_dim",
            "2..=64",
        ),
        (
            "policy = \"factored\"\nembed_dim = 32\nactions = 16",
            "bandit.embed_dim",
            "<= bandit.actions",
        ),
        (
            "policy = \"factored\"\nembed_dim = 8\nfork_width = 8",
            "bandit.fork_width",
            "2..=7",
        ),
        (
            "policy = \"per_position\"\nfork_width = 1",
            "bandit.fork_width",
            "0 or 2..=16",
        ),
        (
            "policy = \"per_position\"\nfork_width = 3\ncorrect_size = 3",
            "bandit.correct_size",
            "1..=2",
        ),
        (
            "policy = \"factored\"\nsampling = \"exact\"",
            "bandit.sampling",
            "tabular and linear",
        ),
        ("tail_shape = \"pareto\"", "tail_shape", "one of flat, zipf"),
        (
            "tail_reward = \"half\"",
            "tail_reward",
            "one of zero, neutral",
        ),
    ];
    for (body, key, range) in cases {
        let e = err(&format!("[bandit]\n{body}\n"));
        assert!(
            e.contains("t.toml") && e.contains(key) && e.contains(range),
            "{body}: {e}"
        );
    }
    // the limits themselves are accepted
    for body in [
        "policy = \"per_position\"\nactions = 4096\nlength = 64\nforks = 64\nprompts = 1",
        "policy = \"factored\"\nactions = 32768\nembed_dim = 64\nlength = 2\nprompts = 1",
    ] {
        parse(
            "t.toml",
            "t",
            &format!("[bandit]\n{body}\n[grpo]\nbatch_prompts = 1\n"),
        )
        .unwrap_or_else(|e| panic!("{body}: {e}"));
    }
}
