//! Compute step of `fig-2-quadrants`: every run of every (family, seed),
//! with no verdict or text.

use super::model::{arm_grpo, run_dh, seeds, Family, CLAIM, LINES, STEPS};
use crate::error::ProofsError;
use crate::verdict::Mode;
use entropic_sim::bandit::BanditConfig;
use entropic_sim::control::ControlConfig;
use entropic_sim::entropy::{quadrant, ProbLine, Quadrant};
use entropic_sim::grpo::{GrpoConfig, Trainer};
use rayon::prelude::*;

/// Every (family index, seed) job and its outcome, in job order (family
/// order, then seed).
pub(super) struct Runs {
    pub(super) jobs: Vec<(usize, u64)>,
    pub(super) outs: Vec<SeedOut>,
}

impl Runs {
    /// `(family index, seed, outcome)` of every job.
    pub(super) fn iter(&self) -> impl Iterator<Item = (usize, u64, &SeedOut)> {
        self.jobs
            .iter()
            .zip(&self.outs)
            .map(|(&(fi, s), o)| (fi, s, o))
    }
}

/// Runs every seed of every family (in parallel, job order kept).
pub(super) fn compute(mode: Mode, fams: &[Family]) -> Result<Runs, ProofsError> {
    let jobs: Vec<(usize, u64)> = fams
        .iter()
        .enumerate()
        .flat_map(|(fi, f)| (0..seeds(mode, f)).map(move |s| (fi, s)))
        .collect();
    let outs: Vec<SeedOut> = jobs
        .par_iter()
        .map(|&(fi, s)| run_seed(&fams[fi], s))
        .collect::<Result<_, _>>()?;
    Ok(Runs { jobs, outs })
}

/// Token counts per quadrant (nonzero advantage only) on each line, over
/// the rollouts of a plain run (a clone of the trainer draws the same
/// rollout as the step that follows), plus the zero-advantage count.
fn occupancy(
    bandit: &BanditConfig,
    grpo: &GrpoConfig,
    seed: u64,
) -> Result<[[u64; 5]; 2], ProofsError> {
    let mut tr = Trainer::new(bandit, grpo, &ControlConfig::default(), seed, CLAIM);
    let mut occ = [[0u64; 5]; 2];
    for _ in 0..STEPS {
        let r = tr.clone().rollout();
        for i in 0..r.adv.len() {
            for (li, &(_, t)) in LINES.iter().enumerate() {
                let line = if t < 0.0 {
                    ProbLine::ExpNegH
                } else {
                    ProbLine::Tau(t)
                };
                if r.adv[i] == 0.0 {
                    occ[li][4] += 1;
                } else {
                    let q = quadrant(r.logp_old[i].exp(), r.adv[i], r.ent_old[i], line);
                    occ[li][Quadrant::ALL.iter().position(|&x| x == q).unwrap_or(0)] += 1;
                }
            }
        }
        tr.step(false)?;
    }
    Ok(occ)
}

/// Everything one seed of one family gave.
#[derive(Debug, Clone)]
pub(super) struct SeedOut {
    pub(super) base: Vec<f64>,
    /// [line][quadrant] → trajectory of only_q
    pub(super) only: Vec<Vec<Vec<f64>>>,
    pub(super) mask: Vec<Vec<Vec<f64>>>,
    /// [line] → token counts per quadrant, then zero-advantage tokens
    pub(super) occ: [[u64; 5]; 2],
}

/// The base run, `only q` and `mask q` for every quadrant and line, and
/// the occupancy, of one seed.
fn run_seed(fam: &Family, seed: u64) -> Result<SeedOut, ProofsError> {
    let base = run_dh(&fam.bandit, &fam.grpo, seed, STEPS)?;
    let mut only = Vec::new();
    let mut mask = Vec::new();
    for &(_, t) in &LINES {
        let mut o = Vec::new();
        let mut m = Vec::new();
        for q in 0..4 {
            let others: Vec<usize> = (0..4).filter(|&j| j != q).collect();
            o.push(run_dh(
                &fam.bandit,
                &arm_grpo(&fam.grpo, &others, t),
                seed,
                STEPS,
            )?);
            m.push(run_dh(
                &fam.bandit,
                &arm_grpo(&fam.grpo, &[q], t),
                seed,
                STEPS,
            )?);
        }
        only.push(o);
        mask.push(m);
    }
    Ok(SeedOut {
        base,
        only,
        mask,
        occ: occupancy(&fam.bandit, &fam.grpo, seed)?,
    })
}

/// Final value of a trajectory.
pub(super) fn last(x: &[f64]) -> f64 {
    x.last().copied().unwrap_or(f64::NAN)
}

/// The measured value of a sub-claim on one seed: `ΔH(only_q)`, or
/// `ΔH(mask_q) − ΔH(base)`.
pub(super) fn value(s: &SeedOut, li: usize, q: usize, only: bool) -> f64 {
    if only {
        last(&s.only[li][q])
    } else {
        last(&s.mask[li][q]) - last(&s.base)
    }
}
