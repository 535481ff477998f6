//! Judge step of `cor-4-1`: verdicts, conditions and counterexamples from
//! the computed changes (the rules are fixed in `proofs/cor-4-1.md`).

use super::compute::{correct_indices, GrpoRow, Row};
use super::model::{holds, instance, CLAIM, ETA, GROUP};
use crate::verdict::{ClaimVerdict, Counterexample, Verdict};
use entropic_sim::entropy::UpdateRule;
use serde_json::json;

/// Parts (a) and (b), in report order.
pub(super) const KINDS: [&str; 2] = ["first_order", "finite_step"];

/// The `(ΔH₊, ΔH₋)` of `kind` under rule number `ri`.
pub(super) fn changes(r: &Row, ri: usize, kind: &str) -> (f64, f64) {
    if kind == "first_order" {
        r.by_rule[ri].first
    } else {
        r.by_rule[ri].finite
    }
}

/// Whether the claim held on `r` (rule `ri`, `kind`).
pub(super) fn ok(r: &Row, ri: usize, kind: &str) -> bool {
    let (a, b) = changes(r, ri, kind);
    holds(a, b)
}

/// sampled_logit's condition `S_C > 0 and S_¬C > 0` (docs/mathematics.md §5).
pub(super) fn cond_sl(r: &Row) -> bool {
    r.s.0 > 0.0 && r.s.1 > 0.0
}

/// One verdict of parts (a), (b) with the counts the report shows.
pub(super) struct Expected {
    pub verdict: ClaimVerdict,
    pub k: usize,
    pub pos_ok: usize,
    pub neg_ok: usize,
}

/// The verdict of rule number `ri` in `kind` over `rows`: confirmed when it
/// holds everywhere; for sampled_logit conditional when `S_C > 0 and
/// S_¬C > 0` predicts every outcome (finite step: up to second order);
/// refuted otherwise. The counterexample is the first failing row (rows are
/// in family order, so the smallest).
pub(super) fn expected(rows: &[Row], ri: usize, rule: UpdateRule, kind: &str) -> Expected {
    let n = rows.len();
    let k = rows.iter().filter(|r| ok(r, ri, kind)).count();
    let pos_ok = rows.iter().filter(|r| changes(r, ri, kind).0 < 0.0).count();
    let neg_ok = rows.iter().filter(|r| changes(r, ri, kind).1 > 0.0).count();
    let same = rows
        .iter()
        .filter(|r| {
            let (a, b) = changes(r, ri, kind);
            (a > 0.0 && b > 0.0) || (a < 0.0 && b < 0.0)
        })
        .count();
    let agree = rows
        .iter()
        .filter(|r| ok(r, ri, kind) == cond_sl(r))
        .count();
    // finite-step outcomes that differ from the first order, and how many
    // of them are explained by a second-order remainder at least as large
    // as the first-order term on the side that flipped
    let fo = |r: &Row| r.by_rule[ri].first;
    let fl = |r: &Row| r.by_rule[ri].finite;
    let flips: Vec<&Row> = rows
        .iter()
        .filter(|r| holds(fo(r).0, fo(r).1) != holds(fl(r).0, fl(r).1))
        .collect();
    let explained = flips
        .iter()
        .filter(|r| {
            let ((a, b), (c, d)) = (fo(r), fl(r));
            let side = |f: f64, t: f64, want: f64| {
                (f * want > 0.0) == (t * want > 0.0) || f.abs() <= (t - f).abs()
            };
            side(a, c, -1.0) && side(b, d, 1.0)
        })
        .count();
    let second_order = if kind == "finite_step" {
        format!(
            "; the finite step differs from the first order on {} instances, {explained} of them where the second-order remainder is at least the first-order term",
            flips.len()
        )
    } else {
        String::new()
    };
    let explained_all = kind == "first_order" || explained == flips.len();
    let (verdict, condition) = match rule {
        _ if k == n => (Verdict::Confirmed, "holds on every instance".to_string()),
        UpdateRule::SampledLogit if agree == n => (
            Verdict::Conditional,
            format!(
                "sampled_logit ({kind}): holds exactly when S_C > 0 and S_¬C > 0 \
                 (condition and outcome agree on {agree}/{n} instances); ΔH₊ < 0 on \
                 {pos_ok}/{n}, ΔH₋ > 0 on {neg_ok}/{n}"
            ),
        ),
        UpdateRule::SampledLogit if explained_all => (
            Verdict::Conditional,
            format!(
                "sampled_logit ({kind}): holds when S_C > 0 and S_¬C > 0 up to second \
                 order (condition and outcome agree on {agree}/{n} instances{second_order}); \
                 ΔH₊ < 0 on {pos_ok}/{n}, ΔH₋ > 0 on {neg_ok}/{n}"
            ),
        ),
        UpdateRule::SampledLogit => (
            Verdict::Refuted,
            format!(
                "sampled_logit ({kind}): S_C > 0 and S_¬C > 0 predicts the outcome on \
                 {agree}/{n} instances only{second_order}; ΔH₊ < 0 on {pos_ok}/{n}, ΔH₋ > 0 on {neg_ok}/{n}"
            ),
        ),
        _ => (
            Verdict::Refuted,
            format!(
                "{} ({kind}): no condition on one context: ΔH₊ and ΔH₋ have the same \
                 sign on {same}/{n} instances (docs/mathematics.md §5){second_order}; ΔH₊ < 0 on \
                 {pos_ok}/{n}, ΔH₋ > 0 on {neg_ok}/{n}",
                rule.name()
            ),
        ),
    };
    let mut v = ClaimVerdict::from_counts(
        CLAIM,
        &format!("{}/{kind}", rule.name()),
        verdict,
        condition,
        k,
        n,
    );
    if let Some(r) = rows.iter().find(|r| !ok(r, ri, kind)) {
        let (a, b) = changes(r, ri, kind);
        v.counterexample = Some(Counterexample {
            seed: r.seed,
            instance: instance_json(kind, rule, r),
            observed: format!(
                "ΔH₊ = {a:.3e}, ΔH₋ = {b:.3e} (claim needs ΔH₊ < 0 < ΔH₋); S_C = {:.3e}, S_¬C = {:.3e}",
                r.s.0, r.s.1
            ),
        });
    }
    Expected {
        verdict: v,
        k,
        pos_ok,
        neg_ok,
    }
}

/// One verdict of part (c) with the counts the report shows.
pub(super) struct Grpo {
    pub verdict: ClaimVerdict,
    pub k: usize,
    pub agree: usize,
}

/// Whether the claim held on the mean over groups of `g` (rule `ri`).
pub(super) fn grpo_ok(g: &GrpoRow, ri: usize) -> bool {
    holds(g.by_rule[ri].0.mean, g.by_rule[ri].1.mean)
}

/// The verdict of rule number `ri` in part (c): confirmed when the mean
/// over groups holds on every instance; conditional when the G → ∞
/// condition predicts every instance and it holds on some; refuted
/// otherwise. `grows` is non-empty (docs/mathematics.md §5's example is always first).
pub(super) fn grpo(grows: &[GrpoRow], ri: usize, rule: UpdateRule, groups: usize) -> Grpo {
    let gn = grows.len();
    let k = grows.iter().filter(|g| grpo_ok(g, ri)).count();
    let agree = grows
        .iter()
        .filter(|g| grpo_ok(g, ri) == g.limit_holds[ri])
        .count();
    let unsure = grows
        .iter()
        .filter(|g| {
            let (a, b) = &g.by_rule[ri];
            (a.lo < 0.0 && a.hi > 0.0) || (b.lo < 0.0 && b.hi > 0.0)
        })
        .count();
    let ex = &grows[0].by_rule[ri];
    let limit = match rule {
        UpdateRule::SampledLogit => "G→∞ condition S_C > 0 and S_¬C > 0",
        _ => "G→∞ first order (which never holds for this rule)",
    };
    let condition = format!(
        "{}: sign of the mean over groups agrees with the {limit} on {agree}/{gn} \
         instances ({unsure} with a 95% interval containing 0); {}: ΔH₊ = {:.3e}, ΔH₋ = {:.3e}",
        rule.name(),
        grows[0].label,
        ex.0.mean,
        ex.1.mean
    );
    let verdict = if k == gn {
        Verdict::Confirmed
    } else if k > 0 && agree == gn {
        Verdict::Conditional
    } else {
        Verdict::Refuted
    };
    let mut v = ClaimVerdict::from_counts(
        CLAIM,
        &format!("{}/grpo_g{GROUP}", rule.name()),
        verdict,
        condition,
        k,
        gn,
    );
    if let Some(g) = grows.iter().find(|g| !grpo_ok(g, ri)) {
        let (a, b) = &g.by_rule[ri];
        v.counterexample = Some(Counterexample {
            seed: g.seed,
            instance: json!({
                "kind": "grpo", "rule": rule.name(), "eta": ETA, "label": g.label,
                "logits": g.z, "correct": g.correct, "groups": groups, "group_size": GROUP,
            }),
            observed: format!(
                "mean ΔH₊ = {:.3e} [{:.3e}, {:.3e}], mean ΔH₋ = {:.3e} [{:.3e}, {:.3e}] over {groups} groups",
                a.mean, a.lo, a.hi, b.mean, b.lo, b.hi
            ),
        });
    }
    Grpo {
        verdict: v,
        k,
        agree,
    }
}

/// A counterexample's instance of parts (a), (b): the family and the
/// instance seed (and π, C when K ≤ 16).
fn instance_json(kind: &str, rule: UpdateRule, r: &Row) -> serde_json::Value {
    let inst = instance(&r.fam, r.seed);
    let mut v = json!({
        "kind": kind, "rule": rule.name(), "eta": ETA,
        "family": r.fam,
    });
    if r.fam.k <= 16 {
        v["probs"] = json!(inst.p);
        v["correct"] = json!(correct_indices(&inst.correct));
    }
    v
}
