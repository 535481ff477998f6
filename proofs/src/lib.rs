//! Placeholder: filled by [PROOFS].
