//! `entropic map` through the binary: the quick map (the CI run) writes
//! every field of every cell, an outcome for every PI arm, and each
//! `no-authority` meets its definition; a map stopped after one cell and
//! continued with `--resume` gives the uninterrupted map's JSON; bad flags
//! exit 2 before any work.
mod common;
use common::{bin, stderr, tmp};
use serde_json::Value;
use std::path::Path;

const CELL_FIELDS: [&str; 19] = [
    "policy",
    "vocab",
    "tail_mass",
    "length",
    "det_share",
    "temperature",
    "optimizer",
    "lr",
    "h0",
    "hp_frac0",
    "hp_entropy_share0",
    "g",
    "g_ci",
    "g_detectable",
    "g_by_arm",
    "g_windows",
    "b",
    "b_ci",
    "arms",
];

const ARM_FIELDS: [&str; 8] = [
    "h_final",
    "final_rel_err",
    "settling_step",
    "pass_final",
    "pass_cost",
    "alpha_saturated",
    "zero_adv_share",
    "seeds",
];

fn map(out: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .args(["map", "--quick", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("map")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// Every field of every cell and arm, an outcome for each PI arm (and
/// none for the others), and each `no-authority` meeting its definition:
/// detectable g < |b| and the upper end of g's interval < |b|, not
/// saturated and not holding.
fn check_map(j: &Value) {
    let cells = j["cells"].as_array().expect("cells");
    assert!(!cells.is_empty());
    let mut outcomes = 0;
    for c in cells {
        for k in CELL_FIELDS {
            assert!(c.get(k).is_some(), "cell {} lacks {k}", c["id"]);
        }
        assert!(num(&c["h0"]) > 0.0, "{}", c["id"]);
        assert!(num(&c["g"]).is_finite() && num(&c["b"]).is_finite());
        // one entry per constant-α twin arm (4, or α = ±1 alone in factored cells)
        let twins = c["arms"]
            .as_object()
            .expect("arms")
            .keys()
            .filter(|k| k.starts_with("alpha"))
            .count();
        assert!(twins == 4 || twins == 2, "{}", c["id"]);
        assert_eq!(c["g_by_arm"].as_object().expect("g_by_arm").len(), twins);
        assert!(!c["g_windows"].as_array().expect("windows").is_empty());
        let b = num(&c["b"]).abs();
        for (name, a) in c["arms"].as_object().expect("arms") {
            for k in ARM_FIELDS {
                assert!(a.get(k).is_some(), "{} {name} lacks {k}", c["id"]);
            }
            let is_pi = name.starts_with("pi-");
            assert_eq!(a.get("outcome").is_some(), is_pi, "{} {name}", c["id"]);
            if !is_pi {
                continue;
            }
            outcomes += 1;
            if a["outcome"] == "no-authority" {
                assert!(num(&c["g_detectable"]) < b, "{} {name}", c["id"]);
                assert!(num(&c["g_ci"][1]) < b, "{} {name}", c["id"]);
                assert!(num(&a["alpha_saturated"]) <= 0.5);
                assert!(
                    num(&a["final_rel_err"]) > 0.10 || a["settling_step"].is_null(),
                    "{} {name} holds",
                    c["id"]
                );
            }
        }
    }
    assert!(outcomes > 0);
}

#[test]
fn quick_map_has_every_field_and_resumes_to_the_same_result() {
    let d = tmp("map-quick");
    // the uninterrupted quick map (the CI run of `map --quick`)
    let full = d.join("full");
    let o = map(&full, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j = read_json(&full.join("regime-map.json"));
    assert_eq!(j["complete"], true);
    check_map(&j);
    let md = std::fs::read_to_string(full.join("regime-map.md")).expect("md");
    assert!(md.contains("## Provenance") && md.contains("pi-official@half"));
    // provenance beside the report, never inside the Markdown's figures
    let stamp = read_json(&full.join("regime-map.stamp.json"));
    assert_eq!(stamp["complete"], true);
    assert!(stamp["provenance"]["command"]
        .as_str()
        .is_some_and(|c| c.contains("map")));
    for svg in [
        "regime-map-outcome-adam.svg",
        "regime-map-g-over-b-adam.svg",
        "regime-map-outcome-sgd.svg",
    ] {
        assert!(full.join(svg).exists(), "{svg}");
    }
    // stopped after one cell: a partial report of that cell
    let part = d.join("part");
    let o = map(&part, &["--max-cells", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j1 = read_json(&part.join("regime-map.json"));
    assert_eq!(j1["complete"], false);
    assert_eq!(j1["cells"].as_array().map(Vec::len), Some(1));
    let cells = std::fs::read_dir(part.join("regime-map-cells"))
        .expect("cells")
        .count();
    assert_eq!(cells, 1);
    // resumed: the finished cell reused, the others computed
    let o = map(&part, &["--resume"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 reused"), "{}", stderr(&o));
    assert_eq!(read_json(&part.join("regime-map.json")), j);
    // every cell names the build that computed it, the one in the stamp
    let rev = stamp["provenance"]["git_revision"].clone();
    let cell_files: Vec<std::path::PathBuf> = std::fs::read_dir(part.join("regime-map-cells"))
        .expect("cells")
        .map(|e| e.expect("entry").path())
        .collect();
    for p in &cell_files {
        assert_eq!(read_json(p)["git_revision"], rev, "{}", p.display());
    }
    let clean = rev.as_str().is_some_and(|r| !r.ends_with("-dirty"));
    if clean {
        assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    }
    // one cell from another build: a resume reuses it, warns and says so
    // in the report; the results are the same
    let mut c: Value = read_json(&cell_files[0]);
    c["git_revision"] = Value::from("0000000000ab");
    std::fs::write(
        &cell_files[0],
        serde_json::to_string_pretty(&c).expect("json"),
    )
    .expect("write");
    let o = map(&part, &["--resume"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("0 computed"), "{err}");
    assert!(
        err.contains("warning") && err.contains("0000000000ab"),
        "{err}"
    );
    if clean {
        assert!(err.contains("1 of the"), "{err}");
    }
    let md = std::fs::read_to_string(part.join("regime-map.md")).expect("md");
    assert!(md.contains("**Mixed builds.**") && md.contains("0000000000ab"));
    assert_eq!(read_json(&part.join("regime-map.json")), j);
}

#[test]
fn bad_map_flags_exit_2_before_any_work() {
    let d = tmp("map-flags");
    let out = d.join("out");
    for args in [
        vec!["--max-cells", "0"],
        vec!["--cells", "no-such-cell"],
        vec!["--bogus"],
    ] {
        let o = map(&out, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
    let file = d.join("file");
    std::fs::write(&file, "x").expect("write");
    let o = map(&file, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
}

/// A real SIGINT during the second cell: exit 130, the first cell's file
/// kept, the report written from it and marked partial.
#[test]
fn sigint_keeps_the_finished_cells() {
    let d = tmp("map-sigint");
    let out = d.join("out");
    let child = bin()
        .args(["map", "--quick", "--cells", "adam", "--out"])
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let first = out
        .join("regime-map-cells")
        .join("quick-core-adam-k16-q0.03.json");
    let t = std::time::Instant::now();
    while !first.exists() {
        assert!(t.elapsed().as_secs() < 300, "no cell finished");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0, "kill");
    let o = child.wait_with_output().expect("wait");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("SIGINT") && err.contains("--resume"), "{err}");
    let j = read_json(&out.join("regime-map.json"));
    assert_eq!(j["complete"], false);
    assert_eq!(j["cells"].as_array().map(Vec::len), Some(1));
    let md = std::fs::read_to_string(out.join("regime-map.md")).expect("md");
    assert!(md.contains("**Partial**"));
}

/// The committed full map (`reports/regime-map.json`, from `entropic map`
/// on the full grid): complete, one entry per cell of the grid (18 core, 5
/// variations, 2 factored, 1 paper-like), and every field, outcome and
/// `no-authority` definition as [`check_map`] requires of a fresh run.
#[test]
fn committed_full_map_meets_the_definitions() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/regime-map.json");
    let j = read_json(&path);
    assert_eq!(j["complete"], true, "the committed map is partial");
    let cells = j["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 26);
    assert!(cells
        .iter()
        .all(|c| !c["id"].as_str().unwrap_or("quick-").starts_with("quick-")));
    check_map(&j);
}
