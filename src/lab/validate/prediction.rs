//! `prediction.json`: the base model's diagnosis, its place on the regime
//! map and what the nearest cell predicts, written before the first arm
//! runs and never rewritten (a resumed validation keeps the prediction it
//! started with; docs/llm-validation.md).
use super::design::sigma_m;
use super::preset::PresetFile;
use crate::lab::diagnose::{committed_map, model_features, place, predict, GainSpec};
use anyhow::{anyhow, Context, Result};
use candle_core::{DType, Device};
use entropic_llm::checkpoint::{self, stop_tokens};
use entropic_llm::diagnose::{measure, MeasureConfig};
use entropic_llm::eval::problem_set;
use entropic_sim::report::write_atomic;
use std::collections::BTreeMap;
use std::path::Path;

/// What the validation reads back from `prediction.json`.
#[derive(Debug, Clone)]
pub struct Predicted {
    /// The whole file.
    pub json: serde_json::Value,
    /// Measurement noise of one validation entropy (the design's `σ_m`).
    pub sigma_m: f64,
    /// Predicted outcome class per PI arm of the nearest cell.
    pub outcomes: BTreeMap<String, String>,
    /// Predicted `g/|b|`.
    pub g_over_abs_b: Option<f64>,
}

impl Predicted {
    fn from_json(json: serde_json::Value) -> Result<Self> {
        let sigma_m = json
            .get("sigma_m")
            .and_then(|v| v.as_f64())
            .ok_or_else(|| anyhow!("prediction.json: no `sigma_m`"))?;
        let p = json.get("prediction");
        let outcomes = p
            .and_then(|p| p.get("outcomes"))
            .and_then(|o| o.as_object())
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let g_over_abs_b = p
            .and_then(|p| p.get("g_over_abs_b"))
            .and_then(|v| v.as_f64());
        Ok(Predicted {
            json,
            sigma_m,
            outcomes,
            g_over_abs_b,
        })
    }
}

/// Reads `path` when it exists; else diagnoses `base` on the preset's
/// validation prompts at the rollout temperature, places it on the map,
/// writes the prediction and returns it.
pub fn load_or_write(
    path: &Path,
    pf: &PresetFile,
    base: &Path,
    device: &Device,
    dtype: DType,
) -> Result<Predicted> {
    if let Ok(t) = std::fs::read_to_string(path) {
        let json: serde_json::Value =
            serde_json::from_str(&t).with_context(|| format!("reading {}", path.display()))?;
        return Predicted::from_json(json);
    }
    let v = &pf.validate;
    let g = &pf.grpo.grpo;
    let ck = checkpoint::load(base, device, dtype)?;
    let probs = problem_set(&ck.task, None, v.diagnose_prompts)?;
    let stop = stop_tokens(&ck);
    let pad = ck.model.config().pad_id(&stop);
    let cfg = MeasureConfig {
        temperature: g.temperature,
        samples: v.diagnose_samples,
        max_new_tokens: g.max_new_tokens,
        batch: g.sample_batch.max(1),
        tau: pf.grpo.control.tau,
        seed: pf.scenario.seed,
        stop,
        pad_id: pad,
    };
    let prompts: Vec<String> = probs.iter().map(|p| p.prompt.clone()).collect();
    let answers: Vec<String> = probs.iter().map(|p| p.answer.clone()).collect();
    let d = measure(&ck.model, &ck.tok, &prompts, Some(&answers), &cfg)?;
    let sm = sigma_m(&d.completion_entropy, g.val_problems);
    let placed = map_prediction(&d, g.temperature)?;
    let json = serde_json::json!({
        "written_utc": entropic_sim::provenance::utc_rfc3339(std::time::SystemTime::now()),
        "note": "written before the first arm ran; never rewritten by a resumed validation",
        "base": base.display().to_string(),
        "temperature": g.temperature,
        "diagnosis": d,
        "sigma_m": sm,
        "val_problems": g.val_problems,
        "map_sha256": placed.0,
        "placement": placed.1,
        "prediction": placed.2,
    });
    write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    Predicted::from_json(json)
}

/// The committed map's SHA-256, the base's placement among the map's Adam
/// cells (the trainer uses AdamW) and the nearest cell's prediction, with
/// `entropic llm diagnose`'s defaults for the suggested gains (settling
/// within 50 updates, overshoot ≤ 0.1, the paper's target), as JSON.
fn map_prediction(
    d: &entropic_llm::diagnose::Diagnosis,
    temperature: f64,
) -> Result<(String, serde_json::Value, serde_json::Value)> {
    let map = committed_map()?;
    let placement = place(
        &map,
        &model_features(d),
        Some(entropic_sim::optim::OptimizerKind::Adam),
    );
    let spec = GainSpec {
        target: None,
        settle: 50,
        max_overshoot: 0.1,
    };
    let pred = predict(
        &map,
        &placement,
        d.composition.entropy_mean,
        temperature,
        &spec,
    );
    Ok((
        map.sha256.clone(),
        serde_json::to_value(&placement)?,
        serde_json::to_value(&pred)?,
    ))
}
