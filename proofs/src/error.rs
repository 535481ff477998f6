//! The error type of the claims crate.

/// Any error of this crate; modules keep their own typed errors and convert
/// into this one with `?`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProofsError {
    #[error(transparent)]
    Linear(#[from] crate::linear::LinearError),
    #[error(transparent)]
    Ident(#[from] crate::ident::IdentError),
    /// A simulator error (bad scenario, non-finite run that a check cannot
    /// treat as an observation, I/O).
    #[error("{0}")]
    Sim(String),
}

impl From<entropic_sim::SimError> for ProofsError {
    fn from(e: entropic_sim::SimError) -> Self {
        ProofsError::Sim(e.to_string())
    }
}
