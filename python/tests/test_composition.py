"""composition() on hand-computed cases, masks, temperature and errors."""

import math

import numpy as np
import pytest

import entropic


def test_two_tokens_by_hand():
    logits = np.array([[math.log(0.98), math.log(0.02)], [0.0, 0.0]])
    c = entropic.composition(logits, np.array([0, 1]))
    h0 = -0.98 * math.log(0.98) - 0.02 * math.log(0.02)
    h1 = math.log(2)
    assert (c["n_tokens"], c["n_hp"]) == (2, 1)
    assert c["hp_frac"] == 0.5
    assert c["hp_entropy_share"] == pytest.approx(h0 / (h0 + h1), abs=1e-12)
    assert c["tail_mass_hp"] == pytest.approx(0.02, abs=1e-12)
    assert c["entropy_mean"] == pytest.approx((h0 + h1) / 2, abs=1e-12)


def test_batch_shape_mask_and_temperature():
    # (2, 2, 3): four positions; the mask drops the uniform one.
    z = np.array(
        [
            [[10.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
            [[0.0, 5.0, 0.0], [1.0, 2.0, 3.0]],
        ]
    )
    y = np.array([[0, 2], [1, 0]])
    mask = np.array([[1, 0], [1, 1]])
    c = entropic.composition(z, y, mask)
    p0 = math.exp(10) / (math.exp(10) + 2)
    p1 = math.exp(5) / (math.exp(5) + 2)
    assert c["n_tokens"] == 3 and c["n_hp"] == 2  # p0, p1 > 0.95; softmax(1,2,3)[0] is not
    assert c["tail_mass_hp"] == pytest.approx(((1 - p0) + (1 - p1)) / 2, abs=1e-12)
    # temperature 2 halves the logits: p(10/2) = e^5/(e^5+2) = p1
    c2 = entropic.composition(z, y, mask, temperature=2.0)
    assert c2["n_hp"] == 1


def test_from_token_stats_agrees_with_logits():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 4, (50, 7))
    y = rng.integers(0, 7, 50)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    h = -(np.exp(logp) * logp).sum(-1)
    a = entropic.composition(z, y)
    b = entropic.composition_from_token_stats(logp[np.arange(50), y], h)
    for k in a:
        assert a[k] == pytest.approx(b[k], abs=1e-12)


def test_empty_hp_is_nan():
    c = entropic.composition(np.zeros((3, 4)), np.array([0, 1, 2]))
    assert c["n_hp"] == 0 and math.isnan(c["tail_mass_hp"])


@pytest.mark.parametrize(
    "logits, tokens, kw, message",
    [
        (np.zeros((2, 3)), np.array([0, 3]), {}, "token 1: id 3 is outside the vocabulary (size 3)"),
        (np.zeros((2, 3)), np.array([0, -1]), {}, "token 1: id -1 is outside the vocabulary (size 3)"),
        (np.zeros((2, 3)), np.array([0]), {}, "logits have shape (2, 3); tokens must have shape (2,) (got (1,))"),
        (np.zeros((0, 3)), np.zeros(0, dtype=int), {}, "no tokens: the batch is empty"),
        (np.zeros((1, 3)), np.array([0]), {"tau": 1.0}, "tau must be in (0, 1) (got 1)"),
        (np.array([[0.0, np.inf]]), np.array([0]), {}, "token 0: non-finite logit at vocabulary index 1"),
        (np.zeros((1, 3)), np.array([0.0]), {}, "tokens must be integer ids (got dtype float64)"),
    ],
)
def test_errors(logits, tokens, kw, message):
    with pytest.raises(ValueError) as e:
        entropic.composition(logits, tokens, **kw)
    assert str(e.value) == message
