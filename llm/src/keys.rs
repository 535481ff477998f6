//! The reference of the LLM config keys (`[model]`, `[task]`, `[pretrain]`,
//! `[eval]`, `[grpo]` and the top-level `seed`), printed by `entropic llm
//! keys`. Each key's type and default are generated from the config structs
//! (their `Default` serialised), so they cannot drift; the range and meaning
//! are written here, and a test checks that this table and the structs name
//! the same keys. `[control]` is the simulator's `ControlConfig`: its keys
//! are in `entropic scenario`'s reference.
use crate::grpo::config::GrpoParams;
use crate::pretrain::{EvalConfig, ModelShape, PretrainConfig};
use crate::tasks::ArithConfig;
use serde::Serialize;

/// Range and meaning of one key (`table.key`, or `seed`).
pub type KeyText = (&'static str, &'static str, &'static str);

/// Range and meaning of every key, by table, in the structs' field order.
pub const KEYS: &[KeyText] = &[
    ("seed", ">= 0", "Seed of the pretrain run (initialisation, data order)."),
    ("model.hidden_size", ">= 1, an even multiple of num_attention_heads", "Width of the residual stream."),
    ("model.intermediate_size", ">= 1", "Width of the SwiGLU MLP."),
    ("model.num_hidden_layers", ">= 1", "Transformer blocks."),
    ("model.num_attention_heads", ">= 1, a multiple of num_key_value_heads", "Query heads."),
    ("model.num_key_value_heads", ">= 1", "Key/value heads (grouped-query attention)."),
    ("model.max_position_embeddings", ">= 1", "Longest sequence (prompt + answer) in tokens."),
    ("task.kinds", "non-empty subset of add, sub, mul, mixed", "Problem kinds, drawn uniformly."),
    ("task.digits", "1..=9", "Digits of `+`/`−` operands."),
    ("task.mul_digits", "1..=4", "Digits of `*` operands."),
    ("task.mixed_digits", "1..=3", "Digits of mixed-expression operands."),
    ("task.val_share", "(0, 1)", "Share of problems (by hash of the prompt) in the validation split."),
    ("task.split_seed", ">= 0", "Seed of the split hash: the same seed gives the same split."),
    ("task.add_steps", "bool", "Addition's worked answer as per-digit steps with carries instead of reversed digits."),
    ("task.style", "symbols | words", "How answers are written: symbols, or English sentences (kinds = [\"add\"], digits 1..=6) with Zipf-drawn phrasings and word substitutions."),
    ("task.zipf", "[0, 10]", "`words`: Zipf exponent of the phrasing pools (0 = uniform)."),
    ("task.subst_rate", "[0, 0.5]", "`words`: per-word probability of replacing a word by a common word (never a digit)."),
    ("pretrain.steps", ">= 1", "Optimizer steps: the base is these steps, whatever the machine."),
    ("pretrain.batch_size", ">= 1", "Sequences per step."),
    ("pretrain.lr", "> 0", "Peak learning rate; linear warm-up, then cosine decay to 10 %."),
    ("pretrain.warmup", ">= 0", "Warm-up steps."),
    ("pretrain.weight_decay", ">= 0", "AdamW weight decay."),
    ("pretrain.grad_clip", "> 0", "Global gradient-norm clip."),
    ("pretrain.wrong_frac", "[0, 1]", "Share of training answers worked out for a wrong result."),
    ("pretrain.time_limit_s", ">= 0 (0 = none)", "Wall-clock budget of the training loop in seconds; running out before `steps` is an error (the base is incomplete, nothing saved)."),
    ("tokenizer.kind", "char | bpe", "The character tokenizer (58 tokens) or a byte-level BPE trained on the generated corpus (digits single tokens, BOS added by its post-processor)."),
    ("tokenizer.vocab_size", "64..=65536", "BPE: vocabulary size, specials included; training fails if the corpus gives fewer tokens at min_frequency."),
    ("tokenizer.min_frequency", ">= 1", "BPE: least count of a pair in the corpus for a merge."),
    ("tokenizer.corpus", "1..=10000000", "BPE: generated training examples (prompt and response) of the tokenizer's corpus."),
    ("eval.problems", ">= 1", "Validation problems."),
    ("eval.n", ">= k", "Samples per problem."),
    ("eval.k", ">= 1", "k of pass@k."),
    ("eval.temperature", ">= 0", "Sampling temperature of the evaluation."),
    ("eval.max_new_tokens", ">= 1", "Most generated tokens per sample."),
    ("eval.batch", ">= 1", "Sequences per sampling batch."),
    ("grpo.seed", ">= 0", "Seed of every random choice of the run (prompts, samples, clip_cov)."),
    ("grpo.steps", ">= 1", "Training steps (rollout batches consumed)."),
    ("grpo.group_size", ">= 2", "G completions per prompt."),
    ("grpo.batch_prompts", ">= 1", "Prompts per rollout batch."),
    ("grpo.temperature", "finite and > 0", "Sampling temperature T; log-probs, ratios and entropies use the same T."),
    ("grpo.max_new_tokens", ">= 1", "Most generated tokens per completion (the stop token included)."),
    ("grpo.lr", "finite and > 0", "Peak learning rate of AdamW."),
    ("grpo.lr_schedule", "constant | cosine | linear", "Learning-rate schedule after the warm-up."),
    ("grpo.warmup_steps", ">= 0", "Linear warm-up steps from `lr/warmup_steps` to `lr`."),
    ("grpo.min_lr_frac", "[0, 1]", "Final learning rate as a share of `lr` (cosine, linear)."),
    ("grpo.weight_decay", "finite and >= 0", "AdamW weight decay."),
    ("grpo.adam_beta1", "[0, 1)", "AdamW β1."),
    ("grpo.adam_beta2", "[0, 1)", "AdamW β2."),
    ("grpo.adam_eps", "finite and > 0", "AdamW ε."),
    ("grpo.adv_std", "unbiased | population | none", "Group-advantage normalisation."),
    ("grpo.adv_eps", "finite and >= 0", "ε added to the group standard deviation."),
    ("grpo.eps_low", "[0, 1)", "Lower PPO clip ε."),
    ("grpo.eps_high", "finite and >= 0", "Upper PPO clip ε."),
    ("grpo.dual_clip", "> 1 (inf = off)", "verl's dual clip c for A < 0."),
    ("grpo.kl_coef", "finite and >= 0 (0 = off)", "β of the k3 KL to the frozen base model."),
    ("grpo.ppo_epochs", ">= 1", "Optimizer passes over each rollout batch."),
    ("grpo.minibatches", "1..=batch_prompts", "Minibatches per pass, split by prompt group."),
    ("grpo.lag", "0..=64", "Asynchronous lag d: the batch used at step t was sampled by the policy of step t − d."),
    ("grpo.grad_clip", "finite and >= 0 (0 = off)", "Global gradient-norm clip."),
    ("grpo.old_logp", "recompute | sampler", "π_old of the ratio: a training-path forward pass once per rollout batch before its first update (recompute, the authors'), or the behaviour policy's log-probs from sampling time (sampler)."),
    ("grpo.checkpoint_every", ">= 1", "Write a checkpoint after every this many steps (and after the last)."),
    ("grpo.val_every", ">= 0 (0 = never)", "Validation pass@1 and `entropy_exact` after every this many updates (steps s with (s + 1) % val_every = 0); also at the last step."),
    ("grpo.val_problems", ">= 1", "Validation problems (one sample each at T)."),
    ("grpo.sample_batch", ">= 1", "Sequences per sampling call (memory bound of generation)."),
];

/// One generated row: key, type, default (TOML), range, meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub key: String,
    pub ty: &'static str,
    pub default: String,
    pub range: &'static str,
    pub meaning: &'static str,
}

fn toml_type(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "string",
        toml::Value::Integer(_) => "integer",
        toml::Value::Float(_) => "float",
        toml::Value::Boolean(_) => "bool",
        toml::Value::Array(_) => "array",
        toml::Value::Table(_) => "table",
        toml::Value::Datetime(_) => "datetime",
    }
}

/// `(key, default)` of every field of `T::default()`, prefixed `table.`.
fn defaults<T: Serialize + Default>(table: &str) -> Vec<(String, toml::Value)> {
    let v = toml::Value::try_from(T::default()).unwrap_or(toml::Value::Table(Default::default()));
    match v {
        toml::Value::Table(t) => t
            .into_iter()
            .map(|(k, v)| (format!("{table}.{k}"), v))
            .collect(),
        _ => Vec::new(),
    }
}

/// Every key with its generated type and default, in [`KEYS`] order; keys
/// of the structs missing from [`KEYS`] (or the reverse) appear with the
/// range `undocumented` (or the type `unknown`), which the test refuses.
pub fn rows() -> Vec<KeyRow> {
    let mut gen: Vec<(String, toml::Value)> = vec![("seed".into(), toml::Value::Integer(0))];
    gen.extend(defaults::<ModelShape>("model"));
    gen.extend(defaults::<ArithConfig>("task"));
    gen.extend(defaults::<PretrainConfig>("pretrain"));
    gen.extend(defaults::<crate::tokenizer::TokenizerConfig>("tokenizer"));
    gen.extend(defaults::<EvalConfig>("eval"));
    gen.extend(defaults::<GrpoParams>("grpo"));
    let mut out: Vec<KeyRow> = KEYS
        .iter()
        .map(|&(key, range, meaning)| {
            let g = gen.iter().find(|(k, _)| k == key);
            KeyRow {
                key: key.into(),
                ty: g.map_or("unknown", |(_, v)| toml_type(v)),
                default: g.map_or("-".into(), |(_, v)| v.to_string()),
                range,
                meaning,
            }
        })
        .collect();
    for (k, v) in &gen {
        if !KEYS.iter().any(|d| d.0 == k) {
            out.push(KeyRow {
                key: k.clone(),
                ty: toml_type(v),
                default: v.to_string(),
                range: "undocumented",
                meaning: "",
            });
        }
    }
    out
}

/// The Markdown reference printed by `entropic llm keys`.
pub fn markdown() -> String {
    let mut s = String::from(
        "# LLM config keys\n\nGenerated by `entropic llm keys` (types and defaults from the config structs, \
         ranges and meanings from `llm/src/keys.rs`). `[model]`, `[task]`, `[pretrain]`, `[tokenizer]`, `[eval]` and `seed` \
         are read by `entropic llm pretrain`; `[grpo]`, `[control]` and `[task]` by `entropic llm grpo`. \
         `[control]` is the simulator's table: see `entropic scenario`.\n\n\
         | key | type | default | range | meaning |\n|---|---|---|---|---|\n",
    );
    for r in rows() {
        s.push_str(&format!(
            "| `{}` | {} | `{}` | {} | {} |\n",
            r.key, r.ty, r.default, r.range, r.meaning
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table and the structs name the same keys, each once.
    #[test]
    fn every_struct_key_is_documented_once() {
        let rows = rows();
        let bad: Vec<&KeyRow> = rows
            .iter()
            .filter(|r| r.range == "undocumented" || r.ty == "unknown")
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
        let mut keys: Vec<&str> = KEYS.iter().map(|k| k.0).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), KEYS.len(), "a key is documented twice");
        // Defaults are the structs': spot-check one per table.
        let get = |k: &str| rows.iter().find(|r| r.key == k).map(|r| r.default.clone());
        assert_eq!(
            get("grpo.group_size"),
            Some(GrpoParams::default().group_size.to_string())
        );
        assert_eq!(
            get("model.hidden_size"),
            Some(ModelShape::default().hidden_size.to_string())
        );
        assert_eq!(get("task.kinds"), Some("[\"add\", \"sub\"]".into()));
    }
}
