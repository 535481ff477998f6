"""The Python controller against the Rust one: identical alpha sequences
(bit for bit) on the fixture printed by `examples/alpha_fixture.rs`, exact
checkpoint round trips, and errors as ValueError with Rust's sentences."""

import json
import math
import os
import pathlib

import pytest

import entropic

FIXTURE = os.environ.get(
    "ENTROPIC_ALPHA_FIXTURE", str(pathlib.Path(__file__).parent / "fixtures" / "alpha.json")
)


def load_fixture():
    with open(FIXTURE, encoding="utf-8") as f:
        return json.load(f)


def make(options):
    opts = dict(options)
    target, kp, ki = opts.pop("target"), opts.pop("kp"), opts.pop("ki")
    opts = {k: (float(v) if v in ("inf", "-inf") else v) for k, v in opts.items()}
    return entropic.EntropicController(target, kp, ki, **opts)


def test_alpha_sequences_identical_to_rust():
    fx = load_fixture()
    assert len(fx["cases"]) >= 5
    for case in fx["cases"]:
        c = make(case["options"])
        alphas = [c.update(h) for h in fx["entropy"]]
        coefs = [c.entropy_coef for _ in [0]]
        assert alphas == case["alpha"], case["options"]  # exact float equality
        assert coefs[-1] == case["entropy_coef"][-1]
        assert c.state_dict()["state"] == json.loads(json.dumps(case["final_state"]))


def test_checkpoint_round_trip_continues_identically():
    fx = load_fixture()
    for case in fx["cases"]:
        a = make(case["options"])
        for h in fx["entropy"][:25]:
            a.update(h)
        saved = json.loads(json.dumps(a.state_dict()))  # as a checkpoint file would hold it
        b = entropic.EntropicController(1.0)  # any controller; loading replaces it all
        b.load_state_dict(saved)
        c = entropic.EntropicController.from_state_dict(saved)
        rest = fx["entropy"][25:]
        assert [b.update(h) for h in rest] == case["alpha"][25:]
        assert [c.update(h) for h in rest] == case["alpha"][25:]


def test_authors_law_by_hand():
    # docs/mathematics.md §3: alpha = clip(Kp e + Ki I_prev, -1, 1), then I += e.
    c = entropic.EntropicController(0.1, kp=1.0, ki=0.01)
    e0, e1 = 0.5 - 0.1, 0.3 - 0.1
    assert c.update(0.5) == 1.0 * e0 + 0.01 * 0.0
    assert c.update(0.3) == 1.0 * e1 + 0.01 * e0
    assert c.integral == e0 + e1 and c.steps == 2
    assert c.update(5.0) == 1.0  # clipped
    assert c.last["error"] == pytest.approx(4.9)


def test_probe_schedule_drives_alpha():
    sched = entropic.probe_schedule(40, amplitude=0.3, center=0.1, hold=5)
    assert sum(n for n, _ in sched) == 40
    c = entropic.EntropicController(0.1, method="probe", probe=sched, alpha_max=math.inf)
    alphas = [c.update(0.2) for _ in range(40)]
    expect = [a for n, a in sched for _ in range(n)]
    assert alphas == expect
    assert set(round(a, 12) for a in alphas) == {0.4, -0.2}


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(kp=-1.0), "EntropicController: key `control.kp`: must be finite and >= 0 (got -1)"),
        (dict(tau=1.5), "EntropicController: key `control.tau`: must be in (0, 1) (got 1.5)"),
        (dict(alpha_max=0.0), "EntropicController: key `control.alpha_max`: must be > 0 or inf (got 0)"),
        (dict(gain=2.0), "EntropicController: unknown field `gain`"),
        (dict(method="pid"), "EntropicController: unknown variant `pid`"),
    ],
)
def test_bad_options_raise_value_error(options, message):
    with pytest.raises(ValueError) as e:
        entropic.EntropicController(0.1, **options)
    assert str(e.value).startswith(message)


def test_update_refuses_non_finite_entropy():
    c = entropic.EntropicController(0.1)
    with pytest.raises(ValueError, match=r"entropy must be finite \(got NaN\)"):
        c.update(float("nan"))
    assert c.steps == 0


def test_load_state_dict_refuses_bad_state():
    c = entropic.EntropicController(0.1)
    bad = c.state_dict()
    bad["cfg"]["kp"] = -2.0
    with pytest.raises(ValueError, match=r"load_state_dict: key `cfg.kp`: must be finite and >= 0"):
        c.load_state_dict(bad)
    with pytest.raises(ValueError, match=r"^load_state_dict: missing field `state`"):
        c.load_state_dict({"cfg": c.state_dict()["cfg"]})
