//! Tests of the closed-loop cells: the scenario text a counterexample
//! carries parses back to the typed config it was rendered from.

use super::*;
use entropic_sim::control::Scope;

/// The text of `c` parses to exactly its typed run (so a counterexample
/// reproduces the run that was checked).
fn round_trips(c: &Cell) {
    let parsed = the_run(&c.text).unwrap();
    assert_eq!(parsed, c.run, "{}", c.text);
}

/// Every kind of cell the four closed-loop checks build, on both
/// families and the paper-like one, renders text that parses back to the
/// same config.
#[test]
fn cell_text_parses_to_the_typed_config() {
    for fam in Family::ALL.into_iter().chain([Family::PaperLike]) {
        let lr = fam.lrs()[0];
        let grpos = [
            GrpoVary::lr(lr),
            GrpoVary {
                lag: Some(4),
                ppo_epochs: Some(2),
                ..GrpoVary::lr(lr)
            },
            GrpoVary {
                temperature: Some(0.6),
                ..GrpoVary::lr(lr)
            },
            GrpoVary {
                lag: Some(0),
                ppo_epochs: Some(1),
                minibatches: Some(4),
                ..GrpoVary::lr(lr)
            },
        ];
        let controls = [
            crate::thm42::control(0.3, false),
            crate::thm42::control(0.1, true),
            crate::thm42::probe_control(250),
            Control::none(0.2),
            crate::thm43::control(0.01, "rollout"),
            crate::thm43::control(0.0, "current"),
            crate::cor44::control(Scope::All, 0.95),
            crate::cor44::control(Scope::HighProb, 0.99),
        ];
        for g in grpos {
            for c in &controls {
                round_trips(&cell(fam, 200, g, c, &[]).unwrap());
            }
        }
    }
}

/// The text is the one the reports have always carried (here the
/// thm-4-2 P/sequence counterexample of reports/verification.json).
#[test]
fn cell_text_is_the_reported_scenario() {
    let c = cell(
        Family::Sequence,
        250,
        GrpoVary::lr(0.02),
        &crate::thm42::control(0.1, false),
        &[],
    )
    .unwrap();
    assert_eq!(
        c.text,
        "# family: sequence\nsteps = 250\nexact_every = 0\n[bandit]\npolicy = \"sequence\"\n\
         prompts = 64\nactions = 16\nlength = 8\nforks = 2\ndet_margin = 8.0\n\
         pass_rate = [0.1, 0.6]\n[grpo]\noptimizer = \"adam\"\nbatch_prompts = 32\n\
         group_size = 8\nlr = 0.02\n\n[control]\nmethod = \"entropic\"\ntarget = 0.1\n\
         kp = 1.0\nki = 0.0\n\n"
    );
}

/// The paper-like cells run `crate::family::paper_like()` (with the lr a
/// check sets), their text names the family so a counterexample is judged
/// in the same band when reproduced, and that band is relative: 0.01 nats
/// at a target of 0.1, where the other families' floor gives 0.05.
#[test]
fn paper_like_cells_are_the_family_in_a_relative_band() {
    let (b, g) = crate::family::paper_like();
    let c = cell(
        Family::PaperLike,
        20,
        GrpoVary::lr(g.lr),
        &Control::none(0.1),
        &[],
    )
    .unwrap();
    assert_eq!((&c.run.bandit, &c.run.grpo), (&b, &g));
    for fam in [Family::Sequence, Family::Tabular, Family::PaperLike] {
        let c = cell(
            fam,
            20,
            GrpoVary::lr(fam.lrs()[0]),
            &Control::none(0.1),
            &[],
        )
        .unwrap();
        assert_eq!(Family::from_text(&c.text), Some(fam));
    }
    assert!((Family::PaperLike.band(0.1) - 0.01).abs() < 1e-12);
    assert_eq!(Family::Sequence.band(0.1), 0.05);
    // a plain run at 0.01 nats above the target for its whole last half
    // is inside the design band and outside the relative one
    let run = run_cell(&c, 1).unwrap();
    let o = &run.outcomes[0];
    assert_eq!(o.band, Family::PaperLike.band(0.1));
    let mut figs = o.figs.clone();
    figs.settling_step = Some(0);
    figs.final_abs_err = 0.02;
    assert!(reached(&figs, 0.1, false));
    assert!(!reached_in(&figs, o.band, false));
}
