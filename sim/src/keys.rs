//! The one reference of every scenario key: its type, default, allowed range
//! and meaning. `entropic scenario --keys` prints it, `docs/scenarios.md` is
//! generated from it, and a test keeps it in step with the config structs.

use crate::rl;

/// One documented key.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    /// Dotted path (`grpo.lr`); `arms[].x` keys are documented once.
    pub key: &'static str,
    /// `float`, `integer`, `string`, `bool`, `array`, `table`.
    pub ty: &'static str,
    pub default: &'static str,
    pub range: &'static str,
    pub meaning: &'static str,
}

const fn k(
    key: &'static str,
    ty: &'static str,
    default: &'static str,
    range: &'static str,
    meaning: &'static str,
) -> KeyDoc {
    KeyDoc {
        key,
        ty,
        default,
        range,
        meaning,
    }
}

/// Every key a scenario file may hold.
pub const KEYS: &[KeyDoc] = &[
    k("name", "string", "file stem", "any", "Scenario name used in reports."),
    k("expect", "string", "\"\"", "any", "What result to expect; quoted at the top of the report."),
    k("seeds", "integer", "8", "1..=10000", "Number of seeds (overridden by `--seeds`)."),
    k("steps", "integer", "300", "1..=1000000", "Training steps (rollout batches) per seed."),
    k("exact_every", "integer", "1", "0..=steps", "Log `entropy_exact` and `pass_rate` every N steps (0 = never; the last step is always logged)."),
    k("bandit.policy", "string", "\"tabular\"", "tabular | linear | sequence | per_position | factored", "Policy parameterisation. `per_position`: one logit vector per (prompt, position), positions independent of the previous token; `factored`: logits `E·h` from a shared, trained output embedding E (K × d) and a trained hidden vector per (prompt, position) (docs/mathematics.md §8). Both: near-deterministic positions with a controlled tail (`tail_*`), `forks` fork positions shared by every prompt, exact entropy and pass rate; they ignore `features`, `det_margin`, `table_scale`."),
    k("bandit.prompts", "integer", "64", "1..=1000000", "M, number of prompts."),
    k("bandit.actions", "integer", "16", "2..=4096 (sequence: 2..=32; factored: 2..=32768)", "K, actions (vocabulary size)."),
    k("bandit.logit_scale", "float", "1.0", "0..=100", "Initial logits ~ N(0, scale²); sets the initial entropy (sequence: at forks; per_position, factored: of a fork's candidates)."),
    k("bandit.correct_size", "integer", "1", "1..=K-1 (per_position, factored: below the fork's candidates)", "Size of the correct set per prompt (sequence, per_position, factored: per fork)."),
    k("bandit.correct_rank", "string", "\"random\"", "random | mode | middle | rare", "Where the correct set sits in the initial ranking."),
    k("bandit.pass_rate", "array", "[]", "[] or [lo, hi] with 0 < lo <= hi < 1", "Initial pass rate per prompt, uniform in [lo, hi] (shifts the correct logits; per fork `p^(1/forks)`, of the candidates' mass in per_position and factored)."),
    k("bandit.update_rule", "string", "\"vanilla\"", "vanilla | sampled_logit | natural", "How a token's gradient moves its context's logits (docs/mathematics.md §4)."),
    k("bandit.sampling", "string", "\"sampled\"", "sampled | exact", "`exact`: the expected update, no sampling noise (tabular, linear only)."),
    k("bandit.features", "integer", "16", "1..=4096", "linear: feature dimension D."),
    k("bandit.length", "integer", "8", "1..=16 (per_position, factored: 1..=64)", "sequence, per_position, factored: response length L."),
    k("bandit.forks", "integer", "2", "0..=L", "sequence, per_position, factored: forking positions (the same positions for every prompt, fork j of F at j·L/F + L/(2F)); the others are near-deterministic."),
    k("bandit.det_margin", "float", "6.0", "0..=50", "sequence: logit margin of the accepted token at non-forking positions."),
    k("bandit.table_scale", "float", "0.5", "0..=50", "sequence: scale of the shared (position, previous token) table."),
    k("bandit.logits", "array", "[]", "rows of equal length >= 2", "Explicit initial logits, one row per prompt (tabular)."),
    k("bandit.correct", "array", "[]", "one list of indices < K per row of logits", "Explicit correct sets."),
    k("bandit.instance_seed", "integer", "unset", ">= 0", "Use this instance for every seed (default: the instance follows the seed)."),
    k("bandit.fork_width", "integer", "0", "0, or 2..=K (factored: 2..=d-1)", "per_position, factored: candidate tokens at a fork, holding 1 − tail_mass with the tail on the rest; 0 = every token (per_position, no separate tail) or the d − 1 head tokens (factored)."),
    k("bandit.tail_mass", "float", "0.03", "(0, 1)", "per_position, factored: mass off the top (correct) token at a near-deterministic position at T = 1, spread over the other K − 1 tokens by `tail_shape`; exact at init in both policies."),
    k("bandit.tail_shape", "string", "\"flat\"", "flat | zipf", "per_position, factored: the tail evenly, or the r-th tail token ∝ r^(−tail_zipf) (per_position: a fresh random ranking per position; factored: one global ranking)."),
    k("bandit.tail_zipf", "float", "1.0", "0..=10", "per_position, factored: Zipf exponent of `tail_shape = \"zipf\"`."),
    k("bandit.tail_reward", "string", "\"zero\"", "zero | neutral", "per_position, factored: `zero`: a tail token sampled at a near-deterministic position makes the response wrong; `neutral`: the reward ignores near-deterministic positions (only forks count)."),
    k("bandit.embed_dim", "integer", "16", "2..=64, <= K", "factored: embedding dimension d (the first d − 1 tokens are the head tokens that can be correct; ignored by the other policies)."),
    k("grpo.group_size", "integer", "8", rl::GROUP_SIZE.range, rl::GROUP_SIZE.meaning),
    k("grpo.batch_prompts", "integer", "32", "1..=prompts", rl::BATCH_PROMPTS.meaning),
    k("grpo.temperature", "float", "1.0", rl::TEMPERATURE.range, rl::TEMPERATURE.meaning),
    k("grpo.lr", "float", "0.05", rl::LR.range, rl::LR.meaning),
    k("grpo.optimizer", "string", "\"adam\"", "adam | sgd", "Optimizer (Adam is dense, as PyTorch's)."),
    k("grpo.adam_beta1", "float", "0.9", rl::ADAM_BETA1.range, rl::ADAM_BETA1.meaning),
    k("grpo.adam_beta2", "float", "0.999", rl::ADAM_BETA2.range, rl::ADAM_BETA2.meaning),
    k("grpo.adam_eps", "float", "1e-8", rl::ADAM_EPS.range, rl::ADAM_EPS.meaning),
    k("grpo.adv_std", "string", "\"unbiased\"", rl::ADV_STD.range, rl::ADV_STD.meaning),
    k("grpo.adv_eps", "float", "1e-6", rl::ADV_EPS.range, rl::ADV_EPS.meaning),
    k("grpo.eps_low", "float", "0.2", rl::EPS_LOW.range, rl::EPS_LOW.meaning),
    k("grpo.eps_high", "float", "0.2", rl::EPS_HIGH.range, rl::EPS_HIGH.meaning),
    k("grpo.dual_clip", "float", "3.0", rl::DUAL_CLIP.range, rl::DUAL_CLIP.meaning),
    k("grpo.kl_coef", "float", "0.0", rl::KL_COEF.range, rl::KL_COEF.meaning),
    k("grpo.ppo_epochs", "integer", "1", rl::PPO_EPOCHS.range, rl::PPO_EPOCHS.meaning),
    k("grpo.minibatches", "integer", "1", rl::MINIBATCHES.range, rl::MINIBATCHES.meaning),
    k("grpo.lag", "integer", "0", rl::LAG.range, rl::LAG.meaning),
    k("grpo.grad_clip", "float", "0.0", rl::GRAD_CLIP.range, rl::GRAD_CLIP.meaning),
    k("grpo.train_on", "string", "\"all\"", "all | positive | negative", "Train only on positive or negative samples."),
    k("grpo.mask", "array", "[]", "subset of p_up, p_down, n_up, n_down", "Quadrants masked out of the loss."),
    k("grpo.mask_tau", "float", "0.95", "(0, 1), or < 0 for exp(−H)", "High/low probability line of `mask`."),
    k("control.method", "string", "\"none\"", "none | entropic | probe | entropy_bonus | adaptive_entropy | clip_cov | kl_cov | clip_higher", "Entropy method."),
    k("control.target", "float", "0.1", "[0, ln K]", "Target entropy H_tar (nats)."),
    k("control.kp", "float", "1.0", "finite", "Proportional gain."),
    k("control.ki", "float", "0.01", "finite", "Integral gain (0 = P control)."),
    k("control.alpha_max", "float", "1.0", "> 0 or inf", "α clip (inf = no clip)."),
    k("control.tau", "float", "0.95", "(0, 1)", "High-probability threshold."),
    k("control.threshold", "string", "\"tau\"", "tau | exp_neg_h", "High-probability line."),
    k("control.weighting", "string", "\"official\"", "official | plain", "official: 1 ± α·N/|HP|; plain: 1 ± α."),
    k("control.scope", "string", "\"high_prob\"", "high_prob | all", "Tokens the extra term covers."),
    k("control.measure", "string", "\"current\"", "current | rollout", "When the controller steps and what it sees (docs/mathematics.md §7)."),
    k("control.integral_form", "string", "\"before\"", "before | after", "Integral before (authors') or after this step's error."),
    k("control.anti_windup", "bool", "false", "true | false", "Conditional-integration anti-windup (ours)."),
    k("control.scale_free", "bool", "false", "true | false", "PI law on the relative error e/target (ours; needs target > 0)."),
    k("control.probe", "array", "[]", "[[steps, alpha], ...], steps >= 1", "Probe schedule (method = probe)."),
    k("control.entropy_coef", "float", "0.001", "[0, 10]", "entropy_bonus coefficient."),
    k("control.adaptive_delta", "float", "1e-4", "[0, 1]", "adaptive_entropy step Δ."),
    k("control.adaptive_c_min", "float", "0.0", "[0, c_max]", "adaptive_entropy lower bound."),
    k("control.adaptive_c_max", "float", "0.005", "[c_min, 10]", "adaptive_entropy upper bound."),
    k("control.adaptive_c0", "float", "0.0", "[c_min, c_max]", "adaptive_entropy initial coefficient."),
    k("control.clip_cov_ratio", "float", "2e-4", "(0, 1]", "clip_cov r_c."),
    k("control.clip_cov_low", "float", "1.0", "finite, < high", "clip_cov ω_low."),
    k("control.clip_cov_high", "float", "5.0", "finite, > low", "clip_cov ω_high."),
    k("control.kl_cov_ratio", "float", "2e-3", "(0, 1]", "kl_cov top-k ratio."),
    k("control.kl_cov_coef", "float", "1.0", "[0, 100]", "kl_cov β."),
    k("control.clip_higher_eps_high", "float", "0.28", "[0, 10]", "clip_higher ε_high."),
    k("arms", "array", "one arm `main`", "list of tables", "Arms run on the same instances: `[[arms]]` with `name` and optional `bandit`, `grpo`, `control` tables overriding the top-level ones."),
    k("arms[].name", "string", "required", "letters, digits, - _ .", "Arm name (its output folder)."),
    k("sweep.key", "string", "none", "a key above, e.g. control.target", "Key swept for every arm."),
    k("sweep.values", "array", "none", "values valid for that key", "Sweep points (each gets its own folder)."),
];

/// The reference as a Markdown table.
pub fn markdown() -> String {
    let mut s = String::from(
        "# Scenario keys\n\nGenerated from `sim/src/keys.rs` (`entropic scenario --keys`); a test keeps it in step with the config structs.\n\n| key | type | default | range | meaning |\n|---|---|---|---|---|\n",
    );
    for d in KEYS {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            d.key, d.ty, d.default, d.range, d.meaning
        ));
    }
    s
}

/// Look up a key's documentation.
pub fn doc(key: &str) -> Option<&'static KeyDoc> {
    KEYS.iter().find(|d| d.key == key)
}
