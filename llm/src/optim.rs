//! AdamW with the update of PyTorch's `torch.optim.AdamW` (non-amsgrad,
//! non-fused) and a state that saves and restores exactly.
//!
//! candle-nn's `AdamW` keeps its moments private, so it cannot resume; this
//! one exposes them. Per parameter, with g its gradient and t the step:
//!
//! ```text
//! p ← p·(1 − lr·wd)                      (decoupled weight decay)
//! m ← β1·m + (1 − β1)·g
//! v ← β2·v + (1 − β2)·g²
//! p ← p − (lr / (1 − β1ᵗ)) · m / (sqrt(v) / sqrt(1 − β2ᵗ) + eps)
//! ```
//! (the last line is PyTorch's `_single_tensor_adamw` order of operations).
use crate::error::{LlmError, Result};
use candle_core::{backprop::GradStore, DType, Tensor, Var};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// AdamW hyper-parameters (PyTorch defaults except `weight_decay`, whose
/// PyTorch default is 0.01 too).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// Everything needed to resume: the step count and both moments per
/// parameter name (f32, whatever the parameter dtype).
#[derive(Debug, Clone)]
pub struct AdamWState {
    pub step: u64,
    pub m: HashMap<String, Tensor>,
    pub v: HashMap<String, Tensor>,
}

/// AdamW over named `Var`s.
pub struct AdamW {
    /// Hyper-parameters; `lr` may be changed between steps (schedules).
    pub cfg: AdamWConfig,
    params: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: u64,
}

impl AdamW {
    /// Fresh optimizer: zero moments, step 0.
    pub fn new(params: &[(String, Var)], cfg: AdamWConfig) -> Result<Self> {
        let mut m = Vec::new();
        for (_, p) in params {
            m.push(p.as_tensor().zeros_like()?.to_dtype(DType::F32)?);
        }
        Ok(AdamW {
            cfg,
            params: params.to_vec(),
            v: m.clone(),
            m,
            step: 0,
        })
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// One update from `grads`; a parameter without gradient is left
    /// unchanged and its moments kept (PyTorch skips params whose grad is None).
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let t = self.step as i32;
        let c = self.cfg;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2 = 1.0 - c.beta2.powi(t);
        for (i, (_, p)) in self.params.iter().enumerate() {
            let Some(g) = grads.get(p.as_tensor()) else {
                continue;
            };
            let dt = p.dtype();
            let g = g.to_dtype(DType::F32)?;
            let pf = p.as_tensor().to_dtype(DType::F32)?;
            let pf = (pf * (1.0 - c.lr * c.weight_decay))?;
            let m = ((&self.m[i] * c.beta1)? + (&g * (1.0 - c.beta1))?)?;
            let v = ((&self.v[i] * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let denom = ((v.sqrt()? / bc2.sqrt())? + c.eps)?;
            let pf = (pf - (m.div(&denom)? * (c.lr / bc1))?)?;
            p.set(&pf.to_dtype(dt)?)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }

    /// A copy of the state (moments share storage with the optimizer's,
    /// which never mutates them in place).
    pub fn state(&self) -> AdamWState {
        let names = self.params.iter().map(|(n, _)| n.clone());
        AdamWState {
            step: self.step,
            m: names.clone().zip(self.m.iter().cloned()).collect(),
            v: names.zip(self.v.iter().cloned()).collect(),
        }
    }

    /// Restores a state taken from an optimizer over the same parameters.
    pub fn load_state(&mut self, s: &AdamWState) -> Result<()> {
        for (i, (n, p)) in self.params.iter().enumerate() {
            for (src, dst, what) in [(&s.m, &mut self.m, "m"), (&s.v, &mut self.v, "v")] {
                let t = src.get(n).ok_or_else(|| {
                    LlmError::input("optimizer state", format!("moment {what} of `{n}` missing"))
                })?;
                if t.dims() != p.dims() {
                    return Err(LlmError::input(
                        "optimizer state",
                        format!(
                            "moment {what} of `{n}` has shape {:?}, parameter {:?}",
                            t.dims(),
                            p.dims()
                        ),
                    ));
                }
                dst[i] = t.to_device(p.device())?.to_dtype(DType::F32)?;
            }
        }
        self.step = s.step;
        Ok(())
    }

    /// Writes the state as safetensors (`m.<name>`, `v.<name>`, and the
    /// step in the metadata).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut data: Vec<(String, Tensor)> = Vec::new();
        for (i, (n, _)) in self.params.iter().enumerate() {
            data.push((format!("m.{n}"), self.m[i].clone()));
            data.push((format!("v.{n}"), self.v[i].clone()));
        }
        let meta = HashMap::from([("step".to_string(), self.step.to_string())]);
        safetensors::serialize_to_file(data, Some(meta), path).map_err(|source| {
            LlmError::Safetensors {
                path: path.display().to_string(),
                source,
            }
        })?;
        crate::checkpoint::readable(path)
    }

    /// Reads a state written by [`AdamW::save`] and loads it.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let file = path.display().to_string();
        let bytes =
            std::fs::read(path).map_err(|e| LlmError::input(&file, format!("cannot read: {e}")))?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| LlmError::input(&file, format!("not a safetensors file: {e}")))?;
        let step = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("step"))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| LlmError::input(&file, "metadata `step` missing"))?;
        let dev = self
            .params
            .first()
            .map(|(_, p)| p.device().clone())
            .unwrap_or(candle_core::Device::Cpu);
        let all = candle_core::safetensors::load_buffer(&bytes, &dev)
            .map_err(|e| LlmError::input(&file, format!("corrupt: {e}")))?;
        let mut m = HashMap::new();
        let mut v = HashMap::new();
        for (k, t) in all {
            if let Some(n) = k.strip_prefix("m.") {
                m.insert(n.to_string(), t);
            } else if let Some(n) = k.strip_prefix("v.") {
                v.insert(n.to_string(), t);
            }
        }
        self.load_state(&AdamWState { step, m, v })
    }
}

/// Scales all gradients so their global L2 norm is at most `max_norm`
/// (PyTorch `clip_grad_norm_`, factor `max_norm / (norm + 1e-6)` when
/// clipping); returns the norm before clipping.
pub fn clip_grad_norm(
    params: &[(String, Var)],
    grads: &mut GradStore,
    max_norm: f64,
) -> Result<f64> {
    let mut sq = 0.0f64;
    for (_, p) in params {
        if let Some(g) = grads.get(p.as_tensor()) {
            sq += g
                .to_dtype(DType::F64)?
                .sqr()?
                .sum_all()?
                .to_scalar::<f64>()?;
        }
    }
    let norm = sq.sqrt();
    if norm > max_norm {
        let f = max_norm / (norm + 1e-6);
        for (_, p) in params {
            if let Some(g) = grads.remove(p.as_tensor()) {
                grads.insert(p.as_tensor(), (g * f)?);
            }
        }
    }
    Ok(norm)
}
