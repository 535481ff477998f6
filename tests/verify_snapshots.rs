//! Snapshot tests of `entropic verify --quick` (through the library, not the
//! binary): the verdict table and `verification.json` rounded to what the
//! statistics support, so a simulator change that changes a verdict fails
//! here until accepted with `cargo insta review` (or `INSTA_UPDATE=always`),
//! with the reason in the commit. Also: every counterexample of the quick
//! run reproduces, and the committed `reports/` is not stale.
use entropic_proofs::verdict::Mode;
use entropic_proofs::verify::{self, VerifyOutcome};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One quick verify per test binary (the tests share it).
fn quick() -> &'static (VerifyOutcome, PathBuf) {
    static RUN: OnceLock<(VerifyOutcome, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        // In target/ (cargo's scratch space for integration tests), not
        // /tmp: a static is never dropped, so a scratch guard would leak.
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("verify-quick");
        let _ = std::fs::remove_dir_all(&out);
        let o = verify::run_all(Mode::Quick, &out, root(), &|_, _, _, _| {})
            .expect("quick verify writes its report");
        (o, out)
    })
}

#[test]
fn quick_verdict_table() {
    let (o, out) = quick();
    assert!(o.failures().is_empty(), "checks failed: {:?}", o.failures());
    insta::assert_snapshot!("quick_table", verify::summary_table(&o.verdicts()));
    // what was written is what the library returned
    let written: Vec<entropic_proofs::verdict::ClaimVerdict> =
        serde_json::from_str(&std::fs::read_to_string(out.join("verification.json")).unwrap())
            .unwrap();
    assert_eq!(written.len(), o.verdicts().len());
    for v in &written {
        for f in &v.figures {
            assert!(
                out.join(f).is_file(),
                "figure {f} of {} not written",
                v.claim
            );
        }
    }
    let stamp = verify::read_stamp(out).unwrap();
    assert_eq!(stamp.mode, Mode::Quick);
}

#[test]
fn quick_verification_json_rounded() {
    let (o, _) = quick();
    let rounded: Vec<serde_json::Value> = o.verdicts().iter().map(verify::rounded).collect();
    insta::assert_json_snapshot!("quick_json", rounded);
}

#[test]
fn every_quick_counterexample_reproduces() {
    let (o, _) = quick();
    let reps = verify::reproducers();
    let mut checked = 0;
    for v in o.verdicts() {
        let Some(cx) = &v.counterexample else {
            continue;
        };
        let Some((_, f)) = reps.iter().find(|(id, _)| *id == v.claim) else {
            panic!(
                "claim {} has a counterexample but no reproducer in verify::reproducers()",
                v.claim
            );
        };
        let again =
            f(cx).unwrap_or_else(|e| panic!("{} / {}: reproduce failed: {e}", v.claim, v.variant));
        assert!(
            again,
            "{} / {}: counterexample did not reproduce: {}",
            v.claim, v.variant, cx.observed
        );
        checked += 1;
    }
    eprintln!("{checked} counterexamples reproduced");
}

#[test]
fn committed_reports_are_not_stale() {
    let dir = root().join("reports");
    let stamp = verify::read_stamp(&dir).unwrap_or_else(|e| {
        panic!("reports/ has no readable stamp ({e}): run `cargo run --release -- verify`")
    });
    let (now, _) = verify::source_hash(root()).unwrap();
    assert_eq!(
        stamp.sources_sha256, now,
        "reports/ is stale: run `cargo run --release -- verify`"
    );
    assert_eq!(
        stamp.mode,
        Mode::Full,
        "reports/ must hold the full run: run `cargo run --release -- verify`"
    );
}
