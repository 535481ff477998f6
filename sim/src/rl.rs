//! The RL settings both trainers share: the toy's `[grpo]` table
//! ([`crate::grpo::GrpoConfig`]) and the LLM's (`entropic_llm::grpo::config::
//! GrpoParams`) carry these 17 keys under the same names, declared once by
//! [`rl_struct!`](crate::rl_struct), and both validate them here, against
//! one range each, so a value accepted by one trainer is accepted by the
//! other. The key references (`entropic scenario --keys`, `entropic llm
//! keys`) take each key's range and meaning from [`RL_KEYS`].
//!
//! Two structs rather than one: the trainers' defaults differ (the toy's
//! learning rate is for a bandit's logits, the LLM's for a transformer's
//! weights), each adds keys of its own, and both refuse unknown keys, which
//! serde cannot combine with a flattened shared struct. So the shared
//! fields are written once, in the macro, and each struct is generated
//! with them; each side keeps its own `Default`.
use crate::advantage::AdvStd;
use crate::control::loss::LossConfig;

/// The shared settings, read off either trainer's table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RlSettings {
    /// G samples per prompt.
    pub group_size: usize,
    /// B prompts per rollout batch.
    pub batch_prompts: usize,
    /// Sampling temperature T (log-probs, ratios and entropy use the same T).
    pub temperature: f64,
    pub lr: f64,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_eps: f64,
    pub adv_std: AdvStd,
    pub adv_eps: f64,
    pub eps_low: f64,
    pub eps_high: f64,
    pub dual_clip: f64,
    pub kl_coef: f64,
    pub ppo_epochs: usize,
    pub minibatches: usize,
    pub lag: usize,
    pub grad_clip: f64,
}

/// Declares a trainer's `[grpo]` struct with the 17 shared fields of
/// [`RlSettings`] (their doc comments included) and generates its `rl()`
/// (the shared settings, for [`RlSettings::check`]) and `loss_config()`.
///
/// The trainer's own fields go in four slots, so each struct keeps its
/// field order (and so its serialised key order) exactly: `head` before
/// `group_size`, `after_temperature`, `after_lr` (before `adam_beta1`) and
/// `tail` after `grad_clip`; `dual_clip_attrs` adds attributes to
/// `dual_clip` (the LLM reads and writes it with `exact_f64`). The struct's
/// own attributes (derives, `serde(deny_unknown_fields, default)`) are
/// written by the caller, as is its `Default`.
///
/// ```
/// entropic_sim::rl_struct! {
///     /// A trainer's table.
///     #[derive(Debug, Clone, Default)]
///     pub struct Table {
///         head {}
///         after_temperature {}
///         after_lr {}
///         dual_clip_attrs {}
///         tail { /// One key of its own.
///                pub steps: usize, }
///     }
/// }
/// let t = Table { group_size: 8, ..Default::default() };
/// assert_eq!(t.rl().group_size, 8);
/// assert_eq!(t.steps, 0);
/// ```
#[macro_export]
macro_rules! rl_struct {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            head { $($(#[$ha:meta])* $hv:vis $hf:ident : $ht:ty,)* }
            after_temperature { $($(#[$ta:meta])* $tv:vis $tf:ident : $tt:ty,)* }
            after_lr { $($(#[$la:meta])* $lv:vis $lf:ident : $lt:ty,)* }
            dual_clip_attrs { $(#[$da:meta])* }
            tail { $($(#[$ea:meta])* $ev:vis $ef:ident : $et:ty,)* }
        }
    ) => {
        $(#[$attr])*
        $vis struct $name {
            $($(#[$ha])* $hv $hf: $ht,)*
            /// G samples per prompt (≥ 2, so a group can have a spread).
            pub group_size: usize,
            /// B prompts per rollout batch (the toy draws them without
            /// replacement).
            pub batch_prompts: usize,
            /// Sampling temperature T; log-probs, ratios and entropies use
            /// the same T (docs/mathematics.md §1, as verl). Must be > 0.
            pub temperature: f64,
            $($(#[$ta])* $tv $tf: $tt,)*
            /// Learning rate (the LLM's peak rate).
            pub lr: f64,
            $($(#[$la])* $lv $lf: $lt,)*
            /// Adam β1.
            pub adam_beta1: f64,
            /// Adam β2.
            pub adam_beta2: f64,
            /// Adam ε.
            pub adam_eps: f64,
            /// Group-advantage normalisation (docs/mathematics.md §2):
            /// unbiased | population | none.
            pub adv_std: $crate::advantage::AdvStd,
            /// ε in (r − mean)/(std + ε).
            pub adv_eps: f64,
            /// PPO clip below (the ratio's floor is 1 − ε_low).
            pub eps_low: f64,
            /// PPO clip above (the ratio's ceiling is 1 + ε_high).
            pub eps_high: f64,
            /// verl's dual clip c for A < 0; `inf` disables it.
            $(#[$da])*
            pub dual_clip: f64,
            /// β of the k3 KL to the initial (frozen) policy (0 = off).
            pub kl_coef: f64,
            /// Optimizer passes over each rollout batch.
            pub ppo_epochs: usize,
            /// Minibatches per pass, split by prompt group.
            pub minibatches: usize,
            /// Asynchronous lag d: the batch used at step t was sampled by
            /// the policy of step t − d (the first d batches by the initial
            /// policy).
            pub lag: usize,
            /// Clip the gradient's global L2 norm to this value (0 = off).
            pub grad_clip: f64,
            $($(#[$ea])* $ev $ef: $et,)*
        }

        impl $name {
            /// The settings shared with the other trainer (validated by
            /// `entropic_sim::rl::RlSettings::check`).
            pub fn rl(&self) -> $crate::rl::RlSettings {
                $crate::rl::RlSettings {
                    group_size: self.group_size,
                    batch_prompts: self.batch_prompts,
                    temperature: self.temperature,
                    lr: self.lr,
                    adam_beta1: self.adam_beta1,
                    adam_beta2: self.adam_beta2,
                    adam_eps: self.adam_eps,
                    adv_std: self.adv_std,
                    adv_eps: self.adv_eps,
                    eps_low: self.eps_low,
                    eps_high: self.eps_high,
                    dual_clip: self.dual_clip,
                    kl_coef: self.kl_coef,
                    ppo_epochs: self.ppo_epochs,
                    minibatches: self.minibatches,
                    lag: self.lag,
                    grad_clip: self.grad_clip,
                }
            }

            /// The shared loss settings of `entropic_sim::control::loss`.
            pub fn loss_config(&self) -> $crate::control::loss::LossConfig {
                self.rl().loss_config()
            }
        }
    };
}

/// One shared key: its name inside `[grpo]`, allowed range and meaning.
#[derive(Debug, Clone, Copy)]
pub struct RlKey {
    pub key: &'static str,
    pub range: &'static str,
    pub meaning: &'static str,
}

const fn rk(key: &'static str, range: &'static str, meaning: &'static str) -> RlKey {
    RlKey {
        key,
        range,
        meaning,
    }
}

pub const GROUP_SIZE: RlKey = rk("group_size", "2..=4096", "G samples per prompt.");
pub const BATCH_PROMPTS: RlKey = rk("batch_prompts", ">= 1", "B prompts per rollout batch.");
pub const TEMPERATURE: RlKey = rk(
    "temperature",
    "(0, 10]",
    "Sampling temperature T; log-probs, ratios and entropies use the same T.",
);
pub const LR: RlKey = rk("lr", "(0, 100]", "Learning rate (the LLM's peak rate).");
pub const ADAM_BETA1: RlKey = rk("adam_beta1", "[0, 1)", "Adam β1.");
pub const ADAM_BETA2: RlKey = rk("adam_beta2", "[0, 1)", "Adam β2.");
pub const ADAM_EPS: RlKey = rk("adam_eps", "(0, 1]", "Adam ε.");
pub const ADV_STD: RlKey = rk(
    "adv_std",
    "unbiased | population | none",
    "Group-advantage normalisation (none = Dr. GRPO).",
);
pub const ADV_EPS: RlKey = rk("adv_eps", "[0, 1]", "ε in (r − mean)/(std + ε).");
pub const EPS_LOW: RlKey = rk(
    "eps_low",
    "[0, 1)",
    "PPO clip below (the ratio's floor 1 − ε_low stays above 0).",
);
pub const EPS_HIGH: RlKey = rk("eps_high", "[0, 10]", "PPO clip above.");
pub const DUAL_CLIP: RlKey = rk(
    "dual_clip",
    "> 1 or inf",
    "verl's dual-clip constant for A < 0 (inf = off).",
);
pub const KL_COEF: RlKey = rk(
    "kl_coef",
    "[0, 10]",
    "β of the k3 KL to the initial policy (0 = off).",
);
pub const PPO_EPOCHS: RlKey = rk(
    "ppo_epochs",
    "1..=64",
    "Optimizer passes per rollout batch.",
);
pub const MINIBATCHES: RlKey = rk(
    "minibatches",
    "1..=batch_prompts",
    "Minibatches per pass, split by prompt group.",
);
pub const LAG: RlKey = rk(
    "lag",
    "0..=64",
    "Asynchronous lag d (the batch of step t was sampled at t − d).",
);
pub const GRAD_CLIP: RlKey = rk("grad_clip", "[0, inf)", "Gradient L2-norm clip (0 = off).");

/// Every shared key, in the order of [`RlSettings`].
pub const RL_KEYS: [RlKey; 17] = [
    GROUP_SIZE,
    BATCH_PROMPTS,
    TEMPERATURE,
    LR,
    ADAM_BETA1,
    ADAM_BETA2,
    ADAM_EPS,
    ADV_STD,
    ADV_EPS,
    EPS_LOW,
    EPS_HIGH,
    DUAL_CLIP,
    KL_COEF,
    PPO_EPOCHS,
    MINIBATCHES,
    LAG,
    GRAD_CLIP,
];

/// A shared key outside its range: the key (without the `grpo.` table), its
/// range as [`RL_KEYS`] states it, and the value given.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeError {
    pub key: &'static str,
    pub range: &'static str,
    pub got: String,
}

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "key `grpo.{}`: must be in {} (got {})",
            self.key, self.range, self.got
        )
    }
}

impl RlSettings {
    /// The shared loss settings of `crate::control::loss`.
    pub fn loss_config(&self) -> LossConfig {
        LossConfig {
            eps_low: self.eps_low,
            eps_high: self.eps_high,
            dual_clip: self.dual_clip,
            kl_coef: self.kl_coef,
        }
    }

    /// Range checks of the shared keys, the same for both trainers; the
    /// first key out of range is returned. NaN is out of every range.
    pub fn check(&self) -> Result<(), RangeError> {
        // Every float condition below is a comparison, false for NaN, so
        // NaN is out of range without a check of its own.
        fn within<T: ToString>(k: RlKey, x: T, ok: bool) -> Result<(), RangeError> {
            if ok {
                Ok(())
            } else {
                Err(RangeError {
                    key: k.key,
                    range: k.range,
                    got: x.to_string(),
                })
            }
        }
        let (f, u) = (within::<f64>, within::<usize>);
        let s = self;
        u(GROUP_SIZE, s.group_size, (2..=4096).contains(&s.group_size))?;
        u(BATCH_PROMPTS, s.batch_prompts, s.batch_prompts >= 1)?;
        let t = s.temperature;
        f(TEMPERATURE, t, t > 0.0 && t <= 10.0)?;
        f(LR, s.lr, s.lr > 0.0 && s.lr <= 100.0)?;
        f(ADAM_BETA1, s.adam_beta1, (0.0..1.0).contains(&s.adam_beta1))?;
        f(ADAM_BETA2, s.adam_beta2, (0.0..1.0).contains(&s.adam_beta2))?;
        f(ADAM_EPS, s.adam_eps, s.adam_eps > 0.0 && s.adam_eps <= 1.0)?;
        f(ADV_EPS, s.adv_eps, (0.0..=1.0).contains(&s.adv_eps))?;
        f(EPS_LOW, s.eps_low, (0.0..1.0).contains(&s.eps_low))?;
        f(EPS_HIGH, s.eps_high, (0.0..=10.0).contains(&s.eps_high))?;
        f(DUAL_CLIP, s.dual_clip, s.dual_clip > 1.0)?;
        f(KL_COEF, s.kl_coef, (0.0..=10.0).contains(&s.kl_coef))?;
        u(PPO_EPOCHS, s.ppo_epochs, (1..=64).contains(&s.ppo_epochs))?;
        let mb = s.minibatches;
        u(MINIBATCHES, mb, mb >= 1 && mb <= s.batch_prompts)?;
        u(LAG, s.lag, s.lag <= 64)?;
        let g = s.grad_clip;
        f(GRAD_CLIP, g, g >= 0.0 && g.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// verl's defaults with a toy's batch.
    fn ok() -> RlSettings {
        RlSettings {
            group_size: 8,
            batch_prompts: 32,
            temperature: 1.0,
            lr: 1e-3,
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
        }
    }

    #[test]
    fn defaults_pass_and_each_bound_is_enforced() {
        assert_eq!(ok().check(), Ok(()));
        let cases: [(&str, RlSettings); 8] = [
            (
                "eps_low",
                RlSettings {
                    eps_low: 1.0,
                    ..ok()
                },
            ),
            (
                "kl_coef",
                RlSettings {
                    kl_coef: 11.0,
                    ..ok()
                },
            ),
            (
                "kl_coef",
                RlSettings {
                    kl_coef: f64::NAN,
                    ..ok()
                },
            ),
            (
                "group_size",
                RlSettings {
                    group_size: 1,
                    ..ok()
                },
            ),
            (
                "minibatches",
                RlSettings {
                    minibatches: 33,
                    ..ok()
                },
            ),
            (
                "dual_clip",
                RlSettings {
                    dual_clip: 1.0,
                    ..ok()
                },
            ),
            (
                "grad_clip",
                RlSettings {
                    grad_clip: f64::INFINITY,
                    ..ok()
                },
            ),
            ("lag", RlSettings { lag: 65, ..ok() }),
        ];
        for (key, s) in cases {
            let e = s.check().unwrap_err();
            assert_eq!(e.key, key, "{e}");
            assert!(e
                .to_string()
                .starts_with(&format!("key `grpo.{key}`: must be in ")));
        }
        // inf turns the dual clip off and is allowed
        assert_eq!(
            RlSettings {
                dual_clip: f64::INFINITY,
                ..ok()
            }
            .check(),
            Ok(())
        );
    }

    #[test]
    fn every_shared_key_is_listed_once() {
        let mut names: Vec<&str> = RL_KEYS.iter().map(|k| k.key).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 17);
    }
}
