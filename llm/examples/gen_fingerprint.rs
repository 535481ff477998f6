//! Fingerprints of generation: a hash of the tokens, log-probs and
//! entropies `generate` returns for `bench llm`'s two shapes (top-p 1 and
//! 0.9 with the cache, top-p 1 recomputed, ragged prompts, a stop token).
//! Run it before and after a change meant to keep the numbers
//! (`RAYON_NUM_THREADS=1 cargo run --release -p entropic-llm --example
//! gen_fingerprint`, then with 2): the lines must not move. The bits
//! depend on the CPU's instruction set (the matmul kernels are chosen at
//! run time), so the fingerprints are compared on one machine, not
//! committed.
use candle_core::Device;
use entropic_llm::bench::{train_setup, BASE, TINY};
use entropic_llm::sample::{generate, Draws, SampleConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hash::{Hash, Hasher};

fn main() -> entropic_llm::Result<()> {
    let dev = Device::Cpu;
    for shape in [TINY, BASE] {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let (model, _) = train_setup(&dev, &mut rng, &shape)?;
        let v = shape.vocab as u32;
        let prompts: Vec<Vec<u32>> = (0..shape.prompts)
            .map(|i| {
                (0..shape.prompt_len - i % 5)
                    .map(|_| rng.random_range(0..v))
                    .collect()
            })
            .collect();
        for (top_p, use_cache) in [(1.0, true), (0.9, true), (1.0, false)] {
            let sc = SampleConfig {
                max_new_tokens: shape.new_tokens,
                temperature: 1.0,
                top_p,
                stop: vec![3],
                pad_id: 0,
                use_cache,
            };
            let out = generate(&model, &prompts, &sc, Draws::new(7, 0, 1))?;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for s in &out {
                s.tokens.hash(&mut h);
                for x in s.logps.iter().chain(&s.entropies) {
                    x.to_bits().hash(&mut h);
                }
            }
            println!(
                "vocab {} top_p {top_p} cache {use_cache}: {:016x}",
                shape.vocab,
                h.finish()
            );
        }
    }
    Ok(())
}
