//! The closed-loop checks' instance families and run cells: typed configs
//! (`..Default::default()`, then validated) and their scenario text,
//! rendered from them for counterexamples.

use crate::error::ProofsError;
use crate::family;
use entropic_sim::bandit::{BanditConfig, PolicyKind, Sampling};
use entropic_sim::control::{ControlConfig, Method};
use entropic_sim::grpo::GrpoConfig;
use entropic_sim::optim::OptimizerKind;
use entropic_sim::scenario::RunConfig;

/// An instance family: its `[bandit]` section and the `[grpo]` keys that
/// do not vary, plus its learning rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Sequence,
    Tabular,
    /// The paper-like family of docs/mathematics.md §8.1
    /// ([`crate::family::paper_like`]): run by each closed-loop check as an
    /// extra variant, never part of [`Family::ALL`]; its settling band is
    /// relative ([`Family::band`]).
    PaperLike,
}

impl Family {
    /// Both families, in report order.
    pub const ALL: [Family; 2] = [Family::Sequence, Family::Tabular];

    /// Name used in variants and tables.
    pub fn name(self) -> &'static str {
        match self {
            Family::Sequence => "sequence",
            Family::Tabular => "tabular",
            Family::PaperLike => "paper-like",
        }
    }

    /// The family a cell's scenario text names on its first line
    /// (`# family: NAME`).
    pub fn from_text(text: &str) -> Option<Family> {
        let name = text.lines().next()?.strip_prefix("# family: ")?.trim();
        [Family::Sequence, Family::Tabular, Family::PaperLike]
            .into_iter()
            .find(|f| f.name() == name)
    }

    /// The settling band of a target, in nats: docs/design.md §8's
    /// `max(0.05, 0.1·H_tar)`, or for the paper-like family the purely
    /// relative `0.1·H_tar` (its whole entropy, ≈ 0.13 nats, is near the
    /// 0.05-nat floor, which would count a target of 0.1 as reached
    /// anywhere in [0.05, 0.15]).
    pub fn band(self, target: f64) -> f64 {
        use entropic_sim::figures::{SETTLE_ABS, SETTLE_REL};
        match self {
            Family::PaperLike => SETTLE_REL * target,
            _ => SETTLE_ABS.max(SETTLE_REL * target),
        }
    }

    /// Learning rates swept by `thm-4-2`; the first is the family's default.
    /// Sequence: docs/design.md §4's Adam 0.02 and half of it; tabular: SGD 4 and 2,
    /// chosen (before any controlled run) so that plain GRPO passes every
    /// target within the first half of a run (at lr 2 it takes ~300 steps
    /// from 1.3 to 0.2 nats).
    /// Paper-like: the family's Adam 0.02 (the map's) and half of it.
    pub fn lrs(self) -> [f64; 2] {
        match self {
            Family::Sequence => [0.02, 0.01],
            Family::Tabular => [4.0, 2.0],
            Family::PaperLike => [0.02, 0.01],
        }
    }

    /// The family's `[bandit]` section.
    pub fn bandit(self) -> BanditConfig {
        match self {
            Family::Sequence => BanditConfig {
                policy: PolicyKind::Sequence,
                prompts: 64,
                actions: 16,
                length: 8,
                forks: 2,
                det_margin: 8.0,
                pass_rate: vec![0.1, 0.6],
                ..Default::default()
            },
            Family::Tabular => BanditConfig {
                policy: PolicyKind::Tabular,
                prompts: 64,
                actions: 16,
                logit_scale: 3.0,
                pass_rate: vec![0.1, 0.6],
                sampling: Sampling::Exact,
                ..Default::default()
            },
            Family::PaperLike => family::paper_like().0,
        }
    }

    /// The keys of [`Family::bandit`] a cell's scenario text spells out.
    fn bandit_keys(self) -> &'static [&'static str] {
        match self {
            Family::Sequence => &[
                "policy",
                "prompts",
                "actions",
                "length",
                "forks",
                "det_margin",
                "pass_rate",
            ],
            Family::Tabular => &[
                "policy",
                "prompts",
                "actions",
                "logit_scale",
                "pass_rate",
                "sampling",
            ],
            Family::PaperLike => &[
                "policy",
                "prompts",
                "actions",
                "length",
                "forks",
                "fork_width",
                "logit_scale",
                "pass_rate",
                "tail_mass",
                "tail_shape",
                "tail_zipf",
                "tail_reward",
            ],
        }
    }

    /// The `[grpo]` keys of the family's base a cell's text spells out
    /// (before the varied ones): the paper-like family's rollout
    /// temperature 0.6 is not the default, so its text writes it unless a
    /// check varies it.
    fn grpo_base_keys(self, vary: &GrpoVary) -> Vec<&'static str> {
        let mut k = vec!["optimizer", "batch_prompts", "group_size"];
        if self == Family::PaperLike && vary.temperature.is_none() {
            k.push("temperature");
        }
        k
    }

    /// The family's `[grpo]` section with the keys a check varies.
    pub fn grpo(self, vary: GrpoVary) -> GrpoConfig {
        let base = match self {
            Family::Sequence => GrpoConfig {
                optimizer: OptimizerKind::Adam,
                batch_prompts: 32,
                group_size: 8,
                ..Default::default()
            },
            Family::Tabular => GrpoConfig {
                optimizer: OptimizerKind::Sgd,
                batch_prompts: 64,
                group_size: 8,
                ..Default::default()
            },
            Family::PaperLike => family::paper_like().1,
        };
        GrpoConfig {
            lr: vary.lr,
            lag: vary.lag.unwrap_or(base.lag),
            ppo_epochs: vary.ppo_epochs.unwrap_or(base.ppo_epochs),
            minibatches: vary.minibatches.unwrap_or(base.minibatches),
            temperature: vary.temperature.unwrap_or(base.temperature),
            ..base
        }
    }
}

/// The `[grpo]` keys a check varies on top of its family's (`None`: the
/// default, not written in the scenario text).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrpoVary {
    pub lr: f64,
    pub lag: Option<usize>,
    pub ppo_epochs: Option<usize>,
    /// Minibatches per pass (`thm-4-3`'s authors' staleness model).
    pub minibatches: Option<usize>,
    pub temperature: Option<f64>,
}

impl GrpoVary {
    /// Only the learning rate.
    pub fn lr(lr: f64) -> Self {
        GrpoVary {
            lr,
            lag: None,
            ppo_epochs: None,
            minibatches: None,
            temperature: None,
        }
    }

    /// The `[grpo]` keys written beyond the family's, in text order.
    fn keys(&self) -> Vec<&'static str> {
        let mut k = vec!["lr"];
        if self.lag.is_some() {
            k.push("lag");
        }
        if self.ppo_epochs.is_some() {
            k.push("ppo_epochs");
        }
        if self.minibatches.is_some() {
            k.push("minibatches");
        }
        if self.temperature.is_some() {
            k.push("temperature");
        }
        k
    }
}

/// A `[control]` section as a check sets it: the typed config and the keys
/// its scenario text spells out, in that order (the others are at their
/// defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    pub cfg: ControlConfig,
    pub shown: &'static [&'static str],
}

impl Control {
    /// Plain GRPO (`method = "none"`) with `target` for the figures.
    pub fn none(target: f64) -> Self {
        Control {
            cfg: ControlConfig {
                method: Method::None,
                target,
                ..Default::default()
            },
            shown: &["method", "target"],
        }
    }

    /// The official EntroPIC law with `kp`, `ki` at `target`.
    pub fn entropic(target: f64, kp: f64, ki: f64) -> Self {
        Control {
            cfg: ControlConfig {
                method: Method::Entropic,
                target,
                kp,
                ki,
                ..Default::default()
            },
            shown: &["method", "target", "kp", "ki"],
        }
    }
}

/// One configuration run over seeds `0..seeds`: labels for tables, the
/// typed run configuration (one arm `main`, no sweep, validated), and the
/// same configuration as scenario text, which a counterexample carries so
/// that it reproduces with `entropic run` or [`super::reproduce`] (a test checks
/// that the text parses back to `run`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub family: Family,
    pub labels: Vec<(String, String)>,
    pub run: RunConfig,
    pub text: String,
}

/// Builds a cell: `family`'s sections with `grpo` varied and `control` as
/// the `[control]` section, `steps` steps, no exact-entropy evaluation.
pub fn cell(
    family: Family,
    steps: usize,
    grpo: GrpoVary,
    control: &Control,
    labels: &[(&str, String)],
) -> Result<Cell, ProofsError> {
    let run = RunConfig {
        steps,
        exact_every: 0,
        bandit: family.bandit(),
        grpo: family.grpo(grpo),
        control: control.cfg.clone(),
        ..Default::default()
    }
    .validated("closedloop")?;
    let grpo_keys: Vec<&str> = family
        .grpo_base_keys(&grpo)
        .into_iter()
        .chain(grpo.keys())
        .collect();
    let text = format!(
        "# family: {}\nsteps = {steps}\nexact_every = 0\n[bandit]\n{}[grpo]\n{}\n[control]\n{}\n",
        family.name(),
        toml_lines(&run.bandit, family.bandit_keys())?,
        toml_lines(&run.grpo, &grpo_keys)?,
        toml_lines(&run.control, control.shown)?,
    );
    Ok(Cell {
        family,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        run,
        text,
    })
}

/// `key = value` lines of the named fields of a config section, as a
/// scenario file writes them (floats in Rust's shortest round-trip form,
/// `inf` bare, enum names quoted).
fn toml_lines(section: &impl serde::Serialize, keys: &[&str]) -> Result<String, ProofsError> {
    let v = serde_json::to_value(section)
        .map_err(|e| ProofsError::Other(format!("closedloop: {e}")))?;
    let mut out = String::new();
    for k in keys {
        let x = v
            .get(k)
            .ok_or_else(|| ProofsError::Other(format!("closedloop: no field `{k}`")))?;
        out.push_str(&format!("{k} = {}\n", toml_value(x)));
    }
    Ok(out)
}

fn toml_value(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) if !n.is_f64() => u.to_string(),
            (_, Some(i), _) if !n.is_f64() => i.to_string(),
            (_, _, Some(f)) => format!("{f:?}"),
            _ => n.to_string(),
        },
        // exact_f64 writes infinities and NaN as strings: TOML spells them bare
        J::String(s) if s.parse::<f64>().is_ok() => s.clone(),
        // a JSON string literal is a TOML basic string
        J::String(_) => v.to_string(),
        J::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        J::Bool(b) => b.to_string(),
        J::Null => "nan".into(),
        J::Object(_) => v.to_string(),
    }
}
