//! Checkpoints of a GRPO run and exact resume.
//!
//! Layout of `--out`: `metrics.jsonl` (one record per step), `latest` (the
//! name of the newest complete checkpoint directory) and `ckpt-NNNNNN/`
//! (NNNNNN = steps completed): a Hugging Face checkpoint of the policy
//! (loadable by `entropic llm eval`), `optimizer.safetensors` (AdamW
//! moments and step) and `state.json` ([`TrainState`]: config, controller,
//! RNGs, data position, lagged rollouts).
//!
//! Atomicity: a checkpoint is written into `.ckpt-NNNNNN.tmp/`, renamed to
//! `ckpt-NNNNNN/`, then `latest` is replaced by rename, then older
//! checkpoints are deleted. Resume takes the newest complete `ckpt-*`
//! directory, whatever `latest` says (a kill between the rename and the
//! `latest` write loses nothing); `latest` is for people and scripts. A
//! kill at any point leaves either a complete checkpoint or none (a fresh
//! start).
use super::rollout::Rollout;
use crate::checkpoint;
use crate::error::{LlmError, Result};
use crate::model::Qwen2;
use crate::optim::AdamW;
use crate::tokenizer::Tok;
use entropic_sim::control::Controller;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Everything besides weights and optimizer moments that a resumed run needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainState {
    /// Steps completed (the next step to run).
    pub step: usize,
    /// The run's config as JSON (compared key by key on resume).
    pub config: serde_json::Value,
    /// The base checkpoint directory the run started from (`--model`).
    pub base: String,
    /// Controller (EntroPIC integral, probe clock, peer coefficients).
    pub controller: Controller,
    /// RNG of the prompt draws and of the loss (clip_cov). Sampling draws
    /// are keyed by the rollout ordinal (`prompts_drawn / batch_prompts`)
    /// and keep no state.
    pub data_rng: ChaCha8Rng,
    pub loss_rng: ChaCha8Rng,
    /// Prompts drawn so far (the data position; the RNG fixes which).
    pub prompts_drawn: u64,
    /// Rollouts sampled but not yet trained on (lag > 0), oldest first.
    pub queue: Vec<Rollout>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LlmError + '_ {
    move |e| LlmError::Io {
        path: path.display().to_string(),
        source: e,
    }
}

/// Writes `text` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(text.as_bytes()).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Name of the checkpoint directory after `step` completed steps.
pub fn ckpt_name(step: usize) -> String {
    format!("ckpt-{step:06}")
}

/// Writes a checkpoint of `model`, `opt` and `state` under `out` atomically
/// and deletes the older ones. Returns its directory.
pub fn save(
    out: &Path,
    model: &Qwen2,
    tok: &Tok,
    task: &serde_json::Value,
    opt: &AdamW,
    state: &TrainState,
) -> Result<PathBuf> {
    let name = ckpt_name(state.step);
    let tmp = out.join(format!(".{name}.tmp"));
    let dir = out.join(&name);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    checkpoint::save(&tmp, model, tok, Some(task))?;
    opt.save(&tmp.join("optimizer.safetensors"))?;
    let text = serde_json::to_string(state)?;
    write_atomic(&tmp.join("state.json"), &text)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    std::fs::rename(&tmp, &dir).map_err(io(&dir))?;
    write_atomic(&out.join("latest"), &name)?;
    for e in std::fs::read_dir(out).map_err(io(out))?.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if n.starts_with("ckpt-") && n != name {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    Ok(dir)
}

/// The newest complete checkpoint under `out`, if any: (directory, state).
/// Leftover temporary directories of a killed save are removed.
pub fn find(out: &Path) -> Result<Option<(PathBuf, TrainState)>> {
    if let Ok(rd) = std::fs::read_dir(out) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with(".ckpt-") && n.ends_with(".tmp") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    // Newest first. A `ckpt-NNNNNN/` only ever appears by renaming a
    // complete temporary directory, so `latest` (written after the rename)
    // is not needed to find it: a kill between the rename and `latest`
    // must not lose the checkpoint. The file check guards against a
    // directory half deleted by a kill during the clean-up of old ones.
    let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(out)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().to_string();
                    let step = n.strip_prefix("ckpt-")?.parse::<usize>().ok()?;
                    Some((step, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    let complete = |d: &Path| {
        [
            "state.json",
            "optimizer.safetensors",
            "model.safetensors",
            "config.json",
            "tokenizer.json",
        ]
        .iter()
        .all(|f| d.join(f).is_file())
    };
    let Some((_, dir)) = found.into_iter().find(|(_, d)| complete(d)) else {
        return Ok(None);
    };
    let sp = dir.join("state.json");
    let file = sp.display().to_string();
    let text = std::fs::read_to_string(&sp)
        .map_err(|e| LlmError::input(&file, format!("cannot read: {e}")))?;
    let state: TrainState = serde_json::from_str(&text)
        .map_err(|e| LlmError::input(&file, format!("corrupt state: {e}")))?;
    Ok(Some((dir, state)))
}

/// Keeps the records of `metrics` with `step < keep` (dropping any partial
/// line a kill left), rewriting the file atomically; creates it empty if absent.
pub fn truncate_metrics(metrics: &Path, keep: usize) -> Result<usize> {
    let text = std::fs::read_to_string(metrics).unwrap_or_default();
    let mut out = String::new();
    let mut n = 0;
    for line in text.lines() {
        let step = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("step").and_then(|s| s.as_u64()));
        if let Some(s) = step {
            if (s as usize) < keep {
                out.push_str(line);
                out.push('\n');
                n += 1;
            }
        }
    }
    write_atomic(metrics, &out)?;
    Ok(n)
}
