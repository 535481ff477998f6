//! Every counterexample the quick closed-loop checks (`thm-4-2`, `thm-4-3`,
//! `cor-4-4`, `temperature`) report must reproduce from its seed and
//! scenario text. Slow at opt-level 1 (the quick checks simulate a few
//! hundred thousand steps); every quick counterexample of every claim is
//! reproduced by `tests/verify_snapshots.rs` instead.
use entropic_proofs::closedloop::{self as cl, FailsWhen, Family};
use entropic_proofs::thm42;

/// A short tabular run: a counterexample built from its outcome reproduces
/// with the same criterion, and the flipped criterion does not (so
/// `reproduce` can fail). Plain GRPO (method none) on 40 steps from ~1.3
/// nats cannot settle at 0.2 nats, so "not reached" is the observed failure.
#[test]
fn reproduce_agrees_with_the_run_and_can_fail() {
    let c = cl::cell(
        Family::Tabular,
        40,
        cl::GrpoVary::lr(4.0),
        &cl::Control::none(0.2),
        &[],
    )
    .unwrap();
    let cr = cl::run_cell(&c, 1).unwrap();
    let o = &cr.outcomes[0];
    assert!(!o.reached, "{}", cl::describe(o, 0.2));
    let cx = cl::counterexample(&cr, o, FailsWhen::NotReached);
    assert!(cl::reproduce(&cx).unwrap());
    let flipped = cl::counterexample(&cr, o, FailsWhen::Reached);
    assert!(!cl::reproduce(&flipped).unwrap());
}

/// The criterion: band max(0.05, 0.1·H_tar) (docs/design.md §8): 0.05 at 0.2 nats,
/// 0.1 at 1 nat.
#[test]
fn band_is_design_settling_band() {
    assert_eq!(cl::band(0.2), 0.05);
    assert!((cl::band(1.0) - 0.1).abs() < 1e-15);
}

/// The probe schedule covers the run: 45 steps in blocks of 10 → 5 blocks,
/// cycling 0, 0.5, −0.5, 1, −1.
#[test]
fn probe_schedule_cycles_known_alphas() {
    let c = thm42::probe_control(45);
    assert_eq!(
        c.cfg.probe,
        [(10, 0.0), (10, 0.5), (10, -0.5), (10, 1.0), (10, -1.0)]
    );
    assert!(c.cfg.alpha_max.is_infinite());
    let s = cl::cell(Family::Sequence, 45, cl::GrpoVary::lr(0.02), &c, &[])
        .unwrap()
        .text;
    assert!(
        s.contains("probe = [[10, 0.0], [10, 0.5], [10, -0.5], [10, 1.0], [10, -1.0]]"),
        "{s}"
    );
    assert!(s.contains("alpha_max = inf"));
}
