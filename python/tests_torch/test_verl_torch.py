"""The verl-signature loss (entropic.verl) against a PyTorch port of the
authors' formula, in float64 on CPU: the loss and every element of the
gradient within 1e-6 absolute. Run by scripts/py-torch-check.sh (needs
torch; not in CI).

The port below was written from docs/mathematics.md §3 and by reading
yk7333/EntroPIC `core_algos.py` `compute_policy_loss_entropic` (verl's
clipped loss with dual clip, token-mean by verl's masked_mean, plus
`alpha * masked_mean(-ratio*|A|, mask * [log_prob > log(tau)])` with the
clamped ratio); it is not their code.
"""

import math

import pytest

torch = pytest.importorskip("torch")

import entropic  # noqa: E402
from entropic.verl import compute_policy_loss_entropic  # noqa: E402


def masked_mean(x, m):
    return (x * m).sum() / (m.sum() + 1e-8)


def authors_loss(old, lp, adv, mask, tau, alpha, eps_low=0.2, eps_high=0.2, c=3.0):
    neg_kl = torch.clamp(lp - old, min=-20.0, max=20.0)
    ratio = torch.exp(neg_kl)
    l1 = -adv * ratio
    l2 = -adv * torch.clamp(ratio, 1 - eps_low, 1 + eps_high)
    c1 = torch.maximum(l1, l2)
    c2 = torch.min(-adv * c, c1)
    pg = torch.where(adv < 0, c2, c1)
    loss = masked_mean(pg, mask)
    high = lp > torch.log(torch.tensor(tau, dtype=lp.dtype))
    return loss + alpha * masked_mean(-ratio * adv.abs(), mask * high)


def batch(seed, b=8, t=16, v=11):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(b, t, v, generator=g, dtype=torch.float64) * 3.0).requires_grad_(True)
    y = torch.randint(0, v, (b, t), generator=g)
    adv = torch.randn(b, 1, generator=g, dtype=torch.float64).expand(b, t).clone()
    mask = (torch.rand(b, t, generator=g, dtype=torch.float64) < 0.85).to(torch.float64)
    with torch.no_grad():
        lp0 = torch.log_softmax(logits, -1).gather(-1, y[..., None])[..., 0]
        old = lp0 + 0.3 * torch.randn(b, t, generator=g, dtype=torch.float64)
        # Past verl's ±20 clamp on both sides. The r = e^20 side only on
        # tokens outside HP for every tau tested: inside HP the extra term
        # would be ~1e8, where verl's +1e-8 in masked_mean alone moves the
        # loss by more than 1e-6.
        low = lp0 < math.log(0.4)
        old[0][low[0]] = lp0[0][low[0]] - 25.0
        old[1, :3] = lp0[1, :3] + 25.0
    return logits, y, adv, mask, old


CONFIG = {"clip_ratio": 0.2, "clip_ratio_low": 0.2, "clip_ratio_high": 0.28, "clip_ratio_c": 3.0}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.0, 0.45, -1.0])
@pytest.mark.parametrize("tau", [0.95, 0.5])
def test_loss_and_gradient_match_authors_formula(seed, alpha, tau):
    logits, y, adv, mask, old = batch(seed)
    # Through log_prob as a leaf, and through a model (logits -> log_softmax).
    lp_leaf = torch.log_softmax(logits, -1).gather(-1, y[..., None])[..., 0].detach().requires_grad_(True)
    ours, *_ = compute_policy_loss_entropic(old, lp_leaf, adv, mask, tau, alpha, "token-mean", CONFIG)
    ref = authors_loss(old, lp_leaf, adv, mask, tau, alpha, eps_high=0.28)
    (g_ours,) = torch.autograd.grad(ours, lp_leaf)
    (g_ref,) = torch.autograd.grad(ref, lp_leaf)
    assert abs(ours.item() - ref.item()) < 1e-6
    assert (g_ours - g_ref).abs().max().item() < 1e-6
    assert g_ref.abs().max().item() > 1e-3  # a real gradient, not zeros on both sides

    lp = torch.log_softmax(logits, -1).gather(-1, y[..., None])[..., 0]
    ours, *_ = compute_policy_loss_entropic(old, lp, adv, mask, tau, alpha, "token-mean", CONFIG)
    (gl_ours,) = torch.autograd.grad(ours, logits)
    lp = torch.log_softmax(logits, -1).gather(-1, y[..., None])[..., 0]
    (gl_ref,) = torch.autograd.grad(authors_loss(old, lp, adv, mask, tau, alpha, eps_high=0.28), logits)
    assert (gl_ours - gl_ref).abs().max().item() < 1e-6


def test_metrics_as_verl():
    logits, y, adv, mask, old = batch(0)
    lp = torch.log_softmax(logits, -1).gather(-1, y[..., None])[..., 0].detach()
    _, clipfrac, ppo_kl, lower = compute_policy_loss_entropic(old, lp, adv, mask, 0.95, 0.3, "token-mean", CONFIG)
    neg_kl = torch.clamp(lp - old, -20, 20)
    assert math.isclose(ppo_kl.item(), masked_mean(-neg_kl, mask).item(), abs_tol=1e-12)
    r = torch.exp(neg_kl)
    l1, l2 = -adv * r, -adv * torch.clamp(r, 0.8, 1.28)
    assert math.isclose(clipfrac.item(), masked_mean((l2 > l1).double(), mask).item(), abs_tol=1e-12)
    assert 0.0 <= lower.item() <= 1.0


def test_refuses_other_aggregations():
    logits, y, adv, mask, old = batch(1)
    lp = torch.zeros_like(old)
    with pytest.raises(ValueError, match="token-mean"):
        compute_policy_loss_entropic(old, lp, adv, mask, 0.95, 0.1, "seq-mean-token-mean", CONFIG)


def test_surrogate_with_controller_alpha():
    # The controller's alpha, as the actor would pass it.
    c = entropic.EntropicController(0.1)
    alpha = c.update(0.7)
    logits, y, adv, mask, old = batch(2)
    lp = torch.log_softmax(logits, -1).gather(-1, y[..., None])[..., 0]
    ours, *_ = compute_policy_loss_entropic(old, lp, adv, mask, 0.95, alpha, "token-mean", CONFIG)
    ref = authors_loss(old, lp.detach(), adv, mask, 0.95, alpha, eps_high=0.28)
    assert abs(ours.item() - ref.item()) < 1e-6
