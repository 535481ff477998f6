//! Axis helpers shared by the plot kinds (a leaf module: the plot kinds
//! import it by name, so none of them imports the parent).

/// The right end of an x range `x0..x1` widened so that the data take the
/// left `plot_px - strip_px` pixels of a `plot_px` wide plot area, leaving a
/// strip of `strip_px` right of every data point for the legend.
pub(super) fn widened(x0: f64, x1: f64, plot_px: u32, strip_px: u32) -> f64 {
    let free = plot_px.saturating_sub(strip_px + 20).max(plot_px / 2) as f64;
    x0 + (x1 - x0) * plot_px as f64 / free
}
