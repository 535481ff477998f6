"""token_loss coefficients on random inputs against a numpy port of the
authors' loss (yk7333/EntroPIC `compute_policy_loss_entropic`, read from
docs/mathematics.md §3 and their code, not copied): the value to 1e-7 (verl's +1e-8 in masked_mean) and
every coefficient dloss/dlogp to 1e-6 against central finite differences
of the port."""

import numpy as np
import pytest

import entropic


def masked_mean(x, m):
    # verl's masked_mean: sum(x*m) / (sum(m) + 1e-8)
    return float((x * m).sum() / (m.sum() + 1e-8))


def authors_loss(lp, old, adv, mask, alpha, tau=0.95, eps_low=0.2, eps_high=0.2, c=3.0):
    """Clipped PPO with dual clip, token-mean, plus alpha * mean_HP(-r|A|)."""
    neg_kl = np.clip(lp - old, -20.0, 20.0)
    r = np.exp(neg_kl)
    l1 = -adv * r
    l2 = -adv * np.clip(r, 1 - eps_low, 1 + eps_high)
    c1 = np.maximum(l1, l2)
    c2 = np.minimum(-adv * c, c1)
    pg = np.where(adv < 0, c2, c1)
    hp = (lp > np.log(tau)).astype(np.float64)
    return masked_mean(pg, mask) + alpha * masked_mean(-r * np.abs(adv), mask * hp)


def random_batch(rng, b=6, t=9):
    # log-probs spread over both sides of tau = 0.95 (ln 0.95 = -0.051)
    lp = np.log(rng.uniform(0.3, 0.9999, (b, t)))
    old = lp + rng.normal(0.0, 0.25, (b, t))
    adv = np.repeat(rng.normal(0.0, 1.0, (b, 1)), t, axis=1)
    mask = (rng.uniform(size=(b, t)) < 0.8).astype(np.float64)
    ent = rng.uniform(0.0, 2.0, (b, t))
    return lp, old, adv, ent, mask


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("alpha", [0.0, 0.37, -0.8])
def test_coefficients_match_authors_formula(seed, alpha):
    rng = np.random.default_rng(seed)
    lp, old, adv, ent, mask = random_batch(rng)
    out = entropic.token_loss(lp, old, adv, ent, mask, alpha=alpha)
    ref = authors_loss(lp, old, adv, mask, alpha)
    # verl's +1e-8 in masked_mean moves the port by ~1e-8·|term|/|HP|.
    assert abs(out.loss - ref) < 1e-7
    assert out.n_tokens == int(mask.sum())
    assert out.n_hp == int(((lp > np.log(0.95)) & (mask > 0)).sum())
    h = 1e-6
    fd = np.zeros_like(lp)
    for idx in np.ndindex(lp.shape):
        up, dn = lp.copy(), lp.copy()
        up[idx] += h
        dn[idx] -= h
        fd[idx] = (authors_loss(up, old, adv, mask, alpha) - authors_loss(dn, old, adv, mask, alpha)) / (2 * h)
    assert np.max(np.abs(out.dlogp - fd)) < 1e-6
    assert np.all(out.dlogp[mask == 0] == 0.0)
    assert np.all(out.dentropy == 0.0)


def test_controller_directive_is_used():
    rng = np.random.default_rng(1)
    lp, old, adv, ent, mask = random_batch(rng)
    c = entropic.EntropicController(0.1)
    a = c.update(0.6)
    by_ctl = entropic.token_loss(lp, old, adv, ent, mask, controller=c)
    by_alpha = entropic.token_loss(lp, old, adv, ent, mask, alpha=a)
    assert by_ctl.loss == by_alpha.loss
    np.testing.assert_array_equal(by_ctl.dlogp, by_alpha.dlogp)


def test_entropy_bonus_coefficients():
    rng = np.random.default_rng(2)
    lp, old, adv, ent, mask = random_batch(rng)
    out = entropic.token_loss(lp, old, adv, ent, mask, method="entropy_bonus", entropy_coef=0.01)
    n = mask.sum()
    np.testing.assert_allclose(out.dentropy[mask > 0], -0.01 / n, rtol=0, atol=1e-15)
    base = entropic.token_loss(lp, old, adv, ent, mask, method="none")
    assert out.loss == pytest.approx(base.loss - 0.01 * float((ent * mask).sum() / n), abs=1e-12)


def test_bad_inputs():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"advantages has shape \(2, 2\) but log_probs has shape \(2, 3\)"):
        entropic.token_loss(x, x, np.zeros((2, 2)), x)
    with pytest.raises(ValueError, match=r"mask has shape \(3,\)"):
        entropic.token_loss(x, x, x, x, np.ones(3))
    with pytest.raises(ValueError, match=r"token_loss: key `loss.eps_low`"):
        entropic.token_loss(x, x, x, x, eps_low=-1.0)
    with pytest.raises(ValueError, match=r"token_loss: key `control.tau`: must be in \(0, 1\)"):
        entropic.token_loss(x, x, x, x, tau=2.0)
    with pytest.raises(ValueError, match="not both"):
        entropic.token_loss(x, x, x, x, controller=entropic.EntropicController(0.1), tau=0.9)
