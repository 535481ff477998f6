//! The error every plot function returns when plotters fails.
use crate::error::SimError;
use std::path::Path;

/// A plotters failure on `path`, as the simulator's error.
pub(super) fn plot_err(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Other(format!("plot {}: {e}", path.display()))
}
