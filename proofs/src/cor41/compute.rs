//! Compute step of `cor-4-1`: the per-instance changes of parts (a), (b)
//! and the per-group changes of part (c), with no verdict or text.

use super::model::{
    finite_step_dh, holds, instance, rank_name, s_terms, split_advantages, Family, CLAIM, ETA,
    GROUP, RANKS,
};
use crate::error::ProofsError;
use crate::verdict::Mode;
use entropic_sim::bandit::{BanditConfig, PolicyKind};
use entropic_sim::control::ControlConfig;
use entropic_sim::entropy::{cor41_closed_form, entropy, softmax, UpdateRule};
use entropic_sim::grpo::{GrpoConfig, TrainOn, Trainer};
use entropic_sim::optim::OptimizerKind;
use entropic_sim::stats::{mean_ci, Estimate};
use rayon::prelude::*;

/// Parts (a), (b) on `per` instances of every family, in family order.
pub(super) fn expected_rows(fams: &[Family], per: usize) -> Vec<Row> {
    (0..fams.len() * per)
        .into_par_iter()
        .map(|j| evaluate(&fams[j / per], seed_of(j / per, j % per)))
        .collect()
}

/// What one instance gave under one rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RuleOutcome {
    pub(super) first: (f64, f64),
    pub(super) finite: (f64, f64),
}

#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) fam: Family,
    pub(super) seed: u64,
    /// `(S_C, S_¬C)`.
    pub(super) s: (f64, f64),
    pub(super) by_rule: [RuleOutcome; 3],
}

/// Parts (a), (b) on one instance: first-order and finite-step changes per rule.
pub(super) fn evaluate(fam: &Family, seed: u64) -> Row {
    let inst = instance(fam, seed);
    let (pos, neg) = split_advantages(&inst.p, &inst.correct);
    let by_rule = UpdateRule::ALL.map(|rule| RuleOutcome {
        first: cor41_closed_form(rule, &inst.p, &inst.correct, ETA),
        finite: (
            finite_step_dh(rule, &inst.z, &pos, ETA),
            finite_step_dh(rule, &inst.z, &neg, ETA),
        ),
    });
    Row {
        fam: *fam,
        seed,
        s: s_terms(&inst.p, &inst.correct),
        by_rule,
    }
}

/// Instance seed of instance `i` of family number `f` (unique, printed).
pub(super) fn seed_of(f: usize, i: usize) -> u64 {
    ((f as u64) << 16) | i as u64
}

/// Instances per family of parts (a), (b).
pub(super) fn instances_per_family(mode: Mode) -> usize {
    match mode {
        Mode::Quick => 3,
        Mode::Full => 40,
    }
}

/// Indices of the members of C.
pub(super) fn correct_indices(c: &[bool]) -> Vec<usize> {
    c.iter()
        .enumerate()
        .filter(|(_, &x)| x)
        .map(|(i, _)| i)
        .collect()
}

/// Part (c): per-group entropy changes of one SGD step of GRPO (G = 8,
/// group-normalised advantages) trained on positive or negative samples
/// only, in the tabular simulator with `groups` copies of the instance (each
/// prompt is one independent group). The loss is a token-mean over
/// `groups·G` tokens, so `lr = η·groups` makes each group's step
/// `Δz = (η/G) Σ_i A_i ∇_z log π(a_i)` (vanilla; other rules alike).
pub fn grpo_group_dh(
    rule: UpdateRule,
    z: &[f64],
    correct: &[usize],
    groups: usize,
    train_on: TrainOn,
    seed: u64,
) -> Result<Vec<f64>, ProofsError> {
    let bandit = BanditConfig {
        policy: PolicyKind::Tabular,
        logits: vec![z.to_vec(); groups],
        correct: vec![correct.to_vec(); groups],
        update_rule: rule,
        ..Default::default()
    };
    let grpo = GrpoConfig {
        group_size: GROUP,
        batch_prompts: groups,
        lr: ETA * groups as f64,
        optimizer: OptimizerKind::Sgd,
        train_on,
        ..Default::default()
    };
    let mut tr = Trainer::new(&bandit, &grpo, &ControlConfig::default(), seed, CLAIM);
    let h0 = entropy(&softmax(z, 1.0));
    tr.step(false)?;
    let k = z.len();
    Ok(tr
        .policy
        .params
        .chunks(k)
        .map(|row| entropy(&softmax(row, 1.0)) - h0)
        .collect())
}

/// One instance of part (c).
#[derive(Debug, Clone)]
pub(super) struct GrpoRow {
    pub(super) label: String,
    pub(super) z: Vec<f64>,
    pub(super) correct: Vec<usize>,
    pub(super) seed: u64,
    /// per rule: (ΔH₊, ΔH₋) mean estimates over groups
    pub(super) by_rule: Vec<(Estimate, Estimate)>,
    /// per rule: the G → ∞ first-order verdict (closed form holds?)
    pub(super) limit_holds: Vec<bool>,
}

/// The instances of part (c): docs/mathematics.md §5's example, then tabular instances.
fn grpo_instances(mode: Mode) -> Vec<(String, Vec<f64>, Vec<usize>, u64)> {
    // docs/mathematics.md §5's example first: π = (.5, .3, .1, .1), C = {first}.
    let ex: Vec<f64> = [0.5f64, 0.3, 0.1, 0.1].iter().map(|x| x.ln()).collect();
    let mut out = vec![(
        "docs/mathematics.md π=(.5,.3,.1,.1) C={0}".to_string(),
        ex,
        vec![0],
        0,
    )];
    let per = match mode {
        Mode::Quick => 1,
        Mode::Full => 2,
    };
    let mut idx = 0u64;
    for k in [3usize, 4, 8, 16] {
        for scale in [1.0, 2.0] {
            for rank in RANKS {
                for _ in 0..per {
                    idx += 1;
                    if mode == Mode::Quick && idx % 4 != 1 {
                        continue;
                    }
                    let fam = Family {
                        k,
                        scale,
                        rank,
                        correct_size: 1,
                    };
                    let inst = instance(&fam, idx);
                    out.push((
                        format!("K={k} scale={scale} {}", rank_name(rank)),
                        inst.z,
                        correct_indices(&inst.correct),
                        idx,
                    ));
                }
            }
        }
    }
    out
}

/// Groups (independent prompts) per instance in part (c).
pub(super) fn grpo_groups(mode: Mode) -> usize {
    match mode {
        Mode::Quick => 512,
        Mode::Full => 4096,
    }
}

/// Part (c) on every instance of `mode`.
pub(super) fn run_grpo(mode: Mode) -> Result<Vec<GrpoRow>, ProofsError> {
    let groups = grpo_groups(mode);
    grpo_instances(mode)
        .into_par_iter()
        .map(|(label, z, correct, seed)| {
            let p = softmax(&z, 1.0);
            let mut cm = vec![false; z.len()];
            correct.iter().for_each(|&a| cm[a] = true);
            let mut by_rule = Vec::new();
            let mut limit_holds = Vec::new();
            for rule in UpdateRule::ALL {
                let dp = grpo_group_dh(rule, &z, &correct, groups, TrainOn::Positive, seed)?;
                let dn = grpo_group_dh(rule, &z, &correct, groups, TrainOn::Negative, seed)?;
                by_rule.push((mean_ci(&dp, 0.95), mean_ci(&dn, 0.95)));
                let (a, b) = cor41_closed_form(rule, &p, &cm, ETA);
                limit_holds.push(holds(a, b));
            }
            Ok(GrpoRow {
                label,
                z,
                correct,
                seed,
                by_rule,
                limit_holds,
            })
        })
        .collect()
}
