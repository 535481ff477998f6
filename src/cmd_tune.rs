//! `entropic tune`: identify the plant from a log and recommend gains
//! (`--log`), print a probe schedule (`--probe`), or regenerate the toy
//! validation `reports/tune.md` (`--validate`). The work is in
//! `entropic_proofs::tune`; this file reads files, prints and plots.

use crate::InputError;
use anyhow::Context;
use entropic_proofs::linear::{simulate, IntegralForm, LoopParams};
use entropic_proofs::tune::{self, Columns, DesignSpec, Identified, Recommendation, Series};
use entropic_sim::metrics::Record;
use entropic_sim::report::{line_plot_svg, ArmSeries};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `entropic tune`.
#[derive(clap::Args, Debug)]
pub struct TuneArgs {
    /// Log to read: our metrics.jsonl, or a CSV with a header row (e.g. a W&B export).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Column names, e.g. `entropy=actor/entropy,alpha=actor/control_alpha,step=_step`.
    #[arg(long)]
    pub columns: Option<String>,
    /// Arm to read from a metrics.jsonl holding several.
    #[arg(long)]
    pub arm: Option<String>,
    /// Seed to read from a metrics.jsonl holding several.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Target entropy (nats); default: the log's `target` field.
    #[arg(long)]
    pub target: Option<f64>,
    /// Delay d: `auto` (model selection over 0..8) or a number.
    #[arg(long, default_value = "auto")]
    pub delay: String,
    /// Wanted settling step (DESIGN.md's band max(0.05, 0.1·H_tar)).
    #[arg(long, default_value_t = 50)]
    pub settle: usize,
    /// Settling band (nats); default DESIGN.md's max(0.05, 0.1·target). Its
    /// 0.05 floor is wider than a small LLM's whole token-mean entropy:
    /// pass e.g. 0.1 × target there.
    #[arg(long)]
    pub band: Option<f64>,
    /// α clip of the controller that will run (the authors' is 1; `inf` for none).
    #[arg(long, default_value_t = 1.0)]
    pub alpha_max: f64,
    /// Largest overshoot (fraction of the initial error) accepted at any corner.
    #[arg(long, default_value_t = 0.1)]
    pub max_overshoot: f64,
    /// Write an SVG of the fitted model over the log.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print a probe controller (PRBS schedule) as a scenario snippet.
    #[arg(long)]
    pub probe: bool,
    /// Probe length in controller steps.
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// Probe step size: α moves between center − A and center + A.
    #[arg(long, default_value_t = 0.5)]
    pub amplitude: f64,
    /// Probe centre (best: the α that roughly holds entropy; 0 if unknown).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub center: f64,
    /// Steps each PRBS bit is held (default MAX_DELAY + 2 = 10).
    #[arg(long, default_value_t = tune::MAX_DELAY + 2)]
    pub hold: usize,
    /// Regenerate the toy validation (reports/tune.md and reports/tune/*.svg).
    #[arg(long)]
    pub validate: bool,
    /// With --validate: also the LLM half, from this finished
    /// `entropic llm validate --preset cpu` folder (its probe arm identifies
    /// the plant; the recommended gains run into DIR/tuned/).
    #[arg(long)]
    pub llm: Option<PathBuf>,
    /// Output folder of --validate.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

fn input(e: impl std::fmt::Display) -> anyhow::Error {
    InputError(format!("tune: {e}")).into()
}

/// Entry point of `entropic tune`.
pub fn run(a: TuneArgs) -> anyhow::Result<ExitCode> {
    if a.probe {
        crate::validate::tune_hold(a.hold)?;
        return probe(&a);
    }
    if a.validate {
        return validate::run(&a);
    }
    crate::validate::tune_design(a.target, a.settle, a.max_overshoot)?;
    let path = a
        .log
        .as_deref()
        .ok_or_else(|| input("pass --log FILE (or --probe, or --validate)"))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| input(format!("cannot read {}: {e}", path.display())))?;
    crate::validate::tune_selectors(&text, a.arm.as_deref(), a.seed)?;
    let cols = match &a.columns {
        Some(c) => Columns::parse(c).map_err(input)?,
        None => Columns::default(),
    };
    let series = tune::parse_log(&text, &cols, a.arm.as_deref(), a.seed)
        .map_err(|e| input(format!("{}: {e}", path.display())))?;
    let delay = match a.delay.as_str() {
        "auto" => None,
        d => Some(
            d.parse::<usize>()
                .ok()
                .filter(|d| *d <= 1000)
                .ok_or_else(|| {
                    input(format!(
                        "--delay: must be auto or an integer 0..=1000 (got {d})"
                    ))
                })?,
        ),
    };
    let id =
        tune::identify(&series, delay).map_err(|e| input(format!("{}: {e}", path.display())))?;
    let target = a
        .target
        .or(series.target)
        .ok_or_else(|| input(tune::TuneError::NoTarget))?;
    let h0 = series
        .entropy
        .iter()
        .copied()
        .find(|h| h.is_finite())
        .unwrap_or(target);
    let spec = DesignSpec {
        settle: a.settle,
        target,
        e0: h0 - target,
        alpha_max: a.alpha_max,
        form: IntegralForm::Before,
        max_overshoot: a.max_overshoot,
        band: a.band,
    };
    if let Some(b) = a.band.filter(|b| !(b.is_finite() && *b > 0.0)) {
        return Err(input(format!("--band: must be finite and > 0 (got {b})")));
    }
    if a.alpha_max.is_nan() || a.alpha_max <= 0.0 {
        return Err(input(format!(
            "--alpha-max: must be > 0 or inf (got {})",
            a.alpha_max
        )));
    }
    if let Some(p) = &a.plot {
        plot_fit(p, &series, &id)?;
    }
    let rec = match tune::recommend(&id.fit, &spec) {
        Ok(r) => r,
        Err(e) => {
            // What was identified is still worth seeing: print it, then refuse.
            if a.json {
                let v = serde_json::json!({
                    "log": path.display().to_string(),
                    "rows": series.entropy.len(),
                    "nan_rows": series.nan_rows,
                    "identified": id,
                    "spec": spec,
                    "recommendation": null,
                    "refused": e.to_string(),
                });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!(
                    "{}",
                    describe_ident(&path.display().to_string(), &series, &id)
                );
            }
            return Err(input(format!("no recommendation: {e}")));
        }
    };
    if a.json {
        let v = serde_json::json!({
            "log": path.display().to_string(),
            "source": series.source,
            "columns": {"entropy": series.entropy_column, "alpha": series.alpha_column},
            "rows": series.entropy.len(),
            "nan_rows": series.nan_rows,
            "identified": id,
            "spec": spec,
            "recommendation": rec,
            "scenario_snippet": tune::scenario_snippet(&rec),
            "verl_overrides": tune::verl_overrides(&rec),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!(
            "{}",
            describe(&path.display().to_string(), &series, &id, &spec, &rec)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn probe(a: &TuneArgs) -> anyhow::Result<ExitCode> {
    if a.steps == 0 || !a.amplitude.is_finite() || a.amplitude <= 0.0 || !a.center.is_finite() {
        return Err(input(
            "--probe: --steps must be >= 1, --amplitude finite and > 0, --center finite",
        ));
    }
    let s = tune::probe_schedule(a.steps, a.amplitude, a.center, a.hold);
    println!(
        "# Probe (MATH.md §7): PRBS (7-bit LFSR) between {} and {}, each bit held {} steps, {} steps.\n\
         # A PRBS changes level at irregular intervals, so the delay is told apart, and spends\n\
         # equal time at both levels. Append to a scenario without its own [control] table;\n\
         # then `entropic tune --log runs/<stem>/<arm>/metrics.jsonl`.",
        tune::fmt_gain(a.center - a.amplitude),
        tune::fmt_gain(a.center + a.amplitude),
        a.hold.max(1),
        a.steps
    );
    print!("{}", tune::probe_snippet(&s, a.target));
    Ok(ExitCode::SUCCESS)
}

fn opt_step(s: Option<usize>) -> String {
    s.map_or("never".into(), |s| s.to_string())
}

/// The text output of `tune --log`.
pub fn describe(
    path: &str,
    s: &Series,
    id: &Identified,
    spec: &DesignSpec,
    r: &Recommendation,
) -> String {
    let mut o = describe_ident(path, s, id);
    o += &describe_rec(spec, r);
    o
}

/// The identification part of `tune --log`'s text output.
pub fn describe_ident(path: &str, s: &Series, id: &Identified) -> String {
    let f = &id.fit;
    let mut o = format!(
        "log {path} ({}): {} rows, {} with a missing or NaN value (skipped); entropy `{}`, alpha `{}`\n",
        s.source,
        s.entropy.len(),
        s.nan_rows,
        s.entropy_column,
        s.alpha_column
    );
    if !id.delay_residuals.is_empty() {
        let rs: Vec<String> = id
            .delay_residuals
            .iter()
            .map(|(d, r)| format!("d={d}: {r:.3e}"))
            .collect();
        o += &format!(
            "delay by model selection (residual RMS): {}\n",
            rs.join(", ")
        );
    }
    o += &format!(
        "identified: d = {}, b = {:.4e} [{:.4e}, {:.4e}] nats/step, g = {:.4e} [{:.4e}, {:.4e}] nats/step per unit α (95%), residual RMS {:.3e}, R² {:.4}, {} rows\n",
        f.d, f.b, f.b_ci.0, f.b_ci.1, f.g, f.g_ci.0, f.g_ci.1, f.residual_rms, f.r2, f.n
    );
    o
}

/// The recommendation part of `tune --log`'s text output.
pub fn describe_rec(spec: &DesignSpec, r: &Recommendation) -> String {
    let mut o = String::new();
    o += &format!(
        "recommendation for target {} nats, settling by step {} (band {:.3}), from e0 = {:.4}, α clip {}:\n",
        spec.target, spec.settle, r.band, spec.e0, spec.alpha_max
    );
    o += &format!(
        "  Kp = {}, Ki = {} (integral before this step's error: the authors' form){}\n",
        tune::fmt_gain(r.kp),
        tune::fmt_gain(r.ki),
        if r.met {
            ""
        } else {
            "\n  NOTE: no robust gains meet the settling time at every corner; these are the fastest found"
        }
    );
    let p = &r.nominal.prediction;
    o += &format!(
        "  predicted at (b, g): settling step {}, overshoot {:.1}%, steady-state error {:.2e} nats, spectral radius {:.4}\n",
        opt_step(p.settling_step),
        100.0 * p.overshoot,
        p.steady_state_error,
        r.nominal.spectral_radius
    );
    for c in &r.corners {
        o += &format!(
            "  corner b = {:.3e}, g = {:.3e}: settling {}, overshoot {:.1}%, radius {:.4}\n",
            c.b,
            c.g,
            opt_step(c.prediction.settling_step),
            100.0 * c.prediction.overshoot,
            c.spectral_radius
        );
    }
    o += &format!(
        "  gain margin (largest factor on both gains that stays stable): {:.3} at g, {:.3} at the interval's largest g\n",
        r.gain_margin, r.gain_margin_worst
    );
    o += &format!("\nscenario snippet:\n{}", tune::scenario_snippet(r));
    o += &format!(
        "\nverl overrides (keys of the authors' recipe, yk7333/EntroPIC config/entropic.yaml; their controller steps once per mini-batch, so the log's step must be that step):\n{}\n",
        tune::verl_overrides(r)
    );
    o
}

fn records(label: &str, steps: &[f64], ys: &[f64]) -> Vec<Record> {
    steps
        .iter()
        .zip(ys)
        .map(|(&x, &y)| Record {
            arm: label.into(),
            step: if x.is_finite() && x >= 0.0 {
                x as usize
            } else {
                0
            },
            entropy: y,
            ..Record::default()
        })
        .collect()
}

/// SVG of the logged entropy and the fitted model run open loop from `H_0`
/// on the logged α ([`tune::model_path`]).
pub fn plot_fit(path: &Path, s: &Series, id: &Identified) -> anyhow::Result<()> {
    let steps: Vec<f64> = s
        .step
        .iter()
        .enumerate()
        .map(|(i, x)| if x.is_finite() { *x } else { i as f64 })
        .collect();
    let log = vec![(0u64, records("log", &steps, &s.entropy))];
    let model = vec![(
        0u64,
        records("model", &steps, &tune::model_path(s, &id.fit)),
    )];
    let arms = [
        ArmSeries {
            label: "log".into(),
            per_seed: &log,
        },
        ArmSeries {
            label: format!("model (open loop, d = {})", id.fit.d),
            per_seed: &model,
        },
    ];
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    line_plot_svg(
        path,
        "Fitted plant over the log",
        "entropy (nats)",
        &arms,
        |r| Some(r.entropy),
        None,
    )?;
    Ok(())
}

/// The linear model's predicted entropy path `H_tar + e_t`.
pub fn predicted_path(
    r: &Recommendation,
    e0: f64,
    d: usize,
    steps: usize,
    alpha_max: f64,
) -> Vec<f64> {
    let p = LoopParams {
        gain: r.nominal.g,
        delay: d,
        kp: r.kp,
        ki: r.ki,
        drift: r.nominal.b,
        form: r.form,
    };
    simulate(&p, e0, steps, alpha_max)
        .iter()
        .map(|x| r.target + x.0)
        .collect()
}

/// `tune --validate`: identify the toy plant from a probe run, run the
/// recommended gains, compare the measured figures with the predictions,
/// and write `reports/tune.md` with its SVGs.
mod validate {
    use super::*;
    use entropic_proofs::linear::{predict, Prediction};
    use entropic_sim::figures::run_figures;
    use entropic_sim::report::{markdown_table, write_atomic};
    use entropic_sim::{runner, scenario};

    /// The probe run (identification) and the closed-loop run (validation).
    pub const PROBE: &str = "scenarios/tune-probe.toml";
    pub const CLOSED: &str = "scenarios/tune-closed.toml";

    fn run_one(rc: &entropic_sim::scenario::RunConfig, what: &str) -> anyhow::Result<Vec<Record>> {
        let r = runner::run_seed(rc, 0, &|| {});
        match r.error {
            Some(e) => Err(anyhow::anyhow!(
                "tune --validate: the {what} run failed: {e}"
            )),
            None => Ok(r.records),
        }
    }

    fn load(p: &str) -> anyhow::Result<entropic_sim::scenario::RunConfig> {
        let sc = scenario::load(Path::new(p))?;
        sc.runs
            .into_iter()
            .next()
            .ok_or_else(|| input(format!("{p}: no run")))
    }

    /// Relative deviation `measured/predicted − 1` as a percentage.
    fn dev(pred: f64, meas: f64) -> String {
        if pred == 0.0 || !pred.is_finite() || !meas.is_finite() {
            return "n/a".into();
        }
        format!("{:+.0}%", 100.0 * (meas / pred - 1.0))
    }

    fn mean_signed_tail(es: &[f64]) -> f64 {
        let n = es.len();
        let tail = &es[n - n.div_ceil(4)..];
        tail.iter().sum::<f64>() / tail.len() as f64
    }

    /// One closed-loop comparison row set: predicted (linear model at the
    /// point estimate, horizon = the run's steps) against measured.
    struct Compared {
        label: String,
        kp: f64,
        ki: f64,
        pred: Prediction,
        meas: entropic_sim::figures::RunFigures,
        meas_signed: f64,
        /// Measured settling step with the same band as the prediction.
        meas_settle: Option<usize>,
        records: Vec<Record>,
    }

    /// Predicted (linear model at the point estimate, horizon = the run's
    /// steps, band `band`) against measured figures of `records`.
    #[allow(clippy::too_many_arguments)]
    fn compare_records(
        label: &str,
        records: Vec<Record>,
        ctl: &entropic_sim::control::ControlConfig,
        steps: usize,
        id: &Identified,
        e0: f64,
        band: f64,
    ) -> anyhow::Result<Compared> {
        let target = ctl.target;
        let p = LoopParams {
            gain: id.fit.g,
            delay: id.fit.d,
            kp: ctl.kp,
            ki: ctl.ki,
            drift: id.fit.b,
            form: ctl.integral_form,
        };
        let pred = predict(&p, e0, band, steps, ctl.alpha_max).map_err(input)?;
        let meas = run_figures(&records, target, ctl.alpha_max);
        let es: Vec<f64> = records.iter().map(|r| r.entropy - target).collect();
        Ok(Compared {
            label: label.into(),
            kp: ctl.kp,
            ki: ctl.ki,
            pred,
            meas,
            meas_signed: mean_signed_tail(&es),
            meas_settle: entropic_sim::figures::settling_step_rel(&records, target, band / target),
            records,
        })
    }

    fn compare(
        label: &str,
        base: &entropic_sim::scenario::RunConfig,
        id: &Identified,
        e0: f64,
        kp: f64,
        ki: f64,
    ) -> anyhow::Result<Compared> {
        let mut rc = base.clone();
        rc.control.kp = kp;
        rc.control.ki = ki;
        let records = run_one(&rc, label)?;
        let band = entropic_proofs::linear::design_band(rc.control.target);
        compare_records(label, records, &rc.control, rc.steps, id, e0, band)
    }

    pub fn run(a: &TuneArgs) -> anyhow::Result<ExitCode> {
        let prc = load(PROBE)?;
        let crc = load(CLOSED)?;
        let probe_records = run_one(&prc, "probe")?;
        let series = Series {
            source: format!("{PROBE}, seed 0"),
            entropy_column: "entropy".into(),
            alpha_column: "alpha".into(),
            step: probe_records.iter().map(|r| r.step as f64).collect(),
            entropy: probe_records.iter().map(|r| r.entropy).collect(),
            alpha: probe_records
                .iter()
                .map(|r| r.alpha.unwrap_or(f64::NAN))
                .collect(),
            target: Some(prc.control.target),
            nan_rows: 0,
        };
        let id = tune::identify(&series, None).map_err(input)?;
        let target = crc.control.target;
        // Both scenarios pin the same instance, so the closed loop starts
        // where the probe did: H_0 is the probe's first entropy.
        let e0 = series.entropy[0] - target;
        let spec = DesignSpec {
            settle: a.settle,
            target,
            e0,
            alpha_max: crc.control.alpha_max,
            form: crc.control.integral_form,
            max_overshoot: a.max_overshoot,
            band: None,
        };
        let rec = tune::recommend(&id.fit, &spec).map_err(input)?;
        let tuned = compare("recommended", &crc, &id, e0, rec.kp, rec.ki)?;
        let official = compare("official", &crc, &id, e0, 1.0, 0.01)?;

        let dir = a.out.join("tune");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        plot_fit(&dir.join("probe-fit.svg"), &series, &id)?;
        plot_closed_loop(
            &dir.join("closed-loop.svg"),
            "Recommended gains: measured vs linear prediction",
            "measured (toy)",
            &tuned.records,
            (&rec, e0, id.fit.d),
            crc.steps,
            crc.control.alpha_max,
        )?;

        let llm = match &a.llm {
            Some(d) => llm_half(a, d, &dir)?,
            None => "## LLM half\n\nNot run: pass `--llm DIR` with a finished `entropic llm validate --preset cpu` folder.\n".into(),
        };
        let md = report(
            &prc,
            &crc,
            &series,
            &id,
            &spec,
            &rec,
            &[tuned, official],
            &llm,
        );
        let path = a.out.join("tune.md");
        write_atomic(&path, md.as_bytes())?;
        println!("wrote {}", path.display());
        Ok(ExitCode::SUCCESS)
    }

    fn comparison_table(rows: &[Compared]) -> String {
        let mut t = Vec::new();
        for c in rows {
            let ps = c.pred.settling_step.map(|x| x as f64).unwrap_or(f64::NAN);
            let ms = c.meas_settle.map(|x| x as f64).unwrap_or(f64::NAN);
            t.push(vec![
                format!(
                    "{} (Kp {}, Ki {})",
                    c.label,
                    tune::fmt_gain(c.kp),
                    tune::fmt_gain(c.ki)
                ),
                "settling step".into(),
                opt_step(c.pred.settling_step),
                opt_step(c.meas_settle),
                dev(ps, ms),
            ]);
            t.push(vec![
                String::new(),
                "overshoot".into(),
                format!("{:.1}%", 100.0 * c.pred.overshoot),
                format!("{:.1}%", 100.0 * c.meas.overshoot),
                dev(c.pred.overshoot, c.meas.overshoot),
            ]);
            t.push(vec![
                String::new(),
                "final mean error (nats)".into(),
                format!("{:.2e}", c.pred.steady_state_error),
                format!("{:.2e}", c.meas_signed),
                dev(c.pred.steady_state_error, c.meas_signed),
            ]);
            t.push(vec![
                String::new(),
                "final |error| (nats)".into(),
                format!("{:.2e}", c.pred.final_abs_err),
                format!("{:.2e}", c.meas.final_abs_err),
                dev(c.pred.final_abs_err, c.meas.final_abs_err),
            ]);
        }
        markdown_table(
            &["gains", "figure", "predicted", "measured", "deviation"],
            &t,
        )
    }

    /// SVG of a closed-loop run's entropy against the linear model's path
    /// for the recommendation `(rec, e0, delay)`, with the target line.
    fn plot_closed_loop(
        path: &Path,
        title: &str,
        label: &str,
        measured: &[Record],
        (rec, e0, delay): (&Recommendation, f64, usize),
        steps: usize,
        alpha_max: f64,
    ) -> anyhow::Result<()> {
        let xs: Vec<f64> = (0..steps).map(|s| s as f64).collect();
        let pred_h = predicted_path(rec, e0, delay, steps, alpha_max);
        let measured = vec![(0u64, measured.to_vec())];
        let predicted = vec![(0u64, records("predicted", &xs, &pred_h))];
        line_plot_svg(
            path,
            title,
            "entropy (nats)",
            &[
                ArmSeries {
                    label: label.into(),
                    per_seed: &measured,
                },
                ArmSeries {
                    label: "predicted (linear model)".into(),
                    per_seed: &predicted,
                },
            ],
            |r| Some(r.entropy),
            Some((rec.target, "target")),
        )?;
        Ok(())
    }

    /// The LLM half of `--validate`: identify the plant from the probe arm
    /// of a finished `entropic llm validate --preset cpu` folder `run`,
    /// recommend PI gains for the cpu preset's target with the preset's α
    /// clip, run the `pi-on` arm again with those gains into `run/tuned/`
    /// (deleted first: the run is deterministic), and compare prediction
    /// with measurement, beside the official gains' `pi-on` arm.
    ///
    /// The settling band is 0.1 × target, not DESIGN.md's max(0.05, 0.1 ·
    /// target): the tiny model's token-mean entropy is ~0.07 nats, below
    /// the 0.05 floor's reach, so with the floor every run would count as
    /// settled at step 0. The same band is used for prediction and
    /// measurement.
    fn llm_half(a: &TuneArgs, run: &Path, svg_dir: &Path) -> anyhow::Result<String> {
        use entropic_llm::grpo::{resume, GrpoTrainer};
        use entropic_llm::validate::{arm_config, read_records, Preset, PresetFile};
        let probe_dir = run.join("probe");
        let probe_log = probe_dir.join("metrics.jsonl");
        if !probe_log.exists() {
            return Err(input(format!(
                "--llm {}: no probe/metrics.jsonl; run `entropic llm validate --preset cpu --out {}` first",
                run.display(),
                run.display()
            )));
        }
        let probe = read_records(&probe_log)?;
        let (_, st) = resume::find(&probe_dir)?
            .ok_or_else(|| input(format!("{}: no checkpoint", probe_dir.display())))?;
        let file = "scenarios/llm-validate-cpu.toml";
        let pf = PresetFile::parse(file, Preset::Cpu.text())?;
        let target = probe
            .iter()
            .find_map(|r| r.target)
            .ok_or_else(|| input(format!("{}: no target", probe_log.display())))?;
        let series = Series {
            source: probe_log.display().to_string(),
            entropy_column: "entropy".into(),
            alpha_column: "alpha".into(),
            step: probe.iter().map(|r| r.step as f64).collect(),
            entropy: probe.iter().map(|r| r.entropy).collect(),
            alpha: probe.iter().map(|r| r.alpha.unwrap_or(f64::NAN)).collect(),
            target: Some(target),
            nan_rows: 0,
        };
        let mut o = format!(
            "## LLM half\n\nProbe: `{}` (base `{}`), target {target:.4} nats (the preset's {} × the base's initial entropy). \
             Settling band 0.1 × target = {:.2e} nats for prediction and measurement (DESIGN.md's 0.05-nat floor exceeds \
             this model's whole entropy range, so every run would count as settled at step 0).\n\n",
            probe_log.display(),
            st.base,
            pf.validate.target_fraction,
            0.1 * target
        );
        let id = match tune::identify(&series, None) {
            Ok(id) => id,
            Err(e) => {
                o += &format!(
                    "Identification failed: {e}. No gains are recommended and nothing is rerun.\n"
                );
                return Ok(o);
            }
        };
        plot_fit(&svg_dir.join("llm-probe-fit.svg"), &series, &id)?;
        o += &ident_section("LLM", probe.len(), &series, &id, "tune/llm-probe-fit.svg");
        let e0 = series.entropy[0] - target;
        let ctl = &pf.grpo.control;
        let spec = DesignSpec {
            settle: a.settle,
            target,
            e0,
            alpha_max: ctl.alpha_max,
            form: ctl.integral_form,
            max_overshoot: a.max_overshoot,
            band: Some(0.1 * target),
        };
        let rec = match tune::recommend(&id.fit, &spec) {
            Ok(r) => r,
            Err(e) => {
                o += &format!("No recommendation: {e}. Nothing is rerun.\n");
                return Ok(o);
            }
        };
        o += &rec_section("LLM", &spec, &rec);
        let mut cfg = arm_config(&pf.grpo, &pf.validate, "pi-on", target)?;
        cfg.control.kp = rec.kp;
        cfg.control.ki = rec.ki;
        let out = run.join("tuned");
        let _ = std::fs::remove_dir_all(&out);
        eprintln!(
            "tune --validate: LLM run with Kp {}, Ki {} into {}",
            tune::fmt_gain(rec.kp),
            tune::fmt_gain(rec.ki),
            out.display()
        );
        let (mut tr, _) = GrpoTrainer::open(
            cfg.clone(),
            file,
            Path::new(&st.base),
            &out,
            &candle_core::Device::Cpu,
            candle_core::DType::F32,
        )?;
        tr.run(None, &mut |_| {})?;
        let tuned = read_records(&out.join("metrics.jsonl"))?;
        let official = read_records(&run.join("pi-on").join("metrics.jsonl"))?;
        let band = 0.1 * target;
        let steps = cfg.grpo.steps;
        let mut off_ctl = cfg.control.clone();
        off_ctl.kp = ctl.kp;
        off_ctl.ki = ctl.ki;
        let rows = [
            compare_records("recommended", tuned, &cfg.control, steps, &id, e0, band)?,
            compare_records(
                "official (pi-on arm)",
                official,
                &off_ctl,
                steps,
                &id,
                e0,
                band,
            )?,
        ];
        plot_closed_loop(
            &svg_dir.join("llm-closed-loop.svg"),
            "LLM, recommended gains: measured vs linear prediction",
            "measured (LLM)",
            &rows[0].records,
            (&rec, e0, id.fit.d),
            steps,
            cfg.control.alpha_max,
        )?;
        o += &format!(
            "## LLM: validation (closed loop: {steps} steps, the cpu preset's `pi-on` arm with the gains set, into `{}`)\n\n",
            out.display()
        );
        o += &comparison_table(&rows);
        o += "\n![LLM closed loop](tune/llm-closed-loop.svg)\n\n";
        Ok(o)
    }

    /// `## {title}: identification` with the delay table and the fit.
    fn ident_section(title: &str, steps: usize, s: &Series, id: &Identified, svg: &str) -> String {
        let f = &id.fit;
        let mut o = format!(
            "## {title}: identification (probe run: {} steps, α in [{}, {}])\n\n",
            steps,
            tune::fmt_gain(s.alpha.iter().copied().fold(f64::INFINITY, f64::min)),
            tune::fmt_gain(s.alpha.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        );
        let dr: Vec<Vec<String>> = id
            .delay_residuals
            .iter()
            .map(|(d, r)| vec![d.to_string(), format!("{r:.3e}")])
            .collect();
        o += &markdown_table(&["d", "residual RMS"], &dr);
        o += &format!(
            "\nChosen `d = {}`. `b = {:.4e}` [{:.4e}, {:.4e}] nats/step, `g = {:.4e}` [{:.4e}, {:.4e}] nats/step per unit α \
             (95%), residual RMS {:.3e}, R² {:.4}, {} rows.\n\n![probe fit]({svg})\n\n",
            f.d, f.b, f.b_ci.0, f.b_ci.1, f.g, f.g_ci.0, f.g_ci.1, f.residual_rms, f.r2, f.n
        );
        o
    }

    /// `## {title}: recommendation` with the corner table and the snippet.
    fn rec_section(title: &str, spec: &DesignSpec, rec: &Recommendation) -> String {
        let mut o = format!(
            "## {title}: recommendation (target {} nats, settle by step {}, band {:.3e}, e0 = {:.4}, α clip {})\n\n\
             `Kp = {}`, `Ki = {}`; spectral radius {:.4} at the point estimate; gain margin {:.3} (at `g`), {:.3} (at the \
             interval's largest `g`).{}\n\n",
            fmt_sig(spec.target),
            spec.settle,
            rec.band,
            spec.e0,
            spec.alpha_max,
            tune::fmt_gain(rec.kp),
            tune::fmt_gain(rec.ki),
            rec.nominal.spectral_radius,
            rec.gain_margin,
            rec.gain_margin_worst,
            if rec.met { "" } else { " **No robust gains met the settling time at every corner; these are the fastest found.**" }
        );
        let cr: Vec<Vec<String>> = rec
            .corners
            .iter()
            .map(|c| {
                vec![
                    format!("{:.3e}", c.b),
                    format!("{:.3e}", c.g),
                    format!("{:.4}", c.spectral_radius),
                    opt_step(c.prediction.settling_step),
                    format!("{:.1}%", 100.0 * c.prediction.overshoot),
                ]
            })
            .collect();
        o += &markdown_table(&["b", "g", "radius", "settling step", "overshoot"], &cr);
        o += &format!("\n```toml\n{}```\n\n", tune::scenario_snippet(rec));
        o
    }

    fn fmt_sig(x: f64) -> String {
        format!("{}", (x * 1e4).round() / 1e4)
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        prc: &entropic_sim::scenario::RunConfig,
        crc: &entropic_sim::scenario::RunConfig,
        s: &Series,
        id: &Identified,
        spec: &DesignSpec,
        rec: &Recommendation,
        rows: &[Compared],
        llm: &str,
    ) -> String {
        let mut o = String::from(
            "# Tuning EntroPIC from a log: toy and LLM validation\n\n\
             Regenerate: `cargo run --release -- tune --validate --llm runs/validate-cpu` (writes this file and \
             `reports/tune/*.svg`). The toy half runs `scenarios/tune-probe.toml` and `scenarios/tune-closed.toml` \
             (seed 0, deterministic, seconds). The LLM half reads the probe arm of a finished \
             `entropic llm validate --preset cpu` folder and runs the recommended gains into its `tuned/` \
             (about 2 minutes on 2 cores); without `--llm` it is skipped and this file says so.\n\n",
        );
        o += "## Method\n\n\
             1. **Probe** (MATH.md §7): the controller's α is replaced by a fixed schedule (a PRBS as `entropic tune --probe` \
             prints on the toy; the `[validate] probe` steps on the LLM), clip removed. Principle: α must move entropy in a known \
             direction at every state visited, and independently of the error. Toy: tabular bandit, exact (expected) update, \
             `sampled_logit` rule, plain SGD, `scope = \"all\"` — with the sampled-logit rule, up-weighting positives lowers \
             entropy and up-weighting negatives raises it whenever both correct and wrong sets hold probability mass (MATH.md §5), \
             and scope `all` makes every token carry the term. The toy probe is centred near the α that holds entropy, so the run \
             stays near its operating point.\n\
             2. **Identify** `ΔH_t = b − g·α_{t−d}` by least squares, `d` by model selection over 0..8 (`proofs::ident`).\n\
             3. **Recommend** PI gains (authors' integral form `before`) by grid search over `g·Kp`, `g·Ki`, keeping only gains \
             stable (spectral radius < 1) at the smallest, nominal and largest `g` of the 95% interval, requiring every \
             `(b, g)` corner of the interval box to settle by the wanted step with bounded overshoot, and taking the gains whose \
             worst corner settles closest to (not after) the wanted step, ties by the largest gain margin (`proofs::tune::recommend`).\n\
             4. **Validate**: run the closed loop with those gains on the same instance and compare DESIGN.md's figures \
             (settling step, overshoot, final error over the last quarter) with the linear model's predictions \
             (`proofs::linear::predict`, same horizon, clip and band). Target: within ±25%.\n\n";
        o += &ident_section("Toy", prc.steps, s, id, "tune/probe-fit.svg");
        o += &rec_section("Toy", spec, rec);
        o += &format!(
            "## Toy: validation (closed loop: {} steps, {} )\n\n",
            crc.steps, "`scenarios/tune-closed.toml` with the gains set"
        );
        o += &comparison_table(rows);
        o += "\n![closed loop](tune/closed-loop.svg)\n\n";
        o += llm;
        o
    }
}
