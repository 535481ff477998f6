#!/usr/bin/env python3
"""Composition and pass@k table of a base, from `entropic llm diagnose --json`.

Usage: base-report.py PRETRAIN.json DIAG_T1.json [DIAG_T2.json ...]
PRETRAIN.json is `entropic llm pretrain --json`'s output (time, load, size);
each DIAG is `entropic llm diagnose --json` at one temperature. Prints
Markdown rows; checks each figure against issue 13's composition targets
(hp_frac >= 0.8, hp_entropy_share >= 0.3, pass@1 in [0.2, 0.6],
pass@k >= pass@1 + 0.15) and says met / missed. Standard library only.
"""
import json
import sys


def load(p):
    with open(p) as f:
        return json.load(f)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    pre = load(argv[1])
    la = lambda l: "n/a" if l is None else " ".join(f"{x:.2f}" for x in l)
    print(f"- parameters {pre['params']:,}, vocabulary {pre['vocab']}, {pre['steps']} steps, "
          f"final training loss {pre['final_loss']:.4f}")
    print(f"- tokenizer training {pre['tokenizer_seconds']:.0f} s; pretraining {pre['train_seconds']:.0f} s "
          f"({pre['train_tokens_per_s']:.0f} tokens/s); load average (1, 5, 15 min) {la(pre['load_start'])} "
          f"at start, {la(pre['load_end'])} at end")
    print()
    print("| T | tokens/response | token-mean H (nats) | hp_frac | hp_entropy_share | tail_mass_hp "
          "| H median | H q0.9 | pass@1 | pass@k | k |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    checks = []
    for p in argv[2:]:
        d = load(p)
        d = d.get("diagnosis", d)  # `llm diagnose --json` nests it
        c = d["composition"]
        q = dict((round(a, 2), b) for a, b in d["entropy_quantiles"])
        p1, pk = d.get("pass@1"), d.get("pass@k")
        f = lambda x: "–" if x is None else f"{x:.3f}"
        print(f"| {d['temperature']} | {d['mean_tokens']:.1f} | {c['entropy_mean']:.4f} | {c['hp_frac']:.3f} "
              f"| {c['hp_entropy_share']:.3f} | {c['tail_mass_hp']:.4f} | {q[0.5]:.4f} | {q[0.9]:.4f} "
              f"| {f(p1)} | {f(pk)} | {d['samples']} |")
        t = d["temperature"]
        checks += [
            (t, "hp_frac >= 0.8", c["hp_frac"] >= 0.8),
            (t, "hp_entropy_share >= 0.3", c["hp_entropy_share"] >= 0.3),
        ]
        if p1 is not None and pk is not None:
            checks += [(t, "pass@1 in [0.2, 0.6]", 0.2 <= p1 <= 0.6),
                       (t, f"pass@{d['samples']} >= pass@1 + 0.15", pk >= p1 + 0.15)]
    print()
    for t, what, ok in checks:
        print(f"- T = {t}: {what}: {'met' if ok else 'missed'}")


if __name__ == "__main__":
    main(sys.argv)
