//! Fingerprints of training: a hash of the loss and of every parameter's
//! bits after a few steps of `bench llm`'s training step (forward,
//! `backward`, AdamW) on its two shapes, the fused and the composed ops.
//! Run it before and after a change meant to keep the numbers
//! (`RAYON_NUM_THREADS=1 cargo run --release -p entropic-llm --example
//! train_fingerprint`, then with 2): the lines must not move. As with
//! `gen_fingerprint`, the bits depend on the CPU's instruction set, so the
//! fingerprints are compared on one machine, not committed.
use candle_core::Device;
use entropic_llm::bench::{train_setup, BASE, TINY};
use entropic_llm::pretrain::lm_loss;
use entropic_llm::{AdamW, AdamWConfig, TrainOps};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::hash::{Hash, Hasher};

fn main() -> entropic_llm::Result<()> {
    let dev = Device::Cpu;
    for shape in [TINY, BASE] {
        for ops in [TrainOps::Fused, TrainOps::Composed] {
            let (mut model, batch) = train_setup(&dev, &mut ChaCha8Rng::seed_from_u64(0), &shape)?;
            model.set_train_ops(ops);
            let mut opt = AdamW::new(model.vars(), AdamWConfig::default())?;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for _ in 0..3 {
                let loss = lm_loss(&model, &batch)?;
                loss.to_scalar::<f32>()?.to_bits().hash(&mut h);
                opt.step(&loss.backward()?)?;
            }
            for (name, var) in model.vars() {
                name.hash(&mut h);
                for x in var.as_tensor().flatten_all()?.to_vec1::<f32>()? {
                    x.to_bits().hash(&mut h);
                }
            }
            println!("vocab {} {ops:?}: {:016x}", shape.vocab, h.finish());
        }
    }
    Ok(())
}
