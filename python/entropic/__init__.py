"""EntroPIC for the trainers people scale with.

The same Rust code as the ``entropic`` suite, one ``pip install ./python``
away (docs/python.md):

* :class:`EntropicController` -- the PI controller of docs/mathematics.md §3
  (and the probe and peer methods), ``update(entropy) -> alpha`` once per
  optimizer step, ``state_dict()`` / ``load_state_dict()`` for checkpoints;
* :func:`token_loss` -- the loss value and its exact per-token coefficients
  ``dloss/dlogp`` and ``dloss/dH`` for numpy arrays, so a trainer forms the
  surrogate ``sum(coef.detach() * log_prob)`` in its own framework;
* :func:`identify`, :func:`identify_log`, :func:`recommend`, :func:`tune`,
  :func:`probe_schedule` -- plant identification and gain recommendation
  (``entropic tune``) from arrays, a CSV/JSONL log or a pandas DataFrame;
* :func:`composition` -- ``hp_frac``, ``hp_entropy_share``, ``tail_mass_hp``
  and the token-mean entropy of a batch of logits (``entropic diagnose``).

Bad input raises :class:`ValueError` with the Rust error's sentence.
``entropic.trl`` and ``entropic.verl`` hold the framework glue (they import
torch lazily; this module needs numpy only).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _native
from ._native import MAX_DELAY, EntropicController

__all__ = [
    "EntropicController",
    "LossCoefficients",
    "token_loss",
    "composition",
    "composition_from_token_stats",
    "identify",
    "identify_log",
    "recommend",
    "tune",
    "probe_schedule",
    "MAX_DELAY",
]

ArrayLike = Any


def _f64(x: ArrayLike) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64))


def _valid(mask: Optional[ArrayLike], shape: Tuple[int, ...]) -> Optional[np.ndarray]:
    """The boolean mask of valid tokens, or None when every token counts."""
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"mask has shape {m.shape} but the token arrays have shape {shape}")
    return m.astype(bool)


@dataclass(frozen=True)
class LossCoefficients:
    """What :func:`token_loss` returns.

    ``dlogp`` and ``dentropy`` have the shape of the inputs, with zeros at
    masked positions. The loss's gradient with respect to the parameters is
    ``sum(dlogp * dlogp/dtheta + dentropy * dH/dtheta)``; in a framework with
    autograd, back-propagate ``surrogate = sum(dlogp * log_prob) +
    sum(dentropy * entropy)`` with the coefficients held constant.
    """

    loss: float
    dlogp: np.ndarray
    dentropy: np.ndarray
    n_tokens: int
    n_hp: int
    hp_frac: float
    clip_frac: float
    kl: float
    n_selected: int


def token_loss(
    log_probs: ArrayLike,
    old_log_probs: ArrayLike,
    advantages: ArrayLike,
    entropies: ArrayLike,
    mask: Optional[ArrayLike] = None,
    *,
    controller: Optional[EntropicController] = None,
    alpha: Optional[float] = None,
    entropy_coef: Optional[float] = None,
    ref_log_probs: Optional[ArrayLike] = None,
    weights: Optional[ArrayLike] = None,
    eps_low: float = 0.2,
    eps_high: float = 0.2,
    dual_clip: float = 3.0,
    kl_coef: float = 0.0,
    seed: int = 0,
    **control: Any,
) -> LossCoefficients:
    """The loss of one optimizer step and its per-token coefficients.

    The objective is the suite's ``token_loss`` (docs/mathematics.md §3):
    verl's clipped surrogate with dual clip, token-mean over the valid
    tokens, plus the EntroPIC term ``alpha * mean_{HP}(-r_t |A_t|)`` (HP:
    ``pi_theta(y_t) > tau`` under the *current* log-probs), or the peer
    method's term, plus ``kl_coef`` times verl's k3 KL when
    ``ref_log_probs`` is given.

    Arrays may have any shape (e.g. ``(batch, response_length)``), all the
    same; ``mask`` (same shape, nonzero = valid) drops padding. The method
    and its options come from ``controller`` (its config and its last
    directive: alpha, entropy_coef), or from keyword options as
    :class:`EntropicController` takes them (``method="entropic"`` by
    default, ``tau=0.95``, ``weighting="official"``, ...); ``alpha`` and
    ``entropy_coef`` override the directive.
    """
    lp = _f64(log_probs)
    arrays = [lp, _f64(old_log_probs), _f64(advantages), _f64(entropies)]
    extra = {"ref_log_probs": ref_log_probs, "weights": weights}
    for name, a in zip(("old_log_probs", "advantages", "entropies"), arrays[1:]):
        if a.shape != lp.shape:
            raise ValueError(f"{name} has shape {a.shape} but log_probs has shape {lp.shape}")
    for name, a in list(extra.items()):
        if a is not None:
            a = _f64(a)
            if a.shape != lp.shape:
                raise ValueError(f"{name} has shape {a.shape} but log_probs has shape {lp.shape}")
            extra[name] = a
    valid = _valid(mask, lp.shape)

    def flat(a: Optional[np.ndarray]) -> Optional[np.ndarray]:
        if a is None:
            return None
        return np.ascontiguousarray(a[valid] if valid is not None else a.reshape(-1))

    out = _native.token_loss(
        *[flat(a) for a in arrays],
        ref_log_probs=flat(extra["ref_log_probs"]),
        weights=flat(extra["weights"]),
        controller=controller,
        alpha=alpha,
        entropy_coef=entropy_coef,
        eps_low=eps_low,
        eps_high=eps_high,
        dual_clip=dual_clip,
        kl_coef=kl_coef,
        seed=seed,
        **control,
    )

    def scatter(v: np.ndarray) -> np.ndarray:
        full = np.zeros(lp.shape, dtype=np.float64)
        if valid is None:
            full[...] = v.reshape(lp.shape)
        else:
            full[valid] = v
        return full

    return LossCoefficients(
        loss=out.loss,
        dlogp=scatter(out.dlogp),
        dentropy=scatter(out.dentropy),
        n_tokens=out.n_tokens,
        n_hp=out.n_hp,
        hp_frac=out.hp_frac,
        clip_frac=out.clip_frac,
        kl=out.kl,
        n_selected=out.n_selected,
    )


def composition(
    logits: ArrayLike,
    tokens: ArrayLike,
    mask: Optional[ArrayLike] = None,
    *,
    tau: float = 0.95,
    temperature: float = 1.0,
) -> Dict[str, float]:
    """Where the batch's entropy sits (docs/mathematics.md §8).

    ``logits`` has shape ``(..., V)``; ``tokens`` (the sampled ids) and
    ``mask`` have the leading shape ``(...)``. The logits are divided by
    ``temperature`` first (use the rollout temperature). Returns a dict:
    ``n_tokens``, ``n_hp``, ``hp_frac`` = |HP|/N, ``hp_entropy_share`` =
    sum_HP H / sum H, ``tail_mass_hp`` = mean_HP (1 - pi(y)) and
    ``entropy_mean`` = token-mean entropy, with HP = tokens whose sampled
    token has pi(y_t) > tau. ``hp_entropy_share`` is NaN when the batch has
    no entropy, ``tail_mass_hp`` NaN when HP is empty.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(tokens)
    if z.ndim < 1 or z.shape[:-1] != y.shape:
        raise ValueError(
            f"logits have shape {z.shape}; tokens must have shape {z.shape[:-1]} (got {y.shape})"
        )
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ValueError(f"temperature must be finite and > 0 (got {temperature})")
    valid = _valid(mask, y.shape)
    if valid is not None:
        z, y = z[valid], y[valid]
    z = np.ascontiguousarray(z.reshape(-1, z.shape[-1]) / temperature)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"tokens must be integer ids (got dtype {y.dtype})")
    y = np.ascontiguousarray(y.reshape(-1).astype(np.int64))
    return _native.composition_from_logits(z, y, tau)


def composition_from_token_stats(
    log_probs: ArrayLike, entropies: ArrayLike, mask: Optional[ArrayLike] = None, *, tau: float = 0.95
) -> Dict[str, float]:
    """:func:`composition` from the sampled tokens' log-probabilities and the
    per-position entropies, when the logits are no longer at hand."""
    lp, h = _f64(log_probs), _f64(entropies)
    if lp.shape != h.shape:
        raise ValueError(f"entropies has shape {h.shape} but log_probs has shape {lp.shape}")
    valid = _valid(mask, lp.shape)
    sel = (lambda a: a[valid]) if valid is not None else (lambda a: a.reshape(-1))
    return _native.composition_from_token_stats(
        np.ascontiguousarray(sel(lp)), np.ascontiguousarray(sel(h)), tau
    )


def identify(
    entropy: ArrayLike,
    alpha: ArrayLike,
    delay: Optional[int] = None,
    twin: Optional[ArrayLike] = None,
    prbs_hold: Optional[int] = None,
    prbs_start: int = 0,
    prbs_steps: Optional[int] = None,
    lag_decay: float = 0.0,
    prbs_coding: str = "nrz",
) -> Dict[str, Any]:
    """Identify drift ``b``, gain ``g`` and delay ``d`` of
    ``H_{t+1} - H_t = b - g alpha_{t-d} + noise`` with the estimators of
    docs/mathematics.md §9 (``entropic tune identify``).

    ``entropy[t]`` is the token-mean entropy measured at controller step t,
    ``alpha[t]`` the alpha applied after it; NaN rows are skipped. ``delay``
    None selects d over 0..MAX_DELAY. ``twin``: the entropy of the plain
    arm (same seed and RNG streams, alpha 0) for the paired design (probe
    minus twin regressed on cumulative alpha); without it the unpaired one
    (Newey–West in differences; ``lag_decay``, e.g. Adam's beta1 0.9, puts
    alpha through a geometric lag first). Returns ``{"fit": {...}, "estimate": {...,
    "g_detectable"}, "open_loop": {...}, "delay_residuals": [...],
    "interval_caveat": ...}``, where ``g_detectable`` is the smallest g the
    design detects with 80% power and ``interval_caveat`` says what the
    interval rests on where it is approximate (else None): for the
    unpaired Newey–West design, a variance model that does not know the
    drift's shape, and which designs do not rest on one; for the paired
    design with one twin (fewer than 4 seeds on one schedule), a model of
    the noise in time that errs wide. A
    log that does not identify g (alpha constant, P control, too short, g's
    interval not above 0) raises ValueError saying why, with the detectable g.
    ``prbs_hold`` (with ``prbs_start``, the steps before the PRBS began,
    ``prbs_steps``, its length, and ``lag_decay``, e.g. Adam's beta1 0.9):
    alpha was a PRBS drawn at random (a fair coin every ``prbs_hold``
    steps), so the unpaired g takes a randomization interval from re-draws
    of the schedule (``entropic tune identify --prbs-hold``), whose placebo
    stays at its nominal level where the drift is not constant; it needs a
    fixed ``delay``. ``prbs_coding="manchester"``: the PRBS was
    Manchester-coded (``entropic tune probe --coding manchester``: each coin
    played for ``prbs_hold`` steps, then its opposite for ``prbs_hold``), and
    the re-draws are too.
    """
    e, a = _f64(entropy).reshape(-1), _f64(alpha).reshape(-1)
    t = None if twin is None else _f64(twin).reshape(-1)
    return _native.identify(
        e, a, delay, t, prbs_hold, prbs_start, prbs_steps, lag_decay, prbs_coding
    )


def _log_text(log: Any) -> str:
    if hasattr(log, "to_csv") and hasattr(log, "columns"):  # a pandas DataFrame
        return log.to_csv(index=False)
    if isinstance(log, (str, os.PathLike)) and os.path.exists(log):
        with open(log, encoding="utf-8") as f:
            return f.read()
    if isinstance(log, str):
        return log
    raise ValueError("log must be a pandas DataFrame, a path to a CSV/JSONL file, or its text")


def identify_log(
    log: Any,
    *,
    columns: Optional[str] = None,
    delay: Optional[int] = None,
    arm: Optional[str] = None,
    seed: Optional[int] = None,
    twin: Any = None,
    prbs_hold: Optional[int] = None,
    prbs_start: int = 0,
    prbs_steps: Optional[int] = None,
    lag_decay: float = 0.0,
    prbs_coding: str = "nrz",
) -> Dict[str, Any]:
    """:func:`identify` on a run's log: a pandas DataFrame, or a CSV (with a
    header row, e.g. a W&B export) or our metrics.jsonl, as a path or text;
    ``twin``, the plain arm's log in the same forms, selects the paired design
    (where our metrics.jsonl holds one run over several seeds and ``seed`` is
    None, every seed is paired with the twin's same seed and the slope
    pooled: from 4 seeds on one schedule the interval is the seeds' own
    spread, and ``interval_caveat`` is None);
    ``prbs_hold``, ``prbs_start``, ``prbs_steps``, ``lag_decay``,
    ``prbs_coding`` as :func:`identify`'s.

    Columns are found by name as ``entropic tune identify --log`` finds them
    (``entropy`` / ``actor/entropy``, ``alpha`` / ``actor/control_alpha``);
    ``columns="entropy=NAME,alpha=NAME,step=NAME"`` names them. Returns
    ``{"identified": {"fit": ..., "estimate": ..., "delay_residuals": ...},
    "series": ...}``.
    """
    t = None if twin is None else _log_text(twin)
    return _native.identify_log(
        _log_text(log),
        columns,
        delay,
        arm,
        seed,
        t,
        prbs_hold,
        prbs_start,
        prbs_steps,
        lag_decay,
        prbs_coding,
    )


def recommend(
    fit: Dict[str, Any],
    *,
    target: float,
    e0: float,
    settle: int = 50,
    band: Optional[float] = None,
    alpha_max: float = 1.0,
    max_overshoot: float = 0.1,
    form: str = "before",
) -> Dict[str, Any]:
    """PI gains for an identified plant, robust over its 95% interval
    (``entropic tune``): ``fit`` is :func:`identify`'s ``["fit"]``, ``e0`` the
    initial error ``H_0 - target``. Returns ``{"recommendation": {...kp, ki,
    corners, met...}, "scenario_snippet": str, "verl_overrides": str}``."""
    return _native.recommend(
        fit,
        target=target,
        e0=e0,
        settle=settle,
        band=band,
        alpha_max=alpha_max,
        max_overshoot=max_overshoot,
        form=form,
    )


def tune(
    log: Any,
    *,
    target: Optional[float] = None,
    columns: Optional[str] = None,
    delay: Optional[int] = None,
    settle: int = 50,
    band: Optional[float] = None,
    alpha_max: float = 1.0,
    max_overshoot: float = 0.1,
    form: str = "before",
    twin: Any = None,
) -> Dict[str, Any]:
    """:func:`identify_log` then :func:`recommend` (the estimators with power
    of docs/mathematics.md §9, as ``entropic tune identify``; ``twin`` the plain
    arm's log for the paired design): ``e0`` is the first finite entropy minus ``target``
    (``target`` defaults to the log's ``target`` field)."""
    ident = identify_log(log, columns=columns, delay=delay, twin=twin)
    series = ident["series"]
    if target is None:
        target = series.get("target")
    if target is None:
        raise ValueError("no target entropy: the log has no `target` field; pass target=")
    h0 = next((h for h in series["entropy"] if isinstance(h, float) and math.isfinite(h)), target)
    rec = recommend(
        ident["identified"]["fit"],
        target=target,
        e0=h0 - target,
        settle=settle,
        band=band,
        alpha_max=alpha_max,
        max_overshoot=max_overshoot,
        form=form,
    )
    return {**ident, **rec}


def probe_schedule(
    steps: int, amplitude: float = 0.5, center: float = 0.0, hold: int = MAX_DELAY + 2
) -> List[Tuple[int, float]]:
    """The PRBS probe of ``entropic tune probe`` as ``(steps, alpha)``
    pairs; pass it as ``EntropicController(target, method="probe",
    probe=schedule, alpha_max=float("inf"))``."""
    return _native.probe_schedule(steps, amplitude, center, hold)


Number = Union[int, float]
