#!/usr/bin/env python3
"""Reference benchmarks beside `entropic bench` (issue: speed against the
tools a user would pick instead). Optional, not run by CI.

Three references, on the shapes `entropic bench` uses:

1. **numpy bandit loop**: the tabular GRPO loop of `entropic bench sim`
   (M = 1024 prompts, K = 64 actions, G = 8, B = 256 distinct prompts per
   step, vanilla softmax policy, group-normalised binary rewards, the
   EntroPIC token weights with a PI controller on the batch entropy, dense
   Adam at lr 0.01, 1000 steps, the exact all-prompt entropy every 10
   steps), written as a numpy user would: vectorised over the batch,
   inverse-CDF sampling on cumulative sums. Figure: sampled actions/s.
   It is the same work per step, not the same numbers (other RNG).
2. **PyTorch training step** (eager, transformers' Qwen2): vocab 48,
   hidden 128, intermediate 512, 4 layers, 4 heads, 2 KV heads, tied,
   f32; 64 sequences of 49 tokens, loss on 48; forward, backward, AdamW.
   Figure: tokens/s (64 × 48 per step).
3. **PyTorch `generate`**: the same model, 64 prompts of 16 tokens, 32
   new tokens, sampling at T = 1, KV cache. Figure: generated tokens/s.
4. **The same two on the LLM-like base's shape** (`bench llm`'s `base-`
   rows, scenarios/llm-base.toml): vocab 1,024, the same layers; training
   16 sequences of 105 tokens (loss on 104), generation 16 prompts of 24
   tokens with 80 new tokens.

With `--bin PATH` (an `entropic` release binary), each round runs
`entropic bench sim --json --runs 1` and `entropic bench llm --json`
between the references, so the ratios come from one interleaved run; the
load average (/proc/loadavg) is printed at the start and end of every
round. Prints one JSON object per figure and round, then a Markdown table
of medians over rounds with the ratios entropic / reference.

Threads: `--threads N` sets torch.set_num_threads and the numpy/BLAS
threads (OMP/OPENBLAS/MKL_NUM_THREADS, set before numpy is imported) and
RAYON_NUM_THREADS for the entropic runs.

    ~/.cache/entropic/py-torch-venv/bin/python scripts/bench-ref.py \
        --bin target/release/entropic --rounds 5 --threads 1

Needs numpy, torch and transformers (the venv of scripts/py-torch-check.sh).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def numpy_bandit(np, steps=1000, m=1024, k=64, g=8, b=256, lr=0.01, seed=0):
    """The tabular GRPO loop (module doc); returns sampled actions/s."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 1.0, (m, k))
    # each prompt's correct actions: a random subset, pass rate in [0.1, 0.6]
    correct = rng.random((m, k)) < rng.uniform(0.1, 0.6, (m, 1))
    m1 = np.zeros_like(logits)
    m2 = np.zeros_like(logits)
    b1, b2, eps = 0.9, 0.999, 1e-8
    kp, ki, target, tau = 1.0, 0.01, 2.0, 0.95
    integral, alpha = 0.0, 0.0
    t0 = time.perf_counter()
    for step in range(steps):
        prompts = np.sort(rng.choice(m, size=b, replace=False))
        z = logits[prompts]
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        cdf = np.cumsum(p, axis=1)
        u = rng.random((b, g))
        act = np.minimum((cdf[:, None, :] < u[:, :, None]).sum(axis=2), k - 1)  # (b, g)
        rew = correct[prompts[:, None], act].astype(np.float64)
        adv = (rew - rew.mean(axis=1, keepdims=True)) / (rew.std(axis=1, keepdims=True) + 1e-6)
        logp = np.log(np.take_along_axis(p, act, axis=1) + 1e-300)
        ent_rows = -(p * np.log(p + 1e-300)).sum(axis=1)
        h = ent_rows.mean()
        # PI controller on the batch entropy (integral before the error)
        err = target - h
        integral += err
        alpha = np.clip(kp * err + ki * integral, -1.0, 1.0)
        # EntroPIC weights: high-probability tokens reweighted by α by the
        # sign of their advantage
        hp = np.exp(logp) > tau
        w = np.ones_like(adv)
        w[hp & (adv > 0)] = 1.0 - alpha
        w[hp & (adv < 0)] = 1.0 + alpha
        coef = adv * w / (b * g)
        # d(−Σ coef·log π(a))/dz = −Σ coef·(onehot(a) − p)
        flat = (np.arange(b)[:, None] * k + act).ravel()
        grad = np.bincount(flat, weights=-coef.ravel(), minlength=b * k).reshape(b, k)
        grad += coef.sum(axis=1, keepdims=True) * p
        full = np.zeros_like(logits)
        full[prompts] = grad
        # dense Adam
        m1 = b1 * m1 + (1 - b1) * full
        m2 = b2 * m2 + (1 - b2) * full * full
        tt = step + 1
        logits -= lr * (m1 / (1 - b1**tt)) / (np.sqrt(m2 / (1 - b2**tt)) + eps)
        if step % 10 == 0:
            zz = logits - logits.max(axis=1, keepdims=True)
            pp = np.exp(zz)
            pp /= pp.sum(axis=1, keepdims=True)
            _ = -(pp * np.log(pp + 1e-300)).sum(axis=1).mean()
    dt = time.perf_counter() - t0
    return steps * b * g / dt


# (name, vocab, sequences, training targets, prompts, prompt tokens, new
# tokens): the shapes of `entropic bench llm` (llm/src/bench.rs TINY, BASE).
SHAPES = [
    ("", 48, 64, 48, 64, 16, 32),
    ("base-", 1024, 16, 104, 16, 24, 80),
]


def torch_model(torch, transformers, vocab):
    cfg = transformers.Qwen2Config(
        vocab_size=vocab,
        hidden_size=128,
        intermediate_size=512,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=True,
        max_position_embeddings=512,
    )
    torch.manual_seed(0)
    return transformers.Qwen2ForCausalLM(cfg).float()


def median_seconds(f, runs):
    """Median wall time of `runs` calls of `f`, after one warm-up call."""
    f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def torch_train(torch, model, vocab, seqs, length, runs=5):
    """Median tokens/s of a training step (module doc)."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    ids = torch.randint(0, vocab, (seqs, length + 1))
    model.train()

    def step():
        out = model(input_ids=ids[:, :-1])
        loss = torch.nn.functional.cross_entropy(out.logits.reshape(-1, vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return seqs * length / median_seconds(step, runs)


def torch_generate(torch, model, vocab, prompts, prompt_len, new, runs=5):
    """Median generated tokens/s (module doc)."""
    model.eval()
    ids = torch.randint(0, vocab, (prompts, prompt_len))
    mask = torch.ones_like(ids)

    def gen():
        with torch.no_grad():
            model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=new,
                min_new_tokens=new,
                do_sample=True,
                temperature=1.0,
                top_k=0,
                top_p=1.0,
                use_cache=True,
                pad_token_id=0,
            )

    return prompts * new / median_seconds(gen, runs)


def entropic(binary, what, threads):
    """`entropic bench <what> --json`: its JSON objects (one per line or a list)."""
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    args = [binary, "bench", what, "--json"] + (["--runs", "1"] if what == "sim" else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout
    objs = []
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        v = json.loads(line)
        objs.extend(v if isinstance(v, list) else [v])
    return objs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="entropic release binary (interleaved runs)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1000, help="numpy loop steps (1000 = bench sim's)")
    a = ap.parse_args()
    if a.rounds < 1 or a.threads < 1 or a.steps < 1:
        sys.exit("bench-ref.py: --rounds, --threads and --steps must be at least 1")
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(a.threads)
    import numpy as np
    import torch
    import transformers

    torch.set_num_threads(a.threads)
    models = {name: torch_model(torch, transformers, vocab) for name, vocab, *_ in SHAPES}
    ours = {f"train-{n}{s}x{l}": n for n, _, s, l, *_ in SHAPES}
    ours.update({f"generate-{n}{p}x{k}-kv": n for n, _, _, _, p, _, k in SHAPES})
    figures = {}

    def record(name, value, rnd):
        figures.setdefault(name, []).append(value)
        print(json.dumps({"figure": name, "value": value, "round": rnd, "threads": a.threads}), flush=True)

    for rnd in range(a.rounds):
        print(f"# round {rnd}: load average {loadavg()}", file=sys.stderr, flush=True)
        record("numpy bandit, sampled actions/s", numpy_bandit(np, steps=a.steps, seed=rnd), rnd)
        if a.bin:
            for o in entropic(a.bin, "sim", a.threads):
                if o.get("config", "").startswith("tabular") and o.get("threads") == 1:
                    record("entropic bench sim tabular, sampled actions/s", o["sampled_actions_per_s"], rnd)
        for name, vocab, seqs, length, prompts, plen, new in SHAPES:
            m = models[name]
            record(f"torch {name}train, tokens/s", torch_train(torch, m, vocab, seqs, length), rnd)
            record(f"torch {name}generate, tokens/s", torch_generate(torch, m, vocab, prompts, plen, new), rnd)
        if a.bin:
            for o in entropic(a.bin, "llm", a.threads):
                if o.get("config") in ours:
                    record(f"entropic bench llm {o['config']}, tokens/s", o["tokens_per_s"], rnd)
                if o.get("config") == "peak-matmul-1024":
                    record("entropic f32 matmul peak, GFLOP/s", o["gflops"], rnd)
        print(f"# round {rnd} done: load average {loadavg()}", file=sys.stderr, flush=True)
    med = {k: statistics.median(v) for k, v in figures.items()}
    print(f"\n| figure ({a.threads} thread(s), median of {a.rounds}) | value |\n|---|---|")
    for k, v in med.items():
        print(f"| {k} | {v:,.0f} |")
    pairs = [
        ("entropic bench sim tabular, sampled actions/s", "numpy bandit, sampled actions/s"),
    ]
    for config, name in ours.items():
        kind = "train" if config.startswith("train") else "generate"
        pairs.append((f"entropic bench llm {config}, tokens/s", f"torch {name}{kind}, tokens/s"))
    for ours, ref in pairs:
        if ours in med and ref in med:
            print(f"| ratio {ours} / {ref} | {med[ours] / med[ref]:.2f} |")


if __name__ == "__main__":
    main()
