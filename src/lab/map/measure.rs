//! One cell of the map, run and measured: every arm × seed on the toy
//! (`entropic_sim::runner`, in parallel, deterministic whatever the thread
//! count), then the authority estimates of docs/mathematics.md §9 from
//! `entropic_proofs::ident_power` (no estimator of its own) and each arm's
//! figures and outcome.
//!
//! Choices where issue 18 is silent, all on `entropy_exact` (recorded
//! every step here), not on the controller's noisy batch `entropy`:
//! - **H0** is the exact entropy of the policy before training, mean over
//!   `grpo`'s seeds (each seed its own instance); the targets are
//!   fractions of it.
//! - **The paired series** of a seed are the states after `0, e, 2e, …,
//!   steps` updates (`e = exact_every`; the exact entropy is taken after
//!   every e-th update, and `H_init` before training) for the constant-α
//!   arm and its `grpo` twin, with delay `d = 0` and α per row the sum of
//!   the e updates' α: the state after t updates is driven by
//!   `Σ_{s<t} α_s`, the estimator's `A` at `d = 0`. `g` is then per unit
//!   α per step whatever e; `b` (per row) is divided by e, and windows are
//!   reported in steps. (The runs are `runner::run_seed_until`'s loop with
//!   this cadence of exact entropy.)
//! - **g** pools the twins of all four constant-α arms (each seed of each
//!   arm one twin, `paired`); the twins of different arms share their
//!   `grpo` series. Where every seed ran the same arms (the factored
//!   cells, `llm validate`) `paired` takes the seeds as the replicates
//!   (each seed's own pooled slope, since 2026-11-30); elsewhere (8 seeds
//!   of α = ±1, 4 of ±0.5) its interval is the increments' model, which
//!   treats the twins as more independent than they are and counts the
//!   gain's curve as noise (wider). **g_by_arm**: each arm's own twins.
//! - **b, b_ci** come from the `alpha-1` arm's paired fit, whose twins use
//!   each `grpo` seed once (the estimator's drift from the plain twins'
//!   steps, prewhitened HAC; docs/mathematics.md §9 says why not their
//!   levels on time).
//! - **g_windows**: `paired_windows` over the pooled twins in 6 windows
//!   (at least 10 steps each); the first window is "g at the initial
//!   entropy", the window whose mean probe entropy is nearest an arm's
//!   target is "g at the target's level".
//! - Arms without a target (`grpo`, constant α) are measured against
//!   0.5·H0 (their `target` says so).
//! - **settling_step**: per seed, the first step from which |H − H_tar| ≤
//!   0.1·H_tar holds to the end (no 0.05-nat floor); over seeds the median,
//!   a seed that never settled counting as +∞ (so with an even count both
//!   middle seeds must have settled).
//! - **pass_final**: mean over seeds of the last quarter's exact pass rate;
//!   **pass_cost** = `grpo`'s minus the arm's.
//! - **alpha_saturated**: share of the last quarter's steps with |α| at the
//!   clip, mean over seeds (0 for unclipped and α-free arms).
use super::cells::{arms, bandit_for, grpo_for, run_config};
use super::classify::{classify, Evidence, Gain};
use super::model::{
    fin, nan, ArmKind, ArmResult, ArmSpec, CellResult, CellSpec, GainJson, WindowJson,
};
use entropic_proofs::ident_power::{paired, paired_windows, GainEstimate, Twin, WindowGain};
use entropic_sim::control::ControlConfig;
use entropic_sim::figures::{run_figures_on, settling_step_rel, Field};
use entropic_sim::grpo::Trainer;
use entropic_sim::metrics::Record;
use entropic_sim::runner::SeedRun;
use entropic_sim::scenario::RunConfig;
use entropic_sim::stats::{last_quarter, median};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// Windows along the run for `g_windows`.
const WINDOWS: usize = 6;

/// One arm's runs, seed order, with the target its errors are measured
/// against and its α clip (∞ for unclipped and α-free arms). Built from a
/// map cell's toy runs here, and from the LLM's runs by `entropic llm
/// validate`, which measures its arms as a map cell.
pub struct Ran {
    pub spec: ArmSpec,
    pub target: f64,
    pub clip: f64,
    pub runs: Vec<SeedRun>,
}

/// Exact entropy of each seed's instance before training (T of the cell).
fn initial_entropy(cell: &CellSpec, seeds: usize) -> Vec<f64> {
    let (b, g) = (bandit_for(cell), grpo_for(cell));
    (0..seeds as u64)
        .into_par_iter()
        .map(|s| {
            let tr = Trainer::new(&b, &g, &ControlConfig::default(), s, "h0");
            tr.policy.exact_entropy_and_pass(g.temperature).0
        })
        .collect()
}

/// Mean of the finite values, NaN when none.
fn mean(xs: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut n) = (0.0, 0usize);
    for x in xs.into_iter().filter(|x| x.is_finite()) {
        s += x;
        n += 1;
    }
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

/// A seed's paired entropy series on the grid of states `0, e, 2e, …,
/// steps` (`e = exact_every`): `H_init`, then the exact entropy after
/// every `e`-th update (NaN where the run stopped early).
pub fn series(h_init: f64, recs: &[Record], steps: usize, every: usize) -> Vec<f64> {
    let mut v = vec![h_init];
    v.extend((1..=steps / every).map(|j| {
        recs.get(j * every - 1)
            .and_then(|r| r.entropy_exact)
            .unwrap_or(f64::NAN)
    }));
    v
}

/// One seed of one arm: `entropic_sim::runner::run_seed_until` with the
/// exact entropy after every `every`-th update (steps `s` with
/// `(s + 1) % every == 0`), so the logged states lie on a regular grid
/// starting at the state before training; `None` once `stop` is set.
fn run_seed(rc: &RunConfig, seed: u64, every: usize, stop: &AtomicBool) -> Option<SeedRun> {
    let mut tr = Trainer::new(&rc.bandit, &rc.grpo, &rc.control, seed, &rc.arm);
    let mut records = Vec::with_capacity(rc.steps);
    for s in 0..rc.steps {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        match tr.step((s + 1) % every == 0) {
            Ok(r) => records.push(r),
            Err(e) => {
                return Some(SeedRun {
                    seed,
                    records,
                    error: Some(e),
                })
            }
        }
    }
    Some(SeedRun {
        seed,
        records,
        error: None,
    })
}

fn ci(x: (f64, f64)) -> [Option<f64>; 2] {
    [fin(x.0), fin(x.1)]
}

fn gain_json(r: &Result<GainEstimate, entropic_proofs::error::IdentError>) -> GainJson {
    match r {
        Ok(e) => GainJson {
            g: fin(e.g),
            g_ci: ci(e.g_ci),
            g_detectable: fin(e.g_detectable),
            df: fin(e.df),
            variance: Some(e.variance),
            error: None,
        },
        Err(e) => GainJson {
            g: None,
            g_ci: [None, None],
            g_detectable: None,
            df: None,
            variance: None,
            error: Some(e.to_string()),
        },
    }
}

/// A drift fitted per row of `every` steps, per step.
fn per_step(b: f64, b_ci: (f64, f64), every: usize) -> (Option<f64>, [Option<f64>; 2]) {
    let e = every as f64;
    (fin(b / e), ci((b_ci.0 / e, b_ci.1 / e)))
}

/// A window of rows `start..end` (rows `every` steps apart) in steps.
fn window_json(w: &WindowGain, every: usize) -> WindowJson {
    let e = &w.estimate;
    let (b, b_ci) = per_step(e.b, e.b_ci, every);
    WindowJson {
        start: w.start * every,
        end: w.end * every,
        mean_entropy: fin(w.mean_entropy),
        g: fin(e.g),
        g_ci: ci(e.g_ci),
        g_detectable: fin(e.g_detectable),
        b,
        b_ci,
    }
}

/// The classifier's view of a written gain.
pub fn gain_of(g: Option<f64>, g_ci: [Option<f64>; 2], detectable: Option<f64>) -> Gain {
    Gain {
        g: nan(g),
        lo: nan(g_ci[0]),
        hi: nan(g_ci[1]),
        detectable: nan(detectable),
    }
}

/// The window of `w` whose mean entropy is nearest `h` (none when no
/// window has a finite mean entropy).
pub fn window_nearest(w: &[WindowJson], h: f64) -> Option<&WindowJson> {
    w.iter()
        .filter_map(|x| x.mean_entropy.map(|m| ((m - h).abs(), x)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|p| p.1)
}

/// The evidence [`classify`] reads for a PI arm of a measured cell.
pub fn evidence(cell: &CellResult, arm: &ArmResult, horizon: usize) -> Evidence {
    evidence_from(
        &gain_json_of(cell.g, cell.g_ci, cell.g_detectable),
        cell.b,
        &cell.g_windows,
        arm,
        horizon,
    )
}

/// A [`GainJson`] from its parts.
fn gain_json_of(g: Option<f64>, g_ci: [Option<f64>; 2], d: Option<f64>) -> GainJson {
    GainJson {
        g,
        g_ci,
        g_detectable: d,
        df: None,
        variance: None,
        error: None,
    }
}

/// The evidence [`classify`] reads for a PI arm, from the pooled gain, the
/// drift and the windows of [`Authority`] (or of a cell's JSON).
pub fn evidence_from(
    g: &GainJson,
    b: Option<f64>,
    windows: &[WindowJson],
    arm: &ArmResult,
    horizon: usize,
) -> Evidence {
    let win =
        |w: Option<&WindowJson>| w.map_or(Gain::NONE, |w| gain_of(w.g, w.g_ci, w.g_detectable));
    Evidence {
        alpha_saturated: nan(arm.alpha_saturated),
        final_rel_err: nan(arm.final_rel_err),
        settling_step: arm.settling_step,
        horizon,
        g: gain_of(g.g, g.g_ci, g.g_detectable),
        b: nan(b),
        g_initial: win(windows.first()),
        g_at_target: win(arm.target.and_then(|t| window_nearest(windows, t))),
    }
}

/// Figures of one arm (module doc), `grpo_pass` the plain arm's
/// `pass_final`.
pub fn arm_result(ran: &Ran, grpo_pass: Option<f64>) -> ArmResult {
    let (target, clip) = (ran.target, ran.clip);
    let mut figs = Vec::new();
    let mut settle = Vec::new();
    let mut sat = Vec::new();
    let mut zero = Vec::new();
    for r in &ran.runs {
        figs.push(run_figures_on(
            &r.records,
            target,
            clip,
            Field::EntropyExact,
        ));
        let exact: Vec<Record> = r
            .records
            .iter()
            .filter_map(|x| {
                x.entropy_exact.map(|h| Record {
                    entropy: h,
                    ..x.clone()
                })
            })
            .collect();
        settle.push(settling_step_rel(&exact, target, 0.1).map_or(f64::INFINITY, |s| s as f64));
        let tail = last_quarter(&r.records);
        sat.push(run_figures_on(tail, target, clip, Field::Entropy).alpha_saturated);
        zero.push(mean(tail.iter().filter_map(|x| x.zero_adv_frac)));
    }
    let pass_final = fin(mean(figs.iter().filter_map(|f| f.final_pass_rate)));
    ArmResult {
        seeds: ran.runs.len(),
        target: fin(target),
        h_final: fin(mean(figs.iter().map(|f| f.final_entropy))),
        final_rel_err: fin(mean(figs.iter().map(|f| f.final_rel_err))),
        settling_step: fin(median(&settle)),
        pass_final,
        pass_cost: grpo_pass.zip(pass_final).map(|(g, p)| g - p),
        alpha_saturated: fin(mean(sat)),
        zero_adv_share: fin(mean(zero)),
        outcome: None,
    }
}

/// `hp_entropy_share` of a record when its schema has the field (read
/// through JSON, so this compiles before the field exists and reads it
/// after; `None`, written `null`, until then).
fn hp_entropy_share(r: &Record) -> Option<f64> {
    serde_json::to_value(r)
        .ok()?
        .get("hp_entropy_share")?
        .as_f64()
}

/// Runs and measures `cell`; `None` when `stop` was set before it finished
/// (nothing of it is kept).
pub fn run_cell(cell: &CellSpec, stop: &AtomicBool) -> anyhow::Result<Option<CellResult>> {
    let specs = arms(cell);
    let max_seeds = specs.iter().map(|a| a.seeds).max().unwrap_or(0);
    let h_init = initial_entropy(cell, max_seeds);
    let grpo_seeds = specs
        .iter()
        .find(|a| a.kind == ArmKind::Plain)
        .map_or(0, |a| a.seeds);
    let h0 = mean(h_init.iter().take(grpo_seeds).copied());
    let rcs: Vec<RunConfig> = specs
        .iter()
        .map(|a| run_config(cell, a, h0))
        .collect::<Result<_, _>>()?;
    let jobs: Vec<(usize, u64)> = specs
        .iter()
        .enumerate()
        .flat_map(|(i, a)| (0..a.seeds as u64).map(move |s| (i, s)))
        .collect();
    let done: Vec<Option<SeedRun>> = jobs
        .par_iter()
        .map(|&(i, s)| run_seed(&rcs[i], s, cell.exact_every.max(1), stop))
        .collect();
    if done.iter().any(Option::is_none) {
        return Ok(None);
    }
    let mut runs: Vec<Vec<SeedRun>> = specs.iter().map(|_| Vec::new()).collect();
    for (&(i, _), r) in jobs.iter().zip(done.into_iter().flatten()) {
        runs[i].push(r);
    }
    let ran: Vec<Ran> = specs
        .into_iter()
        .zip(rcs)
        .zip(runs)
        .map(|((spec, rc), runs)| Ran {
            spec,
            target: rc.control.target,
            clip: rc.control.alpha_max,
            runs,
        })
        .collect();
    Ok(Some(measure(cell, &ran, &h_init, h0)))
}

/// The authority estimates of a set of arms (module doc): the pooled
/// paired `g`, `g` per constant-α arm, `g` in windows, and the drift `b`
/// per step.
pub struct Authority {
    pub pooled: GainJson,
    pub g_by_arm: BTreeMap<String, GainJson>,
    pub g_windows: Vec<WindowJson>,
    pub b: Option<f64>,
    pub b_ci: [Option<f64>; 2],
}

/// [`Authority`] from the arms' paired series: `series_of(arm, seed run)`
/// gives a seed's entropy rows (`rows` of them, `every` updates apart);
/// `alpha_rows(a)` the α each row of a constant-α arm `a` carries (its
/// sum over the updates since the previous row). Twins are matched by
/// seed number: the plain arm's run with the same seed.
pub fn authority(
    ran: &[Ran],
    series_of: &dyn Fn(&SeedRun) -> Vec<f64>,
    alpha_rows: &dyn Fn(f64) -> Vec<f64>,
    rows: usize,
    every: usize,
) -> Authority {
    let plain = ran.iter().find(|r| r.spec.kind == ArmKind::Plain);
    let plain_series: BTreeMap<u64, Vec<f64>> = plain.map_or(BTreeMap::new(), |p| {
        p.runs.iter().map(|r| (r.seed, series_of(r))).collect()
    });
    // (arm name, probe series, α series, seed) of every constant-α arm's
    // seed that has a plain twin
    let mut probes: Vec<(String, Vec<f64>, Vec<f64>, u64)> = Vec::new();
    for r in ran {
        if let ArmKind::Constant(a) = r.spec.kind {
            for s in &r.runs {
                if plain_series.contains_key(&s.seed) {
                    probes.push((r.spec.name.clone(), series_of(s), alpha_rows(a), s.seed));
                }
            }
        }
    }
    let twins_of = |name: Option<&str>| -> Vec<Twin<'_>> {
        probes
            .iter()
            .filter(|p| name.is_none_or(|n| p.0 == n))
            .map(|p| Twin {
                probe: &p.1,
                plain: &plain_series[&p.3],
                alpha: &p.2,
            })
            .collect()
    };
    let pooled = paired(&twins_of(None), 0);
    let mut g_by_arm = BTreeMap::new();
    for r in ran {
        if matches!(r.spec.kind, ArmKind::Constant(_)) {
            g_by_arm.insert(
                r.spec.name.clone(),
                gain_json(&paired(&twins_of(Some(&r.spec.name)), 0)),
            );
        }
    }
    let drift = paired(&twins_of(Some("alpha-1")), 0);
    let window = (rows / WINDOWS).max(entropic_proofs::ident::MIN_ROWS);
    let g_windows: Vec<WindowJson> = paired_windows(&twins_of(None), 0, window)
        .map(|w| w.iter().map(|x| window_json(x, every)).collect())
        .unwrap_or_default();
    let (b, b_ci) = match &drift {
        Ok(e) => per_step(e.b, e.b_ci, every),
        Err(_) => (None, [None, None]),
    };
    Authority {
        pooled: gain_json(&pooled),
        g_by_arm,
        g_windows,
        b,
        b_ci,
    }
}

/// The cell's JSON from its runs.
fn measure(cell: &CellSpec, ran: &[Ran], h_init: &[f64], h0: f64) -> CellResult {
    let steps = cell.steps;
    let every = cell.exact_every.max(1);
    let rows = steps / every + 1;
    let plain = ran.iter().find(|r| r.spec.kind == ArmKind::Plain);
    let au = authority(
        ran,
        &|r: &SeedRun| series(h_init[r.seed as usize], &r.records, steps, every),
        // α summed over the updates between two rows
        &|a: f64| vec![a * every as f64; rows],
        rows,
        every,
    );
    let Authority {
        pooled: pooled_json,
        g_by_arm,
        g_windows,
        b,
        b_ci,
    } = au;
    let first = |f: &dyn Fn(&Record) -> Option<f64>| {
        fin(mean(plain.into_iter().flat_map(|p| {
            p.runs
                .iter()
                .filter_map(|r| r.records.first().and_then(f))
                .collect::<Vec<_>>()
        })))
    };
    let hp_frac0 = first(&|r| r.hp_frac);
    let shares: Vec<f64> = plain.map_or(Vec::new(), |p| {
        p.runs
            .iter()
            .filter_map(|r| r.records.first().and_then(hp_entropy_share))
            .collect()
    });
    let hp_entropy_share0 = (!shares.is_empty()).then(|| mean(shares)).and_then(fin);
    let grpo_pass = plain
        .map(|p| arm_result(p, None))
        .and_then(|a| a.pass_final);
    let mut cell_json = CellResult {
        id: cell.id.clone(),
        policy: cell.policy,
        vocab: cell.vocab,
        tail_mass: cell.tail_mass,
        length: cell.length,
        det_share: cell.det_share(),
        temperature: cell.temperature,
        optimizer: cell.optimizer,
        lr: cell.lr,
        h0: fin(h0),
        hp_frac0,
        hp_entropy_share0,
        g: pooled_json.g,
        g_ci: pooled_json.g_ci,
        g_detectable: pooled_json.g_detectable,
        g_by_arm,
        g_windows,
        b,
        b_ci,
        arms: BTreeMap::new(),
        ran_as: super::cells::ran_as(cell),
    };
    let mut arms_json = BTreeMap::new();
    for r in ran {
        let mut a = arm_result(r, grpo_pass);
        if matches!(r.spec.kind, ArmKind::Pi(..)) {
            a.outcome = Some(classify(&evidence(&cell_json, &a, steps)));
        }
        arms_json.insert(r.spec.name.clone(), a);
    }
    cell_json.arms = arms_json;
    cell_json
}
