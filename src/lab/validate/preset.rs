//! The presets of `entropic llm validate`: the embedded scenario files,
//! their `[validate]` table, its key reference, and parsing with range
//! checks.

use crate::error::InputError;
use anyhow::{Context, Result};
use entropic_llm::device::{DeviceChoice, Precision};
use entropic_llm::grpo::config::GrpoFile;
use entropic_llm::pretrain::LlmScenario;
use serde::{Deserialize, Serialize};

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
            Preset::Smoke => include_str!("../../../scenarios/llm-validate-smoke.toml"),
            Preset::Cpu => include_str!("../../../scenarios/llm-validate-cpu.toml"),
            Preset::Gpu => include_str!("../../../scenarios/llm-validate-gpu.toml"),
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
