//! `entropic tune`: identification from synthetic logs, refusals, bad input
//! (exit 2), the probe snippet, and robust recommendations.

use entropic_proofs::ident_power::Coding;
use entropic_proofs::linear::{spectral_radius, IntegralForm};
use entropic_proofs::tune::{self, Columns, DesignSpec};
mod common;
use common::{bin, stderr, tmp, write};

/// Deterministic small "noise" in [−amp, amp] (no RNG needed for a test
/// that only needs the regressor to be imperfect).
fn wiggle(t: usize, amp: f64) -> f64 {
    amp * ((t as f64) * 12.9898).sin()
}

/// Plant `H_{t+1} = H_t + b − g·α_{t−d} + noise` driven by the PRBS probe
/// of `tune::probe_schedule` (each bit held 10 steps).
fn probe_log(b: f64, g: f64, d: usize, steps: usize) -> (Vec<f64>, Vec<f64>) {
    let sched = tune::probe_schedule(steps, 0.5, 0.0, 10);
    let mut alpha = Vec::new();
    for (n, a) in sched {
        alpha.extend(std::iter::repeat_n(a, n));
    }
    let mut h = vec![1.0];
    for t in 0..steps - 1 {
        let a = if t >= d { alpha[t - d] } else { 0.0 };
        h.push(h[t] + b - g * a + wiggle(t, 1e-4));
    }
    (h, alpha)
}

/// P control `α_t = Kp·(H_t − H_tar)` on the same plant (d = 0).
fn p_control_log(b: f64, g: f64, kp: f64, target: f64, steps: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut h, mut alpha) = (vec![target + 0.3], Vec::new());
    for t in 0..steps {
        alpha.push(kp * (h[t] - target));
        h.push(h[t] + b - g * alpha[t] + wiggle(t, 1e-4));
    }
    h.pop();
    (h, alpha)
}

fn csv(header: &str, h: &[f64], a: &[f64]) -> String {
    let mut s = format!("{header}\n");
    for (t, (h, a)) in h.iter().zip(a).enumerate() {
        s += &format!("{t},{h},{a}\n");
    }
    s
}

fn jsonl(arm: &str, seed: u64, target: f64, h: &[f64], a: &[f64]) -> String {
    let mut s = String::new();
    for (t, (h, a)) in h.iter().zip(a).enumerate() {
        s += &format!(
            "{{\"arm\":\"{arm}\",\"step\":{t},\"seed\":{seed},\"entropy\":{h},\"target\":{target},\"alpha\":{a}}}\n"
        );
    }
    s
}

#[test]
fn synthetic_probe_log_recovers_b_g_d() {
    // Truth: b = −0.002, g = 0.01, d = 3; noise ≤ 1e-4 per step, so the
    // fit must land within a few percent and its interval must cover it.
    let (h, a) = probe_log(-0.002, 0.01, 3, 300);
    let s = tune::parse_jsonl(
        &jsonl("probe", 0, 0.9, &h, &a),
        &Columns::default(),
        None,
        None,
    )
    .expect("parse");
    let id = tune::identify(&s, None).expect("identify");
    let f = id.fit;
    assert_eq!(f.d, 3, "residuals {:?}", id.delay_residuals);
    assert!((f.g - 0.01).abs() < 5e-4, "g = {}", f.g);
    assert!((f.b + 0.002).abs() < 2e-4, "b = {}", f.b);
    assert!(f.g_ci.0 <= 0.01 && 0.01 <= f.g_ci.1, "{:?}", f.g_ci);
    assert!(f.b_ci.0 <= -0.002 && -0.002 <= f.b_ci.1, "{:?}", f.b_ci);
    assert_eq!(id.delay_residuals.len(), tune::MAX_DELAY + 1);
}

#[test]
fn recommendation_is_stable_at_every_corner_of_the_interval() {
    let (h, a) = probe_log(-0.002, 0.01, 3, 300);
    let s = tune::parse_jsonl(&jsonl("p", 0, 0.9, &h, &a), &Columns::default(), None, None)
        .expect("parse");
    let fit = tune::identify(&s, None).expect("identify").fit;
    let spec = DesignSpec {
        settle: 60,
        target: 0.9,
        e0: 0.1,
        alpha_max: f64::INFINITY,
        form: IntegralForm::Before,
        max_overshoot: 0.25,
        band: None,
    };
    let r = tune::recommend(&fit, &spec).expect("recommend");
    assert!(r.kp > 0.0 && r.ki > 0.0);
    for g in [fit.g_ci.0, fit.g, fit.g_ci.1] {
        let rho = spectral_radius(g, fit.d, r.kp, r.ki, IntegralForm::Before);
        assert!(rho < 1.0, "unstable at g = {g}: {rho}");
    }
    assert!(r.gain_margin > 1.0 && r.gain_margin_worst > 1.0);
    if r.met {
        for c in &r.corners {
            let st = c.prediction.settling_step.expect("settles");
            assert!(st <= 60, "corner {c:?}");
        }
    }
    // An explicit band replaces docs/design.md §8's max(0.05, 0.1·H_tar) = 0.09.
    assert!((r.band - 0.09).abs() < 1e-12, "default band {}", r.band);
    let narrow = tune::recommend(
        &fit,
        &DesignSpec {
            band: Some(0.01),
            ..spec
        },
    )
    .expect("recommend with a band");
    assert_eq!(narrow.band, 0.01);
    // Holding the target needs α* = b/g ≈ −0.002/0.01 = −0.2: a clip of 0.1
    // cannot, and recommend says so instead of returning gains.
    let clipped = DesignSpec {
        alpha_max: 0.1,
        ..spec
    };
    let e = tune::recommend(&fit, &clipped).expect_err("out of authority");
    assert!(matches!(e, tune::TuneError::OutOfAuthority { .. }), "{e}");
    // The snippet names the gains exactly as printed.
    let snip = tune::scenario_snippet(&r);
    assert!(
        snip.contains(&format!("kp = {}", tune::fmt_gain(r.kp))),
        "{snip}"
    );
}

#[test]
fn csv_with_other_column_names_works_through_columns() {
    let d = tmp("csv");
    let (h, a) = probe_log(-0.002, 0.01, 0, 200);
    let p = write(&d, "wandb.csv", &csv("it,ent,ctl", &h, &a));
    let o = bin()
        .args(["tune", "identify", "--log"])
        .arg(&p)
        .args([
            "--columns",
            "entropy=ent,alpha=ctl,step=it",
            "--target",
            "0.9",
            "--json",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = stdout_json(&o);
    let g = v["identified"]["fit"]["g"].as_f64().expect("g");
    assert!((g - 0.01).abs() < 5e-4, "g = {g}");
    assert_eq!(v["identified"]["fit"]["d"].as_u64(), Some(0));
    // the unpaired Newey–West interval says what it rests on, and which
    // designs do not
    let caveat = v["interval_caveat"].as_str().expect("caveat");
    assert!(
        caveat.contains("approximate")
            && caveat.contains("--twin")
            && caveat.contains("--draw-seed"),
        "{caveat}"
    );
    let verl = v["verl_overrides"].as_str().expect("verl");
    assert!(
        verl.contains("actor_rollout_ref.actor.entropy_control_p="),
        "{verl}"
    );
    // verl's own names are found without --columns.
    let p2 = write(
        &d,
        "verl.csv",
        &csv("_step,actor/entropy,actor/control_alpha", &h, &a),
    );
    let o = bin()
        .args(["tune", "identify", "--target", "0.9", "--log"])
        .arg(&p2)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("[control]") && out.contains("entropy_control_i"),
        "{out}"
    );
    assert!(out.contains("note: this interval (unpaired"), "{out}");
}

#[test]
fn p_control_log_is_refused_with_the_reason() {
    let d = tmp("pctl");
    let (h, a) = p_control_log(-0.002, 0.01, 5.0, 0.9, 300);
    let p = write(&d, "metrics.jsonl", &jsonl("p", 0, 0.9, &h, &a));
    let o = bin()
        .args(["tune", "identify", "--log"])
        .arg(&p)
        .output()
        .expect("run");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("P control") && err.contains("probe"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn bad_input_exits_2_with_one_clear_line() {
    let d = tmp("bad");
    let (h, a) = probe_log(-0.002, 0.01, 0, 100);
    let constant_alpha = vec![0.3; h.len()];
    let flat = vec![1.0; h.len()];
    let mut bad_cell = csv("step,entropy,alpha", &h, &a);
    bad_cell += "100,abc,0.1\n";
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        // (file, contents, extra args, text the error must contain)
        ("missing.csv", csv("step,H,alpha", &h, &a), vec![], "`H`"),
        (
            "missing2.csv",
            csv("step,entropy,alpha", &h, &a),
            vec!["--columns", "alpha=coef"],
            "`entropy`",
        ),
        (
            "few.jsonl",
            jsonl("x", 0, 0.9, &h[..8], &a[..8]),
            vec![],
            "too few",
        ),
        (
            "const.jsonl",
            jsonl("x", 0, 0.9, &h, &constant_alpha),
            vec![],
            "constant",
        ),
        (
            "flat.jsonl",
            jsonl("x", 0, 0.9, &flat, &a),
            vec![],
            "constant",
        ),
        ("cell.csv", bad_cell, vec!["--target", "0.9"], "line 102"),
        ("notjson.jsonl", "{\"step\": 0,\n".into(), vec![], "line 1"),
        ("empty.csv", String::new(), vec![], "no data"),
        (
            "cols.csv",
            csv("step,entropy,alpha", &h, &a),
            vec!["--columns", "entropy"],
            "--columns",
        ),
        (
            "notarget.csv",
            csv("step,entropy,alpha", &h, &a),
            vec![],
            "--target",
        ),
    ];
    for (name, text, extra, needle) in cases {
        let p = write(&d, name, &text);
        let o = bin()
            .args(["tune", "identify", "--log"])
            .arg(&p)
            .args(&extra)
            .output()
            .expect("run");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
    }
    // The missing column's message names the columns present.
    let o = bin()
        .args(["tune", "identify", "--log"])
        .arg(d.join("missing.csv"))
        .output()
        .expect("run");
    assert!(
        stderr(&o).contains("`H`, `alpha`, `step`"),
        "{}",
        stderr(&o)
    );
    // Unreadable file.
    let o = bin()
        .args(["tune", "identify", "--log"])
        .arg(d.join("absent.jsonl"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

#[test]
fn nan_rows_are_skipped_and_counted() {
    let (h, mut a) = probe_log(-0.002, 0.01, 0, 200);
    a[50] = f64::NAN;
    let mut text = csv("step,entropy,alpha", &h, &a);
    text = text.replace(&format!("\n60,{},", h[60]), "\n60,,");
    let s = tune::parse_csv(&text, &Columns::default()).expect("parse");
    // Row 50 (α NaN) and row 60 (entropy empty).
    assert_eq!(s.nan_rows, 2);
    let f = tune::identify(&s, Some(0)).expect("identify").fit;
    // Rows touching t = 50 (α_50) and t = 59, 60 (ΔH uses H_60) are skipped.
    assert_eq!(f.skipped_nan, 3);
    assert!((f.g - 0.01).abs() < 5e-4, "g = {}", f.g);
}

#[test]
fn jsonl_with_several_runs_is_refused_listing_them_and_arm_seed_select() {
    let (h, a) = probe_log(-0.002, 0.01, 0, 100);
    let text =
        jsonl("pi", 0, 0.9, &h, &a) + &jsonl("pi", 1, 0.9, &h, &a) + &jsonl("grpo", 0, 0.9, &h, &a);
    let e = tune::parse_jsonl(&text, &Columns::default(), None, None).expect_err("ambiguous");
    let msg = e.to_string();
    assert!(
        msg.contains("arm=pi seed=1") && msg.contains("arm=grpo seed=0"),
        "{msg}"
    );
    let e = tune::parse_jsonl(&text, &Columns::default(), Some("pi"), None).expect_err("two seeds");
    assert!(!e.to_string().contains("grpo"), "{e}");
    let s = tune::parse_jsonl(&text, &Columns::default(), Some("pi"), Some(1)).expect("one run");
    assert_eq!(s.entropy.len(), 100);
    assert_eq!(s.target, Some(0.9));
    let e =
        tune::parse_jsonl(&text, &Columns::default(), Some("none"), None).expect_err("no match");
    assert!(e.to_string().contains("runs present"), "{e}");
}

#[test]
fn probe_snippet_appended_to_a_scenario_parses() {
    let o = bin()
        .args([
            "tune",
            "probe",
            "--steps",
            "120",
            "--amplitude",
            "0.4",
            "--center",
            "-0.2",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let snippet = String::from_utf8_lossy(&o.stdout).to_string();
    // the fixed LFSR schedule is read with Newey–West: the header says what
    // that rests on and how to draw the schedule instead
    assert!(snippet.contains("variance model") && snippet.contains("--draw-seed N"));
    let base =
        "seeds = 1\nsteps = 20\n[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n";
    let sc = entropic_sim::scenario::parse("probe.toml", "probe", &format!("{base}{snippet}"))
        .expect("snippet parses");
    let c = &sc.runs[0].control;
    assert_eq!(c.method, entropic_sim::control::Method::Probe);
    // Levels are printed to 4 significant digits (−0.2 − 0.4 is not exactly −0.6).
    let want = tune::probe_schedule(120, 0.4, -0.2, tune::MAX_DELAY + 2);
    assert_eq!(c.probe.len(), want.len());
    for (got, w) in c.probe.iter().zip(&want) {
        assert!(
            got.0 == w.0 && (got.1 - w.1).abs() < 1e-9,
            "{got:?} vs {w:?}"
        );
    }
    // Both levels occur, the total is the requested length, and levels alternate.
    let total: usize = c.probe.iter().map(|p| p.0).sum();
    assert_eq!(total, 120);
    assert!(c.probe.iter().any(|p| (p.1 - 0.2).abs() < 1e-12));
    assert!(c.probe.iter().any(|p| (p.1 + 0.6).abs() < 1e-12));
    assert!(c.probe.windows(2).all(|w| w[0].1 != w[1].1));
}

#[test]
fn validate_llm_half_without_a_probe_run_exits_2_naming_the_command() {
    let d = tmp("llm-half");
    let o = bin()
        .args(["tune", "validate", "--out"])
        .arg(d.join("reports"))
        .arg("--llm")
        .arg(d.join("no-such-run"))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no alpha+1/seed-0/metrics.jsonl")
            && err.contains("llm validate --preset cpu"),
        "{err}"
    );
    // nothing half-written: the report is only written once both halves ran
    assert!(!d.join("reports/tune.md").exists());
}

/// Probe and plain twin of one seed: the same process noise on both, so
/// their difference is `−g·Σα` plus the probe's own measurement noise
/// (docs/mathematics.md §9).
/// A command's stdout as JSON (`--json`).
fn stdout_json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).expect("json")
}

/// An estimate's 95% interval for `g` (`estimate.g_ci` of the JSON).
fn g_ci(est: &serde_json::Value) -> (f64, f64) {
    (
        est["g_ci"][0].as_f64().expect("g_ci"),
        est["g_ci"][1].as_f64().expect("g_ci"),
    )
}

fn twin_logs(b: f64, g: f64, steps: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (_, alpha) = probe_log(b, g, 0, steps);
    let (mut hp, mut h0) = (vec![1.0], vec![1.0]);
    for t in 0..steps - 1 {
        let w = wiggle(t, 1e-3);
        hp.push(hp[t] + b - g * alpha[t] + w);
        h0.push(h0[t] + b + w);
    }
    let observed = hp
        .iter()
        .enumerate()
        .map(|(t, h)| h + wiggle(5 * t + 2, 2e-4))
        .collect();
    (observed, h0, alpha)
}

#[test]
fn identify_with_a_twin_uses_the_paired_design_and_reports_the_detectable_gain() {
    let d = tmp("twin");
    let (hp, h0, a) = twin_logs(-0.002, 0.01, 300);
    let probe = write(&d, "probe.csv", &csv("step,entropy,alpha", &hp, &a));
    let zeros = vec![0.0; h0.len()];
    let plain = write(&d, "plain.csv", &csv("step,entropy,alpha", &h0, &zeros));
    let o = bin()
        .args([
            "tune", "identify", "--target", "0.9", "--delay", "0", "--json", "--log",
        ])
        .arg(&probe)
        .arg("--twin")
        .arg(&plain)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = stdout_json(&o);
    let est = &v["estimate"];
    assert!(est["design"].get("paired").is_some(), "{est}");
    // one seed: the interval rests on a model of the noise in time, and
    // says so
    let caveat = v["interval_caveat"].as_str().expect("caveat");
    assert!(caveat.contains("fewer than 4 seeds"), "{caveat}");
    let g = est["g"].as_f64().expect("g");
    let (lo, hi) = g_ci(est);
    // the twins share their process noise: only the probe's measurement
    // noise is left, so the interval is narrow and covers the truth
    assert!(lo <= 0.01 && 0.01 <= hi, "g = {g} [{lo}, {hi}]");
    assert!(hi - lo < 1e-3, "[{lo}, {hi}]");
    let det = est["g_detectable"].as_f64().expect("g_detectable");
    assert!(det > 0.0 && det < 0.01, "detectable {det}");
    // a twin of another length is refused as bad input
    let short = write(
        &d,
        "short.csv",
        &csv("step,entropy,alpha", &h0[..100], &zeros[..100]),
    );
    let o = bin()
        .args(["tune", "identify", "--target", "0.9", "--log"])
        .arg(&probe)
        .arg("--twin")
        .arg(&short)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn identify_pools_the_seeds_of_a_twin_and_then_needs_no_noise_model() {
    let d = tmp("pooled");
    let (mut probe, mut plain) = (String::new(), String::new());
    for s in 0..4usize {
        let (hp, h0, a) = twin_logs(-0.002, 0.01, 300);
        // each seed's probe its own measurement noise
        let hp: Vec<f64> = hp
            .iter()
            .enumerate()
            .map(|(t, h)| h + wiggle(97 * t + 13 * s + 1, 2e-4))
            .collect();
        probe += &jsonl("probe", s as u64, 0.9, &hp, &a);
        plain += &jsonl("plain", s as u64, 0.9, &h0, &vec![0.0; h0.len()]);
    }
    let probe = write(&d, "probe.jsonl", &probe);
    // a plain arm's metrics.jsonl logs no α: the twin reads it as absent
    let plain = write(&d, "plain.jsonl", &plain.replace(",\"alpha\":0}", "}"));
    let run = |extra: &[&str]| {
        bin()
            .args(["tune", "identify", "--delay", "0", "--log"])
            .arg(&probe)
            .arg("--twin")
            .arg(&plain)
            .args(extra)
            .output()
            .expect("run")
    };
    let o = run(&["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = stdout_json(&o);
    let est = &v["estimate"];
    assert_eq!(est["design"]["paired"]["seeds"], 4, "{est}");
    assert!(v["interval_caveat"].is_null(), "{}", v["interval_caveat"]);
    let (lo, hi) = g_ci(est);
    assert!(lo < 0.01 && 0.01 < hi, "[{lo}, {hi}]");
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("paired (4 seeds pooled) design"), "{out}");
    assert!(!out.contains("note:"), "{out}");
    // a twin log that lacks one of the probe's seeds: exit 2 naming it
    let short: String = (0..3usize)
        .map(|s| {
            let (_, h0, _) = twin_logs(-0.002, 0.01, 300);
            jsonl("plain", s as u64, 0.9, &h0, &vec![0.0; h0.len()])
        })
        .collect();
    let short = write(&d, "plain3.jsonl", &short);
    let o = bin()
        .args(["tune", "identify", "--delay", "0", "--log"])
        .arg(&probe)
        .arg("--twin")
        .arg(&short)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("seed 3"), "{}", stderr(&o));
    // one seed picked: no pooling, and the caveat is back
    let o = run(&["--seed", "2", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = stdout_json(&o);
    assert_eq!(v["estimate"]["design"]["paired"]["seeds"], 1);
    let caveat = v["interval_caveat"].as_str().expect("caveat");
    assert!(caveat.contains("fewer than 4 seeds"), "{caveat}");
}

#[test]
fn closed_loop_and_unexplained_logs_are_refused_and_reversed_rows_are_ordered() {
    let d = tmp("refusals");
    // PI control: α follows the error and its sum, not a schedule
    let (b, g, kp, ki, target) = (-0.002, 0.01, 5.0, 0.5, 0.9);
    let (mut h, mut a, mut i) = (vec![target + 0.3], Vec::new(), 0.0);
    for t in 0..300 {
        let e = h[t] - target;
        a.push(kp * e + ki * i);
        i += e;
        h.push(h[t] + b - g * a[t] + wiggle(t, 1e-4));
    }
    h.pop();
    let p = write(&d, "pi.csv", &csv("step,entropy,alpha", &h, &a));
    let o = bin()
        .args(["tune", "identify", "--target", "0.9", "--log"])
        .arg(&p)
        .output()
        .expect("run");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // a probe whose α moves nothing: the fit explains nothing, refused
    // with the smallest detectable gain named
    let (_, alpha) = probe_log(0.0, 0.0, 0, 300);
    let flat: Vec<f64> = (0..300).map(|t| 1.0 + wiggle(t * 7 + 1, 1e-3)).collect();
    let p = write(&d, "flat.csv", &csv("step,entropy,alpha", &flat, &alpha));
    let o = bin()
        .args(["tune", "identify", "--target", "0.9", "--log"])
        .arg(&p)
        .output()
        .expect("run");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("detect"), "{err}");
    // the same probe log with its rows in reverse step order gives the same fit
    let (h, a) = probe_log(-0.002, 0.01, 0, 200);
    let fwd = csv("step,entropy,alpha", &h, &a);
    let mut rows: Vec<&str> = fwd.lines().skip(1).collect();
    rows.reverse();
    let rev = format!("step,entropy,alpha\n{}\n", rows.join("\n"));
    let run = |name: &str, text: &str| {
        let p = write(&d, name, text);
        let o = bin()
            .args([
                "tune", "identify", "--target", "0.9", "--delay", "0", "--json", "--log",
            ])
            .arg(&p)
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let v = stdout_json(&o);
        v["estimate"]["g"].as_f64().expect("g")
    };
    assert_eq!(run("fwd.csv", &fwd), run("rev.csv", &rev));
}

/// A plain run's log: drift −0.004 nats/step, with process and measurement
/// noise from a deterministic generator (no α column).
fn pilot_csv(steps: usize) -> String {
    let mut s = String::from("step,entropy\n");
    let mut e = 0.5;
    for t in 0..steps {
        s += &format!("{t},{}\n", e + wiggle(3 * t + 1, 0.012));
        e += -0.004 + wiggle(7 * t + 2, 0.006);
    }
    s
}

#[test]
fn probe_sized_from_a_pilot_is_labelled_before_it_runs() {
    let dir = tmp("tune-pilot");
    let pilot = write(&dir, "pilot.csv", &pilot_csv(200));
    let plan = dir.join("plan.json");
    let run = |amp: &str, budget: &str| {
        bin()
            .args(["tune", "probe", "--pilot"])
            .arg(&pilot)
            .args(["--amplitude", amp, "--budget", budget, "--plan"])
            .arg(&plan)
            .output()
            .expect("run")
    };
    // Ample amplitude: the plan reaches |b| and says so.
    let o = run("1.0", "1000");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("# label = \"determinable\""), "{out}");
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).expect("plan")).expect("json");
    assert_eq!(p["label"], "determinable");
    assert!(p["g_detectable"].as_f64().unwrap() < p["drift_abs"].as_f64().unwrap());
    // This pilot's drift is straight: its placebo stays under the factor
    // the plan applies, and the plan is the noise model's.
    assert_eq!(p["pilot_factor"], 1.0, "{p}");
    assert_eq!(p["pilot_extrapolated"], false, "{p}");
    // What the plan rests on, with its measured error, in text and JSON.
    assert!(out.contains("# Note: an unpaired plan"), "{out}");
    assert!(
        p["caveat"].as_str().unwrap().contains("0.58 to 0.96 times"),
        "{p}"
    );
    // The snippet is the plan's schedule.
    let base =
        "seeds = 1\nsteps = 20\n[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n";
    let sc = entropic_sim::scenario::parse("probe.toml", "probe", &format!("{base}{out}"))
        .expect("snippet parses");
    let total: usize = sc.runs[0].control.probe.iter().map(|p| p.0).sum();
    assert_eq!(total as u64, p["steps"].as_u64().unwrap());
    // A tiny amplitude in a small budget: labelled undetermined in advance.
    let o = run("0.01", "100");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("# label = \"undetermined"), "{out}");
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).expect("plan")).expect("json");
    assert_eq!(p["label"], "undetermined");
    // Paired: at least 4 seeds, read pooled; with --max-seeds 2 the plan
    // says its interval will rest on a noise model.
    let paired = |max_seeds: &str| {
        let o = bin()
            .args([
                "tune",
                "probe",
                "--paired",
                "--max-seeds",
                max_seeds,
                "--pilot",
            ])
            .arg(&pilot)
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let out = paired("8");
    assert!(out.contains("interval is their own spread"), "{out}");
    assert!(out.contains("# Note: a paired plan"), "{out}");
    let out = paired("2");
    assert!(out.contains("model of the noise in time"), "{out}");
    // Read through a lag decay (Adam's β1): the read command carries it;
    // beside --paired, or out of [0, 1), exit 2.
    let o = bin()
        .args(["tune", "probe", "--lag-decay", "0.9", "--pilot"])
        .arg(&pilot)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("--lag-decay 0.9`"), "{out}");
    let refused: [&[&str]; 2] = [&["--paired", "--lag-decay", "0.5"], &["--lag-decay", "1.5"]];
    for args in refused {
        let o = bin()
            .args(["tune", "probe", "--pilot"])
            .arg(&pilot)
            .args(args)
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("--lag-decay"), "{}", stderr(&o));
    }
    // A budget below the shortest probe: exit 2 naming the option.
    let o = run("1.0", "10");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--budget"), "{}", stderr(&o));
}

#[test]
fn a_manchester_coded_prbs_is_drawn_and_read_as_one() {
    let d = tmp("manchester");
    let probe = |extra: &[&str]| {
        bin()
            .args(["tune", "probe", "--amplitude", "0.5"])
            .args(extra)
            .output()
            .expect("run")
    };
    let o = probe(&[
        "--steps",
        "300",
        "--hold",
        "10",
        "--draw-seed",
        "3",
        "--coding",
        "manchester",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Manchester-coded PRBS drawn at random (seed 3")
            && text.contains("then its opposite for 10")
            && text.contains("--prbs-hold 10 --prbs-coding manchester --prbs-steps 300"),
        "{text}"
    );
    // The snippet is the coded schedule: every coin's second 10 steps are
    // its first 10's opposite.
    let mut alpha = Vec::new();
    for (n, a) in tune::drawn_probe_schedule(300, 0.5, 0.0, 10, 3, Coding::Manchester) {
        alpha.extend(std::iter::repeat_n(a, n));
    }
    assert_eq!(alpha.len(), 300);
    assert!((0..300).step_by(20).all(|t| alpha[t] == -alpha[t + 10]));
    let first = format!("probe = [[10, {}], [", tune::fmt_gain(alpha[0]));
    assert!(text.contains(&first), "{text}");
    // Without --draw-seed, or too few coins (6 steps × 2 per coin ×
    // 5 coins < 6 blocks), or an unknown coding: exit 2 before anything.
    for (extra, says) in [
        (&["--coding", "manchester"][..], "--draw-seed"),
        (
            &[
                "--steps",
                "60",
                "--hold",
                "6",
                "--draw-seed",
                "1",
                "--coding",
                "manchester",
            ][..],
            "blocks",
        ),
        (
            &["--draw-seed", "1", "--coding", "gray"][..],
            "nrz or manchester",
        ),
    ] {
        let o = probe(extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{extra:?}: {}", stderr(&o));
    }
    // Read with its own design: the interval covers the plant's g.
    let mut h = vec![1.0];
    for t in 0..299 {
        h.push(h[t] - 0.002 - 0.01 * alpha[t] + wiggle(t, 1e-4));
    }
    let log = write(&d, "probe.csv", &csv("step,entropy,alpha", &h, &alpha));
    let read = |extra: &[&str]| {
        bin()
            .args([
                "tune", "identify", "--target", "0.9", "--delay", "0", "--log",
            ])
            .arg(&log)
            .args(["--prbs-hold", "10", "--prbs-coding", "manchester"])
            .args(extra)
            .output()
            .expect("run")
    };
    let o = read(&["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = stdout_json(&o);
    let (lo, hi) = g_ci(&v["estimate"]);
    assert!(lo < 0.01 && 0.01 < hi && hi - lo < 2e-3, "[{lo}, {hi}]");
    // Both outputs say which design the re-draws came from.
    assert_eq!(
        v["prbs_design"]["coding"], "manchester",
        "{}",
        v["prbs_design"]
    );
    assert_eq!(v["prbs_design"]["min_hold"], 10, "{}", v["prbs_design"]);
    let o = read(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("re-draws of the PRBS, hold 10, manchester"),
        "{text}"
    );
}

#[test]
fn a_drawn_prbs_is_read_with_a_randomization_interval() {
    let d = tmp("drawn");
    // The probe command draws the schedule and says how to read it.
    let o = bin()
        .args([
            "tune",
            "probe",
            "--steps",
            "300",
            "--amplitude",
            "0.5",
            "--hold",
            "10",
            "--draw-seed",
            "3",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("drawn at random (seed 3)") && text.contains("--prbs-hold 10"),
        "{text}"
    );
    // The same schedule drives a plant: b = −0.002, g = 0.01, d = 0.
    let mut alpha = Vec::new();
    for (n, a) in tune::drawn_probe_schedule(300, 0.5, 0.0, 10, 3, Coding::Nrz) {
        alpha.extend(std::iter::repeat_n(a, n));
    }
    let mut h = vec![1.0];
    for t in 0..299 {
        h.push(h[t] - 0.002 - 0.01 * alpha[t] + wiggle(t, 1e-4));
    }
    let log = write(&d, "probe.csv", &csv("step,entropy,alpha", &h, &alpha));
    // `tune identify --target 0.9 --log LOG` with `args`, and with a fixed
    // delay 0 before them.
    let raw = |args: &[&str]| {
        bin()
            .args(["tune", "identify", "--target", "0.9", "--log"])
            .arg(&log)
            .args(args)
            .output()
            .expect("run")
    };
    let identify = |extra: &[&str]| raw(&[&["--delay", "0"][..], extra].concat());
    let o = identify(&["--prbs-hold", "10", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = stdout_json(&o);
    let est = &v["estimate"];
    assert_eq!(est["design"]["unpaired_randomized"]["draws"], 999, "{est}");
    assert!(v["interval_caveat"].is_null(), "{}", v["interval_caveat"]);
    let (lo, hi) = g_ci(est);
    assert!(lo < 0.01 && 0.01 < hi && hi - lo < 2e-3, "[{lo}, {hi}]");
    // The same log twice: the same interval (the re-draws' seed is fixed).
    let again: serde_json::Value =
        serde_json::from_slice(&identify(&["--prbs-hold", "10", "--json"]).stdout).unwrap();
    assert_eq!(again["estimate"], *est);
    // A hold the schedule contradicts, or a twin beside it, is bad input.
    let o = identify(&["--prbs-hold", "7"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a multiple of min_hold 7"),
        "{}",
        stderr(&o)
    );
    let log_path = log.to_str().expect("utf-8 path");
    let o = raw(&["--prbs-hold", "10", "--twin", log_path]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--twin"), "{}", stderr(&o));
    // A lag decay outside [0, 1), or beside --twin, is bad input; a valid
    // one reads the log with either unpaired design.
    for (extra, says) in [
        (
            &["--prbs-hold", "10", "--lag-decay", "1.5"][..],
            "--lag-decay",
        ),
        (&["--lag-decay", "0.5", "--twin", log_path], "--twin"),
    ] {
        let o = identify(extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{extra:?}: {}", stderr(&o));
    }
    // This NRZ log is not a Manchester draw (somewhere a coin's second
    // half repeats its first): refused, naming the rule.
    let o = identify(&["--prbs-hold", "10", "--prbs-coding", "manchester"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("Manchester-coded"), "{}", stderr(&o));
    // A selected delay is refused: it would depend on the schedule.
    let o = raw(&["--prbs-hold", "10"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("fixed --delay"), "{}", stderr(&o));
    let o = identify(&["--prbs-hold", "10", "--lag-decay", "0.5", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = identify(&["--lag-decay", "0.5", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = stdout_json(&o);
    assert_eq!(v["estimate"]["design"], "unpaired", "{}", v["estimate"]);
    // a constant α is no design, lag or not (the lag would make a ramp)
    let flat = write(
        &d,
        "flat.csv",
        &csv("step,entropy,alpha", &h, &vec![0.5; h.len()]),
    );
    let o = bin()
        .args(["tune", "identify", "--target", "0.9", "--delay", "0"])
        .args(["--lag-decay", "0.9", "--log"])
        .arg(&flat)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // --draw-seed and --pilot exclude each other.
    let o = bin()
        .args(["tune", "probe", "--draw-seed", "1", "--pilot", "x.csv"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--draw-seed"), "{}", stderr(&o));
}

/// `scenarios/tune-twins.toml` as its header says a user runs it: the
/// probe and plain arms of 4 seeds, then `tune identify --twin` pools them
/// (the seeds' own spread, no caveat) and one seed alone carries the
/// caveat with a far wider interval.
#[test]
fn the_twins_scenario_pools_four_seeds_into_one_calibrated_fit() {
    let d = tmp("tune-twins");
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tune-twins.toml");
    let o = bin()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(d.join("run"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let identify = |extra: &[&str]| -> serde_json::Value {
        let o = bin()
            .args([
                "tune",
                "identify",
                "--delay",
                "0",
                "--target",
                "1",
                "--alpha-max",
                "inf",
            ])
            .arg("--log")
            .arg(d.join("run/probe/metrics.jsonl"))
            .arg("--twin")
            .arg(d.join("run/grpo/metrics.jsonl"))
            .args(extra)
            .arg("--json")
            .output()
            .expect("identify");
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
        serde_json::from_slice(&o.stdout).expect("json")
    };
    let pooled = identify(&[]);
    let est = &pooled["estimate"];
    assert_eq!(est["design"]["paired"]["seeds"], 4, "{est}");
    assert_eq!(est["variance"], "seed_slopes", "{est}");
    assert!(pooled["interval_caveat"].is_null());
    let one = identify(&["--seed", "0"]);
    assert_eq!(one["estimate"]["variance"], "increments");
    assert!(one["interval_caveat"]
        .as_str()
        .is_some_and(|c| c.contains("fewer than 4 seeds")));
    // the one seed's interval is far wider (25 times on this log)
    let det = |v: &serde_json::Value| v["estimate"]["g_detectable"].as_f64().expect("det");
    assert!(
        det(&one) > 5.0 * det(&pooled),
        "{} vs {}",
        det(&one),
        det(&pooled)
    );
}
