//! placeholder
use crate::verdict::{ClaimSection, Counterexample, Ctx};
use crate::ProofsError;
/// placeholder
pub fn check(_c: &Ctx) -> Result<ClaimSection, ProofsError> {
    Err(ProofsError::Sim("todo".into()))
}
/// placeholder
pub fn reproduce(_c: &Counterexample) -> Result<bool, ProofsError> {
    Ok(false)
}
