//! Placeholder: filled by [LLM-1].
