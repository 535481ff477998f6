//! The gain search: PI gains robust over the identified plant's 95% box
//! (docs/mathematics.md §6).

use crate::ident::Fit;
use crate::linear::{gain_margin, predict, spectral_radius, IntegralForm, LoopParams, Prediction};
use crate::tune::model::*;
use serde::{Deserialize, Serialize};

/// What the recommendation must achieve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DesignSpec {
    /// Wanted settling step (docs/design.md §8's definition).
    pub settle: usize,
    /// Target entropy (nats); sets the default band `max(0.05, 0.1·H_tar)`.
    pub target: f64,
    /// Settling band (nats) when given; `None`: docs/design.md §8's
    /// `max(0.05, 0.1·H_tar)`. The 0.05-nat floor is wider than a small
    /// LLM's whole token-mean entropy (often below 0.1 nats), where every
    /// gain would "settle" at step 0; pass e.g. `0.1·H_tar` there.
    #[serde(default)]
    pub band: Option<f64>,
    /// Initial error `H_0 − H_tar` the predictions start from.
    pub e0: f64,
    /// α clip of the controller that will run (`f64::INFINITY`: none).
    pub alpha_max: f64,
    pub form: IntegralForm,
    /// Largest overshoot (fraction of `|e0|`) accepted at any corner.
    pub max_overshoot: f64,
}

/// The loop's figures at one corner `(b, g)` of the 95% box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Corner {
    pub b: f64,
    pub g: f64,
    pub spectral_radius: f64,
    pub prediction: Prediction,
}

/// Recommended gains and what the linear model predicts for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub kp: f64,
    pub ki: f64,
    pub target: f64,
    pub form: IntegralForm,
    /// The α clip the predictions assumed ([`DesignSpec::alpha_max`]).
    pub alpha_max: f64,
    /// At the point estimate `(b, g)`.
    pub nominal: Corner,
    /// The four corners `(b_lo|b_hi) × (g_lo|g_hi)`.
    pub corners: Vec<Corner>,
    /// [`gain_margin`] at the point estimate and at the largest `g` of the
    /// interval (the corner closest to instability).
    pub gain_margin: f64,
    pub gain_margin_worst: f64,
    /// Whether every corner settles by [`DesignSpec::settle`] within the
    /// overshoot bound; when false these are the fastest robust gains found.
    pub met: bool,
    pub band: f64,
    pub horizon: usize,
}

/// Settling step as a number (`None` → infinity) for comparisons.
fn settle_num(p: &Prediction) -> f64 {
    p.settling_step.map_or(f64::INFINITY, |s| s as f64)
}

/// Geometric grid of `n` points from `lo` to `hi`.
fn geom(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(move |i| lo * (hi / lo).powf(i as f64 / (n - 1) as f64))
}

/// `(t_{0.975,n−2} + t_{0.80,n−2})·se`: the gain detected with 80% power
/// (docs/mathematics.md §9), for a [`Fit`] that carries no
/// [`ident_power::GainEstimate::g_detectable`].
fn detectable_from_se(se: f64, n: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    StudentsT::new(0.0, 1.0, (n as f64 - 2.0).max(1.0))
        .map(|t| (t.inverse_cdf(0.975) + t.inverse_cdf(0.80)) * se)
        .unwrap_or(f64::NAN)
}

/// Recommends PI gains (docs/mathematics.md §3 law, `spec.form`'s integral) for the
/// identified plant, robust over the regression's 95% box.
///
/// Chosen here (the issue leaves the method open): a grid search over the
/// dimensionless loop gains `ĝ·Kp ∈ [0.005, 2]` and `ĝ·Ki ∈ [1e-4, 0.5]`
/// (40 geometric points each; the loop depends on the gains only through
/// `g·Kp` and `g·Ki`). A candidate is admissible when the spectral radius is
/// below 1 at `g_lo`, `ĝ` and `g_hi` (`b` does not enter it) — so the gains
/// are chosen for the worst corner, not shrunk afterwards. For each, the
/// linear loop is simulated ([`predict`], clip `alpha_max`, horizon
/// `max(8·settle, 200)`) at the four `(b, g)` corners. Among admissible
/// gains whose every corner settles by `settle` with overshoot at most
/// `max_overshoot`, we take the one whose worst corner settles latest (the
/// closest to the wanted time, so the gains are no hotter than needed),
/// ties broken by the largest gain margin at `ĝ`; if none meets it, the one
/// with the smallest worst-corner settling step (`met = false`). Only PI is
/// searched: with drift `b ≠ 0`, P leaves `e* = b/(g·Kp)` (docs/mathematics.md §6).
///
/// Refused before any search: `g`'s interval not above 0
/// ([`TuneError::GainNotPositive`], with the detectable g), and a fit with
/// `R² <` [`MIN_R2`] ([`TuneError::ExplainsNothing`]).
pub fn recommend(fit: &Fit, spec: &DesignSpec) -> Result<Recommendation, TuneError> {
    let (g_lo, g_hi) = fit.g_ci;
    if !(g_lo > 0.0 && fit.g > 0.0) {
        return Err(TuneError::GainNotPositive {
            lo: g_lo,
            hi: g_hi,
            detectable: detectable_from_se(fit.g_se, fit.n),
        });
    }
    if fit.r2 < MIN_R2 {
        return Err(TuneError::ExplainsNothing {
            r2: fit.r2,
            threshold: MIN_R2,
        });
    }
    if spec.settle == 0 {
        return Err(TuneError::BadOption {
            name: "--settle",
            msg: "must be at least 1 step".into(),
        });
    }
    if !spec.target.is_finite() || spec.target < 0.0 {
        return Err(TuneError::BadOption {
            name: "--target",
            msg: format!("must be a finite entropy >= 0 (got {})", spec.target),
        });
    }
    // At equilibrium ΔH = 0, so α* = b/g (docs/mathematics.md §6); past the clip no
    // gains can hold the target, and every candidate would "never settle".
    let needed = fit.b / fit.g;
    if needed.abs() >= spec.alpha_max {
        return Err(TuneError::OutOfAuthority {
            needed,
            alpha_max: spec.alpha_max,
        });
    }
    let band = spec
        .band
        .unwrap_or_else(|| crate::linear::design_band(spec.target));
    let horizon = (8 * spec.settle).max(200);
    let d = fit.d;
    let corner = |b: f64, g: f64, kp: f64, ki: f64| -> Result<Corner, TuneError> {
        let p = LoopParams {
            gain: g,
            delay: d,
            kp,
            ki,
            drift: b,
            form: spec.form,
        };
        Ok(Corner {
            b,
            g,
            spectral_radius: spectral_radius(g, d, kp, ki, spec.form),
            prediction: predict(&p, spec.e0, band, horizon, spec.alpha_max)?,
        })
    };
    let boxes = [
        (fit.b_ci.0, g_lo),
        (fit.b_ci.0, g_hi),
        (fit.b_ci.1, g_lo),
        (fit.b_ci.1, g_hi),
    ];
    // (meets spec, worst settle, margin, kp, ki)
    let mut best: Option<(bool, f64, f64, f64, f64)> = None;
    for lp in geom(0.005, 2.0, 40) {
        for li in geom(1e-4, 0.5, 40) {
            let (kp, ki) = (lp / fit.g, li / fit.g);
            let stable = [g_lo, fit.g, g_hi]
                .iter()
                .all(|&g| spectral_radius(g, d, kp, ki, spec.form) < 1.0);
            if !stable {
                continue;
            }
            let mut worst_settle = 0.0_f64;
            let mut worst_over = 0.0_f64;
            for (b, g) in boxes {
                let c = corner(b, g, kp, ki)?;
                worst_settle = worst_settle.max(settle_num(&c.prediction));
                worst_over = worst_over.max(if c.prediction.overshoot.is_nan() {
                    0.0
                } else {
                    c.prediction.overshoot
                });
            }
            let meets = worst_settle <= spec.settle as f64 && worst_over <= spec.max_overshoot;
            let margin = gain_margin(fit.g, d, kp, ki, spec.form);
            let better = match best {
                None => true,
                Some((bm, bs, bmar, ..)) => match (meets, bm) {
                    (true, false) => true,
                    (false, true) => false,
                    (true, true) => worst_settle > bs || (worst_settle == bs && margin > bmar),
                    (false, false) => worst_settle < bs,
                },
            };
            if better {
                best = Some((meets, worst_settle, margin, kp, ki));
            }
        }
    }
    let (met, _, margin, kp, ki) = best.ok_or(TuneError::NoStableGains)?;
    let corners = boxes
        .iter()
        .map(|&(b, g)| corner(b, g, kp, ki))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Recommendation {
        kp,
        ki,
        target: spec.target,
        form: spec.form,
        alpha_max: spec.alpha_max,
        nominal: corner(fit.b, fit.g, kp, ki)?,
        corners,
        gain_margin: margin,
        gain_margin_worst: gain_margin(g_hi, d, kp, ki, spec.form),
        met,
        band,
        horizon,
    })
}
