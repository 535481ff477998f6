//! The runner: a scenario → per-step records for each arm, sweep point and
//! seed. Seeds run in parallel with rayon; each seed's numbers depend only on
//! its seed (its own RNG streams), and results are collected in seed order,
//! so output is identical whatever the thread count.

use crate::error::SimError;
use crate::grpo::Trainer;
use crate::metrics::Record;
use crate::scenario::RunConfig;
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// One seed's records and, if it stopped early, why.
#[derive(Debug)]
pub struct SeedRun {
    pub seed: u64,
    pub records: Vec<Record>,
    pub error: Option<SimError>,
}

/// Run one seed of one configuration; `tick` is called after every step.
pub fn run_seed(rc: &RunConfig, seed: u64, tick: &(dyn Fn() + Sync)) -> SeedRun {
    let never = AtomicBool::new(false);
    // `stop` is never set, so the run always completes.
    run_seed_until(rc, seed, tick, &never).unwrap_or(SeedRun {
        seed,
        records: Vec::new(),
        error: None,
    })
}

/// Like [`run_seed`], but checks `stop` before every step and returns
/// `None` (the seed's work discarded) once it is set: an interrupted seed
/// is run again from its start when the run is resumed, so what is kept
/// is only ever whole seeds.
pub fn run_seed_until(
    rc: &RunConfig,
    seed: u64,
    tick: &(dyn Fn() + Sync),
    stop: &AtomicBool,
) -> Option<SeedRun> {
    let mut tr = Trainer::new(&rc.bandit, &rc.grpo, &rc.control, seed, &rc.arm);
    let mut records = Vec::with_capacity(rc.steps);
    for s in 0..rc.steps {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let log_exact =
            s + 1 == rc.steps || s == 0 || (rc.exact_every > 0 && s % rc.exact_every == 0);
        match tr.step(log_exact) {
            Ok(mut r) => {
                r.sweep = rc.sweep.clone();
                records.push(r);
            }
            Err(e) => {
                return Some(SeedRun {
                    seed,
                    records,
                    error: Some(e),
                })
            }
        }
        tick();
    }
    Some(SeedRun {
        seed,
        records,
        error: None,
    })
}

/// Run `seeds` (0..seeds) of one configuration in parallel, in seed order.
pub fn run_config(rc: &RunConfig, seeds: usize, tick: &(dyn Fn() + Sync)) -> Vec<SeedRun> {
    (0..seeds as u64)
        .into_par_iter()
        .map(|s| run_seed(rc, s, tick))
        .collect()
}

/// Write records as JSON lines (temporary file, then rename).
pub fn write_jsonl(path: &Path, runs: &[SeedRun]) -> Result<(), SimError> {
    let tmp = path.with_extension("jsonl.tmp");
    let io = |e: std::io::Error| SimError::Io {
        path: path.display().to_string(),
        source: e,
    };
    let f = std::fs::File::create(&tmp).map_err(io)?;
    let mut w = std::io::BufWriter::new(f);
    for r in runs {
        for rec in &r.records {
            let line = serde_json::to_string(rec).map_err(|e| SimError::Other(e.to_string()))?;
            writeln!(w, "{line}").map_err(io)?;
        }
    }
    w.flush().map_err(io)?;
    drop(w);
    std::fs::rename(&tmp, path).map_err(io)
}
