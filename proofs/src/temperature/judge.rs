//! Judge step of `temperature`: a run agrees when PI reaches the target;
//! one verdict per family over every temperature.

use super::compute::FamilyRuns;
use super::model::CLAIM;
use crate::closedloop::{self as cl, CellRun, FailsWhen};
use crate::verdict::ClaimVerdict;

/// The family's verdict (no figures).
pub(super) fn verdict(fr: &FamilyRuns) -> ClaimVerdict {
    let refs: Vec<&CellRun> = fr.temps.iter().map(|t| &t.pi).collect();
    cl::verdict(
        CLAIM,
        fr.fam.name(),
        &refs,
        FailsWhen::NotReached,
        "PI reaches the target",
    )
}
