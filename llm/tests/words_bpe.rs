//! The `words` task style and the trained BPE tokenizer of the LLM-like
//! base (scenarios/llm-base.toml): format, reward, split, tokenizer round
//! trip, digits as single tokens, BOS added as the model expects,
//! determinism, and bad config values.
use candle_core::{DType, Device};
use entropic_llm::checkpoint;
use entropic_llm::pretrain::{build_tokenizer, LlmScenario};
use entropic_llm::tasks::{reward, ArithConfig, Style};
use entropic_llm::tokenizer::{TokKind, TokenizerConfig};
use entropic_llm::{words, LlmError, Qwen2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

fn base() -> LlmScenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/llm-base.toml");
    LlmScenario::load(&p).expect("scenarios/llm-base.toml loads")
}

/// The base scenario with a tokenizer small enough to train in a test
/// (same task, same pre-tokenizer and post-processor; fewer merges).
fn small() -> LlmScenario {
    let mut sc = base();
    sc.tokenizer = TokenizerConfig {
        kind: TokKind::Bpe,
        vocab_size: 300,
        min_frequency: 20,
        corpus: 2_000,
    };
    sc
}

#[test]
fn words_answers_are_scored_by_reward_and_split_by_problem() {
    let cfg = base().task;
    assert_eq!(cfg.style, Style::Words);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for _ in 0..300 {
        let (p, work) = cfg.train_example(0.0, &mut rng);
        assert_eq!(reward(&work, &p.answer), 1.0, "{} {work}", p.prompt);
        assert!(!cfg.is_validation(&p.prompt));
        assert!(
            p.prompt.chars().any(|c| c.is_ascii_alphabetic()),
            "{}",
            p.prompt
        );
        let (p, work) = cfg.train_example(1.0, &mut rng);
        assert_eq!(reward(&work, &p.answer), 0.0, "{} {work}", p.prompt);
    }
    // Every phrasing of one problem is on the symbol style's side of the split.
    let sym = ArithConfig {
        style: Style::Symbols,
        ..cfg.clone()
    };
    for p in cfg.validation_problems(50) {
        let nums: Vec<&str> = p
            .prompt
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .collect();
        assert!(
            sym.is_validation(&format!("{}+{}=", nums[0], nums[1])),
            "{}",
            p.prompt
        );
    }
    // Same seed, same examples.
    let draw = |seed| {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        (0..20)
            .map(|_| cfg.train_example(0.4, &mut r))
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(7), draw(7));
    assert_ne!(draw(7), draw(8));
}

#[test]
fn bpe_tokenizer_round_trips_splits_digits_and_is_deterministic() {
    let sc = small();
    let tok = build_tokenizer(&sc).expect("train");
    assert_eq!(tok.vocab_size(), 300);
    for (i, s) in ["<pad>", "<s>", "</s>", "<unk>"].iter().enumerate() {
        assert_eq!(tok.id(s), Some(i as u32));
    }
    // No token mixes a digit with anything else.
    for id in 0..tok.vocab_size() as u32 {
        let t = tok.token(id);
        if t.chars().any(|c| c.is_ascii_digit()) {
            assert_eq!(t.chars().count(), 1, "token {id} = {t:?}");
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut long = 0;
    for _ in 0..200 {
        let (p, work) = sc.task.train_example(0.4, &mut rng);
        for t in [&p.prompt, &work] {
            let ids = tok.encode(t).expect("encode");
            assert_eq!(&tok.decode(&ids).expect("decode"), t);
        }
        long += (tok.encode(&work).expect("encode").len() >= 32) as usize;
    }
    assert_eq!(long, 200, "responses of at least 32 tokens");
    // Same config, same tokenizer (byte for byte once saved).
    let save = |t: &entropic_llm::Tok, name: &str| {
        let d = entropic_sim::scratch::Scratch::created(name);
        t.save(&d).expect("save");
        std::fs::read(d.join("tokenizer.json")).expect("read")
    };
    let again = build_tokenizer(&sc).expect("train again");
    assert_eq!(save(&tok, "bpe-a"), save(&again, "bpe-b"));
}

/// transformers' tokenizers encode with special tokens by default: our
/// saved tokenizer.json then gives config.json's `bos_token_id` followed by
/// exactly the ids `Tok::encode` gives (which callers prefix with BOS).
#[test]
fn saved_tokenizer_adds_bos_as_the_model_expects() {
    let sc = small();
    let tok = build_tokenizer(&sc).expect("train");
    let mut cfg = sc.model_config(tok.vocab_size());
    cfg.hidden_size = 16;
    cfg.intermediate_size = 32;
    cfg.num_hidden_layers = 1;
    cfg.num_attention_heads = 2;
    cfg.num_key_value_heads = Some(1);
    cfg.bos_token_id = tok.id("<s>");
    cfg.eos_token_id = tok.id("</s>").map(Into::into);
    cfg.pad_token_id = tok.id("<pad>");
    let model = Qwen2::init(
        &cfg,
        &Device::Cpu,
        DType::F32,
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .expect("init");
    let d = entropic_sim::scratch::Scratch::created("bpe-bos");
    checkpoint::save(&d, &model, &tok, None).expect("save");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).expect("config"))
            .expect("json");
    let bos = config["bos_token_id"].as_u64().expect("bos_token_id") as u32;
    let hf = tokenizers::Tokenizer::from_file(d.join("tokenizer.json")).expect("load");
    for text in ["What is 12 plus 34?", " In the ones column, 2 plus 4 is 6."] {
        let with = hf.encode(text, true).expect("encode").get_ids().to_vec();
        let ours = tok.encode(text).expect("encode");
        assert_eq!(with[0], bos, "{text}");
        assert_eq!(&with[1..], &ours[..], "{text}");
        assert_eq!(hf.encode(text, false).expect("encode").get_ids(), &ours[..]);
    }
}

fn expect_input(text: &str, needles: &[&str]) {
    let d = entropic_sim::scratch::Scratch::created("bad-base");
    let p = d.join("bad.toml");
    std::fs::write(&p, text).expect("write");
    match LlmScenario::load(&p) {
        Err(e @ LlmError::Input { .. }) => {
            let m = e.to_string();
            assert!(m.contains("bad.toml"), "{m}");
            for n in needles {
                assert!(m.contains(n), "{n} not in {m}");
            }
            assert_eq!(m.lines().count(), 1, "{m}");
        }
        other => panic!("{text}: expected an input error, got {:?}", other.err()),
    }
}

#[test]
fn bad_words_and_tokenizer_values_are_input_errors() {
    expect_input(
        "[task]\nstyle = \"words\"\nkinds = [\"add\", \"sub\"]\n",
        &["task.kinds", "words"],
    );
    expect_input(
        "[task]\nstyle = \"words\"\nkinds = [\"add\"]\ndigits = 7\n",
        &["task.digits", "1..=6"],
    );
    expect_input(
        "[task]\nsubst_rate = 0.9\n",
        &["task.subst_rate", "[0, 0.5]"],
    );
    expect_input("[task]\nzipf = -1.0\n", &["task.zipf", "[0, 10]"]);
    expect_input("[task]\nstyle = \"prose\"\n", &["style"]);
    expect_input(
        "[tokenizer]\nkind = \"bpe\"\nvocab_size = 10\n",
        &["tokenizer.vocab_size", "64..=65536"],
    );
    expect_input(
        "[tokenizer]\nmin_frequency = 0\n",
        &["tokenizer.min_frequency"],
    );
    expect_input("[tokenizer]\ncorpus = 0\n", &["tokenizer.corpus"]);
    expect_input("[tokenizer]\nmerges = 3\n", &["merges"]);
}

/// A corpus too small for the vocabulary asked is an error, not a smaller
/// vocabulary handed on.
#[test]
fn too_small_a_corpus_fails_the_tokenizer() {
    let mut sc = small();
    sc.tokenizer.corpus = 50;
    sc.tokenizer.min_frequency = 100;
    match build_tokenizer(&sc) {
        Err(e) => assert!(e.to_string().contains("vocab_size 300"), "{e}"),
        Ok(t) => panic!("vocab {} handed on", t.vocab_size()),
    }
}

/// Correct worked answers state the sum and the reward reads it; wrong
/// ones state another number and get reward 0.
#[test]
fn worked_answers_are_scored_by_their_last_integer() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for i in 0..500 {
        let (a, b) = (100 + (i * 37) % 900, 100 + (i * 91) % 900);
        let (t, v) = words::worked(a, b, 3, false, 1.0, 0.05, &mut rng);
        assert_eq!(v, a + b, "{t}");
        assert_eq!(reward(&t, &(a + b).to_string()), 1.0, "{t}");
        let (w, v) = words::worked(a, b, 3, true, 1.0, 0.05, &mut rng);
        assert_ne!(v, a + b, "{w}");
        assert_eq!(reward(&w, &(a + b).to_string()), 0.0, "{w}");
        assert_eq!(reward(&w, &v.to_string()), 1.0, "{w}");
    }
}
