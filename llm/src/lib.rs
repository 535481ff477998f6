//! entropic-llm provides a Qwen2-architecture language model in candle with
//! a differentiable training path, batched KV-cache sampling, AdamW with
//! resumable state, Hugging Face checkpoints, tokenizers, arithmetic tasks
//! with verifiable rewards, a GRPO trainer with the entropy controller of
//! `entropic-sim` ([`grpo::GrpoTrainer`], exact resume), device selection
//! ([`device`]), the entropy composition of a checkpoint's samples
//! ([`diagnose`]) and a self-test ([`selftest`]). The `entropic llm` command
//! line lives in the binary; this crate depends on neither clap nor the
//! claims crate.
//!
//! Main types: [`Qwen2`] (model), [`Qwen2Config`], [`AdamW`], [`Tok`],
//! [`tasks::ArithConfig`], and the functions [`token_logp_entropy`],
//! [`generate`], [`checkpoint::save`] / [`checkpoint::load`].
//!
//! ```
//! use entropic_llm::{Qwen2, Qwen2Config, token_logp_entropy};
//! use candle_core::{Device, DType, Tensor};
//! use rand::SeedableRng;
//! let cfg = Qwen2Config::tiny(16, 8, 16, 1, 2, 1);
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let model = Qwen2::init(&cfg, &Device::Cpu, DType::F32, &mut rng).unwrap();
//! let ids = Tensor::new(&[[1u32, 2, 3]], &Device::Cpu).unwrap();
//! let mask = Tensor::new(&[[1u32, 1, 1]], &Device::Cpu).unwrap();
//! let logits = model.forward_train(&ids, &mask).unwrap(); // (1, 3, 16)
//! let (logp, h) = token_logp_entropy(&logits, &ids, 1.0).unwrap();
//! assert_eq!(logp.dims(), &[1, 3]);
//! assert!(h.max_all().unwrap().to_scalar::<f32>().unwrap() <= (16f32).ln() + 1e-4);
//! ```
// `!(x > 0.0)` is used on purpose: it also rejects NaN. `%` stays for the
// crate's MSRV (1.80; `is_multiple_of` is newer).
#![allow(
    clippy::neg_cmp_op_on_partial_ord,
    clippy::nonminimal_bool,
    clippy::manual_is_multiple_of
)]
pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod device;
pub mod diagnose;
pub mod error;
pub mod eval;
pub mod grpo;
pub mod kernels;
pub mod keys;
pub mod model;
pub mod optim;
pub mod pretrain;
pub mod sample;
pub mod selftest;
pub mod tasks;
pub mod tokenizer;
pub mod words;

pub use config::Qwen2Config;
pub use error::{LlmError, Result};
pub use model::{KvCache, Qwen2, TrainOps};
pub use optim::{AdamW, AdamWConfig, AdamWState};
pub use sample::{generate, token_logp_entropy, Draws, Sample, SampleConfig};
pub use tokenizer::Tok;
