//! Item 10 of issue 15 through the binary: `run --json`, the progress line
//! when stderr is not a terminal, provenance in `summary.json` and
//! `report.stamp.json` (never in the Markdown), shell completions, and
//! `entropic compare`.
use std::path::Path;
use std::process::Output;
mod common;
use common::{bin, stderr, tmp, write};

const SMALL: &str = "name = \"small\"\nseeds = 3\nsteps = 200\n[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n\
[control]\nmethod = \"entropic\"\ntarget = 0.3\n[[arms]]\nname = \"p\"\ncontrol = { ki = 0 }\n[[arms]]\nname = \"pi\"\n";

fn run(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("run")
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

#[test]
fn run_json_prints_the_headline_figures_of_the_summary() {
    let d = tmp("out-json");
    let sc = write(&d, "s.toml", SMALL);
    let o = run(&sc, &d.join("o"), &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let summary = json(&d.join("o/summary.json"));
    let arms: Vec<&str> = v["configs"]
        .as_array()
        .expect("configs")
        .iter()
        .map(|c| c["arm"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(arms, ["p", "pi"]);
    for (i, c) in v["configs"].as_array().unwrap().iter().enumerate() {
        assert_eq!(c["seeds"], 3);
        let f = &summary["configs"][i]["figures"];
        assert_eq!(c["figures"]["final_abs_err"], f["final_abs_err"]);
        assert_eq!(c["figures"]["settled"], f["settled"]);
        assert!(c["figures"].get("per_seed").is_none(), "{c}");
    }
}

#[test]
fn progress_lines_when_stderr_is_not_a_terminal() {
    let d = tmp("out-progress");
    let sc = write(&d, "s.toml", &SMALL.replace("steps = 200", "steps = 3000"));
    let o = bin()
        .env("ENTROPIC_PROGRESS_SECS", "0.05")
        .arg("run")
        .arg(&sc)
        .arg("--out")
        .arg(d.join("o"))
        .output()
        .expect("run");
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect();
    assert!(!lines.is_empty(), "no progress line in: {err}");
    assert!(
        lines[0].contains("steps)") && lines[0].contains('%'),
        "{err}"
    );
    // the default interval (10 s) prints nothing on a short run
    let o = run(&sc, &d.join("o2"), &[]);
    assert!(!stderr(&o).contains("progress: "), "{}", stderr(&o));
}

#[test]
fn provenance_is_in_summary_and_stamp_but_not_in_the_markdown() {
    let d = tmp("out-prov");
    let sc = write(&d, "s.toml", SMALL);
    let out = d.join("o");
    let o = run(&sc, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = &json(&out.join("summary.json"))["provenance"];
    assert_eq!(
        p["program"],
        format!("entropic {}", env!("CARGO_PKG_VERSION"))
    );
    let cmd = p["command"].as_str().expect("command");
    assert!(
        cmd.starts_with("entropic run ") && cmd.contains("s.toml"),
        "{cmd}"
    );
    let t = p["time_utc"].as_str().expect("time");
    assert!(
        t.len() == 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T',
        "{t}"
    );
    assert!(p.get("git_revision").is_some(), "{p}");
    let stamp = json(&out.join("report.stamp.json"));
    assert_eq!(stamp["provenance"]["command"], p["command"]);
    let md = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(
        !md.contains(t) && !md.contains(&t[..10]),
        "time in report.md"
    );
    // the stamp is listed in the manifest, so --force replaces it too
    let manifest = std::fs::read_to_string(out.join(".entropic-manifest.json")).expect("manifest");
    assert!(manifest.contains("report.stamp.json"), "{manifest}");
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let o = bin().args(["completions", shell]).output().expect("run");
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let s = String::from_utf8_lossy(&o.stdout);
        for sub in ["run", "compare", "check", "verify", "llm"] {
            assert!(s.contains(sub), "{shell}: `{sub}` missing");
        }
    }
    let o = bin().args(["completions", "tcsh"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn compare_two_runs_side_by_side_with_differences() {
    let d = tmp("out-compare");
    let a = write(&d, "a.toml", SMALL);
    let b = write(&d, "b.toml", &SMALL.replace("target = 0.3", "target = 1.0"));
    assert!(run(&a, &d.join("A"), &[]).status.success());
    assert!(run(&b, &d.join("B"), &[]).status.success());
    let o = bin()
        .arg("compare")
        .arg(d.join("A"))
        .arg(d.join("B"))
        .output()
        .expect("compare");
    assert!(o.status.success(), "{}", stderr(&o));
    let md = String::from_utf8_lossy(&o.stdout);
    for want in [
        "## `p`",
        "## `pi`",
        "B − A [95% CI]",
        "`control.target`",
        "final \\|e\\| (nats)",
        "settled (share of seeds)",
    ] {
        assert!(md.contains(want), "`{want}` missing:\n{md}");
    }
    // the target moved by +0.7 while the entropy stays near its floor on
    // this small instance: |e| grows and the interval of the difference
    // excludes 0
    let row = md
        .lines()
        .skip_while(|l| !l.starts_with("## `pi`"))
        .find(|l| l.starts_with("| final \\|e\\|"))
        .expect("final |e| row");
    let last = row.trim_end().trim_end_matches('|').rsplit('|').next();
    assert_eq!(last.map(str::trim), Some("yes"), "{row}");
    // --out: the Markdown, its plot with both runs' curves, and a stamp
    let out = d.join("cmp/c.md");
    let o = bin()
        .arg("compare")
        .arg(d.join("A"))
        .arg(d.join("B"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("compare");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let svg = std::fs::read_to_string(d.join("cmp/c-entropy.svg")).expect("plot");
    for label in ["A: p", "B: p", "A: pi", "B: pi"] {
        assert!(svg.contains(label), "{label} not in the plot");
    }
    assert!(json(&d.join("cmp/c.stamp.json"))["provenance"]["command"]
        .as_str()
        .is_some_and(|c| c.contains("compare")));
    // a folder that is no run output: exit 2, one line
    let o = bin()
        .arg("compare")
        .arg(d.join("A"))
        .arg(&*d)
        .output()
        .expect("compare");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1);
}

/// By default a quick verify, a smoke LLM validation, a quick map and a
/// toy-only tune validation write under `runs/`, never into `reports/`,
/// whose committed reports are the full runs' (run from an empty folder,
/// so a default of `reports/` would show up there).
#[test]
fn quick_and_smoke_runs_never_write_the_committed_reports() {
    let d = tmp("quick-defaults");
    // tune validate's toy half reads its scenarios from the current folder
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(d.join("scenarios")).expect("mkdir");
    for f in ["tune-probe.toml", "tune-closed.toml"] {
        std::fs::copy(root.join("scenarios").join(f), d.join("scenarios").join(f)).expect("copy");
    }
    for (args, report) in [
        (
            &["verify", "--quick"][..],
            "runs/verify-quick/verification.md",
        ),
        (
            &["llm", "validate", "--preset", "smoke", "--quiet"],
            "runs/validate-smoke/llm-validation.md",
        ),
        (&["map", "--quick"], "runs/map-quick/regime-map.md"),
        (&["tune", "validate"], "runs/tune-validate/tune.md"),
    ] {
        let o = bin().current_dir(&d).args(args).output().expect("run");
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(d.join(report).is_file(), "{args:?}: no {report}");
    }
    assert!(!d.join("reports").exists());
}
