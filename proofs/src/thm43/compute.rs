//! Compute step of `thm-4-3`: the P and PI cells of every (family, lag,
//! epochs) configuration under one measure mode; no verdict or text.

use super::model::{control, Grid};
use crate::closedloop::{self as cl, CellRun, Family, GrpoVary};
use crate::error::ProofsError;

/// The P and PI cells of one configuration (same seeds).
pub(super) struct Config {
    pub fam: Family,
    pub seeds: usize,
    pub lag: usize,
    pub epochs: usize,
    pub p: CellRun,
    pub pi: CellRun,
}

impl Config {
    /// Off-policy: a lag or more than one PPO epoch.
    pub(super) fn off_policy(&self) -> bool {
        self.lag > 0 || self.epochs > 1
    }
}

/// Runs every configuration of `grid` with the controller measuring on
/// `measure`, in (family, lag, epochs) order.
pub(super) fn compute(grid: &Grid, measure: &str) -> Result<Vec<Config>, ProofsError> {
    let (fams, steps, lags, epochs) = grid;
    let mut out = Vec::new();
    for &(fam, seeds) in fams {
        for &d in *lags {
            for &ep in *epochs {
                let grpo = GrpoVary {
                    lag: Some(d),
                    ppo_epochs: Some(ep),
                    ..GrpoVary::lr(fam.lrs()[0])
                };
                let labels = [
                    ("family", fam.name().to_string()),
                    ("measure", measure.to_string()),
                    ("lag", d.to_string()),
                    ("epochs", ep.to_string()),
                ];
                let p = cl::run_cell(
                    &cl::cell(fam, *steps, grpo, &control(0.0, measure), &labels)?,
                    seeds,
                )?;
                let pi = cl::run_cell(
                    &cl::cell(fam, *steps, grpo, &control(0.01, measure), &labels)?,
                    seeds,
                )?;
                out.push(Config {
                    fam,
                    seeds,
                    lag: d,
                    epochs: ep,
                    p,
                    pi,
                });
            }
        }
    }
    Ok(out)
}
