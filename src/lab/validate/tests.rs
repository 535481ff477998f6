//! The smoke preset end to end, preset parsing and refusals, and the arms'
//! configurations.

use super::arms::{arm_config, arms};
use super::model::ValidateOptions;
use super::preset::{Preset, PresetFile, VALIDATE_KEYS};
use super::run::{run_dir, validate};
use crate::lab::map::model::ArmKind;
use entropic_proofs::ident_power::VarianceSource;
use entropic_sim::control::Method;

/// A scratch folder, deleted (with its temporary parent) when dropped.
fn tmp(name: &str) -> entropic_sim::scratch::Scratch {
    entropic_sim::scratch::Scratch::new(name)
}

/// Smoke preset in a temp dir: the prediction and the design written, every
/// arm's seeds run for the preset's steps, the report with every arm and
/// the scorecard; a second call resumes (nothing re-run, the prediction
/// kept) and writes the same report.
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
    assert!(out.join("base/task.json").exists());
    let pred = std::fs::read_to_string(out.join("prediction.json")).unwrap();
    assert!(pred.contains("map_sha256") && pred.contains("\"diagnosis\""));
    assert!(out.join("design.json").exists());
    let n = o.design.twin_seeds;
    assert!((1..=pf.validate.twin_seeds).contains(&n));
    for arm in arms(n) {
        for s in 0..arm.spec.seeds as u64 {
            let m = std::fs::read_to_string(run_dir(&out, &arm.spec.name, s).join("metrics.jsonl"))
                .unwrap();
            assert_eq!(m.lines().count(), steps, "arm {} seed {s}", arm.spec.name);
        }
        let a = &o.cell.arms[&arm.spec.name];
        assert_eq!(a.seeds, arm.spec.seeds);
        assert_eq!(
            a.outcome.is_some(),
            matches!(arm.spec.kind, ArmKind::Pi(..)),
            "{}",
            arm.spec.name
        );
    }
    // H0 is the mean of the seeds' states before training, all positive
    let h0 = o.cell.h0.unwrap();
    assert!(o.cell.h_init.iter().all(|&h| h > 0.0));
    assert!((h0 - o.cell.h_init.iter().sum::<f64>() / o.cell.h_init.len() as f64).abs() < 1e-12);
    let md = std::fs::read_to_string(&o.report).unwrap();
    for arm in arms(n) {
        assert!(
            md.contains(&format!("| {} ", arm.spec.name)),
            "{}",
            arm.spec.name
        );
    }
    assert!(md.contains("## Scorecard") && md.contains("g/|b|"));
    for f in ["entropy", "alpha", "reward", "val_pass"] {
        assert!(
            rep.join(format!("llm-validation-smoke-{f}.svg")).exists(),
            "{f}"
        );
    }
    assert!(rep.join("llm-validation.json").exists());
    // resume: every arm complete, the prediction kept, the same report
    let o2 = validate(&opts).unwrap();
    assert_eq!(std::fs::read_to_string(&o2.report).unwrap(), md);
    assert_eq!(
        std::fs::read_to_string(out.join("prediction.json")).unwrap(),
        pred
    );
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

/// Every preset parses; its validation grid divides the steps.
#[test]
fn presets_parse() {
    for p in [Preset::Smoke, Preset::Cpu, Preset::Gpu] {
        let pf = PresetFile::parse(p.name(), p.text()).unwrap();
        assert!(pf.validate.off_minibatches >= 2);
        let g = &pf.grpo.grpo;
        assert_eq!(g.steps % g.val_every, 0, "{}", p.name());
    }
}

/// The cpu preset's base is scenarios/llm-base.toml's, table for table, so
/// a checkpoint pretrained from that file is the base the preset means.
#[test]
fn cpu_preset_base_is_llm_base() {
    let pf = PresetFile::parse("cpu", Preset::Cpu.text()).unwrap();
    let text = include_str!("../../../scenarios/llm-base.toml");
    let base: entropic_llm::pretrain::LlmScenario = toml::from_str(text).unwrap();
    assert_eq!(
        serde_json::to_value(&pf.scenario).unwrap(),
        serde_json::to_value(&base).unwrap()
    );
}

/// Out-of-range keys and a missing [validate] are input errors naming the key.
#[test]
fn bad_preset_refused() {
    for (from, to, key) in [
        ("twin_seeds = 2", "twin_seeds = 0", "twin_seeds"),
        (
            "off_minibatches = 2",
            "off_minibatches = 1",
            "off_minibatches",
        ),
        ("val_every = 1", "val_every = 3", "val_every"),
        (
            "method = \"entropic\"",
            "method = \"none\"",
            "control.method",
        ),
    ] {
        let text = Preset::Smoke.text().replace(from, to);
        assert_ne!(text, Preset::Smoke.text(), "{from}");
        let e = PresetFile::parse("x.toml", &text).unwrap_err();
        assert!(
            crate::error::exit_code(&e) == 2 && e.to_string().contains(key),
            "{e}"
        );
    }
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

/// The twins differ from `grpo` only in the controller (the probe method,
/// the constant α, no clip); PI arms carry the map's gains and targets;
/// off-policy arms differ from on-policy ones only in minibatches.
#[test]
fn arm_configs() {
    let pf = PresetFile::parse("smoke", Preset::Smoke.text()).unwrap();
    let v = &pf.validate;
    let all = arms(3);
    let get = |name: &str| all.iter().find(|a| a.spec.name == name).unwrap();
    let h0 = 0.2;
    let plain = arm_config(&pf.grpo, v, get("grpo"), h0, 2).unwrap();
    let up = arm_config(&pf.grpo, v, get("alpha+1"), h0, 2).unwrap();
    assert_eq!(plain.grpo, up.grpo);
    assert_eq!(plain.grpo.seed, 2);
    assert_eq!(plain.control.method, Method::None);
    assert_eq!(up.control.method, Method::Probe);
    assert_eq!(up.control.probe, vec![(1, 1.0)]);
    assert!(up.control.alpha_max.is_infinite());
    let off = arm_config(&pf.grpo, v, get("pi-scaled@paper-off"), h0, 0).unwrap();
    let on = arm_config(&pf.grpo, v, get("pi-scaled@paper"), h0, 0).unwrap();
    assert_eq!(on.control, off.control);
    assert_eq!((on.control.kp, on.control.ki), (10.0, 0.1));
    assert!((on.control.target - h0 * 0.10 / 0.12).abs() < 1e-12);
    assert_eq!(
        (on.grpo.minibatches, off.grpo.minibatches),
        (1, v.off_minibatches)
    );
    let mut o = off.grpo.clone();
    o.minibatches = 1;
    assert_eq!(o, on.grpo);
    let sf = arm_config(&pf.grpo, v, get("pi-scalefree@paper"), h0, 0).unwrap();
    assert!(sf.control.scale_free);
    assert_eq!(all.iter().filter(|a| a.spec.seeds == 3).count(), 3);
    assert_eq!(all.len(), 11);
}

/// The power line reads an interval by its realized detectable gain: an
/// interval above 0 is authority, one below 0 is not, one containing 0 is
/// "no authority" only with a detectable g below |b| and a design not
/// labelled undetermined; a plan far below the realized detectable gain
/// gets the list of what the plan leaves out.
#[test]
fn power_check_reads_intervals_by_realized_power() {
    use super::design::Design;
    use super::report::power_check;
    use crate::lab::map::model::GainJson;
    let design = Design {
        twin_seeds: 1,
        twin_seeds_max: 3,
        sigma_m: 0.006,
        drift_pilot: -1e-4,
        rows: 13,
        every: 10,
        planned_se: 2e-5,
        planned_detectable: 6e-5,
        power_multiplier: super::design::POWER_Z,
        label: "sized".into(),
    };
    let g = |v: f64, lo: f64, hi: f64, det: f64| GainJson {
        g: Some(v),
        g_ci: [Some(lo), Some(hi)],
        g_detectable: Some(det),
        df: None,
        variance: None,
        error: None,
    };
    let s = power_check(&design, &g(2e-3, 5e-4, 3.5e-3, 2e-3), Some(-1e-4));
    assert!(
        s.contains("authority is measured") && s.contains("what it leaves out"),
        "{s}"
    );
    let s = power_check(&design, &g(1e-5, -4e-5, 6e-5, 7e-5), Some(-1e-4));
    assert!(
        s.contains("no authority at this design's power") && !s.contains("what it leaves out"),
        "{s}"
    );
    let s = power_check(&design, &g(1e-5, -1e-3, 1e-3, 1.5e-3), Some(-1e-4));
    assert!(s.contains("not measured"), "{s}");
    // a wrong-sign interval is never authority
    let s = power_check(&design, &g(-2e-3, -3.5e-3, -5e-4, 2e-3), Some(-1e-4));
    assert!(
        s.contains("against the law's sign") && !s.contains("authority is measured"),
        "{s}"
    );
    // an undetermined design never reads a 0-containing interval as "no authority"
    let und = Design {
        label: "undetermined".into(),
        ..design.clone()
    };
    let s = power_check(&und, &g(1e-5, -4e-5, 6e-5, 7e-5), Some(-1e-4));
    assert!(
        s.contains("not measured") && !s.contains("no authority"),
        "{s}"
    );
    // with three seeds the line splits the excess into the t quantiles'
    // share (ν = 2: (4.303 + 1.061) / 2.802 = 1.91) and the rest
    let three = Design {
        twin_seeds: 3,
        ..design.clone()
    };
    let s = power_check(&three, &g(2e-3, 5e-4, 3.5e-3, 2e-3), Some(-1e-4));
    assert!(
        s.contains("2 degree(s) of freedom") && s.contains("1.91×") && s.contains("17.4×"),
        "{s}"
    );
    // a GainJson that carries its degrees of freedom is read by them (a
    // fit from four seeds: ν = 3, (3.182 + 0.978) / 2.802 = 1.485)
    let four = Design {
        twin_seeds: 4,
        ..design.clone()
    };
    let with_df = GainJson {
        df: Some(3.0),
        variance: Some(VarianceSource::SeedSlopes),
        ..g(2e-3, 5e-4, 3.5e-3, 2e-3)
    };
    let s = power_check(&four, &with_df, Some(-1e-4));
    assert!(
        s.contains("4 seeds' own slopes with 3 degree(s) of freedom")
            && s.contains("1.49×")
            && s.contains("22.4×"),
        "{s}"
    );
    // a fit whose variance fell back to the increments (many degrees of
    // freedom) is named as such, and its quantiles, below the plan's t
    // ones, are not called the seeds' (t(25) sum 2.916 over 5.364: 0.544)
    let fallback = GainJson {
        df: Some(25.0),
        variance: Some(VarianceSource::Increments),
        ..g(2e-3, 5e-4, 3.5e-3, 2e-3)
    };
    let planned_t3 = Design {
        power_multiplier: super::design::multiplier(3, 13),
        ..three.clone()
    };
    let s = power_check(&planned_t3, &fallback, Some(-1e-4));
    assert!(
        s.contains("`increments` variance, not the seeds' slopes")
            && s.contains("25 degree(s)")
            && s.contains("0.544×")
            && !s.contains("own slopes"),
        "{s}"
    );
    // a design that planned with the fit's own quantiles: no t share, the
    // whole excess is the seeds' spread (33.3×)
    let planned_t = Design {
        power_multiplier: super::design::multiplier(3, 13),
        ..three.clone()
    };
    let s = power_check(&planned_t, &g(2e-3, 5e-4, 3.5e-3, 2e-3), Some(-1e-4));
    assert!(
        s.contains("took the pooled interval's own quantiles") && s.contains("The rest, 33.3×"),
        "{s}"
    );
    // the figures are in the line: 2e-3 / 6e-5 = 33.3× the plan, 20× |b|
    let s = power_check(&design, &g(2e-3, 5e-4, 3.5e-3, 2e-3), Some(-1e-4));
    assert!(s.contains("33.3×") && s.contains("20.0×"), "{s}");
    let none = GainJson {
        g: None,
        g_ci: [None, None],
        g_detectable: None,
        df: None,
        variance: None,
        error: Some("x".into()),
    };
    assert!(power_check(&design, &none, Some(-1e-4)).contains("not assessed"));
}
