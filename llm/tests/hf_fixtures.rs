//! Checkpoints written by Hugging Face transformers load here with the same
//! logits. The fixtures under `tests/fixtures/` were written by
//! `scripts/hf-check.py --write-fixtures` (transformers' `save_pretrained`
//! on a random-initialised `Qwen2ForCausalLM`, every weight and bias drawn
//! at random); each holds `expected.json`, transformers' f32 logits on a
//! fixed text. `untied-current` keeps the config exactly as transformers
//! wrote it (`rope_parameters`, `sliding_window: null`); `tied-old` has
//! tied embeddings and the old config layout (top-level `rope_theta`,
//! integer `sliding_window`). `bpe-small` has a byte-level BPE tokenizer
//! trained by the `tokenizers` library with Qwen2's pre-tokenizer and a
//! post-processor that adds BOS; its `expected.json` also gives the ids
//! transformers' `AutoTokenizer` produces for each prompt of its
//! `prompts.jsonl` (BOS included), which entropic must reproduce.

use candle_core::{DType, Device, Tensor};
use entropic_llm::checkpoint;
use std::path::PathBuf;

#[derive(serde::Deserialize)]
struct Expected {
    ids: Vec<u32>,
    logits: Vec<Vec<f32>>,
    transformers: String,
    #[serde(default)]
    prompts: Vec<PromptIds>,
}

#[derive(serde::Deserialize)]
struct PromptIds {
    prompt: String,
    ids: Vec<u32>,
}

fn check(name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let exp: Expected = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("parse expected.json");
    let ck = checkpoint::load(&dir, &Device::Cpu, DType::F32).expect("load fixture");
    // entropic's prompt ids: the config's BOS, then the text without
    // special tokens (as `diagnose`, `eval` and GRPO build them)
    let bos = ck.model.config().bos_token_id;
    for p in &exp.prompts {
        let ours: Vec<u32> = bos
            .iter()
            .copied()
            .chain(ck.tok.encode(&p.prompt).unwrap())
            .collect();
        assert_eq!(ours, p.ids, "{name}: ids of {:?}", p.prompt);
    }
    let l = exp.ids.len();
    let ids = Tensor::from_vec(exp.ids.clone(), (1, l), &Device::Cpu).unwrap();
    let mask = Tensor::ones((1, l), DType::U32, &Device::Cpu).unwrap();
    for fused in [false, true] {
        let logits: Vec<Vec<f32>> = ck
            .model
            .forward_masked(&ids, &mask, fused)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2()
            .unwrap();
        assert_eq!(exp.logits.len(), l - 1, "{name}: expected rows");
        let mut worst = 0f32;
        for (a, b) in logits.iter().zip(&exp.logits) {
            assert_eq!(a.len(), b.len(), "{name}: vocabulary size");
            for (x, y) in a.iter().zip(b) {
                worst = worst.max((x - y).abs());
            }
        }
        // the logits are O(1..10) here (random weights), so a mis-loaded
        // tensor, a wrong RoPE base or a dropped bias moves them by far more
        assert!(
            worst <= 1e-4,
            "{name} (transformers {}): max |Δlogit| {worst:e} > 1e-4 (fused {fused})",
            exp.transformers
        );
    }
}

#[test]
fn transformers_checkpoint_current_layout_untied_gives_same_logits() {
    check("untied-current");
}

#[test]
fn transformers_checkpoint_old_layout_tied_gives_same_logits() {
    check("tied-old");
}

#[test]
fn transformers_checkpoint_with_bpe_tokenizer_gives_same_ids_and_logits() {
    check("bpe-small");
}

/// The BPE fixture's checks are not vacuous: it has prompts, and its
/// tokenizer merges (fewer ids than bytes) and adds BOS in transformers.
#[test]
fn bpe_fixture_has_merged_prompts_with_bos() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bpe-small");
    let exp: Expected =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let ck = checkpoint::load(&dir, &Device::Cpu, DType::F32).unwrap();
    let bos = ck
        .model
        .config()
        .bos_token_id
        .expect("config has bos_token_id");
    assert!(exp.prompts.len() >= 4);
    assert!(exp.prompts.iter().all(|p| p.ids.first() == Some(&bos)));
    let bytes: usize = exp.prompts.iter().map(|p| p.prompt.len()).sum();
    let ids: usize = exp.prompts.iter().map(|p| p.ids.len() - 1).sum();
    assert!(ids < bytes, "{ids} ids for {bytes} bytes: no merge");
}
