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

mod err;
mod heatmap;
mod lines;
mod scatter;

use err::plot_err;

pub use heatmap::Heatmap;
pub use lines::{line_plot_svg, ArmSeries, MAX_POINTS, QUANTILE_SEEDS};
pub use scatter::{RGBColor, Scatter, BLUE, GREEN, GREY, RED};

/// Writes a small SVG plot of rates (0..1) against `x`, one line per series.
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
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, -0.02f64..1.02)
            .map_err(|x| e(&x))?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc(x_label)
            .y_desc("rate")
            .draw()
            .map_err(|x| e(&x))?;
        for (i, (label, pts)) in series.iter().enumerate() {
            let c = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
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
