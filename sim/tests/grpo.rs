//! The simulator's GRPO gradient against central finite differences (vanilla
//! rule: the true gradient of the loss) and against the definitions of the
//! sampled-logit and natural rules, for the tabular, linear and sequence
//! policies; and thread-count independence of the runner.

use entropic_sim::bandit::PolicyKind;
use entropic_sim::control::Directive;
use entropic_sim::entropy::{entropy_grad, softmax, UpdateRule};
use entropic_sim::grpo::Trainer;
use entropic_sim::runner::run_config;
use entropic_sim::scenario::parse;

fn trainer(policy: &str, rule: &str, method: &str) -> Trainer {
    let text = format!(
        r#"
[bandit]
policy = "{policy}"
prompts = 3
actions = 5
features = 4
embed_dim = 4
length = 3
forks = 1
det_margin = 2.0
logit_scale = 1.0
update_rule = "{rule}"
[grpo]
group_size = 6
batch_prompts = 3
temperature = 0.8
[control]
method = "{method}"
tau = 0.3
entropy_coef = 0.05
target = 0.5
"#
    );
    let sc = parse("t.toml", "t", &text).expect("scenario");
    let rc = &sc.runs[0];
    Trainer::new(&rc.bandit, &rc.grpo, &rc.control, 7, "t")
}

/// Loss at the trainer's current parameters for a fixed batch and directive.
fn loss_at(tr: &mut Trainer, batch: &entropic_sim::grpo::Rollout, d: &Directive) -> f64 {
    let n = batch.prompt.len();
    let f = tr.forward(batch, 0, n);
    tr.loss_grad(batch, 0, n, &f, d).0.loss
}

#[test]
fn vanilla_gradient_matches_finite_differences() {
    for policy in ["tabular", "linear", "sequence"] {
        for method in ["entropic", "entropy_bonus", "none"] {
            let mut tr = trainer(policy, "vanilla", method);
            let mut batch = tr.rollout();
            // parameters are perturbed below: no reuse of the rollout's forward pass
            batch.version = u64::MAX;
            assert!(
                batch.adv.iter().any(|&a| a != 0.0),
                "{policy}: degenerate batch"
            );
            let d = Directive {
                alpha: 0.3,
                entropy_coef: 0.05,
                ..Default::default()
            };
            let n = batch.prompt.len();
            let f = tr.forward(&batch, 0, n);
            tr.loss_grad(&batch, 0, n, &f, &d);
            let grad = tr.grad.clone();
            let h = 1e-6;
            #[allow(clippy::needless_range_loop)] // params is mutated inside
            for i in 0..tr.policy.params.len() {
                let x = tr.policy.params[i];
                tr.policy.params[i] = x + h;
                let lp = loss_at(&mut tr, &batch, &d);
                tr.policy.params[i] = x - h;
                let lm = loss_at(&mut tr, &batch, &d);
                tr.policy.params[i] = x;
                let fd = (lp - lm) / (2.0 * h);
                assert!(
                    (fd - grad[i]).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{policy}/{method} param {i}: fd {fd} vs {}",
                    grad[i]
                );
            }
        }
    }
}

/// Sampled-logit and natural rules: the logit gradient of a context is
/// `Σ_t c_t·e_{a_t}/T` (sampled-logit) or `Σ_t c_t·e_{a_t}/(π_{a_t} T)`
/// (natural), plus `Σ_t d_t·∂H/∂z`, with `c_t = ∂L/∂logp_t` and
/// `d_t = ∂L/∂H_t` from the shared token loss (docs/mathematics.md §4). Tabular: the
/// parameter gradient is the logit gradient.
#[test]
fn sampled_logit_and_natural_rules_follow_their_definition() {
    for rule in [UpdateRule::SampledLogit, UpdateRule::Natural] {
        let mut tr = trainer("tabular", rule.name(), "entropy_bonus");
        let mut batch = tr.rollout();
        // parameters are perturbed below: no reuse of the rollout's forward pass
        batch.version = u64::MAX;
        let d = Directive {
            entropy_coef: 0.05,
            ..Default::default()
        };
        let n = batch.prompt.len();
        let f = tr.forward(&batch, 0, n);
        let (out, _) = tr.loss_grad(&batch, 0, n, &f, &d);
        let (k, t) = (tr.policy.k, tr.grpo.temperature);
        let mut expect = vec![0.0; tr.policy.params.len()];
        for i in 0..n {
            let m = batch.prompt[i] as usize;
            let z = &tr.policy.params[m * k..(m + 1) * k];
            let p = softmax(z, t);
            let a = batch.act[i] as usize;
            let c = out.dlogp[i];
            expect[m * k + a] += match rule {
                UpdateRule::SampledLogit => c / t,
                _ => c / (p[a] * t),
            };
            for (j, g) in entropy_grad(&p, t).iter().enumerate() {
                expect[m * k + j] += out.dentropy[i] * g;
            }
        }
        for (i, (e, g)) in expect.iter().zip(&tr.grad).enumerate() {
            assert!((e - g).abs() < 1e-12, "{rule:?} param {i}: {e} vs {g}");
        }
    }
}

#[test]
fn policies_have_the_documented_parameter_counts() {
    // tabular M·K; linear K·D; sequence L·(K+1)·K + M·L·K
    assert_eq!(
        trainer("tabular", "vanilla", "none").policy.params.len(),
        3 * 5
    );
    assert_eq!(
        trainer("linear", "vanilla", "none").policy.params.len(),
        5 * 4
    );
    let s = trainer("sequence", "vanilla", "none");
    assert_eq!(s.policy.kind, PolicyKind::Sequence);
    assert_eq!(s.policy.params.len(), 3 * 6 * 5 + 3 * 3 * 5);
}

#[test]
fn records_are_identical_on_one_and_two_threads() {
    let text = r#"
steps = 30
[bandit]
policy = "sequence"
prompts = 16
actions = 8
[grpo]
batch_prompts = 8
ppo_epochs = 2
minibatches = 2
lag = 1
[control]
method = "clip_cov"
"#;
    let sc = parse("t.toml", "t", text).expect("scenario");
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let runs = pool.install(|| run_config(&sc.runs[0], 4, &|| {}));
        runs.iter()
            .flat_map(|r| {
                r.records
                    .iter()
                    .map(|x| serde_json::to_string(x).expect("json"))
            })
            .collect::<Vec<_>>()
    };
    let one = run(1);
    assert_eq!(one.len(), 4 * 30);
    assert_eq!(one, run(2));
}

#[test]
fn a_non_finite_step_is_an_error_naming_step_seed_and_quantity() {
    let mut tr = trainer("tabular", "vanilla", "entropic");
    for _ in 0..3 {
        tr.step(true).expect("finite steps");
    }
    tr.policy.params.iter_mut().for_each(|x| *x = f64::NAN);
    let e = tr.step(true).expect_err("NaN parameters must stop the run");
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            entropic_sim::SimError::NonFinite {
                step: 3,
                seed: 7,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("step 3") && msg.contains("seed 7") && msg.contains("entropy"),
        "{msg}"
    );
}

/// Reusing the rollout's probabilities in the first on-policy forward pass
/// gives the same numbers as recomputing them, for every policy that keeps
/// them (one context per group, or one per position), over the whole batch
/// and over a minibatch that starts mid-batch; and the loss gradient is the
/// same either way.
#[test]
fn cached_forward_equals_recomputed() {
    for policy in ["tabular", "linear", "per_position", "factored"] {
        let mut tr = trainer(policy, "vanilla", "entropic");
        let batch = tr.rollout();
        assert!(!batch.probs.is_empty(), "{policy} keeps no probabilities");
        let mut fresh = batch.clone();
        fresh.version = u64::MAX;
        let n = batch.prompt.len();
        for t0 in [0, batch.group_start[1]] {
            let a = tr.forward(&batch, t0, n);
            let b = tr.forward(&fresh, t0, n);
            assert!(a.cached_from.is_some() && b.cached_from.is_none());
            assert_eq!(a.logp, b.logp, "{policy}");
            assert_eq!(a.ent, b.ent, "{policy}");
            assert_eq!(a.runs, b.runs, "{policy}");
            let k = tr.policy.k;
            for r in 0..a.runs.len() - 1 {
                assert_eq!(a.run_probs(&batch, r, k), b.run_probs(&fresh, r, k));
            }
            let d = Directive {
                alpha: 0.3,
                ..Default::default()
            };
            tr.loss_grad(&batch, t0, n, &a, &d);
            let ga = tr.grad.clone();
            tr.loss_grad(&fresh, t0, n, &b, &d);
            assert_eq!(ga, tr.grad, "{policy}");
        }
    }
}

#[test]
fn cdf_sampling_equals_the_linear_scan() {
    use entropic_sim::grpo::{sample_cdf, sample_index};
    let p = [0.1, 0.25, 0.0, 0.4, 0.25];
    let mut acc = 0.0;
    let cdf: Vec<f64> = p
        .iter()
        .map(|x| {
            acc += x;
            acc
        })
        .collect();
    for i in 0..1000 {
        let u = i as f64 / 1000.0;
        assert_eq!(sample_cdf(&cdf, u), sample_index(&p, u), "u = {u}");
    }
}

/// Twins stay twins (docs/mathematics.md §7's paired probe): a probe whose
/// α is 0 on steps 0–49 and +1 from step 50 against its plain twin (method
/// none), sequence policy of length 3, sampled rollouts, B < M so the
/// prompt choice draws too.
///
/// Timing of a step's record: `entropy` (the behaviour entropy of the batch
/// sampled before the update), `reward_mean` and `hp_frac` (the loss's
/// high-probability share, read from the forward pass before the optimizer
/// moves) describe the step's batch; `entropy_exact` and `pass_rate` are
/// taken after the step's update. α = probe_alpha(schedule, t) acts first
/// in the update of step 50, so records 0–49 are identical (except the
/// probe's own control fields), record 50 has the same batch figures, and
/// the first figures that differ are record 50's `entropy_exact` and
/// `pass_rate`. The prompts of every later batch stay the same (keyed by
/// seed and batch, not drawn from a stream the arms use differently).
#[test]
fn a_probe_and_its_plain_twin_agree_until_alpha_first_acts() {
    let run = |method: &str, extra: &str| {
        let text = format!(
            r#"
[bandit]
policy = "sequence"
prompts = 6
actions = 5
length = 3
forks = 1
logit_scale = 1.0
[grpo]
group_size = 4
batch_prompts = 3
temperature = 1.0
lr = 0.05
[control]
method = "{method}"
target = 0.5
{extra}
"#
        );
        let sc = parse("t.toml", "t", &text).expect("scenario");
        let rc = &sc.runs[0];
        let mut tr = Trainer::new(&rc.bandit, &rc.grpo, &rc.control, 11, "t");
        let recs: Vec<_> = (0..60).map(|_| tr.step(true).expect("step")).collect();
        (recs, tr)
    };
    let (plain, mut plain_tr) = run("none", "");
    let (probe, mut probe_tr) = run("probe", "alpha_max = 1.0\nprobe = [[50, 0.0], [1000, 1.0]]");
    let batch = |r: &entropic_sim::metrics::Record| (r.entropy, r.hp_frac, r.reward_mean, r.tokens);
    let after = |r: &entropic_sim::metrics::Record| {
        (r.entropy_exact, r.pass_rate, r.clip_frac, r.grad_norm, r.kl)
    };
    for t in 0..50 {
        assert_eq!(probe[t].alpha, Some(0.0), "step {t}");
        assert_eq!(batch(&plain[t]), batch(&probe[t]), "step {t}");
        assert_eq!(after(&plain[t]), after(&probe[t]), "step {t}");
    }
    assert_eq!(probe[50].alpha, Some(1.0));
    assert_eq!(batch(&plain[50]), batch(&probe[50]));
    assert_ne!(plain[50].entropy_exact, probe[50].entropy_exact);
    assert_ne!(plain[51].entropy, probe[51].entropy);
    assert_eq!(plain_tr.rollout().prompt, probe_tr.rollout().prompt);
}

/// The rollout draws nothing from the trainer's sequential stream (which
/// the loss's clip_cov draws use): a trainer whose stream was advanced
/// samples the same batch, prompts and actions.
#[test]
fn the_rollout_does_not_depend_on_the_loss_stream() {
    use rand::Rng;
    for policy in ["tabular", "sequence"] {
        let mut a = trainer(policy, "vanilla", "clip_cov");
        a.grpo.batch_prompts = 2;
        let mut b = a.clone();
        let _: u64 = b.rng.random();
        let (ra, rb) = (a.rollout(), b.rollout());
        assert_eq!(ra.prompt, rb.prompt, "{policy}");
        assert_eq!(ra.act, rb.act, "{policy}");
    }
}

/// `zero_adv_frac` is the share of a batch's groups whose responses all
/// got the same reward (their advantages all zero), counted from the
/// rollout's rewards, and the record carries the trained batch's value.
#[test]
fn zero_adv_frac_counts_groups_with_equal_rewards() {
    let mut tr = trainer("sequence", "vanilla", "none");
    let batch = tr.rollout();
    let groups = batch.group_start.len() - 1;
    let equal = batch
        .group_start
        .windows(2)
        .filter(|w| {
            let a = &batch.adv[w[0]..w[1]];
            a.iter().all(|x| *x == a[0])
        })
        .count();
    assert!(groups > 0);
    assert_eq!(batch.zero_adv_frac(), equal as f64 / groups as f64);
    // a made-up batch: one group of equal rewards (zero advantages), one not
    let mut b = batch.clone();
    b.group_start = vec![0, 2, 4];
    b.adv = vec![0.0, 0.0, 0.7, -0.7];
    assert_eq!(b.zero_adv_frac(), 0.5);
    let r = tr.step(true).expect("step");
    let f = r.zero_adv_frac.expect("recorded");
    assert!((0.0..=1.0).contains(&f));
}
