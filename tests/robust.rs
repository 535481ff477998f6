//! Robustness (issue 15) through the binary: nothing lost on Ctrl-C, the
//! output place and the memory checked before the work, `--force` limited to
//! what an earlier run wrote, and bad flags refused with exit 2 and one line.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
mod common;
use common::{bin, pretrain_smoke, stderr, tmp, write};

fn run_out(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("run")
}

/// Exit 2, one line on stderr, no panic.
fn assert_refused(o: &Output, what: &str) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{what}: one line: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    err
}

/// Every file under `dir` with its bytes, by relative path.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("prefix").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut m = std::collections::BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}

const SMALL: &str = "seeds = 2\nsteps = 20\n[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n[control]\nmethod = \"entropic\"\ntarget = 0.5\n";

/// Two arms (folders `p/` and `pi/`) and a controller (so `alpha.svg`).
const TWO_ARMS: &str = "seeds = 2\nsteps = 20\n[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n[control]\nmethod = \"entropic\"\ntarget = 0.5\n[[arms]]\nname = \"p\"\ncontrol = { ki = 0 }\n[[arms]]\nname = \"pi\"\n";

/// Plain GRPO, one arm: no `alpha.svg`.
const NO_CONTROL: &str = "seeds = 2\nsteps = 20\n[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n[control]\nmethod = \"none\"\n";

/// Items 1 and 2: a run interrupted with a real SIGINT keeps the earlier
/// complete results in place, its finished seeds in `DIR.partial/` with a
/// partial summary and report, and `--resume` ends with files identical
/// byte for byte to an uninterrupted run's. The earlier results (another
/// scenario, two arms) are then replaced without stale arm folders.
#[test]
fn sigint_keeps_the_old_results_and_resume_equals_an_uninterrupted_run() {
    let d = tmp("sigint");
    // ~0.5 s per seed on one free core; 8 seeds. Long enough to be
    // interrupted after its first seed, short enough for CI.
    let long = write(
        &d,
        "long.toml",
        "seeds = 8\nsteps = 6000\nexact_every = 100\n[bandit]\nprompts = 256\nactions = 64\n[grpo]\nbatch_prompts = 64\n[control]\nmethod = \"entropic\"\ntarget = 1.0\n",
    );
    let full = d.join("full");
    let o = run_out(&long, &full, &[]);
    assert_eq!(o.status.code(), Some(0), "uninterrupted: {}", stderr(&o));

    let old_scn = write(&d, "old.toml", TWO_ARMS);
    let mut killed = None;
    for attempt in 0..6 {
        let out = d.join(format!("out-{attempt}"));
        let o = run_out(&old_scn, &out, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let before = tree(&out);
        let partial = d.join(format!("out-{attempt}.partial"));
        let child = bin()
            .arg("run")
            .arg(&long)
            .arg("--out")
            .arg(&out)
            .arg("--force")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut child = child;
        let seeds = partial.join("main/seeds");
        let t0 = Instant::now();
        let mut finished = false;
        loop {
            let n = std::fs::read_dir(&seeds)
                .map(|r| {
                    r.filter(|e| {
                        e.as_ref()
                            .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
                    })
                    .count()
                })
                .unwrap_or(0);
            if n >= 1 {
                break;
            }
            if child.try_wait().expect("try_wait").is_some() {
                finished = true;
                break;
            }
            assert!(t0.elapsed().as_secs() < 300, "no seed after 300 s");
            std::thread::sleep(Duration::from_millis(2));
        }
        if finished {
            continue;
        }
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
        assert_eq!(rc, 0, "kill");
        let o = child.wait_with_output().expect("wait");
        let err = stderr(&o);
        if o.status.code() == Some(0) {
            continue; // it finished just before the signal
        }
        assert_eq!(o.status.code(), Some(130), "exit 128 + SIGINT: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains("SIGINT") && err.contains("kept") && err.contains("--resume"),
            "{err}"
        );
        // the earlier complete results are untouched
        assert_eq!(tree(&out), before, "the final folder is as it was");
        // the partial summary and report cover the finished seeds
        let s: serde_json::Value = serde_json::from_slice(
            &std::fs::read(partial.join("summary.json")).expect("partial summary"),
        )
        .expect("json");
        let done = s["partial"]["seed_runs_done"]
            .as_u64()
            .expect("partial mark");
        assert!((1..8).contains(&done), "{s}");
        let md = std::fs::read_to_string(partial.join("report.md")).expect("partial report");
        assert!(md.contains("Partial"), "{md}");
        killed = Some(out);
        break;
    }
    let out = killed.expect("6 attempts: no run could be interrupted mid-way");
    let o = bin()
        .arg("run")
        .arg(&long)
        .arg("--out")
        .arg(&out)
        .arg("--resume")
        .output()
        .expect("resume");
    assert_eq!(o.status.code(), Some(0), "resume: {}", stderr(&o));
    let (got, want) = (tree(&out), tree(&full));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "same files; the old scenario's arm folders p/, pi/ are gone"
    );
    for f in ["main/metrics.jsonl", "report.md"] {
        assert!(got[f] == want[f], "{f} differs from the uninterrupted run");
    }
    // summary.json: identical but for its provenance (command line, time)
    let figures = |b: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(b).expect("summary JSON");
        v.as_object_mut().map(|o| o.remove("provenance"));
        v
    };
    assert_eq!(
        figures(&got["summary.json"]),
        figures(&want["summary.json"]),
        "summary.json differs from the uninterrupted run"
    );
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    assert!(!Path::new(&partial).exists(), "the .partial folder is gone");
}

/// Item 1 on the default folder: `runs/<stem>/` is replaced only when the
/// run completes; an earlier `runs/<stem>` not written by entropic is
/// refused.
#[test]
fn the_default_folder_is_replaced_at_the_end_and_a_foreign_one_refused() {
    let d = tmp("default");
    write(&d, "x.toml", SMALL);
    let go = || {
        bin()
            .current_dir(&*d)
            .args(["run", "x.toml"])
            .output()
            .expect("run")
    };
    let o = go();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(d.join("runs/x/main/metrics.jsonl").exists());
    assert!(d.join("runs/x/.entropic-manifest.json").exists());
    let o = go();
    assert_eq!(o.status.code(), Some(0), "rerun: {}", stderr(&o));
    assert!(!d.join("runs/x.partial").exists());
    std::fs::remove_file(d.join("runs/x/.entropic-manifest.json")).expect("rm");
    let err = assert_refused(&go(), "no manifest");
    assert!(err.contains("manifest"), "{err}");
    assert!(
        d.join("runs/x/main/metrics.jsonl").exists(),
        "nothing removed"
    );
}

/// Item 3: `--force` removes only what the manifest lists: stale arm folders
/// and SVGs of an earlier scenario go, a file of the user stays; a non-empty
/// folder without a manifest is refused even with `--force` (so
/// `--out . --force` cannot empty a repository).
#[test]
fn force_removes_only_manifest_files_and_never_a_folder_without_one() {
    let d = tmp("force");
    let two = write(&d, "two.toml", TWO_ARMS);
    let plain = write(&d, "plain.toml", NO_CONTROL);
    let out = d.join("out");
    let o = run_out(&two, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("p/metrics.jsonl").exists() && out.join("alpha.svg").exists());
    std::fs::write(out.join("mine.txt"), "keep me").expect("write");
    let o = run_out(&plain, &out, &["--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("main/metrics.jsonl").exists());
    assert!(
        !out.join("p").exists() && !out.join("pi").exists(),
        "stale arms"
    );
    assert!(!out.join("alpha.svg").exists(), "stale SVG");
    assert_eq!(
        std::fs::read_to_string(out.join("mine.txt"))
            .ok()
            .as_deref(),
        Some("keep me")
    );

    // a repository-like folder: refused with and without --force, untouched
    let repo = d.join("repo");
    std::fs::create_dir_all(repo.join("src")).expect("mkdir");
    std::fs::write(repo.join("Cargo.toml"), "[package]").expect("write");
    std::fs::write(repo.join("src/main.rs"), "fn main() {}").expect("write");
    let before = tree(&repo);
    for extra in [&[][..], &["--force"][..]] {
        let err = assert_refused(&run_out(&plain, &repo, extra), "repo");
        assert!(err.contains("manifest"), "{err}");
        assert_eq!(tree(&repo), before);
    }
    let o = bin()
        .current_dir(&repo)
        .arg("run")
        .arg(&plain)
        .args(["--out", ".", "--force"])
        .output()
        .expect("run");
    assert_refused(&o, "--out . --force");
    assert_eq!(tree(&repo), before, "--out . --force empties nothing");
}

/// Item 4: the output place is checked before any work, exit 2 with one
/// sentence, for `run` and `verify`; `llm grpo` rejecting its `--model`
/// leaves no empty `--out` behind.
#[test]
fn the_output_place_is_checked_before_the_work() {
    let d = tmp("place");
    // long enough that a refusal after the work would take many seconds
    let slow = write(
        &d,
        "slow.toml",
        "seeds = 8\nsteps = 200000\n[bandit]\nprompts = 256\nactions = 64\n",
    );
    let file = write(&d, "a-file", "x");
    let unwritable = Path::new("/proc/entropic-no-such-place/out");
    for (out, what) in [(file.as_path(), "a file"), (unwritable, "unwritable")] {
        let t0 = Instant::now();
        let err = assert_refused(&run_out(&slow, out, &[]), what);
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{what}: before the work"
        );
        assert!(err.contains("--out"), "{err}");
        assert!(!err.contains("os error"), "{err}");
        let t0 = Instant::now();
        let o = bin()
            .args(["verify", "--quick", "--out"])
            .arg(out)
            .output()
            .expect("verify");
        let err = assert_refused(&o, what);
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{what}: before the checks"
        );
        assert!(err.contains("--out"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&file).ok().as_deref(), Some("x"));

    let grpo_out = d.join("grpo-out");
    let o = bin()
        .args([
            "llm",
            "grpo",
            "--config",
            "scenarios/llm-smoke.toml",
            "--model",
        ])
        .arg(d.join("no-such-model"))
        .arg("--out")
        .arg(&grpo_out)
        .output()
        .expect("llm grpo");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!grpo_out.exists(), "no empty --out folder left behind");
}

/// Item 5: a size inside the documented ranges that the machine cannot
/// hold is refused quickly, naming the keys; `ENTROPIC_MAX_MEMORY` (bytes,
/// K/M/G suffixes) sets the limit.
#[test]
fn memory_is_estimated_before_running() {
    let d = tmp("memory");
    let big = write(
        &d,
        "big.toml",
        "seeds = 1\nsteps = 10\n[bandit]\nprompts = 1000000\nactions = 4096\n",
    );
    let t0 = Instant::now();
    let o = bin()
        .arg("run")
        .arg(&big)
        .arg("--out")
        .arg(d.join("big"))
        .env("ENTROPIC_MAX_MEMORY", "16G")
        .output()
        .expect("run");
    let err = assert_refused(&o, "1e6 × 4096");
    assert!(t0.elapsed() < Duration::from_secs(10), "refused quickly");
    assert!(
        err.contains("bandit.prompts")
            && err.contains("bandit.actions")
            && err.contains("big.toml"),
        "{err}"
    );
    // also against the machine's own memory (no variable): 32.8 GB of
    // logits alone exceeds what a CI machine has; where it does not, the
    // variable above has shown the check
    let small = write(&d, "small.toml", SMALL);
    let o = bin()
        .arg("run")
        .arg(&small)
        .arg("--out")
        .arg(d.join("small"))
        .env("ENTROPIC_MAX_MEMORY", "1K")
        .output()
        .expect("run");
    assert_refused(&o, "1K");
    let o = bin()
        .arg("run")
        .arg(&small)
        .arg("--out")
        .arg(d.join("small-bad"))
        .env("ENTROPIC_MAX_MEMORY", "lots")
        .output()
        .expect("run");
    let err = assert_refused(&o, "bad variable");
    assert!(err.contains("ENTROPIC_MAX_MEMORY"), "{err}");
    let o = bin()
        .arg("run")
        .arg(&small)
        .arg("--out")
        .arg(d.join("small-ok"))
        .env("ENTROPIC_MAX_MEMORY", "1G")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!d.join("big").exists() && !d.join("big.partial").exists());
}

/// Item 7: inputs that used to be accepted now exit 2 with one line.
#[test]
fn inputs_accepted_before_now_exit_2_with_one_line() {
    let d = tmp("accepted");
    let empty = write(&d, "empty.toml", "# nothing here\n");
    let over = write(
        &d,
        "over.toml",
        "[bandit]\nactions = 4\n[control]\nmethod = \"none\"\ntarget = 10\n",
    );
    let csv = write(
        &d,
        "log.csv",
        "step,entropy,alpha\n0,1.0,0.0\n1,0.9,0.1\n2,0.8,0.1\n",
    );
    let csv_s = csv.display().to_string();
    let (over_s, empty_s) = (over.display().to_string(), empty.display().to_string());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["stability", "--gain", "0", "--kp", "1"], "--gain"),
        (
            vec![
                "stability",
                "--gain",
                "0.1",
                "--delay",
                "1",
                "--kp",
                "1",
                "--ki",
                "1e300",
            ],
            "--ki",
        ),
        (vec!["run", &over_s], "control.target"),
        (vec!["run", &empty_s], "empty scenario"),
        (
            vec![
                "tune",
                "identify",
                "--log",
                &csv_s,
                "--target",
                "0.5",
                "--max-overshoot",
                "nan",
            ],
            "--max-overshoot",
        ),
        (vec!["tune", "probe", "--hold", "0"], "--hold"),
        (
            vec![
                "tune", "identify", "--log", &csv_s, "--arm", "foo", "--target", "0.5",
            ],
            "--arm",
        ),
        (
            vec!["tune", "identify", "--log", &csv_s, "--target", "nan"],
            "--target",
        ),
        (
            vec![
                "tune", "identify", "--log", &csv_s, "--target", "0.5", "--settle", "0",
            ],
            "--settle",
        ),
    ];
    for (args, key) in cases {
        let o = bin().current_dir(&*d).args(&args).output().expect("run");
        let err = assert_refused(&o, &args.join(" "));
        assert!(err.contains(key), "{args:?}: {err}");
        assert!(
            o.stdout.is_empty(),
            "{args:?}: nothing printed before the refusal"
        );
    }
    assert!(
        !d.join("runs").exists(),
        "no output folder for a refused scenario"
    );
}

/// Item 6 and the `llm entropy` case of item 7 on a real checkpoint: the
/// weights are written 0644 like the other files (safetensors writes
/// through a 0600 temporary file), and a character outside the vocabulary
/// is refused, named, instead of being read as `<unk>`.
#[test]
fn checkpoint_weights_are_world_readable_and_unknown_characters_named() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp("ckpt");
    let base = d.join("base");
    pretrain_smoke(&base);
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let weights = base.join("model.safetensors");
    assert_eq!(mode(&weights), 0o644, "weights");
    assert_eq!(
        mode(&weights),
        mode(&base.join("config.json")),
        "as the others"
    );
    let o = bin()
        .args(["llm", "entropy", "--model"])
        .arg(&base)
        .args(["--text", "1+1=☃"])
        .output()
        .expect("entropy");
    let err = assert_refused(&o, "llm entropy");
    assert!(err.contains('☃') && err.contains("vocabulary"), "{err}");
    // item 7: a checkpoint without its task (task.json missing, or `{}`) is
    // not evaluated on a default task
    let bare = d.join("bare");
    std::fs::create_dir_all(&bare).expect("mkdir");
    for e in std::fs::read_dir(&base).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.file_name().is_some_and(|n| n != "task.json") {
            std::fs::copy(&p, bare.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    for task_json in [None, Some("{}")] {
        if let Some(t) = task_json {
            std::fs::write(bare.join("task.json"), t).expect("write");
        }
        let o = bin()
            .args(["llm", "eval", "--problems", "2", "--model"])
            .arg(&bare)
            .output()
            .expect("eval");
        let err = assert_refused(&o, &format!("task.json {task_json:?}"));
        assert!(err.contains("--task"), "{err}");
    }
}

/// Item 3, `verify`: it writes into a staging folder beside `--out` and
/// moves each file into place, so a verify killed mid-way leaves `--out`
/// exactly as it was (no mix of old and new SVGs), and a complete one adds
/// its files without touching the other reports there.
#[test]
fn verify_moves_its_files_into_place_and_a_killed_one_changes_nothing() {
    let d = tmp("verify");
    let out = d.join("reports");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("other.md"), "another report").expect("write");
    std::fs::write(out.join("verification.md"), "old").expect("write");
    let before = tree(&out);
    let staging = d.join(".reports.verify-tmp");
    let mut killed = false;
    for _ in 0..4 {
        let mut child = bin()
            .args(["verify", "--quick", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let t0 = Instant::now();
        let svg_written = || {
            std::fs::read_dir(&staging).is_ok_and(|r| {
                r.filter_map(|e| e.ok())
                    .any(|e| e.path().extension().is_some_and(|x| x == "svg"))
            })
        };
        let mut finished = false;
        while !svg_written() {
            if child.try_wait().expect("try_wait").is_some() {
                finished = true;
                break;
            }
            assert!(t0.elapsed().as_secs() < 300, "no SVG after 300 s");
            std::thread::sleep(Duration::from_millis(2));
        }
        if finished {
            // the whole verify ran between two polls; try again from the old state
            for f in std::fs::read_dir(&out).expect("read_dir") {
                let _ = std::fs::remove_file(f.expect("entry").path());
            }
            for (f, b) in &before {
                std::fs::write(out.join(f), b).expect("restore");
            }
            continue;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("wait");
        killed = true;
        break;
    }
    assert!(killed, "4 attempts: no verify could be killed mid-way");
    assert_eq!(tree(&out), before, "a killed verify leaves --out as it was");
    let o = bin()
        .args(["verify", "--quick", "--out"])
        .arg(&out)
        .output()
        .expect("verify");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = tree(&out);
    assert_eq!(after["other.md"], b"another report".to_vec());
    assert_ne!(after["verification.md"], b"old".to_vec());
    assert!(after.keys().any(|k| k.ends_with(".svg")));
    assert!(!staging.exists(), "the staging folder is removed");
}

/// Bad flags of `stability` and of the `llm` commands that fail before any
/// work: no panic, no exit other than 0/1/2, no output folder left behind.
#[test]
fn bad_flags_of_stability_and_llm_never_panic_nor_leave_folders() {
    let d = tmp("flags");
    let file = write(&d, "a-file", "x");
    let file_s = file.display().to_string();
    let o = |name: &str| d.join(name).display().to_string();
    let (o1, o2, o3) = (o("grpo-a"), o("grpo-b"), o("pre-a"));
    let missing = o("missing");
    let cases: Vec<(Vec<&str>, Option<&str>)> = vec![
        (vec!["stability", "--gain", "-1", "--kp", "1"], None),
        (vec!["stability", "--gain", "inf", "--kp", "1"], None),
        (vec!["stability", "--gain", "0.1", "--kp", "nan"], None),
        (
            vec![
                "stability",
                "--gain",
                "0.1",
                "--kp",
                "1",
                "--drift",
                "1e400",
            ],
            None,
        ),
        (
            vec![
                "stability",
                "--gain",
                "0.1",
                "--kp",
                "1",
                "--delay",
                "99999999",
            ],
            None,
        ),
        (
            vec!["stability", "--gain", "0.1", "--kp", "1", "--integral", "x"],
            None,
        ),
        (vec!["stability", "--gain", "0.1"], None),
        (vec!["llm", "eval", "--model", &missing], None),
        (
            vec!["llm", "entropy", "--model", &missing, "--text", "1+1"],
            None,
        ),
        (
            vec![
                "llm", "grpo", "--config", &missing, "--model", &missing, "--out", &o1,
            ],
            Some(&o1),
        ),
        (
            vec![
                "llm", "grpo", "--config", &file_s, "--model", &missing, "--out", &o2,
            ],
            Some(&o2),
        ),
        (
            vec!["llm", "pretrain", "--config", &missing, "--out", &o3],
            Some(&o3),
        ),
    ];
    for (args, out) in cases {
        let r = bin().args(&args).output().expect("run");
        let err = stderr(&r);
        assert!(
            matches!(r.status.code(), Some(0..=2)),
            "{args:?}: exit {:?}: {err}",
            r.status.code()
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        if let Some(out) = out {
            assert!(!Path::new(out).exists(), "{args:?}: {out} left behind");
        }
    }
}
