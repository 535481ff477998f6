//! `entropic-sim` provides the EntroPIC entropy controller (and the peer
//! methods users compare it with), the entropy mathematics of docs/mathematics.md, and a
//! softmax-bandit GRPO simulator fast enough to sweep thousands of runs.
//!
//! - [`control`]: the controller, the probe and the peers, and the token
//!   loss with its gradient; token-level only, so the LLM trainer in
//!   `entropic-llm` uses exactly the same code as the toy.
//! - [`entropy`]: entropy, its gradient, first-order predictions, quadrants.
//! - [`advantage`]: group advantages, shared by the toy and the LLM trainer.
//! - [`bandit`], [`positional`], [`grpo`], [`optim`]: the simulator;
//!   [`keyed`]: the keyed uniforms its rollouts (and the LLM sampler) draw
//!   from.
//! - [`scenario`], [`keys`], [`runner`]: TOML scenarios and running them.
//! - [`stats`], [`metrics`], [`figures`], [`report`]: the record schema,
//!   intervals, run figures and Markdown/SVG reports.
//!
//! ```
//! use entropic_sim::entropy::{entropy, softmax};
//! let p = softmax(&[0.0, 0.0], 1.0);
//! assert!((entropy(&p) - 2f64.ln()).abs() < 1e-12);
//! ```

// First, so its `rl_struct!` is in scope in the modules below (`grpo`).
#[macro_use]
pub mod rl;
pub mod advantage;
pub mod atomic;
pub mod bandit;
pub mod composition;
pub mod control;
pub mod entropy;
pub mod error;
pub mod figures;
pub mod grpo;
pub mod keyed;
pub mod keys;
pub mod memory;
pub mod metrics;
pub mod numfmt;
pub mod optim;
pub mod plot;
pub mod positional;
pub mod provenance;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod scratch;
pub mod simd;
pub mod stats;
pub mod tomlmsg;

pub use error::SimError;
