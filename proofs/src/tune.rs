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

use crate::ident::{self, Fit, IdentError};
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
        "g is not significantly positive (95% interval [{lo:.4}, {hi:.4}]): the log does not \
         identify a plant that α controls; run a longer or larger probe (docs/mathematics.md §6, §7)"
    )]
    GainNotPositive { lo: f64, hi: f64 },
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
    s.nan_rows = s
        .entropy
        .iter()
        .zip(&s.alpha)
        .filter(|(h, a)| !h.is_finite() || !a.is_finite())
        .count();
    Ok(s)
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
/// Refuses what `ident` refuses (P control, constant series, too few rows).
pub fn identify(series: &Series, delay: Option<usize>) -> Result<Identified, TuneError> {
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
pub fn recommend(fit: &Fit, spec: &DesignSpec) -> Result<Recommendation, TuneError> {
    let (g_lo, g_hi) = fit.g_ci;
    if !(g_lo > 0.0 && fit.g > 0.0) {
        return Err(TuneError::GainNotPositive { lo: g_lo, hi: g_hi });
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

/// The recommendation as a scenario snippet of ours (`[control]` keys).
pub fn scenario_snippet(r: &Recommendation) -> String {
    let form = match r.form {
        IntegralForm::Before => "before",
        IntegralForm::After => "after",
    };
    format!(
        "[control]\nmethod = \"entropic\"\ntarget = {}\nkp = {}\nki = {}\nintegral_form = \"{form}\"\n",
        r.target,
        fmt_gain(r.kp),
        fmt_gain(r.ki)
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
