//! Reading one run's entropy and α from our `metrics.jsonl` or a CSV (a
//! W&B export, say), by column name.

use crate::tune::model::*;
use std::collections::BTreeSet;

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
        let key = run_key(&m);
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
    let ac = pick_alpha(cols, &present)?;
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
    let ac = pick_alpha(cols, &present)?;
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

/// The run a JSON-lines record belongs to: its `arm`, `sweep` and `seed`
/// (absent: empty, empty, 0).
fn run_key(m: &serde_json::Map<String, serde_json::Value>) -> (String, String, u64) {
    let s = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    (
        s("arm"),
        s("sweep"),
        m.get("seed").and_then(|v| v.as_u64()).unwrap_or(0),
    )
}

/// The seeds of a JSON-lines log's runs when they are one run (arm and
/// sweep) repeated over two or more seeds, after the `arm` filter;
/// `None` for a CSV, one run, or runs that differ in more than the seed
/// (then [`parse_log`] asks for `--arm`/`--seed` as before). Lines that are
/// not JSON objects are left to [`parse_log`] to report.
pub fn seeds_of_one_run(text: &str, arm: Option<&str>) -> Option<Vec<u64>> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut runs: BTreeSet<(String, String, u64)> = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let serde_json::Value::Object(m) = serde_json::from_str(line).ok()? else {
            return None;
        };
        let key = run_key(&m);
        if arm.is_none_or(|a| a == key.0) {
            runs.insert(key);
        }
    }
    let first = runs.first()?.clone();
    let one_run = runs.iter().all(|k| k.0 == first.0 && k.1 == first.1);
    (one_run && runs.len() >= 2).then(|| runs.into_iter().map(|k| k.2).collect())
}

/// The α column's name: as [`pick`], except that a log without one gives
/// `""` (every α NaN) where `cols.alpha_optional` allows it.
fn pick_alpha(cols: &Columns, present: &BTreeSet<String>) -> Result<String, TuneError> {
    match pick("alpha", &cols.alpha, ALPHA_NAMES, present) {
        Err(TuneError::MissingColumn { .. }) if cols.alpha_optional && cols.alpha.is_none() => {
            Ok(String::new())
        }
        r => Ok(r?.unwrap_or_default()),
    }
}

/// A plain twin's log (`tune identify --twin`): as [`parse_log`] without an
/// arm filter, but a log with no α column (a plain arm applied none, and
/// our `metrics.jsonl` of a `method = "none"` arm logs none) reads α as
/// absent instead of being refused.
pub fn parse_twin_log(text: &str, cols: &Columns, seed: Option<u64>) -> Result<Series, TuneError> {
    let cols = Columns {
        alpha_optional: true,
        ..cols.clone()
    };
    parse_log(text, &cols, None, seed)
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
