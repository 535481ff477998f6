"""Identification and gain recommendation from arrays, a CSV text and a
pandas DataFrame (when pandas is installed)."""

import json

import numpy as np
import pytest

import entropic


def probe_log(g=0.02, b=0.004, noise=0.002, n=200, seed=0):
    rng = np.random.default_rng(seed)
    sched = entropic.probe_schedule(n, amplitude=0.4, center=b / g)
    alpha = np.array([a for k, a in sched for _ in range(k)])
    h = np.empty(n)
    h[0] = 0.5
    for t in range(n - 1):
        h[t + 1] = h[t] + b - g * alpha[t] + noise * rng.normal()
    return h, alpha


def test_identify_recovers_gain_and_delay():
    h, a = probe_log()
    out = entropic.identify(h, a)
    fit = out["fit"]
    assert fit["d"] == 0
    lo, hi = fit["g_ci"]
    assert lo < 0.02 < hi and lo > 0
    assert len(out["delay_residuals"]) == entropic.MAX_DELAY + 1
    # The design's power is reported beside the interval.
    est = out["estimate"]
    assert est["design"] == "unpaired"
    assert 0 < est["g_detectable"] < 0.02
    # Newey–West's interval says what it rests on, and which designs do not.
    assert "approximate" in out["interval_caveat"]
    assert "--twin" in out["interval_caveat"]


def test_identify_paired_with_a_twin():
    g, b, n = 0.02, 0.004, 200
    rng = np.random.default_rng(1)
    sched = entropic.probe_schedule(n, amplitude=0.4, center=0.0)
    alpha = np.array([a for k, a in sched for _ in range(k)])
    probe, plain = np.empty(n), np.empty(n)
    probe[0] = plain[0] = 0.5
    for t in range(n - 1):
        w = 0.002 * rng.normal()
        probe[t + 1] = probe[t] + b - g * alpha[t] + w
        plain[t + 1] = plain[t] + b + w
    out = entropic.identify(probe, alpha, delay=0, twin=plain)
    assert out["estimate"]["design"] == {"paired": {"seeds": 1}}
    # One seed: its interval rests on a model of the noise in time.
    assert "fewer than 4 seeds" in out["interval_caveat"]
    assert abs(out["fit"]["g"] - g) < 1e-9


def test_identify_log_pools_the_seeds_of_a_twin():
    g, b, n = 0.02, 0.004, 200
    rng = np.random.default_rng(3)
    sched = entropic.probe_schedule(n, amplitude=0.4, center=0.0)
    alpha = np.array([a for k, a in sched for _ in range(k)])
    probe_lines, plain_lines = [], []
    for seed in range(4):
        hp = hq = 0.5
        for t in range(n):
            # each seed its own measurement noise on the probe
            v = 1e-3 * rng.normal()
            probe_lines.append(json.dumps({"arm": "probe", "seed": seed, "step": t,
                                           "entropy": hp + v, "alpha": float(alpha[t])}))
            plain_lines.append(json.dumps({"arm": "plain", "seed": seed, "step": t,
                                           "entropy": hq, "alpha": 0.0}))
            w = 0.002 * rng.normal()
            hp, hq = hp + b - g * alpha[t] + w, hq + b + w
    out = entropic.identify_log("\n".join(probe_lines) + "\n", delay=0,
                                twin="\n".join(plain_lines) + "\n")
    ident = out["identified"]
    assert ident["estimate"]["design"] == {"paired": {"seeds": 4}}
    assert ident["estimate"]["variance"] == "seed_slopes"
    assert ident["interval_caveat"] is None
    # A lag beside a twin is refused here too.
    with pytest.raises(ValueError, match="lag decay"):
        entropic.identify_log("\n".join(probe_lines) + "\n", delay=0,
                              twin="\n".join(plain_lines) + "\n", lag_decay=0.9)
    lo, hi = ident["estimate"]["g_ci"]
    assert lo < g < hi


def test_identify_a_drawn_prbs_with_a_randomization_interval():
    g, b, n = 0.02, 0.004, 300
    rng = np.random.default_rng(2)
    # A PRBS drawn at random: a fair coin every 10 steps, levels ±0.4.
    alpha = np.repeat(np.where(rng.random(n // 10) < 0.5, -0.4, 0.4), 10)
    h = np.empty(n)
    h[0] = 0.5
    for t in range(n - 1):
        h[t + 1] = h[t] + b - g * alpha[t] + 0.002 * rng.normal()
    out = entropic.identify(h, alpha, delay=0, prbs_hold=10)
    est = out["estimate"]
    assert est["design"] == {"unpaired_randomized": {"draws": 999}}
    assert out["interval_caveat"] is None
    lo, hi = est["g_ci"]
    assert 0 < lo < g < hi
    # A hold the schedule contradicts, a selected delay, a start without a
    # hold or a lag beside a twin is refused with the reason.
    with pytest.raises(ValueError, match="min_hold 7"):
        entropic.identify(h, alpha, delay=0, prbs_hold=7)
    with pytest.raises(ValueError, match="fixed delay"):
        entropic.identify(h, alpha, prbs_hold=10)
    with pytest.raises(ValueError, match="need prbs_hold"):
        entropic.identify(h, alpha, delay=0, prbs_start=5)
    with pytest.raises(ValueError, match="lag decay"):
        entropic.identify(h, alpha, delay=0, twin=h, lag_decay=0.9)
    # A lag without a hold is the Newey–West design through that lag.
    lagged = entropic.identify(h, alpha, delay=0, lag_decay=0.5)["estimate"]
    assert lagged["design"] == "unpaired"
    assert lagged["g"] > 0


def test_identify_a_manchester_coded_prbs():
    g, b, n, hold = 0.02, 0.004, 300, 10
    rng = np.random.default_rng(3)
    # A coin per 20 steps, played for 10 steps and then negated for 10.
    coins = np.where(rng.random(n // (2 * hold)) < 0.5, -0.4, 0.4)
    alpha = np.repeat(np.stack([coins, -coins], axis=1).reshape(-1), hold)
    h = np.empty(n)
    h[0] = 0.5
    for t in range(n - 1):
        h[t + 1] = h[t] + b - g * alpha[t] + 0.002 * rng.normal()
    out = entropic.identify(h, alpha, delay=0, prbs_hold=hold, prbs_coding="manchester")
    est = out["estimate"]
    assert est["design"] == {"unpaired_randomized": {"draws": 999}}
    lo, hi = est["g_ci"]
    assert 0 < lo < g < hi
    # A plain PRBS is not a Manchester draw; an unknown coding, or a coding
    # without a hold, is refused with the reason.
    nrz = np.repeat(np.where(rng.random(n // hold) < 0.5, -0.4, 0.4), hold)
    nrz[:20] = [0.4] * 20  # one coin's halves equal: not Manchester
    with pytest.raises(ValueError, match="Manchester-coded"):
        entropic.identify(h, nrz, delay=0, prbs_hold=hold, prbs_coding="manchester")
    with pytest.raises(ValueError, match="nrz or manchester"):
        entropic.identify(h, alpha, delay=0, prbs_hold=hold, prbs_coding="gray")
    with pytest.raises(ValueError, match="need prbs_hold"):
        entropic.identify(h, alpha, delay=0, prbs_coding="manchester")


def test_recommend_and_tune_from_csv_text():
    h, a = probe_log()
    fit = entropic.identify(h, a, delay=0)["fit"]
    rec = entropic.recommend(fit, target=0.3, e0=h[0] - 0.3, settle=40)
    r = rec["recommendation"]
    assert r["kp"] > 0 and r["ki"] > 0
    assert "entropy_control_p" in rec["verl_overrides"]
    csv = "step,entropy,alpha\n" + "\n".join(f"{t},{float(x)!r},{float(y)!r}" for t, (x, y) in enumerate(zip(h, a)))
    tuned = entropic.tune(csv, target=0.3, delay=0, settle=40)
    assert tuned["recommendation"]["kp"] == r["kp"]


def test_refuses_p_control_log_with_rust_sentence():
    h, _ = probe_log()
    a = 1.0 * (h - 0.3)  # alpha affine in H: P control
    with pytest.raises(
        ValueError,
        match=r"^α is not independent of the error \(\|corr\(α_t, H_t\)\| = 1\.000 > 0\.9: "
        r"α follows the error, as under P control\): a closed-loop",
    ):
        entropic.identify(h, a)
    with pytest.raises(ValueError, match=r"^α is constant over the log"):
        entropic.identify(h, np.full_like(h, 0.2))


def test_dataframe_log():
    pd = pytest.importorskip("pandas")
    h, a = probe_log()
    df = pd.DataFrame({"trainer/global_step": range(len(h)), "actor/entropy": h, "actor/control_alpha": a})
    out = entropic.identify_log(df, delay=0)
    assert out["series"]["entropy_column"] == "actor/entropy"
    assert out["identified"]["fit"]["g"] == entropic.identify(h, a, delay=0)["fit"]["g"]
    with pytest.raises(ValueError, match=r"^no alpha column: tried"):
        entropic.identify_log(df.drop(columns=["actor/control_alpha"]))
