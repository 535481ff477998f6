//! The map's grid ([`cells`]), each cell's arms ([`arms`]) and the
//! translation of a cell and an arm into the simulator's configuration
//! ([`bandit_for`], [`grpo_for`], [`run_config`]).
use super::model::{
    ArmKind, ArmSpec, CellKind, CellSpec, Gains, PolicyFamily, TailReward, TailShape, TargetLevel,
};
use entropic_proofs::family;
use entropic_sim::bandit::{
    BanditConfig, PolicyKind, TailReward as SimTailReward, TailShape as SimTailShape,
};
use entropic_sim::control::{ControlConfig, Method, SCALE_FREE_GAINS};
use entropic_sim::grpo::GrpoConfig;
use entropic_sim::optim::OptimizerKind;
use entropic_sim::scenario::RunConfig;

/// Adam's learning rate in every Adam cell but the second-rate variation
/// (the sequence scenarios' 0.02).
pub const ADAM_LR: f64 = 0.02;
/// The variation's second Adam learning rate (a quarter of [`ADAM_LR`]).
pub const ADAM_LR_SECOND: f64 = 0.005;
/// Plain SGD's learning rate, calibrated on plain GRPO alone: the rate at
/// which plain GRPO's entropy falls over the horizon about as under Adam.
/// First measured on a `sequence` stand-in (K 32, tail ≈ 0.03, 300 steps,
/// 2 seeds: Adam 0.02 took `entropy_exact` from 0.70 to 0.125 nats; SGD 50
/// to 0.18, SGD 100 to 0.10; 70 lies between), then checked on the
/// per-position policy the map runs (K 256, tail 0.03, the quick map's 100
/// steps and 3 seeds): plain GRPO's last-quarter entropy 0.409 nats under
/// SGD 70 against 0.420 under Adam 0.02, from H0 = 0.622.
pub const SGD_LR: f64 = 70.0;

/// Steps, exact-entropy cadence and seeds of the full map (issue 18: 300
/// steps; 8 seeds for `grpo` and α = ±1, 4 for the others); the exact
/// entropy every step.
const FULL: (usize, usize, usize, usize) = (300, 1, 8, 4);
/// The quick map: far fewer cells, steps and seeds, and the exact entropy
/// every second step (it is most of a step's cost on the stand-in), so
/// `map --quick` runs in well under 90 s on an idle 2-core machine.
const QUICK: (usize, usize, usize, usize) = (100, 2, 3, 2);
/// Factored cells: seeds cut to 4 for every arm before cells were cut
/// (issue 18: "cut seeds there before cells, and say so").
const FACTORED_SEEDS: usize = 4;

/// A per-position cell of length 8 with 2 forks, T = 1, flat tail, wrong
/// on a tail token (the core's settings); the rest varied by the caller.
fn core(
    id: String,
    vocab: usize,
    tail_mass: f64,
    optimizer: OptimizerKind,
    (steps, exact_every, main, other): (usize, usize, usize, usize),
) -> CellSpec {
    CellSpec {
        id,
        kind: CellKind::Core,
        policy: PolicyFamily::PerPosition,
        vocab,
        tail_mass,
        tail_shape: TailShape::Flat,
        tail_reward: TailReward::Zero,
        length: 8,
        forks: 2,
        embed_dim: None,
        temperature: 1.0,
        optimizer,
        lr: match optimizer {
            OptimizerKind::Adam => ADAM_LR,
            OptimizerKind::Sgd => SGD_LR,
        },
        steps,
        exact_every,
        seeds_main: main,
        seeds_other: other,
    }
}

fn opt_name(o: OptimizerKind) -> &'static str {
    match o {
        OptimizerKind::Adam => "adam",
        OptimizerKind::Sgd => "sgd",
    }
}

/// The map's cells, in the order they run (issue 18, item 3):
/// - core: per-position K ∈ {16, 256, 4096} × tail mass {0.005, 0.03, 0.1},
///   length 8 with 2 forks, T = 1, under Adam and under plain SGD (18);
/// - variations at K = 256, tail 0.03, Adam: T = 0.6; lengths 32 and 64
///   with 2 forks (`tail_reward = neutral`); length 20 with 2 forks
///   (det_share 0.9); the second learning rate (5). The issue's sixth,
///   plain SGD instead of Adam, is the core cell `core-sgd-k256-q0.03`
///   and is not run twice;
/// - factored K = 4,096 and 32,768, d = 64 (2);
/// - the paper-like family (item 4, `entropic_proofs::family`,
///   docs/mathematics.md §8.1): one cell, `paper-like`, with the full
///   map's steps and seeds (1).
///
/// `quick`: three cells (core Adam K 16 and K 256 at tail 0.03, core SGD
/// K 256 at tail 0.03) with 100 steps, the exact entropy every second
/// step, 3 seeds for `grpo` and α = ±1 and 2 for the others; their ids start with `quick-` so a quick run never
/// overwrites a full run's cell files.
pub fn cells(quick: bool) -> Vec<CellSpec> {
    use OptimizerKind::{Adam, Sgd};
    if quick {
        return [(16, Adam), (256, Adam), (256, Sgd)]
            .into_iter()
            .map(|(k, o)| {
                core(
                    format!("quick-core-{}-k{k}-q0.03", opt_name(o)),
                    k,
                    0.03,
                    o,
                    QUICK,
                )
            })
            .collect();
    }
    let mut out = Vec::new();
    for o in [Adam, Sgd] {
        for k in [16, 256, 4096] {
            for q in [0.005, 0.03, 0.1] {
                out.push(core(
                    format!("core-{}-k{k}-q{q}", opt_name(o)),
                    k,
                    q,
                    o,
                    FULL,
                ));
            }
        }
    }
    let var = |id: &str| CellSpec {
        kind: CellKind::Variation,
        ..core(format!("var-{id}"), 256, 0.03, Adam, FULL)
    };
    out.push(CellSpec {
        temperature: 0.6,
        ..var("t0.6")
    });
    for l in [32, 64] {
        out.push(CellSpec {
            length: l,
            tail_reward: TailReward::Neutral,
            ..var(&format!("len{l}"))
        });
    }
    out.push(CellSpec {
        length: 20,
        ..var("len20")
    });
    out.push(CellSpec {
        lr: ADAM_LR_SECOND,
        ..var(&format!("lr{ADAM_LR_SECOND}"))
    });
    for k in [4096, 32768] {
        out.push(CellSpec {
            kind: CellKind::Factored,
            policy: PolicyFamily::Factored,
            embed_dim: Some(64),
            seeds_main: FACTORED_SEEDS,
            seeds_other: FACTORED_SEEDS,
            ..core(format!("factored-k{k}"), k, 0.03, Adam, FULL)
        });
    }
    out.push(paper_like_cell("paper-like".into(), FULL));
    out
}

/// The paper-like cell: every composition field copied from
/// [`family::paper_like`], so the cell's JSON states what ran, and
/// [`bandit_for`] / [`grpo_for`] return the family's configuration for it.
fn paper_like_cell(
    id: String,
    (steps, exact_every, main, other): (usize, usize, usize, usize),
) -> CellSpec {
    let (b, g) = family::paper_like();
    CellSpec {
        id,
        kind: CellKind::PaperLike,
        policy: PolicyFamily::PerPosition,
        vocab: b.actions,
        tail_mass: b.tail_mass,
        tail_shape: match b.tail_shape {
            SimTailShape::Flat => TailShape::Flat,
            SimTailShape::Zipf => TailShape::Zipf,
        },
        tail_reward: match b.tail_reward {
            SimTailReward::Zero => TailReward::Zero,
            SimTailReward::Neutral => TailReward::Neutral,
        },
        length: b.length,
        forks: b.forks,
        embed_dim: None,
        temperature: g.temperature,
        optimizer: g.optimizer,
        lr: g.lr,
        steps,
        exact_every,
        seeds_main: main,
        seeds_other: other,
    }
}

/// Candidate tokens at a fork: a real fork is a choice among a handful of
/// continuations, not the whole vocabulary (with all K tokens as
/// candidates a fork at K = 4,096 would carry ≈ 7.8 nats and drown the
/// near-deterministic positions' share of the entropy). The candidates
/// hold `1 − tail_mass` with logits `~ N(0, 1)`; the tail is spread over
/// the other `K − 8` tokens as at the near-deterministic positions.
pub const FORK_WIDTH: usize = 8;

/// The factored cells' embedding dimension when a cell names none.
pub const FACTORED_DIM: usize = 64;

/// Prompts per instance (32 of them per rollout batch).
pub const PROMPTS: usize = 128;

/// The simulator's `[bandit]` table of a cell: the per-position or factored
/// policy (docs/design.md §4, docs/mathematics.md §8) with the cell's
/// vocabulary, length, forks and tail (mass, shape, reward), [`FORK_WIDTH`]
/// candidates per fork with logits `~ N(0, 1)`, initial pass rates per
/// prompt uniform in [0.1, 0.6] (before the near-deterministic tail's
/// failures under `tail_reward = "zero"`), [`PROMPTS`] prompts, and
/// d = [`FACTORED_DIM`] for factored cells. A paper-like cell runs
/// [`family::paper_like`]'s bandit (its own prompts, fork width, pass
/// rates and Zipf exponent) with the cell's composition fields on top, so
/// the cell's JSON stays the truth about what ran.
pub fn bandit_for(cell: &CellSpec) -> BanditConfig {
    let base = match cell.kind {
        CellKind::PaperLike => family::paper_like().0,
        _ => BanditConfig {
            prompts: PROMPTS,
            fork_width: FORK_WIDTH,
            pass_rate: vec![0.1, 0.6],
            logit_scale: 1.0,
            ..BanditConfig::default()
        },
    };
    BanditConfig {
        policy: match cell.policy {
            PolicyFamily::PerPosition => PolicyKind::PerPosition,
            PolicyFamily::Factored => PolicyKind::Factored,
        },
        actions: cell.vocab,
        length: cell.length,
        forks: cell.forks,
        tail_mass: cell.tail_mass,
        tail_shape: match cell.tail_shape {
            TailShape::Flat => SimTailShape::Flat,
            TailShape::Zipf => SimTailShape::Zipf,
        },
        tail_reward: match cell.tail_reward {
            TailReward::Zero => SimTailReward::Zero,
            TailReward::Neutral => SimTailReward::Neutral,
        },
        embed_dim: match cell.policy {
            PolicyFamily::Factored => cell.embed_dim.unwrap_or(FACTORED_DIM),
            PolicyFamily::PerPosition => BanditConfig::default().embed_dim,
        },
        ..base
    }
}

/// A line saying what [`bandit_for`] ran for `cell` (written in every
/// cell's JSON as `ran_as`, and in the report).
pub fn ran_as(cell: &CellSpec) -> String {
    let b = bandit_for(cell);
    let d = match b.policy {
        PolicyKind::Factored => format!(", d {}", b.embed_dim),
        _ => String::new(),
    };
    let d = match cell.kind {
        CellKind::PaperLike => format!(
            "{d}, Zipf exponent {}, {} prompts, initial pass rates {:?}",
            b.tail_zipf, b.prompts, b.pass_rate
        ),
        _ => d,
    };
    format!(
        "{:?}: K {}, length {}, forks {} of width {}, tail {} ({:?}, reward {:?}){d}",
        b.policy,
        b.actions,
        b.length,
        b.forks,
        b.fork_width,
        b.tail_mass,
        b.tail_shape,
        b.tail_reward
    )
}

/// The `[grpo]` configuration of a cell: G = 8, 32 prompts per batch, the
/// cell's temperature, optimizer and learning rate, everything else at
/// its default (a paper-like cell: [`family::paper_like`]'s, with the
/// same three fields from the cell).
pub fn grpo_for(cell: &CellSpec) -> GrpoConfig {
    let base = match cell.kind {
        CellKind::PaperLike => family::paper_like().1,
        _ => GrpoConfig {
            group_size: 8,
            batch_prompts: 32,
            ..GrpoConfig::default()
        },
    };
    GrpoConfig {
        temperature: cell.temperature,
        optimizer: cell.optimizer,
        lr: cell.lr,
        ..base
    }
}

/// The arms of a cell (issue 18, item 3): `grpo`, `alpha-1`, `alpha+1`,
/// `alpha-0.5`, `alpha+0.5`, then `pi-<gains>@<target>` for gains
/// official, scaled and scalefree at targets `half` and `paper`, plus
/// `low` and `high` for official and scaled in core cells; factored cells
/// run only `grpo`, `alpha±1`, `pi-official@half` and `pi-scaled@half`;
/// paper-like cells add `adaptive-entropy` and `clip-cov`. `grpo` and
/// α = ±1 get `seeds_main` seeds, the others `seeds_other`.
pub fn arms(cell: &CellSpec) -> Vec<ArmSpec> {
    let arm = |name: String, kind, seeds| ArmSpec { name, kind, seeds };
    let (main, other) = (cell.seeds_main, cell.seeds_other);
    let mut out = vec![
        arm("grpo".into(), ArmKind::Plain, main),
        arm("alpha-1".into(), ArmKind::Constant(-1.0), main),
        arm("alpha+1".into(), ArmKind::Constant(1.0), main),
    ];
    let pi = |g: Gains, t: TargetLevel| {
        arm(
            format!("pi-{}@{}", g.name(), t.name()),
            ArmKind::Pi(g, t),
            other,
        )
    };
    if cell.kind == CellKind::Factored {
        out.push(pi(Gains::Official, TargetLevel::Half));
        out.push(pi(Gains::Scaled, TargetLevel::Half));
        return out;
    }
    out.push(arm("alpha-0.5".into(), ArmKind::Constant(-0.5), other));
    out.push(arm("alpha+0.5".into(), ArmKind::Constant(0.5), other));
    for g in [Gains::Official, Gains::Scaled, Gains::Scalefree] {
        let wide = cell.kind == CellKind::Core && g != Gains::Scalefree;
        let targets: &[TargetLevel] = if wide {
            &[
                TargetLevel::Low,
                TargetLevel::Half,
                TargetLevel::High,
                TargetLevel::Paper,
            ]
        } else {
            &[TargetLevel::Half, TargetLevel::Paper]
        };
        for &t in targets {
            out.push(pi(g, t));
        }
    }
    if cell.kind == CellKind::PaperLike {
        out.push(arm(
            "adaptive-entropy".into(),
            ArmKind::AdaptiveEntropy,
            other,
        ));
        out.push(arm("clip-cov".into(), ArmKind::ClipCov, other));
    }
    out
}

/// The resolved run of one arm of `cell` whose initial exact entropy is
/// `h0`, with the exact entropy every `exact_every` steps. Constant-α arms are the probe method
/// with the one-pair schedule `[(1, α)]` (α from the first controller
/// step on, held) and `alpha_max = inf` (unclipped); they differ from
/// `grpo` only in α, with the same seeds and RNG streams, so they are its
/// twins. PI arms use the official law's other settings (τ 0.95, |α| ≤ 1,
/// `measure = "current"`). Validated like a scenario file.
pub fn run_config(
    cell: &CellSpec,
    arm: &ArmSpec,
    h0: f64,
) -> Result<RunConfig, entropic_sim::SimError> {
    let half = 0.5 * h0;
    let control = match arm.kind {
        ArmKind::Plain => ControlConfig {
            method: Method::None,
            target: half,
            ..ControlConfig::default()
        },
        ArmKind::Constant(a) => ControlConfig {
            method: Method::Probe,
            target: half,
            probe: vec![(1, a)],
            alpha_max: f64::INFINITY,
            ..ControlConfig::default()
        },
        ArmKind::Pi(g, t) => {
            let (kp, ki, scale_free) = match g {
                Gains::Official => (1.0, 0.01, false),
                Gains::Scaled => (10.0, 0.1, false),
                Gains::Scalefree => (SCALE_FREE_GAINS.0, SCALE_FREE_GAINS.1, true),
            };
            ControlConfig {
                method: Method::Entropic,
                target: t.fraction() * h0,
                kp,
                ki,
                scale_free,
                ..ControlConfig::default()
            }
        }
        ArmKind::AdaptiveEntropy => ControlConfig {
            method: Method::AdaptiveEntropy,
            target: half,
            ..ControlConfig::default()
        },
        ArmKind::ClipCov => ControlConfig {
            method: Method::ClipCov,
            target: half,
            ..ControlConfig::default()
        },
    };
    RunConfig {
        arm: arm.name.clone(),
        sweep: None,
        steps: cell.steps,
        exact_every: cell.exact_every,
        bandit: bandit_for(cell),
        grpo: grpo_for(cell),
        control,
    }
    .validated(&format!("map cell {} arm {}", cell.id, arm.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full grid has the issue's 18 core, 5 variation and 2 factored
    /// cells with distinct ids, the quick grid 3 cells all prefixed
    /// `quick-`; every cell's arms have distinct names and the arm counts
    /// the issue lists.
    #[test]
    fn grids_and_arm_sets_follow_the_issue() {
        let full = cells(false);
        let count = |k: CellKind| full.iter().filter(|c| c.kind == k).count();
        assert_eq!((count(CellKind::Core), count(CellKind::Variation)), (18, 5));
        assert_eq!(count(CellKind::Factored), 2);
        assert_eq!(count(CellKind::PaperLike), 1);
        let mut ids: Vec<&str> = full.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), full.len());
        let quick = cells(true);
        assert!(quick.iter().all(|c| c.id.starts_with("quick-")));
        for c in full.iter().chain(&quick) {
            let a = arms(c);
            let mut names: Vec<&str> = a.iter().map(|x| x.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), a.len(), "{}", c.id);
            let n_pi = a
                .iter()
                .filter(|x| matches!(x.kind, ArmKind::Pi(..)))
                .count();
            let want = match c.kind {
                CellKind::Core => 4 + 4 + 2,
                CellKind::Factored => 2,
                _ => 6,
            };
            assert_eq!(n_pi, want, "{}", c.id);
            for x in &a {
                run_config(c, x, 0.5).expect("valid");
            }
        }
        for c in full.iter().chain(&quick) {
            assert_eq!(c.steps % c.exact_every, 0, "{}", c.id);
        }
        let v = full.iter().find(|c| c.id == "var-len20").expect("len20");
        assert!((v.det_share() - 0.9).abs() < 1e-12);
    }

    /// The paper-like cell runs the family's configuration exactly (its
    /// prompts, fork width, pass rates and Zipf tail, not the core's), it
    /// alone gets `adaptive-entropy` and `clip-cov`, and a core cell's
    /// configuration is not touched by the family.
    #[test]
    fn paper_like_cell_runs_the_family() {
        let full = cells(false);
        let p = full
            .iter()
            .find(|c| c.kind == CellKind::PaperLike)
            .expect("paper-like cell");
        let (b, g) = family::paper_like();
        assert_eq!(bandit_for(p), b);
        assert_eq!(grpo_for(p), g);
        let names: Vec<String> = arms(p).into_iter().map(|a| a.name).collect();
        assert!(names.iter().any(|n| n == "adaptive-entropy"));
        assert!(names.iter().any(|n| n == "clip-cov"));
        assert!(ran_as(p).contains("Zipf exponent 2"), "{}", ran_as(p));
        for c in full.iter().filter(|c| c.kind != CellKind::PaperLike) {
            let cb = bandit_for(c);
            assert_eq!((cb.prompts, cb.fork_width), (PROMPTS, FORK_WIDTH));
            assert_eq!(cb.pass_rate, vec![0.1, 0.6]);
            assert!(!arms(c).iter().any(|a| a.name == "clip-cov"), "{}", c.id);
        }
    }
}
