//! The estimators (docs/mathematics.md §9) on a sampled toy plant: the
//! simulator's trainer, not a scalar model, so the plant's gain is not
//! known in closed form. Its reference `g` is the paired slope of the exact
//! entropy (`entropy_exact`, no measurement noise) pooled over 64 seeds of
//! sampled twins; the estimators under test see what a user sees, the
//! noisy batch `entropy` of one or two seeds.
use super::*;
use entropic_sim::bandit::{BanditConfig, PolicyKind};
use entropic_sim::control::{ControlConfig, Method};
use entropic_sim::grpo::{GrpoConfig, Trainer};
use entropic_sim::optim::OptimizerKind;
use rayon::prelude::*;

/// A sampled toy plant and the probe design run on it.
#[derive(Debug, Clone, Copy)]
struct Toy {
    optimizer: OptimizerKind,
    lr: f64,
    steps: usize,
    /// PRBS amplitude (levels ±amplitude, hold [`HOLD`]), or the constant α.
    amplitude: f64,
    design: Design,
}

/// The probe arm's schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Design {
    /// Every seed its own PRBS ([`SCHEDULE_SEED0`]).
    Prbs,
    /// Every seed the one PRBS drawn with this seed.
    FixedPrbs(u64),
    /// α = amplitude from step 0 on (the regime map's constant-α arms).
    Constant,
}

/// PRBS minimum hold, as on the scalar plant.
const HOLD: usize = 10;
/// Every seed runs its own PRBS, drawn with seed `SCHEDULE_SEED0 + seed`:
/// as on the scalar plant, a repetition is a new experiment, schedule
/// included (a PRBS is a randomised design; with one schedule for every
/// repetition, its chance correlation with the drift's curvature is one
/// fixed bias, see [`sampled_toy_coverage_full`]).
const SCHEDULE_SEED0: u64 = 77_000;
/// Seeds of the reference: 0..64. Repetitions use seeds from
/// [`REP_SEED0`] on, never a reference seed.
const REF_SEEDS: u64 = 64;
const REP_SEED0: u64 = 1000;
/// Seeds the paired estimator pools in one repetition.
const PAIRED_SEEDS: u64 = 2;

/// The regime map's core cell `core-*-k16-q0.03` (src/lab/map/cells.rs):
/// per-position policy, K = 16, length 8 with 2 forks of 8 candidates,
/// tail mass 0.03, 128 prompts (32 per batch, G = 8), pass rates drawn in
/// [0.1, 0.6]. One instance (`instance_seed = 0`) for every seed, so the
/// reference and the repetitions measure the same plant and the seeds vary
/// only the sampling. Chosen before any coverage was measured, with the
/// map's two calibrated optimizers (Adam 0.02, plain SGD 70).
fn bandit() -> BanditConfig {
    BanditConfig {
        policy: PolicyKind::PerPosition,
        prompts: 128,
        actions: 16,
        length: 8,
        forks: 2,
        logit_scale: 1.0,
        fork_width: 8,
        pass_rate: vec![0.1, 0.6],
        tail_mass: 0.03,
        instance_seed: Some(0),
        ..BanditConfig::default()
    }
}

fn grpo(toy: &Toy) -> GrpoConfig {
    GrpoConfig {
        group_size: 8,
        batch_prompts: 32,
        optimizer: toy.optimizer,
        lr: toy.lr,
        ..GrpoConfig::default()
    }
}

fn schedule(toy: &Toy, seed: u64) -> Vec<f64> {
    // A draw that never switches (10 equal coin flips at 100 steps) cannot
    // identify anything: a user would draw again, and so do we.
    let mut s = match toy.design {
        Design::Constant => return vec![toy.amplitude; toy.steps],
        Design::FixedPrbs(s) => s,
        Design::Prbs => SCHEDULE_SEED0 + seed,
    };
    loop {
        let a = prbs(toy.steps, toy.amplitude, HOLD, s);
        if a.iter().any(|&x| x != a[0]) {
            return a;
        }
        s += 1_000_000;
    }
}

/// Run-length `(steps, α)` pairs of a schedule (the probe method's form).
fn pairs(alpha: &[f64]) -> Vec<(usize, f64)> {
    let mut out: Vec<(usize, f64)> = Vec::new();
    for &a in alpha {
        match out.last_mut() {
            Some(p) if p.1 == a => p.0 += 1,
            _ => out.push((1, a)),
        }
    }
    out
}

/// One arm's series.
#[derive(Debug, Clone)]
struct Arm {
    /// Batch entropy of step t's rollout (the policy before update t).
    batch: Vec<f64>,
    /// Exact entropy of the policy before update t (empty unless asked).
    exact: Vec<f64>,
    /// α of update t.
    alpha: Vec<f64>,
}

/// One arm of `toy` for `seed`: the probe under `schedule`, or the plain
/// twin (method none) when `None`; same seed, same keyed draws.
fn arm(toy: &Toy, schedule: Option<&[f64]>, seed: u64, exact: bool) -> Arm {
    let control = match schedule {
        Some(s) => ControlConfig {
            method: Method::Probe,
            target: 0.3,
            probe: pairs(s),
            alpha_max: f64::INFINITY,
            ..ControlConfig::default()
        },
        None => ControlConfig::default(),
    };
    let (b, g) = (bandit(), grpo(toy));
    let mut tr = Trainer::new(&b, &g, &control, seed, "toy");
    let mut out = Arm {
        batch: Vec::with_capacity(toy.steps),
        exact: Vec::new(),
        alpha: Vec::with_capacity(toy.steps),
    };
    if exact {
        out.exact
            .push(tr.policy.exact_entropy_and_pass(g.temperature).0);
    }
    for _ in 0..toy.steps {
        let r = tr.step(exact).expect("the toy runs");
        out.batch.push(r.entropy);
        out.alpha.push(r.alpha.unwrap_or(0.0));
        if exact {
            out.exact.push(r.entropy_exact.unwrap_or(f64::NAN));
        }
    }
    // The exact entropy after the last update belongs to no batch.
    out.exact.truncate(toy.steps);
    out
}

/// Probe and plain twin of `seed`.
fn twins(toy: &Toy, seed: u64, exact: bool) -> (Arm, Arm) {
    let s = schedule(toy, seed);
    (arm(toy, Some(&s), seed, exact), arm(toy, None, seed, exact))
}

/// The reference `g`: the paired slope of the exact entropy, pooled over
/// seeds `0..REF_SEEDS` (delay 0: α of update t moves the entropy before
/// update t + 1).
fn reference(toy: &Toy) -> GainEstimate {
    let runs: Vec<(Arm, Arm)> = (0..REF_SEEDS)
        .into_par_iter()
        .map(|s| twins(toy, s, true))
        .collect();
    let tw: Vec<Twin> = runs
        .iter()
        .map(|(p, q)| Twin {
            probe: &p.exact,
            plain: &q.exact,
            alpha: &p.alpha,
        })
        .collect();
    paired(&tw, 0).expect("reference fit")
}

/// One estimator's figures over the repetitions.
#[derive(Debug, Clone, Copy)]
struct Stat {
    /// Repetitions whose 95% interval covers the reference.
    covers: usize,
    /// Mean and standard deviation of `ĝ` over the repetitions.
    mean: f64,
    sd: f64,
    /// Mean reported `SE(ĝ)`, interval width and `g_detectable`.
    se: f64,
    width: f64,
    detectable: f64,
}

impl Stat {
    fn of(fits: &[GainEstimate], truth: f64) -> Stat {
        let n = fits.len() as f64;
        let mean = fits.iter().map(|f| f.g).sum::<f64>() / n;
        let var = fits.iter().map(|f| (f.g - mean).powi(2)).sum::<f64>() / (n - 1.0);
        Stat {
            covers: fits.iter().map(|f| covers(f.g_ci, truth)).sum(),
            mean,
            sd: var.sqrt(),
            se: fits.iter().map(|f| f.g_se).sum::<f64>() / n,
            width: fits.iter().map(|f| width(f.g_ci)).sum::<f64>() / n,
            detectable: fits.iter().map(|f| f.g_detectable).sum::<f64>() / n,
        }
    }
}

/// Coverage of the reference over `reps` repetitions.
#[derive(Debug)]
struct Coverage {
    reps: usize,
    reference: GainEstimate,
    /// Paired estimator on the batch entropy of [`PAIRED_SEEDS`] seeds.
    paired: Stat,
    /// Unpaired (prewhitened HAC) on one seed's probe arm (PRBS designs).
    unpaired: Option<Stat>,
    /// Unpaired with the schedule as regressor on one seed's plain arm
    /// (true g = 0): repetitions that cover 0 (PRBS designs).
    placebo: Option<usize>,
}

fn width(ci: (f64, f64)) -> f64 {
    ci.1 - ci.0
}

fn coverage(toy: &Toy, reps: usize) -> Coverage {
    let reference = reference(toy);
    let prbs = toy.design != Design::Constant;
    type Fits = (GainEstimate, Option<(GainEstimate, GainEstimate)>);
    let fits: Vec<Fits> = (0..reps as u64)
        .into_par_iter()
        .map(|r| {
            let runs: Vec<(Arm, Arm)> = (0..PAIRED_SEEDS)
                .map(|j| twins(toy, REP_SEED0 + PAIRED_SEEDS * r + j, false))
                .collect();
            let tw: Vec<Twin> = runs
                .iter()
                .map(|(p, q)| Twin {
                    probe: &p.batch,
                    plain: &q.batch,
                    alpha: &p.alpha,
                })
                .collect();
            let (p, q) = &runs[0];
            let one = prbs.then(|| {
                (
                    unpaired(&p.batch, &p.alpha, 0).expect("unpaired fit"),
                    unpaired(&q.batch, &p.alpha, 0).expect("placebo fit"),
                )
            });
            (paired(&tw, 0).expect("paired fit"), one)
        })
        .collect();
    let g = reference.g;
    let pf: Vec<GainEstimate> = fits.iter().map(|f| f.0.clone()).collect();
    let uf: Vec<GainEstimate> = fits
        .iter()
        .filter_map(|f| f.1.clone().map(|u| u.0))
        .collect();
    Coverage {
        reps,
        paired: Stat::of(&pf, g),
        unpaired: prbs.then(|| Stat::of(&uf, g)),
        placebo: prbs.then(|| {
            fits.iter()
                .filter_map(|f| f.1.as_ref().map(|u| covers(u.1.g_ci, 0.0)))
                .sum()
        }),
        reference,
    }
}

fn covers(ci: (f64, f64), x: f64) -> usize {
    usize::from(ci.0 < x && x < ci.1)
}

fn print(name: &str, c: &Coverage) {
    let r = &c.reference;
    let stat = |s: &Stat| {
        format!(
            "covers {}/{} (mean g {:.4e}, sd {:.2e} vs mean SE {:.2e}, width {:.2e}, detectable {:.2e})",
            s.covers, c.reps, s.mean, s.sd, s.se, s.width, s.detectable
        )
    };
    println!(
        "{name}: reference g {:.4e} [{:.4e}, {:.4e}] (width {:.2e}), b {:.3e}\n  paired {}\n  unpaired {}\n  placebo covers 0 in {:?}",
        r.g,
        r.g_ci.0,
        r.g_ci.1,
        width(r.g_ci),
        r.b,
        stat(&c.paired),
        c.unpaired.as_ref().map_or("-".into(), stat),
        c.placebo
    );
}

const SGD: Toy = Toy {
    optimizer: OptimizerKind::Sgd,
    lr: 70.0,
    steps: 300,
    amplitude: 1.0,
    design: Design::Constant,
};
const ADAM: Toy = Toy {
    optimizer: OptimizerKind::Adam,
    lr: 0.02,
    ..SGD
};

/// The gain at which a two-sided 5% test rejects `g = 0` with 80% power
/// when `ĝ` is normal with the repetitions' own spread: `(z_{0.975} +
/// z_{0.80})·sd`. (A bisection over the gain, as on the scalar plant, is
/// not available: the toy's gain is not a knob, and scaling α instead moves
/// the gain itself, the plant being nonlinear in α.)
fn power_gain(sd: f64) -> f64 {
    (1.959_964 + 0.841_621) * sd
}

/// The reference interval's width over the mean interval width of the
/// estimator under test: the paired one for a design shared by every seed,
/// the unpaired one for per-seed schedules (there the paired estimate
/// belongs to its own schedule, see [`sampled_toy_coverage_full`]).
fn reference_ratio(c: &Coverage, design: Design) -> f64 {
    let under_test = match (design, &c.unpaired) {
        (Design::Prbs, Some(u)) => u.width,
        _ => c.paired.width,
    };
    width(c.reference.g_ci) / under_test
}

/// The always-run check, small enough for every `cargo test` (plain SGD,
/// constant α = 1 against its plain twin, 100 steps, 100 repetitions of two
/// seeds each; about 15 s on an idle 2-core machine): the reference interval
/// is at most a fifth as wide as the paired one, the paired estimate is
/// unbiased for the reference and its interval covers it in at least 90%
/// of the repetitions. The full must-show (300 steps, 200 repetitions, both
/// optimizers, the unpaired estimator and the placebo) is
/// [`sampled_toy_coverage_full`], whose figures are in its doc comment.
///
/// Measured: reference 2.4814e-4 (interval width 1.8e-6, 0.17 of the
/// paired one); paired covers it in 100 of 100 (mean ĝ 2.4848e-4; sd over
/// repetitions 1.6e-6 against a mean reported SE of 2.65e-6): valid, and
/// conservative, as in the full check (why: [`sampled_toy_coverage_full`]).
/// 18 s on 2 busy cores.
#[test]
fn sampled_toy_paired_interval_covers_the_reference_gain() {
    let toy = Toy { steps: 100, ..SGD };
    let c = coverage(&toy, 100);
    print("sgd, constant α = 1, 100 steps", &c);
    let ratio = reference_ratio(&c, toy.design);
    assert!(
        ratio <= 0.2,
        "reference interval {ratio:.2} of the paired one"
    );
    let (g, p) = (c.reference.g, &c.paired);
    assert!(g > 0.0 && (p.mean - g).abs() < 0.05 * g, "{p:?} vs {g}");
    assert!(p.covers >= 90, "paired covers {}/100", p.covers);
}

/// The must-show on the sampled toy (docs/mathematics.md §9): 200
/// repetitions (seeds from 1000, two per repetition for the paired
/// estimator, the first of them for the unpaired one and the placebo),
/// reference from seeds 0..64. Run with `cargo test --release -p
/// entropic-proofs --lib sampled_toy_coverage_full -- --ignored
/// --nocapture` (519 s on 2 busy cores).
///
/// Measured, 300 steps (reference g; covers/200; mean ĝ; sd of ĝ over the
/// repetitions against the mean reported SE; `g_detectable` over
/// [`power_gain`] of that sd):
/// - SGD, constant α = 1: reference 1.3202e-4 (width 2.7e-6, 0.18 of the
///   paired interval); paired covers 200 (mean 1.3201e-4, sd 6.5e-7 vs SE
///   3.9e-6; detectable/80%-power gain 6.05).
/// - Adam, constant α = 1: reference 2.6581e-4 (width 9.4e-6, 0.18);
///   paired covers 200 (mean 2.6588e-4, sd 1.3e-6 vs SE 1.35e-5; 10.1).
/// - SGD, each seed its own PRBS (±1, hold 10): reference 1.8230e-4
///   (pooled over the 64 seeds and their schedules; width 0.012 of the
///   unpaired interval); unpaired covers 174 (mean 2.08e-4, sd 1.9e-4 vs
///   SE 1.55e-4; 0.83); placebo covers 0 in 169.
/// - Adam, the same: reference 8.1002e-4 (0.11); unpaired covers 106 (mean
///   4.97e-4, sd 2.0e-4 vs SE 1.7e-4; 0.83); placebo 176.
///
/// At 100 steps: per-seed PRBS, unpaired 158 (SGD) and 50 (Adam), placebo
/// 152 and 163; one PRBS for every seed (seed 7), paired 153 and 200,
/// unpaired 137 and 3, placebo 129 and 158.
///
/// So on the toy the must-show fails, and why:
/// - **Paired: valid, not efficient.** It is unbiased and its interval
///   always covers, but it is 6–10 times wider than the estimates' real
///   spread: the toy's gain changes along the run (docs/mathematics.md §8),
///   so `D_t + ĝ·A_t` holds a smooth curve that is the same for every
///   seed. Newey–West counts it as autocorrelated noise; it does not vary
///   between repetitions. Its `g_detectable` overstates the 80%-power gain
///   as much (6.05 and 10.1 where the must-show allows 1.5).
/// - **Per-seed schedules move the paired gain itself:** with each seed
///   its own PRBS, a seed's paired estimate is precise for its schedule,
///   and the gain depends on the path of `A`: it covers the pooled
///   reference in 71 of 200 under SGD, 39 under Adam (at 100 steps 55 and
///   47), with a spread 4–7 times its SE.
/// - **Unpaired: the drift is not constant.** The plain arm's entropy
///   falls fast and then slower; a PRBS with a few dozen switches
///   correlates with that curve by chance, which the Newey–West bandwidth
///   (5 rows) does not see: the placebo, whose true gain is exactly 0,
///   covers in 169 and 176 of 200, and the spread of ĝ is 1.2 times its
///   SE. With one schedule for every seed that chance correlation is one
///   fixed bias (placebo 129 of 200 at 100 steps). Under Adam the estimate
///   is also biased to about 0.6 of the reference: the momentum
///   (β₁ = 0.9) spreads α's effect over about ten steps, and the regression
///   of `ΔH_t` on `α_t` sees only its first part.
#[test]
#[ignore = "about 9 minutes on 2 busy cores; figures in the doc comment"]
fn sampled_toy_coverage_full() {
    for (name, toy) in [("sgd", SGD), ("adam", ADAM)] {
        for (design, steps) in [
            (Design::Constant, 300),
            (Design::Prbs, 300),
            (Design::Prbs, 100),
            (Design::FixedPrbs(7), 100),
        ] {
            let c = coverage(
                &Toy {
                    design,
                    steps,
                    ..toy
                },
                200,
            );
            print(&format!("{name}, {design:?}, {steps} steps"), &c);
            let p = &c.paired;
            println!(
                "  detectable/80%-power gain: paired {:.2}{}",
                p.detectable / power_gain(p.sd),
                c.unpaired.map_or(String::new(), |u| format!(
                    ", unpaired {:.2}",
                    u.detectable / power_gain(u.sd)
                ))
            );
            let ratio = reference_ratio(&c, design);
            println!("  reference width / estimator under test: {ratio:.3}");
            assert!(ratio <= 0.2, "{name} {design:?}: reference {ratio:.2}");
            if design == Design::Constant {
                assert!(p.covers >= 180, "{name}: paired covers {}", p.covers);
            }
        }
    }
}
