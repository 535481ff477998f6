//! `entropic-sim` provides the EntroPIC entropy controller (and the peer
//! methods users compare it with), the entropy mathematics of MATH.md, and a
//! softmax-bandit GRPO simulator fast enough to sweep thousands of runs.
//!
//! The controller ([`control`]) works on token-level numbers only (advantage,
//! log-probabilities, per-token entropy), so the LLM trainer in
//! `entropic-llm` uses exactly the same code as the toy.
//!
//! ```
//! use entropic_sim::entropy::{entropy, softmax};
//! let p = softmax(&[0.0, 0.0], 1.0);
//! assert!((entropy(&p) - 2f64.ln()).abs() < 1e-12);
//! ```

pub mod control;
pub mod entropy;
pub mod error;
pub mod figures;
pub mod metrics;
pub mod report;
pub mod stats;

pub use error::SimError;
