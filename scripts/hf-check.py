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
