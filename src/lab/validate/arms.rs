//! The arms of the LLM validation, keyed as the regime map's
//! (`crate::lab::map`): the twins `grpo`, `alpha-1`, `alpha+1` (several
//! seeds), the on-policy PI arms `pi-<gains>@<target>`, and the off-policy
//! arms `grpo-off`, `pi-<gains>@paper-off`.
//!
//! Each arm's config is the preset's `[grpo]`/`[control]` with:
//! - `grpo`: method none; `alpha±1`: the probe method with the one-pair
//!   schedule `[(1, ±1)]` and `alpha_max = ∞` (α from the first controller
//!   step on, unclipped): they differ from `grpo` only in α, with the same
//!   seeds and keyed draws, so they are its twins (as in the map);
//! - `pi-<gains>@<target>`: method entropic with the map's gains (official
//!   Kp 1, Ki 0.01; scaled Kp 10, Ki 0.1; scale-free the default pair of
//!   `entropic_sim::control::SCALE_FREE_GAINS` with `scale_free = true`)
//!   and the target `fraction · H0` (half 0.5, paper 0.10/0.12); the other
//!   settings (τ, clip, measure) are the preset's `[control]`;
//! - `-off`: `off_minibatches` minibatches per rollout batch, one epoch,
//!   lag 0, π_old recomputed once per batch (the authors' off-policy,
//!   docs/mathematics.md §7);
//! - every arm: `val_every` as the preset's (the entropy on the validation
//!   prompts after every `val_every`-th update, the series the figures and
//!   the paired fits read), seed `s` for its `s`-th seed.
use super::preset::ValidateParams;
use crate::lab::map::model::{ArmKind, ArmSpec, Gains, TargetLevel};
use anyhow::{anyhow, Result};
use entropic_llm::grpo::config::{GrpoFile, OldLogp};
use entropic_sim::control::{Method, SCALE_FREE_GAINS};

/// One arm of the validation.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmArm {
    /// As the map's `ArmSpec` (name, kind, seeds); off-policy arms add
    /// `-off` to the name.
    pub spec: ArmSpec,
    pub off_policy: bool,
}

/// The arms in report order; the twins get `twin_seeds` seeds, the others
/// one (seed 0).
pub fn arms(twin_seeds: usize) -> Vec<LlmArm> {
    let a = |name: &str, kind, seeds, off_policy| LlmArm {
        spec: ArmSpec {
            name: name.to_string(),
            kind,
            seeds,
        },
        off_policy,
    };
    let pi = |g: Gains, t: TargetLevel, off: bool| {
        let name = format!(
            "pi-{}@{}{}",
            g.name(),
            t.name(),
            if off { "-off" } else { "" }
        );
        a(&name, ArmKind::Pi(g, t), 1, off)
    };
    vec![
        a("grpo", ArmKind::Plain, twin_seeds, false),
        a("alpha-1", ArmKind::Constant(-1.0), twin_seeds, false),
        a("alpha+1", ArmKind::Constant(1.0), twin_seeds, false),
        pi(Gains::Official, TargetLevel::Half, false),
        pi(Gains::Official, TargetLevel::Paper, false),
        pi(Gains::Scaled, TargetLevel::Half, false),
        pi(Gains::Scaled, TargetLevel::Paper, false),
        pi(Gains::Scalefree, TargetLevel::Paper, false),
        a("grpo-off", ArmKind::Plain, 1, true),
        pi(Gains::Official, TargetLevel::Paper, true),
        pi(Gains::Scaled, TargetLevel::Paper, true),
    ]
}

/// The map's (Kp, Ki, scale_free) of a gains name.
pub fn gains(g: Gains) -> (f64, f64, bool) {
    match g {
        Gains::Official => (1.0, 0.01, false),
        Gains::Scaled => (10.0, 0.1, false),
        Gains::Scalefree => (SCALE_FREE_GAINS.0, SCALE_FREE_GAINS.1, true),
    }
}

/// The target an arm's errors are measured against: its own for PI arms,
/// half of `h0` for the others (as in the map).
pub fn target_of(arm: &LlmArm, h0: f64) -> f64 {
    match arm.spec.kind {
        ArmKind::Pi(_, t) => t.fraction() * h0,
        _ => 0.5 * h0,
    }
}

/// The config of `arm`'s run with seed `seed` (module doc); `h0` is the
/// base's initial entropy on the validation prompts.
pub fn arm_config(
    base: &GrpoFile,
    v: &ValidateParams,
    arm: &LlmArm,
    h0: f64,
    seed: u64,
) -> Result<GrpoFile> {
    let mut c = base.clone();
    c.grpo.seed = seed;
    c.grpo.lag = 0;
    c.control.target = target_of(arm, h0);
    match arm.spec.kind {
        ArmKind::Plain => c.control.method = Method::None,
        ArmKind::Constant(alpha) => {
            c.control.method = Method::Probe;
            c.control.probe = vec![(1, alpha)];
            c.control.alpha_max = f64::INFINITY;
        }
        ArmKind::Pi(g, _) => {
            let (kp, ki, scale_free) = gains(g);
            c.control.method = Method::Entropic;
            c.control.kp = kp;
            c.control.ki = ki;
            c.control.scale_free = scale_free;
        }
        other => return Err(anyhow!("arm kind {other:?} is not run by llm validate")),
    }
    if arm.off_policy {
        c.grpo.minibatches = v.off_minibatches;
        c.grpo.ppo_epochs = 1;
        c.grpo.old_logp = OldLogp::Recompute;
    } else {
        c.grpo.minibatches = 1;
        c.grpo.ppo_epochs = 1;
    }
    Ok(c)
}

/// The α clip of an arm's controller (∞ for the unclipped constant-α arms
/// and the α-free plain arms).
pub fn clip_of(base: &GrpoFile, arm: &LlmArm) -> f64 {
    match arm.spec.kind {
        ArmKind::Pi(..) => base.control.alpha_max,
        _ => f64::INFINITY,
    }
}
