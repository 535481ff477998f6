//! Critical values for a Newey–West t statistic whose bandwidth is a
//! sizeable share of the sample (docs/mathematics.md §9).
//!
//! [`super::unpaired`] spans its regressor's autocorrelation
//! ([`super::regressor_bandwidth`]): up to a tenth of the rows, 30 lags at
//! 300 steps. With `b = L/n` that large, the Bartlett estimate of the
//! long-run variance is biased low (its weights `1 − l/(L+1)` discount the
//! autocovariances it keeps) and is itself noisy, so `ĝ/SE` is not Student
//! t: its tails are wider (Kiefer & Vogelsang 2005, "fixed-b"
//! asymptotics). On the sampled toy's plain arms under Adam, whose
//! regressor (α through β1 = 0.9) needs the longest bandwidths, the t
//! quantile's placebo interval covered 0 in 164–175 of 200 repetitions.
//!
//! The fixed-b limit does not depend on the noise's autocorrelation, only
//! on the kernel and `b`, and for the slope on a stationary regressor it is
//! that of the location model. So the quantiles come from simulating that
//! model at the fit's own `n` and `L`: `e_t` i.i.d. N(0, 1), `T = √n·ē/√Ω̂`
//! with `Ω̂` the Bartlett estimate at bandwidth `L` of the demeaned `e`
//! (with the `n/(n−1)` correction of a one-coefficient fit; the slope's
//! fit in [`super::hac_fit`] has two and applies `n/(n−2)`, which makes
//! it conservative by `√((n−1)/(n−2))`, 1% at 50 rows); at `L = 0` that
//! is Student t with `n − 1` degrees of freedom, at small `b` close to it.
//! [`DRAWS`] draws from one fixed seed: the same `(n, L)` always gives the
//! same quantiles, whatever the thread count.
//!
//! Two figures per `(n, L)`:
//! - `q975`: the 95% two-sided critical value, `P(|T| > q975) = 0.05`.
//! - `power`: the multiplier `m` with `g_detectable = m·SE(ĝ)`. A shift of
//!   `δ` standard deviations of `ĝ` gives `T + δ/√Ω̂`; `δ₈₀` is where 80%
//!   of the draws reject, and, since the reported SE is `√Ω̂` standard
//!   deviations (on average `E√Ω̂ < 1`), `m = δ₈₀ / E√Ω̂`. At `L = 0` that
//!   is about `t_{0.975} + t_{0.80}`, the multiplier used elsewhere.
//!
//! Chosen here (the issue is silent): simulated quantiles rather than
//! Kiefer–Vogelsang's fitted polynomial, because the polynomial gives the
//! critical value but not the power multiplier, and the simulation holds
//! at the fit's own `n` (the polynomial is the `n → ∞` limit).
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Draws of the location model per `(n, L)`: the 95% quantile of `|T|`
/// then has a Monte Carlo standard error of about 0.01 (at `L = 0`,
/// within 0.03 of Student t's; the test checks it).
pub const DRAWS: usize = 20_000;
/// Seed of the draws (fixed: the quantiles are a function of `(n, L)`).
const SEED: u64 = 0x00f1_7ed0_b000;

/// The quantiles of the module doc at one `(n, L)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedB {
    /// `P(|T| > q975) = 0.05`.
    pub q975: f64,
    /// `g_detectable = power·SE(ĝ)`.
    pub power: f64,
    /// `δ₈₀`: the gain detected with 80% power, in standard deviations of
    /// `ĝ` (what a planner that knows that deviation multiplies by).
    pub delta80: f64,
}

/// The quantiles for `n` rows and Bartlett bandwidth `l` (cached).
pub fn fixed_b(n: usize, l: usize) -> FixedB {
    static CACHE: OnceLock<Mutex<HashMap<(usize, usize), FixedB>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (n.max(3), l);
    if let Some(v) = cache.lock().ok().and_then(|c| c.get(&key).copied()) {
        return v;
    }
    // Computed outside the lock (deterministic, so a race only repeats it).
    let v = simulate(key.0, key.1);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, v);
    }
    v
}

/// [`fixed_b`] without the cache. The Bartlett sum in `O(n)` per draw:
/// with `M = L + 1`, `Σ_{|j|<M} (M − |j|)·Σ_t u_t·u_{t+j}` is the sum of
/// the squared sums of `u` over every window of `M` consecutive rows,
/// windows cut at the ends included (a pair `j` apart lies in `M − j` of
/// them), so `n·Ω̂ = Σ_k W_k² / M` (lags past `n − 1` contribute nothing,
/// as in [`super::hac_fit`]).
fn simulate(n: usize, l: usize) -> FixedB {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let nf = n as f64;
    let m = l + 1;
    let mut e = vec![0.0; n];
    // Prefix sums of the demeaned draw: p[t] = Σ_{s<t} u_s.
    let mut p = vec![0.0; n + 1];
    // (√n·ē, √Ω̂) per draw.
    let mut draws: Vec<(f64, f64)> = Vec::with_capacity(DRAWS);
    for _ in 0..DRAWS {
        for v in e.iter_mut() {
            *v = StandardNormal.sample(&mut rng);
        }
        let mean = e.iter().sum::<f64>() / nf;
        for (t, v) in e.iter().enumerate() {
            p[t + 1] = p[t] + (v - mean);
        }
        // Windows [k, k + M) for k = 1 − M ..= n − 1, cut to [0, n).
        let mut sq = 0.0;
        for k in 0..n + m - 1 {
            let (lo, hi) = ((k + 1).saturating_sub(m), (k + 1).min(n));
            let w = p[hi] - p[lo];
            sq += w * w;
        }
        // Ω̂ with the n/(n−1) correction of a one-coefficient fit.
        let omega = sq / m as f64 / nf * nf / (nf - 1.0);
        draws.push((nf.sqrt() * mean, omega.max(f64::MIN_POSITIVE).sqrt()));
    }
    let mut t: Vec<f64> = draws.iter().map(|(z, s)| (z / s).abs()).collect();
    t.sort_by(f64::total_cmp);
    // The smallest value with at most 5% of the draws above it.
    let q975 = t[(0.95 * DRAWS as f64).ceil() as usize - 1];
    let power_at = |delta: f64| -> f64 {
        draws
            .iter()
            .filter(|(z, s)| ((z + delta) / s).abs() > q975)
            .count() as f64
            / DRAWS as f64
    };
    // Bisection for δ₈₀ (power rises with δ past the 5% at 0).
    let (mut lo, mut hi) = (0.0, 1.0);
    while power_at(hi) < 0.8 && hi < 1e6 {
        hi *= 2.0;
    }
    for _ in 0..30 {
        let mid = 0.5 * (lo + hi);
        if power_at(mid) < 0.8 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let delta80 = hi;
    let mean_sd = draws.iter().map(|(_, s)| s).sum::<f64>() / DRAWS as f64;
    FixedB {
        q975,
        power: delta80 / mean_sd,
        delta80,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{ContinuousCDF, StudentsT};

    /// At `L = 0` the statistic is Student t with `n − 1` degrees of
    /// freedom: the simulated critical value is its quantile within the
    /// Monte Carlo error, and the power multiplier is near
    /// `t_{0.975} + t_{0.80}` (to the 2% a t shift differs from a
    /// noncentral t).
    #[test]
    fn no_lags_is_student_t() {
        for n in [30, 300] {
            let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).unwrap();
            let f = fixed_b(n, 0);
            let q = t.inverse_cdf(0.975);
            assert!((f.q975 - q).abs() < 0.03, "n {n}: {} vs {q}", f.q975);
            let m = q + t.inverse_cdf(0.80);
            assert!(
                (f.power / m - 1.0).abs() < 0.03,
                "n {n}: {} vs {m}",
                f.power
            );
        }
    }

    /// The windows' form of the Bartlett sum is the direct one.
    #[test]
    fn window_sums_are_the_bartlett_sum() {
        let u = [0.3, -1.2, 0.7, 2.0, -0.4, -1.4];
        let n = u.len();
        let p: Vec<f64> = std::iter::once(0.0)
            .chain(u.iter().scan(0.0, |a, v| {
                *a += v;
                Some(*a)
            }))
            .collect();
        for l in [0, 1, 3, 5, 9] {
            let m = l + 1;
            let direct: f64 = (0..=l.min(n - 1))
                .map(|j| {
                    let g: f64 = (j..n).map(|t| u[t] * u[t - j]).sum();
                    let w = 1.0 - j as f64 / m as f64;
                    if j == 0 {
                        g
                    } else {
                        2.0 * w * g
                    }
                })
                .sum();
            let windows: f64 = (0..n + m - 1)
                .map(|k| {
                    let w = p[(k + 1).min(n)] - p[(k + 1).saturating_sub(m)];
                    w * w
                })
                .sum::<f64>()
                / m as f64;
            assert!(
                (direct - windows).abs() < 1e-12,
                "L {l}: {direct} vs {windows}"
            );
        }
    }

    /// A bandwidth that is a tenth of the sample widens the critical value
    /// well past the normal one (Kiefer & Vogelsang's fixed-b limit for the
    /// Bartlett kernel is about 2.26 at b = 0.1; the finite-n value at 300
    /// rows is close to it), and it grows with the bandwidth.
    #[test]
    fn long_bandwidths_widen_the_quantiles() {
        let a = fixed_b(300, 5);
        let b = fixed_b(300, 30);
        let c = fixed_b(300, 60);
        println!(
            "L 5: {a:?}\nL 30: {b:?}\nL 60: {c:?}\nL 0: {:?}",
            fixed_b(300, 0)
        );
        assert!(a.q975 < b.q975 && b.q975 < c.q975, "{a:?} {b:?} {c:?}");
        assert!((2.15..2.4).contains(&b.q975), "{b:?}");
        assert!(a.power < b.power && b.power < c.power, "{a:?} {b:?} {c:?}");
        // Cached and deterministic.
        assert_eq!(fixed_b(300, 30), simulate(300, 30));
    }
}
