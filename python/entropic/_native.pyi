"""Type stubs of the Rust extension ``entropic._native``.

Use the package ``entropic`` (its functions reshape, mask and convert);
this module takes contiguous 1-D float64 arrays of valid tokens only.
"""

from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, TypedDict

import numpy as np
import numpy.typing as npt

MAX_DELAY: int

Method = Literal[
    "none", "entropic", "probe", "entropy_bonus", "adaptive_entropy", "clip_cov", "kl_cov", "clip_higher"
]

class Directive(TypedDict):
    alpha: float
    entropy_coef: float
    error: float
    integral: float

class ControllerStateDict(TypedDict):
    cfg: Dict[str, Any]
    state: Dict[str, Any]

class EntropicController:
    """The EntroPIC controller (docs/mathematics.md §3), one step per ``update``.

    ``EntropicController(target, kp=1.0, ki=0.01, **options)``: the
    authors' law ``alpha = clip(kp*e + ki*I, -alpha_max, alpha_max)`` with
    ``e = H - target`` and ``I`` the accumulated error *before* this step.
    Every option of the suite's ``[control]`` table is a keyword:

    * ``method``: ``"entropic"`` (default), ``"probe"``, ``"entropy_bonus"``,
      ``"adaptive_entropy"``, ``"clip_cov"``, ``"kl_cov"``,
      ``"clip_higher"``, ``"none"``;
    * ``alpha_max`` (1.0; ``float("inf")`` = no clip), ``tau`` (0.95),
      ``threshold`` (``"tau"`` | ``"exp_neg_h"``), ``weighting``
      (``"official"`` | ``"plain"``), ``scope`` (``"high_prob"`` | ``"all"``),
      ``measure`` (``"current"`` | ``"rollout"``), ``integral_form``
      (``"before"`` | ``"after"``), ``anti_windup`` (False);
    * ``probe``: ``[(steps, alpha), ...]`` for ``method="probe"`` (see
      ``entropic.probe_schedule``);
    * the peers' ``entropy_coef``, ``adaptive_delta``, ``adaptive_c_min``,
      ``adaptive_c_max``, ``adaptive_c0``, ``clip_cov_ratio``,
      ``clip_cov_low``, ``clip_cov_high``, ``kl_cov_ratio``,
      ``kl_cov_coef``, ``clip_higher_eps_high``.

    Unknown keys, wrong types and out-of-range values raise ValueError
    (``EntropicController: key `control.kp`: must be finite and >= 0 (got -1)``).
    """

    def __init__(self, target: float, kp: float = 1.0, ki: float = 0.01, **options: Any) -> None: ...
    def update(self, entropy: float, sampled_nll: float = ...) -> float:
        """One controller step on the token-mean entropy (nats); returns alpha.

        Call it once per optimizer step (the authors' ``measure="current"``).
        ``sampled_nll`` (``-mean log pi_old(y)``) is adaptive_entropy's
        input when given. A non-finite ``entropy`` raises ValueError and
        leaves the state unchanged.
        """
    @property
    def alpha(self) -> float:
        """alpha of the last step (0 before the first)."""
    @property
    def entropy_coef(self) -> float:
        """Entropy-bonus coefficient of the last step (bonus methods)."""
    @property
    def integral(self) -> float:
        """Accumulated error I after the last step."""
    @property
    def steps(self) -> int:
        """Controller steps taken."""
    @property
    def last(self) -> Directive:
        """The last directive: alpha, entropy_coef, error, integral."""
    @property
    def config(self) -> Dict[str, Any]:
        """Every option, as the suite's ``[control]`` table spells it."""
    def state_dict(self) -> ControllerStateDict:
        """Config and state, JSON-ready and exact (save it with the checkpoint)."""
    def load_state_dict(self, state: ControllerStateDict) -> None:
        """Replace config and state by a ``state_dict()``; ValueError if invalid."""
    @staticmethod
    def from_state_dict(state: ControllerStateDict) -> "EntropicController": ...

class TokenLoss:
    loss: float
    dlogp: npt.NDArray[np.float64]
    dentropy: npt.NDArray[np.float64]
    n_tokens: int
    n_hp: int
    hp_frac: float
    clip_frac: float
    kl: float
    n_selected: int

def token_loss(
    log_probs: npt.NDArray[np.float64],
    old_log_probs: npt.NDArray[np.float64],
    advantages: npt.NDArray[np.float64],
    entropies: npt.NDArray[np.float64],
    *,
    ref_log_probs: Optional[npt.NDArray[np.float64]] = None,
    weights: Optional[npt.NDArray[np.float64]] = None,
    controller: Optional[EntropicController] = None,
    alpha: Optional[float] = None,
    entropy_coef: Optional[float] = None,
    eps_low: float = 0.2,
    eps_high: float = 0.2,
    dual_clip: float = 3.0,
    kl_coef: float = 0.0,
    seed: int = 0,
    **control: Any,
) -> TokenLoss: ...

class Composition(TypedDict):
    n_tokens: int
    n_hp: int
    hp_frac: float
    hp_entropy_share: float
    tail_mass_hp: float
    entropy_mean: float

def composition_from_logits(
    logits: npt.NDArray[np.float64], tokens: npt.NDArray[np.int64], tau: float = 0.95
) -> Composition: ...
def composition_from_token_stats(
    log_probs: npt.NDArray[np.float64], entropies: npt.NDArray[np.float64], tau: float = 0.95
) -> Composition: ...
def identify(
    entropy: npt.NDArray[np.float64],
    alpha: npt.NDArray[np.float64],
    delay: Optional[int] = None,
    twin: Optional[npt.NDArray[np.float64]] = None,
    prbs_hold: Optional[int] = None,
    prbs_start: int = 0,
    prbs_steps: Optional[int] = None,
    lag_decay: float = 0.0,
    prbs_coding: str = "nrz",
) -> Dict[str, Any]: ...
def identify_log(
    text: str,
    columns: Optional[str] = None,
    delay: Optional[int] = None,
    arm: Optional[str] = None,
    seed: Optional[int] = None,
    twin: Optional[str] = None,
    prbs_hold: Optional[int] = None,
    prbs_start: int = 0,
    prbs_steps: Optional[int] = None,
    lag_decay: float = 0.0,
    prbs_coding: str = "nrz",
) -> Dict[str, Any]: ...
def recommend(
    fit: Dict[str, Any],
    *,
    target: float,
    e0: float,
    settle: int = 50,
    band: Optional[float] = None,
    alpha_max: float = 1.0,
    max_overshoot: float = 0.1,
    form: Literal["before", "after"] = "before",
) -> Dict[str, Any]: ...
def probe_schedule(
    steps: int, amplitude: float = 0.5, center: float = 0.0, hold: int = ...
) -> List[Tuple[int, float]]: ...
