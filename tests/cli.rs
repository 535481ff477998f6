//! The binary's contract: exit codes, error lines and outputs (DESIGN.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_entropic"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("entropic-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write scenario");
    p
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

const SMALL: &str = "seeds = 2\nsteps = 20\n[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n[control]\nmethod = \"entropic\"\ntarget = 0.5\n";

#[test]
fn bad_input_exits_2_with_one_line_naming_file_key_and_range() {
    let d = tmp("bad");
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown.toml",
            "[grpo]\nlearning_rate = 0.1\n",
            "grpo.learning_rate",
        ),
        ("type.toml", "[grpo]\nlr = \"fast\"\n", "grpo.lr"),
        ("neglr.toml", "[grpo]\nlr = -0.1\n", "grpo.lr"),
        ("group.toml", "[grpo]\ngroup_size = 0\n", "grpo.group_size"),
        (
            "target.toml",
            "[bandit]\nactions = 4\n[control]\nmethod = \"entropic\"\ntarget = 1.5\n",
            "control.target",
        ),
        ("nan.toml", "[control]\nkp = nan\n", "control.kp"),
        ("inf.toml", "[grpo]\nlr = inf\n", "grpo.lr"),
    ];
    for (name, text, key) in cases {
        let p = write(&d, name, text);
        let o = bin()
            .args(["run"])
            .arg(&p)
            .arg("--out")
            .arg(d.join(format!("out-{name}")))
            .output()
            .expect("run");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains(key), "{name}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{name}: one line expected: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let o = bin()
        .args(["run", "/nonexistent/x.toml"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/x.toml"));
}

#[test]
fn run_writes_metrics_summary_and_report_and_refuses_a_full_out_dir() {
    let d = tmp("run");
    let p = write(&d, "small.toml", SMALL);
    let out = d.join("out");
    let o = bin()
        .arg("run")
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = std::fs::read_to_string(out.join("main/metrics.jsonl")).expect("metrics");
    assert_eq!(lines.lines().count(), 2 * 20);
    let first: serde_json::Value =
        serde_json::from_str(lines.lines().next().unwrap_or("")).expect("json");
    for k in [
        "arm",
        "step",
        "seed",
        "entropy",
        "entropy_exact",
        "target",
        "alpha",
        "hp_frac",
    ] {
        assert!(first.get(k).is_some(), "record lacks {k}: {first}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("json");
    let fig = &summary["configs"][0]["figures"];
    for k in [
        "final_abs_err",
        "final_rel_err",
        "settling_step",
        "overshoot",
        "alpha_saturated",
        "final_pass_rate",
    ] {
        assert!(fig.get(k).is_some(), "summary lacks {k}");
    }
    assert!(out.join("report.md").exists() && out.join("entropy.svg").exists());
    // not empty, no --force: refused with 2, nothing lost
    let o = bin()
        .arg("run")
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(out.join("main/metrics.jsonl").exists());
    let o = bin()
        .arg("run")
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .arg("--force")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_non_finite_run_exits_1_naming_step_seed_and_quantity() {
    // z/T overflows to infinity at T = 0.5 for a logit of 1e308: the very first
    // forward pass is non-finite.
    let d = tmp("nan");
    let p = write(&d, "overflow.toml", "seeds = 1\nsteps = 5\n[bandit]\nlogits = [[1e308, 0.0, 0.0]]\ncorrect = [[1]]\n[grpo]\nbatch_prompts = 1\ntemperature = 0.5\n");
    let out = d.join("out");
    let o = bin()
        .arg("run")
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("step 0") && err.contains("seed 0") && err.contains("non-finite"),
        "{err}"
    );
    assert!(
        out.join("main/metrics.jsonl").exists(),
        "records file is written even when empty"
    );
}

#[test]
fn stability_reproduces_the_reference_radii() {
    for (args, stable, rho) in [
        (vec!["--kp", "1", "--ki", "0.05"], true, 0.936),
        (vec!["--kp", "3", "--ki", "0.3"], false, 1.0175),
        (
            vec!["--kp", "1", "--ki", "0.05", "--integral", "after"],
            true,
            0.925,
        ),
        (
            vec!["--kp", "3", "--ki", "0.3", "--integral", "after"],
            false,
            1.025,
        ),
    ] {
        let o = bin()
            .args(["stability", "--gain", "0.1", "--delay", "4", "--json"])
            .args(&args)
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(v["stable"], stable, "{args:?}");
        let r = v["spectral_radius"].as_f64().unwrap_or(f64::NAN);
        assert!((r - rho).abs() < 1e-3, "{args:?}: {r}");
    }
}

#[test]
fn scenario_keys_prints_the_reference() {
    let o = bin().args(["scenario", "--keys"]).output().expect("run");
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("`grpo.lr`") && s.contains("`control.alpha_max`"));
}

#[test]
fn shipped_scenarios_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("scenarios/") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "toml")
            && !p
                .file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with("llm"))
        {
            entropic_sim::scenario::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let text = std::fs::read_to_string(&p).expect("read");
            assert!(
                text.starts_with("# Expect"),
                "{} must say at its top what to expect",
                p.display()
            );
            n += 1;
        }
    }
    assert!(n >= 7);
}
