//! Statistics helpers shared by `summary.json` and the claim checks:
//! Student-t intervals for means and Wilson intervals for rates (statrs).
use serde::{Deserialize, Deserializer, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// A point estimate with a two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    #[serde(deserialize_with = "f64_or_nan")]
    pub mean: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub lo: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub hi: f64,
    pub n: usize,
}

/// JSON writes NaN as `null`; read `null` back as NaN.
pub fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Mean of `xs` with a Student-t interval at `level` (e.g. 0.95).
/// NaN entries are skipped. With one value the interval is that value.
pub fn mean_ci(xs: &[f64], level: f64) -> Estimate {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return Estimate {
            mean: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
            n: 0,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate {
            mean,
            lo: mean,
            hi: mean,
            n,
        };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|d| d.inverse_cdf(0.5 + level / 2.0))
        .unwrap_or(f64::NAN);
    Estimate {
        mean,
        lo: mean - t * se,
        hi: mean + t * se,
        n,
    }
}

/// [`mean_ci`] for a quantity that cannot leave `[lo, hi]` (a share, an
/// error magnitude): the Student-t interval intersected with those bounds.
/// The true mean lies inside them, so the intersection covers it whenever the
/// t-interval does (coverage is kept), and a report never shows a pass rate
/// above 1 or an |e| below 0. With few seeds the t-interval is wide; this
/// only removes the impossible part of it.
pub fn mean_ci_bounded(xs: &[f64], level: f64, lo: f64, hi: f64) -> Estimate {
    let e = mean_ci(xs, level);
    // NaN (no finite value) stays NaN: f64::max would turn it into the bound
    let cut = |x: f64, f: fn(f64, f64) -> f64, b: f64| if x.is_nan() { x } else { f(x, b) };
    Estimate {
        lo: cut(e.lo, f64::max, lo),
        hi: cut(e.hi, f64::min, hi),
        ..e
    }
}

/// Index where the last quarter of `n` items starts: the last ⌈n/4⌉ items
/// are the quarter (so 1–3 items keep their last one, and 0 items give an
/// empty tail). Every "final" figure (final_abs_err, the steady-state error,
/// P's offset) averages over this tail.
pub fn last_quarter_start(n: usize) -> usize {
    n - n.div_ceil(4)
}

/// The last quarter of `xs` (see [`last_quarter_start`]).
pub fn last_quarter<T>(xs: &[T]) -> &[T] {
    &xs[last_quarter_start(xs.len())..]
}

/// Median of `xs` (the mean of the two middle values when the count is
/// even); NaN entries order last ([`f64::total_cmp`]), NaN when empty.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Wilson score interval for `k` successes out of `n` at `level`.
pub fn wilson(k: usize, n: usize, level: f64) -> Estimate {
    if n == 0 {
        return Estimate {
            mean: f64::NAN,
            lo: 0.0,
            hi: 1.0,
            n: 0,
        };
    }
    let z = Normal::new(0.0, 1.0)
        .map(|d| d.inverse_cdf(0.5 + level / 2.0))
        .unwrap_or(1.96);
    let nf = n as f64;
    let p = k as f64 / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    Estimate {
        mean: p,
        lo: (centre - half).max(0.0),
        hi: (centre + half).min(1.0),
        n,
    }
}

/// The difference of two means, mean(b) − mean(a), with Welch's interval
/// at `level` (Student-t with the Welch–Satterthwaite degrees of freedom;
/// the seeds of two runs are independent samples of unequal variance).
/// NaN entries are skipped; `n` is the smaller sample size; the interval
/// is NaN when either sample has fewer than 2 values.
pub fn diff_ci(a: &[f64], b: &[f64], level: f64) -> Estimate {
    let (ea, eb) = (mean_ci(a, level), mean_ci(b, level));
    let mean = eb.mean - ea.mean;
    let n = ea.n.min(eb.n);
    let var = |xs: &[f64], m: f64, k: usize| {
        xs.iter()
            .filter(|x| x.is_finite())
            .map(|x| (x - m).powi(2))
            .sum::<f64>()
            / (k as f64 - 1.0)
            / k as f64
    };
    if ea.n < 2 || eb.n < 2 {
        return Estimate {
            mean,
            lo: f64::NAN,
            hi: f64::NAN,
            n,
        };
    }
    let (va, vb) = (var(a, ea.mean, ea.n), var(b, eb.mean, eb.n));
    let se = (va + vb).sqrt();
    let df = if va + vb > 0.0 {
        (va + vb).powi(2) / (va * va / (ea.n as f64 - 1.0) + vb * vb / (eb.n as f64 - 1.0))
    } else {
        (ea.n + eb.n - 2) as f64
    };
    let t = StudentsT::new(0.0, 1.0, df)
        .map(|d| d.inverse_cdf(0.5 + level / 2.0))
        .unwrap_or(f64::NAN);
    Estimate {
        mean,
        lo: mean - t * se,
        hi: mean + t * se,
        n,
    }
}

/// The difference of two shares, k_b/n_b − k_a/n_a, with Newcombe's hybrid
/// score interval (method 10) built from the two [`wilson`] intervals: it
/// stays inside [−1, 1] and behaves with 0 or n successes, unlike the Wald
/// interval.
pub fn share_diff_ci(ka: usize, na: usize, kb: usize, nb: usize, level: f64) -> Estimate {
    let (a, b) = (wilson(ka, na, level), wilson(kb, nb, level));
    let d = b.mean - a.mean;
    Estimate {
        mean: d,
        lo: d - ((b.mean - b.lo).powi(2) + (a.hi - a.mean).powi(2)).sqrt(),
        hi: d + ((b.hi - b.mean).powi(2) + (a.mean - a.lo).powi(2)).sqrt(),
        n: na.min(nb),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_and_newcombe_differences() {
        // a = [1, 2, 3], b = [2, 4, 6]: means 2 and 4; variances of the means
        // 1/3 and 4/3; se = sqrt(5/3); df = (5/3)^2 / ((1/9 + 16/9) / 2) = 50/17
        let d = diff_ci(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0], 0.95);
        let t = StudentsT::new(0.0, 1.0, 50.0 / 17.0)
            .unwrap()
            .inverse_cdf(0.975);
        assert!((d.mean - 2.0).abs() < 1e-12);
        assert!(
            (d.hi - (2.0 + t * (5.0f64 / 3.0).sqrt())).abs() < 1e-9,
            "{d:?}"
        );
        assert!(diff_ci(&[1.0], &[2.0, 3.0], 0.95).lo.is_nan());
        // Newcombe's example (1998, table II, 56/70 vs 48/80): difference
        // 0.2, interval [0.0524, 0.3339]
        let s = share_diff_ci(48, 80, 56, 70, 0.95);
        assert!((s.mean - 0.2).abs() < 1e-12);
        assert!(
            (s.lo - 0.0524).abs() < 5e-4 && (s.hi - 0.3339).abs() < 5e-4,
            "{s:?}"
        );
    }

    #[test]
    fn t_interval_matches_hand_computation() {
        // xs = 1..=5: mean 3, sd = sqrt(2.5), se = sqrt(2.5/5) = 1/sqrt(2); t_{0.975,4} = 2.776445
        let e = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95);
        assert!((e.mean - 3.0).abs() < 1e-12);
        assert!(
            (e.hi - (3.0 + 2.776445 * std::f64::consts::FRAC_1_SQRT_2)).abs() < 1e-4,
            "{e:?}"
        );
    }

    #[test]
    fn last_quarter_rounds_up() {
        // n = 8 → last 2; n = 9 → last ⌈9/4⌉ = 3 (from index 6); n = 3 → last 1
        assert_eq!(last_quarter(&[0, 1, 2, 3, 4, 5, 6, 7]), &[6, 7]);
        assert_eq!(last_quarter_start(9), 6);
        assert_eq!(last_quarter(&[1, 2, 3]), &[3]);
        assert!(last_quarter::<f64>(&[]).is_empty());
    }

    #[test]
    fn median_odd_even_empty() {
        // sorted [1, 2, 7] → 2; sorted [1, 2, 4, 9] → (2 + 4)/2 = 3
        assert_eq!(median(&[7.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[9.0, 1.0, 4.0, 2.0]), 3.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn wilson_matches_hand_computation() {
        // k=8, n=10, z=1.959964: centre = (0.8 + 0.19207)/1.38415 = 0.71674,
        // half = 1.959964*sqrt(0.016 + 0.0096036)/1.38415 = 0.22657
        let e = wilson(8, 10, 0.95);
        assert!((e.lo - 0.49016).abs() < 1e-4, "{e:?}");
        assert!((e.hi - 0.94331).abs() < 1e-4, "{e:?}");
    }

    #[test]
    fn bounded_interval_stays_within_its_bounds_and_is_otherwise_the_t_interval() {
        // two seeds' pass rates 0.95 and 1.0: mean 0.975, se = 0.025,
        // t_{0.975,1} = 12.706: t-interval [0.657, 1.293], cut at 1
        let e = mean_ci_bounded(&[0.95, 1.0], 0.95, 0.0, 1.0);
        assert!((e.mean - 0.975).abs() < 1e-12);
        assert_eq!(e.hi, 1.0);
        assert!((e.lo - (0.975 - 12.7062 * 0.025)).abs() < 1e-3, "{e:?}");
        // |e| of 0.001 and 0.03: t-interval reaches below 0, cut at 0
        assert_eq!(
            mean_ci_bounded(&[0.001, 0.03], 0.95, 0.0, f64::INFINITY).lo,
            0.0
        );
        // inside the bounds: the same as mean_ci
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(mean_ci_bounded(&xs, 0.95, 0.0, 10.0), mean_ci(&xs, 0.95));
        // no finite value: NaN stays NaN, not the bound
        assert!(mean_ci_bounded(&[f64::NAN], 0.95, 0.0, 1.0).lo.is_nan());
    }
}
