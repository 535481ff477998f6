//! `entropic llm validate`: the same controller on the toy and on the LLM, with the linear model's predictions checked on both.
//! (Over 600 lines: the preset, both sides' runs, the report and their
//! tests, moved as one from the LLM crate; splitting them into preset, run
//! and report modules with no cycle between them is left for a later pass.)
//! It lives in the binary's orchestration layer ([`crate::lab`]) because it
//! combines the trainer (`entropic_llm`), the toy (`entropic_sim`) and the
//! claims crate's identification and linear prediction (`entropic_proofs`).
//!
//! From a base checkpoint (given, or pretrained once into `DIR/base/` with
//! the preset's `[model]`/`[task]`/`[pretrain]`/`[eval]` tables), in order:
//! 1. the base model's initial token-mean entropy `H0`: the behaviour
//!    entropy of one rollout of `entropy_prompts` prompts (one uncontrolled
//!    GRPO step's record at step 0 with `measure = rollout`, computed before
//!    any update; the trainer is discarded), cached in
//!    `DIR/initial_entropy.json`;
//! 2. the target `H_tar = target_fraction · H0` (`target_fraction` is a
//!    preset key, 0.5 in every preset, fixed before any result was seen);
//! 3. the arms [`ARMS`] and the `probe` run, each a [`GrpoTrainer`] in
//!    `DIR/<arm>/` (resumed when a checkpoint is there), its config the
//!    preset's `[grpo]`/`[control]` with the overrides of [`arm_config`];
//! 4. the same arms and probe on the toy (the sequence-mode instance of
//!    scenarios/onpolicy-pi.toml, [`toy_base`]) with the same
//!    `[control]`, the target the same fraction of its own initial entropy;
//! 5. the report `llm-validation.md` and its SVGs: per-arm figures
//!    (docs/design.md), the plant `(b, g)` identified from each side's probe
//!    (`entropic_proofs::ident::identify`, delay = 0) and the settling step
//!    each identified plant predicts (`entropic_proofs::linear::predict`)
//!    against the measured one.
//!
//! Choices where the issue is silent: off-policy arms use `lag = off_lag`
//! (2) with one PPO epoch and one minibatch, so there is one controller step
//! per training step and the delay is exactly `off_lag` (that delay is what
//! the prediction uses); P arms are the preset's `[control]` with `ki = 0`;
//! `adaptive-entropy` uses the simulator's defaults for its own keys; the
//! toy is run with one seed (seed 0) per arm, as the LLM is.
use crate::error::InputError;
use anyhow::{anyhow, Context, Result};
use candle_core::{DType, Device};
use entropic_llm::device::{DeviceChoice, Precision, CUDA_BUILT};
use entropic_llm::grpo::config::GrpoFile;
use entropic_llm::grpo::GrpoTrainer;
use entropic_llm::pretrain::{pretrain, LlmScenario};
use entropic_proofs::ident::{identify, Fit};
use entropic_proofs::linear::{design_band, predict, LoopParams};
use entropic_sim::control::{ControlConfig, Method};
use entropic_sim::figures::{run_figures, settling_step_rel, RunFigures};
use entropic_sim::metrics::Record;
use entropic_sim::report::{fmt_sig, line_plot_svg, markdown_table, write_atomic, ArmSeries};
use entropic_sim::scenario::RunConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The compared arms, in report order (the probe is run besides them).
pub const ARMS: [&str; 6] = [
    "grpo",
    "p-on",
    "pi-on",
    "p-off",
    "pi-off",
    "adaptive-entropy",
];

/// A preset: which embedded scenario file drives the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// A few steps per arm on a one-layer model: seconds (tests, CI).
    Smoke,
    /// The tiny warm start of scenarios/llm-tiny.toml on the CPU (≤ 30 min of arms).
    Cpu,
    /// A larger model on CUDA in bf16 (needs the `cuda` feature).
    Gpu,
}

impl Preset {
    /// The preset's name (`smoke`, `cpu`, `gpu`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Smoke => "smoke",
            Preset::Cpu => "cpu",
            Preset::Gpu => "gpu",
        }
    }
    /// The preset file's text (scenarios/llm-validate-<name>.toml, embedded
    /// so the binary runs from any directory).
    pub fn text(self) -> &'static str {
        match self {
            Preset::Smoke => include_str!("../../scenarios/llm-validate-smoke.toml"),
            Preset::Cpu => include_str!("../../scenarios/llm-validate-cpu.toml"),
            Preset::Gpu => include_str!("../../scenarios/llm-validate-gpu.toml"),
        }
    }
}

/// The `[validate]` table of a preset file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateParams {
    /// `H_tar = target_fraction · H0` on each side.
    pub target_fraction: f64,
    /// Prompts of the rollout that measures `H0`.
    pub entropy_prompts: usize,
    /// `lag` of the off-policy arms (≥ 2).
    pub off_lag: usize,
    /// The LLM probe's α schedule `[[steps, alpha], ...]`; its run has the
    /// schedule's total steps.
    pub probe: Vec<(usize, f64)>,
    /// Steps of every toy arm.
    pub toy_steps: usize,
    /// The toy probe's α schedule (run for `toy_steps`).
    pub toy_probe: Vec<(usize, f64)>,
    /// `cpu` (default), `cuda` or `cuda:N`.
    #[serde(default)]
    pub device: DeviceChoice,
    /// `f32` (default) or `bf16`.
    #[serde(default)]
    pub dtype: Precision,
}

/// Type, default, range and meaning of each `[validate]` key (in the
/// struct's order; a test checks that they are the struct's keys).
pub const VALIDATE_KEYS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "target_fraction",
        "float",
        "required",
        "(0, 1)",
        "`H_tar = target_fraction · H0` on each side.",
    ),
    (
        "entropy_prompts",
        "integer",
        "required",
        ">= 1",
        "Prompts of the rollout that measures `H0`.",
    ),
    (
        "off_lag",
        "integer",
        "required",
        ">= 2",
        "`lag` of the off-policy arms.",
    ),
    (
        "probe",
        "array",
        "required",
        "[[steps, α], ...], ≥ 1 step, α finite",
        "The LLM probe's α schedule; its run has the schedule's total steps.",
    ),
    (
        "toy_steps",
        "integer",
        "required",
        ">= 1",
        "Steps of every toy arm.",
    ),
    (
        "toy_probe",
        "array",
        "required",
        "[[steps, α], ...], α finite",
        "The toy probe's α schedule (run for `toy_steps`).",
    ),
    (
        "device",
        "string",
        "\"cpu\"",
        "cpu | cuda | cuda:N",
        "Where the LLM arms run.",
    ),
    (
        "dtype",
        "string",
        "\"f32\"",
        "f32 | bf16 (cuda only)",
        "Precision of the LLM arms.",
    ),
];

/// The `[validate]` part of `entropic llm keys`.
pub fn keys_markdown() -> String {
    let mut s = String::from(
        "\n## `[validate]` (presets of `entropic llm validate`)\n\n\
         | key | type | default | range | meaning |\n|---|---|---|---|---|\n",
    );
    for (k, ty, d, range, meaning) in VALIDATE_KEYS {
        s.push_str(&format!(
            "| `validate.{k}` | {ty} | {d} | {range} | {meaning} |\n"
        ));
    }
    s
}

/// A parsed preset: the base pretrain scenario, the GRPO file and `[validate]`.
#[derive(Debug, Clone)]
pub struct PresetFile {
    pub scenario: LlmScenario,
    pub grpo: GrpoFile,
    pub validate: ValidateParams,
}

impl PresetFile {
    /// Parses a preset's TOML text (`file` names it in errors): `[validate]`
    /// is split off, the rest is read both as an [`LlmScenario`] and as a
    /// [`GrpoFile`]; ranges are checked.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let bad = |msg: String| InputError(format!("{file}: {msg}"));
        let mut root: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            bad(entropic_sim::tomlmsg::from_text(text, &e).sentence())
        })?;
        let v = root
            .remove("validate")
            .ok_or_else(|| bad("missing table `[validate]`".into()))?;
        let validate: ValidateParams = v.try_into().map_err(|e: toml::de::Error| {
            let p = entropic_sim::tomlmsg::from_value(&e);
            let key = p.key.map_or("validate".into(), |k| format!("validate.{k}"));
            bad(format!("key `{key}`: {}", p.msg))
        })?;
        let rest = toml::to_string(&root).context("re-serialising the preset")?;
        let scenario: LlmScenario = toml::from_str(&rest).map_err(|e| {
            let mut p = entropic_sim::tomlmsg::from_text(&rest, &e);
            p.line = None; // `rest` is re-serialised: its lines are not the file's
            bad(p.sentence())
        })?;
        scenario.validate(file)?;
        let grpo = GrpoFile::parse_reserialised(file, &rest)?;
        let f = validate.target_fraction;
        if !(f > 0.0 && f < 1.0) {
            return Err(bad(format!(
                "key `validate.target_fraction`: must be in (0, 1) (got {f})"
            ))
            .into());
        }
        if validate.off_lag < 2 {
            return Err(bad(format!(
                "key `validate.off_lag`: must be at least 2 (got {})",
                validate.off_lag
            ))
            .into());
        }
        if validate.entropy_prompts == 0 || validate.toy_steps == 0 {
            return Err(bad(
                "keys `validate.entropy_prompts`, `validate.toy_steps`: must be at least 1".into(),
            )
            .into());
        }
        if validate.probe.iter().map(|p| p.0).sum::<usize>() == 0 {
            return Err(bad("key `validate.probe`: needs at least one step".into()).into());
        }
        if validate
            .probe
            .iter()
            .chain(&validate.toy_probe)
            .any(|p| !p.1.is_finite())
        {
            return Err(bad(
                "keys `validate.probe`, `validate.toy_probe`: α must be finite".into(),
            )
            .into());
        }
        Ok(PresetFile {
            scenario,
            grpo,
            validate,
        })
    }
}

/// Options of one `entropic llm validate` call.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    pub preset: Preset,
    /// Base checkpoint; `None`: pretrain into `out/base/` (reused if there).
    pub model: Option<PathBuf>,
    /// Run directory (default `runs/validate-<preset>/`).
    pub out: PathBuf,
    /// Directory of `llm-validation.md` and its SVGs (default `reports/`).
    pub report: PathBuf,
    /// No per-step lines on stderr.
    pub quiet: bool,
}

/// What one side (toy or LLM) produced: per-arm records, the probe, targets.
#[derive(Debug, Clone)]
pub struct Side {
    pub initial_entropy: f64,
    pub target: f64,
    /// `(arm, records)` in [`ARMS`] order.
    pub arms: Vec<(String, Vec<Record>)>,
    pub probe: Vec<Record>,
}

/// The paths and figures a validation wrote.
#[derive(Debug, Clone)]
pub struct ValidateOutcome {
    pub report: PathBuf,
    /// Both sides' records (read by the tests; the command prints the path).
    #[allow(dead_code)]
    pub llm: Side,
    #[allow(dead_code)]
    pub toy: Side,
}

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
fn toy_config(
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

/// The α clip of an arm's controller (∞ for arms that record no α clip).
fn clip_of(pf: &PresetFile, arm: &str) -> f64 {
    if arm == "probe" {
        f64::INFINITY
    } else {
        pf.grpo.control.alpha_max
    }
}

/// One identified plant or the reason it could not be identified.
struct Plant {
    fit: std::result::Result<Fit, String>,
}

fn identify_side(probe: &[Record]) -> Plant {
    let h: Vec<f64> = probe.iter().map(|r| r.entropy).collect();
    let a: Vec<f64> = probe.iter().map(|r| r.alpha.unwrap_or(f64::NAN)).collect();
    Plant {
        fit: identify(&h, &a, 0).map_err(|e| e.to_string()),
    }
}

/// The settling steps the identified plant predicts for a P/PI arm, with
/// docs/design.md §8's band and with the relative band [`REL_BAND`].
fn predicted_settling(
    plant: &Plant,
    c: &ControlConfig,
    delay: usize,
    e0: f64,
    steps: usize,
) -> [String; 2] {
    let Ok(Fit { b, g, .. }) = plant.fit else {
        return ["n/a (no plant)".into(), "n/a (no plant)".into()];
    };
    let p = LoopParams {
        gain: g,
        delay,
        kp: c.kp,
        ki: c.ki,
        drift: b,
        form: c.integral_form,
    };
    let bands = [design_band(c.target), REL_BAND * c.target];
    let cells: Vec<String> = bands
        .iter()
        .map(|&band| match predict(&p, e0, band, steps, c.alpha_max) {
            Ok(pr) => pr.settling_step.map_or("never".into(), |s| s.to_string()),
            Err(e) => format!("n/a ({e})"),
        })
        .collect();
    [cells[0].clone(), cells[1].clone()]
}

/// The relative settling band of the extra columns: |e| ≤ 10 % of the
/// target, without docs/design.md §8's 0.05-nat floor, which is wider than the
/// tiny LLM's whole token-mean entropy (so its docs/design.md §8 settling step is
/// 0 for every arm, even plain GRPO).
const REL_BAND: f64 = 0.1;

fn f(x: f64) -> String {
    if x.is_finite() {
        fmt_sig(x, 3)
    } else {
        "n/a".into()
    }
}

/// Per-arm figure rows of one side.
fn figure_rows(
    side_name: &str,
    side: &Side,
    pf: &PresetFile,
    plant: &Plant,
    v: &ValidateParams,
) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (arm, recs) in &side.arms {
        let fig = run_figures(recs, side.target, clip_of(pf, arm));
        let predicted = match arm.as_str() {
            "p-on" | "pi-on" | "p-off" | "pi-off" => {
                let c = arm_config(&pf.grpo, v, arm, side.target)
                    .map(|c| c.control)
                    .unwrap_or_default();
                let delay = if arm.ends_with("-off") { v.off_lag } else { 0 };
                let e0 = side.initial_entropy - side.target;
                predicted_settling(plant, &c, delay, e0, recs.len().max(1))
            }
            _ => ["—".into(), "—".into()],
        };
        let rel = settling_step_rel(recs, side.target, REL_BAND);
        rows.push(row(side_name, arm, &fig, predicted, rel));
    }
    rows
}

fn row(
    side: &str,
    arm: &str,
    fig: &RunFigures,
    predicted: [String; 2],
    rel: Option<usize>,
) -> Vec<String> {
    let [pred_design, pred_rel] = predicted;
    let range = match (fig.alpha_min, fig.alpha_max) {
        (Some(a), Some(b)) => format!("[{}, {}]", f(a), f(b)),
        _ => "—".into(),
    };
    vec![
        side.to_string(),
        arm.to_string(),
        f(fig.initial_entropy),
        f(fig.final_entropy),
        f(fig.final_abs_err),
        f(fig.final_rel_err),
        fig.settling_step.map_or("never".into(), |s| s.to_string()),
        pred_design,
        rel.map_or("never".into(), |s| s.to_string()),
        pred_rel,
        f(fig.overshoot),
        range,
        f(fig.alpha_saturated),
    ]
}

fn plant_cells(p: &Plant) -> (String, String) {
    match &p.fit {
        Ok(fit) => (
            format!("{} [{}, {}]", f(fit.b), f(fit.b_ci.0), f(fit.b_ci.1)),
            format!("{} [{}, {}]", f(fit.g), f(fit.g_ci.0), f(fit.g_ci.1)),
        ),
        Err(e) => (format!("not identified: {e}"), "—".into()),
    }
}

/// One arm's records as the plots' one "seed".
type Seeds = Vec<(u64, Vec<Record>)>;
/// (file suffix, title, y label, field, draw the target line).
type Plot = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Record) -> Option<f64>,
    bool,
);

/// Writes `llm-validation.md` and its SVGs into `dir`; returns the report path.
fn write_report(
    dir: &Path,
    preset: Preset,
    pf: &PresetFile,
    llm: &Side,
    toy: &Side,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let v = &pf.validate;
    let per_seed: Vec<(String, Seeds)> = llm
        .arms
        .iter()
        .chain([&("probe".to_string(), llm.probe.clone())])
        .map(|(a, r)| (a.clone(), vec![(0u64, r.clone())]))
        .collect();
    let series: Vec<ArmSeries> = per_seed
        .iter()
        .map(|(a, s)| ArmSeries {
            label: a.clone(),
            per_seed: s,
        })
        .collect();
    let stem = format!("llm-validation-{}", preset.name());
    let plots: [Plot; 5] = [
        (
            "entropy",
            "token-mean entropy (controller's view)",
            "nats",
            |r| Some(r.entropy),
            true,
        ),
        ("alpha", "α", "α", |r| r.alpha, false),
        (
            "hp_frac",
            "high-probability token share",
            "|HP|/N",
            |r| r.hp_frac,
            false,
        ),
        (
            "reward",
            "training reward",
            "mean reward",
            |r| r.reward_mean,
            false,
        ),
        (
            "val_pass",
            "validation pass@1",
            "pass@1",
            |r| r.val_pass_at_1,
            false,
        ),
    ];
    let mut md = String::new();
    md.push_str(&format!(
        "# LLM validation (`entropic llm validate --preset {}`)\n\n",
        preset.name()
    ));
    md.push_str(&format!(
        "Target: {} × the base model's initial token-mean entropy (fraction fixed before any result). \
         LLM: H0 = {} nats → target {} nats. Toy (sequence-mode bandit of scenarios/onpolicy-pi.toml, \
         seed 0): H0 = {} → target {}. Controller settings on both sides: the preset's `[control]` \
         (kp {}, ki {}, τ {}, |α| ≤ {}, measure {:?}); P arms ki = 0; off-policy arms lag = {}. \
         LLM arms: {} steps of {} prompts × {}; toy arms: {} steps.\n\n",
        v.target_fraction,
        f(llm.initial_entropy),
        f(llm.target),
        f(toy.initial_entropy),
        f(toy.target),
        pf.grpo.control.kp,
        pf.grpo.control.ki,
        pf.grpo.control.tau,
        pf.grpo.control.alpha_max,
        pf.grpo.control.measure,
        v.off_lag,
        pf.grpo.grpo.steps,
        pf.grpo.grpo.batch_prompts,
        pf.grpo.grpo.group_size,
        v.toy_steps,
    ));
    let secs: f64 = llm
        .arms
        .iter()
        .map(|(_, r)| r)
        .chain([&llm.probe])
        .flat_map(|r| r.iter().filter_map(|x| x.seconds))
        .sum();
    md.push_str(&format!(
        "LLM training time, all arms and the probe: {:.1} minutes (sum of the per-step `seconds` of \
         the records, validation passes included, checkpoint writes not).\n\n",
        secs / 60.0
    ));
    md.push_str("## Plots (LLM, one line per arm)\n\n");
    for (name, title, y, field, hline) in plots {
        let file = format!("{stem}-{name}.svg");
        line_plot_svg(
            &dir.join(&file),
            title,
            y,
            &series,
            field,
            hline.then_some((llm.target, "target")),
        )?;
        md.push_str(&format!("![{title}]({file})\n\n"));
    }
    let lp = identify_side(&llm.probe);
    let tp = identify_side(&toy.probe);
    md.push_str("## Figures per arm, toy vs LLM\n\n");
    md.push_str(
        "docs/design.md §8 figures on `entropy`; plain GRPO's are relative to the controlled arms' target. \
         `predicted settling` is the settling step of the linear loop with the plant identified \
         from that side's probe (delay 0 on-policy, `off_lag` off-policy) and the arm's gains, \
         over the arm's horizon. `settling ±10%` and `predicted ±10%` are the same with the band \
         |e| ≤ 0.1·H_tar and no 0.05-nat floor: docs/design.md §8's floor is wider than the tiny LLM's whole \
         entropy, so its `settling_step` is 0 for every LLM arm, plain GRPO included.\n\n",
    );
    let mut rows = figure_rows("toy", toy, pf, &tp, v);
    rows.extend(figure_rows("LLM", llm, pf, &lp, v));
    md.push_str(&markdown_table(
        &[
            "side",
            "arm",
            "H initial",
            "H final",
            "final_abs_err",
            "final_rel_err",
            "settling_step",
            "predicted settling",
            "settling ±10%",
            "predicted ±10%",
            "overshoot",
            "α range",
            "α saturated",
        ],
        &rows,
    ));
    md.push_str("\n## Plant identified from each side's probe\n\n");
    md.push_str(&format!(
        "Fit of ΔH_t = b − g·α_t (`entropic_proofs::ident::identify`, d = 0, 95% intervals). \
         Probe schedules: LLM {:?}, toy {:?} (`[steps, α]`, α unclipped).\n\n",
        v.probe, v.toy_probe
    ));
    let (lb, lg) = plant_cells(&lp);
    let (tb, tg) = plant_cells(&tp);
    md.push_str(&markdown_table(
        &["side", "drift b", "gain g"],
        &[vec!["toy".into(), tb, tg], vec!["LLM".into(), lb, lg]],
    ));
    md.push_str("\n## What is seen\n\n");
    for (name, side, plant) in [("LLM", llm, &lp), ("toy", toy, &tp)] {
        md.push_str(&observations(name, side, pf, plant));
    }
    let path = dir.join("llm-validation.md");
    write_atomic(&path, md.as_bytes())?;
    Ok(path)
}

/// Plain statements of the two questions of the issue, computed.
fn observations(name: &str, side: &Side, pf: &PresetFile, plant: &Plant) -> String {
    let get = |a: &str| side.arms.iter().find(|(n, _)| n == a).map(|(_, r)| r);
    let mut s = String::new();
    if let Some(r) = get("grpo") {
        let fig = run_figures(r, side.target, f64::INFINITY);
        let crossed = r.iter().any(|x| x.entropy < side.target);
        let below = (side.target - fig.final_entropy) / side.target;
        s.push_str(&format!(
            "- {name}: plain GRPO's entropy {} the target ({}); its last-quarter mean is {} nats, {}% {} the target, so it {} end ≥ 30% below it.\n",
            if crossed { "crosses" } else { "does not cross" },
            f(side.target),
            f(fig.final_entropy),
            f(below.abs() * 100.0),
            if below >= 0.0 { "below" } else { "above" },
            if below >= 0.3 { "does" } else { "does not" },
        ));
    }
    if let Some(r) = get("pi-on") {
        let fig = run_figures(r, side.target, pf.grpo.control.alpha_max);
        s.push_str(&format!(
            "- {name}: PI on-policy final_rel_err = {} ({} the 0.10 bar); settling step {} (docs/design.md §8's band), {} (±10% band); α saturated {} of steps.\n",
            f(fig.final_rel_err),
            if fig.final_rel_err <= 0.10 { "meets" } else { "misses" },
            fig.settling_step.map_or("never".into(), |x| x.to_string()),
            settling_step_rel(r, side.target, REL_BAND).map_or("never".into(), |x| x.to_string()),
            f(fig.alpha_saturated),
        ));
    }
    let (lo, hi) = side
        .probe
        .iter()
        .filter_map(|r| r.alpha)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), a| {
            (l.min(a), h.max(a))
        });
    match &plant.fit {
        Ok(fit) if fit.g_ci.0 > 0.0 => s.push_str(&format!(
            "- {name}: the probe identifies a gain g = {} [{}, {}] > 0: α in [{}, {}] moves entropy as the controller assumes; holding the target needs α* = b/g = {}.\n",
            f(fit.g), f(fit.g_ci.0), f(fit.g_ci.1), f(lo), f(hi), f(fit.b / fit.g)
        )),
        Ok(fit) => s.push_str(&format!(
            "- {name}: the probe's gain g = {} has a 95% interval [{}, {}] that includes 0: with α stepped through [{}, {}] (unclipped) the EntroPIC term has no measurable authority over entropy here, so no gains can be tuned from this probe.\n",
            f(fit.g), f(fit.g_ci.0), f(fit.g_ci.1), f(lo), f(hi)
        )),
        Err(e) => s.push_str(&format!("- {name}: the probe identifies no plant: {e}.\n")),
    }
    s
}

/// The smoke preset end to end, preset parsing and refusals (moved from the
/// LLM crate's tests with the module).
#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch folder, deleted (with its temporary parent) when dropped.
    fn tmp(name: &str) -> entropic_sim::scratch::Scratch {
        entropic_sim::scratch::Scratch::new(name)
    }

    /// Smoke preset in a temp dir: every arm folder, the probe, the report with
    /// both sides' figures; a second call resumes (nothing re-run) and writes
    /// the same table.
    #[test]
    fn smoke_end_to_end() {
        let out = tmp("runs");
        let rep = tmp("report");
        let opts = ValidateOptions {
            preset: Preset::Smoke,
            model: None,
            out: out.to_path_buf(),
            report: rep.to_path_buf(),
            quiet: true,
        };
        let o = validate(&opts).unwrap();
        let pf = PresetFile::parse("smoke", Preset::Smoke.text()).unwrap();
        let steps = pf.grpo.grpo.steps;
        let probe_steps: usize = pf.validate.probe.iter().map(|p| p.0).sum();
        assert!(out.join("base/task.json").exists());
        assert!(out.join("initial_entropy.json").exists());
        for arm in ARMS {
            let m = std::fs::read_to_string(out.join(arm).join("metrics.jsonl")).unwrap();
            assert_eq!(m.lines().count(), steps, "arm {arm}");
        }
        let m = std::fs::read_to_string(out.join("probe/metrics.jsonl")).unwrap();
        assert_eq!(m.lines().count(), probe_steps);
        // target = fraction · H0 on both sides
        assert!((o.llm.target - 0.5 * o.llm.initial_entropy).abs() < 1e-12);
        assert!((o.toy.target - 0.5 * o.toy.initial_entropy).abs() < 1e-12);
        assert_eq!(o.toy.arms.len(), ARMS.len());
        assert_eq!(o.toy.probe.len(), pf.validate.toy_steps);
        let md = std::fs::read_to_string(&o.report).unwrap();
        assert!(md.contains("toy vs LLM"));
        for side in ["toy", "LLM"] {
            for arm in ARMS {
                let line = md
                    .lines()
                    .find(|l| {
                        l.starts_with(&format!("| {side}")) && l.contains(&format!(" {arm} "))
                    })
                    .unwrap_or_else(|| panic!("no row {side} {arm}"));
                // the H initial cell is a number on both sides
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                assert!(cells[3].parse::<f64>().is_ok(), "{line}");
            }
        }
        // the toy probe (60 steps) is long enough to identify a plant
        let toy_plant = md
            .lines()
            .find(|l| l.starts_with("| toy") && l.contains('['))
            .unwrap();
        assert!(!toy_plant.contains("not identified"), "{toy_plant}");
        for f in ["entropy", "alpha", "hp_frac", "reward", "val_pass"] {
            assert!(
                rep.join(format!("llm-validation-smoke-{f}.svg")).exists(),
                "{f}"
            );
        }
        // resume: the same call finds every arm complete and writes the same report
        let o2 = validate(&opts).unwrap();
        assert_eq!(std::fs::read_to_string(&o2.report).unwrap(), md);
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&rep);
    }

    /// `VALIDATE_KEYS` names exactly the keys of `[validate]`.
    #[test]
    fn validate_keys_are_the_structs() {
        let pf = PresetFile::parse("smoke", Preset::Smoke.text()).unwrap();
        let v = toml::Value::try_from(&pf.validate).unwrap();
        let mut have: Vec<&str> = v.as_table().unwrap().keys().map(String::as_str).collect();
        let mut doc: Vec<&str> = VALIDATE_KEYS.iter().map(|k| k.0).collect();
        have.sort_unstable();
        doc.sort_unstable();
        assert_eq!(have, doc);
    }

    /// Every preset parses; off-policy lag ≥ 2; the fraction is in (0, 1).
    #[test]
    fn presets_parse() {
        for p in [Preset::Smoke, Preset::Cpu, Preset::Gpu] {
            let pf = PresetFile::parse(p.name(), p.text()).unwrap();
            assert!(pf.validate.off_lag >= 2);
            assert!(pf.validate.target_fraction > 0.0 && pf.validate.target_fraction < 1.0);
        }
    }

    /// A fraction outside (0, 1) and a missing [validate] are input errors.
    #[test]
    fn bad_preset_refused() {
        let text = Preset::Smoke
            .text()
            .replace("target_fraction = 0.5", "target_fraction = 1.5");
        let e = PresetFile::parse("x.toml", &text).unwrap_err();
        assert!(
            crate::error::exit_code(&e) == 2 && e.to_string().contains("target_fraction"),
            "{e}"
        );
        let text = Preset::Smoke.text().replace("[validate]", "[other]");
        assert!(PresetFile::parse("x.toml", &text).is_err());
    }

    /// The gpu preset names cuda: a CPU-only build refuses it clearly, before
    /// any work.
    #[cfg(not(feature = "cuda"))]
    #[test]
    fn gpu_refused_without_cuda() {
        let out = tmp("gpu");
        let e = validate(&ValidateOptions {
            preset: Preset::Gpu,
            model: None,
            out: out.to_path_buf(),
            report: out.join("rep"),
            quiet: true,
        })
        .unwrap_err();
        assert!(
            crate::error::exit_code(&e) == 2 && e.to_string().contains("cuda"),
            "{e}"
        );
        assert!(!out.exists());
    }
}
