"""TRL example on CPU: a tiny random Qwen2 (written by transformers, no
download) trained with GRPO by :class:`entropic.trl.EntropicGRPOTrainer`,
twice: a PRBS probe (alpha from the schedule of ``entropic tune --probe``)
and the PI controller. Each run writes ``step, entropy, alpha, hp_frac,
...`` to a CSV. Run by ``scripts/py-torch-check.sh``:

    python python/examples/trl_example.py --out DIR [--steps 40]

The task: completions over a 16-letter alphabet, reward = share of the
letter ``a`` (so the policy sharpens and its entropy falls, a plant the
controller can push against). Everything is seeded.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import torch
from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM, set_seed
from trl import GRPOConfig

import entropic
from entropic.trl import EntropicGRPOTrainer

LETTERS = "abcdefghijklmnop"


def tokenizer() -> PreTrainedTokenizerFast:
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, " ": 3}
    for ch in LETTERS:
        vocab[ch] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>", padding_side="left"
    )


def model(tok: PreTrainedTokenizerFast, seed: int, init_range: float) -> Qwen2ForCausalLM:
    torch.manual_seed(seed)
    cfg = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=True,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
        initializer_range=init_range,
    )
    return Qwen2ForCausalLM(cfg)


def reward_a(completions, **_):
    return [c.count("a") / max(len(c), 1) for c in completions]


def run(name: str, controller: entropic.EntropicController, args, tok) -> float:
    set_seed(args.seed)
    prompts = [" ".join(LETTERS[i : i + 3]) for i in range(12)]
    data = Dataset.from_dict({"prompt": prompts * 20})
    cfg = GRPOConfig(
        output_dir=os.path.join(args.out, name),
        per_device_train_batch_size=8,
        num_generations=8,
        max_completion_length=12,
        learning_rate=args.lr,
        max_steps=args.steps,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        bf16=False,
        seed=args.seed,
        temperature=1.0,
        beta=0.0,
        disable_dropout=True,
    )
    trainer = EntropicGRPOTrainer(
        model=model(tok, args.seed, args.init_range),
        reward_funcs=reward_a,
        args=cfg,
        train_dataset=data,
        processing_class=tok,
        controller=controller,
        csv_path=os.path.join(args.out, f"{name}.csv"),
    )
    t0 = time.time()
    trainer.train()
    return time.time() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--target", type=float, default=2.0)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init-range", type=float, default=0.3)
    p.add_argument("--amplitude", type=float, default=0.5)
    p.add_argument("--hold", type=int, default=4)
    p.add_argument("--kp", type=float, default=1.0)
    p.add_argument("--ki", type=float, default=0.01)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    tok = tokenizer()

    sched = entropic.probe_schedule(args.steps, amplitude=args.amplitude, center=0.0, hold=args.hold)
    probe = entropic.EntropicController(args.target, method="probe", probe=sched, alpha_max=math.inf)
    t_probe = run("probe", probe, args, tok)
    pi = entropic.EntropicController(args.target, kp=args.kp, ki=args.ki)
    t_pi = run("pi", pi, args, tok)
    print(f"probe: {t_probe:.1f} s, pi: {t_pi:.1f} s; schedule {sched}")


if __name__ == "__main__":
    main()
