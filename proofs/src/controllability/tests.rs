//! Unit tests of `controllability`'s single run.

use super::model::{run_cell, Cell};

#[test]
fn unknown_names_are_errors_not_panics() {
    let c = Cell {
        family: "nope".into(),
        variant: "official".into(),
        anti_windup: false,
        target: 0.5,
        steps: 3,
    };
    assert!(run_cell(&c).is_err());
}

#[test]
fn a_tiny_cell_runs_and_reports_the_integral() {
    // 12 steps of the high-entropy family, target far below H0 ≈ 2.3:
    // e ≈ 2 every step, so |I| after 12 steps is about 24 (> 10) and the
    // target cannot be held.
    let c = Cell {
        family: "tabular-high".into(),
        variant: "plain".into(),
        anti_windup: false,
        target: 0.1,
        steps: 12,
    };
    let r = run_cell(&c).unwrap();
    assert!(!r.held && r.final_abs_err > 1.0, "{r:?}");
    assert!(r.max_abs_integral > 10.0, "{r:?}");
}
