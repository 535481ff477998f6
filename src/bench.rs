//! `entropic bench sim`: sampled actions per second of the bandit GRPO loop.
use std::process::ExitCode;
pub fn sim(_json: bool, _runs: usize) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
