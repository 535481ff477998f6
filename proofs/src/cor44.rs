//! placeholder
use crate::verdict::{ClaimSection, Counterexample, Ctx};
use crate::ProofsError;
/// Runs the check.
pub fn check(_ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    Err(ProofsError::Sim("not yet".into()))
}
/// Reruns a counterexample.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    crate::closedloop::reproduce(cx)
}
