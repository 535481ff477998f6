//! `entropic verify`: run every claim check and write `verification.md`,
//! `verification.json` and the figures (OWNED BY THE VERIFY HELPER; claim
//! helpers only add their line to [`checks`]).

use crate::verdict::{ClaimSection, Ctx};
use crate::ProofsError;

/// A claim check.
pub type CheckFn = fn(&Ctx) -> Result<ClaimSection, ProofsError>;

/// Every claim check, in report order.
pub fn checks() -> Vec<(&'static str, CheckFn)> {
    vec![
        ("cor-4-1", crate::cor41::check),
        ("fig-2-quadrants", crate::quadrants::check),
        ("thm-4-2", crate::thm42::check),
        ("thm-4-3", crate::thm43::check),
        ("cor-4-4", crate::cor44::check),
        ("temperature", crate::temperature::check),
    ]
}
