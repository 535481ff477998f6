//! Compute step of `thm-4-2`: per family and learning rate, the probe run
//! and, per target, the P, PI and (first learning rate) plain-GRPO cells;
//! no verdict or text.

use super::model::{control, probe_control, Part};
use crate::closedloop::{self as cl, CellRun, Control, Family, GrpoVary};
use crate::error::ProofsError;

/// The cells of one (family, learning rate, target).
pub(super) struct TargetRuns {
    pub lr: f64,
    pub target: f64,
    pub p: CellRun,
    pub pi: CellRun,
    /// Seeds on which plain GRPO (method none) "reached" the target: run
    /// only at the family's first learning rate, to tell a controlled hold
    /// from the uncontrolled trajectory passing by.
    pub none_reached: Option<usize>,
}

/// The probe of one (family, learning rate) and its targets' cells.
pub(super) struct LrRuns {
    pub probe: CellRun,
    pub targets: Vec<TargetRuns>,
}

/// Every run of one family.
pub(super) struct FamilyRuns {
    pub fam: Family,
    pub seeds: usize,
    pub targets: &'static [f64],
    pub lrs: Vec<LrRuns>,
}

impl FamilyRuns {
    /// Every target's cells with its learning rate's probe, in (lr, target)
    /// order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&CellRun, &TargetRuns)> {
        self.lrs
            .iter()
            .flat_map(|l| l.targets.iter().map(move |t| (&l.probe, t)))
    }
}

/// Runs every cell of the grid (per part: its family's `seeds`, `steps`,
/// first `n_lr` learning rates and `targets`).
pub(super) fn compute(grid: &[Part]) -> Result<Vec<FamilyRuns>, ProofsError> {
    let mut out = Vec::new();
    for &Part {
        fam,
        seeds,
        steps,
        n_lr,
        targets,
    } in grid
    {
        let mut lrs = Vec::new();
        for &lr in &fam.lrs()[..n_lr] {
            let grpo = GrpoVary::lr(lr);
            let probe = cl::run_cell(
                &cl::cell(fam, steps, grpo, &probe_control(steps), &[])?,
                seeds,
            )?;
            let mut cells = Vec::new();
            for &t in targets {
                let labels = [
                    ("family", fam.name().to_string()),
                    ("lr", format!("{lr:?}")),
                    ("target", format!("{t:?}")),
                ];
                let p = cl::run_cell(
                    &cl::cell(fam, steps, grpo, &control(t, false), &labels)?,
                    seeds,
                )?;
                let pi = cl::run_cell(
                    &cl::cell(fam, steps, grpo, &control(t, true), &labels)?,
                    seeds,
                )?;
                let none_reached = if lr == fam.lrs()[0] {
                    let ctl = Control::none(t);
                    let c = cl::run_cell(&cl::cell(fam, steps, grpo, &ctl, &labels)?, seeds)?;
                    Some(c.outcomes.iter().filter(|o| o.reached).count())
                } else {
                    None
                };
                cells.push(TargetRuns {
                    lr,
                    target: t,
                    p,
                    pi,
                    none_reached,
                });
            }
            lrs.push(LrRuns {
                probe,
                targets: cells,
            });
        }
        out.push(FamilyRuns {
            fam,
            seeds,
            targets,
            lrs,
        });
    }
    Ok(out)
}
