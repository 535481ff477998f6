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
/// families, renders text that parses back to the same config.
#[test]
fn cell_text_parses_to_the_typed_config() {
    for fam in Family::ALL {
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
