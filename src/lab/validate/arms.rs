//! Each arm's configuration, on the LLM (derived from the preset's
//! `[grpo]`/`[control]`) and on the toy (the same overrides on the toy
//! instance).

use super::preset::{PresetFile, ValidateParams};
use anyhow::{anyhow, Result};
use entropic_llm::grpo::config::GrpoFile;
use entropic_sim::control::{ControlConfig, Method};
use entropic_sim::scenario::RunConfig;

/// The `[control]` / `[grpo]` of `arm` derived from the preset's: `grpo`
/// method none; `p-*` ki = 0; `*-off` lag = `off_lag`, one epoch, one
/// minibatch; `adaptive-entropy` its method; `probe` the schedule with
/// `alpha_max = inf`. `target` is set on every arm (ignored by `none`).
pub fn arm_config(base: &GrpoFile, v: &ValidateParams, arm: &str, target: f64) -> Result<GrpoFile> {
    let mut c = base.clone();
    c.control.target = target;
    c.grpo.lag = 0;
    match arm {
        "grpo" => c.control.method = Method::None,
        "p-on" | "p-off" => {
            c.control.method = Method::Entropic;
            c.control.ki = 0.0;
        }
        "pi-on" | "pi-off" => c.control.method = Method::Entropic,
        "adaptive-entropy" => c.control.method = Method::AdaptiveEntropy,
        "probe" => {
            c.control.method = Method::Probe;
            c.control.probe = v.probe.clone();
            c.control.alpha_max = f64::INFINITY;
            c.grpo.steps = v.probe.iter().map(|p| p.0).sum();
        }
        other => return Err(anyhow!("unknown validation arm `{other}`")),
    }
    if arm.ends_with("-off") {
        c.grpo.lag = v.off_lag;
        c.grpo.ppo_epochs = 1;
        c.grpo.minibatches = 1;
    }
    Ok(c)
}

/// The toy instance: scenarios/onpolicy-pi.toml's sequence-mode bandit and
/// `[grpo]`, run for the preset's `toy_steps`, built as typed structs and
/// validated like a scenario file. Its `[control]` is replaced by the LLM's
/// for every arm.
pub fn toy_base(steps: usize) -> Result<RunConfig> {
    use entropic_sim::bandit::{BanditConfig, PolicyKind};
    use entropic_sim::grpo::GrpoConfig;
    use entropic_sim::optim::OptimizerKind;
    let rc = RunConfig {
        steps,
        exact_every: 10,
        bandit: BanditConfig {
            policy: PolicyKind::Sequence,
            prompts: 128,
            actions: 16,
            length: 8,
            forks: 2,
            logit_scale: 1.0,
            det_margin: 8.0,
            pass_rate: vec![0.1, 0.6],
            ..Default::default()
        },
        grpo: GrpoConfig {
            group_size: 8,
            batch_prompts: 32,
            lr: 0.02,
            optimizer: OptimizerKind::Adam,
            ..Default::default()
        },
        control: ControlConfig {
            method: Method::None,
            ..Default::default()
        },
        ..Default::default()
    };
    Ok(rc.validated("validate-toy")?)
}

/// The toy side's run config of `arm` (the same overrides as [`arm_config`]).
pub(super) fn toy_config(
    base: &RunConfig,
    llm: &GrpoFile,
    v: &ValidateParams,
    arm: &str,
    target: f64,
) -> Result<RunConfig> {
    let c = arm_config(llm, v, arm, target)?;
    let mut rc = base.clone();
    rc.control = c.control;
    rc.grpo.lag = c.grpo.lag;
    if arm == "probe" {
        rc.control.probe = v.toy_probe.clone();
    }
    Ok(rc)
}

/// The α clip of an arm's controller (∞ for arms that record no α clip).
pub(super) fn clip_of(pf: &PresetFile, arm: &str) -> f64 {
    if arm == "probe" {
        f64::INFINITY
    } else {
        pf.grpo.control.alpha_max
    }
}
