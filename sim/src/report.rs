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
use crate::stats::Estimate;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Significant digits of every figure in the Markdown tables.
pub const SIG_DIGITS: usize = 3;
/// Most points drawn per line; longer series are bucket-averaged.
pub const MAX_POINTS: usize = 400;
/// From this many seeds on, the band is the 10–90% quantile range.
pub const QUANTILE_SEEDS: usize = 10;
/// Plot size in pixels.
const PLOT_SIZE: (u32, u32) = (800, 450);
/// Tableau 10: distinct colours, cycled when there are more arms.
const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The per-seed records of one arm, with the label its plots and tables use.
#[derive(Debug, Clone)]
pub struct ArmSeries<'a> {
    pub label: String,
    pub per_seed: &'a [(u64, Vec<Record>)],
}

/// One plotted point: the mean over seeds at (the mean step of) `x`, and
/// the band around it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BandPoint {
    x: f64,
    mean: f64,
    lo: f64,
    hi: f64,
}

/// Quantile `p` of sorted `v` by linear interpolation (Hyndman–Fan type 7,
/// numpy's default).
fn quantile(v: &[f64], p: f64) -> f64 {
    let pos = p * (v.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    match v.get(i + 1) {
        Some(next) => v[i] + frac * (next - v[i]),
        None => v[i],
    }
}

/// Mean and band per step over the seeds that have a finite value there:
/// min..max with fewer than [`QUANTILE_SEEDS`] values, else the 10–90%
/// quantiles (min/max of many seeds mostly shows the outliers). Steps where
/// no seed has a value are skipped, so seeds of different lengths and
/// absent/NaN values are fine. Then downsampled with [`downsample`].
fn band(per_seed: &[(u64, Vec<Record>)], field: fn(&Record) -> Option<f64>) -> Vec<BandPoint> {
    let mut by_step: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (_, recs) in per_seed {
        for r in recs {
            if let Some(v) = field(r).filter(|v| v.is_finite()) {
                by_step.entry(r.step).or_default().push(v);
            }
        }
    }
    let pts = by_step
        .into_iter()
        .map(|(step, mut v)| {
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let (lo, hi) = if v.len() >= QUANTILE_SEEDS {
                (quantile(&v, 0.1), quantile(&v, 0.9))
            } else {
                (v[0], v[v.len() - 1])
            };
            BandPoint {
                x: step as f64,
                mean,
                lo,
                hi,
            }
        })
        .collect::<Vec<_>>();
    downsample(&pts, MAX_POINTS)
}

/// At most `max` points: consecutive buckets of `ceil(len / max)` points
/// each become one point at the bucket's mean step with the mean of its
/// means and the envelope (min lo, max hi) of its bands. Averaging, unlike
/// keeping every k-th point, does not alias step-to-step noise, and the
/// envelope never hides a spread.
fn downsample(pts: &[BandPoint], max: usize) -> Vec<BandPoint> {
    if pts.len() <= max || max == 0 {
        return pts.to_vec();
    }
    let k = pts.len().div_ceil(max);
    pts.chunks(k)
        .map(|c| {
            let n = c.len() as f64;
            BandPoint {
                x: c.iter().map(|p| p.x).sum::<f64>() / n,
                mean: c.iter().map(|p| p.mean).sum::<f64>() / n,
                lo: c.iter().map(|p| p.lo).fold(f64::INFINITY, f64::min),
                hi: c.iter().map(|p| p.hi).fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect()
}

/// A padded axis range covering `lo..hi` (5% each side; ±0.5 around a
/// single value; 0..1 when there is nothing to show).
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5_f64.max(0.1 * lo.abs())
    };
    (lo - pad, hi + pad)
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Other(format!("plot {}: {e}", path.display()))
}

/// Writes `bytes` to `path` via `path.tmp` and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let io = |p: &Path, source| SimError::Io {
        path: p.display().to_string(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(|e| io(Path::new(&tmp), e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

/// Writes an SVG line plot of `field` against `step` to `path`: one line per
/// arm (the mean over seeds), a shaded band (min..max over seeds, or the
/// 10–90% quantiles from 10 seeds on), a legend and, if given, a dashed
/// horizontal line with its legend label (the target). Absent and NaN
/// values are skipped; lines have at most [`MAX_POINTS`] points
/// (bucket means, see the module's `downsample`). Text is written as SVG
/// `<text>` elements, so no font feature of plotters is needed.
pub fn line_plot_svg(
    path: &Path,
    title: &str,
    y_label: &str,
    arms: &[ArmSeries],
    field: fn(&Record) -> Option<f64>,
    hline: Option<(f64, &str)>,
) -> Result<(), SimError> {
    let bands: Vec<Vec<BandPoint>> = arms.iter().map(|a| band(a.per_seed, field)).collect();
    let all = bands.iter().flatten();
    let (mut x0, mut x1) = all
        .clone()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.x), b.max(p.x))
        });
    if !(x0.is_finite() && x1.is_finite()) {
        (x0, x1) = (0.0, 1.0);
    } else if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let (mut y0, mut y1) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
        (a.min(p.lo), b.max(p.hi))
    });
    if let Some((y, _)) = hline.filter(|(y, _)| y.is_finite()) {
        (y0, y1) = (y0.min(y), y1.max(y));
    }
    let (y0, y1) = padded(y0, y1);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
        let e = |e| plot_err(path, e);
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 24))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(e)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("step")
            .y_desc(y_label)
            .draw()
            .map_err(e)?;
        for (i, (arm, pts)) in arms.iter().zip(&bands).enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            if pts.iter().any(|p| p.hi > p.lo) {
                let outline: Vec<(f64, f64)> = pts
                    .iter()
                    .map(|p| (p.x, p.hi))
                    .chain(pts.iter().rev().map(|p| (p.x, p.lo)))
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        colour.mix(0.2).filled(),
                    )))
                    .map_err(e)?;
            }
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.x, p.mean)),
                    colour.stroke_width(2),
                ))
                .map_err(e)?
                .label(arm.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        if let Some((y, label)) = hline.filter(|(y, _)| y.is_finite()) {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x0, y), (x1, y)],
                    6,
                    4,
                    BLACK.stroke_width(1),
                ))
                .map_err(e)?
                .label(label)
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 16))
            .draw()
            .map_err(e)?;
        root.present().map_err(e)?;
    }
    write_atomic(path, svg.as_bytes())
}

/// `x` rounded to `digits` significant digits: plain decimals for
/// magnitudes 1e-4..1e6, else scientific (`1.23e6`); `NaN`, `inf`, `-inf`
/// for non-finite values.
pub fn fmt_sig(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let d = digits.max(1) as i32;
    let mut m = x.abs().log10().floor() as i32;
    // Rounding can carry into the next decade (0.9996 → 1.00).
    if (x.abs() * 10f64.powi(d - 1 - m)).round() >= 10f64.powi(d) {
        m += 1;
    }
    if !(-4..6).contains(&m) {
        return format!("{:.*e}", (d - 1) as usize, x);
    }
    let dec = d - 1 - m;
    if dec >= 0 {
        format!("{:.*}", dec as usize, x)
    } else {
        let p = 10f64.powi(-dec);
        format!("{:.0}", (x / p).round() * p)
    }
}

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

    fn rec(step: usize, h: f64) -> Record {
        Record {
            step,
            entropy: h,
            ..Record::default()
        }
    }

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

    #[test]
    fn band_is_min_max_below_ten_seeds_and_quantiles_from_ten() {
        // Step 0 values 1, 2, 3 (3 seeds) → mean 2, band [1, 3]; step 1 only
        // in seed 0 (different lengths) and a NaN in seed 1 is skipped.
        let s = vec![
            (0, vec![rec(0, 1.0), rec(1, 5.0)]),
            (1, vec![rec(0, 2.0), rec(1, f64::NAN)]),
            (2, vec![rec(0, 3.0)]),
        ];
        let b = band(&s, |r| Some(r.entropy));
        assert_eq!(
            b[0],
            BandPoint {
                x: 0.0,
                mean: 2.0,
                lo: 1.0,
                hi: 3.0
            }
        );
        assert_eq!(
            b[1],
            BandPoint {
                x: 1.0,
                mean: 5.0,
                lo: 5.0,
                hi: 5.0
            }
        );
        // 11 seeds with values 0..=10: type-7 quantiles at pos 0.1·10 = 1 and
        // 0.9·10 = 9 → band [1, 9], mean 5.
        let many: Vec<(u64, Vec<Record>)> = (0..11).map(|i| (i, vec![rec(0, i as f64)])).collect();
        assert_eq!(
            band(&many, |r| Some(r.entropy))[0],
            BandPoint {
                x: 0.0,
                mean: 5.0,
                lo: 1.0,
                hi: 9.0
            }
        );
    }

    #[test]
    fn downsample_averages_buckets_and_keeps_the_envelope() {
        // 1000 points → bucket size ceil(1000/400) = 3 → ceil(1000/3) = 334.
        let pts: Vec<BandPoint> = (0..1000)
            .map(|i| {
                let x = i as f64;
                BandPoint {
                    x,
                    mean: x,
                    lo: x - 1.0,
                    hi: x + 1.0,
                }
            })
            .collect();
        let d = downsample(&pts, MAX_POINTS);
        assert_eq!(d.len(), 334);
        // First bucket x = 0, 1, 2: x̄ = 1, mean 1, lo = min(-1, 0, 1) = -1,
        // hi = max(1, 2, 3) = 3. Last bucket is x = 999 alone.
        assert_eq!(
            d[0],
            BandPoint {
                x: 1.0,
                mean: 1.0,
                lo: -1.0,
                hi: 3.0
            }
        );
        assert_eq!(d[333].x, 999.0);
        assert_eq!(downsample(&pts[..10], MAX_POINTS).len(), 10);
    }
}
