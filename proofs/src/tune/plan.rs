//! Probe sizing before running (issue 12, item 3; docs/mathematics.md §9):
//! choose the amplitude, PRBS schedule, steps and seeds of a probe so the
//! smallest gain it detects with 80% power is below the drift `|b|`, within
//! a budget, from the noise of a plain run's log (or a short pilot). Where
//! the budget cannot reach it, the plan says `undetermined` before the
//! probe runs, so its result is labelled in advance, not after the fact.
//!
//! ## The design-based variance
//! From a log without α (a plain run or a pilot at α = 0), the steps
//! `Δy_t = y_{t+1} − y_t` of the measured entropy give the drift `b` (their
//! mean), their variance `γ₀` and lag-1 autocovariance `γ₁`. Under the
//! model of [`crate::ident_power`] (`y_t = e_t + v_t`, process noise `w`,
//! measurement noise `v`): `γ₀ = σ_w² + 2σ_v²`, `γ₁ = −σ_v²`, so
//! `σ_v² = max(−γ₁, 0)` and `σ_w² = max(γ₀ − 2σ_v², 0)`.
//!
//! - **Unpaired** (one arm, `Δy_t = b − g·α_{t−d} + u_t`, `u` MA(1) with
//!   lag-1 autocorrelation `ρ = γ₁/γ₀`): the slope on the schedule `x`
//!   (centred, variance `s_x²`, lag-1 autocorrelation `r_x`) has
//!   `Var(ĝ) ≈ γ₀·(1 + 2ρ·r_x) / (n·s_x²)`, the long-run variance of
//!   `x_t·u_t` over the regressor's, computed by the noise's parts,
//!   `(σ_w²·s_x² + 2σ_v²·s_x²·(1 − r_x)) / (n·s_x⁴)` (the same where
//!   `σ_w² ≥ 0` needs no clamp; never negative, which matters for a smooth
//!   regressor, α through a lag decay, whose `r_x` is near 1). A PRBS held `h` steps has
//!   `r_x ≈ 1 − 1/h`, so with measurement noise (`ρ < 0`) a slow schedule
//!   gains: the estimator then reads levels, where the noise does not
//!   accumulate.
//! - **Paired** (probe minus plain twin on shared RNG streams, `S` seeds):
//!   the shared process noise cancels and `D_t = −g·A_t + v_t^p − v_t^q`,
//!   `A_t = Σ_{s<t} α_{s−d}`, so `Var(ĝ) = 2σ_v² / Σ_seeds Σ_t A_t²`,
//!   computed on the very schedules the probe will run.
//!
//! - **The pilot's placebo** (unpaired, [`plan_probe_with_pilot`], what
//!   `tune probe --pilot` uses): a schedule drawn at random meets the
//!   drift's curvature by chance, which the model above (white steps
//!   around a constant drift) does not hold. The slope of the pilot's own
//!   steps on re-drawn schedules of the plan's design has exactly that
//!   spread at `g = 0` ([`pilot_placebo_sds`]); the plan multiplies the
//!   model's SE by their ratio where it reaches [`PILOT_FACTOR_MIN`] (below
//!   it, one path's chance bends account for it). On the sampled toy under
//!   Adam at 300 steps the model alone had planned 0.31 of the spread's
//!   80%-power gain of a schedule drawn per run, with the placebo 0.96
//!   (against the gain the fitted intervals detect: 0.29 and 0.87).
//!   Cost: 400 draws over the pilot's length once (one pass gives every
//!   candidate length).
//!
//! Paired: `g_detectable = (t_{0.975,ν} + t_{0.80,ν})·SE(ĝ)` at the
//! degrees of freedom `ν` the fit will have: from
//! [`crate::ident_power::MIN_SEED_SLOPES`] seeds on one schedule its
//! interval is the seeds' own spread with `J − 1` of them, 4.16·SE at
//! four seeds, not the normal 2.80 (the plan used the normal quantiles
//! until 2026-11-30, which made it 1.49 times optimistic at four seeds
//! before anything else; a plan now weighs a fifth seed's t quantiles
//! against more steps). Unpaired: the fixed-b `δ₈₀` of the
//! rows and bandwidth the fit will use ([`planned_detectable`]); with a
//! lag decay ([`PlanBudget::lag`], `--lag-decay`) the regressor `x` is α
//! through that lag in both. The tests compare the planned figure with
//! the estimators' own on simulated plants.
//!
//! ## The search (chosen here; the issue leaves it open)
//! Amplitude: the largest allowed (`max_amplitude`): power grows with it,
//! and the allowed range is where the user trusts the plant to stay linear.
//! Hold: `hold` (default `MAX_DELAY + 2`). Steps: from `min_steps` in
//! steps of `step_increment`, and seeds (paired only: the unpaired
//! estimator reads one run) from [`crate::ident_power::MIN_SEED_SLOPES`]
//! (or `max_seeds` if lower), the fewest on one schedule for which the
//! paired interval is the seeds' own spread: with fewer it rests on a model
//! of the noise in time that was 21–54 times too wide on a constant-α toy
//! probe and 1.2–1.75 times on a PRBS (docs/mathematics.md §9), so a plan
//! sized from the measurement noise would not be what the fit reports;
//! while `steps × seeds ≤ budget`; the plan is the
//! cheapest (fewest total steps, then fewest seeds) whose planned detectable
//! gain is below `|b|`. None within the budget: the largest design the
//! budget allows, labelled [`PlanLabel::Undetermined`]. An unpaired plan
//! simulates its fixed-b multiplier for each candidate length near the
//! threshold (cached by rows and bandwidth). `tune probe --pilot`, pilot
//! placebo included: 0.4 s at a budget of 2,000 steps, 4.0 s at 20,000,
//! with a pilot of 2,000 or of 20,000 steps alike (2026-11-30, near-idle
//! on the 2-core build machine; before the placebo 0.3 s and 6 s).

use crate::ident_power::cumulative_alpha;
use crate::ident_power::randomized::PrbsDraw;
use serde::{Deserialize, Serialize};

/// `z_{0.975} + z_{0.80}`: a two-sided 5% test detects a gain of this many
/// standard errors with 80% power.
pub const POWER_FACTOR: f64 = 1.959_963_984_540_054 + 0.841_621_233_572_914_3;

/// Fewest steps of a log the noise is estimated from.
pub const MIN_NOISE_STEPS: usize = 20;

/// Why a plan cannot be made. Every variant is bad input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "the noise log has {finite} finite entropy steps; at least {MIN_NOISE_STEPS} are needed"
    )]
    TooShort { finite: usize },
    #[error("the noise log's entropy does not move (variance of its steps is 0): no noise to size against")]
    NoNoise,
    #[error("{name}: {msg}")]
    BadOption { name: &'static str, msg: String },
}

/// The noise of a log without α, as the plan needs it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NoiseModel {
    /// Mean step `b` (nats/step).
    pub drift: f64,
    /// Variance `γ₀` of the steps.
    pub step_var: f64,
    /// Lag-1 autocorrelation `ρ = γ₁/γ₀` of the steps.
    pub lag1: f64,
    /// `σ_v² = max(−γ₁, 0)`.
    pub meas_var: f64,
    /// `σ_w² = max(γ₀ − 2σ_v², 0)`.
    pub process_var: f64,
    /// Steps used (consecutive finite pairs).
    pub n: usize,
}

/// [`NoiseModel`] of an entropy series (a plain run or a pilot at α = 0);
/// steps touching a non-finite value are skipped.
pub fn noise_from_entropy(entropy: &[f64]) -> Result<NoiseModel, PlanError> {
    let steps: Vec<Option<f64>> = entropy
        .windows(2)
        .map(|w| Some(w[1] - w[0]).filter(|d| d.is_finite()))
        .collect();
    let finite: Vec<f64> = steps.iter().flatten().copied().collect();
    if finite.len() < MIN_NOISE_STEPS {
        return Err(PlanError::TooShort {
            finite: finite.len(),
        });
    }
    let n = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let g0 = finite.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n;
    if g0 <= 0.0 {
        return Err(PlanError::NoNoise);
    }
    let (mut c1, mut m1) = (0.0, 0usize);
    for w in steps.windows(2) {
        if let (Some(a), Some(b)) = (w[0], w[1]) {
            c1 += (a - mean) * (b - mean);
            m1 += 1;
        }
    }
    let g1 = if m1 > 0 { c1 / m1 as f64 } else { 0.0 };
    let meas_var = (-g1).max(0.0);
    Ok(NoiseModel {
        drift: mean,
        step_var: g0,
        lag1: g1 / g0,
        meas_var,
        process_var: (g0 - 2.0 * meas_var).max(0.0),
        n: finite.len(),
    })
}

/// Which estimator the probe will be read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanDesign {
    /// Probe and plain twin per seed ([`crate::ident_power::paired`]).
    Paired,
    /// One probe run ([`crate::ident_power::unpaired`]).
    Unpaired,
}

/// What the plan expects of the probe's result, decided before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanLabel {
    /// The planned detectable gain is below `|b|`: an interval holding 0
    /// will mean "no authority beyond the drift".
    Determinable,
    /// The budget cannot bring the detectable gain below `|b|`: whatever
    /// the interval, "no authority" cannot be concluded from this probe.
    Undetermined,
}

/// The budget and constraints of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanBudget {
    /// Largest `steps × seeds` (controller steps of probe runs; a paired
    /// design also runs as many plain steps, not counted here: the plain
    /// arm is usually run anyway).
    pub total_steps: usize,
    /// Largest seeds (paired design).
    pub max_seeds: usize,
    /// Largest `|α − centre|`.
    pub max_amplitude: f64,
    /// Shortest probe considered, and the increment of the search.
    pub min_steps: usize,
    pub step_increment: usize,
    /// PRBS minimum hold.
    pub hold: usize,
    /// The delay the probe will be read with.
    pub delay: usize,
    /// The lag decay the unpaired probe will be read with (`tune identify
    /// --lag-decay`; 0: none): its regressor is α through that geometric
    /// lag, smoother than α, so its SE and bandwidth differ.
    pub lag: f64,
}

impl ProbePlan {
    /// The plan's schedule around `center`, as `(steps, α)` runs (the
    /// form of a `probe = [[n, α], …]` key).
    pub fn schedule(&self, center: f64) -> Vec<(usize, f64)> {
        super::snippet::drawn_probe_schedule(
            self.steps,
            self.amplitude,
            center,
            self.hold,
            self.prbs_seed,
            crate::ident_power::Coding::Nrz,
        )
    }
}

impl PlanBudget {
    /// A budget of `total_steps` with the defaults: up to 8 seeds,
    /// amplitude 1, probes from 50 steps in steps of 10, hold
    /// `MAX_DELAY + 2`, delay 0.
    pub fn new(total_steps: usize) -> PlanBudget {
        PlanBudget {
            total_steps,
            max_seeds: 8,
            max_amplitude: 1.0,
            min_steps: 50,
            step_increment: 10,
            hold: crate::tune::model::MAX_DELAY + 2,
            delay: 0,
            lag: 0.0,
        }
    }

    fn check(&self) -> Result<(), PlanError> {
        let bad = |name, msg: String| Err(PlanError::BadOption { name, msg });
        if !(self.max_amplitude.is_finite() && self.max_amplitude > 0.0) {
            return bad(
                "--max-amplitude",
                format!("must be finite and > 0 (got {})", self.max_amplitude),
            );
        }
        if !(0.0..1.0).contains(&self.lag) {
            return bad(
                "--lag-decay",
                format!("must be in [0, 1) (got {})", self.lag),
            );
        }
        if self.max_seeds == 0 || self.step_increment == 0 || self.hold == 0 {
            return bad("--max-seeds/--hold", "must be at least 1".into());
        }
        if self.total_steps < self.min_steps.max(1) {
            return bad(
                "--budget",
                format!(
                    "must be at least the shortest probe, {} steps (got {})",
                    self.min_steps, self.total_steps
                ),
            );
        }
        Ok(())
    }
}

/// A sized probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbePlan {
    pub design: PlanDesign,
    pub amplitude: f64,
    pub hold: usize,
    pub steps: usize,
    pub seeds: usize,
    /// PRBS seed of the schedule ([`PrbsDraw::draw`]), one schedule for every seed
    /// (a scenario's probe is one schedule).
    pub prbs_seed: u64,
    /// The planned SE over the noise model's ([`plan_probe_with_pilot`]:
    /// the pilot's placebo, the drift's curvature included; 1 below
    /// [`PILOT_FACTOR_MIN`], for the paired design, or without a pilot).
    #[serde(default = "one")]
    pub pilot_factor: f64,
    /// The probe is longer than the pilot: `pilot_factor` is the one at
    /// the pilot's full length, extrapolated (a drift whose curvature
    /// lasts gives a longer probe a larger factor).
    #[serde(default)]
    pub pilot_extrapolated: bool,
    /// Planned `SE(ĝ)` and `g_detectable` ([`planned_detectable`], times
    /// `pilot_factor`).
    pub g_se: f64,
    pub g_detectable: f64,
    /// `|b|` of the noise model: the gain the probe must be able to see.
    pub drift_abs: f64,
    pub label: PlanLabel,
    pub noise: NoiseModel,
    /// What the planned figure rests on, with its measured error
    /// ([`PAIRED_PLAN_CAVEAT`], [`UNPAIRED_PLAN_CAVEAT`]).
    pub caveat: String,
}

fn one() -> f64 {
    1.0
}

/// Planned `SE(ĝ)` of a design (module doc); `lag` is the unpaired fit's
/// lag decay (its regressor `x` is α through that lag; the paired design
/// ignores it).
pub fn planned_se(
    design: PlanDesign,
    noise: &NoiseModel,
    schedules: &[Vec<f64>],
    delay: usize,
    lag: f64,
) -> f64 {
    match design {
        PlanDesign::Paired => {
            let saa: f64 = schedules
                .iter()
                .map(|s| {
                    cumulative_alpha(s, delay)
                        .iter()
                        .map(|a| a * a)
                        .sum::<f64>()
                })
                .sum();
            (2.0 * noise.meas_var / saa).sqrt()
        }
        PlanDesign::Unpaired => {
            // One run: the first schedule, the rows `t ≥ d` (α_{t−d}),
            // through the fit's lag.
            let Some(s) = schedules.first() else {
                return f64::NAN;
            };
            let x = crate::ident_power::geometric_lag(&s[..s.len().saturating_sub(delay)], 0, lag);
            let n = x.len() as f64;
            let m = x.iter().sum::<f64>() / n;
            let sx2 = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
            let cx1 = x.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum::<f64>() / n;
            // Long-run variance of x_t·u_t by the noise's parts (module
            // doc): never negative, where γ₀ + 2γ₁·r_x can be for a smooth
            // regressor (r_x near 1) and a pilot whose ρ is below −0.5.
            let lrv = noise.process_var * sx2 + 2.0 * noise.meas_var * (sx2 - cx1);
            (lrv / (n * sx2 * sx2)).sqrt()
        }
    }
}

/// Planned `g_detectable` of a design: [`planned_se`] times the 80%-power
/// multiplier of the interval the fit will report. Paired: the t quantiles
/// at the fit's degrees of freedom
/// ([`crate::ident_power::detectable_multiplier`] of
/// [`crate::ident_power::paired_df`]; before 2026-11-30 the normal
/// [`POWER_FACTOR`], which the fit's interval from four seeds exceeds by
/// 1.49 times); unpaired: the fixed-b `δ₈₀` at the rows and the
/// Newey–West bandwidth the fit will choose for this schedule
/// ([`crate::ident_power::fixed_b`]; `planned_se` is the deviation of `ĝ`
/// itself, so `δ₈₀`, not the multiplier of the reported SE).
pub fn planned_detectable(
    design: PlanDesign,
    noise: &NoiseModel,
    schedules: &[Vec<f64>],
    delay: usize,
    lag: f64,
) -> f64 {
    power_multiplier(design, schedules, delay, lag)
        * planned_se(design, noise, schedules, delay, lag)
}

/// The multiplier of [`planned_detectable`]. For the unpaired design, at
/// the bandwidth the fit chooses for this schedule through its lag.
fn power_multiplier(design: PlanDesign, schedules: &[Vec<f64>], delay: usize, lag: f64) -> f64 {
    match (design, schedules.first()) {
        (PlanDesign::Unpaired, Some(s)) => {
            // The fit's rows: the steps `ΔH_t`, t = 0..n−1, regressor
            // α_{t−d} through the lag.
            let x = crate::ident_power::geometric_lag(&s[..s.len().saturating_sub(1)], delay, lag);
            let l = crate::ident_power::regressor_bandwidth(&x);
            crate::ident_power::fixed_b::fixed_b(x.len(), l).delta80
        }
        // Paired: the t quantiles at the degrees of freedom the fit will
        // have. Seeds on one schedule (what plan_probe passes): from
        // MIN_SEED_SLOPES seeds `seeds − 1`, 4.16 at four where the
        // normal quantiles give 2.80. Seeds on schedules of their own:
        // the increments of all rows.
        (PlanDesign::Paired, Some(s)) => {
            let df = if schedules.iter().all(|x| x == s) {
                crate::ident_power::paired_df(schedules.len(), 1, s.len())
            } else {
                schedules.iter().map(Vec::len).sum::<usize>() as f64 - 1.0
            };
            crate::ident_power::detectable_multiplier(df)
        }
        (PlanDesign::Unpaired, None) => POWER_FACTOR,
        (PlanDesign::Paired, None) => f64::NAN,
    }
}

/// The range of planned over real 80%-power gains of a paired plan with
/// four seeds on one schedule on the sampled toy (`probe_plan_calibration`
/// in `proofs/src/ident_power_toy_tests.rs` measures it and fails when a
/// ratio leaves it; the real gain is the one the fitted intervals detect
/// in 80% of 100 repetitions): [`PAIRED_PLAN_CAVEAT`] quotes it, "0.40
/// to 7.8", and this is what rounds to those figures (the measured ends
/// 0.403 and 7.77; two or three seeds 0.351 and 7.03; one seed 0.0206
/// and 3.06; unpaired 0.584 and 0.957). (Against the
/// spread's `2.80·sd` and with the normal quantiles' plan, before
/// 2026-11-30: 0.39 to 7.7.)
pub const PAIRED_PLAN_RANGE: std::ops::RangeInclusive<f64> = 0.395..=7.85;
/// The same with two or three seeds (`--max-seeds 2` or `3`), "0.35 to
/// 7.0".
pub const PAIRED_FEW_SEEDS_PLAN_RANGE: std::ops::RangeInclusive<f64> = 0.3455..=7.05;
/// The same with one seed (`--max-seeds 1`), "0.02 to 3.1".
pub const PAIRED_ONE_SEED_PLAN_RANGE: std::ops::RangeInclusive<f64> = 0.0155..=3.15;
/// The same for an unpaired plan with its pilot ([`UNPAIRED_PLAN_CAVEAT`],
/// "0.58 to 0.96", against a schedule drawn per run; against the fixed-b
/// `δ₈₀` of the spread, before 2026-11-30, 0.71 to 1.13).
pub const UNPAIRED_PLAN_RANGE: std::ops::RangeInclusive<f64> = 0.5755..=0.965;

/// What a paired plan rests on (printed with it, and in its JSON): a model
/// that sees neither how much sampling noise twins share nor how fast they
/// drift apart.
pub const PAIRED_PLAN_CAVEAT: &str = "a paired plan models the twins' difference as two arms' independent measurement noise, measured on a plain pilot. Twins that share their draws also share much of their sampling noise while their policies are close (the plan then errs wide), and drift apart as the probe's α accumulates (it then errs narrow); a plain pilot shows neither. On the sampled toy of docs/mathematics.md §9 the planned detectable gain of four seeds on one schedule was 0.40 to 7.8 times the gain their fitted intervals detected in 80% of runs (narrow where the gain is large, Adam at 300 steps; wide where it is small); of one seed (--max-seeds 1) 0.02 to 3.1, because one seed's interval counts the gain's change along the run as noise and is far wider than the plan; of two or three seeds 0.35 to 7.0. Read the fitted interval of the run, not the plan; from 4 seeds on one schedule it is the seeds' own spread.";

/// What an unpaired plan rests on: the plain pilot's noise, where the
/// probe's own residual also holds what α does to it.
pub const UNPAIRED_PLAN_CAVEAT: &str = "an unpaired plan takes the noise of the probe's steps from a plain pilot, and the chance correlation of a schedule drawn at random with the pilot's drift from the same pilot (where the probe runs longer than the pilot, extrapolated from its full length). The probe's residual can hold more: a gain that changes along the run leaves its change times α in it, and α can change the steps' own noise; a plain pilot shows neither. On the sampled toy of docs/mathematics.md §9 the planned detectable gain was 0.58 to 0.96 times the gain the fitted intervals detected in 80% of runs, with a schedule drawn per run (read through --lag-decay 0.9 under Adam; the noise model alone 0.29 to 0.96). Read the fitted interval of the run, not the plan.";

/// Schedules drawn by [`pilot_placebo_sds`].
pub const PILOT_PLACEBO_DRAWS: usize = 400;

/// Smallest ratio of the pilot's placebo to the noise model's SE that the
/// plan applies ([`pilot_factor`]): on pilots whose drift is straight the
/// two estimate the same variance, the placebo from one path whose random
/// walk of process noise bends by chance, and their ratio spread over
/// 0.52–1.58 (40 such pilots of 100 and 300 steps on the simulated plant,
/// `a_pilot_whose_drift_curves_widens_the_unpaired_plan`, measured
/// before this figure was set); taking the larger of two noisy figures
/// below it would only inflate the plan. (The sampled toy's Adam pilot at
/// 300 steps gave 3.05.)
pub const PILOT_FACTOR_MIN: f64 = 1.6;

/// The seed of the placebo's re-draws for a plan whose schedule is drawn
/// with `prbs_seed` (never one of the 400 seeds after it: bit 15 flips).
pub fn placebo_seed(prbs_seed: u64) -> u64 {
    prbs_seed ^ 0x9e37
}

/// The spread of the unpaired slope over [`PILOT_PLACEBO_DRAWS`] schedules
/// drawn from `draw` (seeded from `seed`), each regressed on the pilot's
/// own first `n` entropy values, for every `n` in `lengths`: OLS of the
/// steps `ΔH_t` (`t < n − 1`, rows whose step is not finite skipped) on
/// `[1, x_t]`, `x` the schedule through the fit's `delay` and `lag`
/// ([`crate::ident_power::unpaired_lagged`]'s statistic; the randomization
/// interval's prewhitened statistic was at least as precise on the
/// sampled toy). A length gets `None` where the pilot is shorter than it
/// or leaves fewer than [`MIN_NOISE_STEPS`] rows. Every length reads
/// prefixes of the same draws (of the longest length), one pass each; a
/// prefix whose α never switches is skipped, as the fit refuses it.
///
/// Why: the slope of a schedule drawn at random meets the drift's
/// curvature by chance, a variance the noise model (white steps around a
/// constant drift) does not hold. On the pilot at `g = 0` it is what
/// re-drawing the schedule sees (the placebo), and over repetitions of
/// the pilot its expectation is the probe's variance from noise and
/// drift together. On the sampled toy under Adam at 300 steps it was 3.05
/// times the noise model's (at 100 steps about the same as the model's;
/// docs/mathematics.md §9).
pub fn pilot_placebo_sds(
    pilot: &[f64],
    draw: &PrbsDraw,
    lengths: &[usize],
    delay: usize,
    lag: f64,
    seed: u64,
) -> Vec<Option<f64>> {
    let longest = lengths
        .iter()
        .copied()
        .filter(|&n| n <= pilot.len())
        .max()
        .unwrap_or(0);
    // Per length: the slopes of the draws.
    let mut slopes: Vec<Vec<f64>> = vec![Vec::new(); lengths.len()];
    // Lengths in increasing order: each is recorded once its rows are in.
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    if longest >= 2 {
        for k in 0..PILOT_PLACEBO_DRAWS as u64 {
            let a = draw.draw(&[], longest, seed.wrapping_add(k));
            let x = crate::ident_power::geometric_lag(&a, delay, lag);
            let raw = |t: usize| if t >= delay { a[t - delay] } else { 0.0 };
            // Running sums over the rows t < n − 1 with a finite step.
            let (mut m, mut sx, mut sy, mut sxx, mut sxy) = (0usize, 0.0, 0.0, 0.0, 0.0);
            let mut switched = false;
            let mut next = 0;
            // Up to t = longest − 1, where the last lengths are recorded.
            for t in 0..longest {
                // Length n holds the rows t < n − 1: record those ending here.
                while next < order.len() && lengths[order[next]] <= t + 1 {
                    let i = order[next];
                    let (mf, var_x) = (m as f64, sxx - sx * sx / m.max(1) as f64);
                    if lengths[i] <= pilot.len() && m >= MIN_NOISE_STEPS && switched && var_x > 0.0
                    {
                        slopes[i].push((sxy - sx * sy / mf) / var_x);
                    }
                    next += 1;
                }
                if t + 1 >= longest {
                    break;
                }
                let dy = pilot[t + 1] - pilot[t];
                if dy.is_finite() {
                    m += 1;
                    sx += x[t];
                    sy += dy;
                    sxx += x[t] * x[t];
                    sxy += x[t] * dy;
                    switched |= raw(t) != raw(0);
                }
            }
        }
    }
    slopes
        .iter()
        .map(|s| {
            (s.len() >= 2).then(|| {
                let mean = s.iter().sum::<f64>() / s.len() as f64;
                let var = s.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (s.len() - 1) as f64;
                var.sqrt()
            })
        })
        .collect()
}

/// [`pilot_placebo_sds`] at one length.
pub fn pilot_placebo_sd(
    pilot: &[f64],
    draw: &PrbsDraw,
    steps: usize,
    delay: usize,
    lag: f64,
    seed: u64,
) -> Option<f64> {
    pilot_placebo_sds(pilot, draw, &[steps], delay, lag, seed)[0]
}

/// The factor an unpaired plan puts on the noise model's SE `model` given
/// the pilot's placebo `placebo` at the same length: their ratio where it
/// reaches [`PILOT_FACTOR_MIN`], else 1.
pub fn pilot_factor(model: f64, placebo: Option<f64>) -> f64 {
    match placebo {
        Some(sd) if sd >= PILOT_FACTOR_MIN * model => sd / model,
        _ => 1.0,
    }
}

/// Sizes a probe for `noise` within `budget` (module doc). `prbs_seed`
/// seeds the schedules, so the plan's figures are those of the runs.
/// [`plan_probe_with_pilot`] without the pilot's entropy.
pub fn plan_probe(
    noise: &NoiseModel,
    design: PlanDesign,
    budget: &PlanBudget,
    prbs_seed: u64,
) -> Result<ProbePlan, PlanError> {
    plan_probe_with_pilot(noise, None, design, budget, prbs_seed)
}

/// [`plan_probe`], the unpaired design's SE also taken from the pilot's
/// entropy `pilot` (the series `noise` came from): the noise model's
/// times [`pilot_factor`] of [`pilot_placebo_sds`] at the probe's length;
/// beyond the pilot's length, the factor at the pilot's full length (an
/// extrapolation: the plan's `pilot_extrapolated` says so).
pub fn plan_probe_with_pilot(
    noise: &NoiseModel,
    pilot: Option<&[f64]>,
    design: PlanDesign,
    budget: &PlanBudget,
    prbs_seed: u64,
) -> Result<ProbePlan, PlanError> {
    budget.check()?;
    let max_seeds = match design {
        PlanDesign::Paired => budget.max_seeds,
        PlanDesign::Unpaired => 1,
    };
    let drift_abs = noise.drift.abs();
    let a = budget.max_amplitude;
    // The schedules ProbePlan::schedule prints (a draw that never
    // switches is drawn again).
    let schedules = |steps: usize, seeds: usize| {
        let draw = PrbsDraw::from_step_0(0.0, a, budget.hold.max(1));
        vec![draw.draw(&[], steps, prbs_seed); seeds]
    };
    let detectable =
        |sch: &[Vec<f64>], se: f64| power_multiplier(design, sch, budget.delay, budget.lag) * se;
    // The unpaired design's pilot placebo at every candidate length and at
    // the pilot's full length, in one pass per draw (pilot_placebo_sds).
    let pilot = pilot.filter(|_| design == PlanDesign::Unpaired);
    let pilot_len = pilot.map_or(0, <[f64]>::len);
    let lengths: Vec<usize> = match pilot {
        Some(_) => (0..)
            .map(|i| budget.min_steps + i * budget.step_increment)
            .take_while(|&n| n <= budget.total_steps.min(pilot_len))
            .chain(std::iter::once(pilot_len))
            .collect(),
        None => Vec::new(),
    };
    let placebos = pilot.map_or_else(Vec::new, |p| {
        let draw = PrbsDraw::from_step_0(0.0, a, budget.hold.max(1));
        pilot_placebo_sds(
            p,
            &draw,
            &lengths,
            budget.delay,
            budget.lag,
            placebo_seed(prbs_seed),
        )
    });
    // Beyond the pilot: the factor at its full length (an extrapolation).
    let full_factor = match placebos.last() {
        Some(&sd) => pilot_factor(
            planned_se(
                design,
                noise,
                &schedules(pilot_len, 1),
                budget.delay,
                budget.lag,
            ),
            sd,
        ),
        None => 1.0,
    };
    // (SE, factor over the noise model) of a candidate.
    let with_pilot = |steps: usize, model: f64| -> (f64, f64) {
        if pilot.is_none() {
            return (model, 1.0);
        }
        let f = match lengths.iter().position(|&n| n == steps) {
            // Every listed length is within the pilot.
            Some(i) => pilot_factor(model, placebos[i]),
            None => full_factor,
        };
        (model * f, f)
    };
    // (total, seeds, steps, se): cheapest meeting |b|, else the most
    // powerful (below). The unpaired multiplier (a simulation per length) is
    // computed only for a design that could be the cheapest and whose
    // normal-quantile figure is near |b| (the fixed-b multiplier is at
    // least the normal one, 2.80, up to its Monte Carlo error, well under
    // 1%).
    let mut best: Option<(usize, usize, usize, f64)> = None;
    // The most powerful so far, with its power figure.
    let mut largest: Option<((usize, usize, usize, f64), f64)> = None;
    let min_seeds = match design {
        PlanDesign::Paired => crate::ident_power::MIN_SEED_SLOPES.min(max_seeds),
        PlanDesign::Unpaired => 1,
    };
    for seeds in min_seeds..=max_seeds {
        let mut steps = budget.min_steps;
        while steps * seeds <= budget.total_steps {
            let sch = schedules(steps, seeds);
            let model = planned_se(design, noise, &sch, budget.delay, budget.lag);
            let (se, _) = with_pilot(steps, model);
            let total = steps * seeds;
            if 0.99 * POWER_FACTOR * se < drift_abs
                && best.is_none_or(|b| (total, seeds) < (b.0, b.1))
                && detectable(&sch, se) < drift_abs
            {
                best = Some((total, seeds, steps, se));
            }
            // The most powerful: paired, by the detectable gain (the
            // t quantiles fall with the seeds); unpaired, by the SE (its
            // fixed-b multiplier, a simulation, barely moves with length).
            let power = match design {
                PlanDesign::Paired => detectable(&sch, se),
                PlanDesign::Unpaired => se,
            };
            if largest.is_none_or(|l| power < l.1) {
                largest = Some(((total, seeds, steps, se), power));
            }
            steps += budget.step_increment;
        }
    }
    let (label, (_, seeds, steps, se)) = match (best, largest) {
        (Some(b), _) => (PlanLabel::Determinable, b),
        (None, Some((l, _))) => (PlanLabel::Undetermined, l),
        (None, None) => {
            return Err(PlanError::BadOption {
                name: "--budget",
                msg: "no probe fits the budget".into(),
            })
        }
    };
    let chosen = schedules(steps, seeds);
    let model = planned_se(design, noise, &chosen, budget.delay, budget.lag);
    let pilot_factor = with_pilot(steps, model).1;
    let pilot_extrapolated = pilot.is_some() && steps > pilot_len;
    Ok(ProbePlan {
        design,
        amplitude: a,
        hold: budget.hold,
        steps,
        seeds,
        prbs_seed,
        pilot_factor,
        pilot_extrapolated,
        g_se: se,
        g_detectable: detectable(&chosen, se),
        drift_abs,
        label,
        noise: *noise,
        caveat: match design {
            PlanDesign::Paired => PAIRED_PLAN_CAVEAT,
            PlanDesign::Unpaired => UNPAIRED_PLAN_CAVEAT,
        }
        .to_string(),
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
