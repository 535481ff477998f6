//! What `tune` prints: the recommendation as a scenario snippet and verl
//! overrides, and the PRBS probe (docs/mathematics.md §7).

use crate::linear::IntegralForm;
use crate::tune::design::Recommendation;

/// The authors' verl override keys, as their recipe names them
/// (yk7333/EntroPIC `config/entropic.yaml` and `run_entropic.sh`, commit
/// 2470730c): `actor_rollout_ref.actor.{target_entropy, entropy_control_p,
/// entropy_control_i}`; their controller is the `before` form of docs/mathematics.md §3.
pub const VERL_KEYS: [&str; 3] = [
    "actor_rollout_ref.actor.target_entropy",
    "actor_rollout_ref.actor.entropy_control_p",
    "actor_rollout_ref.actor.entropy_control_i",
];

/// The recommendation as a scenario snippet of ours (`[control]` keys),
/// carrying every key the prediction assumed that [`Recommendation`] knows:
/// target, gains, integral form, the α clip, and `anti_windup = false`
/// (the linear prediction has no anti-windup). The plant-side keys (scope,
/// weighting, threshold, τ, measure) are those of the probe the plant was
/// identified on, which a log does not record: this snippet says so in a
/// comment; [`scenario_snippet_with`] writes them when the probe's
/// `[control]` is known.
pub fn scenario_snippet(r: &Recommendation) -> String {
    format!(
        "{}# scope, weighting, threshold, tau and measure: set them as in the probe run the \
         plant was identified on (the prediction holds for those)\n",
        snippet_core(r)
    )
}

/// [`scenario_snippet`] with the plant-side keys copied from the probe's
/// `[control]` (`scope`, `weighting`, `threshold`, `tau`, `measure`): the
/// identified `b`, `g` and `d` hold for those settings only, so a snippet
/// without them may run a different plant (issue 12, item 8: the pasted
/// snippet without `scope`/`alpha_max` never settled where the complete
/// one settled at step 6).
pub fn scenario_snippet_with(
    r: &Recommendation,
    probe: &entropic_sim::control::ControlConfig,
) -> String {
    let name = |v: serde_json::Result<serde_json::Value>| match v {
        Ok(serde_json::Value::String(s)) => format!("\"{s}\""),
        Ok(other) => other.to_string(),
        Err(e) => format!("\"{e}\""),
    };
    format!(
        "{}scope = {}\nweighting = {}\nthreshold = {}\ntau = {}\nmeasure = {}\n",
        snippet_core(r),
        name(serde_json::to_value(probe.scope)),
        name(serde_json::to_value(probe.weighting)),
        name(serde_json::to_value(probe.threshold)),
        toml_f64(probe.tau),
        name(serde_json::to_value(probe.measure)),
    )
}

/// A float as TOML reads it (`inf`, `-inf`, `nan`, or Rust's shortest
/// round-trip form with a decimal point).
fn toml_f64(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

fn snippet_core(r: &Recommendation) -> String {
    let form = match r.form {
        IntegralForm::Before => "before",
        IntegralForm::After => "after",
    };
    format!(
        "[control]\nmethod = \"entropic\"\ntarget = {}\nkp = {}\nki = {}\nintegral_form = \"{form}\"\nalpha_max = {}\nanti_windup = false\n",
        r.target,
        fmt_gain(r.kp),
        fmt_gain(r.ki),
        toml_f64(r.alpha_max)
    )
}

/// The recommendation as verl command-line overrides ([`VERL_KEYS`]).
pub fn verl_overrides(r: &Recommendation) -> String {
    format!(
        "{}={} {}={} {}={}",
        VERL_KEYS[0],
        r.target,
        VERL_KEYS[1],
        fmt_gain(r.kp),
        VERL_KEYS[2],
        fmt_gain(r.ki)
    )
}

/// A gain rounded to 4 significant digits (more is noise given the
/// interval on `g`), printed so TOML and Hydra read it back.
pub fn fmt_gain(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x:?}");
    }
    let mag = x.abs().log10().floor() as i32;
    let dec = (3 - mag).max(0) as usize;
    let s = format!("{x:.dec$}");
    if !s.contains('.') {
        return format!("{s}.0");
    }
    let t = s.trim_end_matches('0');
    if t.ends_with('.') {
        format!("{t}0")
    } else {
        t.to_string()
    }
}

/// A probe schedule (docs/mathematics.md §7) as `[steps, alpha]` pairs: a pseudo-random
/// binary sequence (7-bit maximal-length LFSR, taps x⁷+x⁶+1, seed 1) between
/// `center − amplitude` and `center + amplitude`, each bit held `hold`
/// steps, runs of equal bits merged, cut or extended to `steps` in total.
///
/// Why a PRBS rather than a staircase: its level changes come at irregular
/// intervals (1 to 7 bits), so `α_{t−d}` for different `d` are nearly
/// uncorrelated and the delay is told apart; it spends equal time at both
/// levels, so with `center` near the α that holds entropy the run stays
/// near its operating point; and it is deterministic. `hold` defaults (in
/// the CLI) to `MAX_DELAY + 2`, so every level outlasts the longest delay
/// considered.
pub fn probe_schedule(steps: usize, amplitude: f64, center: f64, hold: usize) -> Vec<(usize, f64)> {
    let hold = hold.max(1);
    let mut lfsr: u8 = 1;
    let mut out: Vec<(usize, f64)> = Vec::new();
    let mut total = 0;
    while total < steps {
        let bit = lfsr & 1;
        let fb = ((lfsr >> 6) ^ (lfsr >> 5)) & 1;
        lfsr = ((lfsr << 1) | fb) & 0x7f;
        let a = if bit == 1 {
            center + amplitude
        } else {
            center - amplitude
        };
        let n = hold.min(steps - total);
        total += n;
        push_run(&mut out, n, a);
    }
    out
}

/// Appends `n` steps of `a` to `(steps, α)` runs, merging with the last
/// run when its level is the same.
fn push_run(out: &mut Vec<(usize, f64)>, n: usize, a: f64) {
    match out.last_mut() {
        Some(last) if last.1 == a => last.0 += n,
        _ => out.push((n, a)),
    }
}

/// A PRBS of `steps` values between `center ± amplitude` drawn at random
/// ([`crate::ident_power::prbs`]: a fair coin per `hold`, from `seed`,
/// drawn again while it never switches, as
/// [`crate::ident_power::randomized::PrbsDraw::draw`] does; Manchester-coded
/// by `coding`, [`crate::ident_power::prbs_manchester`]), as `(steps, α)`
/// runs: the randomized design whose log `tune identify --prbs-hold` reads
/// with a randomization interval.
pub fn drawn_probe_schedule(
    steps: usize,
    amplitude: f64,
    center: f64,
    hold: usize,
    seed: u64,
    coding: crate::ident_power::Coding,
) -> Vec<(usize, f64)> {
    let draw =
        crate::ident_power::randomized::PrbsDraw::from_step_0(center, amplitude, hold.max(1))
            .coded(coding);
    let mut out: Vec<(usize, f64)> = Vec::new();
    for a in draw.draw(&[], steps, seed) {
        push_run(&mut out, 1, a);
    }
    out
}

/// The probe as a scenario snippet that `entropic run` accepts appended to
/// a scenario without its own `[control]` table.
pub fn probe_snippet(schedule: &[(usize, f64)], target: Option<f64>) -> String {
    let pairs = schedule
        .iter()
        .map(|(n, a)| format!("[{n}, {}]", fmt_gain(*a)))
        .collect::<Vec<_>>()
        .join(", ");
    let t = target.map_or(String::new(), |t| format!("target = {t}\n"));
    format!("[control]\nmethod = \"probe\"\n{t}alpha_max = inf\nprobe = [{pairs}]\n")
}
