#!/usr/bin/env python3
"""BOS check of a BPE checkpoint against transformers' AutoTokenizer.

A manual check, not run in CI (it needs transformers; see docs/hf-compat.md
for the venv). Usage: bpe-bos-check.py CHECKPOINT_DIR ENTROPIC_BINARY

For a few texts of the `words` task it checks that AutoTokenizer (with its
default add_special_tokens=True) gives config.json's bos_token_id followed
by the ids it gives without special tokens, that decoding gives the text
back, and that entropic's ids (`entropic llm entropy --json`, which
prepends BOS itself and lists the tokens after it) equal AutoTokenizer's
after the BOS. Prints one JSON line per text and OK or MISMATCH; exit 1 on
a mismatch.
"""
import json
import subprocess
import sys

from transformers import AutoTokenizer

if len(sys.argv) != 3:
    sys.exit(__doc__)
d, binary = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(d)
cfg = json.load(open(f"{d}/config.json"))
texts = [
    "What is 48 plus 35?",
    "Add 12 and 90.",
    " Let's add column by column, starting from the right. In the ones column, 8 plus 5 is 13,"
    " so we write 3 and carry 1. So the answer is 83.",
]
ok = True
for t in texts:
    ids = tok(t)["input_ids"]
    raw = tok(t, add_special_tokens=False)["input_ids"]
    rows = json.loads(subprocess.run([binary, "llm", "entropy", "--json", "--model", d, "--text", t],
                                     capture_output=True, text=True, check=True).stdout)
    ours = [r["id"] for r in rows]
    r = {"text": t, "bos_first": ids[0] == cfg["bos_token_id"], "then_plain": ids[1:] == raw,
         "entropic_equal": ours == ids[1:], "decode_round_trip": tok.decode(raw) == t}
    print(json.dumps(r))
    ok &= all(v for k, v in r.items() if k != "text")
print("OK" if ok else "MISMATCH", f"(bos_token {tok.bos_token!r} = {tok.bos_token_id}, vocabulary {len(tok)})")
sys.exit(0 if ok else 1)
