//! Both sides' runs: the base model (pretrained once if not given), its
//! initial entropy, the LLM arms and probe (resumed from their
//! checkpoints), the toy arms and probe; then the report.

use super::arms::{arm_config, toy_base, toy_config};
use super::model::{Side, ValidateOptions, ValidateOutcome};
use super::preset::{PresetFile, ValidateParams, ARMS};
use super::report::write_report;
use crate::error::InputError;
use anyhow::{anyhow, Context, Result};
use candle_core::{DType, Device};
use entropic_llm::device::{DeviceChoice, Precision, CUDA_BUILT};
use entropic_llm::grpo::config::GrpoFile;
use entropic_llm::grpo::GrpoTrainer;
use entropic_llm::pretrain::pretrain;
use entropic_sim::control::{ControlConfig, Method};
use entropic_sim::metrics::Record;
use entropic_sim::report::write_atomic;
use entropic_sim::scenario::RunConfig;
use std::path::Path;

/// The records of a run's `metrics.jsonl`.
pub fn read_records(path: &Path) -> Result<Vec<Record>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| path.display().to_string()))
        .collect()
}

/// Runs (or resumes) the toy arms and probe.
fn run_toy(llm: &GrpoFile, v: &ValidateParams) -> Result<Side> {
    let base = toy_base(v.toy_steps).context("toy scenario")?;
    let run = |rc: &RunConfig| -> Result<Vec<Record>> {
        let r = entropic_sim::runner::run_seed(rc, 0, &|| {});
        match r.error {
            Some(e) => Err(anyhow::Error::new(e).context(format!("toy arm {}", rc.arm))),
            None => Ok(r.records),
        }
    };
    // H0: the entropy of the first record of an uncontrolled one-step run
    // (measured before its update).
    let mut g = base.clone();
    g.arm = "grpo".into();
    g.steps = 1;
    let h0 = run(&g)?
        .first()
        .map(|r| r.entropy)
        .ok_or_else(|| anyhow!("toy grpo arm wrote no record"))?;
    let target = v.target_fraction * h0;
    let mut arms = Vec::new();
    for arm in ARMS {
        let mut rc = toy_config(&base, llm, v, arm, target)?;
        rc.arm = arm.to_string();
        arms.push((arm.to_string(), run(&rc)?));
    }
    let mut rc = toy_config(&base, llm, v, "probe", target)?;
    rc.arm = "probe".into();
    let probe = run(&rc)?;
    Ok(Side {
        initial_entropy: h0,
        target,
        arms,
        probe,
    })
}

/// The base model's initial token-mean entropy: the behaviour entropy of
/// one rollout of `entropy_prompts` prompts (see the module doc).
fn initial_entropy(
    pf: &PresetFile,
    base: &Path,
    out: &Path,
    device: &Device,
    dtype: DType,
) -> Result<f64> {
    let cache = out.join("initial_entropy.json");
    if let Ok(t) = std::fs::read_to_string(&cache) {
        if let Some(h) = serde_json::from_str::<serde_json::Value>(&t)
            .ok()
            .and_then(|v| v.get("entropy").and_then(|h| h.as_f64()))
        {
            return Ok(h);
        }
    }
    let mut c = pf.grpo.clone();
    c.control = ControlConfig {
        method: Method::None,
        measure: entropic_sim::control::Measure::Rollout,
        ..ControlConfig::default()
    };
    c.grpo.batch_prompts = pf.validate.entropy_prompts;
    c.grpo.minibatches = 1;
    c.grpo.ppo_epochs = 1;
    c.grpo.lag = 0;
    c.grpo.steps = 1;
    c.grpo.val_every = 0;
    let dir = out.join("initial-entropy");
    let (mut tr, _) = GrpoTrainer::open(c, "initial entropy", base, &dir, device, dtype)?;
    let rec = tr.step()?;
    let h = rec.entropy;
    if !h.is_finite() || h <= 0.0 {
        return Err(anyhow!(
            "initial entropy of the base model is {h}: no positive target can be set"
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let body = serde_json::json!({"entropy": h, "prompts": pf.validate.entropy_prompts});
    write_atomic(&cache, body.to_string().as_bytes())?;
    Ok(h)
}

/// Runs the whole validation (see the module doc) and writes the report.
pub fn validate(opts: &ValidateOptions) -> Result<ValidateOutcome> {
    let file = format!("scenarios/llm-validate-{}.toml", opts.preset.name());
    let pf = PresetFile::parse(&file, opts.preset.text())?;
    let v = &pf.validate;
    let (device, dtype) = resolve_device(v.device, v.dtype)?;
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("creating {}", opts.out.display()))?;
    let base = match &opts.model {
        Some(m) => m.clone(),
        None => {
            let b = opts.out.join("base");
            if !b.join("task.json").exists() {
                if !opts.quiet {
                    eprintln!("pretraining the base model into {}", b.display());
                }
                let r = pretrain(&pf.scenario, &b, false)?;
                if !opts.quiet {
                    eprintln!(
                        "base: {} steps, pass@1 {:.3}, pass@{} {:.3}",
                        r.steps, r.eval.pass_at_1, r.eval.k, r.eval.pass_at_k
                    );
                }
            }
            b
        }
    };
    let h0 = initial_entropy(&pf, &base, &opts.out, &device, dtype)?;
    let target = v.target_fraction * h0;
    if !opts.quiet {
        eprintln!(
            "initial entropy {h0:.4} nats → target {target:.4} ({} × H0)",
            v.target_fraction
        );
    }
    let mut arms = Vec::new();
    let mut probe = Vec::new();
    for arm in ARMS.iter().copied().chain(["probe"]) {
        let cfg = arm_config(&pf.grpo, v, arm, target)?;
        let dir = opts.out.join(arm);
        let (mut tr, resumed) = GrpoTrainer::open(cfg, &file, &base, &dir, &device, dtype)?;
        if !opts.quiet {
            eprintln!(
                "arm {arm}: {}",
                resumed.map_or("start".to_string(), |s| format!("resuming at step {s}"))
            );
        }
        let quiet = opts.quiet;
        tr.run(None, &mut |r: &Record| {
            if !quiet {
                eprintln!(
                    "  {arm} step {:>4}  H {:.4}  α {}  reward {:.3}",
                    r.step,
                    r.entropy,
                    r.alpha.map_or("-".into(), |a| format!("{a:.3}")),
                    r.reward_mean.unwrap_or(f64::NAN)
                );
            }
        })?;
        let recs = read_records(&dir.join("metrics.jsonl"))?;
        if arm == "probe" {
            probe = recs;
        } else {
            arms.push((arm.to_string(), recs));
        }
    }
    let llm = Side {
        initial_entropy: h0,
        target,
        arms,
        probe,
    };
    let toy = run_toy(&pf.grpo, v)?;
    let report = write_report(&opts.report, opts.preset, &pf, &llm, &toy)?;
    Ok(ValidateOutcome { report, llm, toy })
}

/// The device and dtype named by a preset; `cuda` in a build without the
/// `cuda` feature is an input error saying how to build one.
pub fn resolve_device(device: DeviceChoice, dtype: Precision) -> Result<(Device, DType)> {
    if matches!(device, DeviceChoice::Cuda(_)) && !CUDA_BUILT {
        return Err(InputError(
            "--preset: this preset runs on CUDA, but this binary was built without the `cuda` \
             feature; build with `cargo build --release --features entropic-llm/cuda` on a \
             machine with CUDA (docs/gpu.md), or use --preset cpu"
                .into(),
        )
        .into());
    }
    Ok(entropic_llm::device::resolve(device, dtype)?)
}
