//! Profiling aid: the `bench llm` training step alone, N times
//! (`cargo run --release -p entropic-llm --example train_prof -- 20
//! [composed] [base]`), printing forward / backward / AdamW times
//! separately; `composed` runs the training path with
//! [`entropic_llm::TrainOps::Composed`] instead of the default fused ops,
//! `base` the benchmark's base shape (vocabulary 1,024) instead of the tiny
//! one.
use candle_core::Device;
use entropic_llm::bench::{train_setup, BASE, TINY};
use entropic_llm::pretrain::lm_loss;
use entropic_llm::{AdamW, AdamWConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> entropic_llm::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let flags: Vec<String> = std::env::args().skip(2).collect();
    let composed = flags.iter().any(|f| f == "composed");
    let shape = if flags.iter().any(|f| f == "base") {
        &BASE
    } else {
        &TINY
    };
    let dev = Device::Cpu;
    let (mut model, batch) = train_setup(&dev, &mut ChaCha8Rng::seed_from_u64(0), shape)?;
    if composed {
        model.set_train_ops(entropic_llm::TrainOps::Composed);
    }
    let mut opt = AdamW::new(model.vars(), AdamWConfig::default())?;
    let (mut f, mut b, mut o) = (Vec::new(), Vec::new(), Vec::new());
    // in candle's CPU pool, as the trainers run (entropic_llm::generate's doc)
    dev.with_context(|| -> entropic_llm::Result<()> {
        for _ in 0..n {
            let t = Instant::now();
            let loss = lm_loss(&model, &batch)?;
            f.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let grads = loss.backward()?;
            b.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            opt.step(&grads)?;
            o.push(t.elapsed().as_secs_f64());
        }
        Ok(())
    })?;
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (f, b, o) = (med(f), med(b), med(o));
    println!(
        "forward {:.1} ms, backward {:.1} ms, adamw {:.1} ms, total {:.1} ms → {:.0} tok/s",
        f * 1e3,
        b * 1e3,
        o * 1e3,
        (f + b + o) * 1e3,
        batch.tokens as f64 / (f + b + o)
    );
    Ok(())
}
