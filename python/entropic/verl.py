"""verl glue: the policy loss in verl's signature, backed by the suite's
coefficients (docs/python.md).

:func:`compute_policy_loss_entropic` takes the inputs of the authors'
``compute_policy_loss_entropic`` (yk7333/EntroPIC ``core_algos.py``) and
returns its four outputs ``(pg_loss, pg_clipfrac, ppo_kl,
pg_clipfrac_lower)``. The loss value and its gradient with respect to
``log_prob`` come from :func:`entropic.token_loss` (Rust, float64); the
returned ``pg_loss`` is the surrogate ``sum(c * log_prob) + const`` whose
value is the loss and whose gradient is the coefficients ``c``, so autograd
carries it into the model. The metrics are computed as verl computes them.

Register it in a verl fork with ``POLICY_LOSS_REGISTRY["entropic_rs"] =
compute_policy_loss_entropic`` (or call it from the actor in place of
theirs) and step an :class:`entropic.EntropicController` per mini-batch as
their ``dp_actor.py`` does.

Only ``loss_agg_mode="token-mean"`` (the authors' setting) is supported;
``rollout_is_weights`` is refused (verl multiplies the per-token loss by it
inside a plain masked mean, which is not the suite's weighted token mean).
Each call copies the tensors to host memory once (float64) and the
coefficients back.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

import entropic


def _get(config: Any, key: str, default: Any) -> Any:
    if config is None:
        return default
    if isinstance(config, dict):
        v = config.get(key, default)
    elif hasattr(config, "get"):
        v = config.get(key, default)
    else:
        v = getattr(config, key, default)
    return default if v is None else v


def compute_policy_loss_entropic(
    old_log_prob: "torch.Tensor",
    log_prob: "torch.Tensor",
    advantages: "torch.Tensor",
    response_mask: "torch.Tensor",
    high_prob_thresh: float = 0.95,
    control_alpha: Optional[float] = None,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: Optional["torch.Tensor"] = None,
) -> Tuple["torch.Tensor", "torch.Tensor", "torch.Tensor", "torch.Tensor"]:
    """verl's EntroPIC policy loss, computed by the suite's ``token_loss``.

    ``config`` is read for ``clip_ratio``, ``clip_ratio_low``,
    ``clip_ratio_high`` (default ``clip_ratio``, itself 0.2) and
    ``clip_ratio_c`` (3.0), as verl reads them. ``control_alpha`` None means
    0 (plain PPO). Returns ``(pg_loss, pg_clipfrac, ppo_kl,
    pg_clipfrac_lower)``.
    """
    import torch

    if loss_agg_mode != "token-mean":
        raise ValueError(f"loss_agg_mode must be \"token-mean\" (got {loss_agg_mode!r})")
    if rollout_is_weights is not None:
        raise ValueError("rollout_is_weights is not supported by the entropic policy loss")
    clip_ratio = _get(config, "clip_ratio", 0.2)
    eps_low = _get(config, "clip_ratio_low", clip_ratio)
    eps_high = _get(config, "clip_ratio_high", clip_ratio)
    clip_c = _get(config, "clip_ratio_c", 3.0)
    alpha = 0.0 if control_alpha is None else float(control_alpha)

    def host(t: "torch.Tensor") -> np.ndarray:
        return t.detach().to("cpu", torch.float64).numpy()

    lp = host(log_prob)
    coef = entropic.token_loss(
        lp,
        host(old_log_prob),
        host(advantages),
        np.zeros_like(lp),  # entropies: not read by the entropic method
        host(response_mask),
        alpha=alpha,
        tau=float(high_prob_thresh),
        eps_low=float(eps_low),
        eps_high=float(eps_high),
        dual_clip=float(clip_c),
    )
    c = torch.as_tensor(coef.dlogp, dtype=log_prob.dtype, device=log_prob.device)
    linear = (c * log_prob).sum()
    pg_loss = linear + (torch.as_tensor(coef.loss, dtype=log_prob.dtype, device=log_prob.device) - linear).detach()

    with torch.no_grad():
        mask = response_mask.to(log_prob.dtype)

        def masked_mean(x: "torch.Tensor") -> "torch.Tensor":
            return (x * mask).sum() / (mask.sum() + 1e-8)

        neg_kl = torch.clamp(log_prob - old_log_prob, -20.0, 20.0)
        ratio = torch.exp(neg_kl)
        l1 = -advantages * ratio
        l2 = -advantages * torch.clamp(ratio, 1 - eps_low, 1 + eps_high)
        c1 = torch.maximum(l1, l2)
        pg_clipfrac = masked_mean(torch.gt(l2, l1).to(mask.dtype))
        ppo_kl = masked_mean(-neg_kl)
        pg_clipfrac_lower = masked_mean(
            (torch.gt(c1, -advantages * clip_c) & (advantages < 0)).to(mask.dtype)
        )
    return pg_loss, pg_clipfrac, ppo_kl, pg_clipfrac_lower
