//! The plotting kit: every SVG figure of the project is drawn here, with
//! plotters: line plots of per-step fields with seed bands
//! ([`line_plot_svg`]), rate curves ([`rate_plot_svg`]) and scatter plots
//! with marks and labels ([`Scatter`]) and categorical heatmaps
//! ([`Heatmap`]). Text is written as SVG `<text>`
//! elements, so no font feature of plotters is needed.
use crate::atomic::write_atomic;
use crate::error::SimError;
use plotters::prelude::*;
use std::path::Path;

mod axis;
mod err;
mod heatmap;
mod lines;
mod scatter;

use axis::widened;
use err::plot_err;
use lines::Shape;

pub use heatmap::Heatmap;
pub use lines::{line_plot_svg, ArmSeries, MAX_POINTS, QUANTILE_SEEDS};
pub use scatter::{Key, RGBColor, Scatter, BLUE, GREEN, GREY, RED};

/// Writes a small SVG plot of rates (0..1) against `x`, one line per series.
/// Rates often coincide (several series at 0), so each series has its own
/// colour, dash pattern and hollow marker at every point, the markers
/// growing with the series' index so coinciding points show as nested
/// outlines; the legend sits upper right, in a strip the x range is widened by and shows each
/// series' line with its marker.
pub fn rate_plot_svg(
    path: &Path,
    title: &str,
    x_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<(), SimError> {
    const COLOURS: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    let xs = series.iter().flat_map(|s| s.1.iter().map(|p| p.0));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let (x0, x1) = if x0.is_finite() && x1 > x0 {
        (x0, x1)
    } else {
        (0.0, 1.0)
    };
    let e = |e: &dyn std::fmt::Display| plot_err(path, e);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let longest = series
            .iter()
            .map(|s| s.0.chars().count())
            .max()
            .unwrap_or(0) as u32;
        let strip = (longest * 8 + 50).min(640 / 3);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..widened(x0, x1, 640 - 70, strip), -0.02f64..1.02)
            .map_err(|x| e(&x))?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc(x_label)
            .y_desc("rate")
            .draw()
            .map_err(|x| e(&x))?;
        // (on, off) dash lengths in pixels; (0, 0) is solid
        const DASHES: [(u32, u32); 4] = [(0, 0), (8, 4), (3, 3), (12, 3)];
        for (i, (label, pts)) in series.iter().enumerate() {
            let c = COLOURS[i % COLOURS.len()];
            let (on, off) = DASHES[i % DASHES.len()];
            let style = c.stroke_width(2);
            let anno = if on == 0 {
                chart.draw_series(LineSeries::new(pts.iter().copied(), style))
            } else {
                chart.draw_series(DashedLineSeries::new(pts.iter().copied(), on, off, style))
            }
            .map_err(|x| e(&x))?;
            // hollow shapes (circle, triangle, square, diamond), 3 px plus
            // 2 px per index
            let shape = Shape::of(4 + i);
            let r = 3 + 2 * (i as i32 % 6);
            let anno = anno.label(label.as_str());
            // one closure per shape: the legend wants one concrete type
            macro_rules! sample {
                ($marker:expr) => {
                    anno.legend(move |(x, y)| {
                        EmptyElement::at((x + 12, y))
                            + PathElement::new(vec![(-12, 0), (12, 0)], style)
                            + $marker
                    })
                };
            }
            let closed = move |v: &[(i32, i32)]| {
                let mut v = v.to_vec();
                v.push(v[0]);
                v
            };
            let tri = closed(&[(0, -r - 1), (r + 1, r), (-r - 1, r)]);
            let dia = closed(&[(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)]);
            match shape.kind {
                0 => sample!(Circle::new((0, 0), r, style)),
                1 => sample!(PathElement::new(tri.clone(), style)),
                2 => sample!(Rectangle::new([(-r, -r), (r, r)], style)),
                _ => sample!(PathElement::new(dia.clone(), style)),
            };
            for p in pts.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
                root.draw(&shape.sized(chart.backend_coord(p), c, r))
                    .map_err(|x| e(&x))?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    write_atomic(path, svg.as_bytes())
}
