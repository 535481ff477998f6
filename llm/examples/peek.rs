use candle_core::{DType, Device};
use entropic_llm::*;
use rand::SeedableRng;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let ck = checkpoint::load(std::path::Path::new(&dir), &Device::Cpu, DType::F32).unwrap();
    let arith: tasks::ArithConfig =
        serde_json::from_value(ck.task.as_ref().unwrap()["arith"].clone()).unwrap();
    let probs = arith.validation_problems(8);
    let sc = SampleConfig {
        max_new_tokens: 24,
        temperature: 1.0,
        top_p: 1.0,
        stop: vec![2],
        pad_id: 0,
        use_cache: true,
    };
    let prompts: Vec<Vec<u32>> = probs
        .iter()
        .map(|p| ck.tok.encode(&p.prompt).unwrap())
        .collect();
    let out = generate(
        &ck.model,
        &prompts,
        &sc,
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap();
    for (p, s) in probs.iter().zip(out) {
        println!(
            "{} | {} | {}",
            p.prompt,
            ck.tok.decode(&s.tokens).unwrap(),
            p.answer
        );
    }
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for _ in 0..4 {
        let (p, w) = arith.train_example(0.4, &mut r);
        println!("train: {}{}", p.prompt, w);
    }
}
