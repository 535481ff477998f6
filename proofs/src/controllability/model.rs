//! The families, variants, sweep cell and single-run pieces of
//! `controllability`, shared by its compute, judge and render steps.

use crate::error::ProofsError;
use crate::verdict::Mode;
use entropic_sim::bandit::{BanditConfig, PolicyKind};
use entropic_sim::control::{ControlConfig, Method, Scope, Threshold, Weighting};
use entropic_sim::figures::run_figures;
use entropic_sim::grpo::GrpoConfig;
use entropic_sim::runner;
use entropic_sim::scenario::RunConfig;
use serde::{Deserialize, Serialize};

/// Claim id.
pub const CLAIM: &str = "controllability";
/// A target is held when the final mean |e| is at most this (nats).
pub const HOLD_TOL: f64 = 0.05;
/// Targets are capped at this share of ln K.
pub const MAX_TARGET_SHARE: f64 = 0.95;

/// Instance families, by name (see [`family`]).
pub(super) const FAMILIES: &[&str] = &["tabular-high", "tabular-low", "sequence"];

/// The paper-like family (docs/mathematics.md §8.1), swept in full mode
/// only, with the official variant (with and without anti-windup) and its
/// own verdicts; a target is held there within [`hold_tol`]'s relative
/// tolerance.
pub const PAPER_FAMILY: &str = "paper-like";

/// The hold tolerance of a family at `target`: [`HOLD_TOL`] nats, or on
/// the paper-like family, whose whole entropy is ≈ 0.13 nats, the relative
/// `0.1·H_tar` (docs/design.md §8's band without its floor).
pub fn hold_tol(family: &str, target: f64) -> f64 {
    if family == PAPER_FAMILY {
        entropic_sim::figures::SETTLE_REL * target
    } else {
        HOLD_TOL
    }
}

/// Weighting variants, by name (see [`variant`]).
pub(super) const VARIANTS: &[&str] = &["official", "plain", "scope-all", "exp-neg-h"];

/// The `[bandit]` and `[grpo]` sections of a family: tabular with initial
/// logit scale 1 (high entropy) or 4 (low), 64 prompts, 16 actions, Adam
/// lr 0.05 on 32 prompts; or the sequence bandit (32 prompts, length 8, two
/// forks) with lr 0.02 on 16 prompts.
fn family(name: &str) -> Result<(BanditConfig, GrpoConfig), ProofsError> {
    let tabular = |logit_scale: f64| BanditConfig {
        policy: PolicyKind::Tabular,
        prompts: 64,
        actions: 16,
        logit_scale,
        ..Default::default()
    };
    let (bandit, batch_prompts, lr) = match name {
        "tabular-high" => (tabular(1.0), 32, 0.05),
        "tabular-low" => (tabular(4.0), 32, 0.05),
        "sequence" => (
            BanditConfig {
                policy: PolicyKind::Sequence,
                prompts: 32,
                actions: 16,
                length: 8,
                forks: 2,
                det_margin: 8.0,
                pass_rate: vec![0.1, 0.6],
                ..Default::default()
            },
            16,
            0.02,
        ),
        PAPER_FAMILY => return Ok(crate::family::paper_like()),
        _ => return Err(unknown(name)),
    };
    let grpo = GrpoConfig {
        batch_prompts,
        lr,
        ..Default::default()
    };
    Ok((bandit, grpo))
}

/// Applies a weighting variant to `c`: `official` (the authors' law),
/// `plain` weighting, `scope-all`, or threshold `exp-neg-h`.
fn variant(name: &str, c: &mut ControlConfig) -> Result<(), ProofsError> {
    match name {
        "official" => {}
        "plain" => c.weighting = Weighting::Plain,
        "scope-all" => c.scope = Scope::All,
        "exp-neg-h" => c.threshold = Threshold::ExpNegH,
        _ => return Err(unknown(name)),
    }
    Ok(())
}

fn unknown(name: &str) -> ProofsError {
    ProofsError::Other(format!("controllability: unknown name {name}"))
}

/// One run of the sweep (also a counterexample's instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub family: String,
    pub variant: String,
    pub anti_windup: bool,
    pub target: f64,
    pub steps: usize,
}

/// What one run showed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellResult {
    pub final_abs_err: f64,
    pub held: bool,
    pub alpha_saturated: f64,
    pub max_abs_integral: f64,
}

pub(super) fn steps(mode: Mode, family: &str) -> usize {
    if family == PAPER_FAMILY {
        return crate::family::HORIZON;
    }
    match (mode, family == "sequence") {
        (Mode::Quick, false) => 150,
        (Mode::Quick, true) => 80,
        (Mode::Full, false) => 400,
        (Mode::Full, true) => 300,
    }
}

pub(super) fn fractions(mode: Mode) -> &'static [f64] {
    match mode {
        Mode::Quick => &[0.3, 0.7, 1.0],
        Mode::Full => &[0.2, 0.4, 0.6, 0.8, 1.0, 1.2],
    }
}

/// The run configuration of a cell: official gains Kp 1, Ki 0.01,
/// |α| ≤ 1, the variant, no exact-entropy evaluation.
fn run_config(c: &Cell) -> Result<RunConfig, ProofsError> {
    let (bandit, grpo) = family(&c.family)?;
    let mut control = ControlConfig {
        method: Method::Entropic,
        kp: 1.0,
        ki: 0.01,
        alpha_max: 1.0,
        target: c.target,
        anti_windup: c.anti_windup,
        ..Default::default()
    };
    variant(&c.variant, &mut control)?;
    RunConfig {
        steps: c.steps,
        exact_every: 0,
        bandit,
        grpo,
        control,
        ..Default::default()
    }
    .validated(CLAIM)
    .map_err(Into::into)
}

/// Runs one cell (seed 0): official gains Kp 1, Ki 0.01, |α| ≤ 1.
pub fn run_cell(c: &Cell) -> Result<CellResult, ProofsError> {
    let rc = run_config(c)?;
    let run = runner::run_seed(&rc, 0, &|| {});
    let fig = run_figures(&run.records, c.target, 1.0);
    let max_abs_integral = run
        .records
        .iter()
        .filter_map(|r| r.integral)
        .fold(0.0f64, |m, i| m.max(i.abs()));
    // a run the simulator stopped (non-finite) did not hold its target
    let held = run.error.is_none() && fig.final_abs_err <= hold_tol(&c.family, c.target);
    Ok(CellResult {
        final_abs_err: fig.final_abs_err,
        held,
        alpha_saturated: fig.alpha_saturated,
        max_abs_integral,
    })
}

/// Initial entropy (what the controller sees at step 0) of a family.
pub(super) fn initial_entropy(family_name: &str) -> Result<f64, ProofsError> {
    let (bandit, grpo) = family(family_name)?;
    let rc = RunConfig {
        steps: 1,
        bandit,
        grpo,
        ..Default::default()
    }
    .validated(CLAIM)?;
    let run = runner::run_seed(&rc, 0, &|| {});
    run.records
        .first()
        .map(|r| r.entropy)
        .ok_or_else(|| ProofsError::Other(format!("controllability: {family_name} gave no step")))
}
