//! Every counterexample in the committed `reports/verification.json`
//! reproduces through its claim's reproducer in the registry
//! ([`verify::CLAIMS`]): same seed, same instance, same failure. (The quick
//! run's counterexamples are re-run by the root crate's
//! `tests/verify_snapshots.rs`.)
use entropic_proofs::verdict::ClaimVerdict;
use entropic_proofs::verify;
use std::path::PathBuf;

#[test]
fn every_committed_counterexample_reproduces() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reports/verification.json");
    let verdicts: Vec<ClaimVerdict> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    for v in &verdicts {
        let Some(cx) = &v.counterexample else {
            continue;
        };
        let claim = verify::claim(&v.claim)
            .unwrap_or_else(|| panic!("claim {} is not in verify::CLAIMS", v.claim));
        let again = (claim.reproduce)(cx)
            .unwrap_or_else(|e| panic!("{} / {}: reproduce failed: {e}", v.claim, v.variant));
        assert!(
            again,
            "{} / {}: counterexample did not reproduce: {}",
            v.claim, v.variant, cx.observed
        );
        checked += 1;
    }
    assert!(checked > 0, "the committed report has no counterexample");
}
