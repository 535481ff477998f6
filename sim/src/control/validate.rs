//! Range checks of [`ControlConfig`] and [`LossConfig`] (docs/design.md §9: every
//! scenario struct has a `validate()` naming the file, key and range).

use super::loss::LossConfig;
use super::{ControlConfig, Method};
use crate::error::SimError;

/// Checks one value; `ok` says whether it is allowed, `range` how to say so.
fn check(
    file: &str,
    prefix: &str,
    key: &str,
    x: f64,
    ok: bool,
    range: &str,
) -> Result<(), SimError> {
    if ok {
        Ok(())
    } else {
        Err(SimError::input(
            file,
            format!("{prefix}.{key}"),
            format!("must be {range} (got {x})"),
        ))
    }
}

impl ControlConfig {
    /// The target's upper bound, one rule for both trainers and every
    /// method: `target` ≤ ln K, the largest entropy a K-way distribution
    /// can have (K actions in the toy, the vocabulary on the LLM). A plain
    /// GRPO arm's target only labels its records, but a target above ln K is
    /// a mistake there too. `None` when within; else the message, without
    /// the key.
    pub fn target_above_max(&self, k: usize) -> Option<String> {
        let ln_k = (k as f64).ln();
        (self.target > ln_k).then(|| {
            format!(
                "must be in [0, ln K = {ln_k:.4}] for K = {k} (got {})",
                self.target
            )
        })
    }

    /// Checks every field's range, whatever the method (so a config stays
    /// valid when only `method` changes), except the probe schedule, which
    /// must be non-empty only for `method = "probe"`. `file` and `prefix`
    /// (e.g. `"control"`) name the key in the error. NaN and ±inf are
    /// rejected everywhere except `alpha_max = inf` (no clip).
    ///
    /// Ranges (ours where no source fixes one): `target ≥ 0`; `kp, ki ≥ 0`
    /// (the sign convention of docs/mathematics.md §3 makes positive gains the only
    /// meaningful ones); `alpha_max > 0` or inf; `0 < tau < 1`; probe pairs
    /// `steps ≥ 1`, `alpha` finite; `entropy_coef ≥ 0`; `adaptive_delta ≥ 0`,
    /// `0 ≤ c_min ≤ c0 ≤ c_max`; `0 < clip_cov_ratio ≤ 1`,
    /// `clip_cov_low < clip_cov_high` (any sign: a covariance);
    /// `0 < kl_cov_ratio ≤ 1`, `kl_cov_coef ≥ 0`; `clip_higher_eps_high ≥ 0`.
    ///
    /// The caller must also check `target ≤ log K` (K = vocabulary or arm
    /// count), which this config cannot know.
    pub fn validate(&self, file: &str, prefix: &str) -> Result<(), SimError> {
        let c = |key: &str, x: f64, ok: bool, range: &str| check(file, prefix, key, x, ok, range);
        let fin_ge0 = |x: f64| x.is_finite() && x >= 0.0;
        c(
            "target",
            self.target,
            fin_ge0(self.target),
            "finite and >= 0",
        )?;
        if self.scale_free && self.method == Method::Entropic && !(self.target > 0.0) {
            return Err(SimError::input(
                file,
                format!("{prefix}.target"),
                format!("must be > 0 when scale_free = true (got {})", self.target),
            ));
        }
        c("kp", self.kp, fin_ge0(self.kp), "finite and >= 0")?;
        c("ki", self.ki, fin_ge0(self.ki), "finite and >= 0")?;
        let am = self.alpha_max;
        c(
            "alpha_max",
            am,
            am > 0.0 && (am.is_finite() || am == f64::INFINITY),
            "> 0 or inf",
        )?;
        c(
            "tau",
            self.tau,
            self.tau > 0.0 && self.tau < 1.0,
            "in (0, 1)",
        )?;
        if self.method == Method::Probe && self.probe.is_empty() {
            return Err(SimError::input(
                file,
                format!("{prefix}.probe"),
                "must be a non-empty list of [steps, alpha] pairs when method = \"probe\" (got [])",
            ));
        }
        for (i, &(steps, alpha)) in self.probe.iter().enumerate() {
            if steps < 1 {
                return Err(SimError::input(
                    file,
                    format!("{prefix}.probe[{i}]"),
                    format!("steps must be >= 1 (got {steps})"),
                ));
            }
            c(
                &format!("probe[{i}]"),
                alpha,
                alpha.is_finite(),
                "a pair whose alpha is finite",
            )?;
        }
        c(
            "entropy_coef",
            self.entropy_coef,
            fin_ge0(self.entropy_coef),
            "finite and >= 0",
        )?;
        let (delta, lo, hi, c0) = (
            self.adaptive_delta,
            self.adaptive_c_min,
            self.adaptive_c_max,
            self.adaptive_c0,
        );
        c("adaptive_delta", delta, fin_ge0(delta), "finite and >= 0")?;
        c("adaptive_c_min", lo, fin_ge0(lo), "finite and >= 0")?;
        c(
            "adaptive_c_max",
            hi,
            hi.is_finite() && hi >= lo,
            "finite and >= adaptive_c_min",
        )?;
        let c0_ok = c0.is_finite() && lo <= c0 && c0 <= hi;
        c(
            "adaptive_c0",
            c0,
            c0_ok,
            &format!("in [adaptive_c_min, adaptive_c_max] = [{lo}, {hi}]"),
        )?;
        let r = self.clip_cov_ratio;
        c("clip_cov_ratio", r, r > 0.0 && r <= 1.0, "in (0, 1]")?;
        let (wl, wh) = (self.clip_cov_low, self.clip_cov_high);
        c("clip_cov_low", wl, wl.is_finite(), "finite")?;
        c(
            "clip_cov_high",
            wh,
            wh.is_finite() && wh > wl,
            "finite and > clip_cov_low",
        )?;
        let r = self.kl_cov_ratio;
        c("kl_cov_ratio", r, r > 0.0 && r <= 1.0, "in (0, 1]")?;
        c(
            "kl_cov_coef",
            self.kl_cov_coef,
            fin_ge0(self.kl_cov_coef),
            "finite and >= 0",
        )?;
        let eh = self.clip_higher_eps_high;
        c("clip_higher_eps_high", eh, fin_ge0(eh), "finite and >= 0")?;
        Ok(())
    }
}

impl LossConfig {
    /// Checks ranges: `0 ≤ eps_low < 1` (so `1 − eps_low > 0`),
    /// `eps_high ≥ 0` finite, `dual_clip > 1` or inf (verl asserts
    /// `clip_ratio_c > 1`), `kl_coef ≥ 0` finite. `file`/`prefix` as in
    /// [`ControlConfig::validate`].
    pub fn validate(&self, file: &str, prefix: &str) -> Result<(), SimError> {
        let c = |key: &str, x: f64, ok: bool, range: &str| check(file, prefix, key, x, ok, range);
        c(
            "eps_low",
            self.eps_low,
            self.eps_low >= 0.0 && self.eps_low < 1.0,
            "in [0, 1)",
        )?;
        let eh = self.eps_high;
        c(
            "eps_high",
            eh,
            eh.is_finite() && eh >= 0.0,
            "finite and >= 0",
        )?;
        let dc = self.dual_clip;
        c(
            "dual_clip",
            dc,
            dc > 1.0 && (dc.is_finite() || dc == f64::INFINITY),
            "> 1 or inf",
        )?;
        let kl = self.kl_coef;
        c(
            "kl_coef",
            kl,
            kl.is_finite() && kl >= 0.0,
            "finite and >= 0",
        )?;
        Ok(())
    }
}
