//! Tasks, answer checking, config variants and bad input.
use candle_core::{DType, Device};
use entropic_llm::checkpoint;
use entropic_llm::eval::pass_at_k;
use entropic_llm::tasks::{extract_answer, load_jsonl, reward, ArithConfig, Kind};
use entropic_llm::{LlmError, Qwen2, Qwen2Config, Tok};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// A scratch folder, deleted (with its temporary parent) when dropped.
fn tmp(name: &str) -> entropic_sim::scratch::Scratch {
    entropic_sim::scratch::Scratch::created(name)
}

#[test]
fn answer_checker_edge_cases() {
    assert_eq!(extract_answer("9750>579"), Some("579".into()));
    assert_eq!(extract_answer(" 579 "), Some("579".into()));
    assert_eq!(extract_answer("333->-333"), Some("-333".into()));
    assert_eq!(extract_answer("x=007"), Some("7".into()));
    assert_eq!(extract_answer("-0"), Some("0".into()));
    assert_eq!(extract_answer("no answer"), None);
    assert_eq!(extract_answer(""), None);
    assert_eq!(reward("9750>579", "579"), 1.0);
    assert_eq!(reward("0975>0579", " 579 "), 1.0);
    assert_eq!(reward(">-12", "-12"), 1.0);
    assert_eq!(reward(">12", "-12"), 0.0);
    assert_eq!(reward("5 79", "579"), 0.0); // a space ends a number
    assert_eq!(reward("nothing", "0"), 0.0);
    assert_eq!(reward("so > yes ", "yes"), 1.0); // non-integer answers compare text
}

#[test]
fn worked_answers_are_correct_unless_wrong() {
    let cfg = ArithConfig {
        kinds: vec![Kind::Add, Kind::Sub, Kind::Mul, Kind::Mixed],
        ..Default::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for _ in 0..300 {
        let (p, work) = cfg.train_example(0.0, &mut rng);
        assert_eq!(
            reward(&work, &p.answer),
            1.0,
            "{} {work} ≠ {}",
            p.prompt,
            p.answer
        );
        assert!(!cfg.is_validation(&p.prompt));
        let (p, work) = cfg.train_example(1.0, &mut rng);
        assert_eq!(reward(&work, &p.answer), 0.0, "{} {work}", p.prompt);
    }
    let steps = ArithConfig {
        kinds: vec![Kind::Add],
        add_steps: true,
        ..Default::default()
    };
    for _ in 0..200 {
        let (p, work) = steps.train_example(0.0, &mut rng);
        assert_eq!(reward(&work, &p.answer), 1.0, "{} {work}", p.prompt);
        let (p, work) = steps.train_example(1.0, &mut rng);
        assert_eq!(reward(&work, &p.answer), 0.0, "{} {work}", p.prompt);
    }
    // Example by hand: 123+456 = 579, digits reversed to width 4: "9750".
    let tok = Tok::char_level().unwrap();
    assert!(tok.encode("9750>579").unwrap().len() == 8);
    let v = cfg.validation_problems(50);
    assert_eq!(v, cfg.validation_problems(50));
    assert!(v.iter().all(|p| cfg.is_validation(&p.prompt)));
}

#[test]
fn pass_at_k_estimator() {
    // n = 4, c = 1, k = 2: 1 − C(3,2)/C(4,2) = 1 − 3/6 = 0.5
    assert!((pass_at_k(4, 1, 2) - 0.5).abs() < 1e-12);
    assert_eq!(pass_at_k(8, 0, 8), 0.0);
    assert_eq!(pass_at_k(8, 1, 8), 1.0);
    assert!((pass_at_k(10, 3, 1) - 0.3).abs() < 1e-12);
}

#[test]
fn reads_old_and_new_configs() {
    let old = r#"{"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","vocab_size":32,"hidden_size":16,
        "intermediate_size":32,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,
        "max_position_embeddings":64,"rms_norm_eps":1e-6,"rope_theta":1000000.0,"sliding_window":4096,
        "use_sliding_window":false,"tie_word_embeddings":true,"torch_dtype":"bfloat16","eos_token_id":[3,4]}"#;
    let new = r#"{"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","vocab_size":32,"hidden_size":16,
        "intermediate_size":32,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,
        "max_position_embeddings":64,"rms_norm_eps":1e-6,"rope_parameters":{"rope_type":"default","rope_theta":500000.0},
        "sliding_window":null,"layer_types":["full_attention"],"tie_word_embeddings":false,"dtype":"float32"}"#;
    let d = tmp("cfgs");
    for (name, text, theta) in [("old.json", old, 1e6), ("new.json", new, 5e5)] {
        std::fs::write(d.join(name), text).unwrap();
        let c = Qwen2Config::load(&d.join(name)).unwrap();
        assert_eq!(c.theta(), theta);
    }
}

fn expect_input<T>(r: Result<T, LlmError>, needle: &str) {
    match r {
        Err(e) => {
            assert!(e.is_input(), "not an input error: {e}");
            assert!(
                e.to_string().contains(needle),
                "message `{e}` lacks `{needle}`"
            );
        }
        Ok(_) => panic!("accepted bad input (expected `{needle}`)"),
    }
}

fn write_ck(dir: &Path) {
    let cfg = Qwen2Config::tiny(58, 16, 32, 1, 2, 1);
    let m = Qwen2::init(
        &cfg,
        &Device::Cpu,
        DType::F32,
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap();
    checkpoint::save(dir, &m, &Tok::char_level().unwrap(), None).unwrap();
}

#[test]
fn bad_checkpoints_are_input_errors() {
    let load = |d: &Path| checkpoint::load(d, &Device::Cpu, DType::F32);
    expect_input(
        load(Path::new("/nonexistent/ck")),
        "not a checkpoint directory",
    );
    let d = tmp("bad");
    write_ck(&d);
    assert!(load(&d).is_ok());
    let cfg_text = std::fs::read_to_string(d.join("config.json")).unwrap();

    std::fs::remove_file(d.join("config.json")).unwrap();
    expect_input(load(&d), "config.json");
    std::fs::write(d.join("config.json"), "{ not json").unwrap();
    expect_input(load(&d), "not a valid config");
    std::fs::write(
        d.join("config.json"),
        cfg_text
            .replace("\"qwen2\"", "\"llama\"")
            .replace("Qwen2ForCausalLM", "LlamaForCausalLM"),
    )
    .unwrap();
    expect_input(load(&d), "unknown architecture");
    std::fs::write(
        d.join("config.json"),
        cfg_text.replace("\"intermediate_size\": 32", "\"intermediate_size\": 48"),
    )
    .unwrap();
    expect_input(load(&d), "shape");
    std::fs::write(d.join("config.json"), &cfg_text).unwrap();

    let w = std::fs::read(d.join("model.safetensors")).unwrap();
    std::fs::write(d.join("model.safetensors"), &w[..w.len() / 2]).unwrap();
    expect_input(load(&d), "corrupt");
    std::fs::remove_file(d.join("model.safetensors")).unwrap();
    expect_input(load(&d), "weights file missing");
    write_ck(&d);

    std::fs::write(d.join("tokenizer.json"), "{\"model\": 3}").unwrap();
    expect_input(load(&d), "tokenizer");
    std::fs::remove_file(d.join("tokenizer.json")).unwrap();
    expect_input(load(&d), "tokenizer.json");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_datasets_are_input_errors() {
    let d = tmp("jsonl");
    let p = d.join("x.jsonl");
    std::fs::write(
        &p,
        "{\"prompt\": \"1+1=\", \"answer\": \"2\"}\n\n{\"prompt\": \"2+2=\"}\n",
    )
    .unwrap();
    expect_input(load_jsonl(&p), "line 3");
    std::fs::write(&p, "\n  \n").unwrap();
    expect_input(load_jsonl(&p), "empty dataset");
    std::fs::write(&p, "{\"prompt\": \"1+1=\", \"answer\": \"2\"}\n").unwrap();
    assert_eq!(load_jsonl(&p).unwrap().len(), 1);
    expect_input(load_jsonl(&d.join("missing.jsonl")), "cannot read");
}
