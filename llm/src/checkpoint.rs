//! Checkpoints in the Hugging Face layout: `config.json`,
//! `model.safetensors` (or sharded with `model.safetensors.index.json`),
//! `tokenizer.json`, `generation_config.json`; plus this project's
//! optional `task.json` (the task a checkpoint was trained on, the default
//! of `entropic llm eval`).
use crate::config::Qwen2Config;
use crate::error::{LlmError, Result};
use crate::model::Qwen2;
use crate::tokenizer::Tok;
use candle_core::{DType, Device, Tensor};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// A loaded checkpoint.
pub struct Checkpoint {
    pub model: Qwen2,
    pub tok: Tok,
    /// Contents of `generation_config.json`, if present.
    pub generation: Option<serde_json::Value>,
    /// Contents of `task.json`, if present.
    pub task: Option<serde_json::Value>,
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| LlmError::Io {
        path: path.display().to_string(),
        source: e,
    })
}

/// Sets `path` to mode 0644 (owner writes, everyone reads), the mode of the
/// other files of a results folder: `safetensors::serialize_to_file` writes
/// through a temporary file created 0600, which another user of a shared
/// folder could not read. No-op off Unix.
pub fn readable(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(|e| {
            LlmError::Io {
                path: path.display().to_string(),
                source: e,
            }
        })?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes `model`, `tok` and the generation settings (`eos`, `pad`, `bos`
/// ids) into `dir` (created if needed). Weights go out in the model's dtype
/// with the metadata `format: pt` that transformers expects; a tied
/// `lm_head` is not written.
pub fn save(dir: &Path, model: &Qwen2, tok: &Tok, task: Option<&serde_json::Value>) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| LlmError::Io {
        path: dir.display().to_string(),
        source: e,
    })?;
    model.config().save(&dir.join("config.json"))?;
    let mut tensors: Vec<(String, Tensor)> = model.named_tensors().into_iter().collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    let p = dir.join("model.safetensors");
    safetensors::serialize_to_file(tensors, Some(meta), &p).map_err(|source| {
        LlmError::Safetensors {
            path: p.display().to_string(),
            source,
        }
    })?;
    readable(&p)?;
    tok.save(dir)?;
    let c = model.config();
    let gen = serde_json::json!({"bos_token_id": c.bos_token_id, "eos_token_id": c.eos_token_id,
        "pad_token_id": c.pad_token_id, "do_sample": true, "temperature": 1.0, "top_p": 1.0});
    write(
        &dir.join("generation_config.json"),
        &serde_json::to_string_pretty(&gen).unwrap_or_default(),
    )?;
    if let Some(t) = task {
        write(
            &dir.join("task.json"),
            &serde_json::to_string_pretty(t).unwrap_or_default(),
        )?;
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Option<serde_json::Value>> {
    if !path.exists() {
        return Ok(None);
    }
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| LlmError::input(&file, format!("cannot read: {e}")))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| LlmError::input(&file, format!("invalid JSON: {e}")))
}

/// Reads every weight tensor of `dir` (single file or shards).
fn load_weights(dir: &Path, device: &Device) -> Result<(HashMap<String, Tensor>, String)> {
    let single = dir.join("model.safetensors");
    let index = dir.join("model.safetensors.index.json");
    let files: Vec<std::path::PathBuf> = if single.exists() {
        vec![single]
    } else if let Some(ix) = read_json(&index)? {
        let map = ix
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| {
                LlmError::input(index.display().to_string(), "no `weight_map` object")
            })?;
        let names: BTreeSet<&str> = map.values().filter_map(|v| v.as_str()).collect();
        names.into_iter().map(|n| dir.join(n)).collect()
    } else {
        return Err(LlmError::input(
            single.display().to_string(),
            "weights file missing",
        ));
    };
    let mut all = HashMap::new();
    for f in &files {
        let file = f.display().to_string();
        let bytes =
            std::fs::read(f).map_err(|e| LlmError::input(&file, format!("cannot read: {e}")))?;
        let t = candle_core::safetensors::load_buffer(&bytes, device)
            .map_err(|e| LlmError::input(&file, format!("corrupt safetensors: {e}")))?;
        all.extend(t);
    }
    let name = files
        .first()
        .map(|f| f.display().to_string())
        .unwrap_or_default();
    Ok((all, name))
}

/// Checks, without reading any weights, that `dir` holds what [`load`]
/// needs: a folder with a valid `config.json`, a `tokenizer.json`, and the
/// weights (`model.safetensors` or its index). For refusing a bad `--model`
/// before any work is done or any folder made; [`load`] still checks every
/// file's contents.
pub fn check_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(LlmError::input(
            dir.display().to_string(),
            "not a checkpoint directory",
        ));
    }
    Qwen2Config::load(&dir.join("config.json"))?;
    let tok = dir.join("tokenizer.json");
    if !tok.is_file() {
        return Err(LlmError::input(
            tok.display().to_string(),
            "tokenizer file missing",
        ));
    }
    if !dir.join("model.safetensors").is_file()
        && !dir.join("model.safetensors.index.json").is_file()
    {
        return Err(LlmError::input(
            dir.join("model.safetensors").display().to_string(),
            "weights file missing",
        ));
    }
    Ok(())
}

/// Loads a checkpoint directory (this project's or one written by
/// transformers, e.g. a real Qwen2/Qwen2.5 model) onto `device` in `dtype`.
/// Anything missing, corrupt or inconsistent is an input error naming the file.
pub fn load(dir: &Path, device: &Device, dtype: DType) -> Result<Checkpoint> {
    if !dir.is_dir() {
        return Err(LlmError::input(
            dir.display().to_string(),
            "not a checkpoint directory",
        ));
    }
    let cfg = Qwen2Config::load(&dir.join("config.json"))?;
    let tok = Tok::load(&dir.join("tokenizer.json"))?;
    let (tensors, file) = load_weights(dir, device)?;
    let model = Qwen2::from_tensors(&cfg, &tensors, device, dtype, &file)?;
    Ok(Checkpoint {
        model,
        tok,
        generation: read_json(&dir.join("generation_config.json"))?,
        task: read_json(&dir.join("task.json"))?,
    })
}

/// Stop tokens of a checkpoint: `eos_token_id` of the generation config,
/// else of the model config (a number or a list).
pub fn stop_tokens(ck: &Checkpoint) -> Vec<u32> {
    let from = |v: Option<&serde_json::Value>| -> Vec<u32> {
        match v {
            Some(serde_json::Value::Number(n)) => {
                n.as_u64().map(|x| vec![x as u32]).unwrap_or_default()
            }
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as u32)
                .collect(),
            _ => vec![],
        }
    };
    let g = from(ck.generation.as_ref().and_then(|g| g.get("eos_token_id")));
    if !g.is_empty() {
        return g;
    }
    from(ck.model.config().eos_token_id.as_ref())
}

#[cfg(test)]
mod check_dir_tests {
    use super::check_dir;
    use crate::config::Qwen2Config;

    /// Each missing piece is named, in the order `load` would meet it.
    #[test]
    fn check_dir_names_what_is_missing() {
        let d = std::env::temp_dir().join(format!("entropic-check-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let e = check_dir(&d).unwrap_err().to_string();
        assert!(e.contains("not a checkpoint directory"), "{e}");
        std::fs::create_dir_all(&d).unwrap();
        assert!(check_dir(&d)
            .unwrap_err()
            .to_string()
            .contains("config.json"));
        Qwen2Config::tiny(48, 32, 64, 1, 2, 1)
            .save(&d.join("config.json"))
            .unwrap();
        let e = check_dir(&d).unwrap_err().to_string();
        assert!(e.contains("tokenizer file missing"), "{e}");
        std::fs::write(d.join("tokenizer.json"), "{}").unwrap();
        let e = check_dir(&d).unwrap_err().to_string();
        assert!(e.contains("weights file missing"), "{e}");
        std::fs::write(d.join("model.safetensors"), b"").unwrap();
        check_dir(&d).unwrap();
        let _ = std::fs::remove_dir_all(&d);
    }
}
