//! [`Controller`]: one step of the configured entropy method (docs/mathematics.md §3, §7;
//! docs/peers.md for the peers). A step function: it reads a [`Measurement`],
//! updates its state and returns the [`Directive`] for the coming update(s).

use super::{
    clip, probe_alpha, ControlConfig, Controller, ControllerState, Directive, IntegralForm,
    Measure, Measurement, Method, Moment,
};

impl Controller {
    /// The one cadence both trainers follow: with `measure = "rollout"` the
    /// controller steps once per rollout batch ([`Moment::RolloutBatch`]),
    /// with `measure = "current"` once per optimizer step
    /// ([`Moment::OptimizerStep`]), so `ppo_epochs × minibatches` times per
    /// batch. At the configured moment it takes the measurement (computed
    /// only then) and returns the new directive; at the other, `None`.
    pub fn offer(&mut self, at: Moment, m: impl FnOnce() -> Measurement) -> Option<Directive> {
        let mine = match self.cfg.measure {
            Measure::Rollout => Moment::RolloutBatch,
            Measure::Current => Moment::OptimizerStep,
        };
        (at == mine).then(|| self.update(m()))
    }

    /// The entropy a step's record logs as `entropy`: the one the controller
    /// saw, i.e. the batch's behaviour entropy (`rollout`) or the last
    /// optimizer step's (`current`).
    pub fn seen_entropy(&self, rollout_batch: f64, last_optimizer_step: f64) -> f64 {
        match self.cfg.measure {
            Measure::Rollout => rollout_batch,
            Measure::Current => last_optimizer_step,
        }
    }
}

impl Controller {
    /// A controller in its initial state: integral 0, step 0; the peer
    /// coefficient at `adaptive_c0` (adaptive_entropy) or `entropy_coef`
    /// (entropy_bonus). For adaptive_entropy `below_target` starts `true`,
    /// because Skywork-OR1's `EntController` starts with
    /// `entropy_loss_enabled = 1`: the first update gets the bonus `c₀`.
    /// Does not validate `cfg` (call [`ControlConfig::validate`] first).
    pub fn new(cfg: ControlConfig) -> Controller {
        let (coef, below_target) = match cfg.method {
            Method::AdaptiveEntropy => (cfg.adaptive_c0, true),
            Method::EntropyBonus => (cfg.entropy_coef, false),
            _ => (0.0, false),
        };
        let state = ControllerState {
            coef,
            below_target,
            ..ControllerState::default()
        };
        Controller { cfg, state }
    }

    /// Whether `alpha` sits at the output clip: `|α| ≥ alpha_max`; always
    /// false when `alpha_max = inf` (no clip).
    pub fn alpha_saturated(&self, alpha: f64) -> bool {
        self.cfg.alpha_max.is_finite() && alpha.abs() >= self.cfg.alpha_max
    }

    /// `clip(x, −alpha_max, alpha_max)`; the identity when `alpha_max = inf`.
    fn clip_alpha(&self, x: f64) -> f64 {
        clip(x, -self.cfg.alpha_max, self.cfg.alpha_max)
    }

    /// One controller step. Returns the directive for the coming update(s)
    /// and stores it in `state.last`; `state.steps` counts the calls.
    ///
    /// * **entropic** (docs/mathematics.md §3, §6), `e = H − target`, H = `m.entropy`:
    ///   - form `before` (authors'): `α = clip(Kp·e + Ki·I)` with I from the
    ///     previous step, then `I ← I + e`;
    ///   - form `after`: `I ← I + e`, then `α = clip(Kp·e + Ki·I)`.
    ///   - `anti_windup` (ours, conditional integration): the step's `e` is
    ///     *not* added to I when the clipped α is saturated
    ///     ([`Self::alpha_saturated`]) and `e·α > 0` (the error would push
    ///     further into the clip). For `before` the test uses this step's α.
    ///     For `after` it uses the trial `α' = clip(Kp·e + Ki·(I + e))`; if
    ///     that is saturated with `e·α' > 0`, I is kept and the output is
    ///     `clip(Kp·e + Ki·I)` with the kept I.
    ///   - `alpha_max = inf`: no clip, and so anti-windup never acts.
    /// * **probe** (docs/mathematics.md §7): `α = clip(a_k)` where `a_k` is the schedule
    ///   value at controller step k = `state.steps` (0-based; pairs
    ///   `(steps, alpha)` played in order, the last alpha held after the
    ///   end; 0 for an empty schedule). e and `I ← I + e` are recorded as
    ///   usual (no anti-windup) so logs compare with entropic runs.
    /// * **entropy_bonus**: `entropy_coef = cfg.entropy_coef`.
    /// * **adaptive_entropy** (Skywork-OR1 `EntController`, docs/peers.md §3): the
    ///   input x is `m.sampled_nll` when finite (Skywork's `−mean logπ_old`
    ///   of the sampled tokens), else `m.entropy`. In order:
    ///   1. the bonus for this step's update is `c` if `below_target` (set by
    ///      the previous measurement; `true` initially, see [`Self::new`]),
    ///      else 0;
    ///   2. `c ← clip(c + Δ, c_min, c_max)` if `x < target`, else
    ///      `clip(c − Δ, c_min, c_max)`;
    ///   3. `below_target ← x < target` (strict, as theirs).
    ///
    ///   This is what Skywork-OR1's trainer does (read from
    ///   `verl/trainer/ppo/core_algos.py` `EntController.update` and
    ///   `ray_trainer.py`): the actor update of step t uses the coefficient
    ///   and enable flag left by step t−1, and the controller then updates
    ///   on step t's batch metric `actor/entropy_loss` = `−mean old_log_prob`,
    ///   measured on that batch before the update.
    /// * **none, clip_cov, kl_cov, clip_higher**: no state; α = 0, coef = 0.
    ///
    /// Every method reports `error = x − target` (x = the input above) and
    /// `integral` = I after the step (0 for methods without one).
    /// A non-finite measurement propagates into the directive and the state
    /// (the caller stops the run with `SimError::NonFinite`); nothing panics.
    pub fn update(&mut self, m: Measurement) -> Directive {
        let cfg = &self.cfg;
        let e = m.entropy - cfg.target;
        let d = match cfg.method {
            Method::Entropic => {
                let law_e = if cfg.scale_free { e / cfg.target } else { e };
                let (alpha, integral) = self.pi_step(law_e);
                self.state.integral = integral;
                Directive {
                    alpha,
                    entropy_coef: 0.0,
                    error: e,
                    integral,
                }
            }
            Method::Probe => {
                let alpha = self.clip_alpha(probe_alpha(&cfg.probe, self.state.steps));
                self.state.integral += e;
                Directive {
                    alpha,
                    entropy_coef: 0.0,
                    error: e,
                    integral: self.state.integral,
                }
            }
            Method::EntropyBonus => {
                self.state.coef = cfg.entropy_coef;
                Directive {
                    alpha: 0.0,
                    entropy_coef: cfg.entropy_coef,
                    error: e,
                    integral: 0.0,
                }
            }
            Method::AdaptiveEntropy => {
                let x = if m.sampled_nll.is_finite() {
                    m.sampled_nll
                } else {
                    m.entropy
                };
                let applied = if self.state.below_target {
                    self.state.coef
                } else {
                    0.0
                };
                let below = x < cfg.target;
                let step = if below {
                    cfg.adaptive_delta
                } else {
                    -cfg.adaptive_delta
                };
                self.state.coef = clip(
                    self.state.coef + step,
                    cfg.adaptive_c_min,
                    cfg.adaptive_c_max,
                );
                self.state.below_target = below;
                Directive {
                    alpha: 0.0,
                    entropy_coef: applied,
                    error: x - cfg.target,
                    integral: 0.0,
                }
            }
            Method::None | Method::ClipCov | Method::KlCov | Method::ClipHigher => Directive {
                alpha: 0.0,
                entropy_coef: 0.0,
                error: e,
                integral: 0.0,
            },
        };
        self.state.steps += 1;
        self.state.last = d;
        d
    }

    /// The PI law of [`Self::update`] for error `e`: returns (α, new I).
    fn pi_step(&self, e: f64) -> (f64, f64) {
        let (kp, ki, i_prev) = (self.cfg.kp, self.cfg.ki, self.state.integral);
        let winds_up =
            |alpha: f64| self.cfg.anti_windup && self.alpha_saturated(alpha) && e * alpha > 0.0;
        match self.cfg.integral_form {
            IntegralForm::Before => {
                let alpha = self.clip_alpha(kp * e + ki * i_prev);
                let integral = if winds_up(alpha) { i_prev } else { i_prev + e };
                (alpha, integral)
            }
            IntegralForm::After => {
                let trial = self.clip_alpha(kp * e + ki * (i_prev + e));
                if winds_up(trial) {
                    (self.clip_alpha(kp * e + ki * i_prev), i_prev)
                } else {
                    (trial, i_prev + e)
                }
            }
        }
    }
}
