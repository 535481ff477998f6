//! Number formatting shared by reports and plots.

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
