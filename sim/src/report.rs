//! Markdown + SVG reports of runs: per-arm figure tables with 95% intervals,
//! a ranking table, and line plots of any per-step field (mean over seeds
//! with a spread band).
//!
//! Figures are rounded to 3 significant digits in Markdown ([`fmt_sig`]) so
//! snapshot tests stay stable. Files are written to `NAME.tmp` and renamed,
//! so a reader never sees a half-written report.
use crate::error::SimError;
use crate::figures::{aggregate_on, Aggregate, Field};
use crate::metrics::Record;
pub use crate::plot::{line_plot_svg, ArmSeries, MAX_POINTS, QUANTILE_SEEDS};
use crate::stats::Estimate;
use std::fmt::Write as _;
use std::path::Path;

/// Significant digits of every figure in the Markdown tables.
pub const SIG_DIGITS: usize = 3;
pub use crate::atomic::write_atomic;

pub use crate::numfmt::fmt_sig;

/// `mean [lo, hi]` with `digits` significant digits, e.g.
/// `0.031 [0.027, 0.035]`; `n/a` when no value went into it.
pub fn fmt_est(e: &Estimate, digits: usize) -> String {
    if e.n == 0 || !e.mean.is_finite() {
        return "n/a".into();
    }
    format!(
        "{} [{}, {}]",
        fmt_sig(e.mean, digits),
        fmt_sig(e.lo, digits),
        fmt_sig(e.hi, digits)
    )
}

/// [`fmt_est`] at [`SIG_DIGITS`], with ` (n=k)` appended when fewer than
/// all `seeds` went into the estimate (seeds that did not settle, diverged
/// runs), so the reader sees what the interval stands on.
fn cell(e: &Estimate, seeds: usize) -> String {
    let s = fmt_est(e, SIG_DIGITS);
    if e.n != seeds && e.n > 0 {
        format!("{s} (n={})", e.n)
    } else {
        s
    }
}

/// `k/n [lo, hi]` of the Wilson share of seeds that settled.
fn settled_cell(e: &Estimate) -> String {
    if e.n == 0 {
        return "n/a".into();
    }
    let k = (e.mean * e.n as f64).round() as usize;
    format!(
        "{k}/{} [{}, {}]",
        e.n,
        fmt_sig(e.lo, SIG_DIGITS),
        fmt_sig(e.hi, SIG_DIGITS)
    )
}

/// A GitHub-flavoured Markdown table with columns padded to equal width
/// (in chars) so the raw text reads as a table too. `|` in cells is escaped
/// and newlines become spaces; short rows are padded with empty cells,
/// cells beyond the headers are kept (an empty header is added for them).
pub fn markdown_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let ncol = rows
        .iter()
        .map(Vec::len)
        .chain([headers.len()])
        .max()
        .unwrap_or(0);
    let clean = |s: &str| s.replace('|', "\\|").replace(['\n', '\r'], " ");
    let pad = |cells: Vec<String>| -> Vec<String> {
        let mut c = cells;
        c.resize(ncol, String::new());
        c
    };
    let head = pad(headers.iter().map(|h| clean(h)).collect());
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| pad(r.iter().map(|c| clean(c)).collect()))
        .collect();
    let width: Vec<usize> = (0..ncol)
        .map(|j| {
            body.iter()
                .chain([&head])
                .map(|r| r[j].chars().count())
                .max()
                .unwrap_or(0)
                .max(3)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for (c, w) in cells.iter().zip(&width) {
            let _ = write!(s, " {c}{} |", " ".repeat(w - c.chars().count()));
        }
        s.push('\n');
        s
    };
    let mut out = line(&head);
    out.push('|');
    for w in &width {
        let _ = write!(out, " {} |", "-".repeat(*w));
    }
    out.push('\n');
    for r in &body {
        out.push_str(&line(r));
    }
    out
}

/// The per-arm figures table of a run report.
fn figures_table(arms: &[(String, Aggregate)]) -> String {
    let headers = [
        "arm",
        "seeds",
        "final |e| (nats)",
        "final rel. err",
        "settled",
        "settling step",
        "overshoot",
        "α saturated",
        "final pass rate",
        "final H (nats)",
        "α range",
    ];
    let rows: Vec<Vec<String>> = arms
        .iter()
        .map(|(name, a)| {
            let n = a.per_seed.len();
            vec![
                name.clone(),
                n.to_string(),
                cell(&a.final_abs_err, n),
                cell(&a.final_rel_err, n),
                settled_cell(&a.settled),
                cell(&a.settling_step, n),
                cell(&a.overshoot, n),
                cell(&a.alpha_saturated, n),
                a.final_pass_rate
                    .as_ref()
                    .map_or("n/a".into(), |e| cell(e, n)),
                cell(&a.final_entropy, n),
                a.alpha_range.map_or("n/a".into(), |(lo, hi)| {
                    format!("[{}, {}]", fmt_sig(lo, SIG_DIGITS), fmt_sig(hi, SIG_DIGITS))
                }),
            ]
        })
        .collect();
    markdown_table(&headers, &rows)
}

/// Every arm ranked by final |e| (ascending; arms without a finite value
/// last; ties keep the given order), with the settled share, settling step
/// and final pass rate.
pub fn ranking_table(arms: &[(String, Aggregate)]) -> String {
    let mut order: Vec<&(String, Aggregate)> = arms.iter().collect();
    let key = |a: &Aggregate| {
        let m = a.final_abs_err.mean;
        (!m.is_finite(), if m.is_finite() { m } else { 0.0 })
    };
    order.sort_by(|a, b| {
        let (ka, kb) = (key(&a.1), key(&b.1));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
    });
    let rows: Vec<Vec<String>> = order
        .iter()
        .enumerate()
        .map(|(i, (name, a))| {
            let n = a.per_seed.len();
            vec![
                (i + 1).to_string(),
                name.clone(),
                cell(&a.final_abs_err, n),
                settled_cell(&a.settled),
                cell(&a.settling_step, n),
                a.final_pass_rate
                    .as_ref()
                    .map_or("n/a".into(), |e| cell(e, n)),
            ]
        })
        .collect();
    markdown_table(
        &[
            "rank",
            "arm",
            "final |e| (nats)",
            "settled",
            "settling step",
            "final pass rate",
        ],
        &rows,
    )
}

/// Whether any record of any arm has `field`.
fn any(series: &[ArmSeries], field: fn(&Record) -> Option<f64>) -> bool {
    series
        .iter()
        .flat_map(|a| a.per_seed.iter())
        .flat_map(|(_, r)| r.iter())
        .any(|r| field(r).is_some())
}

/// Writes `dir/report.md` and its SVGs: the title, the scenario's stated
/// expectation as a quote, the per-arm figures table (95% intervals, n),
/// the same figures on `entropy_exact` when records carry it and a target
/// is given, the plots, then `notes` as a list.
///
/// Plots: `entropy.svg` (with the target as a dashed line when given),
/// `entropy_exact.svg`, `alpha.svg` and `pass_rate.svg`; each of the last
/// three only when some record has that field, so a report never embeds an
/// empty plot. `target` is the scenario's target (that of its controlled
/// arms); figures of an arm without its own target are relative to it.
pub fn write_run_report(
    dir: &Path,
    title: &str,
    expectation: &str,
    arms: &[(String, Aggregate)],
    series: &[ArmSeries],
    target: Option<f64>,
    notes: &[String],
) -> Result<(), SimError> {
    std::fs::create_dir_all(dir).map_err(|source| SimError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut md = format!("# {title}\n\n");
    for line in expectation.trim().lines() {
        let _ = writeln!(md, "> {line}");
    }
    md.push_str("\n## Figures\n\n");
    if let Some(t) = target {
        let _ = writeln!(
            md,
            "Target entropy {} nats. Figures are on `entropy` (what the controller saw); \
             those of an arm without its own target are relative to this target.\n",
            fmt_sig(t, SIG_DIGITS)
        );
    }
    md.push_str(&figures_table(arms));

    let exact = |r: &Record| r.entropy_exact;
    let has_exact = any(series, exact);
    if let (true, Some(t)) = (has_exact, target) {
        md.push_str("\n### The same on `entropy_exact`\n\n");
        let rows: Vec<Vec<String>> = series
            .iter()
            .map(|a| {
                let g = aggregate_on(a.per_seed, t, f64::INFINITY, Field::EntropyExact);
                let n = g.per_seed.len();
                vec![
                    a.label.clone(),
                    cell(&g.final_abs_err, n),
                    settled_cell(&g.settled),
                    cell(&g.settling_step, n),
                    cell(&g.overshoot, n),
                ]
            })
            .collect();
        md.push_str(&markdown_table(
            &[
                "arm",
                "final |e| (nats)",
                "settled",
                "settling step",
                "overshoot",
            ],
            &rows,
        ));
    }

    md.push_str("\n## Plots\n\n");
    let hline = target.map(|t| (t, "target"));
    let entropy = |r: &Record| Some(r.entropy);
    let alpha = |r: &Record| r.alpha;
    let pass = |r: &Record| r.pass_rate;
    type Plot<'a> = (
        &'a str,
        &'a str,
        &'a str,
        fn(&Record) -> Option<f64>,
        Option<(f64, &'a str)>,
        bool,
    );
    let plots: [Plot; 4] = [
        (
            "entropy",
            "Entropy (controller's view)",
            "entropy (nats)",
            entropy,
            hline,
            true,
        ),
        (
            "entropy_exact",
            "Entropy (exact / fresh samples)",
            "entropy (nats)",
            exact,
            hline,
            has_exact,
        ),
        (
            "alpha",
            "Controller output α",
            "α",
            alpha,
            None,
            any(series, alpha),
        ),
        (
            "pass_rate",
            "Pass rate",
            "pass rate",
            pass,
            None,
            any(series, pass),
        ),
    ];
    for (name, plot_title, y_label, field, h, wanted) in plots {
        if wanted {
            line_plot_svg(
                &dir.join(format!("{name}.svg")),
                plot_title,
                y_label,
                series,
                field,
                h,
            )?;
            let _ = writeln!(md, "![{name}]({name}.svg)\n");
        }
    }
    let _ = writeln!(
        md,
        "Lines: mean over seeds; bands: min–max over seeds (10–90% quantiles from {QUANTILE_SEEDS} seeds on)."
    );
    if !notes.is_empty() {
        md.push_str("\n## Notes\n\n");
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    write_atomic(&dir.join("report.md"), md.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmt_sig_rounds_to_significant_digits() {
        assert_eq!(fmt_sig(0.031234, 3), "0.0312");
        assert_eq!(fmt_sig(1.0, 3), "1.00");
        // 0.9996 rounds into the next decade: 1.00, not 1.000.
        assert_eq!(fmt_sig(0.9996, 3), "1.00");
        assert_eq!(fmt_sig(-12.345, 3), "-12.3");
        // 12345 → 3 digits → 12300.
        assert_eq!(fmt_sig(12345.0, 3), "12300");
        assert_eq!(fmt_sig(1.234e7, 3), "1.23e7");
        assert_eq!(fmt_sig(1.5e-6, 3), "1.50e-6");
        assert_eq!(
            (fmt_sig(0.0, 3), fmt_sig(f64::NAN, 3)),
            ("0".to_string(), "NaN".to_string())
        );
    }
}
