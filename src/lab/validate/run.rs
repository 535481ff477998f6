//! The validation's runs, in order (docs/llm-validation.md): the base model
//! (pretrained once if not given), the prediction (before any arm), each
//! seed's state before training, the pilot (`grpo` seed 0), the twins'
//! design, the remaining arms (each resumed from its checkpoints), then the
//! measurement, the scorecard and the report.

use super::arms::{arm_config, arms, LlmArm};
use super::design::{load_or_size, size, slope, Design};
use super::measure::measure;
use super::model::{ValidateOptions, ValidateOutcome};
use super::prediction::load_or_write;
use super::preset::PresetFile;
use super::report::write_report;
use super::scoring::score;
use crate::error::InputError;
use crate::lab::map::measure::series;
use crate::lab::map::model::ArmKind;
use anyhow::{anyhow, Context, Result};
use candle_core::{DType, Device};
use entropic_llm::device::{DeviceChoice, Precision, CUDA_BUILT};
use entropic_llm::grpo::GrpoTrainer;
use entropic_llm::pretrain::pretrain;
use entropic_sim::metrics::Record;
use entropic_sim::report::write_atomic;
use std::path::{Path, PathBuf};

/// The records of a run's `metrics.jsonl`.
pub fn read_records(path: &Path) -> Result<Vec<Record>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| path.display().to_string()))
        .collect()
}

/// The run directory of `arm`'s seed `seed`: `OUT/<arm>/seed-<seed>/`.
pub fn run_dir(out: &Path, arm: &str, seed: u64) -> PathBuf {
    out.join(arm).join(format!("seed-{seed}"))
}

/// Everything the runs share.
struct Ctx<'a> {
    pf: &'a PresetFile,
    file: &'a str,
    base: &'a Path,
    out: &'a Path,
    device: &'a Device,
    dtype: DType,
    quiet: bool,
}

impl Ctx<'_> {
    /// Runs (or resumes) one arm's seed and returns its records.
    fn run(&self, arm: &LlmArm, seed: u64, h0: f64) -> Result<Vec<Record>> {
        let cfg = arm_config(&self.pf.grpo, &self.pf.validate, arm, h0, seed)?;
        let name = &arm.spec.name;
        let dir = run_dir(self.out, name, seed);
        let (mut tr, resumed) =
            GrpoTrainer::open(cfg, self.file, self.base, &dir, self.device, self.dtype)?;
        if !self.quiet {
            eprintln!(
                "arm {name} seed {seed}: {}",
                resumed.map_or("start".to_string(), |s| format!("resuming at step {s}"))
            );
        }
        let quiet = self.quiet;
        tr.run(None, &mut |r: &Record| {
            if !quiet {
                eprintln!(
                    "  {name}/{seed} step {:>4}  H {:.4}  α {}  reward {:.3}",
                    r.step,
                    r.entropy,
                    r.alpha.map_or("-".into(), |a| format!("{a:.3}")),
                    r.reward_mean.unwrap_or(f64::NAN)
                );
            }
        })?;
        read_records(&dir.join("metrics.jsonl"))
    }

    /// Each seed's validation entropy before training (cached in
    /// `OUT/initial_states.json`): a fresh `grpo` trainer's
    /// [`GrpoTrainer::validation`] before its first step, in a scratch
    /// folder deleted afterwards.
    fn initial_states(&self, seeds: usize) -> Result<Vec<f64>> {
        let cache = self.out.join("initial_states.json");
        if let Ok(t) = std::fs::read_to_string(&cache) {
            if let Ok(v) = serde_json::from_str::<Vec<f64>>(&t) {
                if v.len() == seeds {
                    return Ok(v);
                }
            }
        }
        let plain = &arms(1)[0];
        let mut h = Vec::with_capacity(seeds);
        for s in 0..seeds as u64 {
            // any target: the plain arm does not read it
            let cfg = arm_config(&self.pf.grpo, &self.pf.validate, plain, 1.0, s)?;
            let dir = self.out.join("initial-state");
            let _ = std::fs::remove_dir_all(&dir);
            let (tr, _) =
                GrpoTrainer::open(cfg, self.file, self.base, &dir, self.device, self.dtype)?;
            let (_, e) = tr.validation()?;
            let _ = std::fs::remove_dir_all(&dir);
            if !e.is_finite() || e <= 0.0 {
                return Err(anyhow!(
                    "seed {s}: the base model's validation entropy is {e}: no positive target can be set"
                ));
            }
            h.push(e);
        }
        write_atomic(&cache, serde_json::to_string(&h)?.as_bytes())?;
        Ok(h)
    }
}

/// The base checkpoint: `--model`, or pretrained once into `OUT/base/`.
fn base_model(opts: &ValidateOptions, pf: &PresetFile) -> Result<PathBuf> {
    if let Some(m) = &opts.model {
        return Ok(m.clone());
    }
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
    Ok(b)
}

/// Runs the whole validation (module doc) and writes the report.
pub fn validate(opts: &ValidateOptions) -> Result<ValidateOutcome> {
    let file = format!("scenarios/llm-validate-{}.toml", opts.preset.name());
    let pf = PresetFile::parse(&file, opts.preset.text())?;
    let v = &pf.validate;
    let (device, dtype) = resolve_device(v.device, v.dtype)?;
    // folders where nothing can be written are input errors (exit 2)
    // before any work, creating nothing (src/output.rs)
    crate::output::check_creatable(&opts.report, "--report")?;
    crate::output::check_creatable(&opts.out, "--out")?;
    // a --model that is no checkpoint is refused before --out is created
    // (its files checked as loading would meet them, no weights read)
    if let Some(m) = &opts.model {
        entropic_llm::checkpoint::check_dir(m).map_err(|e| InputError(format!("--model {e}")))?;
    }
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("creating {}", opts.out.display()))?;
    let base = base_model(opts, &pf)?;
    let ctx = Ctx {
        pf: &pf,
        file: &file,
        base: &base,
        out: &opts.out,
        device: &device,
        dtype,
        quiet: opts.quiet,
    };
    // 1. the prediction, before any arm
    let predicted = load_or_write(
        &opts.out.join("prediction.json"),
        &pf,
        &base,
        &device,
        dtype,
    )?;
    // 2. the states before training, and H0
    let h_init = ctx.initial_states(v.twin_seeds)?;
    let h0 = h_init.iter().sum::<f64>() / h_init.len() as f64;
    if !opts.quiet {
        eprintln!(
            "H0 {h0:.4} nats (validation entropy before training, mean of {} seeds)",
            h_init.len()
        );
    }
    // 3. the pilot: grpo seed 0
    let all = arms(v.twin_seeds);
    let pilot = ctx.run(&all[0], 0, h0)?;
    // 4. the twins' design, sized from the pilot's drift and σ_m
    let steps = pf.grpo.grpo.steps;
    let every = pf.grpo.grpo.val_every;
    let rows = steps / every + 1;
    let design: Design = load_or_size(&opts.out.join("design.json"), || {
        let h = series(h_init[0], &pilot, steps, every);
        let x: Vec<f64> = (0..rows).map(|j| (j * every) as f64).collect();
        Ok(size(
            predicted.sigma_m,
            slope(&x, &h),
            v.twin_seeds,
            rows,
            every,
        ))
    })?;
    if !opts.quiet {
        eprintln!(
            "design: {} twin seeds, planned detectable g {:.2e} against |b| {:.2e} ({})",
            design.twin_seeds,
            design.planned_detectable,
            design.drift_pilot.abs(),
            design.label
        );
    }
    // 5. every arm
    let run_arms: Vec<LlmArm> = arms(design.twin_seeds);
    let mut runs = Vec::with_capacity(run_arms.len());
    for arm in &run_arms {
        let mut rs = Vec::new();
        for s in 0..arm.spec.seeds as u64 {
            let recs = if arm.spec.kind == ArmKind::Plain && !arm.off_policy && s == 0 {
                pilot.clone()
            } else {
                ctx.run(arm, s, h0)?
            };
            rs.push((s, recs));
        }
        runs.push(rs);
    }
    // 6. measurement, scorecard, report
    let cell = measure(&pf.grpo, &run_arms, &runs, &h_init, h0);
    let card = score(
        &predicted.outcomes,
        predicted.g_over_abs_b,
        &cell,
        &design.label,
    );
    let report = write_report(
        &opts.report,
        opts.preset,
        &pf,
        &predicted,
        &design,
        &run_arms,
        &runs,
        &cell,
        &card,
    )?;
    Ok(ValidateOutcome {
        report,
        cell,
        scorecard: card,
        design,
    })
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
