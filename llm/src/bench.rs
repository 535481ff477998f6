//! `entropic bench llm`: generation and training throughput on CPU, with
//! achieved GFLOP/s against a measured FP32 matmul peak.
//!
//! Shape (the one PyTorch was measured on): Qwen2, vocab 48, hidden 128,
//! intermediate 512, 4 layers, 4 heads, 2 KV heads, tied embeddings, f32;
//! training 64 × 48 tokens (forward, backward, AdamW); generation 64
//! prompts × 32 new tokens. FLOPs by the 6N (training) and 2N (generation)
//! rules, N = parameters, as the PyTorch figures were computed.
use crate::config::Qwen2Config;
use crate::error::Result;
use crate::model::Qwen2;
use crate::optim::{AdamW, AdamWConfig};
use crate::pretrain::{lm_batch, lm_loss, LmBatch};
use crate::sample::{generate, Draws, SampleConfig};
use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// The median of timings: `entropic_sim::stats::median` (the mean of the
/// two middle values for an even count, NaN for none), the one definition
/// every benchmark of the suite quotes.
fn median(v: Vec<f64>) -> f64 {
    entropic_sim::stats::median(&v)
}

fn time<F: FnMut() -> Result<()>>(runs: usize, mut f: F) -> Result<Vec<f64>> {
    f()?; // warm-up
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        out.push(t.elapsed().as_secs_f64());
    }
    Ok(out)
}

/// The training benchmark's model (Qwen2 vocab 48, hidden 128, 4 layers,
/// 4 heads, 2 KV heads, tied, f32) and batch: 64 sequences of 48 tokens
/// (49-token sequences, the loss on all 48 targets). Also used by
/// `examples/train_prof.rs`.
pub fn train_setup(dev: &Device, rng: &mut ChaCha8Rng) -> Result<(Qwen2, LmBatch)> {
    let cfg = Qwen2Config::tiny(48, 128, 512, 4, 4, 2);
    let model = Qwen2::init(&cfg, dev, DType::F32, rng)?;
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = (0..64)
        .map(|_| {
            (
                vec![rng.random_range(0..48)],
                (0..48).map(|_| rng.random_range(0..48)).collect(),
            )
        })
        .collect();
    Ok((model, lm_batch(&pairs, 0, dev)?))
}

/// Runs the benchmark; returns a JSON list, one object per configuration,
/// and prints a table unless `json`.
pub fn bench_llm(json: bool) -> Result<serde_json::Value> {
    let dev = Device::Cpu;
    let threads = candle_core::utils::get_num_threads();
    // FP32 peak: a 1024³ matmul.
    let n = 1024;
    let a = Tensor::randn(0f32, 1.0, (n, n), &dev)?;
    let b = Tensor::randn(0f32, 1.0, (n, n), &dev)?;
    let mm = time(5, || {
        a.matmul(&b)?;
        Ok(())
    })?;
    let peak = 2.0 * (n as f64).powi(3) / median(mm.clone()) / 1e9;

    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (model, batch) = train_setup(&dev, &mut rng)?;
    let params = model.num_params() as f64;
    let mut opt = AdamW::new(model.vars(), AdamWConfig::default())?;
    let train = time(5, || {
        let loss = lm_loss(&model, &batch)?;
        let grads = loss.backward()?;
        opt.step(&grads)?;
        Ok(())
    })?;
    let train_tps = batch.tokens as f64 / median(train.clone());

    // Generation: 64 prompts of 16 tokens, 32 new tokens each, no stop token.
    let prompts: Vec<Vec<u32>> = (0..64)
        .map(|_| (0..16).map(|_| rng.random_range(0..48)).collect())
        .collect();
    let gen = |use_cache: bool, runs: usize| -> Result<Vec<f64>> {
        let sc = SampleConfig {
            max_new_tokens: 32,
            temperature: 1.0,
            top_p: 1.0,
            stop: vec![],
            pad_id: 0,
            use_cache,
        };
        let mut step = 0u64;
        time(runs, || {
            step += 1;
            generate(&model, &prompts, &sc, Draws::new(1, 0, step)).map(|_| ())
        })
    };
    let cached = gen(true, 5)?;
    let recompute = gen(false, 2)?;
    let gen_tps = 64.0 * 32.0 / median(cached.clone());
    let recompute_tps = 64.0 * 32.0 / median(recompute.clone());

    let rows = serde_json::json!([
        {"config": "peak-matmul-1024", "threads": threads, "runs": mm.len(), "median_s": median(mm), "gflops": peak},
        {"config": "train-64x48", "threads": threads, "runs": train.len(), "params": params, "median_s": median(train),
         "tokens_per_s": train_tps, "gflops": 6.0 * params * train_tps / 1e9, "peak_share": 6.0 * params * train_tps / 1e9 / peak},
        {"config": "generate-64x32-kv", "threads": threads, "runs": cached.len(), "median_s": median(cached),
         "tokens_per_s": gen_tps, "gflops": 2.0 * params * gen_tps / 1e9, "peak_share": 2.0 * params * gen_tps / 1e9 / peak},
        {"config": "generate-64x32-recompute", "threads": threads, "runs": recompute.len(), "median_s": median(recompute),
         "tokens_per_s": recompute_tps, "kv_speedup": gen_tps / recompute_tps},
    ]);
    if !json {
        for r in rows.as_array().into_iter().flatten() {
            println!("{r}");
        }
    }
    Ok(rows)
}
