//! `entropic llm diagnose` through the binary on the transformers-written
//! Qwen2 fixture with a byte-level BPE tokenizer
//! (`llm/tests/fixtures/bpe-small`, written by `scripts/hf-check.py
//! --write-fixtures`): its composition recomputed from transformers'
//! figures in the fixture's `expected.json`, its placement on the built-in
//! regime map (the committed map's hash, neighbours by distance, the
//! prediction from the nearest), and its refusals of bad input (exit 2,
//! one line naming what is wrong, before any work).
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
mod common;
use common::{bin, stderr, tmp, write};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("llm/tests/fixtures/bpe-small")
}

fn diagnose(extra: &[&str]) -> Output {
    let f = fixture();
    bin()
        .args(["llm", "diagnose", "--model"])
        .arg(&f)
        .arg("--prompts")
        .arg(f.join("prompts.jsonl"))
        .args(extra)
        .output()
        .expect("run diagnose")
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut x = v;
    for k in path {
        x = &x[*k];
    }
    x.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number: {x}"))
}

/// Exit 2 with one stderr line containing `needle`.
fn expect_input(o: Output, needle: &str) {
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "wanted `{needle}` in: {err}");
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
}

/// With one new token per completion, every token of prompt `i` has the
/// entropy of transformers' next-token distribution after prompt `i`
/// (`expected.json`), so the token-mean entropy is their mean and every
/// quantile is one of them; only prompts whose top probability exceeds τ
/// can give HP tokens. The JSON is also internally consistent, and the
/// map part reads the committed map (same SHA-256) and sorts neighbours.
#[test]
fn diagnose_bpe_fixture_matches_transformers_and_the_committed_map() {
    let samples = 4usize;
    let o = diagnose(&[
        "--samples",
        &samples.to_string(),
        "--max-new-tokens",
        "1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let exp: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap())
            .unwrap();
    let prompts = exp["prompts"].as_array().unwrap();
    let h: Vec<f64> = prompts
        .iter()
        .map(|p| p["entropy_next"].as_f64().unwrap())
        .collect();
    let tau = num(&v, &["diagnosis", "tau"]);
    let can_hp = prompts
        .iter()
        .filter(|p| p["p_top_next"].as_f64().unwrap() > tau)
        .count();
    let c = &v["diagnosis"]["composition"];
    let n = num(c, &["n_tokens"]) as usize;
    assert_eq!(n, prompts.len() * samples);
    let want = h.iter().sum::<f64>() / h.len() as f64;
    let got = num(c, &["entropy_mean"]);
    assert!((got - want).abs() < 1e-4, "entropy_mean {got} vs {want}");
    let n_hp = num(c, &["n_hp"]) as usize;
    assert!(
        n_hp <= can_hp * samples,
        "{n_hp} HP tokens, at most {}",
        can_hp * samples
    );
    assert!((num(c, &["hp_frac"]) - n_hp as f64 / n as f64).abs() < 1e-12);
    let share = num(c, &["hp_entropy_share"]);
    assert!((0.0..=1.0).contains(&share));
    let ln_v = (num(&v, &["diagnosis", "vocab"])).ln();
    assert!(got > 0.0 && got <= ln_v);
    let qs = v["diagnosis"]["entropy_quantiles"].as_array().unwrap();
    let qv: Vec<f64> = qs.iter().map(|q| q[1].as_f64().unwrap()).collect();
    assert!(qv.windows(2).all(|w| w[0] <= w[1]), "quantiles {qv:?}");
    for q in &qv {
        assert!(
            h.iter().any(|x| (x - q).abs() < 1e-4),
            "quantile {q} is none of transformers' entropies {h:?}"
        );
    }
    // the map: built in, the committed file's hash
    use sha2::Digest;
    let committed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/regime-map.json"))
            .unwrap();
    let hash: String = sha2::Sha256::digest(&committed)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v["map"]["sha256"].as_str(), Some(hash.as_str()));
    let nb = v["placement"]["neighbours"].as_array().unwrap();
    assert_eq!(nb.len(), 3);
    let d: Vec<f64> = nb.iter().map(|x| x["distance"].as_f64().unwrap()).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "distances {d:?}");
    let p = &v["prediction"];
    assert_eq!(p["cell"], nb[0]["id"]);
    assert_eq!(p["distance"], nb[0]["distance"]);
    assert_eq!(p["extrapolated"], v["placement"]["outside"]);
    assert!(p["outcomes"].as_object().is_some_and(|o| !o.is_empty()));
    // the model's features are what was measured
    assert_eq!(v["features"]["entropy"], c["entropy_mean"]);
    assert!((num(&v, &["features", "ln_vocab"]) - ln_v).abs() < 1e-12);
}

/// The text output names the map's hash, the nearest cells and the
/// prediction's cell; the same settings give the same text.
#[test]
fn diagnose_text_summary_is_readable_and_repeatable() {
    let a = diagnose(&["--samples", "2", "--max-new-tokens", "8"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    let t = String::from_utf8_lossy(&a.stdout).to_string();
    for needle in [
        "token-mean entropy",
        "sha256",
        "nearest cells:",
        "prediction",
    ] {
        assert!(t.contains(needle), "no `{needle}` in:\n{t}");
    }
    let b = diagnose(&["--samples", "2", "--max-new-tokens", "8"]);
    assert_eq!(t, String::from_utf8_lossy(&b.stdout));
}

/// Exit 2 with one line naming the file: a missing or malformed `--map`,
/// `--samples 0`, an `--svg` in a missing folder, a missing checkpoint
/// folder, corrupt safetensors, another architecture, and a prompt with a
/// character the character tokenizer (no byte fallback) cannot encode.
#[test]
fn diagnose_refuses_bad_input_with_exit_2_before_work() {
    let d = tmp("diagnose-bad");
    let missing = d.join("none.json");
    expect_input(
        diagnose(&["--map", missing.to_str().unwrap()]),
        missing.to_str().unwrap(),
    );
    let bad = write(&d, "bad-map.json", "{\"cells\": 3}");
    expect_input(diagnose(&["--map", bad.to_str().unwrap()]), "bad-map.json");
    let empty = write(&d, "empty-map.json", "{\"complete\": true, \"cells\": []}");
    expect_input(
        diagnose(&["--map", empty.to_str().unwrap()]),
        "empty-map.json: no cell",
    );
    expect_input(diagnose(&["--samples", "0"]), "--samples");
    // issue 13's bad checkpoints: missing folder, corrupt weights, another
    // architecture; and a prompt the character tokenizer cannot encode
    let none = d.join("no-model");
    let run = |model: &Path, prompts: &Path| {
        bin()
            .args(["llm", "diagnose", "--model"])
            .arg(model)
            .arg("--prompts")
            .arg(prompts)
            .args(["--samples", "1", "--max-new-tokens", "1"])
            .output()
            .unwrap()
    };
    let good_prompts = fixture().join("prompts.jsonl");
    expect_input(run(&none, &good_prompts), "no-model");
    let corrupt = d.join("corrupt");
    std::fs::create_dir(&corrupt).unwrap();
    for f in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
        std::fs::copy(fixture().join(f), corrupt.join(f)).unwrap();
    }
    let w = std::fs::read(fixture().join("model.safetensors")).unwrap();
    std::fs::write(corrupt.join("model.safetensors"), &w[..1000]).unwrap();
    expect_input(run(&corrupt, &good_prompts), "model.safetensors");
    let llama = d.join("llama");
    std::fs::create_dir(&llama).unwrap();
    for f in [
        "tokenizer.json",
        "tokenizer_config.json",
        "model.safetensors",
    ] {
        std::fs::copy(fixture().join(f), llama.join(f)).unwrap();
    }
    let cfg = std::fs::read_to_string(fixture().join("config.json"))
        .unwrap()
        .replace("\"qwen2\"", "\"llama\"")
        .replace("Qwen2ForCausalLM", "LlamaForCausalLM");
    write(&llama, "config.json", &cfg);
    expect_input(run(&llama, &good_prompts), "llama");
    let chars = Path::new(env!("CARGO_MANIFEST_DIR")).join("llm/tests/fixtures/tied-old");
    let accented = write(
        &d,
        "accented.jsonl",
        "{\"prompt\": \"1+2=\"}\n{\"prompt\": \"1+é=\"}\n",
    );
    expect_input(
        run(&chars, &accented),
        "accented.jsonl: line 2: character 'é'",
    );
    // the byte-level BPE encodes it (its prompts include é and ü)
    let text = std::fs::read_to_string(&good_prompts).unwrap();
    assert!(text.lines().any(|l| {
        serde_json::from_str::<Value>(l).unwrap()["prompt"]
            .as_str()
            .is_some_and(|p| p.contains('é'))
    }));
    let no_dir = d.join("no/such/h.svg");
    expect_input(diagnose(&["--svg", no_dir.to_str().unwrap()]), "--svg");
}
