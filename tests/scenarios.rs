//! The shipped scenarios' stated expectations that are properties of the
//! simulator (not claims under test): plain GRPO collapses entropy.

use entropic_sim::runner::run_config;
use entropic_sim::scenario::load;
use std::path::Path;

/// The collapse scenario collapses: `entropic run scenarios/collapse.toml` ends, for every
/// seed, with `entropy_exact` at most half of its start.
#[test]
fn collapse_halves_entropy_on_every_seed() {
    let sc = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/collapse.toml"))
        .expect("scenario");
    let runs = run_config(&sc.runs[0], sc.seeds, &|| {});
    assert_eq!(runs.len(), 8);
    for r in &runs {
        assert!(r.error.is_none(), "seed {}: {:?}", r.seed, r.error);
        let h0 = r
            .records
            .first()
            .and_then(|x| x.entropy_exact)
            .expect("initial entropy_exact");
        let h1 = r
            .records
            .last()
            .and_then(|x| x.entropy_exact)
            .expect("final entropy_exact");
        assert!(h1 <= 0.5 * h0, "seed {}: {h0} -> {h1}", r.seed);
    }
}

/// `scenarios/paper-like.toml` (the command of docs/mathematics.md §8.1
/// that measured the family) runs exactly `entropic_proofs::family`'s
/// configuration: its `grpo` arm equals `paper_like()`, its `grpo-t1` arm
/// differs only in the temperature.
#[test]
fn paper_like_scenario_is_the_family() {
    let sc = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/paper-like.toml"))
        .expect("scenario");
    let (b, g) = entropic_proofs::family::paper_like();
    let arm = |name: &str| {
        sc.runs
            .iter()
            .find(|r| r.arm == name)
            .unwrap_or_else(|| panic!("arm {name}"))
    };
    assert_eq!((&arm("grpo").bandit, &arm("grpo").grpo), (&b, &g));
    let t1 = arm("grpo-t1");
    assert_eq!(t1.bandit, b);
    assert_eq!(
        t1.grpo,
        entropic_sim::grpo::GrpoConfig {
            temperature: 1.0,
            ..g
        }
    );
}
