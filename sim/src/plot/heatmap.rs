//! Heatmaps on a categorical grid: one coloured cell per (column, row) with
//! a short text in it (the regime map's outcome and g/|b| figures).

use super::err::plot_err;
use crate::atomic::write_atomic;
use crate::error::SimError;
use plotters::prelude::*;
use std::path::Path;

/// Size of a [`Heatmap`] in pixels.
const HEATMAP_SIZE: (u32, u32) = (720, 480);

/// A grid of `columns × rows` categories; each filled cell has a colour
/// and a text, empty cells stay white. Built cell by cell, drawn by
/// [`Heatmap::write`].
#[derive(Debug, Clone)]
pub struct Heatmap {
    title: String,
    x_label: String,
    y_label: String,
    columns: Vec<String>,
    rows: Vec<String>,
    /// (column, row, colour, text).
    cells: Vec<(usize, usize, RGBColor, String)>,
    legend: Vec<(RGBColor, String)>,
}

impl Heatmap {
    /// An empty grid with these column (x) and row (y) names.
    pub fn new(
        title: &str,
        x_label: &str,
        y_label: &str,
        columns: &[String],
        rows: &[String],
    ) -> Self {
        Heatmap {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            columns: columns.to_vec(),
            rows: rows.to_vec(),
            cells: Vec::new(),
            legend: Vec::new(),
        }
    }

    /// Fills cell (`column`, `row`); indices outside the grid are ignored.
    pub fn cell(&mut self, column: usize, row: usize, colour: RGBColor, text: &str) {
        if column < self.columns.len() && row < self.rows.len() {
            self.cells.push((column, row, colour, text.into()));
        }
    }

    /// Legend entries: a colour swatch and its text, right of the grid.
    pub fn legend(&mut self, items: &[(RGBColor, &str)]) {
        self.legend
            .extend(items.iter().map(|(c, t)| (*c, t.to_string())));
    }

    /// Draws the grid and writes it to `path` (atomically).
    pub fn write(&self, path: &Path) -> Result<(), SimError> {
        let (nc, nr) = (self.columns.len().max(1), self.rows.len().max(1));
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, HEATMAP_SIZE).into_drawing_area();
            let e = |e: &dyn std::fmt::Display| plot_err(path, e);
            root.fill(&WHITE).map_err(|x| e(&x))?;
            let (grid, side) = root.split_horizontally(if self.legend.is_empty() {
                HEATMAP_SIZE.0
            } else {
                HEATMAP_SIZE.0 - 170
            });
            let cols = self.columns.clone();
            let rows = self.rows.clone();
            let mut chart = ChartBuilder::on(&grid)
                .caption(&self.title, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(0.0..nc as f64, 0.0..nr as f64)
                .map_err(|x| e(&x))?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(nc * 2 + 1)
                .y_labels(nr * 2 + 1)
                .label_style(("sans-serif", 11))
                .axis_desc_style(("sans-serif", 13))
                .x_label_formatter(&|v| category(&cols, *v))
                .y_label_formatter(&|v| category(&rows, *v))
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .draw()
                .map_err(|x| e(&x))?;
            for (c, r, colour, text) in &self.cells {
                let (x0, y0) = (*c as f64, *r as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0 + 0.02, y0 + 0.02), (x0 + 0.98, y0 + 0.98)],
                        colour.filled(),
                    )))
                    .map_err(|x| e(&x))?;
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((x0 + 0.08, y0 + 0.5))
                            + Text::new(text.clone(), (0, -6), ("sans-serif", 12)),
                    ))
                    .map_err(|x| e(&x))?;
            }
            for (i, (c, t)) in self.legend.iter().enumerate() {
                let y = 40 + 20 * i as i32;
                side.draw(&Rectangle::new([(8, y), (20, y + 12)], c.filled()))
                    .map_err(|x| e(&x))?;
                side.draw(&Text::new(t.clone(), (26, y), ("sans-serif", 11)))
                    .map_err(|x| e(&x))?;
            }
            root.present().map_err(|x| e(&x))?;
        }
        write_atomic(path, svg.as_bytes())
    }
}

/// The category name at the centre of a unit cell (`v = i + 0.5`), empty
/// elsewhere, so each axis shows one label per category.
fn category(names: &[String], v: f64) -> String {
    let i = v - 0.5;
    if (i - i.round()).abs() < 1e-6 && i >= -1e-6 {
        names.get(i.round() as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::scatter::{GREEN, GREY, RED};
    use super::*;

    /// Every filled cell's text, the axis names and the legend reach the SVG.
    #[test]
    fn heatmap_writes_cells_labels_and_legend() {
        let dir = crate::scratch::Scratch::created("plot-heatmap");
        let path = dir.join("h.svg");
        let cols: Vec<String> = ["16", "256"].iter().map(|s| s.to_string()).collect();
        let rows: Vec<String> = ["0.005", "0.03"].iter().map(|s| s.to_string()).collect();
        let mut h = Heatmap::new("outcome", "K", "tail mass", &cols, &rows);
        h.cell(0, 0, GREEN, "holds");
        h.cell(1, 1, RED, "misses");
        h.cell(5, 5, RED, "outside");
        h.legend(&[(GREY, "undetermined")]);
        h.write(&path).expect("write");
        let svg = std::fs::read_to_string(&path).expect("read");
        for t in [
            "holds",
            "misses",
            "undetermined",
            "256",
            "0.03",
            "tail mass",
        ] {
            assert!(svg.contains(t), "{t} missing");
        }
        assert!(!svg.contains("outside"));
    }
}
