//! Compute step of `cor-4-4`: per family, the `scope = all` cell and one
//! `scope = high_prob` cell per τ; no verdict or text.

use super::model::{control_at, target};
use crate::closedloop::{self as cl, CellRun, Family, GrpoVary};
use crate::error::ProofsError;
use entropic_sim::control::Scope;

/// The cells of one family.
pub(super) struct FamilyRuns {
    pub fam: Family,
    pub seeds: usize,
    /// `scope = all` (τ irrelevant).
    pub all: CellRun,
    /// `(τ, scope = high_prob at τ)`, in τ order.
    pub hp: Vec<(f64, CellRun)>,
}

/// Runs every cell of the grid.
pub(super) fn compute(
    fams: &[(Family, usize)],
    steps: usize,
    taus: &[f64],
) -> Result<Vec<FamilyRuns>, ProofsError> {
    let mut out = Vec::new();
    for &(fam, seeds) in fams {
        let grpo = GrpoVary::lr(fam.lrs()[0]);
        let control = |scope, tau| control_at(target(fam), scope, tau);
        let lab = |scope: &str, tau: String| {
            [
                ("family", fam.name().to_string()),
                ("scope", scope.to_string()),
                ("tau", tau),
            ]
        };
        let all = cl::run_cell(
            &cl::cell(
                fam,
                steps,
                grpo,
                &control(Scope::All, 0.95),
                &lab("all", "-".into()),
            )?,
            seeds,
        )?;
        let mut hp = Vec::new();
        for &tau in taus {
            let c = cl::run_cell(
                &cl::cell(
                    fam,
                    steps,
                    grpo,
                    &control(Scope::HighProb, tau),
                    &lab("high_prob", format!("{tau:?}")),
                )?,
                seeds,
            )?;
            hp.push((tau, c));
        }
        out.push(FamilyRuns {
            fam,
            seeds,
            all,
            hp,
        });
    }
    Ok(out)
}
