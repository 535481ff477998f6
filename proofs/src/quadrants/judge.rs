//! Judge step of `fig-2-quadrants`: per (mode, line), each sub-claim's
//! decision from the 95% interval of its mean, the verdict and the
//! counterexample (rules fixed in `proofs/fig-2-quadrants.md`).

use super::compute::{value, Runs};
use super::model::{arm_grpo, Family, CLAIM, SIGNS, STEPS};
use crate::verdict::{ClaimVerdict, Counterexample, Verdict};
use entropic_sim::entropy::Quadrant;
use entropic_sim::report::fmt_sig;
use entropic_sim::stats::mean_ci;
use serde_json::json;

/// One sub-claim (`only q` or `mask q`) on one (mode, line).
pub(super) struct SubClaim {
    pub name: String,
    /// The paper's sign of the value.
    pub sign: f64,
    /// Mean with its 95% interval.
    pub est: String,
    /// Runs with the paper's sign, of `n` non-empty runs.
    pub k: usize,
    pub n: usize,
    pub empty: usize,
    /// `holds`, `opposite`, `undetermined` or `empty` ([`decide`]).
    pub decision: &'static str,
}

/// The verdict of one (mode, line) and its sub-claims.
pub(super) struct Judged {
    pub verdict: ClaimVerdict,
    pub subs: Vec<SubClaim>,
}

/// Judges every sub-claim of `mode` (`sequence` or `tabular`, pooled over
/// its families) on line number `li` (`lname`, `grpo.mask_tau` value
/// `tau`): confirmed when every sub-claim holds, refuted when one is
/// opposite, conditional otherwise. The counterexample is the first failing
/// run, preferring an opposite sub-claim.
pub(super) fn line(
    fams: &[Family],
    runs: &Runs,
    mode: &str,
    li: usize,
    lname: &str,
    tau: f64,
) -> Judged {
    let (mut k_all, mut n_all) = (0usize, 0usize);
    let mut subs = Vec::new();
    let mut cx: Option<(u8, Counterexample)> = None;
    for only in [true, false] {
        for q in 0..4 {
            let sign = expected_sign(q, only);
            let mut vals = Vec::new();
            let mut empty = 0;
            let mut first_fail = None;
            for (fi, seed, o) in runs.iter() {
                if fams[fi].mode != mode {
                    continue;
                }
                let v = value(o, li, q, only);
                if v == 0.0 || !v.is_finite() {
                    empty += 1;
                    continue;
                }
                vals.push(v);
                if v * sign < 0.0 && first_fail.is_none() {
                    first_fail = Some((fi, seed, v));
                }
            }
            let k = vals.iter().filter(|v| **v * sign > 0.0).count();
            k_all += k;
            n_all += vals.len();
            let (d, est) = decide(&vals, sign);
            let name = format!(
                "{} {}",
                if only { "only" } else { "mask" },
                Quadrant::ALL[q].name()
            );
            // prefer a counterexample of an "opposite" sub-claim
            let prio = if d == "opposite" { 2 } else { 1 };
            if let Some((fi, seed, v)) = first_fail {
                if !matches!(&cx, Some((p, _)) if *p >= prio) {
                    let f = &fams[fi];
                    let g = if only {
                        let others: Vec<usize> = (0..4).filter(|&j| j != q).collect();
                        arm_grpo(&f.grpo, &others, tau)
                    } else {
                        arm_grpo(&f.grpo, &[q], tau)
                    };
                    cx = Some((
                        prio,
                        Counterexample {
                            seed,
                            instance: json!({
                                "family": f.label, "sub_claim": name, "steps": STEPS,
                                "expected_sign": sign, "bandit": f.bandit, "grpo": g,
                                "base_grpo": if only { serde_json::Value::Null } else { json!(f.grpo) },
                            }),
                            observed: format!(
                                "{name}: {} = {v:.3e} after {STEPS} steps (paper's sign: {})",
                                if only {
                                    "ΔH"
                                } else {
                                    "ΔH(mask) − ΔH(base)"
                                },
                                if sign > 0.0 { "+" } else { "−" }
                            ),
                        },
                    ));
                }
            }
            subs.push(SubClaim {
                name,
                sign,
                est,
                k,
                n: vals.len(),
                empty,
                decision: d,
            });
        }
    }
    let names = |f: &dyn Fn(&str) -> bool| -> Vec<&str> {
        subs.iter()
            .filter(|s| f(s.decision))
            .map(|s| s.name.as_str())
            .collect()
    };
    let holds = names(&|d| d == "holds");
    let opp = names(&|d| d == "opposite");
    let other = names(&|d| d == "undetermined" || d == "empty");
    let verdict = if holds.len() == subs.len() {
        Verdict::Confirmed
    } else if !opp.is_empty() {
        Verdict::Refuted
    } else {
        Verdict::Conditional
    };
    let condition = format!(
        "{mode}, line {lname}, Adam: holds (mean, 95%) for [{}]; opposite for [{}]; \
         undetermined or empty for [{}]",
        holds.join(", "),
        opp.join(", "),
        other.join(", ")
    );
    let mut v = ClaimVerdict::from_counts(
        CLAIM,
        &format!("{mode}/{lname}"),
        verdict,
        condition,
        k_all,
        n_all,
    );
    v.counterexample = cx.map(|c| c.1);
    Judged { verdict: v, subs }
}

/// The sign the paper predicts for a sub-claim's value.
pub(super) fn expected_sign(q: usize, only: bool) -> f64 {
    if only {
        SIGNS[q]
    } else {
        -SIGNS[q]
    }
}

/// How a sub-claim's mean came out.
pub(super) fn decide(vals: &[f64], sign: f64) -> (&'static str, String) {
    if vals.is_empty() {
        return ("empty", "n/a".into());
    }
    let e = mean_ci(vals, 0.95);
    let s = format!(
        "{} [{}, {}]",
        fmt_sig(e.mean, 3),
        fmt_sig(e.lo, 3),
        fmt_sig(e.hi, 3)
    );
    let (lo, hi) = (e.lo * sign, e.hi * sign);
    let d = if lo.min(hi) > 0.0 {
        "holds"
    } else if lo.max(hi) < 0.0 {
        "opposite"
    } else {
        "undetermined"
    };
    (d, s)
}
