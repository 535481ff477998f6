//! Identification from a log: the open-loop checks, the delay, and the
//! estimators with power (docs/mathematics.md §9).

use crate::ident::{self, Fit};
use crate::ident_power;
use crate::tune::log::{parse_log, parse_twin_log, seeds_of_one_run};
use crate::tune::model::*;
use serde::{Deserialize, Serialize};

/// The identified plant with the residual of every candidate delay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identified {
    pub fit: Fit,
    /// `(d, residual_rms)` for each candidate on common rows; empty when the
    /// delay was given.
    pub delay_residuals: Vec<(usize, f64)>,
}

/// Identifies `b`, `g` and `d` ([`ident::identify_delay`] over
/// `0..=MAX_DELAY` when `delay` is `None`, else [`ident::identify`]).
/// Refuses a closed-loop log ([`check_open_loop`]) and what `ident` refuses
/// (P control, constant series, too few rows).
pub fn identify(series: &Series, delay: Option<usize>) -> Result<Identified, TuneError> {
    check_open_loop(series)?;
    Ok(match delay {
        Some(d) => Identified {
            fit: ident::identify(&series.entropy, &series.alpha, d)?,
            delay_residuals: Vec::new(),
        },
        None => {
            let (fit, r) = ident::identify_delay(&series.entropy, &series.alpha, MAX_DELAY)?;
            Identified {
                fit,
                delay_residuals: r,
            }
        }
    })
}

/// The figures [`check_open_loop`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OpenLoopCheck {
    /// `corr(α_t, H_t)` on the rows where both are finite.
    pub corr_alpha_entropy: f64,
    /// `R²` of `α_t` on `1, H_t, Σ_{s<t} H_s, t` on the unsaturated rows
    /// (NaN when fewer than [`ident::MIN_ROWS`] of them).
    pub r2_alpha_on_error: f64,
}

/// OLS `R²` of `y` on the columns of `x` (rows), NaN when singular.
fn r2_of(x: &[Vec<f64>], y: &[f64]) -> f64 {
    let (n, k) = (y.len(), x.first().map_or(0, |r| r.len()));
    if n <= k {
        return f64::NAN;
    }
    // Standardise the columns so `t` and the cumulative sum do not swamp
    // the normal equations.
    let cols: Vec<(f64, f64)> = (0..k)
        .map(|j| {
            let m = x.iter().map(|r| r[j]).sum::<f64>() / n as f64;
            let sd = (x.iter().map(|r| (r[j] - m).powi(2)).sum::<f64>() / n as f64).sqrt();
            (m, if sd > 0.0 { sd } else { 1.0 })
        })
        .collect();
    let flat: Vec<f64> = x
        .iter()
        .flat_map(|r| {
            r.iter()
                .zip(&cols)
                .map(|(v, (m, sd))| (v - m) / sd)
                .collect::<Vec<_>>()
        })
        .collect();
    let xm = nalgebra::DMatrix::from_row_slice(n, k, &flat);
    let ym = y.iter().sum::<f64>() / n as f64;
    let yv = nalgebra::DVector::from_iterator(n, y.iter().map(|v| v - ym));
    let sst = yv.norm_squared();
    if sst <= 0.0 {
        return f64::NAN;
    }
    let svd = xm.clone().svd(true, true);
    match svd.solve(&yv, 1e-10) {
        Ok(beta) => 1.0 - (&yv - xm * beta).norm_squared() / sst,
        Err(_) => f64::NAN,
    }
}

/// Refuses a log whose α is not independent of the error (issue 12,
/// item 8; docs/mathematics.md §6): `|corr(α_t, H_t)| >`
/// [`CLOSED_LOOP_CORR`], or α explained by the error's history beyond
/// [`CLOSED_LOOP_R2`] on the unsaturated rows (P or PI control).
///
/// Not caught here: a controller that sits at its clips. Stuck at one clip
/// (the official PI arm, 99.8% saturated), α is nearly constant and the
/// fit is refused instead ([`MIN_R2`], or g's interval holding 0). Switching
/// between the clips (relay-like), α is a sign function of the error's
/// history; a linear test on all rows did not separate that from a
/// noise-free PRBS probe (R² 0.80 for a relay log against 0.74 for the
/// probe of the CLI tests), so it was not adopted. Such a log is fitted; with
/// process noise only its fit is still consistent (α_{t−d} depends only on
/// the past, docs/mathematics.md §6), with measurement noise it is not. Returns what it
/// measured when the log passes.
pub fn check_open_loop(series: &Series) -> Result<OpenLoopCheck, TuneError> {
    let rows: Vec<(usize, f64, f64)> = series
        .entropy
        .iter()
        .zip(&series.alpha)
        .enumerate()
        .map(|(t, (&h, &a))| (t, h, a))
        .filter(|(_, h, a)| h.is_finite() && a.is_finite())
        .collect();
    let pairs: Vec<(f64, f64)> = rows.iter().map(|r| (r.2, r.1)).collect();
    let corr = ident::corr(&pairs);
    if corr.abs() > CLOSED_LOOP_CORR {
        return Err(TuneError::NotOpenLoop {
            reason: format!(
                "|corr(α_t, H_t)| = {:.3} > {CLOSED_LOOP_CORR}: α follows the error, as under P control",
                corr.abs()
            ),
        });
    }
    // The error's history: H_t and Σ_{s<t} H_s (NaN entropy counts as 0 in
    // the sum; the row itself needs H_t).
    let mut cum = Vec::with_capacity(series.entropy.len());
    let mut acc = 0.0;
    for h in &series.entropy {
        cum.push(acc);
        if h.is_finite() {
            acc += h;
        }
    }
    let amax = rows.iter().fold(0.0_f64, |m, r| m.max(r.2.abs()));
    let inner: Vec<&(usize, f64, f64)> = rows
        .iter()
        .filter(|r| r.2.abs() < amax * (1.0 - 1e-9))
        .collect();
    let r2 = if inner.len() >= ident::MIN_ROWS {
        let x: Vec<Vec<f64>> = inner
            .iter()
            .map(|r| vec![r.1, cum[r.0], r.0 as f64])
            .collect();
        let y: Vec<f64> = inner.iter().map(|r| r.2).collect();
        r2_of(&x, &y)
    } else {
        f64::NAN
    };
    if r2 > CLOSED_LOOP_R2 {
        return Err(TuneError::NotOpenLoop {
            reason: format!(
                "α_t is a function of H_t and its running sum on the unsaturated steps \
                 (R² = {r2:.4} > {CLOSED_LOOP_R2}), as under P or PI control"
            ),
        });
    }
    Ok(OpenLoopCheck {
        corr_alpha_entropy: corr,
        r2_alpha_on_error: r2,
    })
}

/// Seed of the schedule re-draws behind a randomization interval: fixed,
/// so the same log gives the same interval.
pub const RANDOMIZATION_SEED: u64 = 0x5eed;

/// What the unpaired design's interval (Newey–West in differences; no
/// twin, no PRBS drawn at random) rests on, said beside every estimate and
/// refusal resting on it (`interval_caveat`): a variance model that does
/// not know the drift's shape, whose placebo under-covers under Adam on
/// the sampled toy (docs/mathematics.md §9). The paired design cancels the
/// drift; a randomization interval does not model it.
pub const NEWEY_WEST_CAVEAT: &str = "this interval (unpaired, Newey–West in differences) is approximate: where entropy falls fast and then slower, a PRBS can correlate with the drift by chance, which its variance model does not know. On the sampled toy of docs/mathematics.md §9 it covered the gain in 195 (SGD) and 187 (Adam, --lag-decay 0.9) of 200 runs, but a placebo (true g = 0) under Adam covered 0 in only 176–182 (about 90%, the floor of a sound 95% interval), and at 100 steps it was conservative (200 of 200). Designs whose interval does not depend on the drift's shape: the probe beside a plain twin, where the drift cancels (`--twin`; Python `twin=`; best over 4 or more seeds run on one schedule), or a PRBS drawn at random (`tune probe --draw-seed N`, read with `--prbs-hold H --delay D`; Python `prbs_hold=`, `delay=`).";

/// What a paired interval whose variance comes from a model of the twins'
/// noise in time rests on (`interval_caveat`; [`ident_power::paired`] uses
/// one unless it has [`ident_power::MIN_SEED_SLOPES`] seeds on one
/// schedule): the model is off in both directions on the sampled toy
/// (docs/mathematics.md §9 and `proofs/src/ident_power_toy_tests.rs` give
/// the figures).
pub const PAIRED_FEW_SEEDS_CAVEAT: &str = "this interval (paired, fewer than 4 seeds on one schedule) takes its variance from a model of the twins' noise in time, which counts a gain that changes along the run as noise and is itself noisy. On the sampled toy of docs/mathematics.md §9 it was 21 (SGD) to 54 (Adam) times the estimate's real spread with one seed and a constant α (\"undetermined\" may then be a gain that more seeds would detect), 1.2–1.6 times with one seed on a PRBS and 1.6–1.75 with two seeds on one schedule at 300 steps, but too narrow at 100 steps (two seeds covered the gain in only 129–163 of 200 runs). From 4 seeds run on one schedule the interval comes from the seeds' own spread instead (it covered the gain in 182–195 of 200 runs there): run them, and give a probe log and a twin log that hold the same seeds, without --seed (Python: identify_log without seed).";

/// What `estimate`'s interval rests on where it is approximate (the
/// `interval_caveat` of [`PowerIdentified`]), from where its variance came
/// ([`ident_power::VarianceSource`]): [`NEWEY_WEST_CAVEAT`] for the
/// unpaired Newey–West design, [`PAIRED_FEW_SEEDS_CAVEAT`] for a paired
/// one whose variance is a model of the noise in time; `None` for the
/// seeds' own spread or a randomization interval.
pub fn interval_caveat(estimate: &ident_power::GainEstimate) -> Option<&'static str> {
    use ident_power::VarianceSource as V;
    match (estimate.design, estimate.variance) {
        (ident_power::DesignKind::Unpaired, _) => Some(NEWEY_WEST_CAVEAT),
        (ident_power::DesignKind::Paired { .. }, V::Increments | V::BetweenSeeds) => {
            Some(PAIRED_FEW_SEEDS_CAVEAT)
        }
        _ => None,
    }
}

/// An identification with power (docs/mathematics.md §9): the estimate
/// and the [`Fit`] that [`recommend`] takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerIdentified {
    pub estimate: ident_power::GainEstimate,
    /// [`ident_power::GainEstimate::to_fit`] of `estimate`.
    pub fit: Fit,
    pub open_loop: OpenLoopCheck,
    /// `(d, residual_rms)` of the delay selection (OLS in differences,
    /// [`ident::identify_delay`]); empty when the delay was given.
    pub delay_residuals: Vec<(usize, f64)>,
    /// What the interval rests on where it is approximate:
    /// [`NEWEY_WEST_CAVEAT`] for the unpaired Newey–West design,
    /// [`PAIRED_FEW_SEEDS_CAVEAT`] for a paired one from fewer than
    /// [`ident_power::MIN_SEED_SLOPES`] seeds on one schedule, else `None`.
    pub interval_caveat: Option<&'static str>,
}

/// `tune identify LOG [--twin PLAIN_LOG]` at library level: refuses a
/// closed-loop log ([`check_open_loop`]); picks the delay as [`identify`]
/// does (or takes `delay`); fits [`ident_power::paired`] when `twin` (the plain
/// arm of the same seed, α 0 or absent) is given, else
/// [`ident_power::randomized::unpaired_randomized`] when `randomized` says how the
/// probe's PRBS was drawn at random
/// (re-draws seeded with [`RANDOMIZATION_SEED`]), else
/// [`ident_power::unpaired_lagged`]; `lag` is the decay of the unpaired
/// designs' geometric lag of α (0: `α_{t−d}` itself; a twin refuses any
/// other, the paired slope being on cumulative α already);
/// (a randomization interval needs a fixed `delay`: one selected on the
/// same log depends on the schedule, [`TuneError::DelayNeeded`]); then
/// refuses, with the detectable g in the message, a fit whose 95%
/// interval for g does not lie above 0 or has no finite upper end ([`TuneError::NotIdentified`]:
/// `"no authority beyond the drift"` when the detectable g is below `|b|`
/// and the estimate is not above it, else `"undetermined"`) or whose
/// `R²` is below [`MIN_R2`] ([`TuneError::ExplainsNothing`]).
pub fn identify_with_power(
    series: &Series,
    twin: Option<&Series>,
    delay: Option<usize>,
    randomized: Option<&ident_power::randomized::PrbsDraw>,
    lag: f64,
) -> Result<PowerIdentified, TuneError> {
    if twin.is_some() {
        check_twin_design(randomized.is_some(), lag)?;
    }
    if randomized.is_some() && delay.is_none() {
        return Err(TuneError::DelayNeeded);
    }
    if let Some(plain) = twin {
        return identify_paired_seeds(&[(series, plain)], delay);
    }
    let open_loop = check_open_loop(series)?;
    let (d, delay_residuals) = select_delay(series, delay)?;
    let estimate = match randomized {
        Some(dr) => ident_power::randomized::unpaired_randomized(
            &series.entropy,
            &series.alpha,
            d,
            lag,
            dr,
            RANDOMIZATION_SEED,
        )?,
        None => ident_power::unpaired_lagged(&series.entropy, &series.alpha, d, lag)?,
    };
    judge(estimate, open_loop, delay_residuals)
}

/// What the paired design refuses beside a twin: a PRBS design (for the
/// unpaired estimator) or a lag decay.
pub fn check_twin_design(prbs: bool, lag: f64) -> Result<(), TuneError> {
    if prbs {
        return Err(TuneError::BadTwin(
            "a PRBS design is for the unpaired estimator; the paired one (with a twin) needs no model of the schedule"
                .into(),
        ));
    }
    if lag != 0.0 {
        return Err(TuneError::BadTwin(
            "a lag decay is for the unpaired estimators; the paired one (with a twin) regresses on cumulative α, which a lag does not change in the long run"
                .into(),
        ));
    }
    Ok(())
}

/// The delay given, or selected on `series` ([`ident::identify_delay`])
/// with the residuals of every candidate.
fn select_delay(
    series: &Series,
    delay: Option<usize>,
) -> Result<(usize, Vec<(usize, f64)>), TuneError> {
    Ok(match delay {
        Some(d) => (d, Vec::new()),
        None => {
            let (fit, r) = ident::identify_delay(&series.entropy, &series.alpha, MAX_DELAY)?;
            (fit.d, r)
        }
    })
}

/// The paired design over one or more seeds: `pairs` holds each seed's
/// probe and its plain twin. Every probe must be open-loop
/// ([`check_open_loop`]; the first one's check is returned), every twin as
/// long as its probe with α 0; the delay is given or selected on the first
/// probe; the slope is pooled over the seeds ([`ident_power::paired`]:
/// from [`ident_power::MIN_SEED_SLOPES`] seeds on one schedule its variance
/// is the seeds' own spread, else a model of the noise in time, and then
/// [`PAIRED_FEW_SEEDS_CAVEAT`] goes with it). Refusals as
/// [`identify_with_power`].
pub fn identify_paired_seeds(
    pairs: &[(&Series, &Series)],
    delay: Option<usize>,
) -> Result<PowerIdentified, TuneError> {
    let Some((first, _)) = pairs.first() else {
        return Err(TuneError::BadTwin("no probe and twin to pair".into()));
    };
    let mut open_loop = None;
    for (probe, plain) in pairs {
        let check = check_open_loop(probe)?;
        open_loop.get_or_insert(check);
        if plain.entropy.len() != probe.entropy.len() {
            return Err(TuneError::BadTwin(format!(
                "{} steps where the probe has {}",
                plain.entropy.len(),
                probe.entropy.len()
            )));
        }
        if plain.alpha.iter().any(|a| a.is_finite() && *a != 0.0) {
            return Err(TuneError::BadTwin(
                "its α is not 0: a plain twin runs without the entropy term".into(),
            ));
        }
    }
    let (d, delay_residuals) = select_delay(first, delay)?;
    let twins: Vec<ident_power::Twin> = pairs
        .iter()
        .map(|(probe, plain)| ident_power::Twin {
            probe: &probe.entropy,
            plain: &plain.entropy,
            alpha: &probe.alpha,
        })
        .collect();
    let estimate = ident_power::paired(&twins, d)?;
    let open_loop = open_loop.expect("pairs is not empty");
    judge(estimate, open_loop, delay_residuals)
}

/// Each seed of a probe log that holds one run over several seeds
/// ([`seeds_of_one_run`], after the `arm` filter) read beside the same seed
/// of the twin log, in seed order; `None` when the probe log is not such a
/// log (then the caller reads one run as before). The twin log is read
/// without `arm` (it is its own run). A seed missing from the twin, or a
/// twin log that has no seeds (a CSV), is [`TuneError::BadTwin`] naming
/// the seed.
pub fn pair_seeds(
    probe_text: &str,
    twin_text: &str,
    cols: &Columns,
    arm: Option<&str>,
) -> Result<Option<Vec<(Series, Series)>>, TuneError> {
    let Some(seeds) = seeds_of_one_run(probe_text, arm) else {
        return Ok(None);
    };
    if !twin_text.trim_start().starts_with('{') {
        return Err(TuneError::BadTwin(format!(
            "the probe log holds seeds {seeds:?} to pair, the twin log (a CSV) none"
        )));
    }
    seeds
        .iter()
        .map(|&s| {
            let probe = parse_log(probe_text, cols, arm, Some(s))?;
            let plain = parse_twin_log(twin_text, cols, Some(s))
                .map_err(|e| TuneError::BadTwin(format!("seed {s} of the probe log: {e}")))?;
            Ok((probe, plain))
        })
        .collect::<Result<Vec<_>, TuneError>>()
        .map(Some)
}

/// The refusals every design shares, then the identification, with the
/// caveat of its interval ([`interval_caveat`]).
fn judge(
    estimate: ident_power::GainEstimate,
    open_loop: OpenLoopCheck,
    delay_residuals: Vec<(usize, f64)>,
) -> Result<PowerIdentified, TuneError> {
    let caveat = interval_caveat(&estimate);
    // NaN-safe: an interval whose lower end is not a positive number, or
    // whose upper end is not finite (a randomization interval the design
    // cannot bound), identifies no gain a loop can be designed on.
    if estimate.g_ci.0.is_nan() || estimate.g_ci.0 <= 0.0 || !estimate.g_ci.1.is_finite() {
        let b_abs = estimate.b.abs();
        // An interval above 0 whose upper end is unbounded shows authority
        // of unknown size: undetermined, never "no authority".
        let none = !(estimate.g_ci.0 > 0.0) && estimate.g_detectable < b_abs && estimate.g <= b_abs;
        return Err(TuneError::NotIdentified {
            caveat,
            verdict: if none {
                "no authority beyond the drift"
            } else {
                "undetermined"
            },
            g: estimate.g,
            lo: estimate.g_ci.0,
            hi: estimate.g_ci.1,
            detectable: estimate.g_detectable,
            b_abs,
        });
    }
    if estimate.r2 < MIN_R2 {
        return Err(TuneError::ExplainsNothing {
            r2: estimate.r2,
            threshold: MIN_R2,
        });
    }
    Ok(PowerIdentified {
        fit: estimate.to_fit(),
        estimate,
        open_loop,
        delay_residuals,
        interval_caveat: caveat,
    })
}

/// The open-loop model `Ĥ_{t+1} = Ĥ_t + b − g·α_{t−d}` from `Ĥ_0 = H_0`,
/// driven by the logged α (NaN α and `t < d` count as 0), for plotting the
/// fit over the log.
pub fn model_path(series: &Series, fit: &Fit) -> Vec<f64> {
    let n = series.entropy.len();
    let mut h = Vec::with_capacity(n);
    let mut cur = series
        .entropy
        .iter()
        .copied()
        .find(|x| x.is_finite())
        .unwrap_or(0.0);
    for t in 0..n {
        h.push(cur);
        let a = if t >= fit.d {
            series.alpha[t - fit.d]
        } else {
            0.0
        };
        cur += fit.b - fit.g * if a.is_finite() { a } else { 0.0 };
    }
    h
}
