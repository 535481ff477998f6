//! `entropic llm selftest`: a smoke test of the transformer substrate on the CPU
//! and, with `--cuda`, on the GPU, plus optional throughput figures.
//!
//! The smoke test uses one tiny random Qwen2 ([`smoke_config`], weights from
//! `ChaCha8Rng` seed [`SMOKE_SEED`]) and one fixed batch of two rows (the
//! second left-padded). Checks:
//!
//! * **forward**: the f32 logits are finite, and a second model built from the
//!   same seed gives bit-identical logits (determinism);
//! * **GRPO-like step**: forward, a token-log-prob policy-gradient loss
//!   `−Σ Aᵢ·log π(yᵢₜ) / Σ mask` with fixed advantages `A = (+1, −1)` (the
//!   clipping of GRPO is inactive on the first step, where the ratio is 1, so
//!   this is its loss at step one), backward, one [`AdamW`] step; every
//!   parameter must get a finite gradient and the loss must go down;
//! * with a GPU: the same f32 forward on the GPU agrees with the CPU within
//!   [`F32_TOLERANCE`] (max abs difference); a bf16 forward runs and agrees with
//!   the f32 CPU logits within [`BF16_TOLERANCE`]; the GRPO-like step runs on
//!   the GPU in f32 (its loss agrees with the CPU's and goes down) and in bf16
//!   (finite losses).
//!
//! Throughput ([`throughput`]): training tokens/s (forward, backward, AdamW)
//! and KV-cache generation tokens/s, FLOPs by the 6N (training) and 2N
//! (generation) rules of `entropic bench llm`, and model FLOP utilisation
//! against a peak the caller passes (the CLI uses the H100/H200 dense bf16
//! peak, 989 TFLOP/s).
use crate::config::Qwen2Config;
use crate::error::{LlmError, Result};
use crate::model::Qwen2;
use crate::optim::{AdamW, AdamWConfig};
use crate::pretrain::{lm_batch, lm_loss};
use crate::sample::{generate, token_logp_entropy_with, Draws, SampleConfig};
use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::time::Instant;

/// Seed of the smoke model's weights (the batch uses `SMOKE_SEED + 1`).
pub const SMOKE_SEED: u64 = 0;

/// Largest allowed max abs difference between f32 logits on the GPU and on
/// the CPU (the bound). Logits of the smoke model are O(0.1–1); f32
/// reductions in a different order differ by ~1e-6 relative, so 1e-3 leaves
/// a wide margin while still catching a wrong kernel.
pub const F32_TOLERANCE: f64 = 1e-3;

/// Largest allowed max abs difference between bf16 logits and the CPU f32
/// logits. Chosen, not specified: bf16 keeps 8 significant bits (relative
/// step 2⁻⁸ ≈ 4e-3) in weights and activations; on the CPU the bf16 smoke
/// forward differs from f32 by 5.2e-3 and a model of another seed by 0.76
/// (max abs; measured by the test
/// `bf16_forward_close_to_f32_on_cpu`), so 0.1 catches garbage, not rounding.
pub const BF16_TOLERANCE: f64 = 0.1;

/// Learning rate of the smoke training step (AdamW's first step moves every
/// weight by about `lr`, enough to lower the loss measurably).
pub const SMOKE_LR: f64 = 1e-3;

/// The smoke model: vocabulary 64, hidden 64, intermediate 128, 2 layers,
/// 4 heads, 2 KV heads (grouped-query attention exercised), tied embeddings.
pub fn smoke_config() -> Qwen2Config {
    Qwen2Config::tiny(64, 64, 128, 2, 4, 2)
}

/// Outcome of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Short name, e.g. `cuda-f32-forward-vs-cpu`.
    pub name: String,
    /// Whether the check passed.
    pub passed: bool,
    /// The measured figure, where there is one (e.g. a max abs difference).
    pub value: Option<f64>,
    /// The bound `value` was held to, where there is one.
    pub limit: Option<f64>,
    /// One line for a person.
    pub detail: String,
}

impl Check {
    fn new(
        name: &str,
        passed: bool,
        value: Option<f64>,
        limit: Option<f64>,
        detail: String,
    ) -> Self {
        Check {
            name: name.into(),
            passed,
            value,
            limit,
            detail,
        }
    }
}

/// Everything `entropic llm selftest` found.
#[derive(Debug, Clone, Serialize)]
pub struct SelftestReport {
    /// Devices the checks ran on, e.g. `["cpu", "cuda:0"]`.
    pub devices: Vec<String>,
    /// Checks in the order they ran.
    pub checks: Vec<Check>,
    /// Throughput figures, when asked for.
    pub throughput: Option<Throughput>,
}

impl SelftestReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// The GPU `ordinal`, or an error that says plainly why there is none: the
/// binary was built without the `cuda` feature, or the CUDA driver found no
/// usable GPU. A panic inside the CUDA bindings is caught and reported the
/// same way.
pub fn cuda_device(ordinal: usize) -> Result<Device> {
    if !candle_core::utils::cuda_is_available() {
        return Err(LlmError::Other(
            "no GPU support: this binary was built without the `cuda` feature \
             (build one with scripts/build-cuda.sh, see docs/gpu.md)"
                .into(),
        ));
    }
    match std::panic::catch_unwind(|| Device::new_cuda(ordinal)) {
        Ok(Ok(d)) => Ok(d),
        // candle appends a backtrace to driver errors: keep the first line.
        Ok(Err(e)) => Err(LlmError::Other(format!(
            "no usable GPU: CUDA device {ordinal} could not be opened: {}",
            e.to_string().lines().next().unwrap_or("unknown error")
        ))),
        Err(_) => Err(LlmError::Other(format!(
            "no usable GPU: opening CUDA device {ordinal} panicked (driver library missing?)"
        ))),
    }
}

/// A person-readable device name (`cpu`, `cuda:0`).
pub fn device_name(dev: &Device) -> String {
    match dev.location() {
        candle_core::DeviceLocation::Cpu => "cpu".into(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

/// The smoke model on `dev` in `dtype`, weights from [`SMOKE_SEED`] (drawn
/// on the CPU, then moved, so every device and dtype starts from the same
/// f32 numbers).
pub fn smoke_model(dev: &Device, dtype: DType) -> Result<Qwen2> {
    let mut rng = ChaCha8Rng::seed_from_u64(SMOKE_SEED);
    Qwen2::init(&smoke_config(), dev, dtype, &mut rng)
}

/// The smoke batch: ids (2, 12) u32, mask (2, 12) u32 (row 1 has 3 left
/// pads), advantages (2, 1) f32 = (+1, −1).
pub fn smoke_batch(dev: &Device) -> Result<(Tensor, Tensor, Tensor)> {
    let (b, l, pads) = (2usize, 12usize, 3usize);
    let vocab = smoke_config().vocab_size as u32;
    let mut rng = ChaCha8Rng::seed_from_u64(SMOKE_SEED + 1);
    let ids: Vec<u32> = (0..b * l).map(|_| rng.random_range(1..vocab)).collect();
    let mut mask = vec![1u32; b * l];
    for m in mask.iter_mut().skip(l).take(pads) {
        *m = 0;
    }
    Ok((
        Tensor::from_vec(ids, (b, l), dev)?,
        Tensor::from_vec(mask, (b, l), dev)?,
        Tensor::from_vec(vec![1f32, -1.0], (b, 1), dev)?,
    ))
}

/// The smoke model's logits (2, 12, 64) on `dev` in `dtype`, returned on
/// the CPU in f32.
pub fn smoke_logits(dev: &Device, dtype: DType) -> Result<Tensor> {
    let model = smoke_model(dev, dtype)?;
    let (ids, mask, _) = smoke_batch(dev)?;
    let logits = model.forward_train(&ids, &mask)?;
    Ok(logits.to_dtype(DType::F32)?.to_device(&Device::Cpu)?)
}

/// Largest |a − b| over all elements (both compared in f32 on the CPU).
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f64> {
    let a = a.to_dtype(DType::F32)?.to_device(&Device::Cpu)?;
    let b = b.to_dtype(DType::F32)?.to_device(&Device::Cpu)?;
    if a.dims() != b.dims() {
        return Err(LlmError::Other(format!(
            "max_abs_diff: shapes {:?} and {:?} differ",
            a.dims(),
            b.dims()
        )));
    }
    Ok((a - b)?.abs()?.max_all()?.to_scalar::<f32>()? as f64)
}

/// Whether every element is finite.
fn all_finite(t: &Tensor) -> Result<bool> {
    let v = t
        .to_dtype(DType::F32)?
        .to_device(&Device::Cpu)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    Ok(v.iter().all(|x| x.is_finite()))
}

/// What one GRPO-like training step did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// Loss before the step.
    pub loss_before: f64,
    /// Loss on the same batch after the step.
    pub loss_after: f64,
    /// Global L2 norm of the gradient.
    pub grad_norm: f64,
    /// Parameters that got a gradient, out of `params_total`.
    pub params_with_grad: usize,
    /// Number of parameter tensors.
    pub params_total: usize,
    /// Whether every gradient element was finite.
    pub grads_finite: bool,
}

/// The GRPO-like loss of the smoke batch: `−Σ_{i,t} Aᵢ·mᵢₜ·log π(y_{i,t+1} |
/// y_{i,≤t}) / Σ mᵢₜ`, m the mask of the predicted (next) token; at the first
/// GRPO step the ratio is 1 and clipping is inactive, so this is GRPO's
/// surrogate there (its gradient is the policy gradient, docs/mathematics.md §1).
pub fn grpo_loss(model: &Qwen2, ids: &Tensor, mask: &Tensor, adv: &Tensor) -> Result<Tensor> {
    let l = ids.dim(1)?;
    let logits = model.forward_train(ids, mask)?;
    let (logp, _entropy) = token_logp_entropy_with(
        &logits.narrow(1, 0, l - 1)?,
        &ids.narrow(1, 1, l - 1)?,
        1.0,
        model.train_ops(),
    )?;
    let m = mask.narrow(1, 1, l - 1)?.to_dtype(DType::F32)?;
    let weighted = (logp.broadcast_mul(adv)? * &m)?;
    Ok((weighted.sum_all()?.neg()? / m.sum_all()?.to_scalar::<f32>()? as f64)?)
}

/// One GRPO-like step of the smoke model on `dev` in `dtype`: loss,
/// backward, AdamW (lr [`SMOKE_LR`], no weight decay), loss again.
pub fn grpo_step(dev: &Device, dtype: DType) -> Result<StepReport> {
    let model = smoke_model(dev, dtype)?;
    let (ids, mask, adv) = smoke_batch(dev)?;
    let cfg = AdamWConfig {
        lr: SMOKE_LR,
        weight_decay: 0.0,
        ..AdamWConfig::default()
    };
    let mut opt = AdamW::new(model.vars(), cfg)?;
    let loss = grpo_loss(&model, &ids, &mask, &adv)?;
    let loss_before = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    let grads = loss.backward()?;
    let (mut sq, mut with_grad, mut finite) = (0f64, 0usize, true);
    for (_, v) in model.vars() {
        if let Some(g) = grads.get(v.as_tensor()) {
            with_grad += 1;
            finite &= all_finite(g)?;
            sq += g
                .to_dtype(DType::F64)?
                .sqr()?
                .sum_all()?
                .to_scalar::<f64>()?;
        }
    }
    opt.step(&grads)?;
    let loss_after = grpo_loss(&model, &ids, &mask, &adv)?
        .to_dtype(DType::F64)?
        .to_scalar::<f64>()?;
    Ok(StepReport {
        loss_before,
        loss_after,
        grad_norm: sq.sqrt(),
        params_with_grad: with_grad,
        params_total: model.vars().len(),
        grads_finite: finite,
    })
}

/// Checks of a [`StepReport`]: `prefix-grpo-step` (finite, every parameter
/// has a gradient, and, when `must_decrease`, the loss went down).
fn step_checks(prefix: &str, s: &StepReport, must_decrease: bool) -> Check {
    let finite = s.loss_before.is_finite()
        && s.loss_after.is_finite()
        && s.grad_norm.is_finite()
        && s.grads_finite;
    let all_grads = s.params_with_grad == s.params_total && s.grad_norm > 0.0;
    let decreased = s.loss_after < s.loss_before;
    let passed = finite && all_grads && (decreased || !must_decrease);
    Check::new(
        &format!("{prefix}-grpo-step"),
        passed,
        Some(s.loss_after - s.loss_before),
        None,
        format!(
            "loss {:.6} -> {:.6} ({}), grad norm {:.4e}, {}/{} parameters with gradient{}",
            s.loss_before,
            s.loss_after,
            if decreased { "down" } else { "NOT down" },
            s.grad_norm,
            s.params_with_grad,
            s.params_total,
            if finite { "" } else { ", NON-FINITE values" }
        ),
    )
}

/// The CPU smoke checks (f32): forward finite and deterministic, GRPO-like
/// step. Returns the checks and the CPU logits (the reference for the GPU).
pub fn cpu_checks() -> Result<(Vec<Check>, Tensor, StepReport)> {
    let cpu = Device::Cpu;
    let a = smoke_logits(&cpu, DType::F32)?;
    let b = smoke_logits(&cpu, DType::F32)?;
    let diff = max_abs_diff(&a, &b)?;
    let finite = all_finite(&a)?;
    let mut checks = vec![Check::new(
        "cpu-f32-forward",
        finite && diff == 0.0,
        Some(diff),
        Some(0.0),
        format!(
            "logits {:?}, finite: {finite}, rebuilt from seed {SMOKE_SEED}: max abs diff {diff:e}",
            a.dims()
        ),
    )];
    let step = grpo_step(&cpu, DType::F32)?;
    checks.push(step_checks("cpu-f32", &step, true));
    Ok((checks, a, step))
}

/// The GPU smoke checks on `dev` against the CPU reference logits and step.
pub fn gpu_checks(dev: &Device, cpu_logits: &Tensor, cpu_step: &StepReport) -> Result<Vec<Check>> {
    let name = device_name(dev);
    let mut checks = Vec::new();
    let g = smoke_logits(dev, DType::F32)?;
    let d = max_abs_diff(&g, cpu_logits)?;
    checks.push(Check::new(
        "cuda-f32-forward-vs-cpu",
        d <= F32_TOLERANCE && all_finite(&g)?,
        Some(d),
        Some(F32_TOLERANCE),
        format!("f32 logits on {name} vs cpu: max abs diff {d:.3e} (limit {F32_TOLERANCE:e})"),
    ));
    let h = smoke_logits(dev, DType::BF16)?;
    let d = max_abs_diff(&h, cpu_logits)?;
    checks.push(Check::new(
        "cuda-bf16-forward",
        d <= BF16_TOLERANCE && all_finite(&h)?,
        Some(d),
        Some(BF16_TOLERANCE),
        format!(
            "bf16 logits on {name} vs cpu f32: max abs diff {d:.3e} (limit {BF16_TOLERANCE:e})"
        ),
    ));
    let s = grpo_step(dev, DType::F32)?;
    let mut c = step_checks("cuda-f32", &s, true);
    let dl = (s.loss_before - cpu_step.loss_before).abs();
    c.passed &= dl <= F32_TOLERANCE;
    c.detail += &format!(
        "; loss vs cpu: |diff| {dl:.3e} before, {:.3e} after the step",
        (s.loss_after - cpu_step.loss_after).abs()
    );
    checks.push(c);
    let s = grpo_step(dev, DType::BF16)?;
    checks.push(step_checks("cuda-bf16", &s, false));
    Ok(checks)
}

/// Runs the smoke test: on the CPU always, and on `gpu` when given. Device
/// errors inside a check surface as `Err` (the CLI exits 1).
pub fn run(gpu: Option<&Device>) -> Result<SelftestReport> {
    let (mut checks, logits, step) = cpu_checks()?;
    let mut devices = vec!["cpu".to_string()];
    if let Some(dev) = gpu {
        devices.push(device_name(dev));
        checks.extend(gpu_checks(dev, &logits, &step)?);
    }
    Ok(SelftestReport {
        devices,
        checks,
        throughput: None,
    })
}

/// What a throughput run measures.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchPlan {
    /// Model shape (random weights).
    pub model: Qwen2Config,
    /// Training batch: sequences × input tokens per sequence (each row is
    /// one prompt token and `train_seq` completion tokens, so the loss sees
    /// `train_seq` targets per row).
    pub train_batch: usize,
    pub train_seq: usize,
    /// Generation: prompts × prompt tokens, new tokens per prompt (greedy,
    /// no stop token, KV cache).
    pub gen_batch: usize,
    pub gen_prompt: usize,
    pub gen_new: usize,
    /// Timed repetitions (median reported), after one warm-up.
    pub runs: usize,
}

impl BenchPlan {
    /// The GPU plan: a ~120M-parameter Qwen2 (vocab 32000, hidden 1024,
    /// intermediate 2816, 8 layers, 16 heads, 2 KV heads); training 16 × 256
    /// tokens; generation 64 prompts × 16 tokens + 64 new. Chosen, not
    /// specified: big enough that the GPU is not idle between kernels,
    /// small enough to finish in well under a minute.
    pub fn gpu() -> Self {
        BenchPlan {
            model: Qwen2Config::tiny(32000, 1024, 2816, 8, 16, 2),
            train_batch: 16,
            train_seq: 256,
            gen_batch: 64,
            gen_prompt: 16,
            gen_new: 64,
            runs: 3,
        }
    }
    /// A CPU plan small enough for tests (the smoke shape).
    pub fn cpu() -> Self {
        BenchPlan {
            model: smoke_config(),
            train_batch: 4,
            train_seq: 32,
            gen_batch: 4,
            gen_prompt: 8,
            gen_new: 8,
            runs: 2,
        }
    }
}

/// Throughput figures of one [`BenchPlan`] on one device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    pub device: String,
    pub dtype: String,
    /// Scalar parameters N (tied embeddings counted once).
    pub params: usize,
    pub train_batch: usize,
    pub train_seq: usize,
    /// Input tokens of one training step.
    pub train_tokens: usize,
    /// Median seconds of one training step (forward, backward, AdamW).
    pub train_step_s: f64,
    pub train_tokens_per_s: f64,
    /// `6 · N · tokens/s / 1e12`.
    pub train_tflops: f64,
    pub gen_batch: usize,
    pub gen_new: usize,
    /// Median seconds of one batched generation.
    pub gen_s: f64,
    /// New tokens per second (all rows).
    pub gen_tokens_per_s: f64,
    /// `2 · N · tokens/s / 1e12`.
    pub gen_tflops: f64,
    /// Dense peak the utilisation is taken against (TFLOP/s), if known.
    pub peak_tflops: Option<f64>,
    /// `train_tflops / peak_tflops`.
    pub train_mfu: Option<f64>,
    /// `gen_tflops / peak_tflops`.
    pub gen_mfu: Option<f64>,
}

/// The median of timings: `entropic_sim::stats::median` (the mean of the
/// two middle values for an even count, NaN for none), the one definition
/// every benchmark of the suite quotes.
fn median(v: Vec<f64>) -> f64 {
    entropic_sim::stats::median(&v)
}

/// Measures `plan` on `dev` in `dtype` (random weights and tokens from seed
/// 0). Timings include a device synchronisation. FLOPs: 6N per trained token
/// and 2N per generated token (the rule `entropic bench llm` uses; attention
/// FLOPs are left out, so the utilisation is slightly understated).
pub fn throughput(
    dev: &Device,
    dtype: DType,
    plan: &BenchPlan,
    peak_tflops: Option<f64>,
) -> Result<Throughput> {
    if plan.runs == 0 || plan.train_seq < 2 || plan.gen_prompt == 0 || plan.gen_batch == 0 {
        return Err(LlmError::input(
            "bench plan",
            "runs, gen_batch and gen_prompt must be > 0, train_seq >= 2",
        ));
    }
    let time = |f: &mut dyn FnMut() -> Result<()>| -> Result<Vec<f64>> {
        f()?;
        dev.synchronize()?;
        let mut out = Vec::with_capacity(plan.runs);
        for _ in 0..plan.runs {
            let t = Instant::now();
            f()?;
            dev.synchronize()?;
            out.push(t.elapsed().as_secs_f64());
        }
        Ok(out)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let model = Qwen2::init(&plan.model, dev, dtype, &mut rng)?;
    let n = model.num_params() as f64;
    let vocab = plan.model.vocab_size as u32;
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = (0..plan.train_batch)
        .map(|_| {
            (
                vec![rng.random_range(0..vocab)],
                (0..plan.train_seq)
                    .map(|_| rng.random_range(0..vocab))
                    .collect(),
            )
        })
        .collect();
    let batch = lm_batch(&pairs, 0, dev)?;
    let mut opt = AdamW::new(model.vars(), AdamWConfig::default())?;
    let train = median(time(&mut || {
        let loss = lm_loss(&model, &batch)?;
        let grads = loss.backward()?;
        opt.step(&grads)
    })?);
    let train_tps = batch.tokens as f64 / train;

    let prompts: Vec<Vec<u32>> = (0..plan.gen_batch)
        .map(|_| {
            (0..plan.gen_prompt)
                .map(|_| rng.random_range(0..vocab))
                .collect()
        })
        .collect();
    let sc = SampleConfig {
        max_new_tokens: plan.gen_new,
        temperature: 0.0,
        top_p: 1.0,
        stop: vec![],
        pad_id: 0,
        use_cache: true,
    };
    let mut made = 0usize;
    let gen = median(time(&mut || {
        let out = generate(&model, &prompts, &sc, Draws::new(0, 0, 0))?;
        made = out.iter().map(|s| s.tokens.len()).sum();
        Ok(())
    })?);
    let gen_tps = made as f64 / gen;
    let (train_tflops, gen_tflops) = (6.0 * n * train_tps / 1e12, 2.0 * n * gen_tps / 1e12);
    Ok(Throughput {
        device: device_name(dev),
        dtype: format!("{dtype:?}").to_lowercase(),
        params: model.num_params(),
        train_batch: plan.train_batch,
        train_seq: plan.train_seq,
        train_tokens: batch.tokens,
        train_step_s: train,
        train_tokens_per_s: train_tps,
        train_tflops,
        gen_batch: plan.gen_batch,
        gen_new: plan.gen_new,
        gen_s: gen,
        gen_tokens_per_s: gen_tps,
        gen_tflops,
        peak_tflops,
        train_mfu: peak_tflops.map(|p| train_tflops / p),
        gen_mfu: peak_tflops.map(|p| gen_tflops / p),
    })
}

/// The CLI's throughput run: on `gpu` in bf16 with [`BenchPlan::gpu`] and
/// utilisation against `peak_tflops`; without a GPU, [`BenchPlan::cpu`] in
/// f32 on the CPU and no utilisation (the CPU's peak is not known here;
/// `entropic bench llm` measures one).
pub fn bench(gpu: Option<&Device>, peak_tflops: f64) -> Result<Throughput> {
    match gpu {
        Some(d) => throughput(d, DType::BF16, &BenchPlan::gpu(), Some(peak_tflops)),
        None => throughput(&Device::Cpu, DType::F32, &BenchPlan::cpu(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::token_logp_entropy;

    #[test]
    fn cpu_smoke_passes() {
        let r = run(None).unwrap();
        for c in &r.checks {
            assert!(c.passed, "{}: {}", c.name, c.detail);
        }
        assert_eq!(r.checks.len(), 2);
        assert_eq!(r.devices, vec!["cpu".to_string()]);
    }

    #[test]
    fn grpo_step_lowers_loss_and_reaches_every_parameter() {
        let s = grpo_step(&Device::Cpu, DType::F32).unwrap();
        assert_eq!(s.params_with_grad, s.params_total);
        assert!(s.loss_after < s.loss_before, "{s:?}");
        assert!(s.grad_norm > 0.0 && s.grads_finite);
    }

    #[test]
    fn grpo_loss_is_zero_for_zero_advantages() {
        // With A = (0, 0) every term of −Σ A·m·logp / Σ m is 0.
        let dev = Device::Cpu;
        let model = smoke_model(&dev, DType::F32).unwrap();
        let (ids, mask, _) = smoke_batch(&dev).unwrap();
        let adv = Tensor::zeros((2, 1), DType::F32, &dev).unwrap();
        let l = grpo_loss(&model, &ids, &mask, &adv).unwrap();
        assert_eq!(l.to_scalar::<f32>().unwrap(), 0.0);
    }

    #[test]
    fn grpo_loss_matches_hand_sum() {
        // Reference: the same sum in plain Rust over token_logp_entropy's logp.
        let dev = Device::Cpu;
        let model = smoke_model(&dev, DType::F32).unwrap();
        let (ids, mask, adv) = smoke_batch(&dev).unwrap();
        let logits = model.forward_train(&ids, &mask).unwrap();
        let (logp, _) = token_logp_entropy(
            &logits.narrow(1, 0, 11).unwrap(),
            &ids.narrow(1, 1, 11).unwrap(),
            1.0,
        )
        .unwrap();
        let logp = logp.to_vec2::<f32>().unwrap();
        let m = mask.to_vec2::<u32>().unwrap();
        let a = [1.0f64, -1.0];
        let (mut num, mut den) = (0f64, 0f64);
        for i in 0..2 {
            for t in 0..11 {
                let mm = m[i][t + 1] as f64;
                num += a[i] * mm * logp[i][t] as f64;
                den += mm;
            }
        }
        let want = -num / den;
        let got = grpo_loss(&model, &ids, &mask, &adv)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap() as f64;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }

    #[test]
    fn max_abs_diff_finds_the_largest_gap() {
        // |[1, 2, 3] − [1, 2.5, 2]| = [0, 0.5, 1] → 1.
        let a = Tensor::new(&[1f32, 2.0, 3.0], &Device::Cpu).unwrap();
        let b = Tensor::new(&[1f32, 2.5, 2.0], &Device::Cpu).unwrap();
        assert_eq!(max_abs_diff(&a, &b).unwrap(), 1.0);
        let c = Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap();
        assert!(max_abs_diff(&a, &c).is_err());
    }

    #[test]
    fn smoke_batch_pads_the_second_row_only() {
        let (ids, mask, _) = smoke_batch(&Device::Cpu).unwrap();
        let m = mask.to_vec2::<u32>().unwrap();
        assert!(m[0].iter().all(|&x| x == 1));
        assert_eq!(&m[1][..4], &[0, 0, 0, 1]);
        assert!(ids
            .to_vec2::<u32>()
            .unwrap()
            .iter()
            .flatten()
            .all(|&x| (1..64).contains(&x)));
    }

    #[test]
    fn bf16_forward_close_to_f32_on_cpu() {
        // The bf16 tolerance is meant for rounding, not for garbage: on the
        // CPU the bf16 smoke logits stay well inside it, and a perturbed
        // model (all weights of another seed) does not.
        let f = smoke_logits(&Device::Cpu, DType::F32).unwrap();
        let h = smoke_logits(&Device::Cpu, DType::BF16).unwrap();
        let d = max_abs_diff(&f, &h).unwrap();
        assert!(d > 0.0 && d < BF16_TOLERANCE / 2.0, "bf16 diff {d}");
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let other = Qwen2::init(&smoke_config(), &Device::Cpu, DType::F32, &mut rng).unwrap();
        let (ids, mask, _) = smoke_batch(&Device::Cpu).unwrap();
        let o = other.forward_train(&ids, &mask).unwrap();
        let garbage = max_abs_diff(&f, &o).unwrap();
        assert!(garbage > BF16_TOLERANCE, "other-seed diff {garbage}");
        eprintln!("bf16 vs f32 {d:e}, other seed {garbage:e}");
    }

    #[test]
    fn cuda_device_errors_without_the_feature() {
        if !candle_core::utils::cuda_is_available() {
            let e = cuda_device(0).unwrap_err().to_string();
            assert!(e.contains("without the `cuda` feature"), "{e}");
        }
    }

    #[test]
    fn gpu_plan_widths_run_on_cpu() {
        // The GPU plan cannot run here; its shape (vocab 32000, hidden 1024,
        // 16 heads over 2 KV heads) is valid and runs with one layer and a
        // tiny batch, so only the sizes differ on the GPU.
        let g = BenchPlan::gpu();
        g.model.validate("gpu plan").unwrap();
        let mut model = g.model.clone();
        model.num_hidden_layers = 1;
        model.max_window_layers = Some(1);
        let plan = BenchPlan {
            model,
            train_batch: 1,
            train_seq: 4,
            gen_batch: 2,
            gen_prompt: 2,
            gen_new: 2,
            runs: 1,
        };
        let t = throughput(&Device::Cpu, DType::F32, &plan, Some(989.0)).unwrap();
        // One layer: embed 32000·1024 + q,o 2·1024² + q-bias 1024 + k,v 2·(1024·128 + 128)
        // + MLP 3·1024·2816 + 2 norms 2·1024, + final norm 1024 (tied head).
        let want = 32000 * 1024
            + 2 * 1024 * 1024
            + 1024
            + 2 * (1024 * 128 + 128)
            + 3 * 1024 * 2816
            + 3 * 1024;
        assert_eq!(t.params, want);
        assert!(t.train_mfu.unwrap() > 0.0 && t.gen_mfu.unwrap() > 0.0);
    }

    #[test]
    fn throughput_cpu_plan_runs() {
        let t = throughput(&Device::Cpu, DType::F32, &BenchPlan::cpu(), Some(1.0)).unwrap();
        assert_eq!(t.device, "cpu");
        // 4 prompts × 8 new tokens, greedy without a stop token: all 32 made.
        assert!((t.gen_tokens_per_s * t.gen_s - 32.0).abs() < 1e-6);
        // 4 rows of 1 prompt + 32 completion tokens: lm_batch feeds 32 inputs
        // per row (the last token is only a target), 128 tokens per step.
        assert!((t.train_tokens_per_s * t.train_step_s - 128.0).abs() < 1e-6);
        assert_eq!(t.train_mfu, Some(t.train_tflops));
        assert!(throughput(
            &Device::Cpu,
            DType::F32,
            &BenchPlan {
                runs: 0,
                ..BenchPlan::cpu()
            },
            None
        )
        .is_err());
    }
}
