//! The LLM's arms measured as a cell of the regime map: the same figures,
//! authority estimates and outcome classes (`crate::lab::map::measure`,
//! `crate::lab::map::classify`), on the entropy of the validation prompts
//! (`entropy_exact`, recorded after every `val_every`-th update) instead
//! of the toy's exact entropy.
//!
//! Differences from a toy cell, chosen here:
//! - the state before training is each seed's validation entropy of the
//!   base ([`GrpoTrainer::validation`](entropic_llm::grpo::GrpoTrainer::validation)
//!   before the first step), the same for every arm of one seed; H0 is
//!   their mean over the twin seeds' preset maximum (fixed before any arm
//!   runs);
//! - `pass_final` is the mean validation pass@1 over the last quarter (the
//!   toy's is the exact pass rate);
//! - off-policy arms are measured like on-policy ones; the map has none to
//!   compare them with.
use super::arms::{clip_of, target_of, LlmArm};
use crate::lab::map::classify::classify;
use crate::lab::map::measure::{arm_result, authority, evidence_from, series, Ran};
use crate::lab::map::model::{fin, ArmKind, ArmResult, GainJson, WindowJson};
use entropic_llm::grpo::config::GrpoFile;
use entropic_sim::metrics::Record;
use entropic_sim::runner::SeedRun;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the LLM's arms measured, in the map's terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmCell {
    /// Mean over seeds of the validation entropy before training.
    pub h0: Option<f64>,
    /// Each seed's validation entropy before training.
    pub h_init: Vec<f64>,
    /// Pooled paired g of the twins (per unit α per update).
    pub g: GainJson,
    pub g_by_arm: BTreeMap<String, GainJson>,
    pub g_windows: Vec<WindowJson>,
    /// Drift per update (from `alpha-1`'s plain twins).
    pub b: Option<f64>,
    pub b_ci: [Option<f64>; 2],
    /// `g / |b|`.
    pub g_over_abs_b: Option<f64>,
    pub arms: BTreeMap<String, ArmResult>,
}

/// An LLM record as the map's figures read it: `pass_rate` is the
/// validation pass@1 (present on validation steps only).
fn as_map_record(r: &Record) -> Record {
    Record {
        pass_rate: r.val_pass_at_1,
        ..r.clone()
    }
}

/// Measures the arms: `runs[i]` are arm `i`'s `(seed, records)`.
pub fn measure(
    base: &GrpoFile,
    arms: &[LlmArm],
    runs: &[Vec<(u64, Vec<Record>)>],
    h_init: &[f64],
    h0: f64,
) -> LlmCell {
    let steps = base.grpo.steps;
    let every = base.grpo.val_every.max(1);
    let rows = steps / every + 1;
    let mk = |a: &LlmArm, rs: &[(u64, Vec<Record>)]| Ran {
        spec: a.spec.clone(),
        target: target_of(a, h0),
        clip: clip_of(base, a),
        runs: rs
            .iter()
            .map(|(seed, recs)| SeedRun {
                seed: *seed,
                records: recs.iter().map(as_map_record).collect(),
                error: None,
            })
            .collect(),
    };
    let ran: Vec<Ran> = arms.iter().zip(runs).map(|(a, rs)| mk(a, rs)).collect();
    // the twins: the on-policy plain and constant-α arms
    let twins: Vec<Ran> = arms
        .iter()
        .zip(runs)
        .filter(|(a, _)| {
            !a.off_policy && matches!(a.spec.kind, ArmKind::Plain | ArmKind::Constant(_))
        })
        .map(|(a, rs)| mk(a, rs))
        .collect();
    let hi = |seed: u64| h_init.get(seed as usize).copied().unwrap_or(f64::NAN);
    let au = authority(
        &twins,
        &|r: &SeedRun| series(hi(r.seed), &r.records, steps, every),
        &|a: f64| vec![a * every as f64; rows],
        rows,
        every,
    );
    let grpo_pass = ran
        .iter()
        .zip(arms)
        .find(|(r, a)| r.spec.kind == ArmKind::Plain && !a.off_policy)
        .and_then(|(r, _)| arm_result(r, None).pass_final);
    let mut out = BTreeMap::new();
    for r in &ran {
        let mut a = arm_result(r, grpo_pass);
        if matches!(r.spec.kind, ArmKind::Pi(..)) {
            a.outcome = Some(classify(&evidence_from(
                &au.pooled,
                au.b,
                &au.g_windows,
                &a,
                steps,
            )));
        }
        out.insert(r.spec.name.clone(), a);
    }
    let g_over_abs_b = match (au.pooled.g, au.b) {
        (Some(g), Some(b)) if b != 0.0 => fin(g / b.abs()),
        _ => None,
    };
    LlmCell {
        h0: fin(h0),
        h_init: h_init.to_vec(),
        g: au.pooled,
        g_by_arm: au.g_by_arm,
        g_windows: au.g_windows,
        b: au.b,
        b_ci: au.b_ci,
        g_over_abs_b,
        arms: out,
    }
}
