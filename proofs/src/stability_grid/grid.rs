//! Compute step of `linear-model`: the grid of gains per delay and
//! controller, each point simulated (and re-run clipped when predicted
//! unstable).

use super::model::{
    classify, gain_for_radius, simulate_point, Form, Plant, Point, SimOutcome, BAND, E0,
};
use crate::error::ProofsError;
use crate::ident::Fit;
use crate::linear::spectral_radius;
use crate::verdict::Mode;

/// Grid sizes of a mode: delays, rays `r = Ki/Kp`, radii per ray, steps.
pub(super) struct Sizes {
    pub(super) delays: &'static [usize],
    pub(super) rays: &'static [f64],
    pub(super) radii: usize,
    pub(super) steps: usize,
}

pub(super) fn sizes(mode: Mode) -> Sizes {
    match mode {
        // 4 radii: 0.8, 0.933, 1.067, 1.2 (none inside the ±0.02 band)
        Mode::Quick => Sizes {
            delays: &[0, 2],
            rays: &[0.05, 0.3],
            radii: 4,
            steps: 240,
        },
        // 10 radii: step 0.044, nearest to 1 are 0.978 and 1.022
        Mode::Full => Sizes {
            delays: &[0, 1, 2, 4],
            rays: &[0.02, 0.1, 0.3],
            radii: 10,
            steps: 600,
        },
    }
}

/// A simulated grid point.
#[derive(Debug, Clone, Copy)]
pub struct GridResult {
    pub point: Point,
    pub sim: SimOutcome,
    /// Re-run with `alpha_max = 1` (predicted-unstable points only).
    pub clipped: Option<SimOutcome>,
    /// The state-dependent loop `e_{t+1} = e_t + b(H) − g(H)·α_{t−d}`
    /// ([`crate::ident_power::StatePlant::simulate`], windowed gains,
    /// unclipped) at the same gains, classified by the same rule.
    pub state: SimOutcome,
    /// Predicted ρ at the smallest and the largest windowed gain
    /// ([`Plant::g_range`]) with the same `Kp`, `Ki`.
    pub rho_range: (f64, f64),
}

impl GridResult {
    /// Too close to ρ = 1 to call ([`BAND`]).
    pub fn in_band(&self) -> bool {
        (self.point.rho - 1.0).abs() < BAND
    }
    /// The simulation agrees with the predicted stability.
    pub fn agrees(&self) -> bool {
        (self.point.rho >= 1.0) == self.sim.unstable
    }
    /// The state-dependent loop agrees with the simulation.
    pub fn state_agrees(&self) -> bool {
        self.state.unstable == self.sim.unstable
    }
    /// The predicted stability changes within the gain's range along the
    /// probe: the constant-gain prediction cannot call this point.
    pub fn flips_in_gain_range(&self) -> bool {
        (self.rho_range.0 >= 1.0) != (self.rho_range.1 >= 1.0)
            || (self.rho_range.0 >= 1.0) != (self.point.rho >= 1.0)
    }
    /// The alternative rule ("first departure"): the run counts as unstable
    /// as soon as its error leaves the linear range (≥ [`super::ESCAPE`] ×
    /// the error scale at any step), whatever it does afterwards.
    pub fn agrees_first_departure(&self) -> bool {
        let departed = self.sim.unstable || self.sim.first_escape.is_some();
        (self.point.rho >= 1.0) == departed
    }
}

/// The error a stable run may keep: the larger of [`E0`] and P's predicted
/// offset `|b|/(g·Kp)` (docs/mathematics.md §6).
pub fn error_scale(p: &Point, fit: &Fit) -> f64 {
    let offset = if p.form == Form::P {
        (fit.b / (fit.g * p.kp)).abs()
    } else {
        0.0
    };
    E0.max(offset)
}

/// Builds and simulates the grid for the identified plant.
pub fn run_grid(mode: Mode, plant: &Plant) -> Result<Vec<GridResult>, ProofsError> {
    use rayon::prelude::*;
    let sz = sizes(mode);
    let g = plant.fit.g;
    if g.is_nan() || g <= 0.0 {
        return Err(ProofsError::Other(format!(
            "linear-model: identified gain g = {g} is not positive; the grid needs g > 0"
        )));
    }
    let radii: Vec<f64> = (0..sz.radii)
        .map(|i| 0.8 + 0.4 * i as f64 / (sz.radii - 1) as f64)
        .collect();
    let mut points = Vec::new();
    for &d in sz.delays {
        for form in [Form::P, Form::Before, Form::After] {
            let rays: Vec<f64> = if form == Form::P {
                vec![0.0]
            } else {
                sz.rays.to_vec()
            };
            for &r in &rays {
                for &rho in &radii {
                    if let Some(s) = gain_for_radius(d, form, r, rho) {
                        points.push(Point {
                            d,
                            form,
                            kp: s / g,
                            ki: r * s / g,
                            target: plant.h0 - E0,
                            steps: sz.steps,
                            alpha_max: f64::INFINITY,
                            rho: spectral_radius(g, d, s / g, r * s / g, form.integral()),
                        });
                    }
                }
            }
        }
    }
    points
        .par_iter()
        .map(|p| {
            let scale = error_scale(p, &plant.fit);
            let sim = simulate_point(p, plant.ln_k, scale)?;
            let clipped = if p.rho >= 1.0 {
                Some(simulate_point(
                    &Point {
                        alpha_max: 1.0,
                        ..*p
                    },
                    plant.ln_k,
                    scale,
                )?)
            } else {
                None
            };
            let (kp, ki) = match p.form {
                Form::P => (p.kp, 0.0),
                _ => (p.kp, p.ki),
            };
            let form = p.form.integral();
            let series = plant.state.simulate(
                p.target,
                E0,
                (kp, ki, form),
                p.d,
                f64::INFINITY,
                None,
                p.steps,
            );
            let records: Vec<entropic_sim::metrics::Record> = series
                .iter()
                .map(|&(e, a)| entropic_sim::metrics::Record {
                    entropy: p.target + e,
                    alpha: Some(a),
                    ..Default::default()
                })
                .collect();
            let state = classify(&records, false, p, plant.ln_k, scale);
            let (glo, ghi) = plant.g_range;
            let rho_range = (
                spectral_radius(glo, p.d, kp, ki, form),
                spectral_radius(ghi, p.d, kp, ki, form),
            );
            Ok(GridResult {
                point: *p,
                sim,
                clipped,
                state,
                rho_range,
            })
        })
        .collect()
}
