//! Plant identification from a run's log (docs/mathematics.md §6): drift `b`, gain `g`
//! and delay `d` by OLS in differences ([`identify`], [`identify_delay`]);
//! the estimators with honest intervals and power of docs/mathematics.md
//! §9 ([`paired`], [`unpaired`], [`paired_windows`]) are in `ident_power.rs`
//! and re-exported here. The OLS fit below estimates drift `b`, gain `g`
//! and delay `d` of `ΔH_t = H_{t+1} − H_t = b − g·α_{t−d} + noise`, by
//! ordinary least squares with Student-t intervals.
//!
//! The regression only identifies `g` when α moves independently of the
//! error (a probe, docs/mathematics.md §7); a P-control log, where α is an affine
//! function of `H_t`, is refused rather than fitted, because there the fit
//! "predicts its own answer" (docs/mathematics.md §6).
//!
//! Assumptions: the noise is white and enters `ΔH` (process noise). Then
//! `α_{t−d}` depends only on the past, so OLS is consistent even in closed
//! loop. Pure measurement noise on `H` makes consecutive residuals
//! negatively correlated, and the intervals are then only approximate.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Fewest regression rows (after skipping NaN rows and the first `d`
/// steps) we fit: 10 rows leave 8 degrees of freedom, where the 97.5%
/// Student-t quantile (2.31) is still within 20% of the normal one.
pub const MIN_ROWS: usize = 10;

/// A log is treated as P control when `|corr(α_t, H_t)| > P_CONTROL_CORR`
/// (for one regressor this is `R² > 0.998`, α affine in the error
/// `e_t = H_t − H_tar` whatever the target).
pub const P_CONTROL_CORR: f64 = 0.999;

pub use crate::error::IdentError;

/// The fitted plant `ΔH_t = b − g·α_{t−d}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub b: f64,
    pub g: f64,
    pub d: usize,
    /// 95% interval for `b`: `b ± t_{0.975, n−2}·se(b)`.
    pub b_ci: (f64, f64),
    /// 95% interval for `g`: `g ± t_{0.975, n−2}·se(g)`.
    pub g_ci: (f64, f64),
    pub b_se: f64,
    pub g_se: f64,
    /// `sqrt(SSR / n)` (not corrected for the two fitted parameters).
    pub residual_rms: f64,
    /// Regression rows used.
    pub n: usize,
    /// `1 − SSR/SST` of `ΔH` (1 when `ΔH` is constant and fitted exactly).
    pub r2: f64,
    /// Rows skipped because `H_t`, `H_{t+1}` or `α_{t−d}` was not finite.
    pub skipped_nan: usize,
}

/// Pearson correlation; NaN when either side has no variance.
pub(crate) fn corr(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
        sxy += (x - mx) * (y - my);
    }
    if sxx > 0.0 && syy > 0.0 {
        sxy / (sxx * syy).sqrt()
    } else {
        f64::NAN
    }
}

/// True when the finite values span less than 1e-12 of their magnitude.
fn constant(xs: impl Iterator<Item = f64> + Clone) -> bool {
    let (lo, hi) = xs
        .clone()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
            (l.min(x), h.max(x))
        });
    let scale = xs.fold(1.0_f64, |m, x| m.max(x.abs()));
    hi - lo <= 1e-12 * scale
}

/// Refuses logs whose α is (nearly) affine in `H_t`: the test runs on all
/// steps and, separately, on the steps where `|α|` is below its largest
/// value (a clipped P controller is affine away from its clip).
fn check_not_p_control(entropy: &[f64], alpha: &[f64]) -> Result<(), IdentError> {
    let pairs: Vec<(f64, f64)> = alpha
        .iter()
        .zip(entropy)
        .map(|(&a, &h)| (a, h))
        .filter(|(a, h)| a.is_finite() && h.is_finite())
        .collect();
    let c = corr(&pairs);
    if c.abs() > P_CONTROL_CORR {
        return Err(IdentError::PControl {
            corr: c,
            on: "all steps",
        });
    }
    let amax = pairs.iter().fold(0.0_f64, |m, p| m.max(p.0.abs()));
    let inner: Vec<(f64, f64)> = pairs
        .iter()
        .copied()
        .filter(|p| p.0.abs() < amax * (1.0 - 1e-9))
        .collect();
    if inner.len() >= MIN_ROWS {
        let c = corr(&inner);
        if c.abs() > P_CONTROL_CORR {
            return Err(IdentError::PControl {
                corr: c,
                on: "the unsaturated steps",
            });
        }
    }
    Ok(())
}

/// Regression rows `(α_{t−d}, H_{t+1} − H_t)` for `t ≥ first` (`first ≥ d`),
/// and how many were skipped for NaN.
fn rows(entropy: &[f64], alpha: &[f64], d: usize, first: usize) -> (Vec<(f64, f64)>, usize) {
    let mut out = Vec::new();
    let mut skipped = 0;
    for t in first.max(d)..entropy.len().saturating_sub(1) {
        let (x, y) = (alpha[t - d], entropy[t + 1] - entropy[t]);
        if x.is_finite() && y.is_finite() {
            out.push((x, y));
        } else {
            skipped += 1;
        }
    }
    (out, skipped)
}

/// OLS of `y = a + β·x` on the rows; `b = a`, `g = −β`.
fn ols(rows: &[(f64, f64)], d: usize, skipped_nan: usize) -> Fit {
    let n = rows.len();
    let nf = n as f64;
    let (xm, ym) = rows
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / nf, b + y / nf));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in rows {
        sxx += (x - xm) * (x - xm);
        sxy += (x - xm) * (y - ym);
        syy += (y - ym) * (y - ym);
    }
    let beta = sxy / sxx;
    let a = ym - beta * xm;
    let ssr: f64 = rows.iter().map(|(x, y)| (y - a - beta * x).powi(2)).sum();
    let s2 = ssr / (nf - 2.0);
    let g_se = (s2 / sxx).sqrt();
    let b_se = (s2 * (1.0 / nf + xm * xm / sxx)).sqrt();
    let t = StudentsT::new(0.0, 1.0, nf - 2.0)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(f64::NAN);
    let (b, g) = (a, -beta);
    Fit {
        b,
        g,
        d,
        b_ci: (b - t * b_se, b + t * b_se),
        g_ci: (g - t * g_se, g + t * g_se),
        b_se,
        g_se,
        residual_rms: (ssr / nf).sqrt(),
        n,
        r2: if syy > 0.0 { 1.0 - ssr / syy } else { 1.0 },
        skipped_nan,
    }
}

/// Checks and fits with delay `d` on the rows `t ≥ first`.
fn fit_from(entropy: &[f64], alpha: &[f64], d: usize, first: usize) -> Result<Fit, IdentError> {
    if entropy.len() != alpha.len() {
        return Err(IdentError::LengthMismatch {
            entropy: entropy.len(),
            alpha: alpha.len(),
        });
    }
    let (rs, skipped) = rows(entropy, alpha, d, first);
    if rs.len() < MIN_ROWS {
        return Err(IdentError::TooFewSteps {
            rows: rs.len(),
            minimum: MIN_ROWS,
            skipped,
            d,
        });
    }
    if constant(entropy.iter().copied().filter(|h| h.is_finite())) {
        return Err(IdentError::ConstantEntropy);
    }
    if constant(rs.iter().map(|r| r.0)) {
        return Err(IdentError::ConstantAlpha);
    }
    check_not_p_control(entropy, alpha)?;
    Ok(ols(&rs, d, skipped))
}

/// Fits `b` and `g` for a known delay `d` from a log of `H_t` and `α_t`
/// (same length; `α_t` is the α applied after measuring `H_t`). Rows with a
/// non-finite value are skipped and counted in [`Fit::skipped_nan`].
///
/// Refused: lengths differ; fewer than [`MIN_ROWS`] rows; entropy constant;
/// α constant over the rows; α affine in `H_t` (see [`P_CONTROL_CORR`]).
pub fn identify(entropy: &[f64], alpha: &[f64], d: usize) -> Result<Fit, IdentError> {
    fit_from(entropy, alpha, d, d)
}

/// Chooses the delay among `0..=max_d` and fits it. Every candidate is
/// fitted on the same rows (`t ≥ max_d`) so their residuals compare; with
/// two parameters each and the same `n`, BIC (`n·ln(SSR/n) + 2·ln n`) ranks
/// them exactly as the residual does, so we take the smallest residual RMS
/// (ties: the smaller `d`). Returns the chosen delay's fit on all of its
/// rows and `(d, residual_rms)` for every candidate on the common rows.
pub fn identify_delay(
    entropy: &[f64],
    alpha: &[f64],
    max_d: usize,
) -> Result<(Fit, Vec<(usize, f64)>), IdentError> {
    let mut residuals = Vec::with_capacity(max_d + 1);
    for d in 0..=max_d {
        residuals.push((d, fit_from(entropy, alpha, d, max_d)?.residual_rms));
    }
    let best = residuals
        .iter()
        .copied()
        .reduce(|best, c| if c.1 < best.1 { c } else { best })
        .map_or(0, |c| c.0);
    Ok((identify(entropy, alpha, best)?, residuals))
}

#[cfg(test)]
#[path = "ident_tests.rs"]
mod tests;
