#!/usr/bin/env python3
"""Cross-check entropic's Qwen2 against Hugging Face transformers (f32).

A manual check, not run in CI (it needs torch and transformers; see
docs/hf-compat.md for the venv). It does two things:

1. **Ours → transformers.** For each checkpoint directory given with
   `--ours` (written by `entropic llm pretrain` / `llm grpo`), it loads it
   with `AutoModelForCausalLM.from_pretrained` and with
   `entropic llm entropy --json --logits`, and compares the logits at every
   position of a fixed text (max |Δ| must be ≤ 1e-4), and the token ids that
   the `tokenizers` library and entropic give for the text (must be equal).

2. **transformers → ours** (`--write-fixtures DIR`): writes small
   random-initialised Qwen2 checkpoints with `save_pretrained` (every weight
   and bias drawn at random so that a mis-loaded tensor shows), in the
   layouts entropic must read: `untied-current` (untied embeddings, the
   config exactly as this transformers writes it: `rope_parameters`,
   `sliding_window: null`) and `tied-old` (tied embeddings, config rewritten
   to the old layout: top-level `rope_theta`, integer `sliding_window`,
   `use_sliding_window: false`). Each gets `expected.json`: the text, the ids
   and transformers' logits, which `llm/tests/hf_fixtures.rs` compares with
   entropic's in `cargo test` (no torch needed there). Each fixture is also
   run through (1) here.

3. **A BPE fixture** (`bpe-small`, written with the others): a byte-level
   BPE tokenizer trained by the `tokenizers` library on a few hundred lines
   of generated worked arithmetic, with BOS added by its post-processor (the
   config has `bos_token_id`, so `AutoTokenizer` gives the ids the model
   expects), saved with `save_pretrained` beside a random Qwen2 of its
   vocabulary. Its `expected.json` also holds, for each line of
   `prompts.jsonl`, the ids `AutoTokenizer` gives (BOS included) and the
   entropy and top probability of transformers' next-token distribution at
   T = 1 after the prompt: `tests/llm_diagnose.rs` checks `entropic llm
   diagnose --max-new-tokens 1` against them.

Writes a Markdown summary to `--report` (default reports/hf-compat.md).

    python scripts/hf-check.py --bin target/release/entropic \
        --ours runs/llm-tiny-base --write-fixtures llm/tests/fixtures
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys

import torch
import transformers
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM

TEXT = "417+385=802\n29-7 = 22; (3*4)+1=13?"
TOL = 1e-4


def ours(binary, model_dir, text):
    """entropic's ids (BOS first when the config has one) and logits rows."""
    out = subprocess.run(
        [binary, "llm", "entropy", "--model", model_dir, "--text", text, "--json", "--logits"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = json.loads(out)
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    bos = cfg.get("bos_token_id")
    ids = ([bos] if bos is not None else []) + [r["id"] for r in rows]
    logits = [r["logits"] for r in rows if "logits" in r]
    return ids, logits


def theirs(model_dir, ids):
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        lg = model(torch.tensor([ids])).logits[0]
    # position t predicts token t+1: the last position predicts nothing here
    return lg[: len(ids) - 1].tolist()


def max_abs(a, b):
    assert len(a) == len(b), f"{len(a)} rows vs {len(b)}"
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def check_dir(binary, model_dir, text):
    # the char tokenizer gives one token per character; BOS takes a position
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    text = text[: cfg.get("max_position_embeddings", len(text) + 1) - 1]
    ids, lo = ours(binary, model_dir, text)
    lt = theirs(model_dir, ids)
    d = max_abs(lo, lt)
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    hf_ids = tok.encode(text, add_special_tokens=False).ids
    bos_off = len(ids) - len(hf_ids)
    same_ids = hf_ids == ids[bos_off:]
    return {
        "dir": model_dir,
        "positions": len(lo),
        "vocab": len(lo[0]),
        "max_abs_logit_diff": d,
        "logits_ok": d <= TOL,
        "tokenizer_ids_equal": same_ids,
    }


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * r)
            else:
                p.copy_(0.3 * r)


def write_fixture(root, name, tied, old_layout, tokenizer_dir, seed):
    d = os.path.join(root, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    tok = json.load(open(os.path.join(tokenizer_dir, "tokenizer.json")))
    vocab = len(tok["model"]["vocab"])
    cfg = Qwen2Config(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        rms_norm_eps=1e-6,
        tie_word_embeddings=tied,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    # a non-default base so that a loader ignoring it would fail
    if hasattr(cfg, "rope_parameters") and isinstance(cfg.rope_parameters, dict):
        cfg.rope_parameters["rope_theta"] = 50000.0
    else:
        cfg.rope_theta = 50000.0
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(cfg)
    randomise(model, seed)
    if tied:
        model.tie_weights()
    model.save_pretrained(d, safe_serialization=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tokenizer_dir, f), d)
    # expected logits from the model as saved (before any config rewrite)
    ids = [1] + Tokenizer.from_file(os.path.join(d, "tokenizer.json")).encode(
        TEXT, add_special_tokens=False
    ).ids
    logits = theirs(d, ids)
    if old_layout:
        p = os.path.join(d, "config.json")
        c = json.load(open(p))
        rp = c.pop("rope_parameters", None) or {}
        c["rope_theta"] = rp.get("rope_theta", c.get("rope_theta", 50000.0))
        c["use_sliding_window"] = False
        c["sliding_window"] = 4096
        c.pop("layer_types", None)
        json.dump(c, open(p, "w"), indent=2)
        again = theirs(d, ids)
        assert max_abs(again, logits) == 0.0, "old layout changed transformers' logits"
    json.dump(
        {
            "text": TEXT,
            "ids": ids,
            "logits": logits,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
        open(os.path.join(d, "expected.json"), "w"),
    )
    return d


BPE_VOCAB = 320
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
LM_HEAD_SCALE = 4.0
PROMPTS = ["12+34=", "7*8=", "Compute 45-19. ", "Solve: 3+4*2 = ", "9+9=", "Q: 123+456?", "  tabs\tand spaces 0", "é ünïcode 7+1="]


def bpe_corpus(n, seed):
    """Generated worked arithmetic, a few hundred lines (deterministic)."""
    import random

    r = random.Random(seed)
    words = ["Compute", "Solve", "Add", "So", "the", "answer", "is", "first", "then", "carry", "Q:", "A:"]
    out = []
    for _ in range(n):
        a, b = r.randint(0, 999), r.randint(0, 999)
        op = r.choice("+-*")
        v = {"+": a + b, "-": a - b, "*": a * b}[op]
        lead = " ".join(r.choice(words) for _ in range(r.randint(1, 4)))
        out.append(f"{lead} {a}{op}{b}= {v}. So the answer is {v}.")
    return out


def write_bpe_fixture(root, seed):
    """Random Qwen2 + byte-level BPE with a BOS post-processor (see the doc)."""
    from tokenizers import Regex, Tokenizer as RawTok, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    d = os.path.join(root, "bpe-small")
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    # Qwen2's own pre-tokenizer (digits one by one) and NFC: transformers 5
    # loads any `model_type: qwen2` tokenizer as `Qwen2Tokenizer`, which
    # rebuilds these two parts, so a tokenizer.json with others would give
    # `AutoTokenizer` other ids than the file (and than entropic)
    raw = RawTok(models.BPE())
    raw.normalizer = normalizers.NFC()
    raw.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    raw.decoder = decoders.ByteLevel()
    # `<|endoftext|>` is Qwen2's end of text (Qwen2Tokenizer adds it when
    # missing); `<s>` is the BOS the config names
    specials = ["<|endoftext|>", "<s>"]
    trainer = trainers.BpeTrainer(
        vocab_size=BPE_VOCAB,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(bpe_corpus(400, seed), trainer=trainer)
    bos, eos = raw.token_to_id("<s>"), raw.token_to_id("<|endoftext|>")
    pad = eos
    raw.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token="<s>", eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )
    fast.save_pretrained(d)
    vocab = raw.get_vocab_size(with_added_tokens=True)
    cfg = Qwen2Config(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
        bos_token_id=bos,
        eos_token_id=eos,
        pad_token_id=pad,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(cfg)
    randomise(model, seed)
    # a sharper head than `randomise` gives, so that some next-token
    # distributions are peaked (HP tokens above τ = 0.95) and others flat
    with torch.no_grad():
        model.lm_head.weight.mul_(LM_HEAD_SCALE)
    model.save_pretrained(d, safe_serialization=True)
    at = AutoTokenizer.from_pretrained(d)
    assert len(at) == vocab, f"AutoTokenizer has {len(at)} tokens, the model {vocab}"
    ids = at(TEXT)["input_ids"]
    assert ids[0] == bos, "the post-processor did not add BOS"
    for t in [TEXT] + PROMPTS:
        assert at(t)["input_ids"] == [bos] + raw.encode(t, add_special_tokens=False).ids, t
    logits = theirs(d, ids)
    m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32)
    m.eval()
    prompts = []
    with open(os.path.join(d, "prompts.jsonl"), "w") as f:
        for p in PROMPTS:
            f.write(json.dumps({"prompt": p}) + "\n")
            pid = at(p)["input_ids"]
            with torch.no_grad():
                z = m(torch.tensor([pid])).logits[0, -1].double()
            lp = torch.log_softmax(z, dim=-1)
            prompts.append(
                {
                    "prompt": p,
                    "ids": pid,
                    "entropy_next": float(-(lp.exp() * lp).sum()),
                    "p_top_next": float(lp.exp().max()),
                }
            )
    json.dump(
        {
            "text": TEXT,
            "ids": ids,
            "logits": logits,
            "prompts": prompts,
            "temperature": 1.0,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "tokenizers": __import__("tokenizers").__version__,
        },
        open(os.path.join(d, "expected.json"), "w"),
    )
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="target/release/entropic")
    ap.add_argument("--ours", action="append", default=[], help="checkpoint written by entropic")
    ap.add_argument("--write-fixtures", help="write transformers-made fixtures under this folder")
    ap.add_argument("--tokenizer-from", default=None, help="checkpoint whose tokenizer the fixtures use")
    ap.add_argument("--report", default="reports/hf-compat.md")
    a = ap.parse_args()
    results = []
    for d in a.ours:
        results.append(("entropic → transformers", check_dir(a.bin, d, TEXT)))
    if a.write_fixtures:
        src = a.tokenizer_from or (a.ours[0] if a.ours else None)
        if src is None:
            sys.exit("--write-fixtures needs --tokenizer-from or --ours for the tokenizer")
        os.makedirs(a.write_fixtures, exist_ok=True)
        for i, (name, tied, old) in enumerate(
            [("untied-current", False, False), ("tied-old", True, True)]
        ):
            d = write_fixture(a.write_fixtures, name, tied, old, src, seed=i + 1)
            results.append(("transformers → entropic", check_dir(a.bin, d, TEXT)))
        d = write_bpe_fixture(a.write_fixtures, seed=3)
        results.append(("transformers → entropic", check_dir(a.bin, d, TEXT)))
    ok = all(r["logits_ok"] and r["tokenizer_ids_equal"] for _, r in results)
    lines = [
        "# Hugging Face compatibility (manual check)",
        "",
        "Regenerate: `python scripts/hf-check.py --ours DIR [--write-fixtures llm/tests/fixtures]` "
        "in a venv with torch and transformers (docs/hf-compat.md). Not run in CI; the fixtures it "
        "writes are checked in `cargo test` (`llm/tests/hf_fixtures.rs`).",
        "",
        f"transformers {transformers.__version__}, torch {torch.__version__}, Python "
        f"{platform.python_version()}, f32 on CPU. Text: `{TEXT!r}`. Tolerance {TOL:g}.",
        "",
        "| direction | checkpoint | positions × vocab | max abs logit diff | within 1e-4 | tokenizer ids equal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for what, r in results:
        lines.append(
            f"| {what} | `{r['dir']}` | {r['positions']} × {r['vocab']} | "
            f"{r['max_abs_logit_diff']:.3e} | {'yes' if r['logits_ok'] else 'NO'} | "
            f"{'yes' if r['tokenizer_ids_equal'] else 'NO'} |"
        )
    lines.append("")
    lines.append("Verdict: " + ("all checks pass." if ok else "**at least one check fails.**"))
    with open(a.report, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
