//! `entropic run`: scenario → metrics, summary and report.

use crate::error::InputError;
use crate::interrupt;
use crate::output::{self, io_reason, Manifest, MANIFEST};
use entropic_sim::control::Method;
use entropic_sim::figures::{aggregate, aggregate_on, Aggregate, Field};
use entropic_sim::memory;
use entropic_sim::metrics::Record;
use entropic_sim::report::{fmt_sig, ranking_table, write_atomic, write_run_report, ArmSeries};
use entropic_sim::runner::{run_seed_until, write_jsonl, SeedRun};
use entropic_sim::scenario::{load, RunConfig, Scenario};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Serialize)]
struct ConfigSummary<'a> {
    arm: &'a str,
    sweep: Option<&'a str>,
    folder: String,
    /// Target the figures are measured against (the scenario's controlled
    /// target for an uncontrolled arm).
    target: f64,
    config: &'a RunConfig,
    figures: Aggregate,
    figures_exact: Aggregate,
    stopped: Vec<String>,
    /// Seeds finished, in the summary of an interrupted run only.
    #[serde(skip_serializing_if = "Option::is_none")]
    seeds_done: Option<usize>,
}

/// The target figures are computed against: this run's own when it has a
/// controller, else the first controlled run's (so a plain GRPO arm is
/// measured against the same line), else its configured target.
pub fn reference_target(runs: &[RunConfig], rc: &RunConfig) -> f64 {
    if rc.control.method != Method::None {
        return rc.control.target;
    }
    runs.iter()
        .find(|r| r.control.method != Method::None)
        .map(|r| r.control.target)
        .unwrap_or(rc.control.target)
}

pub fn label(rc: &RunConfig) -> String {
    match &rc.sweep {
        Some(s) => format!("{}/{}", rc.arm, s),
        None => rc.arm.clone(),
    }
}

/// The state file of a `.partial` folder: what the interrupted run was, so
/// `--resume` continues the same run and nothing else.
const PARTIAL_STATE: &str = ".entropic-partial.json";

#[derive(Serialize, serde::Deserialize, PartialEq)]
struct PartialState {
    /// The scenario file's text when the run started.
    scenario_text: String,
    seeds: usize,
    /// Whether the run was started with `--force`.
    force: bool,
}

/// [`load`], and when the file is refused but reads as one of the LLM
/// commands' configs (the shared `[grpo]`/`[control]` names make the mix-up
/// easy), the error says which command takes it.
pub fn load_scenario(path: &Path) -> anyhow::Result<Scenario> {
    match load(path) {
        Ok(sc) => Ok(sc),
        Err(e) if e.is_input() => {
            let Ok(text) = std::fs::read_to_string(path) else {
                return Err(e.into());
            };
            let file = path.display().to_string();
            let root: toml::Table = text.parse().unwrap_or_default();
            let hint = if root.contains_key("validate")
                && crate::lab::validate::PresetFile::parse(&file, &text).is_ok()
            {
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                let name = stem.strip_prefix("llm-validate-").unwrap_or("NAME");
                Some(format!(
                    "`entropic llm validate --preset {name}` (this is a preset's file)"
                ))
            } else if entropic_llm::grpo::config::GrpoFile::parse(&file, &text).is_ok() {
                let pretrain = ["model", "pretrain"].iter().any(|k| root.contains_key(*k));
                Some(if pretrain && !root.contains_key("grpo") {
                    format!("`entropic llm pretrain --config {file} --out DIR`")
                } else {
                    format!("`entropic llm grpo --config {file} --model BASE --out DIR`")
                })
            } else {
                None
            };
            match hint {
                Some(h) => Err(InputError(format!(
                    "{e}; this file is an LLM config, not a scenario: use {h}"
                ))
                .into()),
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// A seed's records in its arm folder of the `.partial` folder.
fn seed_file(folder: &Path, seed: u64) -> PathBuf {
    folder.join("seeds").join(format!("{seed}.jsonl"))
}

/// Writes one finished seed: its error first (if it stopped on one), then
/// its records; the records file is what marks the seed as done.
fn write_seed(folder: &Path, r: &SeedRun) -> anyhow::Result<()> {
    let p = seed_file(folder, r.seed);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("{}: {e}", parent.display()))?;
    }
    if let Some(e) = &r.error {
        write_atomic(&p.with_extension("error"), e.to_string().as_bytes())?;
    }
    write_jsonl(&p, std::slice::from_ref(r))?;
    Ok(())
}

/// Reads a seed written by [`write_seed`], `None` when it is not done.
fn read_seed(folder: &Path, seed: u64) -> anyhow::Result<Option<SeedRun>> {
    let p = seed_file(folder, seed);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("{}: {e}", p.display()),
    };
    let records = text
        .lines()
        .map(serde_json::from_str::<Record>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    let error = std::fs::read_to_string(p.with_extension("error"))
        .ok()
        .map(entropic_sim::SimError::Other);
    Ok(Some(SeedRun {
        seed,
        records,
        error,
    }))
}

/// `ENTROPIC_MAX_MEMORY` in bytes: a number with an optional `K`, `M`, `G`
/// or `T` suffix (powers of 1024; `B` and `iB` accepted after it).
pub fn parse_bytes(s: &str) -> Option<u64> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.chars().last()?.to_ascii_uppercase() {
        'K' => (&t[..t.len() - 1], 1u64 << 10),
        'M' => (&t[..t.len() - 1], 1 << 20),
        'G' => (&t[..t.len() - 1], 1 << 30),
        'T' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some((v * mult as f64) as u64)
}

/// The memory a run may use: `ENTROPIC_MAX_MEMORY` when set, else
/// `MemAvailable` (or `MemTotal`) of /proc/meminfo; `None` when neither is
/// known (no check then).
fn memory_limit() -> Result<Option<(u64, String)>, InputError> {
    if let Ok(v) = std::env::var("ENTROPIC_MAX_MEMORY") {
        return match parse_bytes(&v) {
            Some(b) => Ok(Some((b, "ENTROPIC_MAX_MEMORY".into()))),
            None => Err(InputError(format!(
                "ENTROPIC_MAX_MEMORY: must be a number of bytes with an optional K, M, G or T suffix (got `{v}`)"
            ))),
        };
    }
    let Ok(info) = std::fs::read_to_string("/proc/meminfo") else {
        return Ok(None);
    };
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Ok(field("MemAvailable:")
        .map(|b| (b, "available memory (MemAvailable)".to_string()))
        .or_else(|| field("MemTotal:").map(|b| (b, "memory (MemTotal)".to_string()))))
}

fn gb(b: u64) -> String {
    format!("{:.1} GB", b as f64 / 1e9)
}

/// Refuses a scenario whose estimated memory ([`entropic_sim::memory`])
/// exceeds [`memory_limit`], naming the keys of the largest configuration.
fn check_memory(path: &Path, runs: &[RunConfig], seeds: usize) -> Result<(), InputError> {
    let Some((limit, what)) = memory_limit()? else {
        return Ok(());
    };
    let threads = rayon::current_num_threads();
    // arms run one after another; the records of every arm are kept
    let records: u64 = runs
        .iter()
        .map(|rc| {
            memory::estimate(rc)
                .records_per_seed
                .saturating_mul(seeds as u64)
        })
        .fold(0, u64::saturating_add);
    let worst = runs
        .iter()
        .max_by_key(|rc| memory::peak_bytes(rc, seeds, threads));
    let Some(rc) = worst else { return Ok(()) };
    let e = memory::estimate(rc);
    let at_once = seeds.min(threads.max(1));
    let need = e
        .per_seed
        .saturating_mul(at_once as u64)
        .saturating_add(records);
    if need > limit {
        return Err(InputError(format!(
            "{}: keys {}{}: the run needs about {} ({} per seed × {at_once} seeds at once, plus records) but the {what} is {}; lower those keys (or `seeds`, `steps`), or set ENTROPIC_MAX_MEMORY",
            path.display(),
            e.keys.join(", "),
            if records > e.per_seed { ", steps, seeds" } else { "" },
            gb(need),
            gb(e.per_seed),
            gb(limit)
        )));
    }
    Ok(())
}

/// `entropic run`: see the `run` subcommand's help. The run writes into
/// `DIR.partial/` beside its final folder `DIR` and replaces `DIR` with it
/// only when it completes (or stops on a non-finite value, a result of its
/// own); interrupted by SIGINT/SIGTERM, it keeps its finished seeds there
/// and exits 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
pub fn run(
    path: &Path,
    out: Option<PathBuf>,
    seeds: Option<usize>,
    force: bool,
    resume: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let sc = load_scenario(path)?;
    let seeds = seeds.unwrap_or(sc.seeds);
    if seeds == 0 || seeds > 10_000 {
        return Err(InputError(format!("--seeds: must be in 1..=10000 (got {seeds})")).into());
    }
    check_memory(path, &sc.runs, seeds)?;
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError(format!(
            "{}: cannot read: {}",
            path.display(),
            io_reason(&e)
        ))
    })?;
    let (dir, flag) = match &out {
        Some(d) => (d.clone(), format!("--out {}", d.display())),
        None => {
            let d = PathBuf::from("runs").join(path.file_stem().unwrap_or_default());
            let f = format!("output folder {}", d.display());
            (d, f)
        }
    };
    // `--out .` or `--out ..` has no name to put `.partial` after
    let dir = if dir.file_name().is_none() {
        dir.canonicalize().unwrap_or(dir)
    } else {
        dir
    };
    let partial = output::partial_of(&dir);
    let mut state = PartialState {
        scenario_text: text,
        seeds,
        force,
    };
    // --- the output place, before any work ---
    if dir.exists() && !dir.is_dir() {
        return Err(
            InputError(format!("{flag}: {} is a file, not a folder", dir.display())).into(),
        );
    }
    let read_state = |p: &Path| -> Option<PartialState> {
        std::fs::read_to_string(p.join(PARTIAL_STATE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
    };
    let mut may_replace = force || out.is_none();
    if resume {
        let Some(old) = read_state(&partial) else {
            return Err(InputError(format!(
                "--resume: {} holds no interrupted run to continue",
                partial.display()
            ))
            .into());
        };
        if old.scenario_text != state.scenario_text || old.seeds != seeds {
            return Err(InputError(format!(
                "--resume: {} was started with another scenario text or seed count; run without --resume (and --force to discard it)",
                partial.display()
            ))
            .into());
        }
        may_replace |= old.force;
        // a resumed run keeps the --force it was started with, so a second
        // interruption and --resume still may replace the final folder
        state.force |= old.force;
    } else if partial.exists() {
        if read_state(&partial).is_some() {
            if !force {
                return Err(InputError(format!(
                    "{} holds an interrupted run: pass --resume to continue it, or --force to discard it",
                    partial.display()
                ))
                .into());
            }
            std::fs::remove_dir_all(&partial).map_err(|e| {
                InputError(format!(
                    "{}: cannot remove: {}",
                    partial.display(),
                    io_reason(&e)
                ))
            })?;
        } else if output::non_empty(&partial) || !partial.is_dir() {
            return Err(InputError(format!(
                "{} exists and was not written by entropic run; move it away",
                partial.display()
            ))
            .into());
        }
    }
    if output::non_empty(&dir) {
        if Manifest::read(&dir)?.is_none() {
            return Err(InputError(format!(
                "{flag}: the folder is not empty and has no {MANIFEST} (it was not written by entropic run); refusing to write there, even with --force"
            ))
            .into());
        }
        if !may_replace {
            return Err(InputError(format!(
                "{flag}: folder is not empty (pass --force to replace the files an earlier run wrote)"
            ))
            .into());
        }
        output::check_place(&dir, &flag)?;
    }
    output::check_place(&partial, &flag)?;
    write_atomic(
        &partial.join(PARTIAL_STATE),
        serde_json::to_string(&state)?.as_bytes(),
    )?;
    interrupt::install();

    let total: u64 = sc.runs.iter().map(|r| (r.steps * seeds) as u64).sum();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(total)
    } else {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {percent}% {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let tick = || bar.inc(1);
    let progress = (!std::io::stderr().is_terminal()).then(|| Progress::start(bar.clone()));
    let mut results: Vec<(RunConfig, Vec<SeedRun>)> = Vec::new();
    let mut first_err = None;
    let mut interrupted = false;
    for rc in &sc.runs {
        bar.set_message(label(rc));
        let folder = partial.join(label(rc));
        let mut done: Vec<SeedRun> = Vec::new();
        let mut todo: Vec<u64> = Vec::new();
        for s in 0..seeds as u64 {
            match read_seed(&folder, s)? {
                Some(r) => {
                    bar.inc(rc.steps as u64);
                    done.push(r);
                }
                None => todo.push(s),
            }
        }
        let fresh: Vec<anyhow::Result<Option<SeedRun>>> = todo
            .into_par_iter()
            .map(|s| {
                let r = run_seed_until(rc, s, &tick, &interrupt::STOP);
                if let Some(r) = &r {
                    write_seed(&folder, r)?;
                }
                Ok(r)
            })
            .collect();
        for r in fresh {
            match r? {
                Some(r) => done.push(r),
                None => interrupted = true,
            }
        }
        done.sort_by_key(|r| r.seed);
        if interrupted {
            if !done.is_empty() {
                results.push((rc.clone(), done));
            }
            break;
        }
        std::fs::create_dir_all(&folder)
            .map_err(|e| anyhow::anyhow!("{}: {e}", folder.display()))?;
        write_jsonl(&folder.join("metrics.jsonl"), &done)?;
        if first_err.is_none() {
            first_err = done
                .iter()
                .find_map(|r| r.error.as_ref().map(|e| e.to_string()));
        }
        results.push((rc.clone(), done));
        if first_err.is_some() {
            break;
        }
    }
    bar.finish_and_clear();
    drop(progress);
    if interrupted {
        let kept: usize = results.iter().map(|(_, r)| r.len()).sum();
        let all = sc.runs.len() * seeds;
        write_outputs(
            &partial,
            &sc,
            path,
            seeds,
            &results,
            None,
            Some((kept, all)),
        )?;
        let (name, num) = interrupt::received().unwrap_or(("signal", 2));
        let out_arg = out
            .as_ref()
            .map(|d| format!(" --out {}", d.display()))
            .unwrap_or_default();
        eprintln!(
            "interrupted by {name}: kept {kept} of {all} seed runs in {} (summary.json and report.md there cover them, marked partial; {} is unchanged); `entropic run {}{out_arg} --resume` continues",
            partial.display(),
            dir.display(),
            path.display()
        );
        return Ok(ExitCode::from((128 + num).clamp(0, 255) as u8));
    }
    write_outputs(
        &partial,
        &sc,
        path,
        seeds,
        &results,
        first_err.as_deref(),
        None,
    )?;
    // finished: drop the per-seed files and the state, list what is left,
    // and put it in place of the final folder
    for (rc, _) in &results {
        let s = partial.join(label(rc)).join("seeds");
        if s.exists() {
            std::fs::remove_dir_all(&s).map_err(|e| anyhow::anyhow!("{}: {e}", s.display()))?;
        }
    }
    let _ = std::fs::remove_file(partial.join(PARTIAL_STATE));
    Manifest::write_listing(&partial, "entropic run")?;
    output::replace_with(&partial, &dir)?;
    if let Some(e) = first_err {
        eprintln!(
            "error: {e} (records before it are written to {})",
            dir.display()
        );
        return Ok(ExitCode::from(1));
    }
    eprintln!("wrote {}", dir.display());
    if json {
        println!("{}", serde_json::to_string_pretty(&headline(&dir)?)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The headline table of `DIR/summary.json` (what `report.md`'s figures
/// table shows) as JSON, for `run --json`: per configuration its arm, sweep
/// point, folder, target, seeds and the figures on `entropy` as `{mean, lo,
/// hi, n}` (95% intervals), without the per-seed figures and the config.
pub fn headline(dir: &Path) -> anyhow::Result<serde_json::Value> {
    let p = dir.join("summary.json");
    let text = std::fs::read_to_string(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let configs: Vec<serde_json::Value> = v["configs"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let mut f = c["figures"].clone();
                    if let Some(o) = f.as_object_mut() {
                        o.remove("per_seed");
                        o.remove("field");
                    }
                    let seeds = c["figures"]["per_seed"].as_array().map_or(0, Vec::len);
                    serde_json::json!({
                        "arm": c["arm"], "sweep": c["sweep"], "folder": c["folder"],
                        "target": c["target"], "seeds": seeds, "figures": f,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(serde_json::json!({
        "scenario": v["scenario"],
        "out": dir.display().to_string(),
        "configs": configs,
    }))
}

/// How often a run whose stderr is not a terminal prints a progress line:
/// `ENTROPIC_PROGRESS_SECS` (seconds, > 0), else 10 s.
fn progress_every() -> std::time::Duration {
    let secs = std::env::var("ENTROPIC_PROGRESS_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(10.0);
    std::time::Duration::from_secs_f64(secs)
}

/// A line of progress on stderr every [`progress_every`] while a run goes
/// (for logs and CI, where the bar is hidden); stops when dropped.
struct Progress {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(bar: ProgressBar) -> Self {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let every = progress_every();
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let t0 = std::time::Instant::now();
            let mut next = every;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(50).min(every));
                if t0.elapsed() < next || flag.load(Ordering::Relaxed) {
                    continue;
                }
                next += every;
                let (pos, len) = (bar.position(), bar.length().unwrap_or(0).max(1));
                let el = t0.elapsed().as_secs_f64();
                let eta = if pos > 0 {
                    format!(
                        ", about {:.0} s left",
                        el * (len - pos.min(len)) as f64 / pos as f64
                    )
                } else {
                    String::new()
                };
                eprintln!(
                    "progress: {:.0}% ({pos}/{len} steps), at `{}`, {el:.0} s{eta}",
                    100.0 * pos as f64 / len as f64,
                    bar.message()
                );
            }
        });
        Progress {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// summary.json, report.md and the plots of `results` into `dir`;
/// `partial = Some((kept, all))` marks them as covering only the `kept`
/// finished seed runs of `all`.
fn write_outputs(
    dir: &Path,
    sc: &Scenario,
    path: &Path,
    seeds: usize,
    results: &[(RunConfig, Vec<SeedRun>)],
    first_err: Option<&str>,
    partial: Option<(usize, usize)>,
) -> anyhow::Result<()> {
    let per_seed: Vec<Vec<(u64, Vec<Record>)>> = results
        .iter()
        .map(|(_, runs)| runs.iter().map(|r| (r.seed, r.records.clone())).collect())
        .collect();
    let mut summaries = Vec::new();
    let mut arms = Vec::new();
    for ((rc, runs), ps) in results.iter().zip(&per_seed) {
        let target = reference_target(&sc.runs, rc);
        let clip = rc.control.alpha_max;
        let figures = aggregate(ps, target, clip);
        let figures_exact = aggregate_on(ps, target, clip, Field::EntropyExact);
        arms.push((label(rc), figures.clone()));
        summaries.push(ConfigSummary {
            arm: &rc.arm,
            sweep: rc.sweep.as_deref(),
            folder: label(rc),
            target,
            config: rc,
            figures,
            figures_exact,
            stopped: runs
                .iter()
                .filter_map(|r| r.error.as_ref().map(|e| e.to_string()))
                .collect(),
            seeds_done: partial.map(|_| runs.len()),
        });
    }
    let mut summary = serde_json::json!({ "scenario": sc.name, "expect": sc.expect, "seeds": seeds, "configs": summaries, "provenance": output::provenance() });
    if let Some((kept, all)) = partial {
        summary["partial"] = serde_json::json!({ "seed_runs_done": kept, "seed_runs": all });
    }
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    let series: Vec<ArmSeries> = results
        .iter()
        .zip(&per_seed)
        .map(|((rc, _), ps)| ArmSeries {
            label: label(rc),
            per_seed: ps,
        })
        .collect();
    let target = sc
        .runs
        .iter()
        .find(|r| r.control.method != Method::None)
        .map(|r| r.control.target);
    let mut notes: Vec<String> = Vec::new();
    if let Some((kept, all)) = partial {
        notes.push(format!("**Partial**: the run was interrupted; {kept} of {all} seed runs finished and the figures cover only those. `entropic run --resume` continues it."));
    }
    notes.push(format!("{} seeds; scenario `{}`; figures on `entropy` (what the controller saw); 95% intervals over seeds.", seeds, path.display()));
    if let Some(e) = first_err {
        notes.push(format!(
            "The run stopped early: {e}. Records up to that step are kept."
        ));
    }
    notes.extend(findings(results, &summaries));
    let title = match partial {
        Some(_) => format!("{} (partial)", sc.name),
        None => sc.name.clone(),
    };
    write_run_report(dir, &title, &sc.expect, &arms, &series, target, &notes)?;
    output::write_stamp(
        &dir.join("report.md"),
        serde_json::json!({ "scenario_file": path.display().to_string(), "seeds": seeds }),
    )?;
    if arms.len() >= 3 {
        let path = dir.join("report.md");
        let mut md = std::fs::read_to_string(&path)?;
        md.push_str("\n## Ranking\n\nEvery arm ranked by final |e| (ascending), with its settling step and final pass rate.\n\n");
        md.push_str(&ranking_table(&arms));
        write_atomic(&path, md.as_bytes())?;
    }
    Ok(())
}

/// What the simulator shows, in sentences computed from the figures: for each
/// arm, where `entropy_exact` ends against the target (last-quarter mean of
/// |H − H_tar| and of H), and on how many seeds it settled: the table's
/// criterion and word (|e| inside the band max(0.05, 0.1·H_tar) from some
/// step to the end, docs/design.md §8), here on `entropy_exact`.
fn findings(results: &[(RunConfig, Vec<SeedRun>)], summaries: &[ConfigSummary]) -> Vec<String> {
    let mut out = Vec::new();
    for ((rc, runs), s) in results.iter().zip(summaries) {
        let f = &s.figures_exact;
        if f.final_abs_err.n == 0 {
            continue;
        }
        let band = (0.1 * s.target).max(0.05);
        let settled = f
            .per_seed
            .iter()
            .filter(|(_, r)| r.settling_step.is_some())
            .count();
        let start: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.records.first().and_then(|x| x.entropy_exact))
            .collect();
        let h0 = start.iter().sum::<f64>() / start.len().max(1) as f64;
        let h1 = f.final_entropy.mean;
        let rel = (h1 - s.target) / s.target;
        let side = if rel < 0.0 { "below" } else { "above" };
        out.push(format!(
            "`{}`: entropy_exact goes from {} to {} nats (last quarter), {}% {} the target {}; mean |e| {} [{}, {}]; settled (|e| ≤ {} nats to the end) on {}/{} seeds.",
            label(rc),
            fmt_sig(h0, 3),
            fmt_sig(h1, 3),
            fmt_sig(rel.abs() * 100.0, 2).replace('%', ""),
            side,
            fmt_sig(s.target, 3),
            fmt_sig(f.final_abs_err.mean, 3),
            fmt_sig(f.final_abs_err.lo, 3),
            fmt_sig(f.final_abs_err.hi, 3),
            fmt_sig(band, 2),
            settled,
            f.per_seed.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn memory_sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("1K"), Some(1024));
        assert_eq!(parse_bytes("16G"), Some(16 << 30));
        assert_eq!(parse_bytes("1.5 GiB"), Some(3 << 29));
        assert_eq!(parse_bytes("2MB"), Some(2 << 20));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("-1G"), None);
        assert_eq!(parse_bytes(""), None);
    }
}

/// `entropic check SCENARIO`: loads and validates the scenario exactly as
/// `run` would (same errors, exit 2 on bad input) and prints the resolved
/// configuration of every arm and sweep point, defaults included, as TOML
/// tables `[[runs]]`; nothing is run or written.
pub fn check(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let sc = load_scenario(path)?;
    let text = toml::to_string(&sc)
        .map_err(|e| anyhow::anyhow!("cannot print the resolved scenario: {e}"))?;
    println!(
        "# {}: valid; {} run(s), {} seed(s). Resolved configuration (every default filled in):",
        path.display(),
        sc.runs.len(),
        sc.seeds
    );
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
