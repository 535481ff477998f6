//! `entropic tune identify|probe|validate`: identify the plant from a log
//! and recommend gains (`identify --log FILE`), print a probe schedule
//! (`probe`), or regenerate the toy (and LLM) validation `reports/tune.md`
//! (`validate`, in [`crate::lab::tune`]). The work is in
//! `entropic_proofs::tune`; this file reads files and prints.

use crate::error::InputError;
use crate::lab::tune::{opt_step, plot_fit, TuneValidateOptions};
use entropic_proofs::ident_power::{self, Coding};
use entropic_proofs::linear::IntegralForm;
use entropic_proofs::tune::{self, Columns, DesignSpec, Identified, Recommendation, Series};
use std::path::PathBuf;
use std::process::ExitCode;

/// `entropic tune <command>`.
#[derive(clap::Subcommand, Debug)]
pub enum TuneCommand {
    /// Identify drift, gain and delay from a log and recommend EntroPIC gains.
    Identify(IdentifyArgs),
    /// Print a probe controller (PRBS schedule) as a scenario snippet.
    Probe(ProbeArgs),
    /// Regenerate the toy validation (reports/tune.md and reports/tune/*.svg),
    /// and with `--llm DIR` the LLM half. Reads scenarios/tune-probe.toml and
    /// scenarios/tune-closed.toml from the current folder: run it at the
    /// repository's root.
    Validate(ValidateArgs),
}

/// The settling specification shared by `identify` and `validate`.
#[derive(clap::Args, Debug)]
pub struct DesignArgs {
    /// Wanted settling step (docs/design.md §8's band max(0.05, 0.1·H_tar)).
    #[arg(long, default_value_t = 50)]
    pub settle: usize,
    /// Largest overshoot (fraction of the initial error) accepted at any corner.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub max_overshoot: f64,
}

/// `--delay`: `auto` (model selection over 0..=MAX_DELAY) or a fixed delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delay {
    Auto,
    Fixed(usize),
}

/// Parses `--delay`: `auto` or an integer in 0..=1000.
pub fn parse_delay(s: &str) -> Result<Delay, String> {
    if s == "auto" {
        return Ok(Delay::Auto);
    }
    s.parse::<usize>()
        .ok()
        .filter(|d| *d <= 1000)
        .map(Delay::Fixed)
        .ok_or_else(|| format!("must be auto or an integer 0..=1000 (got {s})"))
}

/// Options of `entropic tune identify`.
#[derive(clap::Args, Debug)]
pub struct IdentifyArgs {
    /// Log to read: our metrics.jsonl, or a CSV with a header row (e.g. a W&B export).
    #[arg(long)]
    pub log: PathBuf,
    /// The plain-GRPO twin of the probe (same seed and RNG streams, α = 0):
    /// identify by the paired design (probe minus twin regressed on
    /// cumulative α, docs/mathematics.md §9) instead of the unpaired one.
    /// Without --seed, where the probe's metrics.jsonl holds one run over
    /// several seeds, every seed is paired with the twin's same seed and
    /// the slope pooled (from 4 seeds on one schedule its interval is the
    /// seeds' own spread).
    #[arg(long)]
    pub twin: Option<PathBuf>,
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
    #[arg(long, allow_negative_numbers = true)]
    pub target: Option<f64>,
    /// Delay d: `auto` (model selection over 0..8) or a number.
    #[arg(long, default_value = "auto", value_parser = parse_delay)]
    pub delay: Delay,
    /// The probe's α was a PRBS drawn at random (`tune probe --draw-seed`) with
    /// this hold: read it by the unpaired estimator with a randomization
    /// interval (re-draws of the schedule; its placebo stays at the nominal
    /// 5% where the drift is not constant, docs/mathematics.md §9). Its two levels are read from the
    /// log. Needs a fixed --delay; not with --twin.
    #[arg(long, conflicts_with = "twin")]
    pub prbs_hold: Option<usize>,
    /// With --prbs-hold: steps before the PRBS began (a prelude held fixed).
    #[arg(long, default_value_t = 0, requires = "prbs_hold")]
    pub prbs_start: usize,
    /// With --prbs-hold: the PRBS's length in steps (the probe's `steps`);
    /// after it the log holds the last level. Default: to the end of the log.
    #[arg(long, requires = "prbs_hold")]
    pub prbs_steps: Option<usize>,
    /// With --prbs-hold: how the PRBS's coins became α, `nrz` (each coin
    /// held --prbs-hold steps) or `manchester` (held, then its opposite
    /// for as long: `tune probe --coding manchester`); the re-draws follow it.
    #[arg(long, default_value = "nrz", requires = "prbs_hold")]
    pub prbs_coding: Coding,
    /// Without --twin: regress on α filtered by a geometric lag of this
    /// decay, in [0, 1) (the optimizer's momentum, e.g. Adam's β1 = 0.9,
    /// spreads α's effect over later steps; with 0, the default, g is the
    /// immediate gain, about 0.6 of the long-run one under Adam on the toy).
    #[arg(long, default_value_t = 0.0, conflicts_with = "twin")]
    pub lag_decay: f64,
    #[command(flatten)]
    pub design: DesignArgs,
    /// Settling band (nats); default docs/design.md §8's max(0.05, 0.1·target). Its
    /// 0.05 floor is wider than a small LLM's whole token-mean entropy:
    /// pass e.g. 0.1 × target there.
    #[arg(long, allow_negative_numbers = true)]
    pub band: Option<f64>,
    /// α clip of the controller that will run (the authors' is 1; `inf` for none).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub alpha_max: f64,
    /// Write an SVG of the fitted model over the log.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `entropic tune probe`.
#[derive(clap::Args, Debug)]
pub struct ProbeArgs {
    /// Probe length in controller steps.
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// Probe step size: α moves between center − A and center + A.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub amplitude: f64,
    /// Probe centre (best: the α that roughly holds entropy; 0 if unknown).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub center: f64,
    /// Steps each PRBS bit is held (default MAX_DELAY + 2 = 10).
    #[arg(long, default_value_t = tune::MAX_DELAY + 2)]
    pub hold: usize,
    /// Draw the PRBS at random (a fair coin per hold, from this seed)
    /// instead of the fixed 7-bit LFSR: then `tune identify --prbs-hold`
    /// reads the log with a randomization interval. (A probe sized with
    /// --pilot is always drawn at random.)
    #[arg(long, conflicts_with = "pilot")]
    pub draw_seed: Option<u64>,
    /// With --draw-seed: `nrz` (each coin's level held --hold steps) or
    /// `manchester` (held --hold steps, then its opposite for --hold
    /// steps, so the cumulative α returns to 0 every 2·hold steps and the
    /// probe stays near its plain twin's state; docs/mathematics.md §9 for
    /// what it bought on the sampled toy).
    #[arg(long, default_value = "nrz", requires = "draw_seed")]
    pub coding: Coding,
    /// Target entropy (nats) written into the snippet, if given.
    #[arg(long, allow_negative_numbers = true)]
    pub target: Option<f64>,
    /// Size the probe before running (docs/mathematics.md §9): the noise
    /// of this log without α (a plain run, or a short pilot at α = 0) sets
    /// the steps, seeds and amplitude (at most --amplitude) so the smallest
    /// gain detectable with 80% power is below the log's drift |b|, within
    /// --budget; otherwise the probe is labelled `undetermined` in advance.
    #[arg(long)]
    pub pilot: Option<PathBuf>,
    /// Column names of the pilot log (as `tune identify --columns`).
    #[arg(long)]
    pub columns: Option<String>,
    /// Run (`arm`) to read from a pilot metrics.jsonl holding several.
    #[arg(long)]
    pub arm: Option<String>,
    /// Seed to read from a pilot metrics.jsonl holding several.
    #[arg(long)]
    pub seed: Option<u64>,
    /// With --pilot: the most probe steps (steps × seeds) the probe may use.
    #[arg(long, default_value_t = 1000)]
    pub budget: usize,
    /// With --pilot: the most seeds (paired design only).
    #[arg(long, default_value_t = 8)]
    pub max_seeds: usize,
    /// With --pilot: the probe will be read with its plain twin (the
    /// paired design, `tune identify --twin`), not alone.
    #[arg(long)]
    pub paired: bool,
    /// With --pilot, unpaired: the lag decay the probe will be read with
    /// (`tune identify --lag-decay`, e.g. Adam's β1 = 0.9), in [0, 1): the
    /// plan's SE and bandwidth are those of α through that lag.
    #[arg(
        long,
        default_value_t = 0.0,
        conflicts_with = "paired",
        requires = "pilot"
    )]
    pub lag_decay: f64,
    /// With --pilot: also write the plan (design, figures, label) as JSON here.
    #[arg(long)]
    pub plan: Option<PathBuf>,
}

/// Options of `entropic tune validate`.
#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub design: DesignArgs,
    /// Also the LLM half, from this finished `entropic llm validate --preset
    /// cpu` folder (its probe arm identifies the plant; the recommended
    /// gains run into DIR/tuned/).
    #[arg(long)]
    pub llm: Option<PathBuf>,
    /// Output folder [default: reports with --llm; runs/tune-validate
    /// without it, so a toy-only report never replaces the committed one,
    /// which has both halves].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn input(e: impl std::fmt::Display) -> anyhow::Error {
    InputError(format!("tune: {e}")).into()
}

/// Entry point of `entropic tune`.
pub fn run(cmd: TuneCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TuneCommand::Identify(a) => identify(&a),
        TuneCommand::Probe(a) => probe(&a),
        TuneCommand::Validate(a) => {
            crate::validate::tune_design(None, a.design.settle, a.design.max_overshoot)?;
            let path = crate::lab::tune::run(&TuneValidateOptions {
                settle: a.design.settle,
                max_overshoot: a.design.max_overshoot,
                out: a.out.unwrap_or_else(|| {
                    PathBuf::from(if a.llm.is_some() {
                        "reports"
                    } else {
                        "runs/tune-validate"
                    })
                }),
                llm: a.llm,
            })?;
            crate::output::write_stamp(&path, serde_json::json!({ "report": "tune validate" }))?;
            println!("wrote {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The text of the log at `path`; an unreadable one is an input error
/// naming the file.
fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| input(format!("cannot read {}: {e}", path.display())))
}

/// The series of the log `text` read from `path` (its `--arm` and `--seed`
/// checked against the file first): a probe's ([`tune::parse_log`]), or a
/// plain twin's, read without `--arm` and allowed to lack α
/// ([`tune::parse_twin_log`]); an unparsable log is an input error naming
/// the file.
fn parse_series(
    path: &std::path::Path,
    text: &str,
    cols: &Columns,
    arm: Option<&str>,
    seed: Option<u64>,
    twin: bool,
) -> anyhow::Result<Series> {
    crate::validate::tune_selectors(text, arm, seed)?;
    let series = if twin {
        tune::parse_twin_log(text, cols, seed)
    } else {
        tune::parse_log(text, cols, arm, seed)
    };
    series.map_err(|e| input(format!("{}: {e}", path.display())))
}

fn identify(a: &IdentifyArgs) -> anyhow::Result<ExitCode> {
    crate::validate::tune_design(a.target, a.design.settle, a.design.max_overshoot)?;
    // The randomization design's flags, before any file is read.
    if !(0.0..1.0).contains(&a.lag_decay) {
        return Err(input(format!(
            "--lag-decay: must be in [0, 1) (got {})",
            a.lag_decay
        )));
    }
    if a.prbs_hold == Some(0) {
        return Err(input("--prbs-hold: must be at least 1"));
    }
    if a.prbs_hold.is_some() && a.delay == Delay::Auto {
        return Err(input(
            "--prbs-hold needs a fixed --delay (0 for measure = current): a delay selected on the same log \
             depends on the schedule, and the randomization test would no longer be exact",
        ));
    }
    let path = a.log.as_path();
    let cols = match &a.columns {
        Some(c) => Columns::parse(c).map_err(input)?,
        None => Columns::default(),
    };
    let delay = match a.delay {
        Delay::Auto => None,
        Delay::Fixed(d) => Some(d),
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
    // With a twin and no --seed, a probe log of one run over several seeds
    // is paired seed by seed with the twin log and pooled
    // (`tune::pair_seeds`); otherwise one run of each. The twin is its own
    // run: `--arm` names the probe's arm, so the twin is read without it.
    // Each file is read once.
    let arm = a.arm.as_deref();
    let (series, twin, more) = match &a.twin {
        Some(tp) => {
            let (probe_text, twin_text) = (read_text(path)?, read_text(tp)?);
            let pooled = match a.seed {
                None => tune::pair_seeds(&probe_text, &twin_text, &cols, arm).map_err(|e| {
                    input(format!("{}: --twin {}: {e}", path.display(), tp.display()))
                })?,
                Some(_) => None,
            };
            match pooled {
                Some(mut pairs) => {
                    let more = pairs.split_off(1);
                    let (mut probe, plain) = pairs.remove(0);
                    probe.source = format!(
                        "{}: the first of {} seeds pooled; rows, first entropy and plot are its own",
                        probe.source,
                        more.len() + 1
                    );
                    (probe, Some(plain), more)
                }
                None => (
                    parse_series(path, &probe_text, &cols, arm, a.seed, false)?,
                    Some(parse_series(tp, &twin_text, &cols, None, a.seed, true)?),
                    Vec::new(),
                ),
            }
        }
        None => (
            parse_series(path, &read_text(path)?, &cols, arm, a.seed, false)?,
            None,
            Vec::new(),
        ),
    };
    let draw = match a.prbs_hold {
        Some(hold) => {
            let draw = ident_power::randomized::PrbsDraw::from_schedule(
                &series.alpha,
                hold,
                a.prbs_start,
                a.prbs_steps,
                a.prbs_coding,
            )
            .map_err(|e| input(format!("{}: --prbs-hold {hold}: {e}", path.display())))?;
            Some(draw)
        }
        None => None,
    };
    // Identification with power (docs/mathematics.md §9): paired with a
    // twin, a randomization interval for a drawn PRBS, Newey–West in
    // differences otherwise; a refusal names the smallest g the log could
    // have detected.
    let power = match &twin {
        Some(plain) if !more.is_empty() => {
            let mut pairs = vec![(&series, plain)];
            pairs.extend(more.iter().map(|(p, q)| (p, q)));
            tune::identify_paired_seeds(&pairs, delay)
        }
        _ => tune::identify_with_power(&series, twin.as_ref(), delay, draw.as_ref(), a.lag_decay),
    }
    .map_err(|e| match (&a.twin, more.len()) {
        (Some(tp), n) if n > 0 => input(format!(
            "{} with --twin {} ({} seeds pooled): {e}",
            path.display(),
            tp.display(),
            n + 1
        )),
        _ => input(format!("{}: {e}", path.display())),
    })?;
    let est = power.estimate.clone();
    let caveat = power.interval_caveat;
    let id = tune::Identified {
        fit: power.fit,
        delay_residuals: power.delay_residuals,
    };
    if !a.json {
        println!(
            "{} design, d = {}: g = {:.4e} [{:.4e}, {:.4e}] per unit α per step; smallest g detectable with 80% power: {:.2e}; b = {:.4e} [{:.4e}, {:.4e}]",
            match (&a.twin, &draw) {
                (Some(_), _) if more.is_empty() => "paired".to_string(),
                (Some(_), _) => format!("paired ({} seeds pooled)", more.len() + 1),
                (None, Some(dr)) => format!(
                    "unpaired, randomization interval ({} re-draws of the PRBS, hold {}, {}),",
                    ident_power::randomized::RANDOMIZATION_DRAWS,
                    dr.min_hold,
                    dr.coding.name()
                ),
                (None, None) => "unpaired".to_string(),
            },
            est.d,
            est.g,
            est.g_ci.0,
            est.g_ci.1,
            est.g_detectable,
            est.b,
            est.b_ci.0,
            est.b_ci.1
        );
        if let Some(c) = caveat {
            println!("note: {c}");
        }
    }
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
        settle: a.design.settle,
        target,
        e0: h0 - target,
        alpha_max: a.alpha_max,
        form: IntegralForm::Before,
        max_overshoot: a.design.max_overshoot,
        band: a.band,
    };
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
                    "interval_caveat": caveat,
                    "prbs_design": draw,
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
            "estimate": est,
            "interval_caveat": caveat,
            "prbs_design": draw,
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

fn probe(a: &ProbeArgs) -> anyhow::Result<ExitCode> {
    crate::validate::tune_hold(a.hold)?;
    if a.steps == 0 || !a.amplitude.is_finite() || a.amplitude <= 0.0 || !a.center.is_finite() {
        return Err(input(
            "probe: --steps must be >= 1, --amplitude finite and > 0, --center finite",
        ));
    }
    if a.pilot.is_some() {
        return probe_sized(a);
    }
    let design = ident_power::randomized::PrbsDraw::from_step_0(a.center, a.amplitude, a.hold)
        .coded(a.coding);
    if a.draw_seed.is_some() && design.blocks(a.steps) < ident_power::randomized::MIN_BLOCKS {
        return Err(input(format!(
            "--draw-seed: {} steps with --hold {} ({}: a coin per {} steps) make fewer than {} blocks, too few \
             for a randomization interval",
            a.steps,
            a.hold.max(1),
            a.coding.name(),
            a.coding.period(a.hold),
            ident_power::randomized::MIN_BLOCKS
        )));
    }
    // What the coding changes in the text: the drawn schedule's name, its
    // shape, why it is a good probe, and the read command's flag.
    let hold = a.hold.max(1);
    let (coded, note, shape, why, flag) = match a.coding {
        Coding::Nrz => (
            "PRBS drawn at random",
            "",
            format!("each bit held {hold} steps"),
            "A PRBS changes level at irregular intervals, so the delay is told apart, and spends\n\
             # equal time at both levels.",
            "",
        ),
        Coding::Manchester => (
            "Manchester-coded PRBS drawn at random",
            "; every coin played, then its opposite",
            format!("each coin held {hold} steps, then its opposite for {hold}"),
            "Its cumulative α returns to 0 every 2·hold steps, so the probe stays near the\n\
             # plain run's state; it spends equal time at both levels.",
            " --prbs-coding manchester",
        ),
    };
    let (s, kind, read) = match a.draw_seed {
        None => (
            tune::probe_schedule(a.steps, a.amplitude, a.center, a.hold),
            "PRBS (7-bit LFSR)".to_string(),
            String::new(),
        ),
        Some(seed) => (
            tune::drawn_probe_schedule(a.steps, a.amplitude, a.center, a.hold, seed, a.coding),
            format!("{coded} (seed {seed}{note})"),
            format!(
                " --prbs-hold {hold}{flag} --prbs-steps {} --delay D (D = 0 for measure = current)",
                a.steps
            ),
        ),
    };
    println!(
        "# Probe (docs/mathematics.md §7): {kind} between {} and {}, {shape}, {} steps.\n\
         # {why} Append to a scenario without its own [control] table;\n\
         # then `entropic tune identify --log runs/<stem>/<arm>/metrics.jsonl{read}`.",
        tune::fmt_gain(a.center - a.amplitude),
        tune::fmt_gain(a.center + a.amplitude),
        a.steps
    );
    if a.draw_seed.is_none() {
        println!(
            "# Read that way its interval rests on a variance model (Newey–West), approximate where the\n\
             # drift is not constant; `--draw-seed N` draws the PRBS at random instead, for an\n\
             # interval that does not rest on one."
        );
    }
    print!("{}", tune::probe_snippet(&s, a.target));
    Ok(ExitCode::SUCCESS)
}

/// `tune probe --pilot LOG`: the probe sized from the pilot's noise
/// ([`tune::plan`]); the label is printed, and written with `--plan`,
/// before anything runs.
fn probe_sized(a: &ProbeArgs) -> anyhow::Result<ExitCode> {
    use entropic_proofs::tune::plan::{self, PlanBudget, PlanDesign, PlanLabel};
    let path = a.pilot.as_deref().unwrap_or(std::path::Path::new(""));
    let text = std::fs::read_to_string(path)
        .map_err(|e| input(format!("cannot read {}: {e}", path.display())))?;
    crate::validate::tune_selectors(&text, a.arm.as_deref(), a.seed)?;
    let cols = match &a.columns {
        Some(c) => Columns::parse(c).map_err(input)?,
        None => Columns::default(),
    };
    // The pilot needs an entropy column only; α, when logged, must be 0.
    let series = tune::parse_log(&text, &cols, a.arm.as_deref(), a.seed)
        .or_else(|e| match e {
            tune::TuneError::MissingColumn { role: "alpha", .. } => {
                let mut c = cols.clone();
                c.alpha = c.entropy.clone().or(Some("entropy".into()));
                tune::parse_log(&text, &c, a.arm.as_deref(), a.seed).map(|mut s| {
                    s.alpha = vec![0.0; s.entropy.len()];
                    s
                })
            }
            other => Err(other),
        })
        .map_err(|e| input(format!("{}: {e}", path.display())))?;
    if series.alpha.iter().any(|x| x.is_finite() && *x != 0.0) {
        return Err(input(format!(
            "--pilot {}: its α is not 0: the noise is measured on a run without the entropy term",
            path.display()
        )));
    }
    let noise = plan::noise_from_entropy(&series.entropy)
        .map_err(|e| input(format!("--pilot {}: {e}", path.display())))?;
    let budget = PlanBudget {
        max_seeds: a.max_seeds,
        max_amplitude: a.amplitude,
        hold: a.hold.max(1),
        lag: a.lag_decay,
        ..PlanBudget::new(a.budget)
    };
    let design = if a.paired {
        PlanDesign::Paired
    } else {
        PlanDesign::Unpaired
    };
    let p = plan::plan_probe_with_pilot(&noise, Some(&series.entropy), design, &budget, 1)
        .map_err(input)?;
    // The lag the plan assumed, in the command that reads the probe.
    let lag = if a.lag_decay > 0.0 {
        format!(" --lag-decay {}", a.lag_decay)
    } else {
        String::new()
    };
    if let Some(out) = &a.plan {
        let json = serde_json::to_string_pretty(&p)?;
        std::fs::write(out, json + "\n")
            .map_err(|e| input(format!("cannot write {}: {e}", out.display())))?;
    }
    let label = match p.label {
        PlanLabel::Determinable => "determinable".to_string(),
        PlanLabel::Undetermined => format!(
            "undetermined (within --budget {} the smallest detectable g stays above |b|: an interval holding 0 \
             will not mean 'no authority')",
            a.budget
        ),
    };
    println!(
        "# Probe sized before running (docs/mathematics.md §9) from {}: drift b = {:.3e} nats/step, \
         step variance {:.3e}, lag-1 autocorrelation {:.3}.\n\
         # Design: {}, PRBS amplitude {} around {}, hold {}, {} steps × {} seed(s); planned SE(g) {:.3e}{}, \
         smallest g detectable with 80% power {:.3e} against |b| = {:.3e}.\n\
         # label = \"{label}\"\n\
         # Append to a scenario without its own [control] table, with seeds = {}{}.",
        path.display(),
        noise.drift,
        noise.step_var,
        noise.lag1,
        if a.paired { "paired (read with its plain twin)" } else { "unpaired" },
        tune::fmt_gain(p.amplitude),
        tune::fmt_gain(a.center),
        p.hold,
        p.steps,
        p.seeds,
        p.g_se,
        match (p.pilot_factor > 1.0, p.pilot_extrapolated) {
            (false, _) => String::new(),
            (true, false) => format!(
                " ({:.2} times the noise model's: a schedule drawn at random meets the pilot's drift by chance)",
                p.pilot_factor
            ),
            (true, true) => format!(
                " ({:.2} times the noise model's, the factor at the pilot's full length: the probe is longer than \
                 the pilot, and a drift whose curvature lasts would give it a larger one)",
                p.pilot_factor
            ),
        },
        p.g_detectable,
        p.drift_abs,
        p.seeds,
        if a.paired && p.seeds >= ident_power::MIN_SEED_SLOPES {
            "; run the plain twin (the same scenario with method = \"none\", same seeds) beside it and read both with \
             `tune identify --twin` without --seed: the seeds pool, and the interval is their own spread"
                .to_string()
        } else if a.paired {
            format!(
                "; run the plain twin (the same scenario with method = \"none\", same seeds) beside it and read both with \
                 `tune identify --twin` without --seed; with {} seed(s), fewer than {}, the interval will rest on a model \
                 of the noise in time (raise --max-seeds)",
                p.seeds,
                ident_power::MIN_SEED_SLOPES
            )
        } else if ident_power::randomized::PrbsDraw::from_step_0(0.0, p.amplitude, p.hold).blocks(p.steps)
            >= ident_power::randomized::MIN_BLOCKS
        {
            format!(
                "; its PRBS is drawn at random: read it with `tune identify --prbs-hold {} --prbs-steps {} --delay D{lag}` (D = 0 for measure = current; randomization interval)",
                p.hold, p.steps
            )
        } else {
            format!(
                "; its {} steps hold fewer than {} PRBS blocks, too few for a randomization interval: read it with `tune identify{lag}` (Newey–West)",
                p.steps,
                ident_power::randomized::MIN_BLOCKS
            )
        }
    );
    println!("# Note: {}", p.caveat);
    print!("{}", tune::probe_snippet(&p.schedule(a.center), a.target));
    Ok(ExitCode::SUCCESS)
}

/// The text output of `tune identify`.
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

/// The identification part of `tune identify`'s text output.
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

/// The recommendation part of `tune identify`'s text output.
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
