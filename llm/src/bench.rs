//! `entropic bench llm`: generation and training throughput on CPU, with
//! achieved GFLOP/s against a measured FP32 matmul peak.
//!
//! Shapes ([`Shape`]): Qwen2, hidden 128, intermediate 512, 4 layers, 4
//! heads, 2 KV heads, tied embeddings, f32; [`TINY`] (vocab 48, training 64
//! × 48 tokens, generation 64 prompts × 32 new tokens, the shape PyTorch
//! was first measured on) and [`BASE`] (the LLM-like base: vocab 1,024,
//! training 16 × 104, generation 16 prompts × 80 new tokens). Training is
//! forward, backward and AdamW. FLOPs by the 6N (training) and 2N
//! (generation) rules, N = parameters, as the PyTorch figures are computed
//! (`scripts/bench-ref.py` runs both shapes).
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

/// One benchmarked shape: a Qwen2 model (hidden 128, intermediate 512, 4
/// layers, 4 heads, 2 KV heads, tied, f32) of `vocab` tokens, a training
/// batch of `seqs` sequences of `train_len` target tokens, and generation
/// of `new_tokens` for `prompts` prompts of `prompt_len` tokens.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub vocab: usize,
    pub seqs: usize,
    pub train_len: usize,
    pub prompts: usize,
    pub prompt_len: usize,
    pub new_tokens: usize,
}

/// The shape PyTorch was first measured on (`train-64x48`,
/// `generate-64x32-kv`).
pub const TINY: Shape = Shape {
    vocab: 48,
    seqs: 64,
    train_len: 48,
    prompts: 64,
    prompt_len: 16,
    new_tokens: 32,
};

/// The LLM-like base's shape (`scenarios/llm-base.toml`: BPE vocabulary
/// 1,024, the same layers) at the validation preset's step: 4 prompts × 4
/// samples = 16 sequences of about 24 prompt and 80 response tokens
/// (`train-base-16x104`, `generate-base-16x80-kv`).
pub const BASE: Shape = Shape {
    vocab: 1024,
    seqs: 16,
    train_len: 104,
    prompts: 16,
    prompt_len: 24,
    new_tokens: 80,
};

/// The training benchmark's model and batch for `shape`: `seqs` sequences
/// of `train_len + 1` random tokens, the loss on the last `train_len`.
/// Also used by `examples/train_prof.rs` (with [`TINY`]).
pub fn train_setup(dev: &Device, rng: &mut ChaCha8Rng, shape: &Shape) -> Result<(Qwen2, LmBatch)> {
    let v = shape.vocab as u32;
    let cfg = Qwen2Config::tiny(shape.vocab, 128, 512, 4, 4, 2);
    let model = Qwen2::init(&cfg, dev, DType::F32, rng)?;
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = (0..shape.seqs)
        .map(|_| {
            (
                vec![rng.random_range(0..v)],
                (0..shape.train_len)
                    .map(|_| rng.random_range(0..v))
                    .collect(),
            )
        })
        .collect();
    Ok((model, lm_batch(&pairs, 0, dev)?))
}

/// The generation benchmark's prompts for `shape`: `prompts` rows of
/// `prompt_len` random tokens (also used by `examples/gen_threads.rs`).
pub fn bench_prompts(rng: &mut ChaCha8Rng, shape: &Shape) -> Vec<Vec<u32>> {
    let v = shape.vocab as u32;
    (0..shape.prompts)
        .map(|_| {
            (0..shape.prompt_len)
                .map(|_| rng.random_range(0..v))
                .collect()
        })
        .collect()
}

/// The generation benchmark's sampling: `new_tokens` at T = 1, top-p 1,
/// no stop token.
pub fn bench_sampling(shape: &Shape, use_cache: bool) -> SampleConfig {
    SampleConfig {
        max_new_tokens: shape.new_tokens,
        temperature: 1.0,
        top_p: 1.0,
        stop: vec![],
        pad_id: 0,
        use_cache,
    }
}

/// Training and cached/recomputed generation throughput of `shape`:
/// `(train seconds, cached seconds, recompute seconds, params, tokens per
/// training step)`.
fn shape_timings(
    dev: &Device,
    shape: &Shape,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>, f64, usize)> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (model, batch) = train_setup(dev, &mut rng, shape)?;
    let params = model.num_params() as f64;
    let mut opt = AdamW::new(model.vars(), AdamWConfig::default())?;
    // in candle's CPU pool, as the trainers run (crate::sample::generate)
    let train = time(5, || {
        dev.with_context(|| {
            let loss = lm_loss(&model, &batch)?;
            let grads = loss.backward()?;
            opt.step(&grads)
        })
    })?;
    let prompts = bench_prompts(&mut rng, shape);
    let gen = |use_cache: bool, runs: usize| -> Result<Vec<f64>> {
        let sc = bench_sampling(shape, use_cache);
        let mut step = 0u64;
        time(runs, || {
            step += 1;
            generate(&model, &prompts, &sc, Draws::new(1, 0, step)).map(|_| ())
        })
    };
    let cached = gen(true, 5)?;
    let recompute = gen(false, 2)?;
    Ok((train, cached, recompute, params, batch.tokens))
}

/// Runs the benchmark and prints one line per configuration: a JSON
/// object with `json`, else text.
pub fn bench_llm(json: bool) -> Result<()> {
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

    let mut rows = vec![serde_json::json!(
        {"config": "peak-matmul-1024", "threads": threads, "runs": mm.len(), "median_s": median(mm), "gflops": peak}
    )];
    for (name, shape) in [("", TINY), ("base-", BASE)] {
        let (train, cached, recompute, params, tokens) = shape_timings(&dev, &shape)?;
        let train_tps = tokens as f64 / median(train.clone());
        let new = (shape.prompts * shape.new_tokens) as f64;
        let gen_tps = new / median(cached.clone());
        let recompute_tps = new / median(recompute.clone());
        let (s, l, p, n) = (shape.seqs, shape.train_len, shape.prompts, shape.new_tokens);
        rows.extend([
            serde_json::json!({"config": format!("train-{name}{s}x{l}"), "threads": threads, "runs": train.len(),
             "params": params, "median_s": median(train), "tokens_per_s": train_tps,
             "gflops": 6.0 * params * train_tps / 1e9, "peak_share": 6.0 * params * train_tps / 1e9 / peak}),
            serde_json::json!({"config": format!("generate-{name}{p}x{n}-kv"), "threads": threads, "runs": cached.len(),
             "median_s": median(cached), "tokens_per_s": gen_tps, "gflops": 2.0 * params * gen_tps / 1e9,
             "peak_share": 2.0 * params * gen_tps / 1e9 / peak}),
            serde_json::json!({"config": format!("generate-{name}{p}x{n}-recompute"), "threads": threads,
             "runs": recompute.len(), "median_s": median(recompute), "tokens_per_s": recompute_tps,
             "kv_speedup": gen_tps / recompute_tps}),
        ]);
    }
    for r in &rows {
        if json {
            println!("{r}");
        } else {
            println!("{}", describe_row(r));
        }
    }
    Ok(())
}

/// One configuration's figures as a line of text.
fn describe_row(r: &serde_json::Value) -> String {
    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    let config = r["config"].as_str().unwrap_or("?");
    let runs = format!(
        "{} thread(s), median of {} runs of {:.3} s",
        r["threads"],
        r["runs"],
        f("median_s")
    );
    if config.starts_with("peak-") {
        format!(
            "{config}: {:.1} GFLOP/s (the f32 matmul peak of this run), {runs}",
            f("gflops")
        )
    } else if r.get("kv_speedup").is_some() {
        format!(
            "{config}: {:.0} tokens/s; with the KV cache {:.1}× faster, {runs}",
            f("tokens_per_s"),
            f("kv_speedup")
        )
    } else {
        format!(
            "{config}: {:.0} tokens/s, {:.1} GFLOP/s by {}N = {:.0}% of the peak, {runs}",
            f("tokens_per_s"),
            f("gflops"),
            if config.starts_with("train") { 6 } else { 2 },
            100.0 * f("peak_share")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::describe_row;

    /// Each kind of row reads as text with its figures, not as JSON.
    #[test]
    fn rows_read_as_text() {
        let peak = serde_json::json!({"config": "peak-matmul-1024", "threads": 2, "runs": 5,
            "median_s": 0.0115, "gflops": 186.4});
        let train = serde_json::json!({"config": "train-64x48", "threads": 2, "runs": 5,
            "median_s": 0.487, "tokens_per_s": 6308.8, "gflops": 37.5, "peak_share": 0.213});
        let rec = serde_json::json!({"config": "generate-64x32-recompute", "threads": 1,
            "runs": 2, "median_s": 2.158, "tokens_per_s": 949.0, "kv_speedup": 14.34});
        let p = describe_row(&peak);
        assert!(p.starts_with("peak-matmul-1024: 186.4 GFLOP/s"), "{p}");
        let t = describe_row(&train);
        assert!(
            t.contains("6309 tokens/s, 37.5 GFLOP/s by 6N = 21% of the peak")
                && t.contains("2 thread(s), median of 5 runs of 0.487 s"),
            "{t}"
        );
        let r = describe_row(&rec);
        assert!(
            r.contains("949 tokens/s; with the KV cache 14.3× faster"),
            "{r}"
        );
        assert!(![p, t, r].iter().any(|l| l.contains('{')));
    }
}
