//! The Qwen2 model configuration, read from and written to Hugging Face's
//! `config.json`.
use crate::error::{LlmError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Qwen2 hyper-parameters with Hugging Face key names.
///
/// Reads both config generations: the old one (top-level `rope_theta`,
/// integer `sliding_window`) and the current one (`rope_parameters`
/// holding `rope_theta`, `sliding_window: null`). Unknown keys are ignored,
/// because real checkpoints carry many we do not use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Qwen2Config {
    /// `["Qwen2ForCausalLM"]`.
    #[serde(default)]
    pub architectures: Vec<String>,
    /// Must be `qwen2`.
    #[serde(default)]
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    /// Defaults to `num_attention_heads` (transformers does the same).
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    /// Old layout; the current one puts it in `rope_parameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_theta: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_parameters: Option<serde_json::Value>,
    /// `tie_word_embeddings` (transformers' Qwen2 default: false).
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default)]
    pub use_sliding_window: bool,
    #[serde(default)]
    pub sliding_window: Option<usize>,
    #[serde(default)]
    pub max_window_layers: Option<usize>,
    #[serde(default = "default_init")]
    pub initializer_range: f64,
    #[serde(default)]
    pub bos_token_id: Option<u32>,
    /// A single id or a list in real configs.
    #[serde(default)]
    pub eos_token_id: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad_token_id: Option<u32>,
    #[serde(default = "default_dtype", alias = "dtype")]
    pub torch_dtype: String,
    #[serde(default)]
    pub attention_dropout: f64,
    #[serde(default)]
    pub use_cache: bool,
}

fn default_max_pos() -> usize {
    32768
}
fn default_eps() -> f64 {
    1e-6
}
fn default_act() -> String {
    "silu".into()
}
fn default_init() -> f64 {
    0.02
}
fn default_dtype() -> String {
    "float32".into()
}

impl Qwen2Config {
    /// A small config with this project's defaults (tied embeddings,
    /// theta 10 000, eps 1e-6), for tests, benchmarks and pretraining.
    pub fn tiny(
        vocab: usize,
        hidden: usize,
        inter: usize,
        layers: usize,
        heads: usize,
        kv: usize,
    ) -> Self {
        Qwen2Config {
            architectures: vec!["Qwen2ForCausalLM".into()],
            model_type: "qwen2".into(),
            vocab_size: vocab,
            hidden_size: hidden,
            intermediate_size: inter,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            num_key_value_heads: Some(kv),
            max_position_embeddings: 512,
            rms_norm_eps: 1e-6,
            rope_theta: Some(10_000.0),
            rope_parameters: None,
            tie_word_embeddings: true,
            hidden_act: "silu".into(),
            use_sliding_window: false,
            sliding_window: None,
            max_window_layers: Some(layers),
            initializer_range: 0.02,
            bos_token_id: None,
            eos_token_id: None,
            pad_token_id: None,
            torch_dtype: "float32".into(),
            attention_dropout: 0.0,
            use_cache: true,
        }
    }

    /// Reads `config.json`; a missing file, bad JSON or bad values are input errors.
    pub fn load(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| LlmError::input(&file, format!("cannot read: {e}")))?;
        let cfg: Qwen2Config = serde_json::from_str(&text)
            .map_err(|e| LlmError::input(&file, format!("not a valid config: {e}")))?;
        cfg.validate(&file)?;
        Ok(cfg)
    }

    /// Writes `config.json` in the layout transformers reads (old and new
    /// versions alike: the top-level `rope_theta` is kept).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut c = self.clone();
        c.rope_theta = Some(self.theta());
        c.rope_parameters = None;
        let text = serde_json::to_string_pretty(&c)?;
        std::fs::write(path, text).map_err(|e| LlmError::Io {
            path: path.display().to_string(),
            source: e,
        })
    }

    /// RoPE base: `rope_parameters.rope_theta`, else `rope_theta`, else 10 000
    /// (transformers' default).
    pub fn theta(&self) -> f64 {
        self.rope_parameters
            .as_ref()
            .and_then(|p| p.get("rope_theta"))
            .and_then(|v| v.as_f64())
            .or(self.rope_theta)
            .unwrap_or(10_000.0)
    }

    /// The padding token of sampling: `pad_token_id`, else the first stop
    /// token, else 0 (never attended to, so any id serves).
    pub fn pad_id(&self, stop: &[u32]) -> u32 {
        self.pad_token_id.or(stop.first().copied()).unwrap_or(0)
    }

    /// Number of key/value heads.
    pub fn kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    /// Per-head width.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads.max(1)
    }

    /// Range checks; `file` names the source in the message.
    ///
    /// Refused (not implemented here): sliding-window attention, RoPE
    /// scaling types other than `default`, activations other than SiLU.
    pub fn validate(&self, file: &str) -> Result<()> {
        let bad = |m: String| Err(LlmError::input(file, m));
        let arch_ok = self.model_type == "qwen2"
            || self.architectures.iter().any(|a| a == "Qwen2ForCausalLM");
        if !arch_ok {
            return bad(format!(
                "unknown architecture (model_type `{}`, architectures {:?}); only qwen2 / Qwen2ForCausalLM is supported",
                self.model_type, self.architectures
            ));
        }
        for (k, v) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.kv_heads()),
            ("max_position_embeddings", self.max_position_embeddings),
        ] {
            if v == 0 {
                return bad(format!("key `{k}` must be at least 1 (got 0)"));
            }
        }
        if self.hidden_size % self.num_attention_heads != 0 || self.head_dim() % 2 != 0 {
            return bad(format!(
                "key `hidden_size` ({}) must be an even multiple of `num_attention_heads` ({})",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if self.num_attention_heads % self.kv_heads() != 0 {
            return bad(
                "key `num_attention_heads` must be a multiple of `num_key_value_heads`".into(),
            );
        }
        if !(self.rms_norm_eps > 0.0) || !(self.theta() > 0.0) {
            return bad("keys `rms_norm_eps` and `rope_theta` must be positive".into());
        }
        if self.hidden_act != "silu" {
            return bad(format!(
                "key `hidden_act`: `{}` not supported (only silu)",
                self.hidden_act
            ));
        }
        if self.use_sliding_window {
            return bad("key `use_sliding_window`: true is not supported".into());
        }
        if let Some(t) = self
            .rope_parameters
            .as_ref()
            .and_then(|p| p.get("rope_type"))
            .and_then(|v| v.as_str())
        {
            if t != "default" {
                return bad(format!(
                    "key `rope_parameters.rope_type`: `{t}` not supported (only default)"
                ));
            }
        }
        Ok(())
    }
}
