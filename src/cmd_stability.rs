//! `entropic stability`: the linearised loop of docs/mathematics.md §6 for one set of
//! gains (`entropic_proofs::linear::analyse`).
use crate::error::InputError;
use clap::{Args, ValueEnum};
use entropic_proofs::linear::{analyse, IntegralForm, LoopParams};
use std::process::ExitCode;

/// `--integral`: where the integral term takes this step's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IntegralArg {
    /// The authors' form: the integral before this step's error.
    Before,
    /// The integral including this step's error.
    After,
}

impl IntegralArg {
    fn name(self) -> &'static str {
        match self {
            IntegralArg::Before => "before",
            IntegralArg::After => "after",
        }
    }
}

/// Options of `entropic stability` (numbers may be negative as typed:
/// `--drift -0.01`).
#[derive(Args, Debug)]
pub struct StabilityArgs {
    /// Plant gain g (entropy drop per unit α per step), > 0.
    #[arg(long, allow_negative_numbers = true)]
    pub gain: f64,
    /// Delay d in controller steps, at most 1000.
    #[arg(long, default_value_t = 0)]
    pub delay: usize,
    /// Proportional gain Kp.
    #[arg(long, allow_negative_numbers = true)]
    pub kp: f64,
    /// Integral gain Ki (0: P control).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub ki: f64,
    /// Drift b (entropy change per step without control).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub drift: f64,
    /// `before` (the authors': integral before this step's error) or `after`.
    #[arg(long, value_enum, default_value_t = IntegralArg::Before)]
    pub integral: IntegralArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Entry point of `entropic stability`.
pub fn run(a: &StabilityArgs) -> anyhow::Result<ExitCode> {
    crate::validate::stability(a.gain, a.kp, a.ki, a.drift)?;
    let form = match a.integral {
        IntegralArg::Before => IntegralForm::Before,
        IntegralArg::After => IntegralForm::After,
    };
    let p = LoopParams {
        gain: a.gain,
        delay: a.delay,
        kp: a.kp,
        ki: a.ki,
        drift: a.drift,
        form,
    };
    let r = analyse(&p).map_err(|e| InputError(format!("stability: {e}")))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let law = if a.ki == 0.0 { "P" } else { "PI" };
        println!(
            "{law} loop, g = {}, d = {}, Kp = {}, Ki = {}, integral {}: spectral radius {:.4} -> {}",
            a.gain,
            a.delay,
            a.kp,
            a.ki,
            a.integral.name(),
            r.spectral_radius,
            if r.stable { "stable" } else { "unstable" }
        );
        if let Some(e) = r.steady_state_error {
            println!("steady-state error for drift b = {}: {e:.4} nats", a.drift);
        }
    }
    Ok(ExitCode::SUCCESS)
}
