//! Model, sampler, checkpoint and optimizer tests on tiny configs.
use candle_core::{DType, Device, Tensor, D};
use entropic_llm::checkpoint;
use entropic_llm::optim::{AdamW, AdamWConfig};
use entropic_llm::sample::{generate, token_logp_entropy, Draws, SampleConfig};
use entropic_llm::{Qwen2, Qwen2Config, Tok};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn tiny(tied: bool) -> Qwen2Config {
    let mut c = Qwen2Config::tiny(58, 16, 32, 2, 4, 2);
    c.tie_word_embeddings = tied;
    c.initializer_range = 0.2; // larger weights so every path matters
    c
}

fn model(tied: bool, dtype: DType, seed: u64) -> Qwen2 {
    Qwen2::init(
        &tiny(tied),
        &Device::Cpu,
        dtype,
        &mut ChaCha8Rng::seed_from_u64(seed),
    )
    .unwrap()
}

/// A scratch folder, deleted (with its temporary parent) when dropped.
fn tmp(name: &str) -> entropic_sim::scratch::Scratch {
    entropic_sim::scratch::Scratch::new(name)
}

/// Batch of 2 rows, the second left-padded by 2.
fn batch() -> (Tensor, Tensor) {
    let ids = Tensor::new(
        &[[5u32, 9, 12, 7, 30, 2], [0, 0, 14, 3, 8, 21]],
        &Device::Cpu,
    )
    .unwrap();
    let mask = Tensor::new(&[[1u32, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]], &Device::Cpu).unwrap();
    (ids, mask)
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

#[test]
fn every_parameter_gets_a_gradient() {
    for tied in [true, false] {
        let m = model(tied, DType::F32, 1);
        let (ids, mask) = batch();
        let logits = m.forward_train(&ids, &mask).unwrap();
        let (logp, h) = token_logp_entropy(&logits, &ids, 1.0).unwrap();
        let loss = (logp.sum_all().unwrap().neg().unwrap() + h.sum_all().unwrap()).unwrap();
        let grads = loss.backward().unwrap();
        assert!(!m.vars().is_empty());
        for (name, v) in m.vars() {
            let g = grads
                .get(v.as_tensor())
                .unwrap_or_else(|| panic!("{name}: no gradient"));
            let s = g
                .abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(s > 0.0 && s.is_finite(), "{name}: gradient sum {s}");
        }
    }
}

#[test]
fn training_path_gradient_matches_central_differences() {
    // f64 model; loss = −Σ logp + Σ H; d loss / d θ for one element of a norm,
    // a q bias and a k weight, against (L(θ+ε) − L(θ−ε)) / 2ε.
    let m = model(false, DType::F64, 2);
    let (ids, mask) = batch();
    let loss_of = |m: &Qwen2| {
        let logits = m.forward_train(&ids, &mask).unwrap();
        let (logp, h) = token_logp_entropy(&logits, &ids, 0.7).unwrap();
        // Padding positions are left out of the loss, as a trainer does.
        let w = mask.to_dtype(DType::F64).unwrap();
        ((logp * &w).unwrap().sum_all().unwrap().neg().unwrap()
            + (h * &w).unwrap().sum_all().unwrap())
        .unwrap()
    };
    let grads = loss_of(&m).backward().unwrap();
    for name in [
        "model.layers.0.input_layernorm.weight",
        "model.layers.1.self_attn.q_proj.bias",
        "model.layers.0.self_attn.k_proj.weight",
    ] {
        let v = &m.vars().iter().find(|(n, _)| n == name).unwrap().1;
        let g = grads
            .get(v.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let orig = v
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let eps = 1e-5;
        let at = |i: usize, d: f64| {
            let mut x = orig.clone();
            x[i] += d;
            v.set(&Tensor::from_vec(x, v.dims(), &Device::Cpu).unwrap())
                .unwrap();
            loss_of(&m).to_scalar::<f64>().unwrap()
        };
        for i in [0usize, 3] {
            let fd = (at(i, eps) - at(i, -eps)) / (2.0 * eps);
            assert!(
                (fd - g[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                "{name}[{i}]: fd {fd} vs grad {}",
                g[i]
            );
        }
        v.set(&Tensor::from_vec(orig, v.dims(), &Device::Cpu).unwrap())
            .unwrap();
    }
}

#[test]
fn sampling_path_logits_equal_training_path() {
    let m = model(true, DType::F32, 3);
    let (ids, mask) = batch();
    let a = m.forward_masked(&ids, &mask, false).unwrap();
    let b = m.forward_masked(&ids, &mask, true).unwrap();
    let d = max_diff(&a, &b);
    assert!(d < 1e-5, "fused vs primitive logits differ by {d}");
}

#[test]
fn left_padding_does_not_change_logits() {
    // Row 2 of `batch()` is row [14, 3, 8, 21] left-padded by 2: its logits at
    // the real positions must equal those of the unpadded sequence.
    let m = model(false, DType::F32, 4);
    let (ids, mask) = batch();
    let padded = m
        .forward_train(&ids, &mask)
        .unwrap()
        .get(1)
        .unwrap()
        .narrow(0, 2, 4)
        .unwrap();
    let alone = Tensor::new(&[[14u32, 3, 8, 21]], &Device::Cpu).unwrap();
    let ones = Tensor::ones((1, 4), DType::U32, &Device::Cpu).unwrap();
    let plain = m.forward_train(&alone, &ones).unwrap().get(0).unwrap();
    let d = max_diff(&padded, &plain);
    assert!(d < 1e-5, "padding changed logits by {d}");
}

#[test]
fn save_load_gives_identical_logits() {
    for tied in [true, false] {
        let m = model(tied, DType::F32, 5);
        let dir = tmp(&format!("roundtrip-{tied}"));
        checkpoint::save(&dir, &m, &Tok::char_level().unwrap(), None).unwrap();
        let ck = checkpoint::load(&dir, &Device::Cpu, DType::F32).unwrap();
        assert_eq!(ck.model.config().tie_word_embeddings, tied);
        let (ids, mask) = batch();
        let a = m.forward_train(&ids, &mask).unwrap();
        let b = ck.model.forward_train(&ids, &mask).unwrap();
        assert_eq!(max_diff(&a, &b), 0.0);
        assert_eq!(ck.model.num_params(), m.num_params());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn prompts() -> Vec<Vec<u32>> {
    vec![vec![5, 9, 12], vec![14, 3, 8, 21, 6], vec![40]]
}

#[test]
fn kv_cache_greedy_equals_recomputation() {
    let m = model(true, DType::F32, 6);
    let mut sc = SampleConfig {
        max_new_tokens: 12,
        temperature: 0.0,
        top_p: 1.0,
        stop: vec![],
        pad_id: 0,
        use_cache: true,
    };
    let a = generate(&m, &prompts(), &sc, Draws::new(0, 0, 0)).unwrap();
    sc.use_cache = false;
    let b = generate(&m, &prompts(), &sc, Draws::new(0, 0, 0)).unwrap();
    assert_eq!(
        a.iter().map(|s| s.tokens.clone()).collect::<Vec<_>>(),
        b.iter().map(|s| s.tokens.clone()).collect::<Vec<_>>()
    );
    assert!(a.iter().all(|s| s.tokens.len() == 12));
    // Greedy tokens are the argmax of the full-sequence training-path logits.
    let row: Vec<u32> = prompts()[1]
        .iter()
        .chain(a[1].tokens.iter())
        .copied()
        .collect();
    let l = row.len();
    let logits = m
        .forward_train(
            &Tensor::from_vec(row.clone(), (1, l), &Device::Cpu).unwrap(),
            &Tensor::ones((1, l), DType::U32, &Device::Cpu).unwrap(),
        )
        .unwrap();
    let arg = logits
        .argmax(D::Minus1)
        .unwrap()
        .get(0)
        .unwrap()
        .to_vec1::<u32>()
        .unwrap();
    assert_eq!(&arg[4..l - 1], &row[5..]);
}

#[test]
fn sampling_stops_and_reports_behaviour_logprobs() {
    let m = model(true, DType::F32, 7);
    // Stop on every token: each row stops after one token.
    let sc = SampleConfig {
        max_new_tokens: 8,
        temperature: 1.0,
        top_p: 0.9,
        stop: (0..58).collect(),
        pad_id: 0,
        use_cache: true,
    };
    let out = generate(&m, &prompts(), &sc, Draws::new(1, 0, 0)).unwrap();
    assert!(out.iter().all(|s| s.stopped && s.tokens.len() == 1));
    // Behaviour log-prob equals log softmax(z / T) of the prompt's last position.
    let p = &prompts()[0];
    let logits = m
        .forward_train(
            &Tensor::from_vec(p.clone(), (1, 3), &Device::Cpu).unwrap(),
            &Tensor::ones((1, 3), DType::U32, &Device::Cpu).unwrap(),
        )
        .unwrap();
    let lsm = candle_nn::ops::log_softmax(&logits.get(0).unwrap().get(2).unwrap(), 0)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert!((lsm[out[0].tokens[0] as usize] - out[0].logps[0]).abs() < 1e-5);
}

#[test]
fn entropy_and_logp_equal_direct_computation() {
    // H = −Σ p log p with p = softmax(z/T), computed in f64 by hand.
    let z = [[[1.0f32, -0.5, 2.0, 0.0], [0.3, 0.3, -1.0, 4.0]]];
    let logits = Tensor::new(&z, &Device::Cpu).unwrap();
    let tgt = Tensor::new(&[[2u32, 1]], &Device::Cpu).unwrap();
    let t = 0.6;
    let (lp, h) = token_logp_entropy(&logits, &tgt, t).unwrap();
    let (lp, h) = (
        lp.get(0).unwrap().to_vec1::<f32>().unwrap(),
        h.get(0).unwrap().to_vec1::<f32>().unwrap(),
    );
    for (pos, &target) in [2usize, 1].iter().enumerate() {
        let zs: Vec<f64> = z[0][pos].iter().map(|&x| x as f64 / t).collect();
        let lse = zs.iter().map(|x| x.exp()).sum::<f64>().ln();
        let logp: Vec<f64> = zs.iter().map(|x| x - lse).collect();
        let ent = -logp.iter().map(|l| l.exp() * l).sum::<f64>();
        assert!((lp[pos] as f64 - logp[target]).abs() < 1e-6);
        assert!((h[pos] as f64 - ent).abs() < 1e-6);
    }
}

#[test]
fn adamw_matches_pytorch_update() {
    // One parameter p = [1.0, -2.0], gradient of loss = Σ p² is 2p.
    // PyTorch AdamW(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01), two steps:
    //   step 1: p ← p(1 − 0.001); m = 0.1g; v = 0.001g²; p ← p − 0.1·(m/0.1)/(sqrt(v/0.001) + 1e-8)
    //           ≈ p·0.999 − 0.1·sign(g)  → [0.899, -1.898]
    // step 2 computed below in f64 with the same formulas.
    let p0 = [1.0f64, -2.0];
    let (lr, b1, b2, eps, wd) = (0.1, 0.9, 0.999, 1e-8, 0.01);
    let mut p = p0;
    let (mut m, mut v) = ([0.0f64; 2], [0.0f64; 2]);
    for t in 1..=2 {
        for i in 0..2 {
            let g = 2.0 * p[i];
            p[i] *= 1.0 - lr * wd;
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            let denom = v[i].sqrt() / (1.0 - b2.powi(t)).sqrt() + eps;
            p[i] -= lr / (1.0 - b1.powi(t)) * m[i] / denom;
        }
    }
    let var = candle_core::Var::new(&[1.0f64, -2.0], &Device::Cpu).unwrap();
    let mut opt = AdamW::new(
        &[("p".into(), var.clone())],
        AdamWConfig {
            lr,
            beta1: b1,
            beta2: b2,
            eps,
            weight_decay: wd,
        },
    )
    .unwrap();
    for _ in 0..2 {
        let g = var
            .as_tensor()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        opt.step(&g).unwrap();
    }
    let got = var.as_tensor().to_vec1::<f64>().unwrap();
    assert!(
        (got[0] - p[0]).abs() < 1e-6 && (got[1] - p[1]).abs() < 1e-6,
        "{got:?} vs {p:?}"
    );
    assert!((p[0] - 0.899).abs() > 1e-3, "two steps differ from one");
}

#[test]
fn adamw_state_round_trip_resumes_exactly() {
    let run = |split: Option<usize>| -> Vec<f32> {
        let m = model(true, DType::F32, 8);
        let (ids, mask) = batch();
        let mut opt = AdamW::new(m.vars(), AdamWConfig::default()).unwrap();
        for step in 0..4 {
            if Some(step) == split {
                let dir = tmp("adam");
                let path = dir.with_extension("safetensors");
                opt.save(&path).unwrap();
                let mut fresh = AdamW::new(m.vars(), AdamWConfig::default()).unwrap();
                fresh.load(&path).unwrap();
                assert_eq!(fresh.step_count(), opt.step_count());
                let s = fresh.state();
                for (n, t) in &opt.state().m {
                    assert_eq!(max_diff(t, &s.m[n]), 0.0);
                }
                opt = fresh;
                let _ = std::fs::remove_file(&path);
            }
            let logits = m.forward_train(&ids, &mask).unwrap();
            let (lp, _) = token_logp_entropy(&logits, &ids, 1.0).unwrap();
            opt.step(&lp.sum_all().unwrap().neg().unwrap().backward().unwrap())
                .unwrap();
        }
        m.vars()[1]
            .1
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    assert_eq!(run(None), run(Some(2)));
}

#[test]
fn char_tokenizer_round_trips_and_saves() {
    let tok = Tok::char_level().unwrap();
    let text = "123+456=9750>579";
    let ids = tok.encode(text).unwrap();
    assert_eq!(ids.len(), text.len());
    assert_eq!(tok.decode(&ids).unwrap(), text);
    let eos = tok.id("</s>").unwrap();
    assert_eq!(
        tok.encode("1</s>").unwrap(),
        vec![tok.id("1").unwrap(), eos]
    );
    let dir = tmp("tok");
    std::fs::create_dir_all(&dir).unwrap();
    tok.save(&dir).unwrap();
    let back = Tok::load(&dir.join("tokenizer.json")).unwrap();
    assert_eq!(back.encode("a b-7").unwrap(), tok.encode("a b-7").unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Keyed draws (`Draws`): a row that finished draws nothing and shifts no
/// other row's draws. Run A has no stop token; run B stops on the first
/// token row 0 generated in A, so row 0 finishes after one token. Every
/// other row's tokens in B equal A's up to and including the first time
/// that row itself generates the stop token. (With one sequential RNG,
/// rows 1 and 2 would draw different numbers from B's second token on.)
/// A different `step` gives different tokens.
#[test]
fn a_finished_row_shifts_no_other_rows_draws() {
    let m = model(true, DType::F32, 8);
    let mut sc = SampleConfig {
        max_new_tokens: 16,
        temperature: 1.0,
        top_p: 1.0,
        stop: vec![],
        pad_id: 0,
        use_cache: true,
    };
    let d = Draws::new(3, 0, 5);
    let a = generate(&m, &prompts(), &sc, d).unwrap();
    let x = a[0].tokens[0];
    sc.stop = vec![x];
    let b = generate(&m, &prompts(), &sc, d).unwrap();
    assert_eq!(b[0].tokens, vec![x]);
    for r in 1..3 {
        let n = a[r]
            .tokens
            .iter()
            .position(|&t| t == x)
            .map_or(16, |i| i + 1);
        assert_eq!(b[r].tokens, a[r].tokens[..n], "row {r}");
        assert!(n > 1, "row {r} stopped at once: pick another seed");
    }
    sc.stop.clear();
    let c = generate(&m, &prompts(), &sc, Draws::new(3, 0, 6)).unwrap();
    assert_ne!(a, c);
}
