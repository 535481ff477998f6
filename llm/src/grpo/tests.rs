//! π_old as the authors define it (docs/mathematics.md §7): recomputed by
//! a training-path forward pass once per rollout batch, before the first
//! minibatch update.
use super::GrpoTrainer;
use crate::grpo::config::{GrpoFile, OldLogp};
use crate::pretrain::{pretrain, LlmScenario};
use candle_core::{DType, Device};
use std::path::{Path, PathBuf};

fn smoke_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/llm-smoke.toml")
}

/// The smoke config on-policy (lag 0) with `minibatches` minibatches, one
/// epoch, π_old recomputed, on a base model pretrained (~1 s) into the
/// returned scratch folder.
fn trainer(minibatches: usize, name: &str) -> (GrpoTrainer, entropic_sim::scratch::Scratch) {
    let mut cfg = GrpoFile::load(&smoke_path()).unwrap();
    cfg.grpo.lag = 0;
    cfg.grpo.ppo_epochs = 1;
    cfg.grpo.minibatches = minibatches;
    cfg.grpo.old_logp = OldLogp::Recompute;
    let out = entropic_sim::scratch::Scratch::created(name);
    let base = out.join("base");
    let sc = LlmScenario::load(&smoke_path()).unwrap();
    pretrain(&sc, &base, false).unwrap();
    let run = out.join("run");
    let (tr, _) =
        GrpoTrainer::open(cfg, "llm-smoke.toml", &base, &run, &Device::Cpu, DType::F32).unwrap();
    (tr, out)
}

/// One minibatch, one epoch: the recomputed π_old (a training-path forward
/// pass under the parameters that sampled the batch) equals the rollout's
/// behaviour log-probs within f32 rounding, so the step's only update sees
/// ratio 1; the trainer does not repeat that pass at lag 0.
#[test]
fn recomputed_old_logp_equals_the_samplers_on_policy() {
    let (mut tr, _out) = trainer(1, "oldlogp-one");
    let (batch, _, _) = tr.rollout().unwrap();
    let re = tr.recompute_old_logp(&batch).unwrap();
    assert_eq!(re.len(), batch.seqs.len());
    let mut max = 0.0f64;
    for (r, s) in re.iter().zip(&batch.seqs) {
        assert_eq!(r.len(), s.logp_old.len());
        for (a, b) in r.iter().zip(&s.logp_old) {
            max = max.max((a - b).abs());
        }
    }
    assert!(max <= 1e-5, "max |Δ log π_old| = {max}");
    assert!(tr.old_logp_for(&batch).unwrap().is_none());
    let (_, _, devs) = tr.train(&batch, None).unwrap();
    assert_eq!(devs.len(), 1);
    assert!(
        devs[0] <= 1e-5,
        "first update's mean |ratio − 1| = {}",
        devs[0]
    );
}

/// Two minibatches: the first update moves the parameters, so on the
/// second minibatch π_θ ≠ π_old and the ratio leaves 1 (π_old is not
/// recomputed between minibatches). Advantages are set to ±1 so the first
/// update has a gradient whatever the sampled rewards.
#[test]
fn second_minibatch_ratio_is_not_one() {
    let (mut tr, _out) = trainer(2, "oldlogp-two");
    let (mut batch, _, _) = tr.rollout().unwrap();
    assert!(batch.groups() >= 2);
    for (i, s) in batch.seqs.iter_mut().enumerate() {
        s.adv = if i % 2 == 0 { 1.0 } else { -1.0 };
    }
    let (_, _, devs) = tr.train(&batch, None).unwrap();
    assert_eq!(devs.len(), 2);
    assert!(devs[0] <= 1e-5, "first minibatch: {}", devs[0]);
    assert!(
        devs[1] > 1e-4 && devs[1] > 10.0 * devs[0],
        "second minibatch's mean |ratio − 1| = {} (first {})",
        devs[1],
        devs[0]
    );
}

/// With a lag the batch was sampled by older parameters: `recompute` gives
/// π_old under the current ones (here, after one training step, different
/// from the behaviour's), `sampler` keeps the behaviour's.
#[test]
fn with_a_lag_recompute_differs_from_the_sampler() {
    let (mut tr, _out) = trainer(1, "oldlogp-lag");
    tr.cfg.grpo.lag = 1;
    let (mut batch, _, _) = tr.rollout().unwrap();
    for (i, s) in batch.seqs.iter_mut().enumerate() {
        s.adv = if i % 2 == 0 { 1.0 } else { -1.0 };
    }
    tr.train(&batch, None).unwrap();
    tr.step += 1; // the batch is now one step old
    let re = tr.old_logp_for(&batch).unwrap().expect("recomputed");
    let max = re
        .iter()
        .zip(&batch.seqs)
        .flat_map(|(r, s)| r.iter().zip(&s.logp_old).map(|(a, b)| (a - b).abs()))
        .fold(0.0f64, f64::max);
    assert!(max > 1e-4, "max |Δ log π_old| = {max}");
    tr.cfg.grpo.old_logp = OldLogp::Sampler;
    assert!(tr.old_logp_for(&batch).unwrap().is_none());
}
