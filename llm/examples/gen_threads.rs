//! Measurement aid for [`entropic_llm::device::set_cpu_matmul_threading`]:
//! cached generation of `bench llm`'s two shapes at several of the `gemm`
//! crate's threading thresholds, interleaved, 5 timed rounds after one
//! warm-up, medians in tokens/s
//! (`RAYON_NUM_THREADS=2 cargo run --release -p entropic-llm --example
//! gen_threads`).
use candle_core::Device;
use entropic_llm::bench::{bench_prompts, bench_sampling, train_setup, BASE, TINY};
use entropic_llm::sample::{generate, Draws};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> entropic_llm::Result<()> {
    let dev = Device::Cpu;
    // gemm's default (48·48·256), then 4, 8 and 16 M multiply-adds
    let ths: Vec<usize> = vec![589_824, 4 << 20, 8 << 20, 16 << 20];
    for shape in [TINY, BASE] {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let (model, _) = train_setup(&dev, &mut rng, &shape)?;
        let prompts = bench_prompts(&mut rng, &shape);
        let sc = bench_sampling(&shape, true);
        let mut res = vec![Vec::new(); ths.len()];
        for round in 0..6 {
            for (i, &t) in ths.iter().enumerate() {
                gemm::set_threading_threshold(t);
                let s = Instant::now();
                let out = generate(&model, &prompts, &sc, Draws::new(1, 0, 1))?;
                let el = s.elapsed().as_secs_f64();
                if round > 0 {
                    res[i].push((shape.prompts * shape.new_tokens) as f64 / el);
                }
                let _ = out;
            }
        }
        for (i, r) in res.iter_mut().enumerate() {
            r.sort_by(f64::total_cmp);
            println!(
                "vocab {} threshold {:>20}: median {:.0} tok/s  all {:?}",
                shape.vocab,
                ths[i],
                r[r.len() / 2],
                r.iter().map(|x| *x as i64).collect::<Vec<_>>()
            );
        }
    }
    Ok(())
}
