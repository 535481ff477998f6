//! The shared `metrics.jsonl` schema: the toy (`entropic_sim::grpo`) and the
//! LLM trainer fill the controller's fields by one rule
//! (`entropic_sim::metrics::controller_fields`), so an arm of each kind
//! carries the same keys on both, apart from the fields only one trainer can
//! measure (docs/metrics.md).
use candle_core::{DType, Device};
use entropic_llm::grpo::config::GrpoFile;
use entropic_llm::grpo::GrpoTrainer;
use entropic_llm::pretrain::{pretrain, LlmScenario};
use entropic_sim::control::Method;
use entropic_sim::grpo::Trainer;
use entropic_sim::scenario::parse;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Keys only one trainer can fill: the toy's exact pass rate; the LLM's
/// validation pass rate, timing, and `entropy_exact` (exact every step on
/// the toy, a fresh-sample estimate on validation steps on the LLM); the
/// entropy composition `hp_entropy_share` and `tail_mass_hp` is written by
/// both but absent on a step where it is undefined (no HP token), so it is
/// compared only where present.
const TRAINER_SPECIFIC: [&str; 8] = [
    "pass_rate",
    "hp_entropy_share",
    "tail_mass_hp",
    "val_pass_at_1",
    "sample_tokens_per_s",
    "train_tokens_per_s",
    "seconds",
    "entropy_exact",
];

fn keys(r: &entropic_sim::metrics::Record) -> BTreeSet<String> {
    let v = serde_json::to_value(r).unwrap();
    v.as_object()
        .unwrap()
        .keys()
        .filter(|k| !TRAINER_SPECIFIC.contains(&k.as_str()))
        .cloned()
        .collect()
}

fn smoke_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/llm-smoke.toml")
}

/// The `[control]` table of each arm kind, as TOML lines.
const KINDS: [(&str, &str); 5] = [
    ("grpo", "method = \"none\"\ntarget = 0.3"),
    (
        "entropic",
        "method = \"entropic\"\ntarget = 0.3\nkp = 1.0\nki = 0.01",
    ),
    (
        "probe",
        "method = \"probe\"\ntarget = 0.3\nprobe = [[1, 0.5], [1, -0.5]]",
    ),
    (
        "entropy_bonus",
        "method = \"entropy_bonus\"\nentropy_coef = 0.01",
    ),
    (
        "adaptive_entropy",
        "method = \"adaptive_entropy\"\ntarget = 0.3",
    ),
];

fn toy_keys(control: &str) -> Vec<BTreeSet<String>> {
    let text = format!(
        "[bandit]\npolicy = \"sequence\"\nprompts = 4\nactions = 6\nlength = 4\nforks = 1\n\
         [grpo]\ngroup_size = 4\nbatch_prompts = 4\nkl_coef = 0.001\n[control]\n{control}\n"
    );
    let sc = parse("schema.toml", "schema", &text).expect("toy scenario");
    let rc = &sc.runs[0];
    let mut tr = Trainer::new(&rc.bandit, &rc.grpo, &rc.control, 3, "a");
    (0..2).map(|_| keys(&tr.step(true).unwrap())).collect()
}

#[test]
fn toy_and_llm_records_carry_the_same_shared_keys_for_each_arm_kind() {
    let scratch = entropic_sim::scratch::Scratch::created("schema");
    let base = scratch.join("base");
    let sc = LlmScenario::load(&smoke_path()).unwrap();
    pretrain(&sc, &base, false).unwrap();
    let text = std::fs::read_to_string(smoke_path()).unwrap();
    let head = &text[..text.find("[control]").unwrap()];
    let mut with_hp = 0;
    for (name, control) in KINDS {
        let cfg = GrpoFile::parse("schema.toml", &format!("{head}[control]\n{control}\n"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            cfg.control.method == Method::None,
            name == "grpo",
            "{name}: the method parsed"
        );
        let out = scratch.join(name);
        let (mut t, _) =
            GrpoTrainer::open(cfg, "schema.toml", &base, &out, &Device::Cpu, DType::F32).unwrap();
        let mut llm = Vec::new();
        let mut raw = Vec::new();
        t.run(Some(2), &mut |r| {
            llm.push(keys(r));
            raw.push(r.clone());
        })
        .unwrap();
        // the LLM writes the entropy composition wherever HP tokens exist
        for r in &raw {
            if r.hp_frac.is_some_and(|f| f > 0.0) {
                with_hp += 1;
                let share = r.hp_entropy_share.expect("hp_entropy_share with HP tokens");
                let tail = r.tail_mass_hp.expect("tail_mass_hp with HP tokens");
                assert!((0.0..=1.0).contains(&share), "{name}: share {share}");
                assert!((0.0..1.0).contains(&tail), "{name}: tail {tail}");
            }
        }
        let toy = toy_keys(control);
        assert_eq!(llm.len(), 2, "{name}: two LLM records");
        assert_eq!(toy, llm, "{name}: toy and LLM keys differ");
        // the presence rule itself, on the keys both share
        let k = &toy[0];
        // every kind here has a target: plain GRPO's is given (0.3), the
        // controlled methods carry theirs (entropy_bonus: the default 0.1)
        assert!(k.contains("target") && k.contains("error"), "{name}: {k:?}");
        assert_eq!(
            k.contains("alpha"),
            matches!(name, "entropic" | "probe"),
            "{name}"
        );
        assert_eq!(
            k.contains("integral"),
            matches!(name, "entropic" | "probe"),
            "{name}"
        );
        assert_eq!(
            k.contains("coef"),
            matches!(name, "entropy_bonus" | "adaptive_entropy"),
            "{name}"
        );
    }
    assert!(
        with_hp > 0,
        "no LLM record had HP tokens: the composition check ran on nothing"
    );
}
