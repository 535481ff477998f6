//! Judge step of `controllability`: a variant that holds every swept target
//! in every family refutes the claim; otherwise the verdict is conditional,
//! its condition the held targets.

use super::compute::Sweep;
use super::model::{hold_tol, Cell, CellResult, CLAIM, FAMILIES, PAPER_FAMILY};
use crate::error::ProofsError;
use crate::verdict::{ClaimVerdict, Counterexample, Verdict};
use entropic_sim::report::fmt_sig;

/// The variant's name in the report (`official`, `official+anti-windup`, …).
pub(super) fn variant_name(var: &str, aw: bool) -> String {
    if aw {
        format!("{var}+anti-windup")
    } else {
        var.to_string()
    }
}

/// The held targets of one family as the condition shows them.
fn range(here: &[(&Cell, &CellResult)]) -> String {
    let held: Vec<f64> = here
        .iter()
        .filter(|(_, r)| r.held)
        .map(|(c, _)| c.target)
        .collect();
    if held.is_empty() {
        "none".to_string()
    } else {
        format!(
            "{}/{} ({}–{})",
            held.len(),
            here.len(),
            fmt_sig(held.iter().cloned().fold(f64::INFINITY, f64::min), 2),
            fmt_sig(held.iter().cloned().fold(0.0, f64::max), 2)
        )
    }
}

/// The verdict of one (variant, anti-windup) over every family, with its
/// first failing cell as counterexample and the family figures linked.
pub(super) fn verdict(sw: &Sweep, var: &str, aw: bool) -> Result<ClaimVerdict, ProofsError> {
    verdict_over(sw, var, aw, FAMILIES, &variant_name(var, aw))
}

/// The paper-like family's own verdict of one (variant, anti-windup),
/// variant `<variant>/paper-like`; `None` when the sweep has no
/// paper-like cell of that variant (quick mode).
pub(super) fn verdict_paper(
    sw: &Sweep,
    var: &str,
    aw: bool,
) -> Result<Option<ClaimVerdict>, ProofsError> {
    if sw.here(PAPER_FAMILY, var, aw).is_empty() {
        return Ok(None);
    }
    let name = format!("{}/{PAPER_FAMILY}", variant_name(var, aw));
    verdict_over(sw, var, aw, &[PAPER_FAMILY], &name).map(Some)
}

/// The hold tolerance of a failing cell as its counterexample states it:
/// `0.05` as always for the absolute tolerance, three significant digits
/// for the paper-like family's relative one.
fn tol_text(c: &Cell) -> String {
    let tol = hold_tol(&c.family, c.target);
    if c.family == PAPER_FAMILY {
        fmt_sig(tol, 3)
    } else {
        format!("{tol}")
    }
}

/// The verdict of one (variant, anti-windup) over `families`.
fn verdict_over(
    sw: &Sweep,
    var: &str,
    aw: bool,
    families: &[&str],
    variant: &str,
) -> Result<ClaimVerdict, ProofsError> {
    let mut conds = Vec::new();
    let (mut k, mut n) = (0, 0);
    let mut first_fail: Option<(Cell, CellResult)> = None;
    for &fam in families {
        let here = sw.here(fam, var, aw);
        k += here.iter().filter(|(_, r)| r.held).count();
        n += here.len();
        if first_fail.is_none() {
            first_fail = here
                .iter()
                .find(|(_, r)| !r.held)
                .map(|(c, r)| ((*c).clone(), **r));
        }
        conds.push(format!("{fam} {}", range(&here)));
    }
    let verdict = if k == n {
        Verdict::Refuted
    } else {
        Verdict::Conditional
    };
    let cond = format!("held targets (nats): {}", conds.join("; "));
    let mut v = ClaimVerdict::from_counts(CLAIM, variant, verdict, cond, k, n);
    if let Some((c, r)) = first_fail {
        v.counterexample = Some(Counterexample {
            seed: 0,
            instance: serde_json::to_value(&c).map_err(|e| ProofsError::Other(e.to_string()))?,
            observed: format!(
                "final mean |H − H_tar| = {} nats > {} (α at the clip on {:.0}% of steps)",
                fmt_sig(r.final_abs_err, 3),
                tol_text(&c),
                100.0 * r.alpha_saturated
            ),
        });
    }
    v.figures = families
        .iter()
        .map(|f| format!("controllability-{f}.svg"))
        .collect();
    Ok(v)
}
