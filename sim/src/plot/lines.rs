//! Line plots of per-step fields over seeds: the mean per step with a
//! spread band, one line per arm.

use super::err::plot_err;
use crate::atomic::write_atomic;
use crate::error::SimError;
use crate::metrics::Record;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

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

/// Writes an SVG line plot of `field` against `step` to `path`: one line per
/// arm (the mean over seeds), a shaded band (min..max over seeds, or the
/// 10–90% quantiles from 10 seeds on), a legend and, if given, a dashed
/// horizontal line with its legend label (the target). Absent and NaN
/// values are skipped; lines have at most [`MAX_POINTS`] points
/// (bucket means, see the module's `downsample`). Text is written as SVG
/// `<text>` elements, so no font feature of plotters is needed.
/// Markers drawn on each line (its shape tells the arm apart).
const MARKERS_PER_LINE: usize = 8;

/// A marker shape, by the arm's index: circle, triangle, square, diamond,
/// then the same hollow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    pub(super) kind: u8,
    pub(super) filled: bool,
}

impl Shape {
    pub(super) fn of(i: usize) -> Self {
        Shape {
            kind: (i % 4) as u8,
            filled: (i / 4) % 2 == 0,
        }
    }

    /// The marker at `c` (pixel coordinates).
    pub(super) fn element<'a, DB: DrawingBackend + 'a, C: Clone + 'a>(
        self,
        c: C,
        colour: RGBColor,
    ) -> DynElement<'a, DB, C> {
        self.sized(c, colour, 4)
    }

    /// The marker at `c`, of radius `r` pixels.
    pub(super) fn sized<'a, DB: DrawingBackend + 'a, C: Clone + 'a>(
        self,
        c: C,
        colour: RGBColor,
        r: i32,
    ) -> DynElement<'a, DB, C> {
        let tri = vec![(0, -r - 1), (r + 1, r), (-r - 1, r)];
        let dia = vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)];
        let closed = |mut v: Vec<(i32, i32)>| {
            v.push(v[0]);
            v
        };
        let line = colour.stroke_width(2);
        let fill = colour.filled();
        let at = || EmptyElement::<C, DB>::at(c.clone());
        match (self.kind, self.filled) {
            (0, true) => (at() + Circle::new((0, 0), r, fill)).into_dyn(),
            (1, true) => (at() + Polygon::new(tri, fill)).into_dyn(),
            (2, true) => (at() + Rectangle::new([(-r, -r), (r, r)], fill)).into_dyn(),
            (_, true) => (at() + Polygon::new(dia, fill)).into_dyn(),
            (0, false) => (at() + Circle::new((0, 0), r, line)).into_dyn(),
            (1, false) => (at() + PathElement::new(closed(tri), line)).into_dyn(),
            (2, false) => (at() + Rectangle::new([(-r, -r), (r, r)], line)).into_dyn(),
            (_, false) => (at() + PathElement::new(closed(dia), line)).into_dyn(),
        }
    }
}

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
        // the legend sits upper right in a strip the x range is widened
        // by, right of every data point, so it never covers data (plotters
        // clips a legend placed outside the plot area): its width from the
        // longest entry (about 9 px a
        // character at 16 px, plus the sample and padding)
        let longest = arms
            .iter()
            .map(|a| a.label.chars().count())
            .chain(hline.map(|(_, l)| l.chars().count()))
            .max()
            .unwrap_or(0) as u32;
        let strip = (longest * 9 + 60).min(PLOT_SIZE.0 / 3);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 24))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                x0..super::axis::widened(x0, x1, PLOT_SIZE.0 - 80, strip),
                y0..y1,
            )
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
            // an arm without this field (no α for plain GRPO) is neither
            // drawn nor listed; colours stay tied to the arm's index so an
            // arm has the same colour in every plot of a report
            if pts.is_empty() {
                continue;
            }
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
                .map_err(e)?;
            // markers of the arm's shape at a few points, so arms (and sweep
            // points) are told apart by shape as well as colour, and lines
            // lying on top of each other still show each arm
            let shape = Shape::of(i);
            let every = pts.len().div_ceil(MARKERS_PER_LINE).max(1);
            let offset = (i * every / arms.len().max(1)).min(pts.len() - 1);
            let at: Vec<(f64, f64)> = pts
                .iter()
                .skip(offset)
                .step_by(every)
                .map(|p| (p.x, p.mean))
                .collect();
            for p in at {
                // in pixels on the root area: a DynElement in data
                // coordinates would have to be 'static for draw_series
                root.draw(&shape.element(chart.backend_coord(&p), colour))
                    .map_err(e)?;
            }
            let anno = chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(e)?
                .label(arm.label.as_str());
            // the legend's sample: the line with the arm's marker on it (one
            // closure per shape: the legend wants one concrete element type)
            let (r, line, fill) = (4, colour.stroke_width(2), colour.filled());
            macro_rules! sample {
                ($marker:expr) => {
                    anno.legend(move |(x, y)| {
                        EmptyElement::at((x + 10, y))
                            + PathElement::new(vec![(-10, 0), (10, 0)], line)
                            + $marker
                    })
                };
            }
            let tri = move || vec![(0, -r - 1), (r + 1, r), (-r - 1, r)];
            let dia = move || vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)];
            let closed = |mut v: Vec<(i32, i32)>| {
                v.push(v[0]);
                v
            };
            match (shape.kind, shape.filled) {
                (0, true) => sample!(Circle::new((0, 0), r, fill)),
                (1, true) => sample!(Polygon::new(tri(), fill)),
                (2, true) => sample!(Rectangle::new([(-r, -r), (r, r)], fill)),
                (_, true) => sample!(Polygon::new(dia(), fill)),
                (0, false) => sample!(Circle::new((0, 0), r, line)),
                (1, false) => sample!(PathElement::new(closed(tri()), line)),
                (2, false) => sample!(Rectangle::new([(-r, -r), (r, r)], line)),
                (_, false) => sample!(PathElement::new(closed(dia()), line)),
            };
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
                    // dashed in the legend as on the plot: 6 on, 4 off
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (6, 0)], BLACK.stroke_width(1))
                        + PathElement::new(vec![(10, 0), (16, 0)], BLACK.stroke_width(1))
                        + PathElement::new(vec![(20, 0), (22, 0)], BLACK.stroke_width(1))
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
