//! `entropic llm validate`: the same controller on the toy and on the LLM, with the linear model's predictions checked on both.
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
//! 3. the arms [`ARMS`] and the `probe` run, each a [`GrpoTrainer`](entropic_llm::grpo::GrpoTrainer) in
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
//! per training step; the prediction's delay is `off_lag` when the
//! controller measures the rollout batch and 0 when it measures the current
//! policy (docs/mathematics.md §7); P arms are the preset's `[control]` with `ki = 0`;
//! `adaptive-entropy` uses the simulator's defaults for its own keys; the
//! toy is run with one seed (seed 0) per arm, as the LLM is.
//!
//! Layout: `preset` (the preset files and `[validate]`), `model` (options
//! and each side's results), `arms` (each arm's configuration on both
//! sides), `run` (both sides' runs), `scoring` (the plant identified from a
//! probe and the settling it predicts), `report` (`llm-validation.md` and
//! its SVGs).

mod arms;
mod model;
mod preset;
mod report;
mod run;
mod scoring;
#[cfg(test)]
mod tests;

// What the rest of the binary uses (`cmd_llm`, `lab::tune`); the other
// items stay public in their modules.
pub use arms::arm_config;
pub use model::ValidateOptions;
pub use preset::{keys_markdown, Preset, PresetFile};
pub use run::{read_records, validate};
