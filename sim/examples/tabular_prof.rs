//! Profile target for `bench sim`'s tabular configuration (one seed, one
//! thread): `perf record -g target/release/examples/tabular_prof 5` (the
//! argument: runs, default 3).
//! Prints each run's time and a fingerprint of its records (FNV-1a of their
//! JSON): a speed change that must not move a number keeps the fingerprint.
use entropic_sim::runner::run_seed;
use std::time::Instant;

fn main() {
    let rc = entropic_sim::scenario::bench_tabular().expect("the bench configuration is valid");
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for r in 0..runs {
        let t0 = Instant::now();
        let res = run_seed(&rc, 1000 * r as u64, &|| {});
        assert!(res.error.is_none());
        let s = t0.elapsed().as_secs_f64();
        let json = serde_json::to_string(&res.records).expect("records serialize");
        let fp = json.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        println!(
            "run {r}: {s:.3} s, {:.2} M sampled actions/s, records {fp:016x}",
            2.048e6 / s / 1e6
        );
    }
}
