//! `entropic llm selftest`: the CPU smoke test passes; `--cuda` on a binary
//! without GPU support (or on a machine without a GPU) fails plainly.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_entropic"))
}

#[test]
fn selftest_on_cpu_passes() {
    let o = bin()
        .args(["llm", "selftest", "--json"])
        .output()
        .expect("run entropic");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "stderr: {err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    let checks = v["checks"].as_array().expect("checks");
    // The CPU run: forward (finite, deterministic) and one GRPO-like step.
    let names: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["cpu-f32-forward", "cpu-f32-grpo-step"]);
    assert!(checks.iter().all(|c| c["passed"] == true), "{v}");
    assert!(err.contains("all 2 checks passed on cpu"), "stderr: {err}");
}

#[test]
fn selftest_cuda_without_gpu_exits_1_and_says_why() {
    let o = bin()
        .args(["llm", "selftest", "--cuda"])
        .output()
        .expect("run entropic");
    let err = String::from_utf8_lossy(&o.stderr);
    // Runs on the CPU build (no `cuda` feature) or on a machine without a
    // GPU: either way exit 1 with a plain reason and no report.
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(
        err.contains("built without the `cuda` feature") || err.contains("no usable GPU"),
        "stderr: {err}"
    );
    assert!(o.stdout.is_empty());
}
