//! The linearised closed loop of docs/mathematics.md §6: `e_{t+1} = e_t + b − g·α_{t−d}`
//! with the EntroPIC law of docs/mathematics.md §3 (P when `Ki = 0`, PI otherwise).
//!
//! [`analyse`] gives the spectral radius of the loop (companion matrix of the
//! characteristic polynomial, nalgebra's complex eigenvalues), whether it is
//! stable and the steady-state error; [`simulate`] runs the recursion itself
//! (optionally with the output clip), and [`predict`] reads settling step,
//! overshoot and steady-state error off that simulation with docs/design.md §8's
//! definitions. [`stable_region`] and [`gain_margin`] map the stable gains.
//!
//! The model holds only while α is not clipped: with the clip, an unstable
//! linear loop becomes a bounded oscillation, which [`simulate`] shows and
//! [`analyse`] does not.

pub use entropic_sim::control::IntegralForm;
use nalgebra::{DMatrix, Schur};
use serde::{Deserialize, Serialize};

/// Largest delay [`analyse`] accepts: the companion matrix is `(d+2)²` and
/// its Schur decomposition costs `O(d³)`; 1000 steps is far beyond any
/// staleness of interest and still takes well under a second.
pub const MAX_DELAY: usize = 1000;

/// Iteration cap of the Schur decomposition (nalgebra's own default is "no
/// cap", which could loop forever on pathological input).
const SCHUR_MAX_ITER: usize = 100_000;

/// Errors of the linear analysis: bad parameters, or an eigenvalue solver
/// that did not converge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinearError {
    #[error("{name} must be a finite number, got {value}")]
    NotFinite { name: &'static str, value: f64 },
    #[error("delay {delay} is larger than the supported maximum {max}")]
    DelayTooLarge { delay: usize, max: usize },
    #[error("{name} must be positive, got {value}")]
    NotPositive { name: &'static str, value: f64 },
    #[error("the eigenvalue solver did not converge for this characteristic polynomial")]
    EigenSolver,
}

/// The linear loop: plant `e_{t+1} = e_t + drift − gain·α_{t−delay}` and the
/// controller `α_t = kp·e_t + ki·I` (`form` says which integral, docs/mathematics.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoopParams {
    /// Plant gain `g` (entropy drop per unit α per step); docs/mathematics.md assumes `g > 0`.
    pub gain: f64,
    /// Delay `d` in controller steps.
    pub delay: usize,
    pub kp: f64,
    /// `ki = 0` is P control.
    pub ki: f64,
    /// Drift `b` (entropy change per step of unweighted GRPO).
    pub drift: f64,
    pub form: IntegralForm,
}

impl LoopParams {
    /// Checks that every number is finite and the delay at most [`MAX_DELAY`].
    pub fn validate(&self) -> Result<(), LinearError> {
        for (name, value) in [
            ("gain", self.gain),
            ("kp", self.kp),
            ("ki", self.ki),
            ("drift", self.drift),
        ] {
            if !value.is_finite() {
                return Err(LinearError::NotFinite { name, value });
            }
        }
        if self.delay > MAX_DELAY {
            return Err(LinearError::DelayTooLarge {
                delay: self.delay,
                max: MAX_DELAY,
            });
        }
        Ok(())
    }
}

/// Stability of the linear loop, as `entropic stability` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StabilityReport {
    pub params: LoopParams,
    /// Largest root modulus of the characteristic polynomial.
    pub spectral_radius: f64,
    /// `spectral_radius < 1`.
    pub stable: bool,
    /// Limit of `e_t` when stable: `b/(g·Kp)` for P (docs/mathematics.md §6), 0 for PI
    /// (the integral absorbs the drift); `None` when unstable (no limit).
    pub steady_state_error: Option<f64>,
    /// Roots `(re, im)`, by decreasing modulus (ties: increasing `im`).
    pub roots: Vec<(f64, f64)>,
}

/// Coefficients of the characteristic polynomial, **ascending powers**
/// (`c[k]` multiplies `z^k`; the last, leading coefficient is 1). docs/mathematics.md §6:
/// - PI, [`IntegralForm::Before`]: `(z−1)² z^d + g(Kp(z−1) + Ki)`;
/// - PI, [`IntegralForm::After`]: `(z−1)² z^d + g(Kp(z−1) + Ki·z)`;
/// - P (`ki == 0`, either form): `(z−1) z^d + g·Kp`, degree `d+1`.
///
/// For `ki == 0` the PI polynomials factor as `(z−1)·P(z)`: the extra root
/// `z = 1` belongs to the integral state, which is unobservable when `Ki = 0`
/// (it no longer feeds α), so it says nothing about `e`; we use the P
/// polynomial so that a stable P loop is not reported as marginal.
pub fn char_poly(g: f64, d: usize, kp: f64, ki: f64, form: IntegralForm) -> Vec<f64> {
    if ki == 0.0 {
        let mut c = vec![0.0; d + 2];
        c[d + 1] += 1.0; // z^{d+1}
        c[d] -= 1.0; // −z^d
        c[0] += g * kp;
        return c;
    }
    let mut c = vec![0.0; d + 3];
    // (z−1)² z^d = z^{d+2} − 2z^{d+1} + z^d
    c[d + 2] += 1.0;
    c[d + 1] -= 2.0;
    c[d] += 1.0;
    // g·Kp·(z − 1)
    c[1] += g * kp;
    c[0] -= g * kp;
    match form {
        IntegralForm::Before => c[0] += g * ki,
        IntegralForm::After => c[1] += g * ki,
    }
    c
}

/// Roots of a monic polynomial given in ascending powers, as the complex
/// eigenvalues of its companion matrix (ones on the subdiagonal, `−c_k` in
/// the last column), sorted as [`StabilityReport::roots`].
fn roots(c: &[f64]) -> Result<Vec<(f64, f64)>, LinearError> {
    let n = c.len().saturating_sub(1);
    if n == 0 {
        return Ok(Vec::new());
    }
    let lead = c[n];
    if !lead.is_finite() || lead == 0.0 || c.iter().any(|x| !x.is_finite()) {
        return Err(LinearError::EigenSolver);
    }
    let mut m = DMatrix::<f64>::zeros(n, n);
    for i in 1..n {
        m[(i, i - 1)] = 1.0;
    }
    for (k, ck) in c.iter().take(n).enumerate() {
        m[(k, n - 1)] = -ck / lead;
    }
    let schur = Schur::try_new(m, f64::EPSILON, SCHUR_MAX_ITER).ok_or(LinearError::EigenSolver)?;
    let mut r: Vec<(f64, f64)> = schur
        .complex_eigenvalues()
        .iter()
        .map(|z| (z.re, z.im))
        .collect();
    r.sort_by(|a, b| {
        let (ma, mb) = (a.0.hypot(a.1), b.0.hypot(b.1));
        mb.total_cmp(&ma).then(a.1.total_cmp(&b.1))
    });
    Ok(r)
}

/// Spectral radius (largest root modulus) of [`char_poly`]; the loop is
/// stable iff it is below 1. NaN when the inputs are not finite, the delay
/// exceeds [`MAX_DELAY`] or the eigenvalue solver fails.
pub fn spectral_radius(g: f64, d: usize, kp: f64, ki: f64, form: IntegralForm) -> f64 {
    let p = LoopParams {
        gain: g,
        delay: d,
        kp,
        ki,
        drift: 0.0,
        form,
    };
    if p.validate().is_err() {
        return f64::NAN;
    }
    match roots(&char_poly(g, d, kp, ki, form)) {
        Ok(r) => r.first().map_or(0.0, |z| z.0.hypot(z.1)),
        Err(_) => f64::NAN,
    }
}

/// Stability report of the linear loop (docs/mathematics.md §6). Errors on non-finite
/// numbers or a delay above [`MAX_DELAY`].
pub fn analyse(params: &LoopParams) -> Result<StabilityReport, LinearError> {
    params.validate()?;
    let p = params;
    let r = roots(&char_poly(p.gain, p.delay, p.kp, p.ki, p.form))?;
    let rho = r.first().map_or(0.0, |z| z.0.hypot(z.1));
    let stable = rho < 1.0;
    // Stable with ki = 0 implies g·Kp ≠ 0 (else z = 1 is a root), so the
    // division is safe.
    let steady_state_error = match (stable, p.ki == 0.0) {
        (false, _) => None,
        (true, true) => Some(p.drift / (p.gain * p.kp)),
        (true, false) => Some(0.0),
    };
    Ok(StabilityReport {
        params: *p,
        spectral_radius: rho,
        stable,
        steady_state_error,
        roots: r,
    })
}

/// Runs the recursion of docs/mathematics.md §6 with the controller exactly as docs/mathematics.md
/// §3 computes it, from `e_0 = e0` with no past actuation (`α_t = 0` for
/// `t < 0`, `I_{−1} = 0`). Returns `steps` pairs `(e_t, α_t)`, `t = 0..steps`.
///
/// Per step: `Before`: `α_t = clip(Kp·e_t + Ki·I_{t−1})`, then
/// `I_t = I_{t−1} + e_t`; `After`: `I_t = I_{t−1} + e_t`, then
/// `α_t = clip(Kp·e_t + Ki·I_t)`; then `e_{t+1} = e_t + b − g·α_{t−d}`.
/// The clip is `[−alpha_max, alpha_max]` and only on the output (no
/// anti-windup, as the authors' code); `f64::INFINITY` (or NaN) disables it.
pub fn simulate(params: &LoopParams, e0: f64, steps: usize, alpha_max: f64) -> Vec<(f64, f64)> {
    simulate_varying(
        params,
        &|_| (params.drift, params.gain),
        e0,
        steps,
        alpha_max,
    )
}

/// [`simulate`] with a time-varying plant: the step from `e_t` uses
/// `(b, g) = plant(t)` instead of `params`' drift and gain (the gains,
/// delay, integral form and clip are `params`'). With a constant `plant`
/// this is [`simulate`], number for number.
pub fn simulate_varying(
    params: &LoopParams,
    plant: &dyn Fn(usize) -> (f64, f64),
    e0: f64,
    steps: usize,
    alpha_max: f64,
) -> Vec<(f64, f64)> {
    let p = params;
    let clip = |a: f64| {
        if a > alpha_max {
            alpha_max
        } else if a < -alpha_max {
            -alpha_max
        } else {
            a
        }
    };
    let mut out = Vec::with_capacity(steps);
    let mut e = e0;
    let mut integral = 0.0;
    for t in 0..steps {
        let alpha = match p.form {
            IntegralForm::Before => {
                let a = clip(p.kp * e + p.ki * integral);
                integral += e;
                a
            }
            IntegralForm::After => {
                integral += e;
                clip(p.kp * e + p.ki * integral)
            }
        };
        out.push((e, alpha));
        let delayed = if t >= p.delay {
            out[t - p.delay].1
        } else {
            0.0
        };
        let (b, g) = plant(t);
        e = e + b - g * delayed;
    }
    out
}

/// Figures of the simulated linear loop, with docs/design.md §8's definitions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// First step after which `|e| ≤ band` to the end of the horizon; `None`
    /// if the last step is outside the band.
    pub settling_step: Option<usize>,
    /// Largest excursion past the target after the first crossing, as a
    /// fraction of `|e0|` (0 if it never crosses; NaN if `e0 = 0`).
    pub overshoot: f64,
    /// Mean signed `e` over the last quarter of the horizon (the limit for a
    /// converged loop, the cycle's mean for a limit cycle).
    pub steady_state_error: f64,
    /// Mean `|e|` over the last quarter (docs/design.md §8's `final_abs_err`).
    pub final_abs_err: f64,
}

/// Settling step, overshoot and steady-state error of the linear loop from
/// `e0`, read off [`simulate`] over `horizon` steps with the clip
/// `alpha_max` (`f64::INFINITY` for the pure linear model). `band` is the
/// settling band; docs/design.md §8's is `max(0.05, 0.1·H_tar)`, see [`design_band`].
/// The spec names only `(params, e0)`; band, horizon and clip are explicit
/// here because the figures depend on them.
pub fn predict(
    params: &LoopParams,
    e0: f64,
    band: f64,
    horizon: usize,
    alpha_max: f64,
) -> Result<Prediction, LinearError> {
    params.validate()?;
    if !e0.is_finite() {
        return Err(LinearError::NotFinite {
            name: "e0",
            value: e0,
        });
    }
    if !band.is_finite() || band <= 0.0 {
        return Err(LinearError::NotPositive {
            name: "band",
            value: band,
        });
    }
    if horizon == 0 {
        return Err(LinearError::NotPositive {
            name: "horizon",
            value: 0.0,
        });
    }
    if alpha_max.is_nan() || alpha_max <= 0.0 {
        return Err(LinearError::NotPositive {
            name: "alpha_max",
            value: alpha_max,
        });
    }
    let es: Vec<f64> = simulate(params, e0, horizon, alpha_max)
        .iter()
        .map(|x| x.0)
        .collect();
    Ok(figures(&es, band))
}

/// docs/design.md §8's settling band for a target entropy: `max(0.05, 0.1·H_tar)` nats.
pub fn design_band(target: f64) -> f64 {
    (0.1 * target).max(0.05)
}

/// The [`Prediction`] figures of an error series (non-empty), as
/// [`predict`] computes them: settling into `band`, overshoot, and the
/// last quarter's mean signed and absolute error.
pub fn figures(es: &[f64], band: f64) -> Prediction {
    let n = es.len();
    // Settling: scan back from the end while inside the band.
    let mut settle = n;
    while settle > 0 && es[settle - 1].abs() <= band {
        settle -= 1;
    }
    let settling_step = (settle < n).then_some(settle);
    let e0 = es.first().copied().unwrap_or(0.0);
    let overshoot = if e0 == 0.0 {
        f64::NAN
    } else {
        let s = e0.signum();
        match es.iter().position(|&e| s * e <= 0.0) {
            None => 0.0,
            Some(c) => {
                es[c..]
                    .iter()
                    .map(|&e| (-s * e).max(0.0))
                    .fold(0.0, f64::max)
                    / e0.abs()
            }
        }
    };
    let tail = entropic_sim::stats::last_quarter(es);
    let m = tail.len() as f64;
    Prediction {
        settling_step,
        overshoot,
        steady_state_error: tail.iter().sum::<f64>() / m,
        final_abs_err: tail.iter().map(|e| e.abs()).sum::<f64>() / m,
    }
}

/// Spectral radii over a grid of gains: `out[i][j]` is the radius at
/// `(kp_grid[i], ki_grid[j])` (NaN where it cannot be computed).
pub fn stable_region(
    g: f64,
    d: usize,
    form: IntegralForm,
    kp_grid: &[f64],
    ki_grid: &[f64],
) -> Vec<Vec<f64>> {
    kp_grid
        .iter()
        .map(|&kp| {
            ki_grid
                .iter()
                .map(|&ki| spectral_radius(g, d, kp, ki, form))
                .collect()
        })
        .collect()
}

/// Smallest and largest scale factor [`gain_margin`] searches.
pub const GAIN_MARGIN_BOUNDS: (f64, f64) = (1e-6, 1e6);

/// Gain margin: the largest factor `k` with `(k·Kp, k·Ki)` stable, found by
/// bisection (relative tolerance 1e-10) between a stable and an unstable
/// factor, searched in [`GAIN_MARGIN_BOUNDS`]:
/// - stable at `k = 1`: double `k` until unstable; `f64::INFINITY` if still
///   stable at 1e6;
/// - unstable at `k = 1`: halve `k` until stable (a margin below 1 says by
///   how much to cut the gains); 0 if nothing down to 1e-6 is stable.
///
/// The stable set along the ray need not be one interval (it is, in every
/// case we met); the result is the edge of the stable piece found. NaN on
/// invalid input.
pub fn gain_margin(g: f64, d: usize, kp: f64, ki: f64, form: IntegralForm) -> f64 {
    let rho = |k: f64| spectral_radius(g, d, k * kp, k * ki, form);
    let r1 = rho(1.0);
    if r1.is_nan() {
        return f64::NAN;
    }
    let (lo_bound, hi_bound) = GAIN_MARGIN_BOUNDS;
    let (mut lo, mut hi) = if r1 < 1.0 {
        let mut k = 1.0;
        loop {
            if k >= hi_bound {
                return f64::INFINITY;
            }
            if rho(2.0 * k) >= 1.0 {
                break (k, 2.0 * k);
            }
            k *= 2.0;
        }
    } else {
        let mut k = 1.0;
        loop {
            if k <= lo_bound {
                return 0.0;
            }
            if rho(0.5 * k) < 1.0 {
                break (0.5 * k, k);
            }
            k *= 0.5;
        }
    };
    while hi - lo > 1e-10 * hi {
        let mid = 0.5 * (lo + hi);
        if rho(mid) < 1.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
#[path = "linear_tests.rs"]
mod tests;
