//! Identification with power (docs/mathematics.md §9): estimators of the
//! plant gain `g` and drift `b` of `e_{t+1} = e_t + b − g·α_{t−d}` whose
//! intervals stay honest when the entropy is measured with noise, and the
//! smallest gain each design detects.
//!
//! Two designs:
//! - [`paired`]: a probe arm and its plain twin (same seeds, same RNG
//!   streams). `D_t = H_t^probe − H_t^plain = −g·A_t + ε_t`, with the
//!   cumulative α `A_t = Σ_{s<t} α_{s−d}`, regressed in levels, pooled over
//!   seeds; the variance of that slope from the increments of what it
//!   leaves, and between seeds where they share a schedule (see
//!   [`paired`]).
//! - [`unpaired`]: one arm with a schedule uncorrelated with time (a PRBS,
//!   [`prbs`]): the levels model `H_t = c + b·t − g·A_t`, fitted in
//!   differences (OLS), because its level residual holds a random walk
//!   that no HAC makes honest (see [`unpaired_lagged`]).
//! - [`paired_windows`] and [`StatePlant`]: `g` per window along a run and
//!   the state-dependent loop `e_{t+1} = e_t + b(H) − g(H)·α_{t−d}`.
//!
//! Both report `g`, `b`, their 95% intervals, and
//! `g_detectable = (t_{0.975,ν} + t_{0.80,ν})·SE(ĝ)` (≈ 2.80·SE for large
//! `ν`): the gain a two-sided 5% test of `g = 0` detects with 80% power at
//! this design. An interval that contains 0 says "no authority" only when
//! `g_detectable` is below the drift `|b|` (docs/mathematics.md §9).
//!
//! ## Variance: Newey–West HAC
//! Every interval here (but [`paired`]'s, derived at [`paired`] from the
//! same pieces) is `β̂ ± t_{0.975,ν}·SE` with the sandwich
//! `V = n/(n−k) · (X'X)⁻¹ S (X'X)⁻¹`,
//! `S = Σ_series [Γ_0 + Σ_{l=1..L} (1 − l/(L+1)) (Γ_l + Γ_l')]`,
//! `Γ_l = Σ_t u_t u_{t−l} x_t x_{t−l}'` within one series (Bartlett
//! weights, so `S` is positive semi-definite). Series (seeds) are
//! independent, so cross-series terms are zero and the meat is a sum over
//! series: this works with one seed, where clustering by seed could not
//! (one cluster has no variance estimate), and with a few seeds, where a
//! cluster estimator is badly biased. Degrees of freedom `ν = n − k` (all
//! rows, all series; `k` fitted coefficients), Student-t quantiles
//! (statrs): conservative for short logs, the normal ones for long; the
//! unpaired slope's, whose bandwidth can be a tenth of the rows, are the
//! fixed-b quantiles of [`fixed_b`] instead.
//!
//! Bandwidth: `L = ⌊4·(n_s/100)^{2/9}⌋` (at least 1), the Newey–West (1994)
//! rule of thumb, for a series of `n_s` rows (`L = 5` at 300 rows); the
//! unpaired slope's bandwidth spans its regressor's autocorrelation
//! ([`regressor_bandwidth`]); the largest over the series is reported in
//! [`GainEstimate::bandwidth`].
//!
//! (Over 600 lines: the paired and unpaired estimators, the Newey–West and
//! MA(1) prewhitening (of the drift's fit and the randomization interval), the PRBS schedule, the windowed gains and
//! the state-dependent loop form one statistical unit whose derivations sit
//! beside the code; its tests are in `ident_power_tests.rs`.)

use crate::error::IdentError;
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Which design produced an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DesignKind {
    /// Probe minus plain twin, pooled over `seeds` pairs ([`paired`]).
    Paired { seeds: usize },
    /// One arm ([`unpaired`]).
    Unpaired,
    /// One arm with a randomization interval from `draws` re-draws of its
    /// PRBS schedule ([`randomized::unpaired_randomized`]).
    UnpairedRandomized { draws: usize },
}

/// Where an estimate's variance of `ĝ` comes from (what its interval rests
/// on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VarianceSource {
    /// Newey–West on the regression's scores ([`unpaired`],
    /// [`paired_windows`]).
    NeweyWest,
    /// A model of the twins' noise in time, from the residuals' increments
    /// ([`paired`] with one seed, or seeds on their own schedules).
    Increments,
    /// The same model on the seeds' deviations from their mean ([`paired`]
    /// with 2 to [`MIN_SEED_SLOPES`]` − 1` seeds on one schedule).
    BetweenSeeds,
    /// The spread of the seeds' own slopes, no model of the noise in time
    /// ([`paired`] from [`MIN_SEED_SLOPES`] seeds on one schedule, or from
    /// two seeds that each ran the same several schedules).
    SeedSlopes,
    /// Re-draws of the schedule ([`randomized::unpaired_randomized`]).
    Randomization,
}

impl VarianceSource {
    /// The name it has in JSON (snake case), for reports.
    pub fn name(self) -> &'static str {
        match self {
            VarianceSource::NeweyWest => "newey_west",
            VarianceSource::Increments => "increments",
            VarianceSource::BetweenSeeds => "between_seeds",
            VarianceSource::SeedSlopes => "seed_slopes",
            VarianceSource::Randomization => "randomization",
        }
    }
}

/// `g`, `b`, their 95% intervals and the design's power.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GainEstimate {
    pub design: DesignKind,
    /// Where the variance of `ĝ` came from.
    pub variance: VarianceSource,
    /// The delay `d` the regressor was built with.
    pub d: usize,
    pub g: f64,
    pub g_se: f64,
    /// 95% interval `ĝ ± t_{0.975,ν}·SE(ĝ)` (unpaired: the fixed-b
    /// critical value of [`fixed_b`] instead of `t_{0.975,ν}`).
    pub g_ci: (f64, f64),
    pub b: f64,
    pub b_se: f64,
    pub b_ci: (f64, f64),
    /// Smallest `g` detected with 80% power by a two-sided 5% test:
    /// `(t_{0.975,ν} + t_{0.80,ν})·SE(ĝ)` (unpaired: the fixed-b
    /// multiplier of [`fixed_b`]).
    pub g_detectable: f64,
    /// Regression rows of the `g` fit (all series).
    pub n: usize,
    /// Degrees of freedom `ν` of the `g` fit (randomization interval: the
    /// number of re-draws, which it uses instead).
    pub df: f64,
    /// Largest Newey–West bandwidth used for `g` (0 for a randomization
    /// interval).
    pub bandwidth: usize,
    /// How much of the data the model explains, `1 − SSR/SST`: paired, of
    /// `D_t` (SST about 0, the fit has no intercept); unpaired, of the raw
    /// steps `ΔH_t` (SST about their mean), with the fitted `b` and `g`.
    pub r2: f64,
    /// RMS of the same residuals (`D_t + ĝ·A_t`, or `ΔH_t − b̂ + ĝ·α_{t−d}`).
    pub residual_rms: f64,
    /// The MA(1) coefficient `θ̂` of the `g` fit: for the paired fit, of the
    /// increments its variance is taken from ([`paired`]); for a
    /// randomization interval, of its prewhitening; 0 for [`unpaired`]
    /// (not prewhitened) and [`paired_windows`].
    pub ma1_theta: f64,
    /// Rows skipped because an entropy value was not finite.
    pub skipped_nan: usize,
}

impl GainEstimate {
    /// The estimate as the [`crate::ident::Fit`] that [`crate::tune::recommend`]
    /// and [`crate::linear`] take (`n`: the rows of the `g` fit).
    pub fn to_fit(&self) -> crate::ident::Fit {
        crate::ident::Fit {
            b: self.b,
            g: self.g,
            d: self.d,
            b_ci: self.b_ci,
            g_ci: self.g_ci,
            b_se: self.b_se,
            g_se: self.g_se,
            residual_rms: self.residual_rms,
            n: self.n,
            r2: self.r2,
            skipped_nan: self.skipped_nan,
        }
    }

    /// Whether the 95% interval excludes `g = 0`.
    pub fn rejects_zero(&self) -> bool {
        self.g_ci.0 > 0.0 || self.g_ci.1 < 0.0
    }
}

/// The Newey–West (1994) rule-of-thumb bandwidth `⌊4·(n/100)^{2/9}⌋`, at
/// least 1.
pub fn nw_bandwidth(n: usize) -> usize {
    ((4.0 * (n as f64 / 100.0).powf(2.0 / 9.0)).floor() as usize).max(1)
}

/// Two-sided 95% and 80%-power quantiles of Student's t with `df` degrees
/// of freedom (their sum times `SE(ĝ)` is `g_detectable`).
pub fn quantiles(df: f64) -> (f64, f64) {
    StudentsT::new(0.0, 1.0, df)
        .map(|t| (t.inverse_cdf(0.975), t.inverse_cdf(0.80)))
        .unwrap_or((f64::NAN, f64::NAN))
}

/// `t_{0.975,ν} + t_{0.80,ν}`: `g_detectable` over `SE(ĝ)` for a fit
/// with `df` degrees of freedom (2.80 for large `df`, 4.16 at 3, 5.36 at
/// 2). A plan multiplies its planned SE by this at the `df` the fit will
/// have ([`paired_df`]), so that it plans the figure the fit reports.
pub fn detectable_multiplier(df: f64) -> f64 {
    let (q975, q80) = quantiles(df);
    q975 + q80
}

/// The degrees of freedom of [`paired`]'s interval for `seeds` seeds that
/// each ran the same `schedules` (one twin per schedule, every twin of a
/// seed sharing its plain arm), each twin `rows` rows long, no row
/// skipped; what [`paired`]'s automatic choice of variance gives:
/// - two or more seeds under two or more schedules ([`seed_units`]), or
///   [`MIN_SEED_SLOPES`] or more on one: the seeds' slopes, `J − 1`;
/// - two or three seeds on one schedule: the deviations from their mean,
///   `(J − 1)·rows − 1`;
/// - one seed, or rows fewer than [`crate::ident::MIN_ROWS`] (too few
///   to compare seeds step by step): the increments of all rows,
///   `seeds·schedules·rows − 1`.
///
/// NaN for no seeds or no schedules.
pub fn paired_df(seeds: usize, schedules: usize, rows: usize) -> f64 {
    match (seeds, schedules) {
        (0, _) | (_, 0) => f64::NAN,
        (j, k) if j == 1 || rows < crate::ident::MIN_ROWS => (j * k * rows) as f64 - 1.0,
        (j, k) if k >= 2 || j >= MIN_SEED_SLOPES => (j - 1) as f64,
        (j, _) => ((j - 1) * rows) as f64 - 1.0,
    }
}

/// Regression rows grouped into independent series (each in time order).
#[derive(Debug, Default)]
struct Rows {
    k: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    /// Start row of every series, plus the total at the end.
    bounds: Vec<usize>,
}

impl Rows {
    fn new(k: usize) -> Rows {
        Rows {
            k,
            bounds: vec![0],
            ..Rows::default()
        }
    }
    fn push(&mut self, x: &[f64], y: f64) {
        self.x.extend_from_slice(x);
        self.y.push(y);
    }
    fn end_series(&mut self) {
        if *self.bounds.last().unwrap_or(&0) != self.y.len() {
            self.bounds.push(self.y.len());
        }
    }
    fn n(&self) -> usize {
        self.y.len()
    }
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.k..(i + 1) * self.k]
    }
}

/// An OLS fit with Newey–West covariance.
#[derive(Debug)]
pub(crate) struct HacFit {
    pub beta: Vec<f64>,
    /// HAC covariance (`n/(n−k)` corrected).
    pub cov: DMatrix<f64>,
    /// Classical OLS covariance `s²(X'X)⁻¹` (read by the tests that show
    /// why it is not used).
    #[cfg_attr(not(test), allow(dead_code))]
    pub cov_ols: DMatrix<f64>,
    pub n: usize,
    pub df: f64,
    pub bandwidth: usize,
    pub r2: f64,
    /// `sqrt(SSR/n)`.
    pub residual_rms: f64,
}

/// A [`IdentError::TooFewSteps`] from [`hac_fit`] (which knows only the
/// rows) completed with the caller's delay `d` and skipped-row count.
fn with_context(e: IdentError, d: usize, skipped: usize) -> IdentError {
    match e {
        IdentError::TooFewSteps { rows, minimum, .. } => IdentError::TooFewSteps {
            rows,
            minimum,
            skipped,
            d,
        },
        other => other,
    }
}

/// OLS of `y` on `x` with the HAC covariance of the module doc; `bandwidth`
/// `None` applies [`nw_bandwidth`] to each series, `Some(L)` fixes it. Its
/// [`IdentError::TooFewSteps`] carries `d = 0, skipped = 0`: callers fill
/// them in with [`with_context`].
fn hac_fit(rows: &Rows, bandwidth: Option<usize>, centred_r2: bool) -> Result<HacFit, IdentError> {
    let (n, k) = (rows.n(), rows.k);
    if n < crate::ident::MIN_ROWS.max(k + 2) {
        return Err(IdentError::TooFewSteps {
            rows: n,
            minimum: crate::ident::MIN_ROWS.max(k + 2),
            skipped: 0,
            d: 0,
        });
    }
    let x = DMatrix::from_row_slice(n, k, &rows.x);
    let y = DVector::from_column_slice(&rows.y);
    let xtx = x.transpose() * &x;
    let inv = xtx.clone().try_inverse().ok_or(IdentError::ConstantAlpha)?;
    // Near-singular X'X (a regressor that is a combination of the others).
    if !inv.iter().all(|v| v.is_finite()) {
        return Err(IdentError::ConstantAlpha);
    }
    let beta = &inv * (x.transpose() * &y);
    let u = &y - &x * &beta;
    let mut meat = DMatrix::<f64>::zeros(k, k);
    let mut lmax = 0;
    for w in rows.bounds.windows(2) {
        let (s, e) = (w[0], w[1]);
        let l = bandwidth.unwrap_or_else(|| nw_bandwidth(e - s));
        lmax = lmax.max(l);
        for lag in 0..=l.min(e - s - 1) {
            let wt = if lag == 0 {
                1.0
            } else {
                1.0 - lag as f64 / (l as f64 + 1.0)
            };
            let mut gam = DMatrix::<f64>::zeros(k, k);
            for t in s + lag..e {
                let (xt, xl) = (rows.row(t), rows.row(t - lag));
                let uu = u[t] * u[t - lag];
                for i in 0..k {
                    for j in 0..k {
                        gam[(i, j)] += uu * xt[i] * xl[j];
                    }
                }
            }
            if lag == 0 {
                meat += gam;
            } else {
                meat += (&gam + gam.transpose()) * wt;
            }
        }
    }
    let df = (n - k) as f64;
    let cov = &inv * meat * &inv * (n as f64 / df);
    let ssr = u.norm_squared();
    let cov_ols = &inv * (ssr / df);
    let ybar = if centred_r2 { y.mean() } else { 0.0 };
    let sst: f64 = y.iter().map(|v| (v - ybar).powi(2)).sum();
    Ok(HacFit {
        beta: beta.iter().copied().collect(),
        cov,
        cov_ols,
        n,
        df,
        bandwidth: lmax,
        r2: if sst > 0.0 { 1.0 - ssr / sst } else { 1.0 },
        residual_rms: (ssr / n as f64).sqrt(),
    })
}

/// `A_t = Σ_{s<t} α_{s−d}` (α before step 0 is 0), `t = 0..n`.
pub fn cumulative_alpha(alpha: &[f64], d: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(alpha.len());
    let mut acc = 0.0;
    for t in 0..alpha.len() {
        out.push(acc);
        if t >= d {
            acc += alpha[t - d];
        }
    }
    out
}

fn check_alpha(alpha: &[f64]) -> Result<(), IdentError> {
    if alpha.iter().any(|a| !a.is_finite()) {
        return Err(IdentError::NonFiniteAlpha);
    }
    Ok(())
}

fn check_len(entropy: usize, alpha: usize) -> Result<(), IdentError> {
    if entropy != alpha {
        return Err(IdentError::LengthMismatch { entropy, alpha });
    }
    Ok(())
}

/// A value, its SE and its 95% interval from a fit's coefficient `i`,
/// negated when `neg` (g is minus the slope).
fn coef(f: &HacFit, i: usize, neg: bool) -> (f64, f64, (f64, f64), f64) {
    let (q, q80) = quantiles(f.df);
    coef_with(f, i, neg, q, q + q80)
}

/// [`coef`] with the fixed-b quantiles of [`fixed_b::fixed_b`] at the
/// fit's rows and bandwidth (one series).
fn coef_fixed_b(f: &HacFit, i: usize, neg: bool) -> (f64, f64, (f64, f64), f64) {
    let q = fixed_b::fixed_b(f.n, f.bandwidth);
    coef_with(f, i, neg, q.q975, q.power)
}

/// Coefficient `i` (negated if `neg`), its SE, `± q·SE` and `power·SE`.
fn coef_with(f: &HacFit, i: usize, neg: bool, q: f64, power: f64) -> (f64, f64, (f64, f64), f64) {
    let v = if neg { -f.beta[i] } else { f.beta[i] };
    let se = f.cov[(i, i)].max(0.0).sqrt();
    (v, se, (v - q * se, v + q * se), power * se)
}

/// OLS sum of squared residuals of `rows` (infinite when singular).
fn ols_ssr(rows: &Rows) -> f64 {
    let (n, k) = (rows.n(), rows.k);
    let x = DMatrix::from_row_slice(n, k, &rows.x);
    let y = DVector::from_column_slice(&rows.y);
    let xt = x.transpose();
    match (&xt * &x).try_inverse() {
        Some(inv) => {
            let beta = inv * (&xt * &y);
            (&y - &x * beta).norm_squared()
        }
        None => f64::INFINITY,
    }
}

/// The MA(1) coefficient by conditional sum of squares: the `θ` in
/// `[−0.98, 0.9]` whose filtered regression has the smallest SSR (grid of
/// 0.02, then 0.002 around the best).
fn css_theta(filtered: &dyn Fn(f64) -> Rows) -> f64 {
    let best_on = |grid: Vec<f64>| {
        grid.into_iter()
            .map(|t| (t, ols_ssr(&filtered(t))))
            .fold((0.0, f64::INFINITY), |b, c| if c.1 < b.1 { c } else { b })
            .0
    };
    let coarse = best_on((0..=94).map(|i| -0.98 + 0.02 * i as f64).collect());
    best_on(
        (-10..=10)
            .map(|i| (coarse + 0.002 * i as f64).clamp(-0.98, 0.9))
            .collect(),
    )
}

/// Regression in first differences with MA(1) prewhitening, then HAC.
///
/// The plant observed with noise, `y_t = e_t + v_t`, `e_{t+1} = e_t + b −
/// g·α_{t−d} + w_t`, gives `Δy_t = b − g·α_{t−d} + u_t` with
/// `u_t = w_t + v_{t+1} − v_t`: an MA(1) whose lag-1 autocorrelation
/// `−σ_v²/(σ_w² + 2σ_v²)` runs from 0 (process noise only) to −0.5
/// (measurement noise only), i.e. `u_t = ε_t + θ·ε_{t−1}` with `θ` from 0
/// to −1. We filter `z̃_t = z_t − θ·z̃_{t−1}` (from `z̃_0 = z_0`, per
/// series) on both sides, choose `θ̂` by conditional sum of squares (the
/// `θ ∈ [−0.98, 0.9]` whose filtered OLS has the smallest SSR; [`css_theta`]),
/// and fit OLS on the filtered rows with the Newey–West covariance of the module doc
/// (prewhitened HAC, Andrews–Monahan 1992: the filter removes the bulk of
/// the autocorrelation, the HAC what the MA(1) model misses). At `θ̂ = 0`
/// this is the regression in differences, as `θ̂ → −1` the regression in
/// levels: the filter picks between them from the data. (A first version
/// took `θ̂` from the lag-1 autocorrelation of the OLS residuals; the
/// steep map from autocorrelation to `θ` near −0.5 biased it to −0.64 where
/// the truth is −0.60, and the intervals of `b` covered in 173 of 200; by
/// CSS the mean is −0.61 and the coverage 187.)
///
/// `series`: per series, rows `(x, Δy)` in time order.
fn prewhitened(series: &[Vec<(Vec<f64>, f64)>], k: usize) -> Result<(HacFit, f64), IdentError> {
    let filtered = |theta: f64| {
        let mut rows = Rows::new(k);
        for s in series {
            let mut prev: Option<(Vec<f64>, f64)> = None;
            for (x, y) in s {
                let (fx, fy) = match &prev {
                    None => (x.clone(), *y),
                    Some((px, py)) => (
                        x.iter().zip(px).map(|(a, p)| a - theta * p).collect(),
                        y - theta * py,
                    ),
                };
                rows.push(&fx, fy);
                prev = Some((fx, fy));
            }
            rows.end_series();
        }
        rows
    };
    let theta = css_theta(&filtered);
    let rows = filtered(theta);
    Ok((hac_fit(&rows, None, true)?, theta))
}

/// The drift from arms without α: `Δy_t = b + u_t`, one common `b`,
/// [`prewhitened`] HAC; with the rows skipped for a non-finite `Δy` and the
/// prewhitening's `θ̂`.
fn drift_from_differences(series: &[&[f64]]) -> Result<(HacFit, usize, f64), IdentError> {
    let mut skipped = 0;
    let data: Vec<Vec<(Vec<f64>, f64)>> = series
        .iter()
        .map(|h| {
            h.windows(2)
                .filter_map(|w| {
                    let dy = w[1] - w[0];
                    if dy.is_finite() {
                        Some((vec![1.0], dy))
                    } else {
                        skipped += 1;
                        None
                    }
                })
                .collect()
        })
        .collect();
    let (fit, theta) = prewhitened(&data, 1).map_err(|e| with_context(e, 0, skipped))?;
    Ok((fit, skipped, theta))
}

/// One probe arm and its plain twin: entropy of each per step and the α the
/// probe applied (`α_t` after measuring `H_t`; the plain arm's α is 0).
#[derive(Debug, Clone, Copy)]
pub struct Twin<'a> {
    pub probe: &'a [f64],
    pub plain: &'a [f64],
    pub alpha: &'a [f64],
}

/// The paired estimator (docs/mathematics.md §9).
///
/// `D_t = H_t^probe − H_t^plain` regressed in levels on `A_t =
/// Σ_{s<t} α_{s−d}` with **no intercept and no time term**, all seeds'
/// rows stacked with one common slope `−g`:
/// - no time term: the drift is common to both arms and cancels in `D`;
/// - no intercept: the twins share seeds and RNG streams, so they are the
///   same run until α first leaves 0 (`D = 0` where `A = 0`); that is a
///   property of the design, not an assumption, and an intercept would
///   spend a degree of freedom per seed fitting noise;
/// - pooled: seeds are independent replicates of the same plant, so the
///   slope is common.
///
/// `b` is identified from the plain twins alone, as the mean step
/// `ΔH_t = b + u_t` of their levels, one common `b`, with the prewhitened
/// HAC of [`prewhitened`]. (The plain twin's levels on time, the first
/// plan, covered the true `b` in 40 of 200 repetitions on the must-show
/// plant: its residual is the accumulated process noise; this covers it in
/// about 189.)
///
/// ## What the slope estimates, and its variance
/// `ĝ = −Σ A_t·D_t / Σ A_t²` (sums over seeds and steps) estimates
/// `g* = −Σ A_t·E[D_t] / Σ A_t²`, the gain averaged along the run with
/// weights `A_t²`: on a plant whose gain changes along the run
/// (docs/mathematics.md §8) there is no single `g`, and `g*` is what a
/// constant-gain loop should use. Its error is `ĝ − g* = −Σ A_t·ε_t / Σ
/// A_t²` with the noise `ε_t = D_t − E[D_t]`. What the fit leaves,
/// `D_t + ĝ·A_t = m_t + ε_t − (ĝ − g*)·A_t`, also holds `m_t = E[D_t] +
/// g*·A_t`, the gain's own variation along the run: orthogonal to `A`,
/// deterministic, the same for every seed on the same schedule. The first
/// version took Newey–West of `A_t·(D_t + ĝ·A_t)` (bandwidth 5) as the
/// variance, so `m` counted as noise: on the sampled toy, 6–10 times the
/// real spread of `ĝ`.
///
/// The noise is not white either. Twins share their uniforms, but once
/// their policies differ they draw different samples at some positions:
/// unshared process noise accumulates, `ε_t = Σ_{s<t} w_s + v_t` (a random
/// walk plus measurement noise). Newey–West in levels does not see a
/// random walk: with `m` removed (below), levels Newey–West gave 0.2–0.5 of
/// the real spread on the toy. So the variance is taken from the
/// increments. With `e` the noise on a seed's rows `1..m` (and `e_0 = 0`
/// before them), `Σ_j A_j·e_j = Σ_j δ_j·W_j` with the increments `δ_j =
/// e_j − e_{j−1}` and `W_j = Σ_{i≥j} A_i`. For `ε` as above the increments
/// are `w_j + v_j − v_{j−1}`, an MA(1): `δ_j = η_j + θ·η_{j−1}`, so `Σ_j
/// δ_j·W_j = Σ_j η_j·(W_j + θ·W_{j+1})`. `θ̂` by conditional sum of
/// squares on `[−1, 0.9]` (pooled over seeds), then Newey–West of the
/// scores `(W_j + θ̂·W_{j+1})·η̂_j` for what the MA(1) misses
/// ([`increment_lrv`]). `θ = −1` is pure measurement noise, where this is
/// Newey–West of `A_j·e_j` in levels again (the scalar plant: its figures
/// did not move), `θ = 0` a pure random walk. Which `e`:
/// - **Four or more seeds on one schedule** (every seed's α the same;
///   [`MIN_SEED_SLOPES`]): no model of the noise in time at all. The
///   pooled slope is then the mean of the seeds' own slopes `ĝ_j` (on the
///   steps where every seed is finite), the seeds are independent
///   replicates, so `Var(ĝ) = s²/J` with `s²` the sample variance of the
///   `ĝ_j`, `ν = J − 1` (Student's t for the interval and the detectable
///   gain). On the sampled toy (constant α, 300 steps, 200 repetitions,
///   `paired_seeds_calibration`) it covered the reference in 193 / 182
///   (SGD / Adam, 4 seeds) and 195 / 192 (8 seeds), `g_detectable` 1.33 /
///   1.21 and 1.17 / 1.12 of the 80%-power gain of the estimate's spread
///   (0.90 / 0.91 and 0.99 / 0.96 of the gain its intervals detect,
///   docs/mathematics.md §9), where the
///   deviations' variance below covered in 198–200 with 1.77–2.00: the
///   random-walk model overstates what the twins' unshared noise adds up
///   to. With 2 seeds, 1 degree of freedom makes its t quantiles
///   useless (3.6–3.8 times the spread's power gain; 0.70 of the gain its
///   intervals detect, against 0.91–0.99 for the deviations' variance),
///   so fewer than four seeds keep
///   the model: the threshold four is the crossover of those measurements
///   (with 3 seeds the t quantiles alone cost about 1.7), chosen after
///   seeing them.
/// - **Two or three seeds on one schedule**: the deviations `D_{j,t} −
///   D̄_t` from the seeds' mean at each step, where `m` cancels exactly.
///   `Σ_j` of their long-run variances estimates `(J − 1)` times one
///   seed's, so `Var(ĝ) = Σ_j LRV_j / ((J − 1)·J·(Σ_t A_t²)²)`, on the
///   steps where every seed is finite; `ν = (J − 1)·m − 1`.
/// - **Seeds under several schedules** (at least two seeds, each seed's
///   twins sharing its plain arm, every seed running the same schedules:
///   [`seed_units`]): each seed's own slope over all its twins, whose mean
///   is the pooled slope, and `Var(ĝ) = s²/J` over the seeds, `ν = J − 1`,
///   as for seeds on one schedule, from two seeds on (a model of the noise
///   in time would have to cross schedules; the increments of one series,
///   used before, were 14–82 times the spread's power gain at α = ±1 on
///   the sampled toy, the seeds' slopes 1.36–1.40 from four seeds,
///   1.71–1.79 from three, 3.8–4.4 from two: `paired_units_calibration`;
///   against the gain the intervals detect, 1.38–1.42 for the increments,
///   whose width is the fault, and 0.68–0.89 for the seeds' slopes).
/// - **Otherwise** (one seed, or seeds with their own schedules): the
///   residuals `D_t + ĝ·A_t`, `m` included; `ν = n − 1`. With schedules
///   drawn per seed, `m` follows the schedule and is part of what varies
///   between repetitions (on the toy this variance matched the spread over
///   per-seed PRBS repetitions: 0.9–1.35 of it). With one seed on a fixed
///   schedule it counts `m` as noise, as the first version did, and more
///   (on the toy, constant α at 300 steps: 21–54 times the spread,
///   `paired_one_seed_calibration`): conservative; run four seeds on one
///   schedule.
///
/// The point estimate is the same slope as before; only `g_se`, `g_ci`,
/// `g_detectable`, `df`, `bandwidth` and `ma1_theta` (now the `θ̂` above)
/// moved. The price of a random-walk noise is a variance that is itself
/// noisy (its spread comes from `θ̂` near −1): with two seeds of 100–300
/// steps the reported SE ranges over 0.2–2.9 times the real spread
/// (10%–90% of repetitions), so the coverage falls short of 95% where `θ̂`
/// lands on −1 and the mean `g_detectable` is above the 80%-power gain;
/// the figures are in `ident_power_toy_tests.rs`.
///
/// Rows where either arm's entropy is not finite are skipped and counted;
/// α must be finite (it is the schedule). Refused: no twins, lengths differ,
/// too few rows, α identically 0 after the delay.
pub fn paired(twins: &[Twin<'_>], d: usize) -> Result<GainEstimate, IdentError> {
    paired_with(twins, d, PairedVariance::Auto)
}

/// Where [`paired`] takes the variance of `ĝ` from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PairedVariance {
    /// Newey–West on `A_t·e_t` in levels (the first version; the toy
    /// tests print it beside the others).
    #[cfg_attr(not(test), allow(dead_code))]
    Levels,
    /// From the increments of the residuals ([`increment_lrv`]).
    Increments,
    /// From the seeds' deviations from their mean ([`increment_lrv`] on
    /// `D_{j,t} − D̄_t`); needs two seeds on one schedule.
    BetweenSeeds,
    /// Where every seed ran the same schedule: `SeedSlopes` from
    /// [`MIN_SEED_SLOPES`] seeds, `BetweenSeeds` from two; where two or
    /// more seeds each ran the same several schedules ([`seed_units`]):
    /// `SeedSlopes`; else `Increments` (what [`paired`] does).
    Auto,
    /// The spread of the seeds' own slopes: with one schedule for every
    /// seed the pooled slope is their mean, and seeds are independent
    /// replicates, so `Var(ĝ) = s²/J` with `J − 1` degrees of freedom
    /// needs no model of the noise in time; needs two or more seeds on
    /// one schedule, or two or more seeds that each ran the same several
    /// schedules (each seed's slope over all its twins), else as `Auto`.
    /// The slopes are taken on the steps where every twin is finite, the
    /// pooled `ĝ` on all finite rows: the same number when no row is
    /// missing, close to it when a few are.
    SeedSlopes,
}

/// Seeds on one schedule from which [`paired`] takes the variance from the
/// seeds' own slopes (see its doc).
pub const MIN_SEED_SLOPES: usize = 4;

/// [`paired`] with the variance taken as `variance` says.
pub(crate) fn paired_with(
    twins: &[Twin<'_>],
    d: usize,
    variance: PairedVariance,
) -> Result<GainEstimate, IdentError> {
    if twins.is_empty() {
        return Err(IdentError::NoTwins);
    }
    let j_n = twins.len();
    let mut rows = Rows::new(1);
    let mut skipped = 0;
    for tw in twins {
        check_len(tw.probe.len(), tw.alpha.len())?;
        check_len(tw.plain.len(), tw.alpha.len())?;
        check_alpha(tw.alpha)?;
    }
    let n_steps = twins[0].alpha.len();
    let shared = j_n >= 2
        && twins
            .iter()
            .all(|tw| tw.alpha.len() == n_steps && tw.alpha == twins[0].alpha);
    // The steps where every seed's D is finite (the between-seed variance
    // compares the seeds step by step).
    let common: Vec<usize> = (0..n_steps)
        .filter(|&t| {
            twins
                .iter()
                .all(|tw| tw.probe.len() == n_steps && (tw.probe[t] - tw.plain[t]).is_finite())
        })
        .collect();
    let between = shared && common.len() >= crate::ident::MIN_ROWS;
    // Seeds run under several schedules (each seed's twins share its plain
    // arm): the seeds are the replicates, each with its own pooled slope.
    let units = (common.len() >= crate::ident::MIN_ROWS)
        .then(|| seed_units(twins))
        .flatten();
    let variance = match variance {
        PairedVariance::Auto if units.is_some() => PairedVariance::SeedSlopes,
        PairedVariance::Auto if between && j_n >= MIN_SEED_SLOPES => PairedVariance::SeedSlopes,
        PairedVariance::Auto | PairedVariance::BetweenSeeds if between => {
            PairedVariance::BetweenSeeds
        }
        PairedVariance::SeedSlopes if between || units.is_some() => PairedVariance::SeedSlopes,
        PairedVariance::Auto | PairedVariance::BetweenSeeds | PairedVariance::SeedSlopes => {
            PairedVariance::Increments
        }
        v => v,
    };
    let cums: Vec<Vec<f64>> = twins
        .iter()
        .map(|tw| cumulative_alpha(tw.alpha, d))
        .collect();
    for (tw, a) in twins.iter().zip(&cums) {
        for ((hp, hq), at) in tw.probe.iter().zip(tw.plain).zip(a) {
            let dt = hp - hq;
            if dt.is_finite() {
                rows.push(&[*at], dt);
            } else {
                skipped += 1;
            }
        }
        rows.end_series();
    }
    if rows.x.iter().all(|&a| a == 0.0) {
        return Err(IdentError::ConstantAlpha);
    }
    let mut fit = hac_fit(&rows, None, false).map_err(|e| with_context(e, d, skipped))?;
    let mut theta = 0.0;
    match variance {
        PairedVariance::Increments => {
            let spans: Vec<(usize, usize)> = rows.bounds.windows(2).map(|w| (w[0], w[1])).collect();
            let resid: Vec<Vec<f64>> = spans
                .iter()
                .map(|&(s, e)| {
                    (s..e)
                        .map(|i| rows.y[i] - fit.beta[0] * rows.x[i])
                        .collect()
                })
                .collect();
            let a: Vec<Vec<f64>> = spans.iter().map(|&(s, e)| rows.x[s..e].to_vec()).collect();
            let aa: f64 = rows.x.iter().map(|v| v * v).sum();
            let (lrv, th, l) = increment_lrv(&resid, &a);
            fit.cov[(0, 0)] = lrv / (aa * aa) * rows.n() as f64 / fit.df;
            fit.bandwidth = l;
            theta = th;
        }
        PairedVariance::BetweenSeeds => {
            // One schedule, so one A for all seeds.
            let steps = &common;
            let jf = j_n as f64;
            let mean: Vec<f64> = steps
                .iter()
                .map(|&t| {
                    twins
                        .iter()
                        .map(|tw| tw.probe[t] - tw.plain[t])
                        .sum::<f64>()
                        / jf
                })
                .collect();
            let dev: Vec<Vec<f64>> = twins
                .iter()
                .map(|tw| {
                    steps
                        .iter()
                        .zip(&mean)
                        .map(|(&t, m)| tw.probe[t] - tw.plain[t] - m)
                        .collect()
                })
                .collect();
            let a1: Vec<f64> = steps.iter().map(|&t| cums[0][t]).collect();
            let a: Vec<Vec<f64>> = vec![a1.clone(); j_n];
            let aa: f64 = a1.iter().map(|v| v * v).sum();
            let (lrv, th, l) = increment_lrv(&dev, &a);
            // Σ_j of the deviations' long-run variances estimates (J − 1)
            // times one seed's; ĝ averages J seeds.
            fit.cov[(0, 0)] = lrv / ((jf - 1.0) * jf * aa * aa);
            // J − 1 independent series of the common steps.
            fit.df = ((j_n - 1) * steps.len()) as f64 - 1.0;
            fit.bandwidth = l;
            theta = th;
        }
        PairedVariance::SeedSlopes => {
            // Each seed's slope on the common steps: over its one twin
            // (one A for all), or over every twin of its unit (the units
            // hold the same schedules, so one denominator for all).
            let groups: Vec<Vec<usize>> = units
                .clone()
                .unwrap_or_else(|| (0..j_n).map(|i| vec![i]).collect());
            let aa: f64 = groups[0]
                .iter()
                .map(|&i| common.iter().map(|&t| cums[i][t].powi(2)).sum::<f64>())
                .sum();
            let slopes: Vec<f64> = groups
                .iter()
                .map(|g| {
                    g.iter()
                        .map(|&i| {
                            let tw = &twins[i];
                            common
                                .iter()
                                .map(|&t| cums[i][t] * (tw.probe[t] - tw.plain[t]))
                                .sum::<f64>()
                        })
                        .sum::<f64>()
                        / aa
                })
                .collect();
            let j_n = groups.len();
            let jf = j_n as f64;
            let mean = slopes.iter().sum::<f64>() / jf;
            let s2 = slopes.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (jf - 1.0);
            fit.cov[(0, 0)] = s2 / jf;
            fit.df = jf - 1.0;
            fit.bandwidth = 0;
        }
        PairedVariance::Levels | PairedVariance::Auto => {}
    }
    let (g, g_se, g_ci, g_detectable) = coef(&fit, 0, true);
    // Each plain arm once: a seed run under several schedules has one.
    let mut plains: Vec<&[f64]> = Vec::new();
    for tw in twins {
        if !plains.iter().any(|p| same_series(p, tw.plain)) {
            plains.push(tw.plain);
        }
    }
    let (bfit, _, _) = drift_from_differences(&plains)?;
    let (b, b_se, b_ci, _) = coef(&bfit, 0, false);
    Ok(GainEstimate {
        design: DesignKind::Paired { seeds: j_n },
        variance: match variance {
            PairedVariance::Increments => VarianceSource::Increments,
            PairedVariance::BetweenSeeds => VarianceSource::BetweenSeeds,
            PairedVariance::SeedSlopes => VarianceSource::SeedSlopes,
            PairedVariance::Levels | PairedVariance::Auto => VarianceSource::NeweyWest,
        },
        d,
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
        r2: fit.r2,
        residual_rms: fit.residual_rms,
        ma1_theta: theta,
        skipped_nan: skipped,
    })
}

/// Whether two plain arms are one series (the same slice, or equal values):
/// how [`paired`] tells one seed's twins from another's.
fn same_series(a: &[f64], b: &[f64]) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// The twins grouped by seed where seeds ran under several schedules:
/// twins whose plain arms are the same series are one seed's (`None`
/// unless there are at least two such seeds, each with at least two
/// twins, and every seed runs the same schedules as the first, in any
/// order). Then the pooled slope is the mean of the seeds' own pooled
/// slopes and the seeds are independent replicates: [`paired`] takes its
/// variance from their spread, as for seeds on one schedule. (A twin's
/// noise is not independent of its sibling's: they share the plain arm's.)
fn seed_units(twins: &[Twin<'_>]) -> Option<Vec<Vec<usize>>> {
    let mut units: Vec<Vec<usize>> = Vec::new();
    for (i, tw) in twins.iter().enumerate() {
        match units
            .iter_mut()
            .find(|u| same_series(twins[u[0]].plain, tw.plain))
        {
            Some(u) => u.push(i),
            None => units.push(vec![i]),
        }
    }
    // The first seed's schedules, each matched once in every other seed.
    let k = units[0].len();
    let same_schedules = |u: &Vec<usize>| {
        let mut free: Vec<usize> = units[0].clone();
        u.len() == k
            && u.iter().all(|&i| {
                match free.iter().position(|&j| twins[j].alpha == twins[i].alpha) {
                    Some(p) => {
                        free.swap_remove(p);
                        true
                    }
                    None => false,
                }
            })
    };
    (units.len() >= 2 && k >= 2 && units.iter().all(same_schedules)).then_some(units)
}

/// The long-run variance `Σ_j Var(Σ_t A_{j,t}·e_{j,t})` of `e` (one series
/// per seed, in time order, with its regressor `A`), from the increments
/// of `e` (see [`paired`]); with the MA(1) `θ̂` and the largest bandwidth.
fn increment_lrv(e: &[Vec<f64>], a: &[Vec<f64>]) -> (f64, f64, usize) {
    // Increments δ_j = e_j − e_{j−1} (e before the first row: 0).
    let incs: Vec<Vec<f64>> = e
        .iter()
        .map(|s| {
            (0..s.len())
                .map(|i| s[i] - if i > 0 { s[i - 1] } else { 0.0 })
                .collect()
        })
        .collect();
    let innov = |theta: f64| -> Vec<Vec<f64>> {
        incs.iter()
            .map(|d| {
                let mut prev = 0.0;
                d.iter()
                    .map(|&x| {
                        let v = x - theta * prev;
                        prev = v;
                        v
                    })
                    .collect()
            })
            .collect()
    };
    let ssr = |theta: f64| -> f64 { innov(theta).iter().flatten().map(|v| v * v).sum() };
    let best_on = |grid: Vec<f64>| {
        grid.into_iter()
            .map(|t| (t, ssr(t)))
            .fold((0.0, f64::INFINITY), |b, c| if c.1 < b.1 { c } else { b })
            .0
    };
    let coarse = best_on((0..=95).map(|i| -1.0 + 0.02 * i as f64).collect());
    let theta = best_on(
        (-10..=10)
            .map(|i| (coarse + 0.002 * i as f64).clamp(-1.0, 0.9))
            .collect(),
    );
    let eta = innov(theta);
    let (mut meat, mut lmax) = (0.0, 0);
    for (ai, et) in a.iter().zip(&eta) {
        // W_j = Σ_{i≥j} A_i; the score of η_j is W_j + θ·W_{j+1}.
        let mut w = vec![0.0; ai.len() + 1];
        for j in (0..ai.len()).rev() {
            w[j] = w[j + 1] + ai[j];
        }
        let sc: Vec<f64> = (0..ai.len())
            .map(|j| (w[j] + theta * w[j + 1]) * et[j])
            .collect();
        let l = nw_bandwidth(sc.len());
        lmax = lmax.max(l);
        for lag in 0..=l.min(sc.len().saturating_sub(1)) {
            let g: f64 = (lag..sc.len()).map(|t| sc[t] * sc[t - lag]).sum();
            meat += if lag == 0 {
                g
            } else {
                2.0 * (1.0 - lag as f64 / (l as f64 + 1.0)) * g
            };
        }
    }
    (meat, theta, lmax)
}

/// The unpaired estimator (docs/mathematics.md §9): one arm, the model
/// `H_t = c + b·t − g·A_t + noise` (`A_t = Σ_{s<t} α_{s−d}`), fitted in
/// its differenced form `ΔH_t = b − g·α_{t−d} + u_t` by OLS with a
/// Newey–West interval whose bandwidth spans the regressor's own
/// autocorrelation ([`regressor_bandwidth`]), with the fixed-b critical
/// value and power multiplier of that bandwidth ([`fixed_b`]).
/// [`unpaired_lagged`] with
/// lag 0.
pub fn unpaired(entropy: &[f64], alpha: &[f64], d: usize) -> Result<GainEstimate, IdentError> {
    unpaired_lagged(entropy, alpha, d, 0.0)
}

/// [`unpaired`] with `α_{t−d}` replaced by `x_t = (1 − λ)·Σ_k λ^k·α_{t−d−k}`
/// (`λ = lag`, fixed before the fit; α before step 0 is 0), so that `ĝ` is
/// the long-run gain of a plant whose response to α is spread over later
/// steps (Adam's `β1`), as in [`randomized::unpaired_randomized`].
///
/// Why OLS in differences, not levels: the level's residual holds the
/// accumulated process noise `Σ w` (a random walk), and HAC cannot make a
/// regression on an integrated residual honest. On the must-show plant
/// (lag-1 autocorrelation of `ΔH` −0.44, 300 steps, PRBS hold 10)
/// levels+HAC covered the true `g` in 84 of 200 repetitions and levels+OLS
/// in 45 (the tests print the figures).
///
/// Why no prewhitening (the first version filtered both sides by an MA(1)
/// `θ̂` chosen by conditional sum of squares): where the measurement noise
/// dominates, `θ̂ → −1` and the filter integrates both sides back into a
/// regression in levels; on the sampled toy, whose drift is not constant,
/// its interval then covered the reference gain in 174 (SGD) and 106
/// (Adam) of 200 and the placebo 0 in 169 and 176. Differences alone keep
/// the regressor (a PRBS) stationary and the residual free of the random
/// walk; the measurement noise's negative lag-1 autocovariance is what
/// the Newey–West sum then has to count, and the bandwidth that spans the
/// regressor counts it (docs/mathematics.md §9 for the figures).
///
/// Use a schedule uncorrelated with time ([`prbs`]): with monotone blocks
/// the α that happens to coincide with the fastest fall takes the drift's
/// variation for gain. Rows whose `ΔH` is not finite are skipped and
/// counted; α must be finite.
pub fn unpaired_lagged(
    entropy: &[f64],
    alpha: &[f64],
    d: usize,
    lag: f64,
) -> Result<GainEstimate, IdentError> {
    if !(0.0..1.0).contains(&lag) {
        return Err(IdentError::BadLag { lag });
    }
    check_len(entropy.len(), alpha.len())?;
    check_alpha(alpha)?;
    let x = geometric_lag(alpha, d, lag);
    let mut skipped = 0;
    let mut rows = Rows::new(2);
    let mut used = Vec::new();
    let mut raw = Vec::new();
    for t in 0..entropy.len().saturating_sub(1) {
        let dy = entropy[t + 1] - entropy[t];
        if dy.is_finite() {
            rows.push(&[1.0, x[t]], dy);
            used.push(x[t]);
            raw.push(if t >= d { alpha[t - d] } else { 0.0 });
        } else {
            skipped += 1;
        }
    }
    rows.end_series();
    // Constancy of α itself: a lag turns a constant α into a start-up ramp,
    // which would take the drift's first fall for gain.
    if raw.len() > 1 && raw.iter().all(|&v| v == raw[0]) {
        return Err(IdentError::ConstantAlpha);
    }
    let fit = hac_fit(&rows, Some(regressor_bandwidth(&used)), true)
        .map_err(|e| with_context(e, d, skipped))?;
    // Fixed-b quantiles: the bandwidth can be a tenth of the rows.
    let (g, g_se, g_ci, g_detectable) = coef_fixed_b(&fit, 1, true);
    let (b, b_se, b_ci, _) = coef_fixed_b(&fit, 0, false);
    let nf = used.len() as f64;
    let dys = &rows.y;
    let mean = dys.iter().sum::<f64>() / nf;
    let sst: f64 = dys.iter().map(|v| (v - mean).powi(2)).sum();
    let ssr: f64 = dys
        .iter()
        .zip(&used)
        .map(|(v, a)| (v - b + g * a).powi(2))
        .sum();
    Ok(GainEstimate {
        design: DesignKind::Unpaired,
        variance: VarianceSource::NeweyWest,
        d,
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
        r2: if sst > 0.0 { 1.0 - ssr / sst } else { 1.0 },
        residual_rms: (ssr / nf).sqrt(),
        ma1_theta: 0.0,
        skipped_nan: skipped,
    })
}

/// `x_t = (1 − λ)·Σ_k λ^k·α_{t−d−k}` for every step (`λ = lag`; α before
/// step 0 is 0; `lag = 0` is `α_{t−d}`): the regressor of
/// [`unpaired_lagged`] and of [`randomized::unpaired_randomized`].
pub(crate) fn geometric_lag(alpha: &[f64], d: usize, lag: f64) -> Vec<f64> {
    let mut m = 0.0;
    (0..alpha.len())
        .map(|t| {
            let a = if t >= d { alpha[t - d] } else { 0.0 };
            m = lag * m + (1.0 - lag) * a;
            m
        })
        .collect()
}

/// The Newey–West bandwidth of [`unpaired`]: the larger of the rule of
/// thumb ([`nw_bandwidth`]) and the regressor's correlation length, the
/// first lag at which its sample autocorrelation is not positive, searched
/// up to a tenth of the rows (below about 20 rows the rule of thumb alone
/// exceeds that).
///
/// Why: the score `x_t·u_t` is autocorrelated as long as the regressor is
/// (a PRBS of hold `H` has autocorrelation `1 − j/H` up to lag `H`), and
/// over those lags the residual carries two things the rule of thumb's
/// few lags miss: the measurement noise's negative lag-1 autocovariance
/// (counted with weight `1 − 1/(L+1)` at bandwidth `L`, so a short
/// bandwidth overstates the variance) and a drift that is not constant
/// (positively autocorrelated over many lags, so a short bandwidth
/// understates it). The cap keeps the bandwidth at a tenth of the rows at
/// most, where the fixed-b critical values the fit uses ([`fixed_b`]) are
/// still moderate (2.22 at 300 rows, against t's 1.97): wider bandwidths
/// buy little and cost power. Chosen from this argument after fixed bandwidths of
/// 10–40 rows had been tried on the sampled toy's test repetitions, and
/// checked on fresh ones before that test was rerun with it
/// (docs/mathematics.md §9).
pub fn regressor_bandwidth(x: &[f64]) -> usize {
    let n = x.len();
    let cap = (n / 10).max(1);
    let m = x.iter().sum::<f64>() / n.max(1) as f64;
    let c = |j: usize| -> f64 { (j..n).map(|t| (x[t] - m) * (x[t - j] - m)).sum() };
    let mut l = 1;
    while l < cap && c(l) > 0.0 {
        l += 1;
    }
    nw_bandwidth(n).max(l)
}

/// OLS of one arm's levels on `[1, t, A_t]` (the rejected form of
/// [`unpaired`]), for the tests that show why it is rejected.
#[cfg(test)]
pub(crate) fn levels_fit(entropy: &[f64], alpha: &[f64], d: usize) -> Result<HacFit, IdentError> {
    let a = cumulative_alpha(alpha, d);
    let mut rows = Rows::new(3);
    for t in 0..entropy.len() {
        rows.push(&[1.0, t as f64, a[t]], entropy[t]);
    }
    rows.end_series();
    hac_fit(&rows, None, true)
}

/// A pseudo-random binary α schedule of `steps` values in
/// `{−amplitude, +amplitude}`: a fair coin (ChaCha8 seeded with `seed`)
/// drawn every `min_hold` steps, so every level lasts at least `min_hold`
/// steps (runs of equal draws merge) and the mean run is `2·min_hold`.
/// Deterministic from `seed`; uncorrelated with time in expectation.
/// Choose `min_hold` above the largest delay considered, so `α_{t−d}` for
/// different `d` differ.
pub fn prbs(steps: usize, amplitude: f64, min_hold: usize, seed: u64) -> Vec<f64> {
    let hold = min_hold.max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(steps);
    while out.len() < steps {
        let a = if rng.random::<bool>() {
            amplitude
        } else {
            -amplitude
        };
        let n = hold.min(steps - out.len());
        out.extend(std::iter::repeat_n(a, n));
    }
    out
}

/// How a PRBS's coin flips become α (docs/mathematics.md §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Coding {
    /// One coin per `min_hold` steps, its level held ([`prbs`]): the
    /// cumulative α is a random walk.
    #[default]
    Nrz,
    /// One coin per `2·min_hold` steps, played as `+level` for `min_hold`
    /// steps and `−level` for the next `min_hold` ([`prbs_manchester`]):
    /// the cumulative α returns to 0 every `2·min_hold` steps.
    Manchester,
}

impl Coding {
    /// Steps of schedule one coin decides (saturating: a hold near
    /// `usize::MAX` is one block, which every check refuses).
    pub fn period(self, min_hold: usize) -> usize {
        match self {
            Coding::Nrz => min_hold.max(1),
            Coding::Manchester => min_hold.max(1).saturating_mul(2),
        }
    }

    /// The name the command line and JSON use.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Nrz => "nrz",
            Coding::Manchester => "manchester",
        }
    }
}

impl std::str::FromStr for Coding {
    type Err = String;
    fn from_str(s: &str) -> Result<Coding, String> {
        [Coding::Nrz, Coding::Manchester]
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("unknown PRBS coding {s:?}: nrz or manchester"))
    }
}

/// A Manchester-coded PRBS of `steps` values: a fair coin (ChaCha8 seeded
/// with `seed`, the same stream as [`prbs`]) drawn every `2·min_hold`
/// steps, its level `±amplitude` held for `min_hold` steps and then its
/// opposite for `min_hold` steps (the last pair cut at `steps`).
///
/// Why: the cumulative α of a [`prbs`] is a random walk, which a drift
/// that is not constant (entropy falling fast, then slower) meets by
/// chance, in the unpaired fit's differences and, through the state the
/// probe wanders to, in the paired one; here it is a train of triangles
/// that returns to 0 every `2·min_hold` steps, so the probe arm stays
/// near its plain twin's state and the schedule has no power at the
/// drift's low frequencies. What it cost and bought on the sampled toy is
/// in docs/mathematics.md §9. Its price: the schedule's power sits at
/// period `2·min_hold`, where a plant that spreads α's effect over many
/// steps (Adam's momentum) answers less; choose `min_hold` well above that
/// spread.
pub fn prbs_manchester(steps: usize, amplitude: f64, min_hold: usize, seed: u64) -> Vec<f64> {
    let hold = min_hold.max(1);
    let period = Coding::Manchester.period(hold);
    let bits = prbs(steps.div_ceil(period), amplitude, 1, seed);
    (0..steps)
        .map(|t| {
            let b = bits[t / period];
            if (t / hold).is_multiple_of(2) {
                b
            } else {
                -b
            }
        })
        .collect()
}

/// [`prbs`] or [`prbs_manchester`] by `coding`.
pub fn prbs_coded(
    steps: usize,
    amplitude: f64,
    min_hold: usize,
    seed: u64,
    coding: Coding,
) -> Vec<f64> {
    match coding {
        Coding::Nrz => prbs(steps, amplitude, min_hold, seed),
        Coding::Manchester => prbs_manchester(steps, amplitude, min_hold, seed),
    }
}

/// `g` (and `b`) of one window of a run ([`paired_windows`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowGain {
    /// Steps `start..end` of the window.
    pub start: usize,
    pub end: usize,
    /// Mean probe-arm entropy over the window (all seeds): the state the
    /// window's gain belongs to (docs/mathematics.md §8).
    pub mean_entropy: f64,
    pub estimate: GainEstimate,
}

/// The paired estimator in consecutive windows of `window` steps along the
/// run (issue 12, item 4; docs/mathematics.md §8: `g = g(H)` falls as the
/// tails collapse). In each window, `D_t` is regressed on `A_t` with one
/// intercept per seed (the difference the twins carry into the window) and
/// a common slope `−g`; HAC as in [`paired`] (bandwidth from the window's
/// rows per seed); `b` from the plain twins' steps inside the window
/// ([`prewhitened`]). A last window shorter than `window / 2` is merged
/// into the one before. Windows where α has not yet moved (no variation of
/// `A` after the intercepts) are refused as [`IdentError::ConstantAlpha`]:
/// start the windows after the probe's first step.
pub fn paired_windows(
    twins: &[Twin<'_>],
    d: usize,
    window: usize,
) -> Result<Vec<WindowGain>, IdentError> {
    let first = twins.first().ok_or(IdentError::NoTwins)?;
    let n = first.alpha.len();
    for tw in twins {
        check_len(tw.probe.len(), tw.alpha.len())?;
        check_len(tw.plain.len(), tw.alpha.len())?;
        check_len(tw.alpha.len(), n)?;
        check_alpha(tw.alpha)?;
    }
    let window = window.max(crate::ident::MIN_ROWS);
    let bounds = window_bounds(n, window);
    let cums: Vec<Vec<f64>> = twins
        .iter()
        .map(|tw| cumulative_alpha(tw.alpha, d))
        .collect();
    let k = twins.len() + 1;
    let mut out = Vec::with_capacity(bounds.len());
    for (s, e) in bounds {
        let mut rows = Rows::new(k);
        let (mut skipped, mut hsum, mut hn) = (0, 0.0, 0.0);
        for (j, tw) in twins.iter().enumerate() {
            let span = tw.probe[s..e]
                .iter()
                .zip(&tw.plain[s..e])
                .zip(&cums[j][s..e]);
            for ((&hp, &hq), &at) in span {
                let dt = hp - hq;
                if hp.is_finite() {
                    hsum += hp;
                    hn += 1.0;
                }
                if !dt.is_finite() {
                    skipped += 1;
                    continue;
                }
                let mut x = vec![0.0; k];
                x[j] = 1.0;
                x[k - 1] = at;
                rows.push(&x, dt);
            }
            rows.end_series();
        }
        let fit = hac_fit(&rows, None, true).map_err(|e| with_context(e, d, skipped))?;
        let (g, g_se, g_ci, g_detectable) = coef(&fit, k - 1, true);
        let plains: Vec<&[f64]> = twins.iter().map(|tw| &tw.plain[s..e]).collect();
        let (bfit, _, _) = drift_from_differences(&plains)?;
        let (b, b_se, b_ci, _) = coef(&bfit, 0, false);
        out.push(WindowGain {
            start: s,
            end: e,
            mean_entropy: hsum / hn,
            estimate: GainEstimate {
                design: DesignKind::Paired { seeds: twins.len() },
                variance: VarianceSource::NeweyWest,
                d,
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
                r2: fit.r2,
                residual_rms: fit.residual_rms,
                ma1_theta: 0.0,
                skipped_nan: skipped,
            },
        });
    }
    Ok(out)
}

/// Consecutive windows of `window` steps over `n` steps, the last merged
/// into the one before when shorter than `window / 2`.
fn window_bounds(n: usize, window: usize) -> Vec<(usize, usize)> {
    let mut bounds: Vec<(usize, usize)> = (0..n)
        .step_by(window.max(1))
        .map(|s| (s, (s + window).min(n)))
        .collect();
    if bounds.len() > 1 {
        if let Some(&(s, e)) = bounds.last() {
            if e - s < window / 2 {
                bounds.pop();
                if let Some(last) = bounds.last_mut() {
                    last.1 = e;
                }
            }
        }
    }
    bounds
}

/// The unpaired estimator ([`unpaired`]) in consecutive windows of
/// `window` steps (at least [`crate::ident::MIN_ROWS`] + 1) along one run,
/// the last window merged into the one before when shorter than half a
/// window: `b` and `g` as the run ages, for [`TimePlant`]. Each window's
/// `ΔH_t` rows use `α_{t−d}` from the whole schedule, so a window does not
/// lose its first `d` rows. A window where α does not move is refused
/// ([`IdentError::ConstantAlpha`]): the schedule must switch in every
/// window (a PRBS whose hold is well below the window does).
pub fn unpaired_windows(
    entropy: &[f64],
    alpha: &[f64],
    d: usize,
    window: usize,
) -> Result<Vec<WindowGain>, IdentError> {
    check_len(entropy.len(), alpha.len())?;
    check_alpha(alpha)?;
    let window = window.max(crate::ident::MIN_ROWS + 1);
    let delayed: Vec<f64> = (0..alpha.len())
        .map(|t| if t >= d { alpha[t - d] } else { 0.0 })
        .collect();
    let mut out = Vec::new();
    for (s, e) in window_bounds(entropy.len(), window) {
        // The window's rows are the steps s..e: `ΔH_t = H_{t+1} − H_t` needs
        // `H_{t+1}`, so the run's last step has none. The estimator is
        // called with the delay already applied (`d = 0`).
        let end = (e + 1).min(entropy.len());
        let est = unpaired(&entropy[s..end], &delayed[s..end], 0)
            .map_err(|err| with_context(err, d, 0))?;
        let hs: Vec<f64> = entropy[s..e]
            .iter()
            .copied()
            .filter(|h| h.is_finite())
            .collect();
        out.push(WindowGain {
            start: s,
            end: e,
            mean_entropy: hs.iter().sum::<f64>() / hs.len() as f64,
            estimate: GainEstimate { d, ..est },
        });
    }
    Ok(out)
}

/// A time-varying plant: `b` and `g` per window of steps along a run, from
/// [`unpaired_windows`] or [`paired_windows`] (docs/mathematics.md §9).
/// Where the plant ages (its drift and gain change with the training step,
/// not with the entropy alone), a loop that starts from the same instance
/// meets at step `t` the plant the probe met at step `t`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimePlant {
    /// `(start, end, b, g)` in step order.
    pub windows: Vec<(usize, usize, f64, f64)>,
}

impl TimePlant {
    /// The windows' `(start, end, b, g)`.
    pub fn from_windows(w: &[WindowGain]) -> TimePlant {
        TimePlant {
            windows: w
                .iter()
                .map(|w| (w.start, w.end, w.estimate.b, w.estimate.g))
                .collect(),
        }
    }

    /// `(b, g)` of the window holding step `t`; past the last window, the
    /// last; `(NaN, NaN)` when there is none.
    pub fn at(&self, t: usize) -> (f64, f64) {
        self.windows
            .iter()
            .find(|w| t < w.1)
            .or(self.windows.last())
            .map_or((f64::NAN, f64::NAN), |w| (w.2, w.3))
    }
}

/// A state-dependent plant: `(H, b, g)` points, interpolated linearly in
/// `H` and held constant beyond the first and last (docs/mathematics.md
/// §8; issue 12, item 4). Built from [`paired_windows`] by
/// [`StatePlant::from_windows`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatePlant {
    /// Sorted by `H`.
    pub points: Vec<(f64, f64, f64)>,
}

impl StatePlant {
    /// The windows' `(mean entropy, b, g)`, sorted by entropy.
    pub fn from_windows(w: &[WindowGain]) -> StatePlant {
        let mut points: Vec<(f64, f64, f64)> = w
            .iter()
            .map(|w| (w.mean_entropy, w.estimate.b, w.estimate.g))
            .filter(|p| p.0.is_finite() && p.1.is_finite() && p.2.is_finite())
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        StatePlant { points }
    }

    /// `(b(H), g(H))`; `(NaN, NaN)` for an empty table.
    pub fn at(&self, h: f64) -> (f64, f64) {
        let p = &self.points;
        match p.iter().position(|q| q.0 >= h) {
            None => p.last().map_or((f64::NAN, f64::NAN), |q| (q.1, q.2)),
            Some(0) => (p[0].1, p[0].2),
            Some(i) => {
                let (a, c) = (p[i - 1], p[i]);
                let w = if c.0 > a.0 {
                    (h - a.0) / (c.0 - a.0)
                } else {
                    1.0
                };
                (a.1 + w * (c.1 - a.1), a.2 + w * (c.2 - a.2))
            }
        }
    }

    /// The loop `e_{t+1} = e_t + b(H_t) − g(H_t)·α_{t−d}`, `H_t = target +
    /// e_t`, under the PI law of docs/mathematics.md §3 in either integral
    /// form, α clipped to `±alpha_max` (the same controller as
    /// [`crate::linear::simulate`], whose constant-gain loop this extends).
    /// With an `alpha` schedule instead of gains (`Some`), the open loop
    /// under that schedule (a probe). Returns `(e_t, α_t)` for `t < steps`.
    #[allow(clippy::too_many_arguments)]
    pub fn simulate(
        &self,
        target: f64,
        e0: f64,
        (kp, ki, form): (f64, f64, crate::linear::IntegralForm),
        d: usize,
        alpha_max: f64,
        schedule: Option<&[f64]>,
        steps: usize,
    ) -> Vec<(f64, f64)> {
        use crate::linear::IntegralForm;
        let mut out: Vec<(f64, f64)> = Vec::with_capacity(steps);
        let (mut e, mut integral) = (e0, 0.0);
        for t in 0..steps {
            let alpha = match schedule {
                Some(s) => s.get(t).copied().unwrap_or(0.0),
                None => match form {
                    IntegralForm::Before => {
                        let a = kp * e + ki * integral;
                        integral += e;
                        a
                    }
                    IntegralForm::After => {
                        integral += e;
                        kp * e + ki * integral
                    }
                },
            };
            // A NaN clip is no clip; comparisons keep NaN α as NaN.
            let alpha = if alpha > alpha_max {
                alpha_max
            } else if alpha < -alpha_max {
                -alpha_max
            } else {
                alpha
            };
            out.push((e, alpha));
            let delayed = if t >= d { out[t - d].1 } else { 0.0 };
            let (b, g) = self.at(target + e);
            e = e + b - g * delayed;
        }
        out
    }
}

/// Randomization intervals for the unpaired estimator (a child module:
/// it reuses this module's private prewhitening).
#[path = "ident_randomized.rs"]
pub mod randomized;

/// Fixed-b critical values for [`unpaired`]'s long bandwidths.
#[path = "ident_fixed_b.rs"]
pub mod fixed_b;

#[cfg(test)]
#[path = "ident_power_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "ident_power_toy_tests.rs"]
mod toy_tests;
