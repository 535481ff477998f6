//! The prediction's scorecard: what the map's nearest cell predicted
//! (`prediction.json`, written before the first arm) against what the LLM
//! measured (docs/llm-validation.md).
//!
//! Rules, fixed with the prediction (before any arm ran):
//! - **outcome classes**, per on-policy PI arm the cell also ran: `match`
//!   when equal; a match of two nulls (`no-authority` or `undetermined` on
//!   both sides) is `uninformative`, not a success; off-policy arms are
//!   reported, not scored (the map has no off-policy cells);
//! - **g/|b|**: `within 2×` when the measured ratio lies in [½, 2]× the
//!   predicted one, else `off by` the factor (or `off` when the measured
//!   gain is not positive); `undetermined` when the
//!   twins' design was labelled so in advance (the measurement cannot
//!   decide) or either side has no ratio.
use super::measure::LlmCell;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Outcome classes that say nothing moved or nothing could be decided.
pub const NULLS: [&str; 2] = ["no-authority", "undetermined"];

/// One scored line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    pub item: String,
    pub predicted: String,
    pub measured: String,
    /// `match`, `mismatch`, `uninformative`, `within 2×`, `off by …×`,
    /// `undetermined`, or `not scored`.
    pub verdict: String,
}

/// The scorecard and its tallies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub lines: Vec<ScoreLine>,
    /// Informative class matches / informative class comparisons.
    pub class_matches: usize,
    pub class_informative: usize,
    pub class_uninformative: usize,
    /// Whether g/|b| is within a factor 2 (None: not decidable).
    pub ratio_within_2: Option<bool>,
}

/// Scores `cell` against the predicted outcome classes (`pi-…` arm →
/// class name) and `g/|b|`; `design_label` is the twins' design label.
pub fn score(
    predicted_outcomes: &BTreeMap<String, String>,
    predicted_ratio: Option<f64>,
    cell: &LlmCell,
    design_label: &str,
) -> Scorecard {
    let mut lines = Vec::new();
    let (mut matches, mut informative, mut uninformative) = (0, 0, 0);
    for (arm, a) in &cell.arms {
        let Some(o) = a.outcome else { continue };
        let measured = o.name().to_string();
        let (predicted, verdict) = if arm.ends_with("-off") {
            (
                "—".to_string(),
                "not scored (no off-policy cells)".to_string(),
            )
        } else {
            match predicted_outcomes.get(arm) {
                None => ("—".into(), "not scored (not in the cell)".into()),
                Some(p) => {
                    let null = |x: &str| NULLS.contains(&x);
                    let v = if null(p) && null(&measured) {
                        uninformative += 1;
                        "uninformative (two nulls)"
                    } else if *p == measured {
                        informative += 1;
                        matches += 1;
                        "match"
                    } else {
                        informative += 1;
                        "mismatch"
                    };
                    (p.clone(), v.to_string())
                }
            }
        };
        lines.push(ScoreLine {
            item: format!("outcome of {arm}"),
            predicted,
            measured,
            verdict,
        });
    }
    let ratio_within_2 = match (predicted_ratio, cell.g_over_abs_b) {
        _ if design_label == "undetermined" => None,
        (Some(p), Some(m)) if p > 0.0 && m.is_finite() => Some(m >= 0.5 * p && m <= 2.0 * p),
        _ => None,
    };
    let f = |x: Option<f64>| x.map_or("n/a".into(), |v| format!("{v:.3}"));
    lines.push(ScoreLine {
        item: "g/|b|".into(),
        predicted: f(predicted_ratio),
        measured: f(cell.g_over_abs_b),
        verdict: match (ratio_within_2, predicted_ratio, cell.g_over_abs_b) {
            (Some(true), _, _) => "within 2×".into(),
            (Some(false), Some(p), Some(m)) if m > 0.0 => {
                format!("off by {:.2}×", (m / p).max(p / m))
            }
            (Some(false), _, _) => "off: measured g/|b| ≤ 0".into(),
            _ if design_label == "undetermined" => "undetermined (labelled in advance)".into(),
            _ => "undetermined (no ratio)".into(),
        },
    });
    Scorecard {
        lines,
        class_matches: matches,
        class_informative: informative,
        class_uninformative: uninformative,
        ratio_within_2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::map::model::{ArmResult, GainJson, Outcome};

    fn arm(o: Outcome) -> ArmResult {
        ArmResult {
            seeds: 1,
            target: Some(0.1),
            h_final: Some(0.1),
            final_rel_err: Some(0.5),
            settling_step: None,
            pass_final: None,
            pass_cost: None,
            alpha_saturated: Some(0.0),
            zero_adv_share: None,
            outcome: Some(o),
        }
    }

    fn cell(ratio: Option<f64>, arms: &[(&str, Outcome)]) -> LlmCell {
        LlmCell {
            h0: Some(0.2),
            h_init: vec![0.2],
            g: GainJson {
                g: None,
                g_ci: [None, None],
                g_detectable: None,
                df: None,
                variance: None,
                error: None,
            },
            g_by_arm: BTreeMap::new(),
            g_windows: vec![],
            b: None,
            b_ci: [None, None],
            g_over_abs_b: ratio,
            arms: arms.iter().map(|(k, o)| (k.to_string(), arm(*o))).collect(),
        }
    }

    /// Two nulls are uninformative, equal non-null classes match, off-policy
    /// arms are not scored, and the ratio is judged within a factor 2
    /// unless the design was labelled undetermined.
    #[test]
    fn scoring_rules() {
        let pred: BTreeMap<String, String> = [
            ("pi-official@half", "no-authority"),
            ("pi-scaled@half", "saturated"),
            ("pi-scaled@paper", "holds"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let c = cell(
            Some(3.0),
            &[
                ("pi-official@half", Outcome::Undetermined),
                ("pi-scaled@half", Outcome::Saturated),
                ("pi-scaled@paper", Outcome::Misses),
                ("pi-scaled@paper-off", Outcome::Misses),
            ],
        );
        let s = score(&pred, Some(2.0), &c, "sized");
        assert_eq!(
            (s.class_matches, s.class_informative, s.class_uninformative),
            (1, 2, 1)
        );
        assert_eq!(s.ratio_within_2, Some(true));
        assert!(s.lines.iter().any(|l| l.verdict.starts_with("not scored")));
        let s = score(&pred, Some(0.5), &c, "sized");
        assert_eq!(s.ratio_within_2, Some(false));
        assert!(s.lines.last().unwrap().verdict.starts_with("off by 6.00"));
        let s = score(&pred, Some(2.0), &cell(Some(-0.1), &[]), "sized");
        assert_eq!(s.ratio_within_2, Some(false));
        assert!(s.lines.last().unwrap().verdict.contains("≤ 0"));
        let s = score(&pred, Some(2.0), &c, "undetermined");
        assert_eq!(s.ratio_within_2, None);
    }
}
