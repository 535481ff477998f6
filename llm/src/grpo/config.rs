//! The GRPO config file of `entropic llm grpo` (a TOML with `[grpo]`,
//! `[control]` and an optional `[task]`), its defaults and range checks.
//!
//! The same file may carry the pretrain scenario's tables (`seed`,
//! `[model]`, `[pretrain]`, `[eval]`, `[tokenizer]`, see
//! [`crate::pretrain::LlmScenario`]),
//! so one file can describe both the warm start and the RL run; `grpo`
//! ignores them. Every table refuses unknown keys.
use crate::error::{LlmError, Result};
use crate::pretrain::{EvalConfig, ModelShape, PretrainConfig};
use crate::tasks::ArithConfig;
use crate::tokenizer::TokenizerConfig;
use entropic_sim::advantage::AdvStd;
use entropic_sim::control::ControlConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Learning-rate schedule after the linear warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    /// `lr` throughout (verl's default for the actor).
    #[default]
    Constant,
    /// Cosine from `lr` to `min_lr_frac·lr` at the last step.
    Cosine,
    /// Linear from `lr` to `min_lr_frac·lr` at the last step.
    Linear,
}

/// Where the ratio's denominator π_old comes from (`grpo.old_logp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OldLogp {
    /// The authors' (yk7333/EntroPIC on verl): a training-path forward pass
    /// (no gradient) over the whole rollout batch once per step, before its
    /// first minibatch update, so π_old is the policy at the start of the
    /// step. With `lag = 0` the rollout's own scoring pass, made by the same
    /// parameters just before, is that pass and is not repeated.
    #[default]
    Recompute,
    /// The log-probs the behaviour policy gave when the batch was sampled
    /// (`lag = d`: the policy of `d` steps ago), so the ratio also corrects
    /// the lag.
    Sampler,
}

entropic_sim::rl_struct! {
    /// The `[grpo]` table: rollout, loss, optimizer and bookkeeping settings.
    /// Defaults follow verl where it has one (docs/peers.md §1: ε 0.2, dual clip 3,
    /// grad clip 1, one PPO epoch, no KL), docs/mathematics.md §3's authors' run script for
    /// G = 8 and T = 0.6 is *not* the default here: T = 1 matches the base
    /// model's evaluation temperature.
    ///
    /// The 17 keys shared with the toy are declared by
    /// `entropic_sim::rl_struct!`; the slots below are this trainer's own.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    pub struct GrpoParams {
        head {
            /// Seed of every random choice of the run (prompts, samples, clip_cov).
            pub seed: u64,
            /// Training steps (rollout batches consumed).
            pub steps: usize,
        }
        after_temperature {
            /// Most generated tokens per completion (the stop token included).
            pub max_new_tokens: usize,
        }
        after_lr {
            pub lr_schedule: LrSchedule,
            /// Linear warm-up steps from `lr/warmup_steps` to `lr`.
            pub warmup_steps: usize,
            /// Final learning rate as a share of `lr` (cosine, linear).
            pub min_lr_frac: f64,
            pub weight_decay: f64,
        }
        dual_clip_attrs {
            #[serde(with = "entropic_sim::control::exact_f64")]
        }
        tail {
            /// π_old of the ratio: `recompute` (default, the authors') or
            /// `sampler` ([`OldLogp`], docs/mathematics.md §7).
            pub old_logp: OldLogp,
            /// Write a checkpoint after every this many steps (and after the last).
            pub checkpoint_every: usize,
            /// Validation pass@1 and `entropy_exact` after every this many
            /// updates (steps s with (s + 1) % val_every = 0; 0 = never); also
            /// at the last step.
            pub val_every: usize,
            /// Validation problems (one sample each at T).
            pub val_problems: usize,
            /// Sequences per sampling call (memory bound of generation).
            pub sample_batch: usize,
        }
    }
}

impl Default for GrpoParams {
    fn default() -> Self {
        GrpoParams {
            seed: 0,
            steps: 100,
            group_size: 8,
            batch_prompts: 16,
            temperature: 1.0,
            max_new_tokens: 24,
            lr: 1e-4,
            lr_schedule: LrSchedule::Constant,
            warmup_steps: 0,
            min_lr_frac: 0.1,
            weight_decay: 0.0,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_eps: 1e-8,
            adv_std: AdvStd::Unbiased,
            adv_eps: 1e-6,
            eps_low: 0.2,
            eps_high: 0.2,
            dual_clip: 3.0,
            kl_coef: 0.0,
            ppo_epochs: 1,
            minibatches: 1,
            lag: 0,
            grad_clip: 1.0,
            old_logp: OldLogp::Recompute,
            checkpoint_every: 10,
            val_every: 10,
            val_problems: 64,
            sample_batch: 512,
        }
    }
}

impl GrpoParams {
    /// Learning rate at `step` (0-based): linear warm-up `lr·(step+1)/warmup`,
    /// then the schedule over the remaining steps, reaching
    /// `min_lr_frac·lr` at the last step (nanoGPT's shape).
    pub fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let span = self.steps.saturating_sub(self.warmup_steps + 1).max(1) as f64;
        let x = ((step - self.warmup_steps) as f64 / span).min(1.0);
        let lo = self.min_lr_frac;
        let f = match self.lr_schedule {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine => lo + (1.0 - lo) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos()),
            LrSchedule::Linear => 1.0 - (1.0 - lo) * x,
        };
        self.lr * f
    }

    /// Range checks, naming `file`, the key `grpo.<key>` and the allowed
    /// range: the keys shared with the toy by `entropic_sim::rl` (one range
    /// each), then this trainer's own.
    pub fn validate(&self, file: &str) -> Result<()> {
        self.rl()
            .check()
            .map_err(|e| LlmError::input(file, e.to_string()))?;
        let bad = |k: &str, range: &str, got: String| {
            Err(LlmError::input(
                file,
                format!("key `grpo.{k}`: must be {range} (got {got})"),
            ))
        };
        for (k, v, lo) in [
            ("steps", self.steps, 1),
            ("max_new_tokens", self.max_new_tokens, 1),
            ("checkpoint_every", self.checkpoint_every, 1),
            ("val_problems", self.val_problems, 1),
            ("sample_batch", self.sample_batch, 1),
        ] {
            if v < lo {
                return bad(k, &format!("at least {lo}"), v.to_string());
            }
        }
        let m = self.min_lr_frac;
        if !(0.0..=1.0).contains(&m) {
            return bad("min_lr_frac", "in [0, 1]", m.to_string());
        }
        let w = self.weight_decay;
        if !(w.is_finite() && w >= 0.0) {
            return bad("weight_decay", "finite and >= 0", w.to_string());
        }
        Ok(())
    }
}

/// A whole `entropic llm grpo` config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct GrpoFile {
    pub grpo: GrpoParams,
    /// Exactly `entropic_sim::control::ControlConfig` (the toy's `[control]`).
    pub control: ControlConfig,
    /// The task's difficulty and split. Absent: the base checkpoint's
    /// `task.json` (its `arith`), else [`ArithConfig::default`].
    pub task: Option<ArithConfig>,
    /// Pretrain scenario keys (ignored by `grpo`; see the module doc).
    pub seed: Option<u64>,
    pub model: Option<ModelShape>,
    pub pretrain: Option<PretrainConfig>,
    pub eval: Option<EvalConfig>,
    pub tokenizer: Option<TokenizerConfig>,
}

impl GrpoFile {
    /// Parses and validates TOML text; `file` names the source in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        Self::parse_text(file, text, true)
    }

    /// [`GrpoFile::parse`] of text re-serialised from `file` (a preset
    /// without its `[validate]`): errors name the key but no line.
    pub fn parse_reserialised(file: &str, text: &str) -> Result<Self> {
        Self::parse_text(file, text, false)
    }

    fn parse_text(file: &str, text: &str, with_line: bool) -> Result<Self> {
        let c: GrpoFile =
            toml::from_str(text).map_err(|e| LlmError::toml(file, text, &e, with_line))?;
        c.validate(file)?;
        Ok(c)
    }

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| LlmError::input(&file, format!("cannot read: {e}")))?;
        Self::parse(&file, &text)
    }

    /// Range checks of every table (`control` by the simulator's own
    /// `ControlConfig::validate(file, "control")`).
    pub fn validate(&self, file: &str) -> Result<()> {
        self.grpo.validate(file)?;
        self.control.validate(file, "control")?;
        if let Some(t) = &self.task {
            t.validate(file)?;
        }
        Ok(())
    }
}

/// Dotted keys whose values differ between two JSON configs (a key present
/// in one only counts as differing), sorted.
pub fn differing_keys(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    fn walk(
        p: &str,
        a: Option<&serde_json::Value>,
        b: Option<&serde_json::Value>,
        out: &mut Vec<String>,
    ) {
        use serde_json::Value::Object;
        match (a, b) {
            (Some(Object(x)), Some(Object(y))) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let q = if p.is_empty() {
                        k.clone()
                    } else {
                        format!("{p}.{k}")
                    };
                    walk(&q, x.get(k), y.get(k), out);
                }
            }
            (x, y) if x != y => out.push(p.to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", Some(a), Some(b), &mut out);
    out
}
