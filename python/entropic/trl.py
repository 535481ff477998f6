"""TRL glue: a ``GRPOTrainer`` whose loss is the suite's (docs/python.md).

:class:`EntropicGRPOTrainer` replaces TRL's policy loss by
:func:`entropic.token_loss` -- verl's clipped surrogate with dual clip,
token-mean over the micro-batch's completion tokens, plus the EntroPIC term
(or a peer method's) and, when ``beta > 0``, verl's k3 KL -- formed in
torch as the surrogate ``sum(c * log_prob) + const`` whose value is the
loss and whose gradient is the Rust coefficients ``c``.

The controller (an :class:`entropic.EntropicController`) steps **once per
optimizer step**, on the token-mean full-distribution entropy of the first
micro-batch of that step under the policy being updated (TRL's
``entropies``, masked by the completion mask), reduced over processes so
every rank gets the same alpha. That is what verl's actor measures for the
authors' controller (its ``entropy_loss`` with ``loss_agg_mode =
token-mean``) when gradient accumulation is 1; with more micro-batches
per step the first one stands for the step (chosen here: the alternatives
either delay alpha by a step or change it within a step). The same alpha
serves every micro-batch of the step.

Each optimizer step appends a row to ``csv_path`` (if given): ``step``,
``entropy``, ``alpha``, ``hp_frac``, ``error``, ``integral``, ``reward``
(TRL's last logged mean reward, blank if none). The controller's
``state_dict()`` is saved as ``entropic_controller.json`` in every
checkpoint folder and restored on ``resume_from_checkpoint``.

Text-only models; TRL's ``loss_type``, ``top_entropy_quantile``,
importance-sampling corrections and entropy bonus are not used by this loss.
"""

from __future__ import annotations

import csv
import json
import os
from typing import Any, Optional

import numpy as np
import torch
from trl import GRPOTrainer

import entropic

CONTROLLER_FILE = "entropic_controller.json"
CSV_FIELDS = ["step", "entropy", "alpha", "hp_frac", "error", "integral", "reward"]


class EntropicGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer(..., controller=EntropicController(...), csv_path=None,
    dual_clip=3.0)``; every other argument is GRPOTrainer's.

    ``epsilon`` / ``epsilon_high`` of the GRPOConfig are the PPO clip
    (verl's ``clip_ratio_low`` / ``clip_ratio_high``), ``beta`` the k3 KL
    coefficient, ``dual_clip`` verl's ``clip_ratio_c``.
    """

    def __init__(
        self,
        *args: Any,
        controller: entropic.EntropicController,
        csv_path: Optional[str] = None,
        dual_clip: float = 3.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.entropic_controller = controller
        self.entropic_csv = csv_path
        self.entropic_dual_clip = dual_clip
        self._entropic_row: Optional[dict] = None
        if csv_path is not None and self.accelerator.is_main_process:
            with open(csv_path, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow(CSV_FIELDS)

    # -- the loss -----------------------------------------------------------

    def _compute_loss(self, model: Any, inputs: dict) -> torch.Tensor:
        prompt_ids, prompt_mask = inputs["prompt_ids"], inputs["prompt_mask"]
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)
        logits_to_keep = completion_ids.size(1)
        mask = completion_mask if "tool_mask" not in inputs else completion_mask * inputs["tool_mask"]
        logps, entropies, _ = self._get_per_token_logps_and_entropies(
            model, input_ids, attention_mask, logits_to_keep, compute_entropy=True
        )
        advantages = inputs["advantages"]
        if advantages.dim() == 1:
            advantages = advantages.unsqueeze(1)
        advantages = advantages.expand_as(logps)
        old = inputs.get("old_per_token_logps")
        old = logps.detach() if old is None else old
        ref = inputs.get("ref_per_token_logps") if self.beta != 0.0 else None

        mode = "train" if self.model.training else "eval"
        first_of_step = self._step % self.current_gradient_accumulation_steps == 0
        if mode == "train" and first_of_step:
            self._controller_step(entropies.detach(), mask)

        def host(t: torch.Tensor) -> np.ndarray:
            return t.detach().to("cpu", torch.float64).numpy()

        coef = entropic.token_loss(
            host(logps),
            host(old),
            host(advantages),
            host(entropies),
            host(mask),
            controller=self.entropic_controller,
            ref_log_probs=None if ref is None else host(ref),
            eps_low=float(self.epsilon_low),
            eps_high=float(self.epsilon_high),
            dual_clip=float(self.entropic_dual_clip),
            kl_coef=float(self.beta),
        )
        c = torch.as_tensor(coef.dlogp, dtype=logps.dtype, device=logps.device)
        linear = (c * logps).sum()
        if np.any(coef.dentropy):
            ce = torch.as_tensor(coef.dentropy, dtype=entropies.dtype, device=entropies.device)
            linear = linear + (ce * entropies).sum()
        value = torch.as_tensor(coef.loss, dtype=logps.dtype, device=logps.device)
        loss = linear + (value - linear).detach()
        if mode == "train":
            loss = loss / self.current_gradient_accumulation_steps

        self._metrics[mode]["entropic/alpha"].append(self.entropic_controller.alpha)
        self._metrics[mode]["entropic/hp_frac"].append(coef.hp_frac)
        self._metrics[mode]["entropic/clip_frac"].append(coef.clip_frac)
        self._metrics[mode]["entropy"].append(self._global_mean(entropies.detach(), mask))
        if mode == "train" and first_of_step and self._entropic_row is not None:
            self._entropic_row["hp_frac"] = coef.hp_frac
            self._write_row()
        return loss

    def _global_mean(self, x: torch.Tensor, mask: torch.Tensor) -> float:
        m = mask.to(x.dtype)
        totals = self.accelerator.reduce(torch.stack([(x * m).sum(), m.sum()]), reduction="sum")
        return (totals[0] / totals[1].clamp(min=1.0)).item()

    def _controller_step(self, entropies: torch.Tensor, mask: torch.Tensor) -> None:
        h = self._global_mean(entropies, mask)
        alpha = self.entropic_controller.update(h)
        last = self.entropic_controller.last
        rewards = self._metrics["train"].get("reward") or []
        self._entropic_row = {
            "step": self.state.global_step,
            "entropy": h,
            "alpha": alpha,
            "hp_frac": float("nan"),
            "error": last["error"],
            "integral": last["integral"],
            "reward": rewards[-1] if rewards else "",
        }

    def _write_row(self) -> None:
        if self.entropic_csv is None or not self.accelerator.is_main_process:
            return
        row = self._entropic_row or {}
        with open(self.entropic_csv, "a", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow([_fmt(row.get(k, "")) for k in CSV_FIELDS])

    # -- checkpoints --------------------------------------------------------

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        super()._save_checkpoint(model, trial)
        if self.accelerator.is_main_process:
            folder = os.path.join(self.args.output_dir, f"checkpoint-{self.state.global_step}")
            if os.path.isdir(folder):
                with open(os.path.join(folder, CONTROLLER_FILE), "w", encoding="utf-8") as f:
                    json.dump(self.entropic_controller.state_dict(), f)

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
        super()._load_from_checkpoint(resume_from_checkpoint, model)
        path = os.path.join(resume_from_checkpoint, CONTROLLER_FILE)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.entropic_controller.load_state_dict(json.load(f))


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return repr(x)
    return str(x)
