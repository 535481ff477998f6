//! `entropic verify`: run every claim check and write `verification.md`,
//! `verification.json`, the figures and a source stamp.
//!
//! A claim joins by adding its entry (id, check, reproducer) to [`CLAIMS`];
//! [`checks`] and [`reproducers`] are views of it.
//!
//! Output (docs/design.md §6, "Interfaces"):
//! - `verification.json`: a JSON list of every [`ClaimVerdict`], in registry
//!   order (kept a plain list, as docs/design.md §6 says, so readers need no wrapper).
//! - `verification.stamp.json`: a [`Stamp`] with the SHA-256 of the sources
//!   the report came from and the mode (`quick` or `full`). A separate file
//!   was chosen over a wrapper in `verification.json` so that file stays the
//!   list docs/design.md §6 names.
//! - `verification.md`: the summary table ([`summary_table`], what the README
//!   shows), then one section per claim with its Markdown and figures, then
//!   any check that failed with its error.
//! - the SVG figures the checks wrote into the same folder.
//!
//! A refuted claim is a finding; a check that returns `Err` (or panics) is a
//! failure: the other checks still run, what was computed is written, and
//! [`VerifyOutcome::failures`] lists it (the CLI then exits 1).

use crate::error::ProofsError;
use crate::verdict::{ClaimSection, ClaimVerdict, Counterexample, Ctx, Mode};
use entropic_sim::report::{fmt_sig, markdown_table, write_atomic};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A claim check.
pub type CheckFn = fn(&Ctx) -> Result<ClaimSection, ProofsError>;

/// Re-runs a counterexample from its seed and instance; `Ok(true)` when the
/// failure it records shows again.
pub type ReproduceFn = fn(&Counterexample) -> Result<bool, ProofsError>;

/// One claim of the registry: its id (as in `verification.json`), its
/// check, and the reproducer of the counterexamples its verdicts carry.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub id: &'static str,
    pub check: CheckFn,
    /// Re-runs one counterexample of this claim (every check here can
    /// report one).
    pub reproduce: ReproduceFn,
}

/// The registry: every claim, in report order. `verify` runs these checks,
/// the reproduction tests re-run counterexamples through these
/// reproducers, and the README's verdict table ([`readme_table`]) lists
/// their verdicts in this order.
pub const CLAIMS: [Claim; 8] = [
    Claim {
        id: crate::cor41::CLAIM,
        check: crate::cor41::check,
        reproduce: crate::cor41::reproduce,
    },
    Claim {
        id: crate::quadrants::CLAIM,
        check: crate::quadrants::check,
        reproduce: crate::quadrants::reproduce,
    },
    Claim {
        id: crate::thm42::CLAIM,
        check: crate::thm42::check,
        reproduce: crate::thm42::reproduce,
    },
    Claim {
        id: crate::thm43::CLAIM,
        check: crate::thm43::check,
        reproduce: crate::thm43::reproduce,
    },
    Claim {
        id: crate::cor44::CLAIM,
        check: crate::cor44::check,
        reproduce: crate::cor44::reproduce,
    },
    Claim {
        id: crate::temperature::CLAIM,
        check: crate::temperature::check,
        reproduce: crate::temperature::reproduce,
    },
    Claim {
        id: crate::controllability::CLAIM,
        check: crate::controllability::check,
        reproduce: crate::controllability::reproduce,
    },
    Claim {
        id: crate::stability_grid::CLAIM,
        check: crate::stability_grid::check,
        reproduce: crate::stability_grid::reproduce,
    },
];

/// The registry entry of claim `id`.
pub fn claim(id: &str) -> Option<&'static Claim> {
    CLAIMS.iter().find(|c| c.id == id)
}

/// Every claim check, in report order (from [`CLAIMS`]).
pub fn checks() -> Vec<(&'static str, CheckFn)> {
    CLAIMS.iter().map(|c| (c.id, c.check)).collect()
}

/// The reproducer of each claim (from [`CLAIMS`]); the snapshot tests
/// re-run every counterexample of a quick verify through these.
pub fn reproducers() -> Vec<(&'static str, ReproduceFn)> {
    CLAIMS.iter().map(|c| (c.id, c.reproduce)).collect()
}

/// The source folders whose files the stamp hashes, relative to the
/// workspace root. `scenarios/verify` does not exist today (the checks build
/// their configurations in code); a missing folder adds no file to the hash.
pub const STAMPED_DIRS: &[&str] = &["sim/src", "proofs/src", "scenarios/verify"];

/// File name of the stamp in the report folder.
pub const STAMP_FILE: &str = "verification.stamp.json";

/// What a report was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Hex SHA-256 over [`STAMPED_DIRS`] (see [`source_hash`]).
    pub sources_sha256: String,
    /// Number of files hashed.
    pub files: usize,
    pub mode: Mode,
}

/// SHA-256 over the files under [`STAMPED_DIRS`] of the workspace at `root`:
/// files sorted by their relative path (`/`-separated), and for each one
/// the path, a NUL byte, the content length as 8 little-endian bytes, then
/// the content (so no two different file sets give the same byte stream).
/// A missing folder contributes nothing. Returns the hex digest and the
/// file count.
pub fn source_hash(root: &Path) -> Result<(String, usize), ProofsError> {
    let mut files = Vec::new();
    for d in STAMPED_DIRS {
        collect_files(root, &root.join(d), &mut files)?;
    }
    files.sort();
    let mut h = Sha256::new();
    for rel in &files {
        let bytes = std::fs::read(root.join(rel))
            .map_err(|e| ProofsError::Other(format!("stamp: cannot read {rel}: {e}")))?;
        h.update(rel.as_bytes());
        h.update([0u8]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let hex = h
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    Ok((hex, files.len()))
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), ProofsError> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in rd {
        let entry =
            entry.map_err(|e| ProofsError::Other(format!("stamp: {}: {e}", dir.display())))?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if path.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(rel.join("/"));
        }
    }
    Ok(())
}

/// One check's result and how long it took.
#[derive(Debug)]
pub struct ClaimRun {
    pub id: String,
    pub seconds: f64,
    pub result: Result<ClaimSection, ProofsError>,
}

/// Everything one verify run produced.
#[derive(Debug)]
pub struct VerifyOutcome {
    pub mode: Mode,
    pub runs: Vec<ClaimRun>,
}

impl VerifyOutcome {
    /// All verdict objects of the checks that succeeded, in registry order.
    pub fn verdicts(&self) -> Vec<ClaimVerdict> {
        self.sections()
            .flat_map(|s| s.verdicts.iter().cloned())
            .collect()
    }

    /// The sections of the checks that succeeded.
    pub fn sections(&self) -> impl Iterator<Item = &ClaimSection> {
        self.runs.iter().filter_map(|r| r.result.as_ref().ok())
    }

    /// `(claim id, error)` of each check that failed.
    pub fn failures(&self) -> Vec<(&str, &ProofsError)> {
        self.runs
            .iter()
            .filter_map(|r| r.result.as_ref().err().map(|e| (r.id.as_str(), e)))
            .collect()
    }
}

/// Runs `checks` in order with `Ctx { mode, out_dir }` (the folder is
/// created first). `on_done(id, seconds, index, total)` is called after each
/// check (the CLI prints timings and moves its progress bar). A check that
/// returns `Err` or panics is recorded as failed and the rest still run.
pub fn run_checks(
    checks: &[(&'static str, CheckFn)],
    mode: Mode,
    out_dir: &Path,
    on_done: &dyn Fn(&str, f64, usize, usize),
) -> Result<VerifyOutcome, ProofsError> {
    std::fs::create_dir_all(out_dir)
        .map_err(|e| ProofsError::Other(format!("cannot create {}: {e}", out_dir.display())))?;
    let ctx = Ctx {
        mode,
        out_dir: out_dir.to_path_buf(),
    };
    let mut runs = Vec::with_capacity(checks.len());
    for (i, (id, f)) in checks.iter().enumerate() {
        let t0 = Instant::now();
        let result = std::panic::catch_unwind(|| f(&ctx)).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            Err(ProofsError::Other(format!("check panicked: {msg}")))
        });
        let seconds = t0.elapsed().as_secs_f64();
        on_done(id, seconds, i + 1, checks.len());
        runs.push(ClaimRun {
            id: id.to_string(),
            seconds,
            result,
        });
    }
    Ok(VerifyOutcome { mode, runs })
}

/// Runs every registered check ([`checks`]) into `out_dir` and writes the
/// report files ([`write_reports`]) with the stamp of the sources under
/// `root`.
pub fn run_all(
    mode: Mode,
    out_dir: &Path,
    root: &Path,
    on_done: &dyn Fn(&str, f64, usize, usize),
) -> Result<VerifyOutcome, ProofsError> {
    let outcome = run_checks(&checks(), mode, out_dir, on_done)?;
    let (sources_sha256, files) = source_hash(root)?;
    let stamp = Stamp {
        sources_sha256,
        files,
        mode,
    };
    write_reports(out_dir, &outcome, &stamp)?;
    Ok(outcome)
}

/// `rate [lo, hi]` at 2 decimals (what a Wilson interval on tens to
/// hundreds of cases supports); `n/a` for NaN.
pub fn fmt_rate(v: &ClaimVerdict) -> String {
    if !v.rate.is_finite() {
        return "n/a".into();
    }
    format!("{:.2} [{:.2}, {:.2}]", v.rate, v.ci[0], v.ci[1])
}

fn verdict_word(v: &ClaimVerdict) -> &'static str {
    match v.verdict {
        crate::verdict::Verdict::Confirmed => "confirmed",
        crate::verdict::Verdict::Conditional => "conditional",
        crate::verdict::Verdict::Refuted => "refuted",
    }
}

/// The summary table at the top of `verification.md` (and the README):
/// claim, variant, verdict, condition, rate with its 95% interval, n.
pub fn summary_table(verdicts: &[ClaimVerdict]) -> String {
    let rows: Vec<Vec<String>> = verdicts
        .iter()
        .map(|v| {
            vec![
                v.claim.clone(),
                v.variant.clone(),
                verdict_word(v).into(),
                v.condition.clone(),
                fmt_rate(v),
                v.n.to_string(),
            ]
        })
        .collect();
    markdown_table(
        &[
            "claim",
            "variant",
            "verdict",
            "condition",
            "rate [95% CI]",
            "n",
        ],
        &rows,
    )
}

/// The verdict table of the README: claim, variant, verdict (bold), rate
/// with its 95% interval, n; one row per verdict, in registry order (the
/// order of `verification.json`). A test checks that the README's table is
/// this table of `reports/verification.json`.
pub fn readme_table(verdicts: &[ClaimVerdict]) -> String {
    let mut md =
        String::from("| claim | variant | verdict | rate [95% CI] | n |\n|---|---|---|---|---|\n");
    for v in verdicts {
        md.push_str(&format!(
            "| {} | {} | **{}** | {} | {} |\n",
            v.claim,
            v.variant,
            verdict_word(v),
            fmt_rate(v),
            v.n
        ));
    }
    md
}

/// The whole `verification.md`.
pub fn markdown(outcome: &VerifyOutcome, stamp: &Stamp) -> String {
    let mode = match outcome.mode {
        Mode::Quick => "quick (reduced grids; not the committed report)",
        Mode::Full => "full",
    };
    let mut md = String::from("# Verification of the EntroPIC claims\n\n");
    md.push_str(&format!(
        "Mode: {mode}. Sources (sim/src, proofs/src, scenarios/verify): sha256 `{}` \
         ({} files). Regenerate with `cargo run --release -- verify`.\n\n",
        stamp.sources_sha256, stamp.files
    ));
    md.push_str(
        "Rate: share of instances/runs on which the claim's statement held, with its \
         95% Wilson interval; the condition says where it holds (or what was found).\n\n",
    );
    md.push_str(&summary_table(&outcome.verdicts()));
    let failures = outcome.failures();
    if !failures.is_empty() {
        md.push_str("\n**Checks that failed (no verdict):**\n\n");
        for (id, e) in &failures {
            md.push_str(&format!("- `{id}`: {e}\n"));
        }
    }
    for s in outcome.sections() {
        md.push_str(&format!("\n## {}: {}\n\n", s.claim, s.title));
        md.push_str(s.markdown.trim_end());
        md.push('\n');
    }
    md
}

/// Writes `verification.json`, `verification.md` and the stamp into
/// `out_dir`, each atomically (temporary file, then rename).
pub fn write_reports(
    out_dir: &Path,
    outcome: &VerifyOutcome,
    stamp: &Stamp,
) -> Result<(), ProofsError> {
    let json = serde_json::to_string_pretty(&outcome.verdicts())
        .map_err(|e| ProofsError::Other(e.to_string()))?;
    write_atomic(&out_dir.join("verification.json"), json.as_bytes())?;
    write_atomic(
        &out_dir.join("verification.md"),
        markdown(outcome, stamp).as_bytes(),
    )?;
    let st = serde_json::to_string_pretty(stamp).map_err(|e| ProofsError::Other(e.to_string()))?;
    write_atomic(&out_dir.join(STAMP_FILE), st.as_bytes())?;
    Ok(())
}

/// Reads the stamp of a report folder.
pub fn read_stamp(out_dir: &Path) -> Result<Stamp, ProofsError> {
    let p: PathBuf = out_dir.join(STAMP_FILE);
    let text = std::fs::read_to_string(&p)
        .map_err(|e| ProofsError::Other(format!("cannot read {}: {e}", p.display())))?;
    serde_json::from_str(&text).map_err(|e| ProofsError::Other(format!("{}: {e}", p.display())))
}

/// A verdict rounded to what its statistics support, for snapshot tests:
/// rate and interval to 2 decimals, no timings or paths beyond the figure
/// names, and whether a counterexample exists (its numbers are checked by
/// reproducing it instead).
pub fn rounded(v: &ClaimVerdict) -> serde_json::Value {
    let r2 = |x: f64| {
        if x.is_finite() {
            serde_json::Value::from(fmt_sig_2dp(x))
        } else {
            serde_json::Value::Null
        }
    };
    serde_json::json!({
        "claim": v.claim,
        "variant": v.variant,
        "verdict": verdict_word(v),
        "condition": v.condition,
        "rate": r2(v.rate),
        "ci": [r2(v.ci[0]), r2(v.ci[1])],
        "n": v.n,
        "counterexample": v.counterexample.is_some(),
        "figures": v.figures,
    })
}

/// `x` at 2 decimals as a string (JSON floats would print `0.1` and
/// `0.10000000000000001` differently across formatters).
fn fmt_sig_2dp(x: f64) -> String {
    let s = format!("{x:.2}");
    if s == "-0.00" {
        "0.00".into()
    } else {
        s
    }
}

/// Significant-digit formatting re-exported for the checks' conditions.
pub fn sig(x: f64, digits: usize) -> String {
    fmt_sig(x, digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Verdict;

    fn ok_check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
        let mut v = ClaimVerdict::from_counts("fake", "a", Verdict::Confirmed, "always", 9, 10);
        v.figures = vec!["fake.svg".into()];
        std::fs::write(ctx.out_dir.join("fake.svg"), "<svg/>")
            .map_err(|e| ProofsError::Other(e.to_string()))?;
        Ok(ClaimSection {
            claim: "fake".into(),
            title: "A fake claim".into(),
            verdicts: vec![v],
            markdown: "Body.\n\n![](fake.svg)\n".into(),
        })
    }
    fn err_check(_: &Ctx) -> Result<ClaimSection, ProofsError> {
        Err(ProofsError::Other("boom".into()))
    }
    fn panic_check(_: &Ctx) -> Result<ClaimSection, ProofsError> {
        panic!("kaboom")
    }

    /// A scratch folder, deleted (with its temporary parent) when dropped.
    fn tmp(name: &str) -> entropic_sim::scratch::Scratch {
        entropic_sim::scratch::Scratch::new(name)
    }

    #[test]
    fn failed_checks_do_not_stop_the_others_and_reports_are_written() {
        let dir = tmp("runner");
        let checks: Vec<(&'static str, CheckFn)> = vec![
            ("bad", err_check),
            ("fake", ok_check),
            ("panics", panic_check),
        ];
        let seen = std::sync::Mutex::new(Vec::new());
        let out = run_checks(&checks, Mode::Quick, &dir, &|id, _, i, n| {
            seen.lock().unwrap().push((id.to_string(), i, n));
        })
        .unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                ("bad".into(), 1, 3),
                ("fake".into(), 2, 3),
                ("panics".into(), 3, 3)
            ]
        );
        let fails: Vec<&str> = out.failures().iter().map(|f| f.0).collect();
        assert_eq!(fails, vec!["bad", "panics"]);
        let stamp = Stamp {
            sources_sha256: "00".into(),
            files: 0,
            mode: Mode::Quick,
        };
        write_reports(&dir, &out, &stamp).unwrap();
        let json: Vec<ClaimVerdict> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("verification.json")).unwrap())
                .unwrap();
        assert_eq!(json.len(), 1);
        assert_eq!(json[0].claim, "fake");
        let md = std::fs::read_to_string(dir.join("verification.md")).unwrap();
        // 9/10 → 0.90; Wilson 95% for 9/10 is [0.596, 0.982] → [0.60, 0.98].
        assert!(md.contains("0.90 [0.60, 0.98]"), "{md}");
        assert!(md.contains("## fake: A fake claim"));
        assert!(md.contains("`bad`: boom") && md.contains("kaboom"));
        assert_eq!(read_stamp(&dir).unwrap(), stamp);
        assert!(!dir.join("verification.json.tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn source_hash_changes_with_content_and_names() {
        let root = tmp("hash");
        std::fs::create_dir_all(root.join("sim/src")).unwrap();
        std::fs::write(root.join("sim/src/a.rs"), "x").unwrap();
        let (h1, n1) = source_hash(&root).unwrap();
        assert_eq!(n1, 1);
        std::fs::write(root.join("sim/src/a.rs"), "y").unwrap();
        let (h2, _) = source_hash(&root).unwrap();
        assert_ne!(h1, h2);
        // same bytes under another name: a different hash
        std::fs::remove_file(root.join("sim/src/a.rs")).unwrap();
        std::fs::write(root.join("sim/src/b.rs"), "y").unwrap();
        let (h3, _) = source_hash(&root).unwrap();
        assert_ne!(h2, h3);
        // files outside the stamped folders do not count
        std::fs::write(root.join("README.md"), "z").unwrap();
        assert_eq!(source_hash(&root).unwrap().0, h3);
        // empty input: the SHA-256 of nothing
        let empty = tmp("hash-empty");
        assert_eq!(
            source_hash(&empty).unwrap().0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn rounded_keeps_two_decimals() {
        let v = ClaimVerdict::from_counts("c", "v", Verdict::Refuted, "x", 1, 3);
        let r = rounded(&v);
        // 1/3 = 0.333.. → "0.33"
        assert_eq!(r["rate"], "0.33");
        assert_eq!(r["verdict"], "refuted");
        assert_eq!(r["counterexample"], false);
    }
}
