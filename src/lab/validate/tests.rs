//! The smoke preset end to end, preset parsing and refusals (moved from the
//! LLM crate's tests with the module).

use super::arms::arm_config;
use super::model::ValidateOptions;
use super::preset::{Preset, PresetFile, ARMS, VALIDATE_KEYS};
use super::run::validate;
use super::scoring::arm_delay;
use entropic_sim::control::Measure;

/// A scratch folder, deleted (with its temporary parent) when dropped.
fn tmp(name: &str) -> entropic_sim::scratch::Scratch {
    entropic_sim::scratch::Scratch::new(name)
}

/// Smoke preset in a temp dir: every arm folder, the probe, the report with
/// both sides' figures; a second call resumes (nothing re-run) and writes
/// the same table.
#[test]
fn smoke_end_to_end() {
    let out = tmp("runs");
    let rep = tmp("report");
    let opts = ValidateOptions {
        preset: Preset::Smoke,
        model: None,
        out: out.to_path_buf(),
        report: rep.to_path_buf(),
        quiet: true,
    };
    let o = validate(&opts).unwrap();
    let pf = PresetFile::parse("smoke", Preset::Smoke.text()).unwrap();
    let steps = pf.grpo.grpo.steps;
    let probe_steps: usize = pf.validate.probe.iter().map(|p| p.0).sum();
    assert!(out.join("base/task.json").exists());
    assert!(out.join("initial_entropy.json").exists());
    for arm in ARMS {
        let m = std::fs::read_to_string(out.join(arm).join("metrics.jsonl")).unwrap();
        assert_eq!(m.lines().count(), steps, "arm {arm}");
    }
    let m = std::fs::read_to_string(out.join("probe/metrics.jsonl")).unwrap();
    assert_eq!(m.lines().count(), probe_steps);
    // target = fraction · H0 on both sides
    assert!((o.llm.target - 0.5 * o.llm.initial_entropy).abs() < 1e-12);
    assert!((o.toy.target - 0.5 * o.toy.initial_entropy).abs() < 1e-12);
    assert_eq!(o.toy.arms.len(), ARMS.len());
    assert_eq!(o.toy.probe.len(), pf.validate.toy_steps);
    let md = std::fs::read_to_string(&o.report).unwrap();
    assert!(md.contains("toy vs LLM"));
    for side in ["toy", "LLM"] {
        for arm in ARMS {
            let line = md
                .lines()
                .find(|l| l.starts_with(&format!("| {side}")) && l.contains(&format!(" {arm} ")))
                .unwrap_or_else(|| panic!("no row {side} {arm}"));
            // the H initial cell is a number on both sides
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            assert!(cells[3].parse::<f64>().is_ok(), "{line}");
        }
    }
    // the toy probe (60 steps) is long enough to identify a plant
    let toy_plant = md
        .lines()
        .find(|l| l.starts_with("| toy") && l.contains('['))
        .unwrap();
    assert!(!toy_plant.contains("not identified"), "{toy_plant}");
    for f in ["entropy", "alpha", "hp_frac", "reward", "val_pass"] {
        assert!(
            rep.join(format!("llm-validation-smoke-{f}.svg")).exists(),
            "{f}"
        );
    }
    // resume: the same call finds every arm complete and writes the same report
    let o2 = validate(&opts).unwrap();
    assert_eq!(std::fs::read_to_string(&o2.report).unwrap(), md);
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&rep);
}

/// `VALIDATE_KEYS` names exactly the keys of `[validate]`.
#[test]
fn validate_keys_are_the_structs() {
    let pf = PresetFile::parse("smoke", Preset::Smoke.text()).unwrap();
    let v = toml::Value::try_from(&pf.validate).unwrap();
    let mut have: Vec<&str> = v.as_table().unwrap().keys().map(String::as_str).collect();
    let mut doc: Vec<&str> = VALIDATE_KEYS.iter().map(|k| k.0).collect();
    have.sort_unstable();
    doc.sort_unstable();
    assert_eq!(have, doc);
}

/// Every preset parses; off-policy lag ≥ 2; the fraction is in (0, 1).
#[test]
fn presets_parse() {
    for p in [Preset::Smoke, Preset::Cpu, Preset::Gpu] {
        let pf = PresetFile::parse(p.name(), p.text()).unwrap();
        assert!(pf.validate.off_lag >= 2);
        assert!(pf.validate.target_fraction > 0.0 && pf.validate.target_fraction < 1.0);
    }
}

/// A fraction outside (0, 1) and a missing [validate] are input errors.
#[test]
fn bad_preset_refused() {
    let text = Preset::Smoke
        .text()
        .replace("target_fraction = 0.5", "target_fraction = 1.5");
    let e = PresetFile::parse("x.toml", &text).unwrap_err();
    assert!(
        crate::error::exit_code(&e) == 2 && e.to_string().contains("target_fraction"),
        "{e}"
    );
    let text = Preset::Smoke.text().replace("[validate]", "[other]");
    assert!(PresetFile::parse("x.toml", &text).is_err());
}

/// The gpu preset names cuda: a CPU-only build refuses it clearly, before
/// any work.
#[cfg(not(feature = "cuda"))]
#[test]
fn gpu_refused_without_cuda() {
    let out = tmp("gpu");
    let e = validate(&ValidateOptions {
        preset: Preset::Gpu,
        model: None,
        out: out.to_path_buf(),
        report: out.join("rep"),
        quiet: true,
    })
    .unwrap_err();
    assert!(
        crate::error::exit_code(&e) == 2 && e.to_string().contains("cuda"),
        "{e}"
    );
    assert!(!out.exists());
}

/// The predicted settling of an arm uses delay 0 when its controller
/// measures the current policy (even at `lag = off_lag`), `off_lag` for an
/// off-policy arm measuring the rollout batch (docs/mathematics.md §7).
#[test]
fn prediction_delay_follows_the_measurement_mode() {
    let pf = PresetFile::parse("smoke", Preset::Smoke.text()).unwrap();
    let v = &pf.validate;
    for (measure, off) in [(Measure::Current, 0), (Measure::Rollout, v.off_lag)] {
        let mut base = pf.grpo.clone();
        base.control.measure = measure;
        for arm in ["p-on", "pi-on", "p-off", "pi-off"] {
            let c = arm_config(&base, v, arm, 0.1).unwrap();
            let want = if arm.ends_with("-off") { off } else { 0 };
            assert_eq!(arm_delay(&c), want, "{arm} measure {measure:?}");
        }
    }
}
