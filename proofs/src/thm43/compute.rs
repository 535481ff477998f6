//! Compute step of `thm-4-3`: the P and PI cells of every (family,
//! staleness configuration) under one measure mode; no verdict or text.

use super::model::{control_at, target, Grid, Stale};
use crate::closedloop::{self as cl, CellRun, Family, GrpoVary};
use crate::error::ProofsError;

/// The P and PI cells of one configuration (same seeds).
pub(super) struct Config {
    pub fam: Family,
    pub seeds: usize,
    pub stale: Stale,
    pub p: CellRun,
    pub pi: CellRun,
}

/// Runs every configuration of `grid` with the controller measuring on
/// `measure`, in (family, configuration) order.
pub(super) fn compute(grid: &Grid, measure: &str) -> Result<Vec<Config>, ProofsError> {
    let mut out = Vec::new();
    for &(fam, seeds) in &grid.fams {
        for &stale in grid.configs {
            let grpo = GrpoVary {
                lag: Some(stale.lag),
                ppo_epochs: Some(stale.epochs),
                minibatches: Some(stale.minibatches),
                ..GrpoVary::lr(fam.lrs()[0])
            };
            let labels = [
                ("family", fam.name().to_string()),
                ("measure", measure.to_string()),
                ("lag", stale.lag.to_string()),
                ("epochs", stale.epochs.to_string()),
                ("minibatches", stale.minibatches.to_string()),
            ];
            let p = cl::run_cell(
                &cl::cell(
                    fam,
                    grid.steps,
                    grpo,
                    &control_at(target(fam), 0.0, measure),
                    &labels,
                )?,
                seeds,
            )?;
            let pi = cl::run_cell(
                &cl::cell(
                    fam,
                    grid.steps,
                    grpo,
                    &control_at(target(fam), 0.01, measure),
                    &labels,
                )?,
                seeds,
            )?;
            out.push(Config {
                fam,
                seeds,
                stale,
                p,
                pi,
            });
        }
    }
    Ok(out)
}
