//! GRPO on the softmax bandit: rollouts of G samples per prompt at
//! temperature T, group advantages ([`crate::advantage`], docs/mathematics.md §2), the shared token loss of
//! [`crate::control::loss`] with the entropy method's weights, analytic
//! gradients through the policy, SGD or dense Adam, and the two staleness
//! models of docs/mathematics.md §7 (`ppo_epochs × minibatches`, and `lag = d`).
//!
//! [`Trainer::step`] is a step function: one rollout batch consumed, one
//! [`Record`] returned; it prints nothing.
//!
//! (Over 600 lines: the trainer's rollout, forward, analytic backward and
//! step share the policy's flat buffers and the hot loop's locals; split
//! apart they would pass a dozen slices between files for no reader's gain.)

use crate::advantage::{group_advantages, AdvStd};
use crate::bandit::{bos, context_logit_grad, BanditConfig, Policy, PolicyKind, Sampling};
use crate::control::loss::{token_loss, TokenInputs, TokenLoss};
use crate::control::{ControlConfig, Controller, Directive, Measurement, Moment};
use crate::entropy::{entropy_from_lse, quadrant, softmax_into, ProbLine, Quadrant};
use crate::error::SimError;
use crate::keyed::Key;
use crate::metrics::Record;
use crate::optim::{Optimizer, OptimizerKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Which samples train (Corollary 4.1's positive-only / negative-only updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TrainOn {
    #[default]
    All,
    /// Only tokens with A > 0 carry gradient.
    Positive,
    /// Only tokens with A < 0 carry gradient.
    Negative,
}

rl_struct! {
    /// The `[grpo]` table of a scenario: the shared RL keys of
    /// [`crate::rl`] and the toy's own (`optimizer`, `train_on`, `mask`,
    /// `mask_tau`).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    pub struct GrpoConfig {
        head {}
        after_temperature {}
        after_lr {
            pub optimizer: OptimizerKind,
        }
        dual_clip_attrs {}
        tail {
            pub train_on: TrainOn,
            /// Quadrants whose tokens are masked out of the loss (zero advantage;
            /// they stay in the token-mean denominator): any of `p_up`, `p_down`,
            /// `n_up`, `n_down`.
            pub mask: Vec<String>,
            /// Line between high and low probability for `mask`: a number τ, or
            /// negative for `exp(−H)`.
            pub mask_tau: f64,
        }
    }
}

impl Default for GrpoConfig {
    fn default() -> Self {
        GrpoConfig {
            group_size: 8,
            batch_prompts: 32,
            temperature: 1.0,
            lr: 0.05,
            optimizer: OptimizerKind::Adam,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_eps: 1e-8,
            adv_std: AdvStd::Unbiased,
            adv_eps: 1e-6,
            eps_low: 0.2,
            eps_high: 0.2,
            dual_clip: 3.0,
            kl_coef: 0.0,
            ppo_epochs: 1,
            minibatches: 1,
            lag: 0,
            grad_clip: 0.0,
            train_on: TrainOn::All,
            mask: Vec::new(),
            mask_tau: 0.95,
        }
    }
}

/// A rollout batch, token-level (struct of arrays).
#[derive(Debug, Clone, Default)]
pub struct Rollout {
    pub prompt: Vec<u32>,
    pub pos: Vec<u16>,
    pub prev: Vec<u16>,
    pub act: Vec<u16>,
    pub logp_old: Vec<f64>,
    pub ent_old: Vec<f64>,
    pub adv: Vec<f64>,
    /// Token weights (exact sampling only; empty = all 1).
    pub weight: Vec<f64>,
    /// Token offsets of each prompt group (B + 1 entries).
    pub group_start: Vec<usize>,
    /// Mean reward of the batch.
    pub reward_mean: f64,
    /// Optimizer step count when the batch was sampled. While the optimizer
    /// has not stepped since, the forward pass reuses `probs`, `logp_old` and
    /// `ent_old` (the same numbers it would recompute). Code that changes the
    /// parameters outside the optimizer must set this to `u64::MAX`.
    pub version: u64,
    /// Behaviour probabilities per context, in token order: one context per
    /// group for the tabular and linear policies (B × K), one per (group,
    /// position) for the per-position and factored ones (B × L × K); empty
    /// in sequence mode.
    pub probs: Vec<f64>,
}

impl Rollout {
    fn weighted_mean(&self, xs: &[f64]) -> f64 {
        if self.weight.is_empty() {
            xs.iter().sum::<f64>() / xs.len().max(1) as f64
        } else {
            let w: f64 = self.weight.iter().sum();
            xs.iter().zip(&self.weight).map(|(x, w)| x * w).sum::<f64>() / w
        }
    }

    /// Share of the batch's groups whose advantages are all zero (every
    /// response got the same reward; under `sampling = "exact"`, a prompt
    /// whose pass rate is 0 or 1), before the training-data masks: the
    /// groups the policy-gradient term, and the EntroPIC term proportional
    /// to |A|, cannot act on. 0 for an empty batch.
    pub fn zero_adv_frac(&self) -> f64 {
        let groups = self.group_start.len().saturating_sub(1);
        if groups == 0 {
            return 0.0;
        }
        let zero = self
            .group_start
            .windows(2)
            .filter(|w| self.adv[w[0]..w[1]].iter().all(|&a| a == 0.0))
            .count();
        zero as f64 / groups as f64
    }
}

/// One seed's GRPO run on one bandit instance.
#[derive(Debug, Clone)]
pub struct Trainer {
    pub grpo: GrpoConfig,
    pub bandit: BanditConfig,
    pub policy: Policy,
    /// Parameters of the reference policy (KL), the initial ones.
    pub reference: Option<Policy>,
    pub opt: Optimizer,
    pub ctl: Controller,
    /// The stream of the loss's own draws (clip_cov's token choice). The
    /// rollout does not draw from it: see [`Trainer::rollout`].
    pub rng: ChaCha8Rng,
    /// Rollout batches sampled so far: the `step` coordinate of the keyed
    /// draws ([`crate::keyed`]). Equal to the training step when `lag = 0`;
    /// with a lag the first `lag + 1` batches are sampled at step 0.
    pub rollouts: u64,
    pub queue: VecDeque<Rollout>,
    pub step: usize,
    pub seed: u64,
    pub arm: String,
    directive: Directive,
    /// Parameter gradient of the last `loss_grad`.
    pub grad: Vec<f64>,
    /// Tabular and per-position policies: the rows of K parameters (a
    /// prompt's, a (prompt, position)'s; `Policy::grad_row`) the last
    /// `loss_grad` wrote, in the order written (the only non-zero rows of
    /// `grad`, so the next call zeroes just these and sums the norm over
    /// them; see [`Trainer::loss_grad`]).
    touched: Vec<usize>,
    /// The last consumed rollout batch, whose buffers the next
    /// [`Trainer::rollout`] reuses.
    spare: Option<Rollout>,
    mask: Vec<Quadrant>,
    /// Buffers of the factored policy's batched products, reused across
    /// steps (see [`Factored`]).
    fac: Factored,
}

/// Scratch of the factored policy's matrix products: the batch's logits in
/// the rollout, the runs' logit gradients in the backward pass, and the
/// gathered hidden vectors (and their gradients).
#[derive(Debug, Clone, Default)]
struct Factored {
    logits: Vec<f64>,
    dz: Vec<f64>,
    ctxs: Vec<usize>,
    h: Vec<f64>,
    gh: Vec<f64>,
}

/// The forward pass of one optimizer step (see [`Trainer::forward`]).
#[derive(Debug, Clone, Default)]
pub struct Forward {
    pub logp: Vec<f64>,
    pub ent: Vec<f64>,
    pub logp_ref: Vec<f64>,
    /// Advantages after the training-data masks.
    pub adv: Vec<f64>,
    /// Start index of each run of tokens sharing a context, then `n`.
    pub runs: Vec<usize>,
    /// Probabilities of each run's context (runs × K), when computed here;
    /// empty when they are the batch's own (see [`Forward::run_probs`]).
    pub probs: Vec<f64>,
    /// Where run 0's context sits in the batch's `probs` when the pass
    /// reused them (no copy).
    pub cached_from: Option<usize>,
}

impl Forward {
    /// The probabilities of run `r`'s context.
    pub fn run_probs<'a>(&'a self, batch: &'a Rollout, r: usize, k: usize) -> &'a [f64] {
        match self.cached_from {
            Some(c0) => &batch.probs[(c0 + r) * k..(c0 + r + 1) * k],
            None => &self.probs[r * k..(r + 1) * k],
        }
    }
}

/// What one optimizer step measured.
#[derive(Debug, Clone, Copy, Default)]
struct UpdateStats {
    entropy: f64,
    hp_frac: f64,
    hp_entropy_share: f64,
    tail_mass_hp: f64,
    clip_frac: f64,
    kl: f64,
    grad_norm: f64,
}

impl Trainer {
    /// A trainer for `seed`: the instance comes from `bandit.instance_seed` or
    /// the seed (stream 0), the training randomness from the seed (stream 1),
    /// so every arm of a scenario sees the same instance for a seed.
    pub fn new(
        bandit: &BanditConfig,
        grpo: &GrpoConfig,
        control: &ControlConfig,
        seed: u64,
        arm: &str,
    ) -> Trainer {
        let mut irng = ChaCha8Rng::seed_from_u64(bandit.instance_seed.unwrap_or(seed));
        let policy = Policy::new(bandit, &mut irng);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let n = policy.params.len();
        let opt = Optimizer::new(
            grpo.optimizer,
            n,
            grpo.lr,
            grpo.adam_beta1,
            grpo.adam_beta2,
            grpo.adam_eps,
        );
        let reference = (grpo.kl_coef > 0.0).then(|| policy.clone());
        let mask = grpo
            .mask
            .iter()
            .filter_map(|s| match s.as_str() {
                "p_up" => Some(Quadrant::PUp),
                "p_down" => Some(Quadrant::PDown),
                "n_up" => Some(Quadrant::NUp),
                "n_down" => Some(Quadrant::NDown),
                _ => None,
            })
            .collect();
        Trainer {
            grpo: grpo.clone(),
            bandit: bandit.clone(),
            policy,
            reference,
            opt,
            ctl: Controller::new(control.clone()),
            rng,
            rollouts: 0,
            queue: VecDeque::new(),
            step: 0,
            seed,
            arm: arm.to_string(),
            directive: Directive::default(),
            grad: vec![0.0; n],
            touched: Vec::new(),
            spare: None,
            mask,
            fac: Factored::default(),
        }
    }

    fn nonfinite(&self, quantity: &str) -> SimError {
        SimError::NonFinite {
            quantity: quantity.into(),
            step: self.step,
            seed: self.seed,
            arm: self.arm.clone(),
        }
    }

    /// Sample a rollout batch from the current policy.
    ///
    /// Every draw is keyed ([`crate::keyed`]), so twins (arms differing only
    /// in α) draw the same numbers wherever their policies agree, whatever
    /// either arm drew before (e.g. clip_cov's draws from `self.rng` in the
    /// loss):
    /// * the action of batch slot j, sample i, position l of rollout batch r
    ///   uses `u(seed, r, j, i, l)`, by inverse CDF. The key is the prompt's
    ///   *slot* in the batch, not its id, so a prompt that appeared twice in
    ///   one batch would not get identical draws (distinct prompts per batch
    ///   today; the key does not rely on it);
    /// * the batch's prompts (B of M, partial Fisher–Yates) come from a
    ///   ChaCha8 stream seeded by the keyed hash of (seed, r), so they depend
    ///   on nothing the policy or α changes. (The former shared stream also
    ///   had a policy-free draw count in the rollout, but the loss's
    ///   clip_cov draws shared it and moved later batches' prompts.)
    pub fn rollout(&mut self) -> Rollout {
        let (m, k, b, g) = (
            self.policy.m,
            self.policy.k,
            self.grpo.batch_prompts.min(self.policy.m),
            self.grpo.group_size,
        );
        let t = self.grpo.temperature;
        let batch_key = Key::new(self.seed).child(self.rollouts);
        // B distinct prompts (partial Fisher-Yates), sorted for memory locality.
        let mut prompts: Vec<u32> = if b == m {
            (0..m as u32).collect()
        } else {
            let mut prng = ChaCha8Rng::seed_from_u64(
                Key::new(self.seed ^ PROMPT_DOMAIN)
                    .child(self.rollouts)
                    .value(),
            );
            let mut idx: Vec<u32> = (0..m as u32).collect();
            for i in 0..b {
                let j = prng.random_range(i..m);
                idx.swap(i, j);
            }
            idx.truncate(b);
            idx.sort_unstable();
            idx
        };
        prompts.shrink_to_fit();
        let exact = self.bandit.sampling == Sampling::Exact;
        let l = self.policy.l;
        let per_group = if exact { k } else { g * l };
        let n = b * per_group;
        // the buffers of the last consumed batch, emptied (no allocation per step)
        let mut r = self.spare.take().unwrap_or_default();
        for v in [
            &mut r.logp_old,
            &mut r.ent_old,
            &mut r.adv,
            &mut r.weight,
            &mut r.probs,
        ] {
            v.clear();
        }
        for v in [&mut r.pos, &mut r.prev, &mut r.act] {
            v.clear();
        }
        r.prompt.clear();
        r.group_start.clear();
        for v in [&mut r.logp_old, &mut r.ent_old, &mut r.adv] {
            v.reserve(n);
        }
        for v in [&mut r.pos, &mut r.prev, &mut r.act] {
            v.reserve(n);
        }
        r.prompt.reserve(n);
        r.group_start.reserve(b + 1);
        let positional = self.policy.kind.is_positional();
        r.probs
            .reserve(if l == 1 || positional { b * l * k } else { 0 });
        r.reward_mean = 0.0;
        r.version = self.opt.step;
        let mut z = vec![0.0; k];
        let mut p = vec![0.0; k];
        let mut rewards = vec![0.0; g];
        let mut adv = vec![0.0; g];
        let mut reward_sum = 0.0;
        let mut cdf = vec![0.0; k];
        let mut ok_s = vec![true; g];
        self.rollouts += 1;
        // the factored policy: every context of the batch in one product
        let factored = self.policy.kind == PolicyKind::Factored && l > 1 && !exact;
        if factored {
            self.fac.ctxs.clear();
            for &mp in &prompts {
                let c0 = mp as usize * l;
                self.fac.ctxs.extend(c0..c0 + l);
            }
            self.fac.logits.resize(self.fac.ctxs.len() * k, 0.0);
            self.policy
                .logits_many(&self.fac.ctxs, &mut self.fac.h, &mut self.fac.logits);
        }
        for (slot, &mp) in prompts.iter().enumerate() {
            let mp_u = mp as usize;
            let slot_key = batch_key.child(slot as u64);
            r.group_start.push(r.prompt.len());
            if exact {
                self.policy.logits(mp_u, 0, 0, &mut z);
                let lse = softmax_into(&z, t, &mut p);
                let h = entropy_from_lse(&p, &z, t, lse);
                r.probs.extend_from_slice(&p);
                let pc: f64 = (0..k)
                    .filter(|&a| self.policy.accepted(mp_u, 0, a))
                    .map(|a| p[a])
                    .sum();
                let sd = match self.grpo.adv_std {
                    AdvStd::None => 1.0,
                    _ => (pc * (1.0 - pc)).sqrt() + self.grpo.adv_eps,
                };
                let degenerate = pc * (1.0 - pc) == 0.0;
                for a in 0..k {
                    let ra = if self.policy.accepted(mp_u, 0, a) {
                        1.0
                    } else {
                        0.0
                    };
                    r.prompt.push(mp);
                    r.pos.push(0);
                    r.prev.push(0);
                    r.act.push(a as u16);
                    r.logp_old.push(z[a] / t - lse);
                    r.ent_old.push(h);
                    r.adv.push(if degenerate { 0.0 } else { (ra - pc) / sd });
                    r.weight.push(p[a]);
                }
                reward_sum += pc;
                continue;
            }
            if l == 1 {
                self.policy.logits(mp_u, 0, 0, &mut z);
                let lse = softmax_into(&z, t, &mut p);
                let h = entropy_from_lse(&p, &z, t, lse);
                r.probs.extend_from_slice(&p);
                let mut acc = 0.0;
                for (c, &pi) in cdf.iter_mut().zip(&p) {
                    acc += pi;
                    *c = acc;
                }
                for (i, rw) in rewards.iter_mut().enumerate() {
                    let a = sample_cdf(&cdf, slot_key.child(i as u64).uniform(0));
                    *rw = if self.policy.accepted(mp_u, 0, a) {
                        1.0
                    } else {
                        0.0
                    };
                    r.prompt.push(mp);
                    r.pos.push(0);
                    r.prev.push(0);
                    r.act.push(a as u16);
                    r.logp_old.push(z[a] / t - lse);
                    r.ent_old.push(h);
                }
            } else if self.policy.kind.is_positional() {
                // positions independent of the previous token: one context
                // per (prompt, position), its G tokens stored together
                // (position-major) so the forward pass reuses the context
                ok_s.iter_mut().for_each(|o| *o = true);
                for pos in 0..l {
                    let z = if factored {
                        let i = slot * l + pos;
                        &self.fac.logits[i * k..(i + 1) * k]
                    } else {
                        self.policy.logits_view(mp_u, pos, 0, &mut z)
                    };
                    // the probabilities go straight into the batch (kept for
                    // the first forward pass)
                    let off = r.probs.len();
                    r.probs.resize(off + k, 0.0);
                    let p = &mut r.probs[off..off + k];
                    let lse = softmax_into(z, t, p);
                    let h = entropy_from_lse(p, z, t, lse);
                    let mut acc = 0.0;
                    for (c, &pi) in cdf.iter_mut().zip(p.iter()) {
                        acc += pi;
                        *c = acc;
                    }
                    for (i, o) in ok_s.iter_mut().enumerate() {
                        // the same key as the sequence path: (sample i, position)
                        let a = sample_cdf(&cdf, slot_key.child(i as u64).uniform(pos as u64));
                        *o &= self.policy.accepted(mp_u, pos, a);
                        r.prompt.push(mp);
                        r.pos.push(pos as u16);
                        r.prev.push(0);
                        r.act.push(a as u16);
                        r.logp_old.push(z[a] / t - lse);
                        r.ent_old.push(h);
                    }
                }
                for (rw, &o) in rewards.iter_mut().zip(&ok_s) {
                    *rw = if o { 1.0 } else { 0.0 };
                }
            } else {
                for (i, rw) in rewards.iter_mut().enumerate() {
                    let sample_key = slot_key.child(i as u64);
                    let mut prev = bos(k);
                    let mut ok = true;
                    for pos in 0..l {
                        self.policy.logits(mp_u, pos, prev, &mut z);
                        let lse = softmax_into(&z, t, &mut p);
                        let a = sample_index(&p, sample_key.uniform(pos as u64));
                        ok &= self.policy.accepted(mp_u, pos, a);
                        r.prompt.push(mp);
                        r.pos.push(pos as u16);
                        r.prev.push(prev as u16);
                        r.act.push(a as u16);
                        r.logp_old.push(z[a] / t - lse);
                        r.ent_old.push(entropy_from_lse(&p, &z, t, lse));
                        prev = a;
                    }
                    *rw = if ok { 1.0 } else { 0.0 };
                }
            }
            group_advantages(&rewards, self.grpo.adv_std, self.grpo.adv_eps, &mut adv);
            if l > 1 && self.policy.kind.is_positional() {
                for _ in 0..l {
                    r.adv.extend_from_slice(&adv);
                }
            } else {
                for &a in &adv {
                    for _ in 0..l {
                        r.adv.push(a);
                    }
                }
            }
            reward_sum += rewards.iter().sum::<f64>() / g as f64;
        }
        r.group_start.push(r.prompt.len());
        r.reward_mean = reward_sum / b as f64;
        r
    }

    /// One training step: one rollout batch consumed (after `lag` steps in
    /// the queue), `ppo_epochs × minibatches` optimizer steps.
    pub fn step(&mut self, log_exact: bool) -> Result<Record, SimError> {
        if self.queue.is_empty() {
            for _ in 0..self.grpo.lag {
                let r = self.rollout();
                self.queue.push_back(r);
            }
        }
        let fresh = self.rollout();
        self.queue.push_back(fresh);
        let batch = self.queue.pop_front().unwrap_or_default();
        let behaviour_h = batch.weighted_mean(&batch.ent_old);
        let offered = self.ctl.offer(Moment::RolloutBatch, || Measurement {
            entropy: behaviour_h,
            sampled_nll: -batch.weighted_mean(&batch.logp_old),
        });
        if let Some(d) = offered {
            self.directive = d;
        }
        let n_groups = batch.group_start.len() - 1;
        let mbs = self.grpo.minibatches.min(n_groups).max(1);
        let mut last = UpdateStats::default();
        for _epoch in 0..self.grpo.ppo_epochs {
            for mb in 0..mbs {
                let g0 = mb * n_groups / mbs;
                let g1 = (mb + 1) * n_groups / mbs;
                let (t0, t1) = (batch.group_start[g0], batch.group_start[g1]);
                last = self.update(&batch, t0, t1)?;
            }
        }
        let record_entropy = self.ctl.seen_entropy(behaviour_h, last.entropy);
        let (exact_h, pass) = if log_exact {
            let (h, p) = self.policy.exact_entropy_and_pass(self.grpo.temperature);
            (Some(h), Some(p))
        } else {
            (None, None)
        };
        if let Some(h) = exact_h {
            if !h.is_finite() {
                return Err(self.nonfinite("entropy_exact"));
            }
        }
        let rec = Record {
            entropy_exact: exact_h,
            hp_frac: Some(last.hp_frac),
            hp_entropy_share: Some(last.hp_entropy_share).filter(|x| x.is_finite()),
            tail_mass_hp: Some(last.tail_mass_hp).filter(|x| x.is_finite()),
            reward_mean: Some(batch.reward_mean),
            pass_rate: pass,
            zero_adv_frac: Some(batch.zero_adv_frac()),
            clip_frac: Some(last.clip_frac),
            kl: (self.grpo.kl_coef > 0.0).then_some(last.kl),
            grad_norm: Some(last.grad_norm),
            lr: Some(self.grpo.lr),
            tokens: Some(batch.prompt.len() as u64),
            ..Record::controlled(
                self.arm.clone(),
                self.step,
                self.seed,
                record_entropy,
                &self.ctl.cfg,
                &self.directive,
            )
        };
        self.step += 1;
        self.spare = Some(batch);
        Ok(rec)
    }

    /// The forward pass over tokens `t0..t1` of `batch` under the current
    /// parameters: per-token log-probs and entropies (temperature-scaled),
    /// reference log-probs (KL), the training-data masks applied to the
    /// advantages, and the probabilities of each run of tokens sharing one
    /// context (kept for the backward pass).
    pub fn forward(&self, batch: &Rollout, t0: usize, t1: usize) -> Forward {
        let k = self.policy.k;
        let t = self.grpo.temperature;
        let n = t1 - t0;
        let mut f = Forward {
            logp: vec![0.0; n],
            ent: vec![0.0; n],
            logp_ref: if self.reference.is_some() {
                vec![0.0; n]
            } else {
                Vec::new()
            },
            adv: batch.adv[t0..t1].to_vec(),
            runs: Vec::new(),
            probs: Vec::new(),
            cached_from: None,
        };
        let mut z = vec![0.0; k];
        let mut p = vec![0.0; k];
        let mut z_ref = vec![0.0; k];
        let mut p_ref = vec![0.0; k];
        let mut ctx = usize::MAX;
        let (mut lse, mut h) = (0.0, 0.0);
        let line = if self.grpo.mask_tau < 0.0 {
            ProbLine::ExpNegH
        } else {
            ProbLine::Tau(self.grpo.mask_tau)
        };
        let cached = batch.version == self.opt.step && !batch.probs.is_empty();
        // contexts per group in `batch.probs`: one per position for the
        // positional policies, else one
        let per_group = if self.policy.kind.is_positional() {
            self.policy.l
        } else {
            1
        };
        if cached {
            let g0 = batch.group_start.partition_point(|&s| s <= t0) - 1;
            f.cached_from = Some(g0 * per_group);
        }
        for i in 0..n {
            let j = t0 + i;
            let key = self.ctx_key(batch, j);
            let (m, pos, prev) = (
                batch.prompt[j] as usize,
                batch.pos[j] as usize,
                batch.prev[j] as usize,
            );
            if key != ctx {
                if cached {
                    // the runs follow the batch's contexts one to one (each
                    // group's contexts are consecutive and distinct)
                    debug_assert_eq!(
                        f.cached_from.map(|c0| c0 + f.runs.len()),
                        Some(
                            (batch.group_start.partition_point(|&s| s <= j) - 1) * per_group
                                + if per_group > 1 { pos } else { 0 }
                        )
                    );
                    h = batch.ent_old[j];
                } else {
                    self.policy.logits(m, pos, prev, &mut z);
                    lse = softmax_into(&z, t, &mut p);
                    h = entropy_from_lse(&p, &z, t, lse);
                    f.probs.extend_from_slice(&p);
                }
                ctx = key;
                f.runs.push(i);
                if let Some(rp) = &self.reference {
                    rp.logits(m, pos, prev, &mut z_ref);
                    let lse_ref = softmax_into(&z_ref, t, &mut p_ref);
                    z_ref.iter_mut().for_each(|x| *x = *x / t - lse_ref);
                }
            }
            let a = batch.act[j] as usize;
            f.logp[i] = if cached {
                batch.logp_old[j]
            } else {
                z[a] / t - lse
            };
            f.ent[i] = h;
            if self.reference.is_some() {
                f.logp_ref[i] = z_ref[a];
            }
            // training-data masks: zero advantage, the token stays in the denominator
            let a_i = f.adv[i];
            let drop = match self.grpo.train_on {
                TrainOn::All => false,
                TrainOn::Positive => a_i <= 0.0,
                TrainOn::Negative => a_i >= 0.0,
            } || (!self.mask.is_empty()
                && a_i != 0.0
                && self.mask.contains(&quadrant(f.logp[i].exp(), a_i, h, line)));
            if drop {
                f.adv[i] = 0.0;
            }
        }
        f.runs.push(n);
        f
    }

    /// The token loss under `directive` and its parameter gradient (written
    /// to `self.grad`); returns the loss and the gradient's L2 norm.
    pub fn loss_grad(
        &mut self,
        batch: &Rollout,
        t0: usize,
        t1: usize,
        f: &Forward,
        directive: &Directive,
    ) -> (TokenLoss, f64) {
        let k = self.policy.k;
        let t = self.grpo.temperature;
        let weights = if batch.weight.is_empty() {
            None
        } else {
            Some(&batch.weight[t0..t1])
        };
        let inputs = TokenInputs {
            adv: &f.adv,
            logp: &f.logp,
            logp_old: &batch.logp_old[t0..t1],
            logp_ref: self.reference.as_ref().map(|_| &f.logp_ref[..]),
            entropy: &f.ent,
            weight: weights,
        };
        let out = token_loss(
            &self.grpo.loss_config(),
            &self.ctl.cfg,
            directive,
            &inputs,
            &mut self.rng,
        );
        // backward: aggregate the coefficients of each run of tokens in one context
        let row_sparse = self.policy.grad_row(0, 0).is_some();
        if row_sparse {
            for &m in &self.touched {
                self.grad[m * k..(m + 1) * k]
                    .iter_mut()
                    .for_each(|g| *g = 0.0);
            }
        } else {
            self.grad.iter_mut().for_each(|g| *g = 0.0);
        }
        self.touched.clear();
        let rule = self.bandit.update_rule;
        let mut per_action = vec![0.0; k];
        let mut dz = vec![0.0; k];
        // the factored policy collects the runs' logit gradients and applies
        // them as two matrix products after the loop
        let factored = self.policy.kind == PolicyKind::Factored;
        if factored {
            self.fac.ctxs.clear();
            self.fac.dz.clear();
        }
        for (r, w) in f.runs.windows(2).enumerate() {
            let (s0, s1) = (w[0], w[1]);
            let (mut sum_c, mut sum_d) = (0.0, 0.0);
            for i in s0..s1 {
                let c = out.dlogp[i];
                per_action[batch.act[t0 + i] as usize] += c;
                sum_c += c;
                sum_d += out.dentropy[i];
            }
            if sum_c != 0.0 || sum_d != 0.0 || per_action.iter().any(|&x| x != 0.0) {
                let j = t0 + s0;
                let p = f.run_probs(batch, r, k);
                context_logit_grad(rule, p, t, &per_action, sum_c, sum_d, f.ent[s0], &mut dz);
                if let Some(row) = self
                    .policy
                    .grad_row(batch.prompt[j] as usize, batch.pos[j] as usize)
                {
                    self.touched.push(row);
                }
                if factored {
                    self.fac
                        .ctxs
                        .push(batch.prompt[j] as usize * self.policy.l + batch.pos[j] as usize);
                    self.fac.dz.extend_from_slice(&dz);
                } else {
                    self.policy.backward(
                        batch.prompt[j] as usize,
                        batch.pos[j] as usize,
                        batch.prev[j] as usize,
                        &dz,
                        &mut self.grad,
                    );
                }
            }
            per_action.iter_mut().for_each(|x| *x = 0.0);
        }
        if factored && !self.fac.ctxs.is_empty() {
            self.policy.backward_many(
                &self.fac.ctxs,
                &self.fac.dz,
                &mut self.grad,
                &mut self.fac.h,
                &mut self.fac.gh,
            );
        }
        // The L2 norm, summed in index order. Row-sparse policies: the rows outside
        // `touched` are exactly +0, and adding +0 to a sum ≥ +0 changes no
        // bit, so summing the touched rows alone, in ascending order, gives
        // the dense sum's bits (a quarter of the work in `bench sim`).
        let ascending = self.touched.windows(2).all(|w| w[0] < w[1]);
        let sq = if row_sparse && ascending {
            let mut acc = 0.0;
            for &m in &self.touched {
                for g in &self.grad[m * k..(m + 1) * k] {
                    acc += g * g;
                }
            }
            acc
        } else {
            self.grad.iter().map(|g| g * g).sum::<f64>()
        };
        (out, sq.sqrt())
    }

    /// One optimizer step on tokens `t0..t1` of `batch`.
    fn update(&mut self, batch: &Rollout, t0: usize, t1: usize) -> Result<UpdateStats, SimError> {
        let n = t1 - t0;
        let f = self.forward(batch, t0, t1);
        let weights = if batch.weight.is_empty() {
            None
        } else {
            Some(&batch.weight[t0..t1])
        };
        let mean_ent = match weights {
            None => f.ent.iter().sum::<f64>() / n.max(1) as f64,
            Some(w) => f.ent.iter().zip(w).map(|(e, w)| e * w).sum::<f64>() / w.iter().sum::<f64>(),
        };
        if !mean_ent.is_finite() {
            return Err(self.nonfinite("entropy"));
        }
        let offered = self.ctl.offer(Moment::OptimizerStep, || {
            let nll = match weights {
                None => -batch.logp_old[t0..t1].iter().sum::<f64>() / n.max(1) as f64,
                Some(w) => {
                    -batch.logp_old[t0..t1]
                        .iter()
                        .zip(w)
                        .map(|(l, w)| l * w)
                        .sum::<f64>()
                        / w.iter().sum::<f64>()
                }
            };
            Measurement {
                entropy: mean_ent,
                sampled_nll: nll,
            }
        });
        if let Some(d) = offered {
            self.directive = d;
        }
        let directive = self.directive;
        // `grad_norm` is logged before the clip, as the LLM trainer and verl
        // (torch's `clip_grad_norm_` return value) report it.
        let (out, grad_norm) = self.loss_grad(batch, t0, t1, &f, &directive);
        if !out.loss.is_finite() {
            return Err(self.nonfinite("loss"));
        }
        if !grad_norm.is_finite() {
            return Err(self.nonfinite("grad_norm"));
        }
        if self.grpo.grad_clip > 0.0 && grad_norm > self.grpo.grad_clip {
            let s = self.grpo.grad_clip / grad_norm;
            self.grad.iter_mut().for_each(|g| *g *= s);
        }
        self.opt.step(&mut self.policy.params, &self.grad);
        if !all_finite(&self.policy.params) {
            return Err(self.nonfinite("parameters"));
        }
        Ok(UpdateStats {
            entropy: mean_ent,
            hp_frac: out.stats.hp_frac,
            hp_entropy_share: out.stats.hp_entropy_share,
            tail_mass_hp: out.stats.tail_mass_hp,
            clip_frac: out.stats.clip_frac,
            kl: out.stats.kl,
            grad_norm,
        })
    }

    #[inline]
    fn ctx_key(&self, b: &Rollout, j: usize) -> usize {
        let k1 = self.policy.k + 1;
        (b.prompt[j] as usize * self.policy.l + b.pos[j] as usize) * k1 + b.prev[j] as usize
    }
}

/// Whether every value is finite: an OR of "exponent all ones" over the
/// bits, branch-free so it vectorises (a short-circuiting `any` does not).
fn all_finite(xs: &[f64]) -> bool {
    const EXP: u64 = 0x7FF0_0000_0000_0000;
    xs.iter()
        .fold(0u64, |acc, x| acc | u64::from(x.to_bits() & EXP == EXP))
        == 0
}

/// Mixed into the seed for the prompt shuffle's key, so it never shares a
/// key with an action draw (an arbitrary odd constant: the first 64 bits of
/// √3's fraction).
const PROMPT_DOMAIN: u64 = 0xBB67_AE85_84CA_A73B;

/// Inverse-CDF sampling from a cumulative distribution (binary search):
/// the first index whose cumulative sum exceeds `u`, as [`sample_index`]
/// gives for the same `u` (the sums are accumulated in the same order).
#[inline]
pub fn sample_cdf(cdf: &[f64], u: f64) -> usize {
    cdf.partition_point(|&c| c <= u).min(cdf.len() - 1)
}

/// Inverse-CDF sampling of an index from probabilities `p` with `u ∈ [0,1)`.
#[inline]
pub fn sample_index(p: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    for (i, &pi) in p.iter().enumerate() {
        acc += pi;
        if u < acc {
            return i;
        }
    }
    p.len() - 1
}
