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
//! (Over 600 lines: log reading, the open-loop checks, identification with
//! power, the gain search and the snippet writers all work on one `Series`
//! and `Fit`; this session merged identification with power into it, and
//! splitting it into `tune/{log,ident,design,snippet}.rs` is left for the
//! next pass. Its tests are in `tune_tests.rs`.)

pub mod plan;

use crate::ident::{self, Fit, IdentError};
use crate::ident_power;
use crate::linear::{
    gain_margin, predict, spectral_radius, IntegralForm, LinearError, LoopParams, Prediction,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Largest delay model selection considers (the issue's `0..8`).
pub const MAX_DELAY: usize = 8;

/// Default column names tried in order when `--columns` does not name one:
/// ours first, then verl's (`actor/entropy`, `actor/control_alpha`), then
/// the step columns of W&B exports (`_step`, `Step`) and verl
/// (`trainer/global_step`).
pub const ENTROPY_NAMES: &[&str] = &["entropy", "actor/entropy"];
/// See [`ENTROPY_NAMES`].
pub const ALPHA_NAMES: &[&str] = &["alpha", "actor/control_alpha"];
/// See [`ENTROPY_NAMES`].
pub const STEP_NAMES: &[&str] = &[
    "step",
    "_step",
    "Step",
    "trainer/global_step",
    "global_step",
];

/// Why a log cannot be read, identified or tuned. Every variant is bad
/// input (the CLI exits 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TuneError {
    #[error("--columns: {0}")]
    BadColumns(String),
    #[error("no {role} column: tried {tried}; columns present: {present}")]
    MissingColumn {
        role: &'static str,
        tried: String,
        present: String,
    },
    #[error("the log has no data rows")]
    Empty,
    #[error("line {line}: {msg}")]
    Malformed { line: usize, msg: String },
    #[error("line {line}, column `{column}`: `{value}` is not a number")]
    BadValue {
        line: usize,
        column: String,
        value: String,
    },
    #[error("the log holds several runs; choose one with --arm/--seed: {0}")]
    Ambiguous(String),
    #[error("no run matches --arm/--seed; runs present: {0}")]
    NoMatch(String),
    #[error("{0}")]
    Ident(#[from] IdentError),
    #[error("{0}")]
    Linear(#[from] LinearError),
    #[error("no target entropy: the log has no `target` field; pass --target")]
    NoTarget,
    #[error(
        "g is not significantly positive (95% interval [{lo:.4}, {hi:.4}]; the smallest g this \
         log detects with 80% power is {detectable:.3e}): the log does not identify a plant that \
         α controls; run a longer or larger probe (docs/mathematics.md §6, §9)"
    )]
    GainNotPositive { lo: f64, hi: f64, detectable: f64 },
    #[error(
        "α is not independent of the error ({reason}): a closed-loop (P or PI control) log \
         cannot identify g, the fit would predict its own answer; run a probe (docs/mathematics.md §6)"
    )]
    NotOpenLoop { reason: String },
    #[error(
        "the fit explains nothing: R² = {r2:.4} of the entropy steps, below {threshold}; \
         gains designed on it would be designed for noise; run a longer or larger probe \
         (docs/mathematics.md §9)"
    )]
    ExplainsNothing { r2: f64, threshold: f64 },
    #[error(
        "{verdict}: g = {g:.3e}, 95% interval [{lo:.3e}, {hi:.3e}] contains 0; the smallest g \
         this design detects with 80% power is {detectable:.3e} against a drift |b| = {b_abs:.3e} \
         (docs/mathematics.md §9); no gains are recommended"
    )]
    NotIdentified {
        verdict: &'static str,
        g: f64,
        lo: f64,
        hi: f64,
        detectable: f64,
        b_abs: f64,
    },
    #[error("the plain twin: {0}")]
    BadTwin(String),
    #[error(
        "the step column has a missing value at row {row}, so the rows cannot be ordered by step"
    )]
    UnorderableSteps { row: usize },
    #[error("{name}: {msg}")]
    BadOption { name: &'static str, msg: String },
    #[error(
        "the target cannot be held within the α clip: holding it needs α = b/g = {needed:.3} \
         (from the fit), beyond ±{alpha_max}; raise --alpha-max or change the plant"
    )]
    OutOfAuthority { needed: f64, alpha_max: f64 },
    #[error("no gains on the search grid are stable at every corner of the interval")]
    NoStableGains,
}

/// Which columns hold entropy, α and the step; `None` tries the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Columns {
    pub entropy: Option<String>,
    pub alpha: Option<String>,
    pub step: Option<String>,
}

impl Columns {
    /// Parses `entropy=NAME,alpha=NAME,step=NAME` (any subset, any order).
    /// Names may contain `/` but not `,` or `=`.
    pub fn parse(s: &str) -> Result<Columns, TuneError> {
        let mut c = Columns::default();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| TuneError::BadColumns(format!("`{part}` is not ROLE=NAME")))?;
            let v = Some(v.trim().to_string());
            match k.trim() {
                "entropy" => c.entropy = v,
                "alpha" => c.alpha = v,
                "step" => c.step = v,
                other => {
                    return Err(TuneError::BadColumns(format!(
                        "unknown role `{other}` (allowed: entropy, alpha, step)"
                    )))
                }
            }
        }
        Ok(c)
    }
}

/// One run's series, in file order. Missing, empty or NaN values are kept
/// as NaN in place, so the time structure stays intact; [`crate::ident`]
/// skips the regression rows they touch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Which run of the file this is (`arm=.. seed=..`, or the file kind).
    pub source: String,
    pub entropy_column: String,
    pub alpha_column: String,
    pub step: Vec<f64>,
    pub entropy: Vec<f64>,
    pub alpha: Vec<f64>,
    /// The logged target (our `target` field), if any.
    pub target: Option<f64>,
    /// Rows whose entropy or α is missing or not finite.
    pub nan_rows: usize,
}

fn pick<'a>(
    role: &'static str,
    named: &'a Option<String>,
    defaults: &'a [&'a str],
    present: &BTreeSet<String>,
) -> Result<Option<String>, TuneError> {
    let tried: Vec<&str> = match named {
        Some(n) => vec![n.as_str()],
        None => defaults.to_vec(),
    };
    if let Some(hit) = tried.iter().find(|n| present.contains(**n)) {
        return Ok(Some((*hit).to_string()));
    }
    if role == "step" && named.is_none() {
        return Ok(None); // the row index serves
    }
    Err(TuneError::MissingColumn {
        role,
        tried: tried
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", "),
        present: present
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn finish(mut s: Series) -> Result<Series, TuneError> {
    if s.entropy.is_empty() {
        return Err(TuneError::Empty);
    }
    order_by_step(&mut s)?;
    s.nan_rows = s
        .entropy
        .iter()
        .zip(&s.alpha)
        .filter(|(h, a)| !h.is_finite() || !a.is_finite())
        .count();
    Ok(s)
}

/// Puts the rows in step order when the step column is not already
/// non-decreasing (a W&B export sorted newest first, say): a stable sort by
/// step, noted in [`Series::source`] as `(rows ordered by step)`. A
/// missing step where a reorder is needed is refused (its place is
/// unknown); a sorted file is left as it is, missing steps and all.
pub fn order_by_step(s: &mut Series) -> Result<(), TuneError> {
    if s.step
        .windows(2)
        .all(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Less))
    {
        return Ok(());
    }
    if let Some(row) = s.step.iter().position(|x| !x.is_finite()) {
        return Err(TuneError::UnorderableSteps { row: row + 1 });
    }
    let mut idx: Vec<usize> = (0..s.step.len()).collect();
    idx.sort_by(|&a, &b| s.step[a].total_cmp(&s.step[b]));
    let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    s.step = pick(&s.step);
    s.entropy = pick(&s.entropy);
    s.alpha = pick(&s.alpha);
    s.source += " (rows ordered by step)";
    Ok(())
}

/// Reads one run from our `metrics.jsonl` (one object per line; blank lines
/// skipped). Runs are keyed by `(arm, sweep, seed)`; `arm`/`seed` select
/// among them, and with more than one left the log is refused, listing
/// them. A field that is absent, `null` or not a number reads as NaN.
pub fn parse_jsonl(
    text: &str,
    cols: &Columns,
    arm: Option<&str>,
    seed: Option<u64>,
) -> Result<Series, TuneError> {
    type Key = (String, String, u64);
    let mut objs: Vec<(Key, serde_json::Map<String, serde_json::Value>)> = Vec::new();
    let mut present = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| TuneError::Malformed {
                line: i + 1,
                msg: format!("not JSON ({e})"),
            })?;
        let serde_json::Value::Object(m) = v else {
            return Err(TuneError::Malformed {
                line: i + 1,
                msg: "not a JSON object".into(),
            });
        };
        let s = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let key = (
            s("arm"),
            s("sweep"),
            m.get("seed").and_then(|v| v.as_u64()).unwrap_or(0),
        );
        present.extend(m.keys().cloned());
        objs.push((key, m));
    }
    if objs.is_empty() {
        return Err(TuneError::Empty);
    }
    let runs: BTreeSet<&Key> = objs.iter().map(|o| &o.0).collect();
    let label = |k: &Key| {
        let sw = if k.1.is_empty() {
            String::new()
        } else {
            format!(" sweep={}", k.1)
        };
        format!("arm={}{} seed={}", k.0, sw, k.2)
    };
    let all = runs.iter().map(|k| label(k)).collect::<Vec<_>>().join("; ");
    let chosen: Vec<&Key> = runs
        .iter()
        .copied()
        .filter(|k| arm.is_none_or(|a| a == k.0) && seed.is_none_or(|s| s == k.2))
        .collect();
    let key = match chosen.as_slice() {
        [] => return Err(TuneError::NoMatch(all)),
        [k] => (*k).clone(),
        many => {
            return Err(TuneError::Ambiguous(
                many.iter().map(|k| label(k)).collect::<Vec<_>>().join("; "),
            ))
        }
    };
    let ec = pick("entropy", &cols.entropy, ENTROPY_NAMES, &present)?.unwrap_or_default();
    let ac = pick("alpha", &cols.alpha, ALPHA_NAMES, &present)?.unwrap_or_default();
    let sc = pick("step", &cols.step, STEP_NAMES, &present)?;
    let num = |m: &serde_json::Map<String, serde_json::Value>, k: &str| {
        m.get(k).and_then(|v| v.as_f64()).unwrap_or(f64::NAN)
    };
    let mut s = Series {
        source: label(&key),
        entropy_column: ec.clone(),
        alpha_column: ac.clone(),
        ..Series::default()
    };
    for (i, (_, m)) in objs.iter().filter(|o| o.0 == key).enumerate() {
        s.entropy.push(num(m, &ec));
        s.alpha.push(num(m, &ac));
        s.step.push(sc.as_deref().map_or(i as f64, |c| num(m, c)));
        if s.target.is_none() {
            s.target = m.get("target").and_then(|v| v.as_f64());
        }
    }
    finish(s)
}

/// Splits one CSV line into fields (RFC 4180 quoting: `"a,b"`, `""` for a
/// quote inside a quoted field; quoted fields may not span lines).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|f| f.trim().to_string()).collect()
}

/// Reads a CSV with a header row (e.g. a W&B export). Empty cells and
/// `NaN` read as NaN (W&B leaves a cell empty where a metric was not logged
/// that step); any other non-number is refused naming its line and column.
pub fn parse_csv(text: &str, cols: &Columns) -> Result<Series, TuneError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or(TuneError::Empty)?;
    let names = csv_fields(header.trim_start_matches('\u{feff}'));
    let present: BTreeSet<String> = names.iter().cloned().collect();
    let ec = pick("entropy", &cols.entropy, ENTROPY_NAMES, &present)?.unwrap_or_default();
    let ac = pick("alpha", &cols.alpha, ALPHA_NAMES, &present)?.unwrap_or_default();
    let sc = pick("step", &cols.step, STEP_NAMES, &present)?;
    let idx = |c: &str| names.iter().position(|n| n == c);
    let (ei, ai) = (idx(&ec), idx(&ac));
    let si = sc.as_deref().and_then(idx);
    let mut s = Series {
        source: "csv".into(),
        entropy_column: ec,
        alpha_column: ac,
        ..Series::default()
    };
    for (row, (i, line)) in lines.enumerate() {
        let f = csv_fields(line);
        let get = |j: Option<usize>, name: &str| -> Result<f64, TuneError> {
            let cell = j.and_then(|j| f.get(j)).map_or("", |c| c.as_str());
            if cell.is_empty() {
                return Ok(f64::NAN);
            }
            cell.parse::<f64>().map_err(|_| TuneError::BadValue {
                line: i + 1,
                column: name.to_string(),
                value: cell.to_string(),
            })
        };
        s.entropy.push(get(ei, &s.entropy_column)?);
        s.alpha.push(get(ai, &s.alpha_column)?);
        s.step.push(match si {
            Some(_) => get(si, sc.as_deref().unwrap_or(""))?,
            None => row as f64,
        });
    }
    finish(s)
}

/// Reads a log: JSON lines when the first non-blank character is `{`,
/// otherwise CSV. `arm`/`seed` only apply to JSON lines.
pub fn parse_log(
    text: &str,
    cols: &Columns,
    arm: Option<&str>,
    seed: Option<u64>,
) -> Result<Series, TuneError> {
    if text.trim_start().starts_with('{') {
        parse_jsonl(text, cols, arm, seed)
    } else {
        parse_csv(text, cols)
    }
}

/// The identified plant with the residual of every candidate delay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identified {
    pub fit: Fit,
    /// `(d, residual_rms)` for each candidate on common rows; empty when the
    /// delay was given.
    pub delay_residuals: Vec<(usize, f64)>,
}

/// Identifies `b`, `g` and `d` ([`ident::identify_delay`] over
/// `0..=MAX_DELAY` when `delay` is `None`, else [`ident::identify`]).
/// Refuses a closed-loop log ([`check_open_loop`]) and what `ident` refuses
/// (P control, constant series, too few rows).
pub fn identify(series: &Series, delay: Option<usize>) -> Result<Identified, TuneError> {
    check_open_loop(series)?;
    Ok(match delay {
        Some(d) => Identified {
            fit: ident::identify(&series.entropy, &series.alpha, d)?,
            delay_residuals: Vec::new(),
        },
        None => {
            let (fit, r) = ident::identify_delay(&series.entropy, &series.alpha, MAX_DELAY)?;
            Identified {
                fit,
                delay_residuals: r,
            }
        }
    })
}

/// A log is closed-loop when `|corr(α_t, H_t)|` exceeds this: α then
/// follows the error (an unclipped P law gives 1). A probe's α is a
/// schedule fixed in advance; on the probes of this crate's tests it stays
/// below 0.5 even where α moves the entropy a lot.
pub const CLOSED_LOOP_CORR: f64 = 0.9;

/// A log is closed-loop when the regression of `α_t` on the error's
/// history (`1, H_t, Σ_{s<t} H_s, t`: the P and I terms of either integral
/// form with any target) explains more than this share of α's variance:
/// α is then (nearly) a deterministic function of the error, as under PI
/// control. Checked on the unsaturated steps (`|α|` below its largest
/// value), where a clipped controller is still linear.
pub const CLOSED_LOOP_R2: f64 = 0.99;

/// Smallest `R²` of the entropy steps that a recommendation rests on.
/// Below 1%, α accounts for almost none of what the entropy did, and gains
/// designed on the fit are designed for noise. (The official PI arm's
/// closed-loop log that once yielded `Kp = 741.2` had 0.0082; the
/// must-show simulated probe of `ident` at a gain of half the drift has
/// about 0.03.)
pub const MIN_R2: f64 = 0.01;

/// The figures [`check_open_loop`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OpenLoopCheck {
    /// `corr(α_t, H_t)` on the rows where both are finite.
    pub corr_alpha_entropy: f64,
    /// `R²` of `α_t` on `1, H_t, Σ_{s<t} H_s, t` on the unsaturated rows
    /// (NaN when fewer than [`ident::MIN_ROWS`] of them).
    pub r2_alpha_on_error: f64,
}

/// OLS `R²` of `y` on the columns of `x` (rows), NaN when singular.
fn r2_of(x: &[Vec<f64>], y: &[f64]) -> f64 {
    let (n, k) = (y.len(), x.first().map_or(0, |r| r.len()));
    if n <= k {
        return f64::NAN;
    }
    // Standardise the columns so `t` and the cumulative sum do not swamp
    // the normal equations.
    let cols: Vec<(f64, f64)> = (0..k)
        .map(|j| {
            let m = x.iter().map(|r| r[j]).sum::<f64>() / n as f64;
            let sd = (x.iter().map(|r| (r[j] - m).powi(2)).sum::<f64>() / n as f64).sqrt();
            (m, if sd > 0.0 { sd } else { 1.0 })
        })
        .collect();
    let flat: Vec<f64> = x
        .iter()
        .flat_map(|r| {
            r.iter()
                .zip(&cols)
                .map(|(v, (m, sd))| (v - m) / sd)
                .collect::<Vec<_>>()
        })
        .collect();
    let xm = nalgebra::DMatrix::from_row_slice(n, k, &flat);
    let ym = y.iter().sum::<f64>() / n as f64;
    let yv = nalgebra::DVector::from_iterator(n, y.iter().map(|v| v - ym));
    let sst = yv.norm_squared();
    if sst <= 0.0 {
        return f64::NAN;
    }
    let svd = xm.clone().svd(true, true);
    match svd.solve(&yv, 1e-10) {
        Ok(beta) => 1.0 - (&yv - xm * beta).norm_squared() / sst,
        Err(_) => f64::NAN,
    }
}

/// Refuses a log whose α is not independent of the error (issue 12,
/// item 8; docs/mathematics.md §6): `|corr(α_t, H_t)| >`
/// [`CLOSED_LOOP_CORR`], or α explained by the error's history beyond
/// [`CLOSED_LOOP_R2`] on the unsaturated rows (P or PI control).
///
/// Not caught here: a controller that sits at its clips. Stuck at one clip
/// (the official PI arm, 99.8% saturated), α is nearly constant and the
/// fit is refused instead ([`MIN_R2`], or g's interval holding 0). Switching
/// between the clips (relay-like), α is a sign function of the error's
/// history; a linear test on all rows did not separate that from a
/// noise-free PRBS probe (R² 0.80 for a relay log against 0.74 for the
/// probe of the CLI tests), so it was not adopted. Such a log is fitted; with
/// process noise only its fit is still consistent (α_{t−d} depends only on
/// the past, docs/mathematics.md §6), with measurement noise it is not. Returns what it
/// measured when the log passes.
pub fn check_open_loop(series: &Series) -> Result<OpenLoopCheck, TuneError> {
    let rows: Vec<(usize, f64, f64)> = series
        .entropy
        .iter()
        .zip(&series.alpha)
        .enumerate()
        .map(|(t, (&h, &a))| (t, h, a))
        .filter(|(_, h, a)| h.is_finite() && a.is_finite())
        .collect();
    let pairs: Vec<(f64, f64)> = rows.iter().map(|r| (r.2, r.1)).collect();
    let corr = pearson(&pairs);
    if corr.abs() > CLOSED_LOOP_CORR {
        return Err(TuneError::NotOpenLoop {
            reason: format!(
                "|corr(α_t, H_t)| = {:.3} > {CLOSED_LOOP_CORR}: α follows the error, as under P control",
                corr.abs()
            ),
        });
    }
    // The error's history: H_t and Σ_{s<t} H_s (NaN entropy counts as 0 in
    // the sum; the row itself needs H_t).
    let mut cum = Vec::with_capacity(series.entropy.len());
    let mut acc = 0.0;
    for h in &series.entropy {
        cum.push(acc);
        if h.is_finite() {
            acc += h;
        }
    }
    let amax = rows.iter().fold(0.0_f64, |m, r| m.max(r.2.abs()));
    let inner: Vec<&(usize, f64, f64)> = rows
        .iter()
        .filter(|r| r.2.abs() < amax * (1.0 - 1e-9))
        .collect();
    let r2 = if inner.len() >= ident::MIN_ROWS {
        let x: Vec<Vec<f64>> = inner
            .iter()
            .map(|r| vec![r.1, cum[r.0], r.0 as f64])
            .collect();
        let y: Vec<f64> = inner.iter().map(|r| r.2).collect();
        r2_of(&x, &y)
    } else {
        f64::NAN
    };
    if r2 > CLOSED_LOOP_R2 {
        return Err(TuneError::NotOpenLoop {
            reason: format!(
                "α_t is a function of H_t and its running sum on the unsaturated steps \
                 (R² = {r2:.4} > {CLOSED_LOOP_R2}), as under P or PI control"
            ),
        });
    }
    Ok(OpenLoopCheck {
        corr_alpha_entropy: corr,
        r2_alpha_on_error: r2,
    })
}

/// Pearson correlation of the pairs; NaN when either side is constant.
fn pearson(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
        sxy += (x - mx) * (y - my);
    }
    if sxx > 0.0 && syy > 0.0 {
        sxy / (sxx * syy).sqrt()
    } else {
        f64::NAN
    }
}

/// An identification with power (docs/mathematics.md §9): the estimate
/// and the [`Fit`] that [`recommend`] takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerIdentified {
    pub estimate: ident_power::GainEstimate,
    /// [`ident_power::GainEstimate::to_fit`] of `estimate`.
    pub fit: Fit,
    pub open_loop: OpenLoopCheck,
    /// `(d, residual_rms)` of the delay selection (OLS in differences,
    /// [`ident::identify_delay`]); empty when the delay was given.
    pub delay_residuals: Vec<(usize, f64)>,
}

/// `tune identify LOG [--twin PLAIN_LOG]` at library level: refuses a
/// closed-loop log ([`check_open_loop`]); picks the delay as [`identify`]
/// does (or takes `delay`); fits [`ident_power::paired`] when `twin` (the plain
/// arm of the same seed, α 0 or absent) is given, else [`ident_power::unpaired`];
/// then refuses, with the detectable g in the message, a fit whose 95%
/// interval for g does not lie above 0 ([`TuneError::NotIdentified`]:
/// `"no authority beyond the drift"` when the detectable g is below `|b|`
/// and the estimate is not above it, else `"undetermined"`) or whose
/// `R²` is below [`MIN_R2`] ([`TuneError::ExplainsNothing`]).
pub fn identify_with_power(
    series: &Series,
    twin: Option<&Series>,
    delay: Option<usize>,
) -> Result<PowerIdentified, TuneError> {
    let open_loop = check_open_loop(series)?;
    let (d, delay_residuals) = match delay {
        Some(d) => (d, Vec::new()),
        None => {
            let (fit, r) = ident::identify_delay(&series.entropy, &series.alpha, MAX_DELAY)?;
            (fit.d, r)
        }
    };
    let estimate = match twin {
        Some(plain) => {
            if plain.entropy.len() != series.entropy.len() {
                return Err(TuneError::BadTwin(format!(
                    "{} steps where the probe has {}",
                    plain.entropy.len(),
                    series.entropy.len()
                )));
            }
            if plain.alpha.iter().any(|a| a.is_finite() && *a != 0.0) {
                return Err(TuneError::BadTwin(
                    "its α is not 0: a plain twin runs without the entropy term".into(),
                ));
            }
            ident_power::paired(
                &[ident_power::Twin {
                    probe: &series.entropy,
                    plain: &plain.entropy,
                    alpha: &series.alpha,
                }],
                d,
            )?
        }
        None => ident_power::unpaired(&series.entropy, &series.alpha, d)?,
    };
    // NaN-safe: an interval whose lower end is not a positive number.
    if estimate.g_ci.0.is_nan() || estimate.g_ci.0 <= 0.0 {
        let b_abs = estimate.b.abs();
        let none = estimate.g_detectable < b_abs && estimate.g <= b_abs;
        return Err(TuneError::NotIdentified {
            verdict: if none {
                "no authority beyond the drift"
            } else {
                "undetermined"
            },
            g: estimate.g,
            lo: estimate.g_ci.0,
            hi: estimate.g_ci.1,
            detectable: estimate.g_detectable,
            b_abs,
        });
    }
    if estimate.r2 < MIN_R2 {
        return Err(TuneError::ExplainsNothing {
            r2: estimate.r2,
            threshold: MIN_R2,
        });
    }
    Ok(PowerIdentified {
        fit: estimate.to_fit(),
        estimate,
        open_loop,
        delay_residuals,
    })
}

/// The open-loop model `Ĥ_{t+1} = Ĥ_t + b − g·α_{t−d}` from `Ĥ_0 = H_0`,
/// driven by the logged α (NaN α and `t < d` count as 0), for plotting the
/// fit over the log.
pub fn model_path(series: &Series, fit: &Fit) -> Vec<f64> {
    let n = series.entropy.len();
    let mut h = Vec::with_capacity(n);
    let mut cur = series
        .entropy
        .iter()
        .copied()
        .find(|x| x.is_finite())
        .unwrap_or(0.0);
    for t in 0..n {
        h.push(cur);
        let a = if t >= fit.d {
            series.alpha[t - fit.d]
        } else {
            0.0
        };
        cur += fit.b - fit.g * if a.is_finite() { a } else { 0.0 };
    }
    h
}

/// What the recommendation must achieve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DesignSpec {
    /// Wanted settling step (docs/design.md §8's definition).
    pub settle: usize,
    /// Target entropy (nats); sets the default band `max(0.05, 0.1·H_tar)`.
    pub target: f64,
    /// Settling band (nats) when given; `None`: docs/design.md §8's
    /// `max(0.05, 0.1·H_tar)`. The 0.05-nat floor is wider than a small
    /// LLM's whole token-mean entropy (often below 0.1 nats), where every
    /// gain would "settle" at step 0; pass e.g. `0.1·H_tar` there.
    #[serde(default)]
    pub band: Option<f64>,
    /// Initial error `H_0 − H_tar` the predictions start from.
    pub e0: f64,
    /// α clip of the controller that will run (`f64::INFINITY`: none).
    pub alpha_max: f64,
    pub form: IntegralForm,
    /// Largest overshoot (fraction of `|e0|`) accepted at any corner.
    pub max_overshoot: f64,
}

/// The loop's figures at one corner `(b, g)` of the 95% box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Corner {
    pub b: f64,
    pub g: f64,
    pub spectral_radius: f64,
    pub prediction: Prediction,
}

/// Recommended gains and what the linear model predicts for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub kp: f64,
    pub ki: f64,
    pub target: f64,
    pub form: IntegralForm,
    /// The α clip the predictions assumed ([`DesignSpec::alpha_max`]).
    pub alpha_max: f64,
    /// At the point estimate `(b, g)`.
    pub nominal: Corner,
    /// The four corners `(b_lo|b_hi) × (g_lo|g_hi)`.
    pub corners: Vec<Corner>,
    /// [`gain_margin`] at the point estimate and at the largest `g` of the
    /// interval (the corner closest to instability).
    pub gain_margin: f64,
    pub gain_margin_worst: f64,
    /// Whether every corner settles by [`DesignSpec::settle`] within the
    /// overshoot bound; when false these are the fastest robust gains found.
    pub met: bool,
    pub band: f64,
    pub horizon: usize,
}

/// Settling step as a number (`None` → infinity) for comparisons.
fn settle_num(p: &Prediction) -> f64 {
    p.settling_step.map_or(f64::INFINITY, |s| s as f64)
}

/// Geometric grid of `n` points from `lo` to `hi`.
fn geom(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(move |i| lo * (hi / lo).powf(i as f64 / (n - 1) as f64))
}

/// `(t_{0.975,n−2} + t_{0.80,n−2})·se`: the gain detected with 80% power
/// (docs/mathematics.md §9), for a [`Fit`] that carries no
/// [`ident_power::GainEstimate::g_detectable`].
fn detectable_from_se(se: f64, n: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    StudentsT::new(0.0, 1.0, (n as f64 - 2.0).max(1.0))
        .map(|t| (t.inverse_cdf(0.975) + t.inverse_cdf(0.80)) * se)
        .unwrap_or(f64::NAN)
}

/// Recommends PI gains (docs/mathematics.md §3 law, `spec.form`'s integral) for the
/// identified plant, robust over the regression's 95% box.
///
/// Chosen here (the issue leaves the method open): a grid search over the
/// dimensionless loop gains `ĝ·Kp ∈ [0.005, 2]` and `ĝ·Ki ∈ [1e-4, 0.5]`
/// (40 geometric points each; the loop depends on the gains only through
/// `g·Kp` and `g·Ki`). A candidate is admissible when the spectral radius is
/// below 1 at `g_lo`, `ĝ` and `g_hi` (`b` does not enter it) — so the gains
/// are chosen for the worst corner, not shrunk afterwards. For each, the
/// linear loop is simulated ([`predict`], clip `alpha_max`, horizon
/// `max(8·settle, 200)`) at the four `(b, g)` corners. Among admissible
/// gains whose every corner settles by `settle` with overshoot at most
/// `max_overshoot`, we take the one whose worst corner settles latest (the
/// closest to the wanted time, so the gains are no hotter than needed),
/// ties broken by the largest gain margin at `ĝ`; if none meets it, the one
/// with the smallest worst-corner settling step (`met = false`). Only PI is
/// searched: with drift `b ≠ 0`, P leaves `e* = b/(g·Kp)` (docs/mathematics.md §6).
///
/// Refused before any search: `g`'s interval not above 0
/// ([`TuneError::GainNotPositive`], with the detectable g), and a fit with
/// `R² <` [`MIN_R2`] ([`TuneError::ExplainsNothing`]).
pub fn recommend(fit: &Fit, spec: &DesignSpec) -> Result<Recommendation, TuneError> {
    let (g_lo, g_hi) = fit.g_ci;
    if !(g_lo > 0.0 && fit.g > 0.0) {
        return Err(TuneError::GainNotPositive {
            lo: g_lo,
            hi: g_hi,
            detectable: detectable_from_se(fit.g_se, fit.n),
        });
    }
    if fit.r2 < MIN_R2 {
        return Err(TuneError::ExplainsNothing {
            r2: fit.r2,
            threshold: MIN_R2,
        });
    }
    if spec.settle == 0 {
        return Err(TuneError::BadOption {
            name: "--settle",
            msg: "must be at least 1 step".into(),
        });
    }
    if !spec.target.is_finite() || spec.target < 0.0 {
        return Err(TuneError::BadOption {
            name: "--target",
            msg: format!("must be a finite entropy >= 0 (got {})", spec.target),
        });
    }
    // At equilibrium ΔH = 0, so α* = b/g (docs/mathematics.md §6); past the clip no
    // gains can hold the target, and every candidate would "never settle".
    let needed = fit.b / fit.g;
    if needed.abs() >= spec.alpha_max {
        return Err(TuneError::OutOfAuthority {
            needed,
            alpha_max: spec.alpha_max,
        });
    }
    let band = spec
        .band
        .unwrap_or_else(|| crate::linear::design_band(spec.target));
    let horizon = (8 * spec.settle).max(200);
    let d = fit.d;
    let corner = |b: f64, g: f64, kp: f64, ki: f64| -> Result<Corner, TuneError> {
        let p = LoopParams {
            gain: g,
            delay: d,
            kp,
            ki,
            drift: b,
            form: spec.form,
        };
        Ok(Corner {
            b,
            g,
            spectral_radius: spectral_radius(g, d, kp, ki, spec.form),
            prediction: predict(&p, spec.e0, band, horizon, spec.alpha_max)?,
        })
    };
    let boxes = [
        (fit.b_ci.0, g_lo),
        (fit.b_ci.0, g_hi),
        (fit.b_ci.1, g_lo),
        (fit.b_ci.1, g_hi),
    ];
    // (meets spec, worst settle, margin, kp, ki)
    let mut best: Option<(bool, f64, f64, f64, f64)> = None;
    for lp in geom(0.005, 2.0, 40) {
        for li in geom(1e-4, 0.5, 40) {
            let (kp, ki) = (lp / fit.g, li / fit.g);
            let stable = [g_lo, fit.g, g_hi]
                .iter()
                .all(|&g| spectral_radius(g, d, kp, ki, spec.form) < 1.0);
            if !stable {
                continue;
            }
            let mut worst_settle = 0.0_f64;
            let mut worst_over = 0.0_f64;
            for (b, g) in boxes {
                let c = corner(b, g, kp, ki)?;
                worst_settle = worst_settle.max(settle_num(&c.prediction));
                worst_over = worst_over.max(if c.prediction.overshoot.is_nan() {
                    0.0
                } else {
                    c.prediction.overshoot
                });
            }
            let meets = worst_settle <= spec.settle as f64 && worst_over <= spec.max_overshoot;
            let margin = gain_margin(fit.g, d, kp, ki, spec.form);
            let better = match best {
                None => true,
                Some((bm, bs, bmar, ..)) => match (meets, bm) {
                    (true, false) => true,
                    (false, true) => false,
                    (true, true) => worst_settle > bs || (worst_settle == bs && margin > bmar),
                    (false, false) => worst_settle < bs,
                },
            };
            if better {
                best = Some((meets, worst_settle, margin, kp, ki));
            }
        }
    }
    let (met, _, margin, kp, ki) = best.ok_or(TuneError::NoStableGains)?;
    let corners = boxes
        .iter()
        .map(|&(b, g)| corner(b, g, kp, ki))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Recommendation {
        kp,
        ki,
        target: spec.target,
        form: spec.form,
        alpha_max: spec.alpha_max,
        nominal: corner(fit.b, fit.g, kp, ki)?,
        corners,
        gain_margin: margin,
        gain_margin_worst: gain_margin(g_hi, d, kp, ki, spec.form),
        met,
        band,
        horizon,
    })
}

/// The authors' verl override keys, as their recipe names them
/// (yk7333/EntroPIC `config/entropic.yaml` and `run_entropic.sh`, commit
/// 2470730c): `actor_rollout_ref.actor.{target_entropy, entropy_control_p,
/// entropy_control_i}`; their controller is the `before` form of docs/mathematics.md §3.
pub const VERL_KEYS: [&str; 3] = [
    "actor_rollout_ref.actor.target_entropy",
    "actor_rollout_ref.actor.entropy_control_p",
    "actor_rollout_ref.actor.entropy_control_i",
];

/// The recommendation as a scenario snippet of ours (`[control]` keys),
/// carrying every key the prediction assumed that [`Recommendation`] knows:
/// target, gains, integral form, the α clip, and `anti_windup = false`
/// (the linear prediction has no anti-windup). The plant-side keys (scope,
/// weighting, threshold, τ, measure) are those of the probe the plant was
/// identified on, which a log does not record: this snippet says so in a
/// comment; [`scenario_snippet_with`] writes them when the probe's
/// `[control]` is known.
pub fn scenario_snippet(r: &Recommendation) -> String {
    format!(
        "{}# scope, weighting, threshold, tau and measure: set them as in the probe run the \
         plant was identified on (the prediction holds for those)\n",
        snippet_core(r)
    )
}

/// [`scenario_snippet`] with the plant-side keys copied from the probe's
/// `[control]` (`scope`, `weighting`, `threshold`, `tau`, `measure`): the
/// identified `b`, `g` and `d` hold for those settings only, so a snippet
/// without them may run a different plant (issue 12, item 8: the pasted
/// snippet without `scope`/`alpha_max` never settled where the complete
/// one settled at step 6).
pub fn scenario_snippet_with(
    r: &Recommendation,
    probe: &entropic_sim::control::ControlConfig,
) -> String {
    let name = |v: serde_json::Result<serde_json::Value>| match v {
        Ok(serde_json::Value::String(s)) => format!("\"{s}\""),
        Ok(other) => other.to_string(),
        Err(e) => format!("\"{e}\""),
    };
    format!(
        "{}scope = {}\nweighting = {}\nthreshold = {}\ntau = {}\nmeasure = {}\n",
        snippet_core(r),
        name(serde_json::to_value(probe.scope)),
        name(serde_json::to_value(probe.weighting)),
        name(serde_json::to_value(probe.threshold)),
        toml_f64(probe.tau),
        name(serde_json::to_value(probe.measure)),
    )
}

/// A float as TOML reads it (`inf`, `-inf`, `nan`, or Rust's shortest
/// round-trip form with a decimal point).
fn toml_f64(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

fn snippet_core(r: &Recommendation) -> String {
    let form = match r.form {
        IntegralForm::Before => "before",
        IntegralForm::After => "after",
    };
    format!(
        "[control]\nmethod = \"entropic\"\ntarget = {}\nkp = {}\nki = {}\nintegral_form = \"{form}\"\nalpha_max = {}\nanti_windup = false\n",
        r.target,
        fmt_gain(r.kp),
        fmt_gain(r.ki),
        toml_f64(r.alpha_max)
    )
}

/// The recommendation as verl command-line overrides ([`VERL_KEYS`]).
pub fn verl_overrides(r: &Recommendation) -> String {
    format!(
        "{}={} {}={} {}={}",
        VERL_KEYS[0],
        r.target,
        VERL_KEYS[1],
        fmt_gain(r.kp),
        VERL_KEYS[2],
        fmt_gain(r.ki)
    )
}

/// A gain rounded to 4 significant digits (more is noise given the
/// interval on `g`), printed so TOML and Hydra read it back.
pub fn fmt_gain(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x:?}");
    }
    let mag = x.abs().log10().floor() as i32;
    let dec = (3 - mag).max(0) as usize;
    let s = format!("{x:.dec$}");
    if !s.contains('.') {
        return format!("{s}.0");
    }
    let t = s.trim_end_matches('0');
    if t.ends_with('.') {
        format!("{t}0")
    } else {
        t.to_string()
    }
}

/// A probe schedule (docs/mathematics.md §7) as `[steps, alpha]` pairs: a pseudo-random
/// binary sequence (7-bit maximal-length LFSR, taps x⁷+x⁶+1, seed 1) between
/// `center − amplitude` and `center + amplitude`, each bit held `hold`
/// steps, runs of equal bits merged, cut or extended to `steps` in total.
///
/// Why a PRBS rather than a staircase: its level changes come at irregular
/// intervals (1 to 7 bits), so `α_{t−d}` for different `d` are nearly
/// uncorrelated and the delay is told apart; it spends equal time at both
/// levels, so with `center` near the α that holds entropy the run stays
/// near its operating point; and it is deterministic. `hold` defaults (in
/// the CLI) to `MAX_DELAY + 2`, so every level outlasts the longest delay
/// considered.
pub fn probe_schedule(steps: usize, amplitude: f64, center: f64, hold: usize) -> Vec<(usize, f64)> {
    let hold = hold.max(1);
    let mut lfsr: u8 = 1;
    let mut out: Vec<(usize, f64)> = Vec::new();
    let mut total = 0;
    while total < steps {
        let bit = lfsr & 1;
        let fb = ((lfsr >> 6) ^ (lfsr >> 5)) & 1;
        lfsr = ((lfsr << 1) | fb) & 0x7f;
        let a = if bit == 1 {
            center + amplitude
        } else {
            center - amplitude
        };
        let n = hold.min(steps - total);
        total += n;
        match out.last_mut() {
            Some(last) if last.1 == a => last.0 += n,
            _ => out.push((n, a)),
        }
    }
    out
}

/// The probe as a scenario snippet that `entropic run` accepts appended to
/// a scenario without its own `[control]` table.
pub fn probe_snippet(schedule: &[(usize, f64)], target: Option<f64>) -> String {
    let pairs = schedule
        .iter()
        .map(|(n, a)| format!("[{n}, {}]", fmt_gain(*a)))
        .collect::<Vec<_>>()
        .join(", ");
    let t = target.map_or(String::new(), |t| format!("target = {t}\n"));
    format!("[control]\nmethod = \"probe\"\n{t}alpha_max = inf\nprobe = [{pairs}]\n")
}

#[cfg(test)]
mod tests;
