//! `entropic compare DIR_A DIR_B`: two `entropic run` output folders side
//! by side. For every configuration (arm, sweep point) present in both, by
//! its folder name: each headline figure of A and B (95% intervals, as in
//! `report.md`) and the difference B − A with its 95% interval, from the
//! per-seed figures in `summary.json` (Welch's interval for means,
//! Newcombe's for the settled share: `entropic_sim::stats`). Configurations
//! present in one folder only are listed; configurations whose settings
//! differ are flagged with the keys that differ. The plot overlays the two
//! runs' mean entropy curves (from each arm's `metrics.jsonl`).
//!
//! Chosen where the issue is silent: without `--out` the Markdown goes to
//! stdout and no plot is written (a command printing to stdout should not
//! leave files); with `--out FILE` the plot is `<FILE stem>-entropy.svg` beside
//! it.
use crate::error::InputError;
use entropic_sim::metrics::Record;
use entropic_sim::plot::{line_plot_svg, ArmSeries};
use entropic_sim::report::{fmt_est, markdown_table, SIG_DIGITS};
use entropic_sim::stats::{diff_ci, share_diff_ci, Estimate};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const LEVEL: f64 = 0.95;

/// The figures compared: (key in summary.json, row name).
const FIGURES: [(&str, &str); 7] = [
    ("final_abs_err", "final |e| (nats)"),
    ("final_rel_err", "final rel. err"),
    ("settling_step", "settling step"),
    ("overshoot", "overshoot"),
    ("alpha_saturated", "α saturated"),
    ("final_pass_rate", "final pass rate"),
    ("final_entropy", "final H (nats)"),
];

fn read_summary(dir: &Path, which: &str) -> anyhow::Result<Value> {
    let p = dir.join("summary.json");
    let text = std::fs::read_to_string(&p).map_err(|_| {
        InputError(format!(
            "{which} {}: no readable summary.json (not an `entropic run` output folder)",
            dir.display()
        ))
    })?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| InputError(format!("{}: not valid JSON: {e}", p.display())))?;
    if !v["configs"].is_array() {
        return Err(InputError(format!("{}: has no `configs` list", p.display())).into());
    }
    Ok(v)
}

fn est(v: &Value) -> Option<Estimate> {
    serde_json::from_value(v.clone()).ok()
}

/// The per-seed values of figure `key` in a config's `figures.per_seed`
/// (`[[seed, {..}], ..]`); a seed without a finite value is left out.
fn per_seed(cfg: &Value, key: &str) -> Vec<f64> {
    cfg["figures"]["per_seed"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.get(1).and_then(|f| f[key].as_f64()))
                .filter(|x| x.is_finite())
                .collect()
        })
        .unwrap_or_default()
}

fn diff_cell(d: &Estimate) -> String {
    if !d.mean.is_finite() {
        "n/a".into()
    } else if d.lo.is_finite() {
        fmt_est(d, SIG_DIGITS)
    } else {
        format!(
            "{} (one seed: no interval)",
            entropic_sim::report::fmt_sig(d.mean, SIG_DIGITS)
        )
    }
}

/// Whether the interval of `d` excludes 0.
fn excludes_zero(d: &Estimate) -> bool {
    d.lo.is_finite() && d.hi.is_finite() && (d.lo > 0.0 || d.hi < 0.0)
}

/// The comparison table of one configuration present in both runs.
fn table(a: &Value, b: &Value) -> String {
    let mut rows = Vec::new();
    let seeds = |c: &Value| c["figures"]["per_seed"].as_array().map_or(0, Vec::len);
    let (na, nb) = (seeds(a), seeds(b));
    // settled: a share of seeds
    let k = |c: &Value, n: usize| {
        est(&c["figures"]["settled"]).map_or(0, |e| (e.mean * n as f64).round() as usize)
    };
    let (ka, kb) = (k(a, na), k(b, nb));
    let d = share_diff_ci(ka, na, kb, nb, LEVEL);
    rows.push(vec![
        "settled (share of seeds)".into(),
        format!("{ka}/{na}"),
        format!("{kb}/{nb}"),
        diff_cell(&d),
        if excludes_zero(&d) { "yes" } else { "no" }.into(),
    ]);
    for (key, name) in FIGURES {
        let cell = |c: &Value| {
            est(&c["figures"][key]).map_or("n/a".to_string(), |e| fmt_est(&e, SIG_DIGITS))
        };
        let d = diff_ci(&per_seed(a, key), &per_seed(b, key), LEVEL);
        rows.push(vec![
            name.into(),
            cell(a),
            cell(b),
            diff_cell(&d),
            if excludes_zero(&d) { "yes" } else { "no" }.into(),
        ]);
    }
    markdown_table(
        &["figure", "A", "B", "B − A [95% CI]", "interval excludes 0"],
        &rows,
    )
}

/// The seeds' records of `dir/<folder>/metrics.jsonl`, grouped by seed
/// (in seed order); `None` when the file is absent (committed reports keep
/// only the summary).
fn records(dir: &Path, folder: &str) -> anyhow::Result<Option<Vec<(u64, Vec<Record>)>>> {
    let p = dir.join(folder).join("metrics.jsonl");
    let Ok(text) = std::fs::read_to_string(&p) else {
        return Ok(None);
    };
    let mut by_seed: std::collections::BTreeMap<u64, Vec<Record>> = Default::default();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let r: Record = serde_json::from_str(line)
            .map_err(|e| InputError(format!("{}: line {}: {e}", p.display(), i + 1)))?;
        by_seed.entry(r.seed).or_default().push(r);
    }
    Ok(Some(by_seed.into_iter().collect()))
}

/// `entropic compare A B [--out FILE]`.
pub fn run(a: &Path, b: &Path, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (sa, sb) = (read_summary(a, "A")?, read_summary(b, "B")?);
    if let Some(o) = out {
        crate::output::check_place(
            o.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
            &format!("--out {}", o.display()),
        )?;
        if o.is_dir() {
            return Err(
                InputError(format!("--out {}: is a folder, not a file", o.display())).into(),
            );
        }
    }
    let configs =
        |s: &Value| -> Vec<Value> { s["configs"].as_array().cloned().unwrap_or_default() };
    let (ca, cb) = (configs(&sa), configs(&sb));
    let folder = |c: &Value| c["folder"].as_str().unwrap_or("?").to_string();
    let mut md = String::from("# Comparison\n\n");
    let name = |s: &Value| s["scenario"].as_str().unwrap_or("?").to_string();
    md.push_str(&format!(
        "- A: `{}` (scenario `{}`, {} seeds)\n- B: `{}` (scenario `{}`, {} seeds)\n\n",
        a.display(),
        name(&sa),
        sa["seeds"],
        b.display(),
        name(&sb),
        sb["seeds"]
    ));
    md.push_str(
        "Figures on `entropy` (what the controller saw), 95% intervals over seeds as in each \
         `report.md`. B − A: Welch's interval for means over the seeds' figures, Newcombe's \
         score interval for the settled share. Both treat the seeds of A and B as independent \
         samples; where both runs used the same seeds and instances (as two `entropic run`s of \
         one scenario family do), the runs are paired and these intervals are usually wider than a \
         paired comparison's (conservative).\n",
    );
    let mut both = Vec::new();
    for x in &ca {
        match cb.iter().find(|y| folder(y) == folder(x)) {
            Some(y) => both.push((x.clone(), y.clone())),
            None => md.push_str(&format!("\nOnly in A: `{}`.\n", folder(x))),
        }
    }
    for y in &cb {
        if !ca.iter().any(|x| folder(x) == folder(y)) {
            md.push_str(&format!("\nOnly in B: `{}`.\n", folder(y)));
        }
    }
    if both.is_empty() {
        return Err(InputError(format!(
            "{} and {}: no arm (folder name) in common",
            a.display(),
            b.display()
        ))
        .into());
    }
    for (x, y) in &both {
        md.push_str(&format!("\n## `{}`\n\n", folder(x)));
        let diff = entropic_llm::grpo::config::differing_keys(&x["config"], &y["config"]);
        let target_diff = x["target"] != y["target"] && !diff.iter().any(|k| k == "control.target");
        if diff.is_empty() && !target_diff {
            md.push_str("Same configuration in A and B.\n\n");
        } else {
            let mut keys = diff;
            if target_diff {
                keys.push("(reference target)".into());
            }
            md.push_str(&format!(
                "The configurations differ in: {}.\n\n",
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        md.push_str(&table(x, y));
    }
    // the plot: both runs' entropy curves
    md.push_str("\n## Entropy curves\n\n");
    let plot_path: Option<PathBuf> = out.map(|o| {
        let stem = o
            .file_stem()
            .map_or("compare".into(), |s| s.to_string_lossy().to_string());
        o.with_file_name(format!("{stem}-entropy.svg"))
    });
    let mut loaded: Vec<(String, Vec<(u64, Vec<Record>)>)> = Vec::new();
    let mut missing = Vec::new();
    for (x, _) in &both {
        let f = folder(x);
        for (tag, dir) in [("A", a), ("B", b)] {
            match records(dir, &f)? {
                Some(r) => loaded.push((format!("{tag}: {f}"), r)),
                None => missing.push(format!("{}/{f}/metrics.jsonl", dir.display())),
            }
        }
    }
    match &plot_path {
        None => md.push_str("No plot: pass `--out FILE` to write one beside the Markdown.\n"),
        Some(_) if loaded.is_empty() => md.push_str(&format!(
            "No plot: no per-step records ({} missing).\n",
            missing.join(", ")
        )),
        Some(p) => {
            let series: Vec<ArmSeries> = loaded
                .iter()
                .map(|(l, r)| ArmSeries {
                    label: l.clone(),
                    per_seed: r,
                })
                .collect();
            let target = both.iter().find_map(|(x, _)| x["target"].as_f64());
            line_plot_svg(
                p,
                "Entropy: A and B",
                "entropy (nats)",
                &series,
                |r: &Record| Some(r.entropy),
                target.map(|t| (t, "target")),
            )?;
            let fname = p
                .file_name()
                .map_or(String::new(), |f| f.to_string_lossy().to_string());
            md.push_str(&format!("![entropy of A and B]({fname})\n"));
            if !missing.is_empty() {
                md.push_str(&format!(
                    "\nNot plotted (no records): {}.\n",
                    missing.join(", ")
                ));
            }
        }
    }
    match out {
        Some(o) => {
            entropic_sim::atomic::write_atomic(o, md.as_bytes())?;
            crate::output::write_stamp(
                o,
                serde_json::json!({ "a": a.display().to_string(), "b": b.display().to_string() }),
            )?;
            eprintln!("wrote {}", o.display());
        }
        None => print!("{md}"),
    }
    Ok(ExitCode::SUCCESS)
}
