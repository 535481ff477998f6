//! Entropy mathematics of docs/mathematics.md §1 and §4: softmax and entropy at a
//! temperature, the entropy gradient, the first-order entropy change of one
//! update under the three update rules, and the token quadrants of Figure 2.

use serde::{Deserialize, Serialize};

/// `softmax(z / t)`.
pub fn softmax(z: &[f64], t: f64) -> Vec<f64> {
    let mut p = vec![0.0; z.len()];
    softmax_into(z, t, &mut p);
    p
}

/// `softmax(z / t)` written into `out` (no allocation); returns the
/// log-partition `logsumexp(z / t)`. Vectorised (`crate::simd`: our own
/// `exp`, sums in fixed lanes), the same bits on every CPU path.
pub fn softmax_into(z: &[f64], t: f64, out: &mut [f64]) -> f64 {
    let inv_t = 1.0 / t;
    let m = crate::simd::max(z) * inv_t;
    let s = crate::simd::exp_affine_sum(z, inv_t, m, out);
    let inv_s = 1.0 / s;
    out.iter_mut().for_each(|x| *x *= inv_s);
    m + s.ln()
}

/// Entropy of `π = softmax(z/t)` from its log-partition `lse` (as returned
/// by [`softmax_into`]): `H = lse − Σ π·z/t`, one pass and no logarithms.
#[inline]
pub fn entropy_from_lse(p: &[f64], z: &[f64], t: f64, lse: f64) -> f64 {
    let s = crate::simd::dot(p, z);
    let h = lse - s / t;
    // clamp rounding below zero, but let NaN through (f64::max would hide it)
    if h < 0.0 {
        0.0
    } else {
        h
    }
}

/// `H(π) = −Σ π log π` in nats (0·log 0 = 0).
pub fn entropy(p: &[f64]) -> f64 {
    -p.iter()
        .filter(|&&x| x > 0.0)
        .map(|&x| x * x.ln())
        .sum::<f64>()
}

/// Entropy of `softmax(z / t)` computed stably as `logsumexp − Σ π·z/t`
/// (docs/peers.md's full-vocab form).
pub fn entropy_of_logits(z: &[f64], t: f64, scratch: &mut [f64]) -> f64 {
    let lse = softmax_into(z, t, scratch);
    entropy_from_lse(scratch, z, t, lse)
}

/// `∂H/∂z_k = −(1/T) π_k (log π_k + H)` (docs/mathematics.md §1), with `π = softmax(z/T)`.
pub fn entropy_grad(p: &[f64], t: f64) -> Vec<f64> {
    let h = entropy(p);
    p.iter()
        .map(|&pk| {
            if pk > 0.0 {
                -(pk * (pk.ln() + h)) / t
            } else {
                0.0
            }
        })
        .collect()
}

/// `c = Σ_j π_j²(log π_j + H) = Cov_π(π, log π) ≥ 0` (docs/mathematics.md §4).
pub fn cov_pi_logpi(p: &[f64]) -> f64 {
    let h = entropy(p);
    p.iter()
        .filter(|&&x| x > 0.0)
        .map(|&x| x * x * (x.ln() + h))
        .sum()
}

/// How a sampled token's loss gradient moves its context's logits (docs/mathematics.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UpdateRule {
    /// True gradient of `A·log π_a`: `Δz = ηA(e_a − π)`.
    #[default]
    Vanilla,
    /// Only the sampled logit moves: `Δz = ηA·e_a`.
    SampledLogit,
    /// Fisher-preconditioned: `Δz = ηA·e_a / π_a`.
    Natural,
}

impl UpdateRule {
    pub const ALL: [UpdateRule; 3] = [
        UpdateRule::Vanilla,
        UpdateRule::SampledLogit,
        UpdateRule::Natural,
    ];
    pub fn name(self) -> &'static str {
        match self {
            UpdateRule::Vanilla => "vanilla",
            UpdateRule::SampledLogit => "sampled_logit",
            UpdateRule::Natural => "natural",
        }
    }
}

/// Logit step `Δz` of one sampled action `a` with advantage `adv` and step
/// size `eta` (T = 1), per docs/mathematics.md §4.
pub fn delta_z(rule: UpdateRule, p: &[f64], a: usize, adv: f64, eta: f64) -> Vec<f64> {
    let mut dz = vec![0.0; p.len()];
    match rule {
        UpdateRule::Vanilla => {
            for (d, &pk) in dz.iter_mut().zip(p) {
                *d = -eta * adv * pk;
            }
            dz[a] += eta * adv;
        }
        UpdateRule::SampledLogit => dz[a] = eta * adv,
        UpdateRule::Natural => dz[a] = eta * adv / p[a],
    }
    dz
}

/// First-order entropy change `∇H·Δz` of one sampled action (T = 1).
/// Closed forms (docs/mathematics.md §4): vanilla `−ηA[π_a(log π_a + H) − c]`,
/// sampled-logit `−ηA·π_a(log π_a + H)`, natural `−ηA(log π_a + H)`.
pub fn predicted_dh(rule: UpdateRule, p: &[f64], a: usize, adv: f64, eta: f64) -> f64 {
    let h = entropy(p);
    let s_a = p[a] * (p[a].ln() + h);
    match rule {
        UpdateRule::Vanilla => -eta * adv * (s_a - cov_pi_logpi(p)),
        UpdateRule::SampledLogit => -eta * adv * s_a,
        UpdateRule::Natural => -eta * adv * (p[a].ln() + h),
    }
}

/// Expected logit step over `a ~ π` with advantage function `adv[j]`
/// (docs/mathematics.md §4): vanilla `ηπ_j(A_j − Ā)`, sampled-logit `ηπ_jA_j`, natural `ηA_j`.
pub fn expected_delta_z(rule: UpdateRule, p: &[f64], adv: &[f64], eta: f64) -> Vec<f64> {
    let abar: f64 = p.iter().zip(adv).map(|(pj, aj)| pj * aj).sum();
    p.iter()
        .zip(adv)
        .map(|(&pj, &aj)| match rule {
            UpdateRule::Vanilla => eta * pj * (aj - abar),
            UpdateRule::SampledLogit => eta * pj * aj,
            UpdateRule::Natural => eta * aj,
        })
        .collect()
}

/// First-order expected entropy change `∇H · E[Δz]` (T = 1).
pub fn expected_dh(rule: UpdateRule, p: &[f64], adv: &[f64], eta: f64) -> f64 {
    let g = entropy_grad(p, 1.0);
    expected_delta_z(rule, p, adv, eta)
        .iter()
        .zip(&g)
        .map(|(d, g)| d * g)
        .sum()
}

/// Corollary 4.1 closed forms (docs/mathematics.md §5): the first-order expected entropy
/// change of a positive-only update (advantage `1 − p` on the correct set C)
/// and of a negative-only update (advantage `−p` off C), `p = π(C)`.
/// Returns `(ΔH₊, ΔH₋)`.
pub fn cor41_closed_form(rule: UpdateRule, p: &[f64], correct: &[bool], eta: f64) -> (f64, f64) {
    let h = entropy(p);
    let pc: f64 = p
        .iter()
        .zip(correct)
        .filter(|(_, &c)| c)
        .map(|(x, _)| x)
        .sum();
    let c = cov_pi_logpi(p);
    let (mut s_c, mut r_c) = (0.0, 0.0);
    for (&pj, &cj) in p.iter().zip(correct) {
        if cj && pj > 0.0 {
            s_c += pj * pj * (pj.ln() + h);
            r_c += pj * (pj.ln() + h);
        }
    }
    match rule {
        UpdateRule::Vanilla => (eta * (1.0 - pc) * (pc * c - s_c), eta * pc * (pc * c - s_c)),
        UpdateRule::Natural => (-eta * (1.0 - pc) * r_c, -eta * pc * r_c),
        UpdateRule::SampledLogit => (-eta * (1.0 - pc) * s_c, eta * pc * (c - s_c)),
    }
}

/// Figure 2's token quadrants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Quadrant {
    /// High-probability positive.
    PUp,
    /// Low-probability positive.
    PDown,
    /// High-probability negative.
    NUp,
    /// Low-probability negative.
    NDown,
}

impl Quadrant {
    pub const ALL: [Quadrant; 4] = [
        Quadrant::PUp,
        Quadrant::PDown,
        Quadrant::NUp,
        Quadrant::NDown,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Quadrant::PUp => "P↑",
            Quadrant::PDown => "P↓",
            Quadrant::NUp => "N↑",
            Quadrant::NDown => "N↓",
        }
    }
}

/// The line between high and low probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ProbLine {
    /// Fixed `τ` (the paper's).
    Tau(f64),
    /// `exp(−H)` of the token's context (the exact line for sampled-logit).
    ExpNegH,
}

/// Quadrant of a token with probability `p_tok`, advantage `adv` (a token
/// with zero advantage is counted negative: it carries no gradient anyway)
/// and context entropy `h`.
pub fn quadrant(p_tok: f64, adv: f64, h: f64, line: ProbLine) -> Quadrant {
    let high = match line {
        ProbLine::Tau(t) => p_tok > t,
        ProbLine::ExpNegH => p_tok > (-h).exp(),
    };
    match (adv > 0.0, high) {
        (true, true) => Quadrant::PUp,
        (true, false) => Quadrant::PDown,
        (false, true) => Quadrant::NUp,
        (false, false) => Quadrant::NDown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits() -> Vec<f64> {
        vec![1.3, -0.2, 0.4, 2.1, -1.7]
    }

    #[test]
    fn entropy_gradient_matches_finite_differences() {
        for &t in &[0.6, 1.0, 1.7] {
            let z = logits();
            let g = entropy_grad(&softmax(&z, t), t);
            for k in 0..z.len() {
                let h = 1e-6;
                let (mut zp, mut zm) = (z.clone(), z.clone());
                zp[k] += h;
                zm[k] -= h;
                let fd = (entropy(&softmax(&zp, t)) - entropy(&softmax(&zm, t))) / (2.0 * h);
                assert!((fd - g[k]).abs() < 1e-8, "t={t} k={k}: fd {fd} vs {}", g[k]);
            }
        }
    }

    #[test]
    fn entropy_of_logits_equals_direct() {
        let z = logits();
        let mut s = vec![0.0; 5];
        for &t in &[0.5, 1.0, 2.0] {
            assert!((entropy_of_logits(&z, t, &mut s) - entropy(&softmax(&z, t))).abs() < 1e-12);
        }
    }

    #[test]
    fn first_order_predictions_match_a_small_finite_step() {
        let z = logits();
        let p = softmax(&z, 1.0);
        let h0 = entropy(&p);
        let eta = 1e-5;
        for rule in UpdateRule::ALL {
            for a in 0..5 {
                for adv in [1.0, -0.7] {
                    let dz = delta_z(rule, &p, a, adv, eta);
                    let z1: Vec<f64> = z.iter().zip(&dz).map(|(a, b)| a + b).collect();
                    let actual = entropy(&softmax(&z1, 1.0)) - h0;
                    let pred = predicted_dh(rule, &p, a, adv, eta);
                    // second-order remainder is O(eta^2 |dz|^2): relative error ~1e-4
                    assert!(
                        (actual - pred).abs() <= 1e-3 * pred.abs() + 1e-13,
                        "{rule:?} a={a}: {actual} vs {pred}"
                    );
                }
            }
        }
    }

    #[test]
    fn expected_change_is_the_mean_of_sampled_changes() {
        let p = softmax(&logits(), 1.0);
        let adv = [0.5, -0.2, 0.1, -0.3, 0.9];
        for rule in UpdateRule::ALL {
            let mean: f64 = (0..5)
                .map(|a| p[a] * predicted_dh(rule, &p, a, adv[a], 0.1))
                .sum();
            assert!(
                (mean - expected_dh(rule, &p, &adv, 0.1)).abs() < 1e-12,
                "{rule:?}"
            );
        }
    }

    #[test]
    fn cor41_closed_forms_match_the_expected_updates() {
        // positive-only: A = 1-p on C, 0 elsewhere; negative-only: A = -p off C.
        let p = softmax(&logits(), 1.0);
        let correct = [false, true, false, true, false];
        let pc = p[1] + p[3];
        let pos: Vec<f64> = correct
            .iter()
            .map(|&c| if c { 1.0 - pc } else { 0.0 })
            .collect();
        let neg: Vec<f64> = correct.iter().map(|&c| if c { 0.0 } else { -pc }).collect();
        for rule in UpdateRule::ALL {
            let (dp, dn) = cor41_closed_form(rule, &p, &correct, 0.1);
            assert!(
                (dp - expected_dh(rule, &p, &pos, 0.1)).abs() < 1e-12,
                "{rule:?} +"
            );
            assert!(
                (dn - expected_dh(rule, &p, &neg, 0.1)).abs() < 1e-12,
                "{rule:?} -"
            );
        }
    }

    #[test]
    fn math_md_counterexamples() {
        // docs/mathematics.md §5: pi = (0.6, 0.2, 0.2), C = {first}: sampled-logit negative-only lowers H.
        let p = [0.6, 0.2, 0.2];
        let (_, dn) = cor41_closed_form(UpdateRule::SampledLogit, &p, &[true, false, false], 1.0);
        assert!(dn < 0.0);
        // pi = (0.46, 0.44, 0.10): raises it.
        let p = [0.46, 0.44, 0.10];
        let (_, dn) = cor41_closed_form(UpdateRule::SampledLogit, &p, &[true, false, false], 1.0);
        assert!(dn > 0.0);
        // rare correct action (0.01, nine at 0.11): positive-only raises H.
        let mut p = vec![0.11; 10];
        p[0] = 0.01;
        let mut c = vec![false; 10];
        c[0] = true;
        let (dp, _) = cor41_closed_form(UpdateRule::SampledLogit, &p, &c, 1.0);
        assert!(dp > 0.0);
    }

    #[test]
    fn quadrants() {
        assert_eq!(quadrant(0.97, 1.0, 0.1, ProbLine::Tau(0.95)), Quadrant::PUp);
        assert_eq!(
            quadrant(0.5, 1.0, 0.1, ProbLine::Tau(0.95)),
            Quadrant::PDown
        );
        assert_eq!(
            quadrant(0.97, -1.0, 0.1, ProbLine::Tau(0.95)),
            Quadrant::NUp
        );
        // exp(-1) = 0.368 < 0.5
        assert_eq!(quadrant(0.5, -1.0, 1.0, ProbLine::ExpNegH), Quadrant::NUp);
        assert_eq!(quadrant(0.3, -1.0, 1.0, ProbLine::ExpNegH), Quadrant::NDown);
    }
}
