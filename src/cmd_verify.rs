//! `entropic verify` (filled by the verify work).
use std::path::Path;
use std::process::ExitCode;
pub fn run(_quick: bool, _out: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("verify: not implemented yet")
}
