//! The estimators (docs/mathematics.md §9) on a sampled toy plant: the
//! simulator's trainer, not a scalar model, so the plant's gain is not
//! known in closed form. Its reference `g` is the paired slope of the exact
//! entropy (`entropy_exact`, no measurement noise) pooled over 64 seeds of
//! sampled twins; the estimators under test see what a user sees, the
//! noisy batch `entropy` of one or two seeds.
use super::randomized::{unpaired_randomized, PrbsDraw};
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
    /// The first repetition's first seed ([`REP_SEED0`] unless a test says
    /// otherwise).
    rep_seed0: u64,
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
    /// Every seed its own PRBS of this hold (as [`Design::Prbs`], whose
    /// hold is [`HOLD`]).
    Nrz(usize),
    /// Every seed its own Manchester-coded PRBS ([`prbs_manchester`]) of
    /// this hold, drawn with seed `SCHEDULE_SEED0 + seed`.
    Manchester(usize),
}

impl Design {
    /// Whether every seed draws its own schedule (a randomized design).
    fn per_seed(self) -> bool {
        matches!(self, Design::Prbs | Design::Nrz(_) | Design::Manchester(_))
    }
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
    let (mut s, hold) = match toy.design {
        Design::Constant => return vec![toy.amplitude; toy.steps],
        Design::FixedPrbs(s) => (s, HOLD),
        Design::Prbs => (SCHEDULE_SEED0 + seed, HOLD),
        Design::Nrz(h) => (SCHEDULE_SEED0 + seed, h),
        Design::Manchester(h) => {
            return prbs_manchester(toy.steps, toy.amplitude, h, SCHEDULE_SEED0 + seed)
        }
    };
    loop {
        let a = prbs(toy.steps, toy.amplitude, hold, s);
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

/// The twins of `runs` as the paired estimator reads them: their exact
/// entropy, or the batch entropy a user sees.
fn twin_views(runs: &[(Arm, Arm)], exact: bool) -> Vec<Twin<'_>> {
    runs.iter()
        .map(|(p, q)| Twin {
            probe: if exact { &p.exact } else { &p.batch },
            plain: if exact { &q.exact } else { &q.batch },
            alpha: &p.alpha,
        })
        .collect()
}

/// The reference `g`: the paired slope of the exact entropy, pooled over
/// seeds `0..REF_SEEDS` (delay 0: α of update t moves the entropy before
/// update t + 1).
fn reference(toy: &Toy) -> GainEstimate {
    let runs: Vec<(Arm, Arm)> = (0..REF_SEEDS)
        .into_par_iter()
        .map(|s| twins(toy, s, true))
        .collect();
    paired(&twin_views(&runs, true), 0).expect("reference fit")
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
    /// The 80%-power gain in standard deviations of `ĝ` for the test the
    /// fits make ([`benchmark`], mean over the fits).
    benchmark: f64,
    /// The empirical 80%-power gain of the fits' own tests
    /// ([`empirical_power_gain`]).
    empirical: f64,
    /// The share of the fits, moved to a true gain of 0, whose intervals
    /// exclude 0 (the test's size, 5% for an honest interval; where it is
    /// far above, `empirical` is near 0 and the ratio meaningless).
    size: f64,
}

/// The gain, in standard deviations of `ĝ`, at which `f`'s own test
/// rejects `g = 0` with 80% power: for the unpaired Newey–West fit the
/// fixed-b `δ₈₀` of its rows and bandwidth ([`super::fixed_b`]), whose
/// critical value is wider than the normal one; otherwise (its first,
/// prewhitened version, `θ̂ ≠ 0`, used t quantiles, as the rest do)
/// `z_{0.975} + z_{0.80}` ([`power_gain`]).
fn benchmark(f: &GainEstimate) -> f64 {
    match (f.design, f.variance) {
        (DesignKind::Unpaired, VarianceSource::NeweyWest) if f.ma1_theta == 0.0 => {
            super::fixed_b::fixed_b(f.n, f.bandwidth).delta80
        }
        _ => power_gain(1.0),
    }
}

impl Stat {
    /// Mean `g_detectable` over the 80%-power gain of a test that knows
    /// the repetitions' spread (`benchmark · sd`): 1 when the interval is
    /// as narrow as that spread allows (its efficiency; whether the power
    /// it reports is the power it delivers is [`Stat::empirical_ratio`]).
    fn power_ratio(&self) -> f64 {
        self.detectable / (self.benchmark * self.sd)
    }

    /// Mean `g_detectable` over the empirical 80%-power gain of the fits'
    /// own tests ([`empirical_power_gain`]): 1 when the reported power is
    /// the power the intervals deliver.
    fn empirical_ratio(&self) -> f64 {
        self.detectable / self.empirical
    }

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
            benchmark: fits.iter().map(benchmark).sum::<f64>() / n,
            empirical: empirical_power_gain(fits),
            size: shifted_power(&shift_parts(fits), 0.0),
        }
    }
}

/// The smallest gain `g > 0` whose shift of the repetitions' fits makes
/// their own intervals exclude 0 in at least 80% of them: each fit `r`
/// moved to a true gain `g` has estimate `g + e_r` (`e_r = ĝ_r − mean ĝ`)
/// and its own interval, moved with it (the offsets `ci − ĝ_r` kept), and
/// rejects `g = 0` where that interval excludes 0. The scalar plant's
/// `empirical_power_gain` (ident_power_tests.rs) bisects over its gain,
/// a knob the toy does not have (scaling α moves the gain itself, the
/// plant being nonlinear in α); the shift assumes instead that a change
/// of the gain moves the fits' errors and intervals by location only, as
/// on a linear plant, and keeps everything else the repetitions hold: the
/// errors' own distribution, each interval's own width, its critical
/// value (t with few degrees of freedom, fixed-b, randomization) and how
/// the width varies with the error. [`power_gain`] of the spread
/// (`2.80·sd`) is the 80%-power gain of a test that knows the spread;
/// where the reported SE is itself noisy (few seeds, a long-run variance
/// from a few blocks) the test as run needs more.
///
/// NaN where fewer than 80% of the intervals have a finite lower end (a
/// randomization interval at 100 steps can have none: no re-draw bounds
/// that side): a shift says nothing about how such an interval closes.
pub(super) fn empirical_power_gain(fits: &[GainEstimate]) -> f64 {
    let parts = shift_parts(fits);
    // A test that rejects 0 in 80% of the fits at a true gain of 0 (its
    // size far above 5%) has no power figure worth the name: 0.
    if shifted_power(&parts, 0.0) >= 0.8 {
        return 0.0;
    }
    // Power steps up where a fit's lower end crosses 0: g = −e − lo. The
    // infimum of the gains with power 0.8 is the first such step after
    // which (evaluated halfway to the next step) the power reaches 0.8.
    let mut cand: Vec<f64> = parts
        .iter()
        .map(|(e, lo, _)| -e - lo)
        .filter(|g| *g > 0.0 && g.is_finite())
        .collect();
    cand.sort_by(f64::total_cmp);
    (0..cand.len())
        .find(|&k| {
            let next = cand.get(k + 1).copied().unwrap_or(2.0 * cand[k]);
            shifted_power(&parts, 0.5 * (cand[k] + next)) >= 0.8
        })
        .map_or(f64::NAN, |k| cand[k])
}

/// The must-show's power check: `g_detectable` of `s` within a factor 1.5
/// of the empirical 80%-power gain ([`Stat::empirical_ratio`]); a failure
/// is pushed to `failed`, labelled `what`.
fn check_empirical_power(failed: &mut Vec<String>, what: &str, s: &Stat) {
    let e = s.empirical_ratio();
    if !(1.0 / 1.5..=1.5).contains(&e) {
        failed.push(format!(
            "{what}: detectable {e:.2} of the empirical power gain"
        ));
    }
}

/// (error about the mean `ĝ`, lower and upper offsets of the interval) of
/// each fit ([`empirical_power_gain`]).
fn shift_parts(fits: &[GainEstimate]) -> Vec<(f64, f64, f64)> {
    let mean = fits.iter().map(|f| f.g).sum::<f64>() / fits.len() as f64;
    fits.iter()
        .map(|f| (f.g - mean, f.g_ci.0 - f.g, f.g_ci.1 - f.g))
        .collect()
}

/// The share of the fits ([`shift_parts`]), moved to a true gain `g`,
/// whose intervals exclude 0 ([`empirical_power_gain`]).
fn shifted_power(parts: &[(f64, f64, f64)], g: f64) -> f64 {
    parts
        .iter()
        .filter(|(e, lo, hi)| g + e + lo > 0.0 || g + e + hi < 0.0)
        .count() as f64
        / parts.len() as f64
}

/// Coverage of the reference over `reps` repetitions.
#[derive(Debug)]
struct Coverage {
    reps: usize,
    reference: GainEstimate,
    /// Paired estimator on the batch entropy of [`PAIRED_SEEDS`] seeds.
    paired: Stat,
    /// The same slopes with the first version's variance (Newey–West on
    /// `A_t·(D_t + ĝ·A_t)` in levels, [`PairedVariance::Levels`]): the old
    /// figures beside the new.
    paired_levels: Stat,
    /// The same slopes with the seeds' own slopes' spread as variance
    /// ([`PairedVariance::SeedSlopes`]; as `paired` with a PRBS per seed).
    paired_seed_slopes: Stat,
    /// Unpaired ([`unpaired_lagged`], the optimizer's lag) on one seed's
    /// probe arm (PRBS designs).
    unpaired: Option<Stat>,
    /// Unpaired with the schedule as regressor on one seed's plain arm
    /// (true g = 0): repetitions that cover 0 (PRBS designs).
    placebo: Option<usize>,
    /// The same two by the first version of [`unpaired`] (MA(1)
    /// prewhitening, [`unpaired_first_version`]): the old figures beside
    /// the new.
    unpaired_first: Option<Stat>,
    placebo_first: Option<usize>,
    /// The same two with randomization intervals ([`unpaired_randomized`]).
    randomized: Option<Stat>,
    randomized_placebo: Option<usize>,
}

fn width(ci: (f64, f64)) -> f64 {
    ci.1 - ci.0
}

fn coverage(toy: &Toy, reps: usize) -> Coverage {
    coverage_with(toy, reps, PAIRED_SEEDS)
}

/// [`coverage`] with the paired estimator pooling `seeds` seeds per
/// repetition (the unpaired ones use the first).
fn coverage_with(toy: &Toy, reps: usize, seeds: u64) -> Coverage {
    let reference = reference(toy);
    let prbs = toy.design != Design::Constant;
    type Fits = (
        GainEstimate,
        GainEstimate,
        Option<[GainEstimate; 6]>,
        GainEstimate,
    );
    let draw = match toy.design {
        Design::Manchester(h) => {
            PrbsDraw::from_step_0(0.0, toy.amplitude, h).coded(Coding::Manchester)
        }
        Design::Nrz(h) => PrbsDraw::from_step_0(0.0, toy.amplitude, h),
        _ => PrbsDraw::from_step_0(0.0, toy.amplitude, HOLD),
    };
    // The unpaired statistics' lag: the optimizer's own momentum (Adam's
    // β1 = 0.9, the sim's default), plain SGD none; fixed before any
    // coverage was measured with it (for the Newey–West estimator, before
    // its bandwidth rule was; the first version ran without a lag).
    let lag = match toy.optimizer {
        OptimizerKind::Adam => 0.9,
        _ => 0.0,
    };
    let fits: Vec<Fits> = (0..reps as u64)
        .into_par_iter()
        .map(|r| {
            let runs: Vec<(Arm, Arm)> = (0..seeds)
                .map(|j| twins(toy, toy.rep_seed0 + seeds * r + j, false))
                .collect();
            let tw = twin_views(&runs, false);
            let (p, q) = &runs[0];
            let one = prbs.then(|| {
                [
                    unpaired_lagged(&p.batch, &p.alpha, 0, lag).expect("unpaired fit"),
                    unpaired_lagged(&q.batch, &p.alpha, 0, lag).expect("placebo fit"),
                    unpaired_randomized(&p.batch, &p.alpha, 0, lag, &draw, 9000 + r)
                        .expect("randomized fit"),
                    unpaired_randomized(&q.batch, &p.alpha, 0, lag, &draw, 9000 + r)
                        .expect("randomized placebo fit"),
                    unpaired_first_version(&p.batch, &p.alpha),
                    unpaired_first_version(&q.batch, &p.alpha),
                ]
            });
            (
                paired(&tw, 0).expect("paired fit"),
                paired_with(&tw, 0, PairedVariance::Levels).expect("paired fit"),
                one,
                paired_with(&tw, 0, PairedVariance::SeedSlopes).expect("paired fit"),
            )
        })
        .collect();
    let g = reference.g;
    let pf: Vec<GainEstimate> = fits.iter().map(|f| f.0.clone()).collect();
    let lf: Vec<GainEstimate> = fits.iter().map(|f| f.1.clone()).collect();
    let sf: Vec<GainEstimate> = fits.iter().map(|f| f.3.clone()).collect();
    let one = |i: usize| -> Vec<GainEstimate> {
        fits.iter()
            .filter_map(|f| f.2.as_ref().map(|u| u[i].clone()))
            .collect()
    };
    let covers0 = |i: usize| -> usize { one(i).iter().map(|u| covers(u.g_ci, 0.0)).sum() };
    Coverage {
        reps,
        paired: Stat::of(&pf, g),
        paired_levels: Stat::of(&lf, g),
        paired_seed_slopes: Stat::of(&sf, g),
        unpaired: prbs.then(|| Stat::of(&one(0), g)),
        placebo: prbs.then(|| covers0(1)),
        randomized: prbs.then(|| Stat::of(&one(2), g)),
        randomized_placebo: prbs.then(|| covers0(3)),
        unpaired_first: prbs.then(|| Stat::of(&one(4), g)),
        placebo_first: prbs.then(|| covers0(5)),
        reference,
    }
}

/// The first version of [`unpaired`] (`d = 0`, no lag): both sides
/// filtered by the MA(1) `θ̂` of conditional sum of squares, then
/// Newey–West at the rule-of-thumb bandwidth ([`prewhitened`]).
fn unpaired_first_version(entropy: &[f64], alpha: &[f64]) -> GainEstimate {
    let rows: Vec<(Vec<f64>, f64)> = (0..entropy.len() - 1)
        .map(|t| (vec![1.0, alpha[t]], entropy[t + 1] - entropy[t]))
        .collect();
    let (fit, theta) = prewhitened(std::slice::from_ref(&rows), 2).expect("first-version fit");
    let (g, g_se, g_ci, g_detectable) = coef(&fit, 1, true);
    let (b, b_se, b_ci, _) = coef(&fit, 0, false);
    GainEstimate {
        design: DesignKind::Unpaired,
        variance: VarianceSource::NeweyWest,
        d: 0,
        g,
        g_se,
        g_ci,
        b,
        b_se,
        b_ci,
        g_detectable,
        n: fit.n,
        df: fit.df,
        bandwidth: fit.bandwidth,
        r2: f64::NAN,
        residual_rms: f64::NAN,
        ma1_theta: theta,
        skipped_nan: 0,
    }
}

fn covers(ci: (f64, f64), x: f64) -> usize {
    usize::from(ci.0 < x && x < ci.1)
}

fn print(name: &str, c: &Coverage) {
    let r = &c.reference;
    let stat = |s: &Stat| {
        format!(
            "covers {}/{} (mean g {:.4e}, sd {:.2e} vs mean SE {:.2e}, width {:.2e}, detectable {:.2e}, {:.2} of the 80%-power gain of the spread, {:.2} of the fits' own empirical one, size {:.3})",
            s.covers, c.reps, s.mean, s.sd, s.se, s.width, s.detectable, s.power_ratio(), s.empirical_ratio(), s.size
        )
    };
    println!(
        "{name}: reference g {:.4e} [{:.4e}, {:.4e}] (width {:.2e}), b {:.3e}\n  paired {}\n  paired, old variance {}\n  unpaired {}\n  placebo covers 0 in {:?}\n  unpaired, first version {}\n  its placebo covers 0 in {:?}\n  randomized {}\n  randomized placebo covers 0 in {:?}",
        r.g,
        r.g_ci.0,
        r.g_ci.1,
        width(r.g_ci),
        r.b,
        stat(&c.paired),
        stat(&c.paired_levels),
        c.unpaired.as_ref().map_or("-".into(), stat),
        c.placebo,
        c.unpaired_first.as_ref().map_or("-".into(), stat),
        c.placebo_first,
        c.randomized.as_ref().map_or("-".into(), stat),
        c.randomized_placebo
    );
}

const SGD: Toy = Toy {
    optimizer: OptimizerKind::Sgd,
    lr: 70.0,
    steps: 300,
    amplitude: 1.0,
    design: Design::Constant,
    rep_seed0: REP_SEED0,
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
        (d, Some(u)) if d.per_seed() => u.width,
        _ => c.paired.width,
    };
    width(c.reference.g_ci) / under_test
}

/// The always-run check, small enough for every `cargo test` (plain SGD,
/// constant α = 1 against its plain twin, 100 steps, 100 repetitions of two
/// seeds each; about 15 s on an idle 2-core machine): the reference interval
/// is at most a fifth as wide as the paired one, the paired estimate is
/// unbiased for the reference, its `g_detectable` is within 1.5 times the
/// 80%-power gain of its own spread (the first version's was 1.67 here, 6–10
/// at 300 steps), and its interval covers the reference in at least 80 of
/// the 100 repetitions (the first version: 100 of 100, by counting the
/// gain's own path as noise; the must-show's 90 is not reached at 100 steps,
/// see [`paired`] on why the variance of a random-walk noise is itself
/// noisy). The full must-show is [`sampled_toy_coverage_full`].
///
/// Measured: reference 2.4814e-4 (interval width 1.40e-6, 0.18 of the
/// paired one); paired covers it in 81 of 100 (mean ĝ 2.4848e-4; sd over
/// repetitions 1.59e-6 against a mean reported SE of 1.93e-6;
/// `g_detectable` 1.23 times the 80%-power gain of that spread, 0.86 of
/// the gain its intervals detect, [`empirical_power_gain`], whose size is
/// 0.17 here). First version: 100 of 100, mean SE 2.65e-6, 1.67. 15 s on
/// 2 busy cores.
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
    let power = p.power_ratio();
    assert!(
        (1.0 / 1.5..=1.5).contains(&power),
        "detectable {power:.2} of the 80%-power gain"
    );
    let e = p.empirical_ratio();
    assert!(
        (1.0 / 1.5..=1.5).contains(&e),
        "detectable {e:.2} of the empirical 80%-power gain"
    );
    assert!(p.covers >= 80, "paired covers {}/100", p.covers);
}

/// The must-show on the sampled toy (docs/mathematics.md §9): 200
/// repetitions (seeds from 1000, two per repetition for the paired
/// estimator, the first of them for the unpaired one and the placebo),
/// reference from seeds 0..64. Run with `cargo test --release -p
/// entropic-proofs --lib sampled_toy_coverage_full -- --ignored
/// --nocapture` (370 s on 2 busy cores, 133–139 s near-idle).
///
/// Measured (reference g and its width over that of the estimator under
/// test; covers/200; mean ĝ; sd of ĝ over the repetitions against the mean
/// reported SE; `g_detectable` over [`power_gain`] of that sd), 2026-11-30
/// after the unpaired estimator changed; its columns since its critical
/// values became fixed-b ([`super::fixed_b`]), with the t quantiles'
/// figures after the arrow's tail (`t → fixed-b`); a fixed-b `g_detectable`
/// is over its own test's 80%-power gain, `δ₈₀·sd` ([`benchmark`]), the
/// others over `2.80·sd`. "Old" is the first version of
/// [`paired`] (Newey–West of `A_t·(D_t + ĝ·A_t)`, printed beside the new
/// for the same slopes); "unpaired, first" the first version of
/// [`unpaired`] ([`unpaired_first_version`]: MA(1) prewhitening, no lag),
/// beside the new one ([`unpaired_lagged`] with the optimizer's lag, the
/// bandwidth of [`regressor_bandwidth`]).
///
/// | case | reference | paired, new | paired, old | unpaired | placebo | unpaired, first | its placebo | randomized | its placebo |
/// |---|---|---|---|---|---|---|---|---|---|
/// | SGD, α = 1, 300 | 1.3202e-4 (0.12) | 180; sd 6.5e-7, SE 1.03e-6; 1.60 | 200; SE 3.9e-6; 6.05 | | | | | | |
/// | Adam, α = 1, 300 | 2.6581e-4 (0.09) | 184; sd 1.3e-6, SE 2.3e-6; 1.75 | 200; SE 1.35e-5; 10.1 | | | | | | |
/// | SGD, one PRBS (seed 7), 100 | 3.1082e-4 (0.14) | 160; sd 3.2e-6, SE 3.2e-6; 0.99 | 153; 0.64 | 200; 1.25 → 1.31 | 200 | 137; 0.87 | 129 | 198; 1.01 | 191 |
/// | Adam, one PRBS (seed 7), 100 | 2.6727e-3 (0.17) | 163; sd 1.9e-5, SE 1.8e-5; 0.96 | 200; 1.95 | 200; 1.95 → 2.05 | 200 | 3; 1.44 | 158 | 196; 1.63 | 200 |
/// | SGD, PRBS per seed, 300 | 1.8230e-4 (0.03) | 194; 1.36 | 71; 0.22 | 194 → 195; 1.11 → 1.13 | 192 → 194 | 174; 0.83 | 169 | 192; 1.00 | 190 |
/// | Adam, PRBS per seed, 300 | 8.1002e-4 (0.18 → 0.16) | 188; 1.01 | 39; 0.15 | 183 → 187; 0.98 → 1.02 | 164 → 176 | 106; 0.83 | 176 | 176; 0.91 | 190 |
/// | SGD, PRBS per seed, 100 | 2.8520e-4 (0.004 → 0.003) | 129; 0.57 | 55; 0.24 | 200; 1.41 → 1.48 | 200 | 158; 0.80 | 152 | 190; 0.93 | 193 |
/// | Adam, PRBS per seed, 100 | 1.7659e-3 (0.09 → 0.08) | 155; 0.87 | 47; 0.19 | 200; 1.30 → 1.36 | 200 | 50; 0.79 | 163 | 177; 0.60 | 189 |
///
/// (The reference's width is over the new unpaired interval's where each
/// seed draws its own schedule, wider than the first version's, so those
/// ratios fell: 0.04, 0.37, 0.01, 0.28 before.)
///
/// ("Randomized": [`unpaired_randomized`] on the same arms, re-draws of the
/// schedule from the per-seed design, hold [`HOLD`]; its lag is the
/// optimizer's momentum, 0.9 under Adam and none under SGD. 133 s for the
/// whole test on 2 cores, near-idle. Under Adam without the lag the
/// randomized column read 7; 1.86 | 195, 135; 1.00 | 191 and 79; 0.93 |
/// 191: the estimate was 0.5–0.6 of the reference.)
///
/// (The reference's width: of the paired interval where every seed runs
/// one schedule, of the unpaired one where each seed draws its own. With
/// per-seed schedules the reference, pooled over 64 schedules, now carries
/// their variation in its own interval, which is why it widened from 0.11
/// to 0.37 under Adam.)
///
/// The same run against the empirical 80%-power gain of the fits' own
/// intervals ([`empirical_power_gain`], added 2026-11-30; `g_detectable`
/// over it, SGD / Adam): paired, constant α 0.91 / 0.99, a PRBS per seed
/// 0.99 / 1.07 (300 steps) and 0.74 / 0.99 (100), the one PRBS at 100
/// steps 0.89 / 0.86; Newey–West 1.03 / 1.03 (300 steps), 1.08 / 1.07
/// (100), 1.06 / 1.19 (the one PRBS); randomized 0.95 / 0.88 (300 steps),
/// 0.61 / 0.46 (100; the one PRBS has intervals without a lower end, so
/// none). Predicted before the run: the paired constant-α case 0.9–1.2
/// and the one PRBS at 100 steps 0.7–0.9, Newey–West within 10% of its
/// `δ₈₀` figure: right. Asserted for every paired case and for
/// Newey–West and the randomization interval where their spread's figure
/// is.
///
/// What holds, and what does not:
/// - **Paired, one schedule for every seed** (the estimand is the gain
///   along that schedule): at 300 steps the interval covers in 180 and 184
///   of 200 (must-show: 180) and `g_detectable` is 1.60 and 1.75 times the
///   80%-power gain (must-show: 1.5; first version 6.05 and 10.1). At 100
///   steps the reported SE matches the spread on average (0.99, 0.96) but
///   covers in only 160 and 163: the SE is itself noisy. Both shortfalls
///   are the price of a random-walk noise, whose variance rests on how
///   far the MA(1) `θ̂` of the increments sits from −1 (see [`paired`]):
///   where it lands on −1 the SE is too small, elsewhere often too large.
///   The reference interval under SGD is 0.22 of the paired one (must-show
///   0.2): the new interval is four times narrower than the old. With four
///   or more seeds [`paired`] takes the variance from the seeds' own slopes
///   instead, and both must-show figures hold there (covers 182–195,
///   `g_detectable` 1.12–1.33 of the power gain at 4 and 8 seeds; the
///   deviations' variance gave 198–200 and 1.77–2.00):
///   [`paired_seeds_calibration`].
/// - **Paired, a PRBS per seed**: it now covers the reference pooled over
///   64 schedules (194 and 188 of 200 at 300 steps; the first version 71
///   and 39), because the residual's path-dependent curve varies with the
///   schedule and the variance counts it; at 100 steps 129 and 155.
/// - **Unpaired (Newey–West in differences): holds at 300 steps; Adam's
///   placebo sits at the 90% floor.** With a PRBS per seed and fixed-b
///   critical values it covers the reference in 195 (SGD) and 187 (Adam,
///   lag 0.9) of 200, `g_detectable` 1.13 and 1.02 of the spread's power
///   gain (fixed-b; 1.03 and 1.03 of the gain its intervals detect),
///   and the placebo covers 0 in 194 under SGD and 176 under Adam (182 and
///   179 on 200 fresh repetitions each from seeds 70,000 and 80,000: 537
///   of 600 pooled, 89.5%; with four more sets from seeds 90,000 to
///   120,000, 184, 182, 176, 180: 1,259 of 1,400, 89.9%, the reported SE
///   of the placebo's `ĝ` 12–17% below its spread; wider bandwidths,
///   dropped start-up rows and Andrews–Monahan prewhitening were tried on
///   those sets and not adopted, docs/mathematics.md §9). With t quantiles it was 194, 183, 1.11, 0.98,
///   placebo 192 and 164 (175 and 172 on the fresh sets): the regressor,
///   α through the momentum's lag, is smooth, its bandwidth the longest
///   (about 23 of 299 rows), where t quantiles are too narrow. At 100
///   steps (and on the one fixed schedule) it is conservative: 200 of 200
///   and the placebo too, `g_detectable` 1.31–2.05 of the power gain
///   (1.25–1.95 with t quantiles). The bandwidth rule was checked first on
///   200 repetitions from seed 50,000 (not this test's): 196, 198 (SGD at
///   300, 100 steps), 187, 200 (Adam), placebo 193, 198, 171, 200,
///   `g_detectable` 1.24, 1.31, 1.09, 1.32 (t quantiles). The fixed-b
///   quantiles were chosen on the two fresh sets (a linear drift term in
///   the differences, tried beside them, covered the placebo in 199–200,
///   too wide, and the Adam reference in 173–175) before this test was
///   rerun with them.
/// - **Its first version (prewhitened) failed**: the placebo covered 0 in
///   169 and 176 of 200 and the reference in 174 and 106; under Adam,
///   without a lag, the estimate was about 0.6 of the reference (the
///   momentum spreads α's effect over about ten steps). Where measurement
///   noise dominates, the prewhitening's `θ̂` goes to −1 and the filter
///   integrates the fit back into levels, whose residual holds the random
///   walk of process noise. Raising its Newey–West bandwidth to 10–30 rows
///   changed nothing (174 at every bandwidth under SGD); the same
///   regression without the filter covered 198 at the rule-of-thumb
///   bandwidth, which is how the change was found. Tried on 30–40
///   repetitions at 300 steps and not adopted: a polynomial drift (degree
///   3–9, in differences) beside α, a geometric distributed lag of α (decay
///   estimated, with its Gauss–Newton column so its uncertainty enters),
///   and Andrews' automatic bandwidth. The drift polynomial and the lag
///   remove the Adam bias (mean 9.0e-4 against 8.1e-4) but the SE falls
///   faster than the spread (0.4–0.9 of it) and the placebo still covered
///   0 in only 80–92% of repetitions: with the drift explained, the MA(1)
///   `θ̂` goes to −0.95…−0.98, the fit becomes a regression in levels and
///   its residual keeps the random walk of process noise, which no HAC
///   makes honest (see [`unpaired`]). Andrews' bandwidth came out at 1–2
///   rows (the prewhitened scores are nearly uncorrelated at lag 1) and
///   changed nothing.
/// - **Randomization intervals fix the placebo** ([`unpaired_randomized`]:
///   the same regression in differences, its interval from re-draws of the
///   PRBS instead of a variance model). The placebo covers 0 in 189–200 of
///   200 in every PRBS case, the one fixed schedule included; under SGD
///   the interval covers the reference in 190–198 and `g_detectable` is
///   0.93–1.01 of the spread's 80%-power gain. Under Adam the lag (β1 = 0.9)
///   turns the immediate gain into the long-run one: the estimate goes
///   from 0.6 of the reference to 1.21 (300 steps) and the coverage from
///   135 to 176, 79 to 177, 7 to 196. Still short of 180 at 300 steps,
///   and not for want of variance: under Adam the gain is not one number.
///   Measured on the 64 reference seeds' exact entropy (2026-11-30, a
///   one-off run, not a test): the paired gain in windows of 100 steps
///   falls 5× along the run (1.43e-3, 6.4e-4, 2.8e-4; under SGD 2.4×:
///   2.85e-4, 1.81e-4, 1.19e-4), and the unpaired fit on that noiseless
///   entropy averages 9.75e-4 per seed against the paired slope's 8.10e-4
///   (under SGD 1.826e-4 against 1.823e-4). The two designs weight a
///   falling gain differently (the paired slope in levels leans on late
///   steps, where `|A_t|` is large), so the 1.2–1.3× gap is a difference of
///   estimands, not of noise; Adam's bias correction in the lag (tried:
///   the same 1.06e-3 mean at 300 steps) does not close it. A decay of
///   0.8, tried after as a sensitivity check and not adopted, gave 0.94 of
///   the reference and 188. A user whose gain moves this much reads the
///   windowed fits ([`paired_windows`], or the unpaired ones that
///   `tune validate` fits in 50-step windows), not one `g`. At 100 steps under Adam the
///   spread of `ĝ` is 1.7 times the re-draws' (`g_detectable` 0.60 of the
///   spread's power gain, 0.46 of the gain its intervals detect): with
///   few blocks the additive model behind every
///   `g₀ ≠ 0` is off; the placebo, which does not rest on it, still covers.
///   Some intervals at 100 steps have an infinite end (no re-draw bounds
///   that side).
/// The test asserts what holds (collecting every failure, so one run
/// measures every case): where every seed runs one schedule, coverage of at
/// least 180 at 300 steps and 160 at 100, `g_detectable` between 1/1.5 and
/// 1.8 times the power gain, and a reference at most a quarter as wide; with
/// a PRBS per seed at 300 steps, paired coverage of at least 180 and a
/// reference at most 0.4 as wide as the unpaired interval; with a PRBS per
/// seed at either length, a randomized placebo covering 0 in 180–198; at
/// 300 steps a randomized `g_detectable` within 1.5 times the power gain,
/// and under SGD randomized coverage of at least 180; at 300 steps with a
/// PRBS per seed, Newey–West coverage of at least 180, its `g_detectable`
/// within 1.5 times the power gain and, under SGD, its placebo covering 0
/// in 180–198.
#[test]
#[ignore = "2–6 minutes on 2 cores (idle to busy); figures in the doc comment"]
fn sampled_toy_coverage_full() {
    // Every failure is collected, so one run measures every case.
    let mut failed: Vec<String> = Vec::new();
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
            let case = format!("{name}, {design:?}, {steps} steps");
            print(&case, &c);
            if let Some(u) = &c.unpaired {
                println!(
                    "  detectable/80%-power gain: unpaired {:.2}",
                    u.power_ratio()
                );
            }
            // Randomization intervals (per-seed PRBS, the randomized
            // design): the placebo is exact at any length, and the
            // reported power is the real one.
            if let (Design::Prbs, Some(r), Some(z)) = (design, &c.randomized, c.randomized_placebo)
            {
                if !(180..=198).contains(&z) {
                    failed.push(format!("{case}: randomized placebo covers 0 in {z}/200"));
                }
                let pr = r.power_ratio();
                if steps == 300 && !(1.0 / 1.5..=1.5).contains(&pr) {
                    failed.push(format!(
                        "{case}: randomized detectable {pr:.2} of the power gain"
                    ));
                }
                if steps == 300 {
                    check_empirical_power(&mut failed, &format!("{case}: randomized"), r);
                }
                if name == "sgd" && steps == 300 && r.covers < 180 {
                    failed.push(format!("{case}: randomized covers {}/200", r.covers));
                }
            }
            // Newey–West (a PRBS per seed, 300 steps; the optimizer's lag):
            // coverage and reported power; the placebo under SGD (under
            // Adam it is not reached, see the doc).
            if let (Design::Prbs, 300, Some(u), Some(z)) = (design, steps, &c.unpaired, c.placebo) {
                if u.covers < 180 {
                    failed.push(format!("{case}: unpaired covers {}/200", u.covers));
                }
                let pr = u.power_ratio();
                if !(1.0 / 1.5..=1.5).contains(&pr) {
                    failed.push(format!(
                        "{case}: unpaired detectable {pr:.2} of the power gain"
                    ));
                }
                check_empirical_power(&mut failed, &format!("{case}: unpaired"), u);
                if name == "sgd" && !(180..=198).contains(&z) {
                    failed.push(format!("{case}: unpaired placebo covers 0 in {z}/200"));
                }
            }
            let ratio = reference_ratio(&c, design);
            println!("  reference width / estimator under test: {ratio:.3}");
            let p = &c.paired;
            let shared = !design.per_seed();
            let max_ratio = if shared { 0.25 } else { 0.4 };
            if ratio > max_ratio {
                failed.push(format!("{case}: reference {ratio:.2} of the width"));
            }
            // The paired estimand is the gain along the seeds' one
            // schedule; with a PRBS per seed, the reference pools schedules.
            let min_cover = match (shared, steps) {
                (true, 300) => Some(180),
                (true, _) => Some(160),
                (false, 300) => Some(180),
                (false, _) => None,
            };
            if let Some(m) = min_cover {
                if p.covers < m {
                    failed.push(format!("{case}: paired covers {}/200", p.covers));
                }
            }
            if shared {
                let r = p.power_ratio();
                if !(1.0 / 1.5..=1.8).contains(&r) {
                    failed.push(format!(
                        "{case}: paired detectable {r:.2} of the power gain"
                    ));
                }
            }
            // The must-show's figure: the reported power against the
            // power the intervals deliver (empirical_power_gain), every
            // paired case.
            check_empirical_power(&mut failed, &format!("{case}: paired"), p);
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// How many seeds the paired estimator needs for its reported power to be
/// the real one, on one schedule (constant α = 1, 300 steps, 200
/// repetitions): 2 (what [`sampled_toy_coverage_full`] runs), 4 and 8.
/// Run with `cargo test --release -p entropic-proofs --lib
/// paired_seeds_calibration -- --ignored --nocapture` (about 4.6 minutes
/// on 2 cores, near-idle).
///
/// Measured (covers/200; `g_detectable` over the 80%-power gain of the
/// repetitions' spread), 2026-11-30, before [`paired`] chose the seed
/// slopes' variance from [`MIN_SEED_SLOPES`] seeds:
///
/// | seeds | deviations' variance (SGD; Adam) | seed slopes (SGD; Adam) |
/// |---|---|---|
/// | 2 | 180, 1.60; 184, 1.75 | 191, 3.79; 186, 3.58 |
/// | 4 | 198, 1.80; 198, 1.77 | 193, 1.33; 182, 1.21 |
/// | 8 | 200, 1.93; 200, 2.00 | 195, 1.17; 192, 1.12 |
///
/// (Predicted before the runs: the deviations' variance closer to the
/// spread with more seeds, wrong, it stayed 1.6–2.0 times too wide; the
/// seed slopes at 1.37 and 1.12, right.)
///
/// Against the empirical 80%-power gain of the fits' own intervals
/// ([`empirical_power_gain`], 2026-11-30, the same repetitions; SGD /
/// Adam): two seeds, the deviations' variance (what [`paired`] reports)
/// 0.91 / 0.99, the seeds' slopes 0.70 / 0.71 (one degree of freedom);
/// four seeds 0.90 / 0.91; eight 0.99 / 0.96. The spread's figure above
/// counts the t quantiles of a few seeds as excess width; the intervals
/// as reported state their power within 10% from four seeds (predicted
/// from Student's noncentral t: 0.87 / 0.79 at four, 0.95 / 0.90 at
/// eight). Asserted: from
/// [`MIN_SEED_SLOPES`] seeds, what [`paired`] reports (the seed slopes)
/// covers in 180–198 of 200 and its `g_detectable` is within 1.5 times the
/// 80%-power gain (the must-show of issue 12); with 2 seeds, as the doc
/// table of [`sampled_toy_coverage_full`]; at every seed count, within
/// 1.5 times the empirical one.
#[test]
#[ignore = "about 5 minutes on 2 cores; figures in the doc comment"]
fn paired_seeds_calibration() {
    let mut failed: Vec<String> = Vec::new();
    for (name, toy) in [("sgd", SGD), ("adam", ADAM)] {
        for seeds in [2, 4, 8] {
            let c = coverage_with(&toy, 200, seeds);
            for (var, p) in [
                ("paired", &c.paired),
                ("seed slopes", &c.paired_seed_slopes),
            ] {
                println!(
                    "{name}, constant α, 300 steps, {seeds} seeds, {var}: covers {}/200, mean g {:.4e} (reference {:.4e}), sd {:.2e}, mean SE {:.2e}, detectable {:.2} of the 80%-power gain of the spread, {:.2} of the empirical one",
                    p.covers, p.mean, c.reference.g, p.sd, p.se, p.power_ratio(), p.empirical_ratio()
                );
            }
            let p = &c.paired;
            if seeds as usize >= MIN_SEED_SLOPES {
                if !(180..=198).contains(&p.covers) {
                    failed.push(format!("{name}, {seeds} seeds: covers {}/200", p.covers));
                }
                let r = p.power_ratio();
                if !(1.0 / 1.5..=1.5).contains(&r) {
                    failed.push(format!("{name}, {seeds} seeds: detectable {r:.2}"));
                }
            }
            // What paired reports, at every seed count: within 1.5 times
            // the power its intervals deliver (empirical_power_gain).
            check_empirical_power(&mut failed, &format!("{name}, {seeds} seeds"), p);
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// The pooled gain of seeds run under two constant schedules, α = +1 and
/// α = −1, each seed's two probes twins of its one plain arm: the design
/// of `entropic llm validate` and of the regime map's factored cells
/// (`src/lab/map/measure.rs`), whose pooled `g` mixes the two schedules.
/// Before 2026-11-30 [`paired`] saw two schedules and took the variance
/// from one series' increments, which counts the gain's curve along the
/// run as noise (the one-seed case of [`paired_one_seed_calibration`]);
/// now each seed's own pooled slope over its twins ([`seed_units`]).
/// 300 steps, 200 repetitions (seeds `REP_SEED0 + 4r + j`, the first 2, 3
/// or 4 of them), reference: the same pooled slope on the exact entropy
/// of seeds 0..64. Run with `cargo test --release -p entropic-proofs --lib
/// paired_units_calibration -- --ignored --nocapture` (286 s on 2 cores
/// busy with another run).
///
/// Measured 2026-11-30 (covers/200; `g_detectable` over the 80%-power gain
/// of the repetitions' spread; the increments' variance, what [`paired`]
/// took before, on the same slopes):
///
/// | plant (reference g) | seeds | seeds' slopes | increments (before) |
/// |---|---|---|---|
/// | SGD (1.9110e-4) | 2 | 192; 3.82 | 200; 13.75 |
/// | SGD | 3 | 192; 1.71 | 200; 14.14 |
/// | SGD | 4 | 189; 1.36 | 200; 14.59 |
/// | Adam (6.4454e-4) | 2 | 191; 4.36 | 200; 82.0 |
/// | Adam | 3 | 189; 1.79 | 200; 80.3 |
/// | Adam | 4 | 187; 1.40 | 200; 78.5 |
///
/// (Predicted before the run: the increments 20–50 times, wrong: 14 under
/// SGD, 80 under Adam; the seeds' slopes covering in 185–195 with 3.3–4.0
/// times from two seeds, 1.6–2.2 from three, 1.1–1.4 from four: right but
/// for Adam at two seeds, 4.36.) Against the empirical 80%-power gain of
/// the fits' own intervals ([`empirical_power_gain`], 2026-11-30, the same
/// repetitions): the seeds' slopes 0.68 / 0.87 / 0.88 (SGD) and 0.75 /
/// 0.87 / 0.89 (Adam) from two, three, four seeds (predicted from
/// Student's noncentral t: 0.66 / 0.85 / 0.89 and 0.75 / 0.89 / 0.92);
/// the increments 1.38 and 1.42: an interval 14–82 times the spread's
/// figure states the power of that wide interval honestly, and only its
/// coverage, 200 of 200, flags it. Asserted: from [`MIN_SEED_SLOPES`]
/// seeds, covers in 180–198 and `g_detectable` within 1.5 times the power
/// gain; at every seed count, within 1.5 times the empirical one; every
/// fit's variance from the seeds' slopes.
#[test]
#[ignore = "minutes on 2 cores; figures in the doc comment"]
fn paired_units_calibration() {
    /// The twins as measure.rs orders them: every α = −1 twin, then every +1.
    fn views(runs: &[[Arm; 3]], exact: bool) -> Vec<Twin<'_>> {
        let mut v = Vec::new();
        for k in [2, 1] {
            for r in runs {
                let (probe, plain) = if exact {
                    (&r[k].exact, &r[0].exact)
                } else {
                    (&r[k].batch, &r[0].batch)
                };
                v.push(Twin {
                    probe,
                    plain,
                    alpha: &r[k].alpha,
                });
            }
        }
        v
    }
    let mut failed: Vec<String> = Vec::new();
    for (name, toy) in [("sgd", SGD), ("adam", ADAM)] {
        let toy = Toy {
            design: Design::Constant,
            ..toy
        };
        let constant = |a: f64| vec![a; toy.steps];
        let (up, down) = (constant(1.0), constant(-1.0));
        let seed_runs = |seed: u64, exact: bool| -> [Arm; 3] {
            [
                arm(&toy, None, seed, exact),
                arm(&toy, Some(&up), seed, exact),
                arm(&toy, Some(&down), seed, exact),
            ]
        };
        let refs: Vec<[Arm; 3]> = (0..REF_SEEDS)
            .into_par_iter()
            .map(|s| seed_runs(s, true))
            .collect();
        let reference = paired(&views(&refs, true), 0).expect("reference fit").g;
        let reps: Vec<Vec<[Arm; 3]>> = (0..200u64)
            .into_par_iter()
            .map(|r| {
                (0..4)
                    .map(|j| seed_runs(REP_SEED0 + 4 * r + j, false))
                    .collect()
            })
            .collect();
        for seeds in [2, 3, 4] {
            let fits: Vec<(GainEstimate, GainEstimate)> = reps
                .par_iter()
                .map(|runs| {
                    let tw = views(&runs[..seeds], false);
                    (
                        paired(&tw, 0).expect("paired fit"),
                        paired_with(&tw, 0, PairedVariance::Increments).expect("increments fit"),
                    )
                })
                .collect();
            let new: Vec<GainEstimate> = fits.iter().map(|f| f.0.clone()).collect();
            let old: Vec<GainEstimate> = fits.iter().map(|f| f.1.clone()).collect();
            assert!(new.iter().all(|f| f.variance == VarianceSource::SeedSlopes));
            let (n, o) = (Stat::of(&new, reference), Stat::of(&old, reference));
            println!(
                "{name}, ±1, {seeds} seeds: reference {reference:.4e}; seeds' slopes: covers {}/200, mean g {:.4e}, sd {:.2e}, SE {:.2e}, detectable {:.2} of the power gain of the spread, {:.2} of the empirical one; increments (before): covers {}/200, SE {:.2e}, {:.2} / {:.2}",
                n.covers, n.mean, n.sd, n.se, n.power_ratio(), n.empirical_ratio(), o.covers, o.se, o.power_ratio(), o.empirical_ratio()
            );
            if seeds >= MIN_SEED_SLOPES {
                if !(180..=198).contains(&n.covers) {
                    failed.push(format!("{name}, {seeds} seeds: covers {}/200", n.covers));
                }
                let r = n.power_ratio();
                if !(1.0 / 1.5..=1.5).contains(&r) {
                    failed.push(format!("{name}, {seeds} seeds: detectable {r:.2}"));
                }
            }
            // Every seed count: within 1.5 times the power the intervals
            // deliver (two seeds, one degree of freedom, sit near the
            // edge: 0.68 and 0.75 when first measured).
            check_empirical_power(&mut failed, &format!("{name}, {seeds} seeds"), &n);
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// The paired estimator from one seed, as `entropic tune identify --twin`
/// gives it for one seed (300 steps, 200 repetitions): with a constant α
/// and with a PRBS per seed. Run with `cargo test --release -p
/// entropic-proofs --lib paired_one_seed_calibration -- --ignored
/// --nocapture` (60 s on 2 cores, near-idle).
///
/// Measured 2026-11-30 (covers/200; mean ĝ against the reference; sd of ĝ
/// against the mean reported SE; `g_detectable` over the 80%-power gain):
///
/// | case | SGD | Adam |
/// |---|---|---|
/// | constant α = 1 | 200; 1.3201e-4 (1.3202e-4); sd 8.9e-7, SE 1.87e-5; 21.1 | 200; 2.6581e-4 (2.6581e-4); sd 1.7e-6, SE 9.4e-5; 54.1 |
/// | a PRBS per seed | 195; 1.9240e-4 (1.8230e-4); sd 3.6e-5, SE 5.5e-5; 1.55 | 193; 8.4765e-4 (8.1002e-4); sd 5.0e-4, SE 5.8e-4; 1.18 |
///
/// With one seed there are no seeds to compare, so [`paired`] takes the
/// variance from the residual's increments, and along one constant-α run
/// the residual is mostly the curve `m_t` of a gain that changes along the
/// run, not noise: the interval is valid but 21–54 times too wide, and a
/// gain it calls undetermined may be plain to four seeds. That is what
/// `tune identify` says beside a paired interval from fewer than
/// [`MIN_SEED_SLOPES`] seeds on one schedule (`PAIRED_FEW_SEEDS_CAVEAT`),
/// and why it pools the seeds of a multi-seed log. Against the empirical
/// 80%-power gain of its own intervals ([`empirical_power_gain`],
/// 2026-11-30): 1.39 / 1.41 with a constant α, 0.94 / 1.06 with a PRBS
/// per seed; the constant-α interval states the power of its own width
/// honestly, and that width, not the statement, is what is wrong with
/// it. Asserted: coverage of
/// at least 180 in every case; with a constant α, `g_detectable` more
/// than 10 times the power gain (the caveat's claim).
#[test]
#[ignore = "about a minute on 2 cores; figures in the doc comment"]
fn paired_one_seed_calibration() {
    let mut failed: Vec<String> = Vec::new();
    for (name, toy) in [("sgd", SGD), ("adam", ADAM)] {
        for design in [Design::Constant, Design::Prbs] {
            let c = coverage_with(&Toy { design, ..toy }, 200, 1);
            let p = &c.paired;
            println!(
                "{name}, {design:?}, 300 steps, 1 seed: covers {}/200, mean g {:.4e} (reference {:.4e}), sd {:.2e}, mean SE {:.2e}, detectable {:.2} of the 80%-power gain of the spread, {:.2} of the empirical one",
                p.covers, p.mean, c.reference.g, p.sd, p.se, p.power_ratio(), p.empirical_ratio()
            );
            if p.covers < 180 {
                failed.push(format!("{name}, {design:?}: covers {}/200", p.covers));
            }
            if design == Design::Constant && p.power_ratio() <= 10.0 {
                failed.push(format!(
                    "{name}, constant α: detectable only {:.1} of the power gain",
                    p.power_ratio()
                ));
            }
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// The probe planner ([`crate::tune::plan`]) against the sampled toy: what
/// it plans from a plain pilot's noise (one plain arm of the probe's
/// length, seed 500) beside the real 80%-power gain of the fits it plans
/// for (since 2026-11-30 the gain their intervals detect in 80% of 100
/// repetitions, [`empirical_power_gain`]; before, [`benchmark`] times
/// their spread; seeds from
/// 60,000, every repetition on the one PRBS of seed 7, as a scenario's
/// probe runs one schedule; the unpaired fits also with a schedule drawn
/// per repetition, seeds from 70,000). Run with `cargo test --release -p
/// entropic-proofs --lib probe_plan_calibration -- --ignored --nocapture`
/// (110 s on 2 cores, near-idle; 172 s since it also runs two and three
/// seeds).
///
/// Measured 2026-11-30, first (planned with the normal quantiles / the
/// spread's 80%-power gain; unpaired: against
/// a schedule drawn per repetition from the plan's design, and, after the
/// slash, on the one schedule):
///
/// | plant, steps | paired, 1 seed | paired, 4 seeds | unpaired, with the pilot's placebo | unpaired, noise model alone | unpaired, first plan (one schedule) |
/// |---|---|---|---|---|---|
/// | SGD, 100 | 7.67 | 7.32 | 1.13 / 1.26 | 1.13 / 1.26 | 0.39 |
/// | SGD, 300 | 2.98 | 3.20 | 0.83 / 1.10 | 0.83 / 1.10 | 0.27 |
/// | Adam, 100 | 1.39 | 1.17 | 0.71 / 0.96 | 0.71 / 0.96 | 0.59 |
/// | Adam, 300 | 0.40 | 0.39 | 0.96 / 2.62 | 0.31 / 0.86 | 0.85 |
///
/// Since 2026-11-30 the paired plan takes the fit's t quantiles (four
/// seeds: 4.16 standard errors where it took 2.80) and the real gain is
/// the one the fitted intervals detect in 80% of the repetitions
/// ([`empirical_power_gain`]; the table above is against `benchmark ·
/// sd`, the gain a test knowing the spread detects). Measured the same
/// day, the same repetitions (planned / empirical; after the semicolon,
/// planned / the spread's figure):
///
/// | plant, steps | paired, 1 seed | paired, 2 seeds | paired, 3 seeds | paired, 4 seeds | unpaired, with the pilot's placebo (drawn / one schedule) | unpaired, noise model alone (drawn / one schedule) |
/// |---|---|---|---|---|---|---|
/// | SGD, 100 | 3.06; 7.75 | 6.82; 8.18 | 7.03; 6.98 | 7.77; 10.87 | 0.96 / 0.97; 1.13 | 0.96 / 0.97 |
/// | SGD, 300 | 0.25; 2.99 | 2.11; 3.17 | 2.41; 3.07 | 3.04; 4.75 | 0.82 / 0.79; 0.83 | 0.82 / 0.79 |
/// | Adam, 100 | 0.10; 1.41 | 1.29; 1.33 | 1.20; 1.20 | 1.38; 1.74 | 0.58 / 0.57; 0.71 | 0.58 / 0.57 |
/// | Adam, 300 | 0.02; 0.40 | 0.35; 0.43 | 0.36; 0.40 | 0.40; 0.57 | 0.87 / 0.88; 0.96 | 0.29 / 0.29 |
///
/// Predicted before the run: four seeds 7.2, 3.1, 1.15, 0.38 (right: the
/// t quantiles and the empirical gain move together); one seed 7.0, 2.7,
/// 1.25, 0.36 (wrong: 3.06 to 0.02); unpaired within 10% of the earlier
/// figures (wrong at 100 steps: 0.96 and 0.58 against 1.13 and 0.71).
/// Two seeds (the deviations' variance, about 2.80 standard errors), added
/// after: predicted 7.3, 3.1, 1.4, 0.41 and inside the four seeds' range,
/// measured 6.82, 2.11, 1.29, 0.35 (just below it); three seeds, added
/// last: predicted 7.2, 2.5, 1.3, 0.37, measured 7.03, 2.41, 1.20, 0.36.
/// Two and three share a range.
/// One seed's interval on the one schedule counts the gain's change
/// along the run as noise ([`paired_one_seed_calibration`]): wider than
/// its spread by 1.4–19 times here, so its intervals detect far less than
/// the plan, which sees only the pilot's noise, says; plans default to
/// four seeds. The ranges below hold these figures (one seed, and two
/// or three, apart).
///
/// (The real gain in that table is that of a test knowing each fit's
/// spread: `2.80·sd` for the paired fits, the fixed-b `δ₈₀·sd` for the
/// unpaired ones, see [`benchmark`]; the second table, below, is against
/// the empirical gain.)
///
/// The unpaired benchmark was first the one schedule's spread, against
/// which the noise model held within 0.86–1.26. But a user draws one
/// schedule at random, and its chance correlation with the drift is part
/// of their error: a fixed bias on the one schedule, a variance over
/// draws. Against that (found 2026-11-30 while sizing Manchester probes;
/// written down as a prediction before the run: 1.1, 0.9, 0.6, 0.35, it
/// measured 1.13, 0.83, 0.71, 0.31) the noise model was 3.2 times
/// optimistic under Adam at 300 steps. The plan now also takes the
/// pilot's placebo ([`crate::tune::plan::pilot_placebo_sds`]: the pilot's
/// steps regressed on re-drawn schedules; its ratio to the model's SE
/// counts from [`crate::tune::plan::PILOT_FACTOR_MIN`] on). Its first
/// form, the larger of the two SEs (predicted 1.2, 1.0, 0.9, 0.8–1.0
/// before the run), measured 1.13, 0.89, 0.71, 1.02; with the threshold
/// (and the plan's own placebo seed) 1.13, 0.83, 0.71, 0.96: 0.71–1.13,
/// the Adam pilot at 300 steps with a factor of 3.05, the others below
/// the threshold. Adam at 100 steps stays 0.71: there the spread is not
/// the drift's (the placebo adds nothing), but the few blocks' (see
/// [`sampled_toy_coverage_full`] on the additive model at 100 steps). On
/// the one schedule the new plan is 2.6 times wide under Adam at 300
/// steps: it plans for the schedule a user draws, not for one known in
/// advance.
///
/// The paired plan models the difference of the twins as two arms'
/// independent measurement noise (`2σ_v²`). On the toy neither half holds:
/// twins that share their draws share much of their batch's sampling
/// noise while their policies are close (where the gain is small, SGD's:
/// the plan is 3–8 times too wide), and they drift apart as the probe's α
/// accumulates (Adam's gain, several times SGD's at this cell: the plan is
/// 2.5 times too narrow at 300 steps). The unpaired plan's first version
/// (last column) was optimistic by up to 3.7 times on the one schedule,
/// which this doc first put down to the gain's change along the run; the
/// cause was the plan itself: it computed the long-run variance as
/// `γ₀·(1 + 2ρ·r_x)`, which goes to 0 where the pilot's lag-1
/// autocorrelation `ρ` falls below −0.5 (the SGD pilots here) and,
/// through a lag decay, even where it does not; it now sums the noise's
/// parts, each clamped at 0 ([`crate::tune::plan::planned_se`]), and
/// plans Adam's probe through the lag its fit uses (`--lag-decay`; under
/// Adam the first plan had no lag, whence its 0.59 and 0.85). The paired
/// plan's errors are not visible in a plain pilot, so the plan says so
/// ([`crate::tune::plan::PAIRED_PLAN_CAVEAT`],
/// [`crate::tune::plan::UNPAIRED_PLAN_CAVEAT`]), and this test holds their
/// ranges (the unpaired one against a schedule drawn per repetition) to
/// what it measures. (No prediction was written before the first run; the
/// scalar plant's planned/reported 0.93–0.98 was the expectation, and the
/// toy departs from it.)
#[test]
#[ignore = "about 3 minutes on 2 cores; figures in the doc comment"]
fn probe_plan_calibration() {
    use crate::tune::plan::{
        noise_from_entropy, planned_detectable, PlanDesign, PAIRED_FEW_SEEDS_PLAN_RANGE,
        PAIRED_ONE_SEED_PLAN_RANGE, PAIRED_PLAN_RANGE, UNPAIRED_PLAN_RANGE,
    };
    let mut failed = Vec::new();
    for (name, t0) in [("sgd", SGD), ("adam", ADAM)] {
        for steps in [100usize, 300] {
            let toy = Toy {
                design: Design::FixedPrbs(7),
                steps,
                ..t0
            };
            let sched = schedule(&toy, 0);
            let pilot = arm(&toy, None, 500, false).batch;
            let noise = noise_from_entropy(&pilot).expect("pilot");
            let lag = match toy.optimizer {
                OptimizerKind::Adam => 0.9,
                _ => 0.0,
            };
            // The real 80%-power gain of the fits' own test: of a test that
            // knows the spread (`benchmark · sd`, the first benchmark), and
            // the empirical one of the intervals as reported
            // ([`empirical_power_gain`]), what the ranges hold.
            let spread = |fits: &[GainEstimate]| {
                let s = Stat::of(fits, 0.0);
                s.benchmark * s.sd
            };
            let real = |fits: &[GainEstimate]| Stat::of(fits, 0.0).empirical;
            for seeds in [1u64, 2, 3, 4] {
                let planned = planned_detectable(
                    PlanDesign::Paired,
                    &noise,
                    &vec![sched.clone(); seeds as usize],
                    0,
                    0.0,
                );
                let fits: Vec<GainEstimate> = (0..100u64)
                    .into_par_iter()
                    .map(|r| {
                        let runs: Vec<(Arm, Arm)> = (0..seeds)
                            .map(|j| twins(&toy, 60_000 + seeds * r + j, false))
                            .collect();
                        paired(&twin_views(&runs, false), 0).expect("paired fit")
                    })
                    .collect();
                let ratio = planned / real(&fits);
                println!("{name}, {steps} steps, paired {seeds} seed(s): planned {planned:.3e}, real {:.3e} (empirical), ratio {ratio:.2}; of the spread {:.3e}, ratio {:.2}", real(&fits), spread(&fits), planned / spread(&fits));
                let range = match seeds {
                    1 => PAIRED_ONE_SEED_PLAN_RANGE,
                    2 | 3 => PAIRED_FEW_SEEDS_PLAN_RANGE,
                    _ => PAIRED_PLAN_RANGE,
                };
                if !range.contains(&ratio) {
                    failed.push(format!("{name} {steps} paired {seeds}: {ratio:.2}"));
                }
            }
            // Planned with the lag the fit uses (`tune probe --lag-decay`),
            // by the noise model alone (the first figure) and with the
            // pilot's placebo, as `tune probe --pilot` plans.
            let model = planned_detectable(PlanDesign::Unpaired, &noise, &[sched.clone()], 0, lag);
            // (tune probe --pilot plans with prbs_seed 1; here the
            // schedule is the test's, the placebo's seed the plan's.)
            let draw = PrbsDraw::from_step_0(0.0, toy.amplitude, HOLD);
            let sd = crate::tune::plan::pilot_placebo_sd(
                &pilot,
                &draw,
                steps,
                0,
                lag,
                crate::tune::plan::placebo_seed(1),
            );
            let se = crate::tune::plan::planned_se(
                PlanDesign::Unpaired,
                &noise,
                &[sched.clone()],
                0,
                lag,
            );
            let planned = model * crate::tune::plan::pilot_factor(se, sd);
            // Real: on the one schedule (the spread given the schedule),
            // and with a schedule drawn per repetition from the plan's
            // design (the spread a user who draws one schedule carries:
            // it adds the schedule's chance correlation with the drift).
            let fits = |per_rep: bool| -> Vec<GainEstimate> {
                (0..100u64)
                    .into_par_iter()
                    .map(|r| {
                        let own = draw.draw(&[], steps, 70_000 + r);
                        let s = if per_rep { &own } else { &sched };
                        let p = arm(&toy, Some(s), 60_000 + r, false);
                        unpaired_lagged(&p.batch, &p.alpha, 0, lag).expect("unpaired fit")
                    })
                    .collect()
            };
            let (fg, fd) = (fits(false), fits(true));
            let (given, drawn) = (real(&fg), real(&fd));
            let ratio = planned / drawn;
            println!(
                "{name}, {steps} steps, unpaired: planned {planned:.3e} (noise model alone {model:.3e}), real {drawn:.3e} (empirical, schedule drawn per repetition), ratio {ratio:.2} (model alone {:.2}; of the spread {:.2}); on the one schedule {given:.3e}, ratio {:.2} (model alone {:.2})",
                model / drawn,
                planned / spread(&fd),
                planned / given,
                model / given
            );
            if !UNPAIRED_PLAN_RANGE.contains(&ratio) {
                failed.push(format!("{name} {steps} unpaired: {ratio:.2}"));
            }
        }
    }
    assert!(failed.is_empty(), "{failed:?}");
}

/// What a Manchester-coded PRBS ([`prbs_manchester`]: a coin per `2·hold`
/// steps, played then negated) buys against the plain one on the sampled
/// toy, at holds 10 and 20 of each (so that the coding, not the hold, is
/// compared), read by the randomized unpaired interval with re-draws of
/// its own design ([`PrbsDraw::coded`]): 300 steps, a schedule per seed,
/// the optimizer's lag as in [`sampled_toy_coverage_full`], 200
/// repetitions from seed 90,000 (not that test's). Run with `cargo test
/// --release -p entropic-proofs --lib manchester_coding_calibration --
/// --ignored --nocapture` (4.5 minutes on 2 cores, near-idle).
///
/// Measured 2026-11-30. Randomized: sd of `ĝ` over the repetitions, the
/// mean reported SE, mean `g_detectable` and its ratio to the real
/// 80%-power gain, placebo covering 0 and intervals covering the design's
/// own reference (of 200). Then the same repetitions' Newey–West
/// ([`unpaired_lagged`]) SE over its sd and placebo, and the paired
/// estimator's (two seeds) sd and SE over sd:
///
/// | case | sd | SE | detectable | ratio | placebo | covers | NW SE/sd | NW placebo | paired sd | paired SE/sd |
/// |---|---|---|---|---|---|---|---|---|---|---|
/// | SGD, PRBS hold 10 | 1.61e-4 | 1.82e-4 | 5.11e-4 | 1.13 | 197 | 198 | 1.21 | 197 | 3.01e-5 | 1.40 |
/// | SGD, PRBS hold 20 | 2.14e-4 | 2.13e-4 | 5.97e-4 | 1.00 | 186 | 188 | 0.96 | 184 | 3.32e-5 | 1.02 |
/// | SGD, Manchester hold 10 | 1.04e-4 | 9.67e-5 | 2.71e-4 | 0.93 | 190 | 189 | 1.39 | 199 | 7.02e-6 | 5.00 |
/// | SGD, Manchester hold 20 | 9.05e-5 | 9.04e-5 | 2.53e-4 | 1.00 | 191 | 192 | 1.46 | 200 | 7.38e-6 | 5.13 |
/// | Adam, PRBS hold 10 | 3.15e-4 | 3.38e-4 | 9.46e-4 | 1.07 | 192 | 181 | 1.19 | 184 | 4.05e-4 | 1.05 |
/// | Adam, PRBS hold 20 | 2.93e-4 | 3.23e-4 | 9.06e-4 | 1.10 | 190 | 186 | 0.99 | 172 | 4.19e-4 | 0.73 |
/// | Adam, Manchester hold 10 | 2.51e-4 | 2.90e-4 | 8.12e-4 | 1.15 | 191 | 167 | 2.02 | 200 | 2.16e-4 | 2.31 |
/// | Adam, Manchester hold 20 | 1.80e-4 | 2.87e-4 | 8.05e-4 | 1.59 | 192 | 200 | 1.92 | 200 | 1.75e-4 | 2.42 |
///
/// So under SGD the Manchester coding halves the detectable gain at 300
/// steps (2.53–2.71e-4 against 5.11–5.97e-4) at either hold, with an
/// interval as honest as the plain PRBS's; under Adam it takes 11–15% off
/// it (its `ĝ` is up to 1.75 times less spread, but its SE falls less).
/// Predicted before the first run, on hold 20 against the plain hold 10
/// only (written down, then run): the spread 1.8e-4 (Adam) and 9e-5
/// (SGD), right; the SE within 0.8–1.25 of the spread and the detectable
/// gain at least 1.5 times smaller under both optimizers: right under SGD
/// (2.0 times), wrong under Adam (1.18 times; the SE 1.6 times the
/// spread); Adam's coverage below 180 (the estimand difference of
/// [`sampled_toy_coverage_full`]), wrong at hold 20 (the wide interval
/// covers it), right at hold 10 (167). A second prediction, hold 25 under
/// Adam (the longest with 6 coins in 300 steps: sd 1.9e-4, SE/sd 1.4,
/// detectable 7.5e-4), was wrong too: 1.58e-4, 1.84, 8.16e-4; a longer
/// hold does not mend Adam's interval. Why Adam's SE is wide: the
/// re-draws' spread at `g₀ = ĝ` holds the part of α's effect that the
/// geometric lag does not model (Adam's second moment reshapes the
/// response), projected on schedules unlike the observed one; a Manchester
/// schedule's power sits at period `2·hold`, near the momentum's time
/// scale, where that misfit is largest. The Newey–West and paired
/// intervals do not use the coding: on a Manchester log they are
/// conservative (Newey–West: its bandwidth stops at the regressor's first
/// non-positive autocorrelation and misses the negative lobe; paired: its
/// `ĝ`'s spread falls 4 times under SGD and 2 times under Adam, its SE
/// not). Asserted: the Manchester hold-20 placebo covers 0 in 180–198
/// under both optimizers, its `ĝ`'s spread is at most 1/1.3 of both plain
/// PRBSs' and its mean `g_detectable` below both; under SGD it covers the
/// reference in at least 180 with a detectable gain within 1.5 of the
/// real one; under Adam that ratio stays at most 2.
#[test]
#[ignore = "about 5 minutes on 2 cores; figures in the doc comment"]
fn manchester_coding_calibration() {
    let mut failed: Vec<String> = Vec::new();
    for (name, toy) in [("sgd", SGD), ("adam", ADAM)] {
        let run = |design: Design| {
            let c = coverage(
                &Toy {
                    design,
                    steps: 300,
                    rep_seed0: 90_000,
                    ..toy
                },
                200,
            );
            print(&format!("{name}, {design:?}"), &c);
            let r = c.randomized.expect("a PRBS design");
            let z = c.randomized_placebo.expect("a PRBS design");
            let u = c.unpaired.expect("a PRBS design");
            println!(
                "  randomized: sd {:.2e}, SE {:.2e}, detectable {:.2e} ({:.2} of the power gain of the spread, {:.2} of the empirical one), placebo {z}, covers {}\n  Newey–West SE/sd {:.2}, paired sd {:.2e}, SE/sd {:.2}",
                r.sd,
                r.se,
                r.detectable,
                r.power_ratio(),
                r.empirical_ratio(),
                r.covers,
                u.se / u.sd,
                c.paired.sd,
                c.paired.se / c.paired.sd
            );
            (r, z)
        };
        let (nrz10, _) = run(Design::Prbs);
        let (nrz20, _) = run(Design::Nrz(20));
        run(Design::Manchester(10));
        let (man, z) = run(Design::Manchester(20));
        let case = format!("{name}, Manchester hold 20");
        if !(180..=198).contains(&z) {
            failed.push(format!("{case}: placebo covers 0 in {z}/200"));
        }
        for (nrz, hold) in [(&nrz10, 10), (&nrz20, 20)] {
            if man.sd > nrz.sd / 1.3 {
                failed.push(format!(
                    "{case}: sd {:.2e} vs PRBS hold {hold} {:.2e}",
                    man.sd, nrz.sd
                ));
            }
            if man.detectable >= nrz.detectable {
                failed.push(format!(
                    "{case}: detectable {:.2e} vs PRBS hold {hold} {:.2e}",
                    man.detectable, nrz.detectable
                ));
            }
        }
        let pr = man.power_ratio();
        if name == "sgd" && (man.covers < 180 || !(1.0 / 1.5..=1.5).contains(&pr)) {
            failed.push(format!(
                "{case}: covers {}, power ratio {pr:.2}",
                man.covers
            ));
        }
        // Under Adam the interval is wide (see the doc): a guard that it
        // gets no wider.
        if name == "adam" && pr > 2.0 {
            failed.push(format!("{case}: power ratio {pr:.2}"));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}
