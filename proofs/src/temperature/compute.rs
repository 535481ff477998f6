//! Compute step of `temperature`: per family and temperature, the PI cell
//! and the plain-GRPO reference; no verdict or text.

use super::model::target;
use crate::closedloop::{self as cl, CellRun, Control, Family, GrpoVary};
use crate::error::ProofsError;

/// The PI and plain-GRPO (`none`) cells of one temperature.
pub(super) struct TempRuns {
    pub t: f64,
    pub pi: CellRun,
    pub none: CellRun,
}

/// The cells of one family, in temperature order.
pub(super) struct FamilyRuns {
    pub fam: Family,
    pub seeds: usize,
    pub temps: Vec<TempRuns>,
}

/// Runs every cell of the grid.
pub(super) fn compute(
    fams: &[(Family, usize)],
    steps: usize,
    temps: &[f64],
) -> Result<Vec<FamilyRuns>, ProofsError> {
    let mut out = Vec::new();
    for &(fam, seeds) in fams {
        let target = target(fam);
        let mut cells = Vec::new();
        for &t in temps {
            let grpo = GrpoVary {
                temperature: Some(t),
                ..GrpoVary::lr(fam.lrs()[0])
            };
            let labels = [("family", fam.name().to_string()), ("T", format!("{t:?}"))];
            let ctl = Control::entropic(target, 1.0, 0.01);
            let pi = cl::run_cell(&cl::cell(fam, steps, grpo, &ctl, &labels)?, seeds)?;
            let none = cl::run_cell(
                &cl::cell(fam, steps, grpo, &Control::none(target), &labels)?,
                seeds,
            )?;
            cells.push(TempRuns { t, pi, none });
        }
        out.push(FamilyRuns {
            fam,
            seeds,
            temps: cells,
        });
    }
    Ok(out)
}
