//! Controller tuning from a run's log: read the entropy
//! and α series of one run from our `metrics.jsonl` or from any CSV (a
//! Weights & Biases export of a verl run, say), identify drift `b`, gain `g`
//! and delay `d` of the linear loop of docs/mathematics.md §6 ([`crate::ident`]), and
//! recommend EntroPIC gains for a chosen settling time that stay stable over
//! the regression's 95% interval ([`recommend`]). [`probe_schedule`] builds
//! the probe of docs/mathematics.md §7 that makes `g` identifiable.
//!
//! The parsers only know column *names*, so a log of the LLM trainer (or of
//! verl, whose names are `actor/entropy` and `actor/control_alpha`) works as
//! soon as the names are given ([`Columns`]).
//!
//! Modules: [`model`] (the shared `Series`, `Columns`, `TuneError` and
//! thresholds), [`log`] (reading logs), [`identify`] (open-loop checks and
//! identification), [`design`] (the gain search), [`snippet`] (what is
//! printed), [`plan`] (probe sizing before running). Their public items are
//! re-exported here, so `tune::X` names them all; the children name each
//! other through `crate::tune::<module>`, never through this file. Tests
//! in `tests.rs`.

pub mod design;
pub mod identify;
pub mod log;
pub mod model;
pub mod plan;
pub mod snippet;

pub use design::{recommend, Corner, DesignSpec, Recommendation};
pub use identify::{
    check_open_loop, check_twin_design, identify, identify_paired_seeds, identify_with_power,
    interval_caveat, model_path, pair_seeds, Identified, OpenLoopCheck, PowerIdentified,
    NEWEY_WEST_CAVEAT, PAIRED_FEW_SEEDS_CAVEAT, RANDOMIZATION_SEED,
};
pub use log::{order_by_step, parse_csv, parse_jsonl, parse_log, parse_twin_log, seeds_of_one_run};
pub use model::{
    Columns, Series, TuneError, ALPHA_NAMES, CLOSED_LOOP_CORR, CLOSED_LOOP_R2, ENTROPY_NAMES,
    MAX_DELAY, MIN_R2, STEP_NAMES,
};
pub use snippet::{
    drawn_probe_schedule, fmt_gain, probe_schedule, probe_snippet, scenario_snippet,
    scenario_snippet_with, verl_overrides, VERL_KEYS,
};

#[cfg(test)]
mod tests;
