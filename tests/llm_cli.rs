//! `entropic llm …` through the binary: pretrain, eval and entropy on a tiny
//! config (moved here from the LLM crate with the clap front end), the typed
//! `--device`/`--dtype` options, and `llm validate`'s refusal of the gpu
//! preset on a CPU-only build.
use std::path::Path;
use std::process::Output;
mod common;
use common::{bin, stderr, tmp};

/// Exit 2 and a stderr line containing `needle`.
fn expect_input(o: Output, needle: &str) {
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "wanted `{needle}` in: {err}");
}

fn ok(o: Output) -> Output {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    o
}

#[test]
fn pretrain_eval_entropy_on_a_tiny_config() {
    let d = tmp("cli");
    let sc = d.join("tiny.toml");
    std::fs::write(
        &sc,
        "seed = 1\n[model]\nhidden_size = 16\nintermediate_size = 32\nnum_hidden_layers = 1\nnum_attention_heads = 2\n\
         num_key_value_heads = 1\n[task]\nkinds = [\"add\"]\ndigits = 2\n[pretrain]\nsteps = 3\nbatch_size = 4\nwarmup = 1\n\
         [eval]\nproblems = 3\nn = 2\nk = 2\nmax_new_tokens = 6\nbatch = 4\n",
    )
    .unwrap();
    let out = d.join("ck");
    let pretrain = |extra: &[&str]| {
        bin()
            .args(["llm", "pretrain", "--json", "--config"])
            .arg(&sc)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .expect("run")
    };
    let o = ok(pretrain(&[]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["steps"].as_u64(), Some(3), "{v}");
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "generation_config.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    expect_input(pretrain(&[]), "not empty");
    let eval = |extra: &[&str]| {
        bin()
            .args([
                "llm",
                "eval",
                "--json",
                "--k",
                "2",
                "--n",
                "2",
                "--problems",
                "2",
            ])
            .arg("--model")
            .arg(&out)
            .args(extra)
            .output()
            .expect("run")
    };
    let o = ok(eval(&[]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert!(v["pass@1"].as_f64().is_some(), "{v}");
    expect_input(eval(&["--task", "div"]), "unknown task");
    // Typed options: bf16 on the CPU is refused by the device module, an
    // unknown device or dtype by clap, a negative temperature by the range check.
    expect_input(eval(&["--dtype", "bf16"]), "bf16");
    expect_input(eval(&["--device", "tpu"]), "--device");
    expect_input(eval(&["--dtype", "f16"]), "--dtype");
    expect_input(eval(&["--temperature", "-1"]), "temperature");
    let o = ok(bin()
        .args(["llm", "entropy", "--json", "--logits", "--text", "12+3="])
        .arg("--model")
        .arg(&out)
        .output()
        .expect("run"));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert!(rows.as_array().is_some_and(|r| !r.is_empty()), "{rows}");
    std::fs::write(&sc, "[pretrain]\nsteps = 0\n").unwrap();
    expect_input(pretrain(&["--force"]), "steps");
}

/// The gpu preset names cuda: a CPU-only build refuses it clearly (exit 2),
/// before any work.
#[cfg(not(feature = "cuda"))]
#[test]
fn validate_gpu_preset_refused_without_cuda() {
    let d = tmp("gpu");
    let out = d.join("run");
    let o = bin()
        .args(["llm", "validate", "--preset", "gpu", "--quiet", "--out"])
        .arg(&out)
        .arg("--report")
        .arg(d.join("rep"))
        .output()
        .expect("run");
    expect_input(o, "cuda");
    assert!(!Path::new(&out).exists());
}

/// An `--out` (or `--report`) where nothing can be created is an input
/// error (exit 2) naming the flag, before any training: pretrain, grpo and
/// validate (pretrain used to train first and then fail with exit 1).
#[test]
fn llm_commands_refuse_an_out_that_cannot_be_created() {
    let d = tmp("badout");
    let file = d.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("out");
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/llm-smoke.toml");
    // grpo from a model that does not exist, into `out`
    let grpo = |out: &Path| {
        bin()
            .args(["llm", "grpo", "--quiet", "--config"])
            .arg(&sc)
            .arg("--model")
            .arg(d.join("no-model"))
            .arg("--out")
            .arg(out)
            .output()
            .expect("run")
    };
    let o = bin()
        .args(["llm", "pretrain", "--config"])
        .arg(&sc)
        .arg("--out")
        .arg(&bad)
        .output()
        .expect("run");
    expect_input(o, "--out: cannot create the folder");
    let o = grpo(&bad);
    expect_input(o, "--out: cannot create the folder");
    let o = bin()
        .args(["llm", "validate", "--preset", "smoke", "--quiet", "--out"])
        .arg(d.join("run"))
        .arg("--report")
        .arg(&bad)
        .output()
        .expect("run");
    expect_input(o, "--report: cannot create the folder");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    // nothing was created on the way
    assert!(!d.join("run").exists());
    // a folder that can be created passes the check and grpo then refuses
    // the missing model, leaving no --out behind
    let out = d.join("fresh").join("out");
    let o = grpo(&out);
    assert_ne!(o.status.code(), Some(0));
    assert!(!d.join("fresh").exists(), "{}", stderr(&o));
    // spelled through a folder that does not exist yet: only the folder
    // made for it goes, never the empty one that was there before
    let keep = d.join("keep");
    std::fs::create_dir(&keep).unwrap();
    let o = grpo(&d.join("new").join("..").join("keep"));
    assert_ne!(o.status.code(), Some(0));
    assert!(keep.is_dir(), "{}", stderr(&o));
    assert!(!d.join("new").exists(), "{}", stderr(&o));
    // validate with a --model that is no checkpoint: refused before its
    // --out is made
    let o = bin()
        .args(["llm", "validate", "--preset", "smoke", "--quiet", "--model"])
        .arg(d.join("no-model"))
        .arg("--out")
        .arg(d.join("vrun"))
        .output()
        .expect("run");
    expect_input(o, "not a checkpoint directory");
    assert!(!d.join("vrun").exists());
}

/// `entropic llm keys`: every LLM table and the presets' `[validate]`, with
/// defaults from the structs.
#[test]
fn keys_reference_lists_every_table() {
    let o = ok(bin().args(["llm", "keys"]).output().expect("run"));
    let s = String::from_utf8_lossy(&o.stdout);
    for k in [
        "`model.hidden_size`",
        "`task.kinds`",
        "`pretrain.lr`",
        "`eval.k`",
        "`grpo.group_size`",
        "`validate.twin_seeds`",
    ] {
        assert!(s.contains(k), "{k} missing");
    }
    assert!(!s.contains("undocumented"), "{s}");
}

/// The numbers do not depend on the thread count (the LLM commands choose
/// it from the free cores when `RAYON_NUM_THREADS` is unset,
/// src/threads.rs): pretraining gives the same weights and GRPO the same
/// records, timing fields aside, on 1 and on 2 threads.
#[test]
fn llm_numbers_do_not_depend_on_the_thread_count() {
    let d = tmp("threads");
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/llm-smoke.toml");
    let mut weights = Vec::new();
    let mut records = Vec::new();
    for t in ["1", "2"] {
        let base = d.join(format!("base{t}"));
        ok(bin()
            .env("RAYON_NUM_THREADS", t)
            .args(["llm", "pretrain", "--config"])
            .arg(&sc)
            .arg("--out")
            .arg(&base)
            .output()
            .expect("run"));
        weights.push(std::fs::read(base.join("model.safetensors")).unwrap());
        let run = d.join(format!("grpo{t}"));
        ok(bin()
            .env("RAYON_NUM_THREADS", t)
            .args(["llm", "grpo", "--quiet", "--config"])
            .arg(&sc)
            .arg("--model")
            .arg(&base)
            .arg("--out")
            .arg(&run)
            .output()
            .expect("run"));
        records
            .push(entropic_llm::grpo::records_without_timing(&run.join("metrics.jsonl")).unwrap());
    }
    assert!(weights[0] == weights[1], "pretrained weights differ");
    assert!(!records[0].is_empty());
    assert_eq!(records[0], records[1]);
}
