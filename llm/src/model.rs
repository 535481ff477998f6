//! The Qwen2 decoder (transformers' `Qwen2ForCausalLM` semantics), one set
//! of weights under Hugging Face names, two forward paths:
//!
//! - the **training path** (`fused = false`, no cache) has a gradient
//!   everywhere: all four of RMSNorm (`x·rsqrt(mean x² + eps)·w`), RoPE
//!   (`x·cos + rotate_half(x)·sin`), the attention softmax and the SiLU
//!   gate run as [`crate::kernels`]' fused CPU ops with their own backward
//!   passes ([`TrainOps::Fused`], the default), or all four composed from
//!   candle's differentiable primitives ([`TrainOps::Composed`]; always on
//!   other devices, in bf16, and on a cached step). candle 0.11.1's fused `rms_norm`, `rope` and
//!   `softmax_last_dim` have no backward pass and would silently leave
//!   norm and attention weights without gradient;
//! - the **sampling path** (`fused = true`) swaps in those candle kernels,
//!   which give the same logits (checked in tests within 1e-5).
//!
//! Layout follows candle's `qwen2.rs`: `q/k/v_proj` with bias, `o_proj`
//! without, grouped-query attention, SiLU-gated MLP.
use crate::config::Qwen2Config;
use crate::error::{LlmError, Result};
use candle_core::{DType, Device, Tensor, Var, D};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use std::collections::HashMap;

/// Additive mask value for hidden keys: finite, so that a row with every
/// key hidden (a padding query) gives a uniform softmax instead of NaN.
const MASKED: f32 = -1e9;

/// How a parameter is initialised (transformers' `_init_weights` for Qwen2).
#[derive(Clone, Copy)]
enum Init {
    Normal,
    Zeros,
    Ones,
}

/// Source of a parameter: its name, shape and initialisation → the tensor.
type Getter<'a> = dyn FnMut(&str, &[usize], Init) -> Result<Tensor> + 'a;

/// Key/value cache of one batched generation: per layer, keys and values
/// (B, kvH, L, hd) held in buffers of room for more positions, so that a
/// decoding step writes its new position in place instead of copying the
/// whole cache (`Tensor::cat` every step made generation quadratic in
/// copies: a fifth of its time at the benchmark's shapes). Not `Clone`: a
/// copy would share the buffers its appends write in place. Written
/// outside the autograd graph, so no gradient flows through a cached
/// step (only sampling uses it).
#[derive(Debug, Default)]
pub struct KvCache {
    kv: Vec<Option<LayerKv>>,
    /// Positions the buffers are first made with (0: as many as the first
    /// call brings plus [`LayerKv::SPARE`]).
    room: usize,
}

/// One layer's cache: buffers (B, kvH, room, hd), the first `len`
/// positions filled.
#[derive(Debug)]
struct LayerKv {
    k: Tensor,
    v: Tensor,
    len: usize,
}

impl LayerKv {
    /// Positions a buffer is first made with: the first call's length plus
    /// this, doubling when full (amortised copies; `Tensor::cat` of the old
    /// cache did one full copy per step).
    const SPARE: usize = 64;

    /// Appends `k`, `v` (B, kvH, Lnew, hd) and returns views of all cached
    /// positions (B, kvH, len, hd).
    fn append(
        slot: &mut Option<LayerKv>,
        k: &Tensor,
        v: &Tensor,
        first_room: usize,
    ) -> Result<(Tensor, Tensor)> {
        let lnew = k.dim(2)?;
        let len = slot.as_ref().map_or(0, |c| c.len);
        let room = slot.as_ref().map_or(0, |c| c.k.dim(2).unwrap_or(0));
        if len + lnew > room {
            let (b, h, _, d) = k.dims4()?;
            let room = if room == 0 && first_room >= len + lnew {
                first_room
            } else {
                (2 * room).max(len + lnew + Self::SPARE)
            };
            let kb = Tensor::zeros((b, h, room, d), k.dtype(), k.device())?;
            let vb = Tensor::zeros((b, h, room, d), v.dtype(), v.device())?;
            if let Some(c) = slot.as_ref() {
                kb.slice_set(&c.k.narrow(2, 0, len)?.contiguous()?, 2, 0)?;
                vb.slice_set(&c.v.narrow(2, 0, len)?.contiguous()?, 2, 0)?;
            }
            *slot = Some(LayerKv { k: kb, v: vb, len });
        }
        let c = slot.as_mut().expect("made above");
        c.k.slice_set(&k.contiguous()?, 2, c.len)?;
        c.v.slice_set(&v.contiguous()?, 2, c.len)?;
        c.len += lnew;
        Ok((c.k.narrow(2, 0, c.len)?, c.v.narrow(2, 0, c.len)?))
    }
}

impl KvCache {
    /// An empty cache whose buffers are made with room for `positions`
    /// (prompt and new tokens), so a generation of known length never grows
    /// them.
    pub fn with_room(positions: usize) -> Self {
        KvCache {
            kv: Vec::new(),
            room: positions,
        }
    }
    /// Number of cached positions (0 when empty).
    pub fn len(&self) -> usize {
        self.kv
            .first()
            .and_then(|x| x.as_ref())
            .map_or(0, |c| c.len)
    }
    /// Whether nothing is cached yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct Layer {
    q_w: Tensor,
    q_b: Tensor,
    k_w: Tensor,
    k_b: Tensor,
    v_w: Tensor,
    v_b: Tensor,
    o_w: Tensor,
    gate_w: Tensor,
    up_w: Tensor,
    down_w: Tensor,
    ln1: Tensor,
    ln2: Tensor,
}

/// The training path's ops for RMSNorm, RoPE, the attention softmax, the
/// gated MLP product and the loss's log-probs and entropies
/// ([`crate::sample::token_logp_entropy_with`], the language-model loss).
///
/// `Fused` (the default) uses [`crate::kernels`]' CPU kernels with
/// analytical backward passes: one pass each way per op instead of one per
/// primitive, 1.3–1.5x faster training steps (README, Benchmarks). It
/// applies on the CPU in f32 and f64; on other devices and dtypes the
/// composed ops run whatever this says. `Composed` builds the same
/// functions from candle's differentiable primitives; the two agree to
/// rounding, not bit for bit (a test compares a whole model's loss and
/// gradients), so the same seed gives another run on each. The sampling
/// path is not affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrainOps {
    Composed,
    #[default]
    Fused,
}

/// A Qwen2 causal language model whose parameters are candle `Var`s.
pub struct Qwen2 {
    cfg: Qwen2Config,
    /// How the training path computes RMSNorm, RoPE, the attention softmax,
    /// the gated MLP and the loss's log-probs and entropies
    /// ([`Qwen2::set_train_ops`]).
    train_ops: TrainOps,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    lm_head: Tensor,
    /// (max_pos, hd/2) tables of the rotary embedding.
    cos: Tensor,
    sin: Tensor,
    vars: Vec<(String, Var)>,
    device: Device,
    dtype: DType,
}

/// `x (.., in) · wᵀ (+ b)`, flattening the leading dims for one matmul.
fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let inner = dims[dims.len() - 1];
    let rows: usize = dims[..dims.len() - 1].iter().product();
    let y = x.reshape((rows, inner))?.matmul(&w.t()?)?;
    let y = match b {
        Some(b) => y.broadcast_add(b)?,
        None => y,
    };
    let mut out = dims[..dims.len() - 1].to_vec();
    out.push(w.dim(0)?);
    Ok(y.reshape(out)?)
}

/// RMSNorm: `w · x / sqrt(mean(x²) + eps)`, half types computed in f32
/// (transformers' order).
fn rms_norm(x: &Tensor, w: &Tensor, eps: f64, fused: bool) -> Result<Tensor> {
    if fused {
        return Ok(candle_nn::ops::rms_norm(&x.contiguous()?, w, eps as f32)?);
    }
    let dt = x.dtype();
    let xf = match dt {
        DType::BF16 | DType::F16 => x.to_dtype(DType::F32)?,
        _ => x.clone(),
    };
    let var = xf.sqr()?.mean_keepdim(D::Minus1)?;
    let xn = xf.broadcast_div(&(var + eps)?.sqrt()?)?;
    Ok(xn.to_dtype(dt)?.broadcast_mul(w)?)
}

fn rotate_half(x: &Tensor) -> Result<Tensor> {
    let d = x.dim(D::Minus1)?;
    let x1 = x.narrow(D::Minus1, 0, d / 2)?;
    let x2 = x.narrow(D::Minus1, d / 2, d / 2)?;
    Ok(Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?)
}

/// RoPE on x (B, H, L, hd) with per-row angles cos/sin (B, L, hd/2).
fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, fused: bool) -> Result<Tensor> {
    if fused {
        return Ok(candle_nn::rotary_emb::rope(&x.contiguous()?, cos, sin)?);
    }
    let cos = Tensor::cat(&[cos, cos], D::Minus1)?.unsqueeze(1)?;
    let sin = Tensor::cat(&[sin, sin], D::Minus1)?.unsqueeze(1)?;
    Ok((x.broadcast_mul(&cos)? + rotate_half(x)?.broadcast_mul(&sin)?)?)
}

/// (B, kvH, L, hd) → (B, kvH·n, L, hd), each kv head repeated n times.
fn repeat_kv(x: Tensor, n: usize) -> Result<Tensor> {
    if n == 1 {
        return Ok(x);
    }
    let (b, h, l, d) = x.dims4()?;
    Ok(Tensor::cat(&vec![&x; n], 2)?.reshape((b, h * n, l, d))?)
}

/// Attention of q (B, H, Lq, hd) over the cache's views k, v (B, kvH, L,
/// hd), H = kvH·`n`, head h reading kv head h / n, without [`repeat_kv`]'s
/// copy of the cache: one product per head of a group (`n` products of
/// batch B·kvH instead of one of batch B·H), stacked back into head order.
/// Each product is the one the repeated path computes for those heads, the
/// same sizes and strides within a batch, so the logits are the same bits
/// (a test compares them bit for bit). Returns (B, H, Lq, hd).
fn grouped_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: &Tensor,
    scale: f64,
    n: usize,
    fused: bool,
) -> Result<Tensor> {
    let (b, h, lq, hd) = q.dims4()?;
    let lk = k.dim(2)?;
    let kvh = h / n;
    // heads of kv head g are g·n .. g·n + n − 1
    let qg = q.reshape((b, kvh, n, lq, hd))?;
    let kt = k.t()?;
    let parts = (0..n)
        .map(|r| qg.narrow(2, r, 1)?.squeeze(2)?.matmul(&kt))
        .collect::<candle_core::Result<Vec<_>>>()?;
    // (B, kvH, n, Lq, Lk) → (B, H, Lq, Lk)
    let scores = Tensor::stack(&parts, 2)?.reshape((b, h, lq, lk))?;
    let scores = (scores * scale)?.broadcast_add(bias)?;
    let probs = if fused {
        candle_nn::ops::softmax_last_dim(&scores)?
    } else {
        candle_nn::ops::softmax(&scores, D::Minus1)?
    };
    let pg = probs.reshape((b, kvh, n, lq, lk))?;
    let parts = (0..n)
        .map(|r| pg.narrow(2, r, 1)?.squeeze(2)?.matmul(v))
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(Tensor::stack(&parts, 2)?.reshape((b, h, lq, hd))?)
}

/// Additive attention mask (B, 1, Lq, Lk): query i (absolute index
/// `offset + i`) sees key j iff `j ≤ offset + i` and key j is not padding.
pub fn attention_bias(
    key_mask: &[Vec<u8>],
    lq: usize,
    dtype: DType,
    dev: &Device,
) -> Result<Tensor> {
    let b = key_mask.len();
    let lk = key_mask.first().map_or(0, |r| r.len());
    let offset = lk - lq;
    let mut v = Vec::with_capacity(b * lq * lk);
    for row in key_mask {
        for i in 0..lq {
            for (j, &m) in row.iter().enumerate() {
                v.push(if j <= offset + i && m != 0 {
                    0.0
                } else {
                    MASKED
                });
            }
        }
    }
    Ok(Tensor::from_vec(v, (b, 1, lq, lk), dev)?.to_dtype(dtype)?)
}

/// Position ids as transformers' `generate` makes them: `cumsum(mask) − 1`,
/// clamped at 0 on padding, so left padding does not shift positions.
pub fn position_ids(mask: &[Vec<u8>]) -> Vec<Vec<u32>> {
    mask.iter()
        .map(|row| {
            let mut c = 0u32;
            row.iter()
                .map(|&m| {
                    c += (m != 0) as u32;
                    c.saturating_sub(1)
                })
                .collect()
        })
        .collect()
}

impl Qwen2 {
    /// A randomly initialised model: weights ~ N(0, initializer_range),
    /// biases 0, norms 1 (transformers' Qwen2 init), drawn from `rng`.
    pub fn init<R: Rng>(
        cfg: &Qwen2Config,
        device: &Device,
        dtype: DType,
        rng: &mut R,
    ) -> Result<Self> {
        cfg.validate("config")?;
        let normal = Normal::new(0.0f32, cfg.initializer_range as f32)
            .map_err(|e| LlmError::input("config", format!("initializer_range: {e}")))?;
        let mut get = |_name: &str, shape: &[usize], init: Init| -> Result<Tensor> {
            let n: usize = shape.iter().product();
            let v: Vec<f32> = match init {
                Init::Normal => (0..n).map(|_| normal.sample(rng)).collect(),
                Init::Zeros => vec![0.0; n],
                Init::Ones => vec![1.0; n],
            };
            Ok(Tensor::from_vec(v, shape, device)?.to_dtype(dtype)?)
        };
        Self::build(cfg, device, dtype, &mut get)
    }

    /// A model from named tensors (a loaded `model.safetensors`): every
    /// tensor must be present with the shape the config implies (`file`
    /// is named in the error otherwise). Without `lm_head.weight` the
    /// embeddings are tied, whatever the config says (as candle does).
    pub fn from_tensors(
        cfg: &Qwen2Config,
        tensors: &HashMap<String, Tensor>,
        device: &Device,
        dtype: DType,
        file: &str,
    ) -> Result<Self> {
        cfg.validate(file)?;
        let mut get = |name: &str, shape: &[usize], _init: Init| -> Result<Tensor> {
            let t = tensors
                .get(name)
                .ok_or_else(|| LlmError::input(file, format!("tensor `{name}` missing")))?;
            if t.dims() != shape {
                return Err(LlmError::input(
                    file,
                    format!(
                        "tensor `{name}` has shape {:?}, the config implies {shape:?}",
                        t.dims()
                    ),
                ));
            }
            Ok(t.to_device(device)?.to_dtype(dtype)?)
        };
        let mut cfg = cfg.clone();
        cfg.tie_word_embeddings = !tensors.contains_key("lm_head.weight");
        Self::build(&cfg, device, dtype, &mut get)
    }

    fn build(
        cfg: &Qwen2Config,
        device: &Device,
        dtype: DType,
        get: &mut Getter<'_>,
    ) -> Result<Self> {
        let (h, i, hd) = (cfg.hidden_size, cfg.intermediate_size, cfg.head_dim());
        let (nh, nkv) = (cfg.num_attention_heads, cfg.kv_heads());
        let mut vars: Vec<(String, Var)> = Vec::new();
        let mut p = |name: String, shape: &[usize], init: Init| -> Result<Tensor> {
            let var = Var::from_tensor(&get(&name, shape, init)?)?;
            let t = var.as_tensor().clone();
            vars.push((name, var));
            Ok(t)
        };
        let embed = p(
            "model.embed_tokens.weight".into(),
            &[cfg.vocab_size, h],
            Init::Normal,
        )?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let a = format!("model.layers.{l}.self_attn");
            let m = format!("model.layers.{l}.mlp");
            layers.push(Layer {
                q_w: p(format!("{a}.q_proj.weight"), &[nh * hd, h], Init::Normal)?,
                q_b: p(format!("{a}.q_proj.bias"), &[nh * hd], Init::Zeros)?,
                k_w: p(format!("{a}.k_proj.weight"), &[nkv * hd, h], Init::Normal)?,
                k_b: p(format!("{a}.k_proj.bias"), &[nkv * hd], Init::Zeros)?,
                v_w: p(format!("{a}.v_proj.weight"), &[nkv * hd, h], Init::Normal)?,
                v_b: p(format!("{a}.v_proj.bias"), &[nkv * hd], Init::Zeros)?,
                o_w: p(format!("{a}.o_proj.weight"), &[h, nh * hd], Init::Normal)?,
                gate_w: p(format!("{m}.gate_proj.weight"), &[i, h], Init::Normal)?,
                up_w: p(format!("{m}.up_proj.weight"), &[i, h], Init::Normal)?,
                down_w: p(format!("{m}.down_proj.weight"), &[h, i], Init::Normal)?,
                ln1: p(
                    format!("model.layers.{l}.input_layernorm.weight"),
                    &[h],
                    Init::Ones,
                )?,
                ln2: p(
                    format!("model.layers.{l}.post_attention_layernorm.weight"),
                    &[h],
                    Init::Ones,
                )?,
            });
        }
        let norm = p("model.norm.weight".into(), &[h], Init::Ones)?;
        let lm_head = if cfg.tie_word_embeddings {
            embed.clone()
        } else {
            p("lm_head.weight".into(), &[cfg.vocab_size, h], Init::Normal)?
        };
        // Rotary tables in f32, then cast: inv_freq_k = theta^(-2k/hd).
        let half = hd / 2;
        let inv: Vec<f32> = (0..half)
            .map(|k| 1.0 / cfg.theta().powf(2.0 * k as f64 / hd as f64) as f32)
            .collect();
        let maxp = cfg.max_position_embeddings;
        let mut ang = Vec::with_capacity(maxp * half);
        for t in 0..maxp {
            for f in &inv {
                ang.push(t as f32 * f);
            }
        }
        let ang = Tensor::from_vec(ang, (maxp, half), device)?;
        Ok(Qwen2 {
            cfg: cfg.clone(),
            train_ops: TrainOps::default(),
            embed,
            layers,
            norm,
            lm_head,
            cos: ang.cos()?.to_dtype(dtype)?,
            sin: ang.sin()?.to_dtype(dtype)?,
            vars,
            device: device.clone(),
            dtype,
        })
    }

    /// Chooses the training path's ops (see [`TrainOps`]); a model starts
    /// with [`TrainOps::Fused`].
    pub fn set_train_ops(&mut self, ops: TrainOps) {
        self.train_ops = ops;
    }
    /// The training path's ops.
    pub fn train_ops(&self) -> TrainOps {
        self.train_ops
    }
    /// Whether a forward pass on the training path (`fused = false`) runs
    /// [`crate::kernels`].
    fn kernels(&self, fused: bool) -> bool {
        !fused
            && self.train_ops == TrainOps::Fused
            && crate::kernels::supported(&self.device, self.dtype)
    }

    /// The configuration (with `tie_word_embeddings` as actually built).
    pub fn config(&self) -> &Qwen2Config {
        &self.cfg
    }
    /// Trainable parameters with their checkpoint names (a tied `lm_head`
    /// is not listed: it is `model.embed_tokens.weight`).
    pub fn vars(&self) -> &[(String, Var)] {
        &self.vars
    }
    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        self.vars.iter().map(|(_, v)| v.elem_count()).sum()
    }
    /// Device of the weights.
    pub fn device(&self) -> &Device {
        &self.device
    }
    /// Storage dtype of the weights.
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    /// Parameters by checkpoint name, for saving.
    pub fn named_tensors(&self) -> HashMap<String, Tensor> {
        self.vars
            .iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect()
    }

    /// Differentiable logits (B, L, V) in f32 (f64 for an f64 model) of `input_ids` (B, L, u32)
    /// with `attention_mask` (B, L; 1 = token, 0 = padding, any int dtype).
    /// Padding may sit anywhere; positions skip it (see [`position_ids`]).
    pub fn forward_train(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        self.forward_masked(input_ids, attention_mask, false)
    }

    /// As [`Qwen2::forward_train`], choosing the path: `fused = true` is the
    /// sampling path (no gradients through norms, RoPE and softmax).
    pub fn forward_masked(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        fused: bool,
    ) -> Result<Tensor> {
        let mask: Vec<Vec<u8>> = attention_mask
            .to_dtype(DType::U32)?
            .to_vec2::<u32>()?
            .into_iter()
            .map(|r| r.into_iter().map(|m| (m != 0) as u8).collect())
            .collect();
        let pos = position_ids(&mask);
        let hidden = self.forward_hidden(input_ids, &pos, &mask, None, fused)?;
        self.head(&hidden)
    }

    /// One decoding step with a cache: `ids` (B, Lnew) at positions `pos`
    /// (B × Lnew), `key_mask` (B × (cached + Lnew)) covering the cache and
    /// the new tokens. Returns the f32 logits of the last new position (B, V).
    /// For sampling: keys and values go through the cache's buffers, which
    /// the autograd graph does not see, so no gradient reaches the k/v
    /// projections through this path.
    pub fn step(
        &self,
        ids: &Tensor,
        pos: &[Vec<u32>],
        key_mask: &[Vec<u8>],
        cache: &mut KvCache,
        fused: bool,
    ) -> Result<Tensor> {
        let hidden = self.forward_hidden(ids, pos, key_mask, Some(cache), fused)?;
        let l = hidden.dim(1)?;
        self.head(&hidden.narrow(1, l - 1, 1)?)?
            .squeeze(1)
            .map_err(Into::into)
    }

    fn head(&self, hidden: &Tensor) -> Result<Tensor> {
        let logits = linear(hidden, &self.lm_head, None)?;
        Ok(if self.dtype == DType::F64 {
            logits
        } else {
            logits.to_dtype(DType::F32)?
        })
    }

    /// Final-normed hidden states (B, Lnew, D).
    fn forward_hidden(
        &self,
        ids: &Tensor,
        pos: &[Vec<u32>],
        key_mask: &[Vec<u8>],
        mut cache: Option<&mut KvCache>,
        fused: bool,
    ) -> Result<Tensor> {
        let (b, lq) = ids.dims2()?;
        let maxp = self.cfg.max_position_embeddings;
        let flat: Vec<u32> = pos.iter().flatten().copied().collect();
        if flat.len() != b * lq {
            return Err(LlmError::Other(format!(
                "positions: {} for {b}×{lq} tokens",
                flat.len()
            )));
        }
        if let Some(&p) = flat.iter().find(|&&p| p as usize >= maxp) {
            return Err(LlmError::input(
                "input",
                format!("position {p} beyond max_position_embeddings {maxp}"),
            ));
        }
        let cached = cache.as_deref().map_or(0, KvCache::len);
        if key_mask.len() != b || key_mask.iter().any(|r| r.len() != cached + lq) {
            return Err(LlmError::input(
                "attention_mask",
                format!(
                    "expected {b} rows of {} entries (cache + new tokens)",
                    cached + lq
                ),
            ));
        }
        let pos_t = Tensor::from_vec(flat, b * lq, &self.device)?;
        let half = self.cfg.head_dim() / 2;
        let cos = self.cos.index_select(&pos_t, 0)?.reshape((b, lq, half))?;
        let sin = self.sin.index_select(&pos_t, 0)?.reshape((b, lq, half))?;
        let bias = attention_bias(key_mask, lq, self.dtype, &self.device)?;
        if let Some(c) = cache.as_deref_mut() {
            if c.kv.is_empty() {
                c.kv = (0..self.layers.len()).map(|_| None).collect();
            }
        }
        // (B, L) → (B, L, D)
        let mut xs = self.embed.index_select(&ids.flatten_all()?, 0)?.reshape((
            b,
            lq,
            self.cfg.hidden_size,
        ))?;
        // a cached step (sampling) keeps the composed ops, as its attention
        // over the cache does
        let kernels = self.kernels(fused) && cache.is_none();
        let eps = self.cfg.rms_norm_eps;
        let norm = |x: &Tensor, w: &Tensor| -> Result<Tensor> {
            if kernels {
                Ok(crate::kernels::rms_norm(x, w, eps)?)
            } else {
                rms_norm(x, w, eps, fused)
            }
        };
        for (li, layer) in self.layers.iter().enumerate() {
            let slot = cache.as_deref_mut().map(|c| (&mut c.kv[li], c.room));
            let h = norm(&xs, &layer.ln1)?;
            let h = self.attention(&h, layer, &cos, &sin, &bias, slot, fused)?;
            xs = (xs + h)?;
            let h = norm(&xs, &layer.ln2)?;
            let gate = linear(&h, &layer.gate_w, None)?;
            let up = linear(&h, &layer.up_w, None)?;
            let gated = if kernels {
                crate::kernels::silu_mul(&gate, &up)?
            } else {
                (candle_nn::ops::silu(&gate)? * up)?
            };
            xs = (xs + linear(&gated, &layer.down_w, None)?)?;
        }
        norm(&xs, &self.norm)
    }

    #[allow(clippy::too_many_arguments)]
    fn attention(
        &self,
        x: &Tensor,
        l: &Layer,
        cos: &Tensor,
        sin: &Tensor,
        bias: &Tensor,
        slot: Option<(&mut Option<LayerKv>, usize)>,
        fused: bool,
    ) -> Result<Tensor> {
        let (b, lq, _) = x.dims3()?;
        let hd = self.cfg.head_dim();
        let (nh, nkv) = (self.cfg.num_attention_heads, self.cfg.kv_heads());
        // (B, L, H·hd) → (B, H, L, hd)
        let q = linear(x, &l.q_w, Some(&l.q_b))?
            .reshape((b, lq, nh, hd))?
            .transpose(1, 2)?
            .contiguous()?;
        let k = linear(x, &l.k_w, Some(&l.k_b))?
            .reshape((b, lq, nkv, hd))?
            .transpose(1, 2)?
            .contiguous()?;
        let v = linear(x, &l.v_w, Some(&l.v_b))?
            .reshape((b, lq, nkv, hd))?
            .transpose(1, 2)?
            .contiguous()?;
        let kernels = self.kernels(fused) && slot.is_none();
        let (q, k) = if kernels {
            (
                crate::kernels::rope(&q, cos, sin)?,
                crate::kernels::rope(&k, cos, sin)?,
            )
        } else {
            (rope(&q, cos, sin, fused)?, rope(&k, cos, sin, fused)?)
        };
        let scale = 1.0 / (hd as f64).sqrt();
        let out = match slot {
            Some((s, room)) => {
                let (k, v) = LayerKv::append(s, &k, &v, room)?;
                grouped_attention(&q, &k, &v, bias, scale, nh / nkv, fused)?
            }
            None => {
                let k = repeat_kv(k, nh / nkv)?;
                let v = repeat_kv(v, nh / nkv)?;
                // (B, H, Lq, Lk)
                let scores = q.matmul(&k.t()?)?;
                let probs = if kernels {
                    crate::kernels::masked_softmax(&scores, bias, scale)?
                } else {
                    let scores = (scores * scale)?.broadcast_add(bias)?;
                    if fused {
                        candle_nn::ops::softmax_last_dim(&scores)?
                    } else {
                        candle_nn::ops::softmax(&scores, D::Minus1)?
                    }
                };
                probs.matmul(&v)?
            }
        };
        // (B, H, Lq, hd) → (B, Lq, H·hd)
        let out = out.transpose(1, 2)?.reshape((b, lq, nh * hd))?;
        linear(&out, &l.o_w, None)
    }
}

#[cfg(test)]
mod tests {
    use super::{grouped_attention, repeat_kv, LayerKv};
    use candle_core::{Device, Tensor, D};

    /// The cached path's attention (keys and values appended into a growing
    /// buffer, heads grouped instead of repeating the cache) gives the same
    /// bits as the repeated path on the concatenated keys and values, for a
    /// prefill and for single-token steps past the buffer's first growth.
    #[test]
    fn grouped_attention_over_the_cache_equals_the_repeated_path() -> crate::error::Result<()> {
        let dev = Device::Cpu;
        let (b, kvh, n, hd) = (3, 2, 2, 8);
        let h = kvh * n;
        let mut steps = vec![5usize];
        steps.extend(std::iter::repeat_n(1, LayerKv::SPARE + 3));
        let total: usize = steps.iter().sum();
        // grown from the first call's size, and made once with room for all
        // (`KvCache::with_room`, what `generate` does)
        for first_room in [0, total] {
            let mut slot = None;
            let (mut ks, mut vs) = (Vec::new(), Vec::new());
            for (i, &lq) in steps.iter().enumerate() {
                let q = Tensor::randn(0f32, 1.0, (b, h, lq, hd), &dev)?;
                let k = Tensor::randn(0f32, 1.0, (b, kvh, lq, hd), &dev)?;
                let v = Tensor::randn(0f32, 1.0, (b, kvh, lq, hd), &dev)?;
                ks.push(k.clone());
                vs.push(v.clone());
                let (kc, vc) = LayerKv::append(&mut slot, &k, &v, first_room)?;
                let lk = kc.dim(2)?;
                let bias = Tensor::randn(0f32, 1.0, (b, 1, lq, lk), &dev)?;
                let scale = 1.0 / (hd as f64).sqrt();
                let got = grouped_attention(&q, &kc, &vc, &bias, scale, n, i % 2 == 0)?;
                let kr = repeat_kv(Tensor::cat(&ks, 2)?, n)?;
                let vr = repeat_kv(Tensor::cat(&vs, 2)?, n)?;
                let scores = (q.matmul(&kr.t()?)? * scale)?.broadcast_add(&bias)?;
                let probs = if i % 2 == 0 {
                    candle_nn::ops::softmax_last_dim(&scores)?
                } else {
                    candle_nn::ops::softmax(&scores, D::Minus1)?
                };
                let want = probs.matmul(&vr)?;
                let (g, w) = (
                    got.flatten_all()?.to_vec1::<f32>()?,
                    want.flatten_all()?.to_vec1::<f32>()?,
                );
                assert_eq!(g.len(), w.len());
                let same = g.iter().zip(&w).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(
                    same,
                    "step {i} (Lq {lq}, Lk {lk}): the grouped path differs"
                );
            }
            let room = slot.as_ref().map(|c| c.k.dim(2).unwrap());
            if first_room == 0 {
                assert!(room > Some(5 + LayerKv::SPARE), "{room:?}: never grew");
            } else {
                assert_eq!(room, Some(total));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod train_ops_tests {
    use super::{Qwen2, TrainOps};
    use crate::config::Qwen2Config;
    use candle_core::{DType, Device, Tensor, D};
    use rand::SeedableRng;

    /// A whole model's logits, a loss and every parameter's gradient agree
    /// between the fused kernels and the composed ops to rounding (f64,
    /// grouped-query attention, left padding so masked rows occur), and the
    /// fused path is the default.
    #[test]
    fn fused_training_path_matches_the_composed_one() -> crate::error::Result<()> {
        let cfg = Qwen2Config::tiny(12, 16, 32, 2, 4, 2);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut model = Qwen2::init(&cfg, &Device::Cpu, DType::F64, &mut rng)?;
        assert_eq!(model.train_ops(), TrainOps::Fused);
        assert!(model.kernels(false), "the fused kernels must run here");
        // norm weights away from their initial ones, so that a weight
        // indexed wrongly shows
        for (name, v) in model.vars() {
            if name.ends_with("norm.weight") {
                let n = v.as_tensor().elem_count();
                let w = ((Tensor::arange(0u32, n as u32, &Device::Cpu)?
                    .to_dtype(DType::F64)?
                    .sin()?
                    * 0.4)?
                    + 1.0)?;
                v.set(&w)?;
            }
        }
        let ids = Tensor::new(&[[0u32, 3, 7, 1, 9, 2], [4, 4, 8, 11, 0, 5]], &Device::Cpu)?;
        let mask = Tensor::new(&[[0u32, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]], &Device::Cpu)?;
        let run = |m: &Qwen2| -> crate::error::Result<(Tensor, Vec<Tensor>)> {
            let logits = m.forward_train(&ids, &mask)?;
            let lsm = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
            let loss = (lsm.narrow(D::Minus1, 0, 3)?.sum_all()? * -1.0)?;
            let g = loss.backward()?;
            let grads = m
                .vars()
                .iter()
                .map(|(n, v)| {
                    g.get(v.as_tensor()).cloned().ok_or_else(|| {
                        crate::error::LlmError::Other(format!("no gradient for {n}"))
                    })
                })
                .collect::<crate::error::Result<Vec<_>>>()?;
            Ok((logits, grads))
        };
        let (lf, gf) = run(&model)?;
        model.set_train_ops(TrainOps::Composed);
        let (lc, gc) = run(&model)?;
        let diff = |a: &Tensor, b: &Tensor| -> crate::error::Result<(f64, f64)> {
            let d = (a - b)?.abs()?.max_all()?.to_scalar::<f64>()?;
            let s = b.abs()?.max_all()?.to_scalar::<f64>()?;
            Ok((d, s))
        };
        let (d, _) = diff(&lf, &lc)?;
        assert!(d < 1e-12, "logits differ by {d}");
        let finite = |t: &Tensor| -> crate::error::Result<bool> {
            Ok(t.flatten_all()?
                .to_vec1::<f64>()?
                .iter()
                .all(|v| v.is_finite()))
        };
        assert!(finite(&lf)?, "fused logits not finite");
        for ((name, _), (a, b)) in model.vars().iter().zip(gf.iter().zip(&gc)) {
            let (d, s) = diff(a, b)?;
            assert!(finite(a)?, "{name}: fused gradient not finite");
            assert!(s > 0.0, "{name}: zero gradient");
            assert!(
                d <= 1e-10 * s.max(1.0),
                "{name}: gradients differ by {d} (scale {s})"
            );
        }
        Ok(())
    }
}
