//! `entropic llm validate`: the LLM measured as a cell of the regime map,
//! against a prediction from the map written before the first arm
//! (docs/llm-validation.md). It lives in the binary's orchestration layer
//! ([`crate::lab`]) because it combines the trainer (`entropic_llm`), the
//! map (`crate::lab::map`, `crate::lab::diagnose`) and the claims crate's
//! identification (`entropic_proofs`).
//!
//! From a base checkpoint (given, or pretrained once into `DIR/base/` with
//! the preset's `[model]`/`[task]`/`[pretrain]`/`[eval]` tables), in order:
//! 1. `prediction.json`: the base's diagnosis at the rollout temperature
//!    (`entropic_llm::diagnose`), its nearest map cells and that cell's
//!    prediction, with the map's SHA-256; written once, before any arm;
//! 2. each twin seed's validation entropy before training; H0 their mean;
//! 3. the pilot `grpo` seed 0, then `design.json`: the twins' seeds sized
//!    so that the paired estimator's detectable gain falls below the drift,
//!    or labelled `undetermined` in advance ([`design`]);
//! 4. the arms of [`arms`] in `DIR/<arm>/seed-<s>/`, each resumed from its
//!    checkpoints;
//! 5. the measurement as a map cell ([`measure`]), the scorecard
//!    ([`scoring`]) and the report `llm-validation.md` (+ `.json`, SVGs).
//!
//! Layout: `preset` (the preset files and `[validate]`), `arms` (each
//! arm's configuration), `design` (sizing), `prediction`
//! (`prediction.json`), `run` (the runs in order), `measure`, `scoring`,
//! `report`, `model` (options and results).

mod arms;
mod design;
mod measure;
mod model;
mod prediction;
mod preset;
mod report;
mod run;
mod scoring;
#[cfg(test)]
mod tests;

// What the rest of the binary uses (`cmd_llm`, `lab::tune`); the other
// items stay public in their modules.
pub use arms::{arm_config, arms};
pub use model::ValidateOptions;
pub use preset::{keys_markdown, Preset, PresetFile};
pub use run::{read_records, run_dir, validate};
