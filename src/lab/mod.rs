//! The orchestration layer: experiments that combine the LLM trainer
//! (`entropic_llm`), the toy (`entropic_sim`) and the claims crate
//! (`entropic_proofs`). The libraries stay independent of one another
//! (`llm` and `proofs` both sit on `sim` only); what needs two of them is
//! here, above both, and the command modules of the binary call it.
//!
//! - [`map`]: `entropic map` (the regime map).
//! - [`diagnose`]: `entropic llm diagnose`'s place on the map and its prediction.
//! - [`validate`]: `entropic llm validate` (toy and LLM arms side by side).
//! - [`tune`]: `entropic tune validate` (identify, recommend, run, compare).
pub mod diagnose;
pub mod map;
pub mod tune;
pub mod validate;
