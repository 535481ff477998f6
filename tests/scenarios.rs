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
