use candle_core::{DType, Device};
use entropic_llm::optim::{AdamW, AdamWConfig};
use entropic_llm::pretrain::{lm_batch, lm_loss};
use entropic_llm::*;
use rand::{Rng, SeedableRng};
use std::time::Instant;
fn main() {
    let dev = Device::Cpu;
    let cfg = Qwen2Config::tiny(48, 128, 512, 4, 4, 2);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let model = Qwen2::init(&cfg, &dev, DType::F32, &mut rng).unwrap();
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = (0..64)
        .map(|_| {
            (
                vec![rng.random_range(0..48)],
                (0..48).map(|_| rng.random_range(0..48)).collect(),
            )
        })
        .collect();
    let batch = lm_batch(&pairs, 0, &dev).unwrap();
    let mut opt = AdamW::new(model.vars(), AdamWConfig::default()).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let logits = model.forward_train(&batch.input, &batch.mask).unwrap();
        let t1 = t.elapsed().as_secs_f64();
        let loss = lm_loss(&model, &batch).unwrap();
        let t2 = t.elapsed().as_secs_f64();
        let g = loss.backward().unwrap();
        let t3 = t.elapsed().as_secs_f64();
        opt.step(&g).unwrap();
        let t4 = t.elapsed().as_secs_f64();
        let _ = logits;
        println!(
            "fwd {t1:.3} fwd+loss {:.3} bwd {:.3} opt {:.3}",
            t2 - t1,
            t3 - t2,
            t4 - t3
        );
    }
}
