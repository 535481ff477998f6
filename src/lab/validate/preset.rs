//! The presets of `entropic llm validate`: the embedded scenario files,
//! their `[validate]` table, its key reference, and parsing with range
//! checks.

use crate::error::InputError;
use anyhow::{Context, Result};
use entropic_llm::device::{DeviceChoice, Precision};
use entropic_llm::grpo::config::GrpoFile;
use entropic_llm::pretrain::LlmScenario;
use entropic_sim::control::Method;
use serde::{Deserialize, Serialize};

/// A preset: which embedded scenario file drives the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// A few steps per arm on a one-layer model: seconds (tests, CI).
    Smoke,
    /// The LLM-like base of scenarios/llm-base.toml on the CPU (≤ 60 min of arms).
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
    /// Most seeds of each twin arm (`grpo`, `alpha-1`, `alpha+1`); the
    /// design uses the fewest seeds up to this that reach a detectable gain
    /// below the drift, but never fewer than 4 (or this, where lower), or
    /// all of them (labelled `undetermined` in advance).
    pub twin_seeds: usize,
    /// Minibatches per rollout batch of the off-policy arms (the authors'
    /// definition: π_old recomputed once per batch, then several updates).
    pub off_minibatches: usize,
    /// Validation-split prompts of the base model's diagnosis.
    pub diagnose_prompts: usize,
    /// Completions per prompt of the diagnosis.
    pub diagnose_samples: usize,
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
        "twin_seeds",
        "integer",
        "required",
        "1..=16",
        "Most seeds of each twin arm (`grpo`, `alpha-1`, `alpha+1`); the design uses the fewest that reach a detectable gain below the drift, never fewer than 4 (or this, where lower), else all (labelled `undetermined` in advance).",
    ),
    (
        "off_minibatches",
        "integer",
        "required",
        ">= 2, <= grpo.batch_prompts",
        "Minibatches per rollout batch of the off-policy arms (π_old recomputed once per batch).",
    ),
    (
        "diagnose_prompts",
        "integer",
        "required",
        ">= 1",
        "Validation-split prompts of the base model's diagnosis.",
    ),
    (
        "diagnose_samples",
        "integer",
        "required",
        ">= 1",
        "Completions per prompt of the diagnosis.",
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
        let v = &validate;
        if !(1..=16).contains(&v.twin_seeds) {
            return Err(bad(format!(
                "key `validate.twin_seeds`: must be in 1..=16 (got {})",
                v.twin_seeds
            ))
            .into());
        }
        let bp = grpo.grpo.batch_prompts;
        if v.off_minibatches < 2 || v.off_minibatches > bp {
            return Err(bad(format!(
                "key `validate.off_minibatches`: must be in 2..={bp} (grpo.batch_prompts; got {})",
                v.off_minibatches
            ))
            .into());
        }
        if v.diagnose_prompts == 0 || v.diagnose_samples == 0 {
            return Err(bad(
                "keys `validate.diagnose_prompts`, `validate.diagnose_samples`: must be at least 1"
                    .into(),
            )
            .into());
        }
        let (steps, every) = (grpo.grpo.steps, grpo.grpo.val_every);
        if every == 0 || !steps.is_multiple_of(every) || steps / every < 4 {
            return Err(bad(format!(
                "key `grpo.val_every`: the validation measures every arm's entropy on a grid of \
                 states, so it must divide `grpo.steps` ({steps}) at least 4 times (got {every})"
            ))
            .into());
        }
        if grpo.control.method != Method::Entropic {
            return Err(bad(
                "key `control.method`: the preset's `[control]` is the PI arms' law and must be \
                 \"entropic\""
                    .into(),
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
