//! The exit-code contract through the binary (docs/design.md §7): 2 for bad input,
//! 1 for a failure, decided by the error's type (`src/error.rs`). One case
//! per error variant that can be reached from the command line; the
//! variants that need a broken disk or a NaN inside the transformer
//! (`LlmError::Io` among them) are checked on values in `src/error.rs`'s
//! unit test, and the toy's
//! non-finite run (`SimError::NonFinite`, 1) in `tests/cli.rs`.
mod common;
use common::{bin, tmp};

const SCENARIO: &str =
    "seeds = 1\nsteps = 5\n[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n";

const TINY_LLM: &str =
    "seed = 1\n[model]\nhidden_size = 16\nintermediate_size = 32\nnum_hidden_layers = 1\n\
    num_attention_heads = 2\nnum_key_value_heads = 1\n[task]\nkinds = [\"add\"]\ndigits = 2\n\
    [pretrain]\nsteps = 2\nbatch_size = 4\nwarmup = 1\n[eval]\nproblems = 2\nn = 2\nk = 2\n\
    max_new_tokens = 4\nbatch = 4\n";

#[test]
fn each_error_type_exits_with_its_code() {
    let d = tmp("codes");
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let good = write("good.toml", SCENARIO);
    let bad_key = write("bad.toml", &format!("{SCENARIO}[control]\ntau = 2.0\n"));
    let tiny = write("tiny.toml", TINY_LLM);
    let bad_control = write("grpo.toml", "[control]\nmethod = \"entropic\"\nkp = -1.0\n");
    let missing = d.join("absent").display().to_string();
    let under_file = format!("{good}/out"); // a folder under a regular file
    let cases: Vec<(&str, Vec<&str>, u8, &str)> = vec![
        // (error type, arguments, exit code, text the one line must hold)
        ("clap usage error", vec!["run"], 2, "SCENARIO"),
        (
            "InputError",
            vec!["run", &good, "--seeds", "0"],
            2,
            "--seeds",
        ),
        ("SimError::Input", vec!["run", &bad_key], 2, "control.tau"),
        (
            "LlmError::Input",
            vec!["llm", "eval", "--model", &missing],
            2,
            "absent",
        ),
        (
            "LlmError::Sim(SimError::Input), converted with #[from]",
            vec![
                "llm",
                "grpo",
                "--config",
                &bad_control,
                "--model",
                &missing,
                "--out",
                &missing,
            ],
            2,
            "control.kp",
        ),
        // An output place that cannot be created is now found before any
        // work and is bad input (exit 2, src/output.rs), for the simulator
        // and (since 2026-11-30) for `llm pretrain`, which used to reach
        // `LlmError::Io` (exit 1) here; no command line is known to reach
        // `main` with an untyped error or an `LlmError::Io` any more, so
        // those (exit 1) are covered by `error::tests::codes_by_type` alone.
        (
            "output place under a file (checked first)",
            vec!["run", &good, "--out", &under_file],
            2,
            "good.toml/out",
        ),
        (
            "llm output place under a file (checked first)",
            vec!["llm", "pretrain", "--config", &tiny, "--out", &under_file],
            2,
            "good.toml/out",
        ),
    ];
    for (what, args, code, needle) in cases {
        let o = bin().args(&args).output().expect("run");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code as i32), "{what}: {err}");
        assert!(err.contains(needle), "{what}: wanted `{needle}` in {err}");
    }
}
