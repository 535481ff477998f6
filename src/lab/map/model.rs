//! The regime map's shared types (docs/design.md §5, `entropic map`): what
//! a cell is ([`CellSpec`]), what is run in it ([`ArmSpec`]), and what is
//! written for it ([`CellResult`], one JSON file per cell). Kept apart from
//! the modules that build, run and report cells so none of them imports
//! another's types through the parent module.
use entropic_sim::optim::OptimizerKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The policy family a cell runs (docs/design.md §4; translated to the
/// simulator's `policy` key by [`super::cells::bandit_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyFamily {
    /// Per-position logits, no previous-token table.
    PerPosition,
    /// Shared output embedding (K × d) and a hidden vector per position.
    Factored,
}

/// Shape of the near-deterministic positions' tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TailShape {
    Flat,
    Zipf,
}

/// Whether a tail token at a near-deterministic position fails the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TailReward {
    /// The response is wrong (as in a real LLM).
    Zero,
    /// The reward ignores it (long responses).
    Neutral,
}

/// Which block of the map a cell belongs to; decides its arm set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellKind {
    /// K × tail mass, length 8 with 2 forks, T = 1 (Adam and SGD).
    Core,
    /// One change at K = 256, tail 0.03.
    Variation,
    /// The factored policy.
    Factored,
    /// The paper-like family (issue 18, item 4); also gets the
    /// `adaptive-entropy` and `clip-cov` arms.
    PaperLike,
}

/// One cell of the map: the instance family and training settings. Every
/// field is an input; the results are in [`CellResult`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSpec {
    /// Stable name, also the cell's file name (`regime-map-cells/<id>.json`).
    pub id: String,
    pub kind: CellKind,
    pub policy: PolicyFamily,
    /// K, the vocabulary.
    pub vocab: usize,
    /// Mean `1 − p_top` at the near-deterministic positions (T = 1 logits).
    pub tail_mass: f64,
    pub tail_shape: TailShape,
    pub tail_reward: TailReward,
    /// Response length L.
    pub length: usize,
    /// Forking positions; the other `length − forks` are near-deterministic.
    pub forks: usize,
    /// Factored policy's embedding dimension d (`None` for per-position).
    pub embed_dim: Option<usize>,
    pub temperature: f64,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub steps: usize,
    /// The exact entropy after every this many updates (a divisor of
    /// `steps`): the figures and the paired fits use the steps that have it.
    pub exact_every: usize,
    /// Seeds of `grpo`, `alpha-1` and `alpha+1`.
    pub seeds_main: usize,
    /// Seeds of every other arm.
    pub seeds_other: usize,
}

impl CellSpec {
    /// Share of near-deterministic positions, `1 − forks/length`.
    pub fn det_share(&self) -> f64 {
        1.0 - self.forks as f64 / self.length.max(1) as f64
    }
}

/// The PI gains of a `pi-<gains>@<target>` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gains {
    /// Kp 1, Ki 0.01 (the authors' script).
    Official,
    /// Kp 10, Ki 0.1.
    Scaled,
    /// `control.scale_free = true` with `SCALE_FREE_GAINS`.
    Scalefree,
}

impl Gains {
    pub fn name(self) -> &'static str {
        match self {
            Gains::Official => "official",
            Gains::Scaled => "scaled",
            Gains::Scalefree => "scalefree",
        }
    }
}

/// The target of a PI arm as a fraction of the cell's H0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetLevel {
    /// 0.3·H0.
    Low,
    /// 0.5·H0.
    Half,
    /// 0.7·H0.
    High,
    /// (0.10/0.12)·H0: the paper's target 0.1 against its start 0.12.
    Paper,
}

impl TargetLevel {
    pub fn name(self) -> &'static str {
        match self {
            TargetLevel::Low => "low",
            TargetLevel::Half => "half",
            TargetLevel::High => "high",
            TargetLevel::Paper => "paper",
        }
    }
    /// H_tar / H0.
    pub fn fraction(self) -> f64 {
        match self {
            TargetLevel::Low => 0.3,
            TargetLevel::Half => 0.5,
            TargetLevel::High => 0.7,
            TargetLevel::Paper => 0.10 / 0.12,
        }
    }
}

/// What an arm runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmKind {
    /// Plain GRPO, the twin of every constant-α arm.
    Plain,
    /// A constant, unclipped α from step 0.
    Constant(f64),
    /// EntroPIC-PI with these gains and target.
    Pi(Gains, TargetLevel),
    /// Skywork-OR1's adaptive entropy bonus (paper-like cells).
    AdaptiveEntropy,
    /// Clip-Cov (paper-like cells).
    ClipCov,
}

/// One arm of a cell: its name in the JSON and what it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmSpec {
    pub name: String,
    pub kind: ArmKind,
    pub seeds: usize,
}

/// `g` (or `b`) with its 95% interval and power, as written in the JSON;
/// `None` where the estimator refused or the value is not finite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GainJson {
    pub g: Option<f64>,
    pub g_ci: [Option<f64>; 2],
    pub g_detectable: Option<f64>,
    /// Degrees of freedom of the interval (`GainEstimate::df`), which sets
    /// how many standard errors `g_detectable` is; absent from JSON
    /// written before 2026-11-30 and where there is no estimate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub df: Option<f64>,
    /// What the interval's variance rests on (in JSON snake case:
    /// `seed_slopes`, `increments`, ...); absent as `df` is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub variance: Option<entropic_proofs::ident_power::VarianceSource>,
    /// Why there is no estimate, if there is none.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

/// `g` in one window of the run (`g_windows`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowJson {
    pub start: usize,
    pub end: usize,
    /// Mean entropy of the probe arms over the window: the entropy level
    /// this `g` belongs to.
    pub mean_entropy: Option<f64>,
    pub g: Option<f64>,
    pub g_ci: [Option<f64>; 2],
    pub g_detectable: Option<f64>,
    pub b: Option<f64>,
    pub b_ci: [Option<f64>; 2],
}

/// A PI arm's outcome, in the order they are tested (the first that fits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Saturated,
    Holds,
    HoldsLate,
    NoAuthority,
    LostAuthority,
    Misses,
    Undetermined,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Saturated => "saturated",
            Outcome::Holds => "holds",
            Outcome::HoldsLate => "holds-late",
            Outcome::NoAuthority => "no-authority",
            Outcome::LostAuthority => "lost-authority",
            Outcome::Misses => "misses",
            Outcome::Undetermined => "undetermined",
        }
    }
    pub const ALL: [Outcome; 7] = [
        Outcome::Saturated,
        Outcome::Holds,
        Outcome::HoldsLate,
        Outcome::NoAuthority,
        Outcome::LostAuthority,
        Outcome::Misses,
        Outcome::Undetermined,
    ];
}

/// One arm's figures over its seeds (all on `entropy_exact`; see
/// [`super::measure`] for each definition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmResult {
    pub seeds: usize,
    /// The target the errors are measured against: the arm's own, or
    /// 0.5·H0 for arms without one.
    pub target: Option<f64>,
    pub h_final: Option<f64>,
    pub final_rel_err: Option<f64>,
    /// Median over seeds of the settling step (band |e| ≤ 0.1·H_tar, no
    /// floor); `None` when the median seed never settled.
    pub settling_step: Option<f64>,
    pub pass_final: Option<f64>,
    /// `pass_final` of `grpo` minus this arm's (positive: the arm costs
    /// pass rate).
    pub pass_cost: Option<f64>,
    /// Share of the last quarter's steps with |α| at its clip (mean over seeds).
    pub alpha_saturated: Option<f64>,
    /// Share of groups with zero advantage over the last quarter (mean
    /// over steps and seeds of `zero_adv_frac`).
    pub zero_adv_share: Option<f64>,
    /// PI arms only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub outcome: Option<Outcome>,
}

/// Everything the map writes for one cell (`regime-map-cells/<id>.json`, and one
/// element of `regime-map.json`'s `cells`, where `spec` and `seconds` are
/// left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub id: String,
    pub policy: PolicyFamily,
    pub vocab: usize,
    pub tail_mass: f64,
    pub length: usize,
    pub det_share: f64,
    pub temperature: f64,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub h0: Option<f64>,
    pub hp_frac0: Option<f64>,
    pub hp_entropy_share0: Option<f64>,
    pub g: Option<f64>,
    pub g_ci: [Option<f64>; 2],
    pub g_detectable: Option<f64>,
    pub g_by_arm: BTreeMap<String, GainJson>,
    pub g_windows: Vec<WindowJson>,
    pub b: Option<f64>,
    pub b_ci: [Option<f64>; 2],
    pub arms: BTreeMap<String, ArmResult>,
    /// What ran: the simulator policy and its composition keys.
    pub ran_as: String,
}

/// A finished cell as stored in `regime-map-cells/<id>.json`: its inputs, its
/// results and its wall time (the time is reported in the Markdown, never
/// in `regime-map.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellFile {
    pub spec: CellSpec,
    pub result: CellResult,
    pub seconds: f64,
    /// Worker threads of the run that computed it.
    pub threads: usize,
    /// Git revision of the build that computed it (`git describe`, as in
    /// every stamp); `None` where that build did not know it, and in cell
    /// files written before this field existed. `--resume` compares it with
    /// its own ([`super::other_builds`]).
    #[serde(default)]
    pub git_revision: Option<String>,
}

/// `Some(x)` when finite.
pub fn fin(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// `x` or NaN.
pub fn nan(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}
