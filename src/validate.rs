//! Flag checks done before any work, kept as free functions over plain
//! values so they move with the flags when the subcommands are reshaped.
//! Each failure is an [`InputError`] (exit 2) with one sentence naming the
//! flag, the allowed range and the value given.

use crate::error::InputError;

/// Largest magnitude accepted for `stability`'s gains, drift and the loop
/// gains g·Kp, g·Ki. The loop is already unstable for g·K of order 1
/// (docs/mathematics.md §6), so 1e6 loses nothing meaningful while keeping
/// the characteristic polynomial's roots well-conditioned (`--ki 1e300`
/// used to report ρ = 2 and print a 301-digit Ki).
pub const MAX_STABILITY_MAGNITUDE: f64 = 1e6;

/// `entropic stability`: g in (0, 1e6]; Kp, Ki, b finite with |·| ≤ 1e6;
/// |g·Kp| and |g·Ki| ≤ 1e6.
pub fn stability(gain: f64, kp: f64, ki: f64, drift: f64) -> Result<(), InputError> {
    let max = MAX_STABILITY_MAGNITUDE;
    if !(gain.is_finite() && gain > 0.0 && gain <= max) {
        return Err(InputError(format!(
            "--gain: must be in (0, {max:e}] (got {gain})"
        )));
    }
    for (flag, v) in [("--kp", kp), ("--ki", ki), ("--drift", drift)] {
        if !(v.is_finite() && v.abs() <= max) {
            return Err(InputError(format!(
                "{flag}: must be finite with |{}| ≤ {max:e} (got {v:e})",
                &flag[2..]
            )));
        }
    }
    for (flag, what, v) in [
        ("kp", "gain × kp", gain * kp),
        ("ki", "gain × ki", gain * ki),
    ] {
        if v.abs() > max {
            return Err(InputError(format!(
                "--gain, --{flag}: the loop gain {what} must be ≤ {max:e} in magnitude (got {v:e})"
            )));
        }
    }
    Ok(())
}

/// `entropic tune` (fit): `--target` finite and ≥ 0 when given, `--settle`
/// ≥ 1, `--max-overshoot` finite and ≥ 0; checked before the log is read.
pub fn tune_design(
    target: Option<f64>,
    settle: usize,
    max_overshoot: f64,
) -> Result<(), InputError> {
    if let Some(t) = target.filter(|t| !(t.is_finite() && *t >= 0.0)) {
        return Err(InputError(format!(
            "tune: --target: must be finite and ≥ 0 nats (got {t})"
        )));
    }
    if settle == 0 {
        return Err(InputError(
            "tune: --settle: must be ≥ 1 step (got 0)".to_string(),
        ));
    }
    if !(max_overshoot.is_finite() && max_overshoot >= 0.0) {
        return Err(InputError(format!(
            "tune: --max-overshoot: must be finite and ≥ 0 (got {max_overshoot})"
        )));
    }
    Ok(())
}

/// `entropic tune probe`: `--hold` ≥ 1 (0 used to be read as 1).
pub fn tune_hold(hold: usize) -> Result<(), InputError> {
    if hold == 0 {
        return Err(InputError(
            "tune: --hold: must be ≥ 1 step (got 0)".to_string(),
        ));
    }
    Ok(())
}

/// `--arm` / `--seed` select inside our metrics.jsonl; a CSV log has
/// neither, so passing them there is refused instead of ignored. A log is
/// JSON lines when its first non-empty line starts with `{`.
pub fn tune_selectors(
    log_text: &str,
    arm: Option<&str>,
    seed: Option<u64>,
) -> Result<(), InputError> {
    let jsonl = log_text
        .lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_start().starts_with('{'));
    if jsonl {
        return Ok(());
    }
    if let Some(a) = arm {
        return Err(InputError(format!(
            "tune: --arm {a}: a CSV log has no arms (--arm selects inside a metrics.jsonl)"
        )));
    }
    if let Some(s) = seed {
        return Err(InputError(format!(
            "tune: --seed {s}: a CSV log has no seeds (--seed selects inside a metrics.jsonl)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(stability(0.1, 1.0, 0.05, 0.0).is_ok());
        assert!(stability(0.0, 1.0, 0.0, 0.0).is_err());
        assert!(stability(0.1, 1.0, 1e300, 0.0).is_err());
        assert!(stability(1e3, 1e4, 0.0, 0.0).is_err()); // g·Kp = 1e7
        assert!(tune_design(Some(f64::NAN), 50, 0.1).is_err());
        assert!(tune_design(None, 0, 0.1).is_err());
        assert!(tune_design(None, 50, f64::NAN).is_err());
        assert!(tune_hold(0).is_err() && tune_hold(1).is_ok());
        assert!(tune_selectors("step,entropy\n0,1\n", Some("a"), None).is_err());
        assert!(tune_selectors("{\"arm\":\"a\"}\n", Some("a"), None).is_ok());
    }
}
