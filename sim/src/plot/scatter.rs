//! Scatter plots with lines, marks and text labels on fixed axes.

use super::err::plot_err;
use crate::atomic::write_atomic;
use crate::error::SimError;
use plotters::prelude::*;
use std::path::Path;

pub use plotters::style::RGBColor;

/// Tableau blue (predicted curves).
pub const BLUE: RGBColor = RGBColor(31, 119, 180);
/// Tableau green (held / stable).
pub const GREEN: RGBColor = RGBColor(44, 160, 44);
/// Tableau red (not held / unstable).
pub const RED: RGBColor = RGBColor(214, 39, 40);
/// Grey (too close to call).
pub const GREY: RGBColor = RGBColor(153, 153, 153);

/// Size of a [`Scatter`] in pixels.
const SCATTER_SIZE: (u32, u32) = (640, 440);

/// One mark of a [`Scatter`], in data coordinates.
#[derive(Debug, Clone)]
enum Mark {
    Polyline(Vec<(f64, f64)>, RGBColor),
    VLine(f64, RGBColor),
    Circle(f64, f64, RGBColor, bool),
    Cross(f64, f64, RGBColor),
    Label(f64, f64, String),
}

/// How a legend entry of a [`Scatter`] shows its series: the same mark as
/// drawn on the plot (a line, a filled or open circle, a cross).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A short line, for [`Scatter::polyline`] and [`Scatter::vline`].
    Line,
    /// A filled circle ([`Scatter::circle`] with `filled`).
    Dot,
    /// An open circle ([`Scatter::circle`] without `filled`).
    Ring,
    /// A diagonal cross ([`Scatter::cross`]).
    Cross,
}

/// A scatter plot with lines and text labels on fixed axis ranges, built
/// mark by mark and drawn by [`Scatter::write`] (stability regions with
/// simulated points, held/not-held targets). Axis ticks are written with 3
/// significant digits.
#[derive(Debug, Clone)]
pub struct Scatter {
    title: String,
    x_label: String,
    y_label: String,
    x: (f64, f64),
    y: (f64, f64),
    marks: Vec<Mark>,
    legend: Vec<(Key, RGBColor, String)>,
    categorical_y: bool,
}

impl Scatter {
    /// An empty plot on `x` × `y` (each `(lo, hi)`, `lo < hi`).
    pub fn new(title: &str, x_label: &str, y_label: &str, x: (f64, f64), y: (f64, f64)) -> Self {
        Scatter {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x,
            y,
            marks: Vec::new(),
            legend: Vec::new(),
            categorical_y: false,
        }
    }

    /// Marks the y axis as categorical (rows named by [`Scatter::label`]):
    /// no numeric y ticks are drawn, since their values mean nothing.
    pub fn categorical_y(&mut self) {
        self.categorical_y = true;
    }

    /// A line through `pts` (non-finite points dropped; fewer than two
    /// points draw nothing).
    pub fn polyline(&mut self, pts: &[(f64, f64)], colour: RGBColor) {
        let pts: Vec<(f64, f64)> = pts
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        if pts.len() >= 2 {
            self.marks.push(Mark::Polyline(pts, colour));
        }
    }

    /// A vertical line at `x` over the whole y range.
    pub fn vline(&mut self, x: f64, colour: RGBColor) {
        self.marks.push(Mark::VLine(x, colour));
    }

    /// A circle at `(x, y)`, filled or open.
    pub fn circle(&mut self, x: f64, y: f64, colour: RGBColor, filled: bool) {
        self.marks.push(Mark::Circle(x, y, colour, filled));
    }

    /// A diagonal cross at `(x, y)`.
    pub fn cross(&mut self, x: f64, y: f64, colour: RGBColor) {
        self.marks.push(Mark::Cross(x, y, colour));
    }

    /// Text whose baseline starts just above `(x, y)`.
    pub fn label(&mut self, x: f64, y: f64, text: &str) {
        self.marks.push(Mark::Label(x, y, text.into()));
    }

    /// Legend entries, upper right (right of the data): each shows its series' mark (`Key`) in
    /// its colour, then the text.
    pub fn legend(&mut self, items: &[(Key, RGBColor, &str)]) {
        self.legend
            .extend(items.iter().map(|(k, c, t)| (*k, *c, t.to_string())));
    }

    /// Draws the plot and writes it to `path` (atomically).
    pub fn write(&self, path: &Path) -> Result<(), SimError> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SCATTER_SIZE).into_drawing_area();
            let e = |e: &dyn std::fmt::Display| plot_err(path, e);
            root.fill(&WHITE).map_err(|x| e(&x))?;
            // the legend sits upper right in a strip the x range is
            // widened by, so it never covers data (about 7 px a character
            // at 11 px; plotters clips a legend outside the plot area)
            let longest = self
                .legend
                .iter()
                .map(|l| l.2.chars().count())
                .max()
                .unwrap_or(0) as u32;
            let strip = if self.legend.is_empty() {
                0
            } else {
                (longest * 7 + 45).min(SCATTER_SIZE.0 / 3)
            };
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(
                    self.x.0..super::axis::widened(self.x.0, self.x.1, SCATTER_SIZE.0 - 80, strip),
                    self.y.0..self.y.1,
                )
                .map_err(|x| e(&x))?;
            let mut mesh = chart.configure_mesh();
            if self.categorical_y {
                mesh.y_labels(0);
            }
            mesh.light_line_style(TRANSPARENT)
                .label_style(("sans-serif", 11))
                .axis_desc_style(("sans-serif", 13))
                .x_label_formatter(&|v| crate::numfmt::fmt_sig(*v, 3))
                .y_label_formatter(&|v| crate::numfmt::fmt_sig(*v, 3))
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .draw()
                .map_err(|x| e(&x))?;
            for m in &self.marks {
                match m {
                    Mark::Polyline(pts, c) => chart
                        .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                        .map(|_| ()),
                    Mark::VLine(x, c) => chart
                        .draw_series(LineSeries::new(
                            [(*x, self.y.0), (*x, self.y.1)],
                            c.stroke_width(2),
                        ))
                        .map(|_| ()),
                    Mark::Circle(x, y, c, filled) => {
                        let style = if *filled {
                            c.filled()
                        } else {
                            c.stroke_width(1)
                        };
                        chart
                            .draw_series(std::iter::once(Circle::new((*x, *y), 4, style)))
                            .map(|_| ())
                    }
                    Mark::Cross(x, y, c) => chart
                        .draw_series(std::iter::once(Cross::new((*x, *y), 4, c.stroke_width(2))))
                        .map(|_| ()),
                    Mark::Label(x, y, t) => chart
                        .draw_series(std::iter::once(
                            EmptyElement::at((*x, *y))
                                + Text::new(t.clone(), (0, -12), ("sans-serif", 11)),
                        ))
                        .map(|_| ()),
                }
                .map_err(|x| e(&x))?;
            }
            if !self.legend.is_empty() {
                for (k, c, t) in &self.legend {
                    let c = *c;
                    let anno = chart
                        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                        .map_err(|x| e(&x))?
                        .label(t.as_str());
                    // the sample is the mark drawn on the plot, centred where
                    // plotters puts a legend swatch
                    match k {
                        Key::Line => anno.legend(move |(x, y)| {
                            PathElement::new(vec![(x - 2, y), (x + 12, y)], c.stroke_width(2))
                        }),
                        Key::Dot => {
                            anno.legend(move |(x, y)| Circle::new((x + 5, y), 4, c.filled()))
                        }
                        Key::Ring => {
                            anno.legend(move |(x, y)| Circle::new((x + 5, y), 4, c.stroke_width(1)))
                        }
                        Key::Cross => {
                            anno.legend(move |(x, y)| Cross::new((x + 5, y), 4, c.stroke_width(2)))
                        }
                    };
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 11))
                    .draw()
                    .map_err(|x| e(&x))?;
            }
            root.present().map_err(|x| e(&x))?;
        }
        write_atomic(path, svg.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of mark reaches the SVG: two circles (one filled), a
    /// cross (two path segments), lines, the label and legend texts.
    #[test]
    fn scatter_writes_every_mark() {
        let dir = crate::scratch::Scratch::created("plot-scatter");
        let path = dir.join("s.svg");
        let mut p = Scatter::new("t & <x>", "kp", "ki", (0.0, 2.0), (0.0, 1.0));
        p.polyline(&[(0.0, 0.0), (1.0, 0.5), (f64::NAN, 1.0), (2.0, 1.0)], BLUE);
        p.vline(1.5, BLUE);
        p.circle(0.5, 0.5, GREEN, false);
        p.circle(0.7, 0.5, GREY, true);
        p.cross(1.2, 0.3, RED);
        p.label(0.1, 0.9, "official +aw");
        p.legend(&[(Key::Ring, GREEN, "held"), (Key::Cross, RED, "not held")]);
        p.write(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        // two on the plot, one (the ring) in the legend
        assert_eq!(svg.matches("<circle").count(), 3, "{svg}");
        for text in ["official +aw", "held", "not held", "kp", "ki"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(svg.contains("t &amp; &lt;x&gt;"));
    }
}
