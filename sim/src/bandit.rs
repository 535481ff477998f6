//! The softmax bandit: M prompts, K actions, a set of correct actions per
//! prompt (or per response position), binary reward. Three policies:
//! - `tabular`: one logit vector per prompt;
//! - `linear`: `z_m = W·x_m + o_m`, shared `W` over fixed random prompt
//!   features `x_m`, so an update on one prompt moves the others (as in an
//!   LLM); `o_m` is a fixed, untrained per-prompt offset that sets the
//!   instance's difficulty;
//! - `sequence`: a response is L tokens, token l drawn from
//!   `softmax(T[l][prev] + U[m][l])` (a shared (position, previous token)
//!   table plus a per-prompt term); most positions near-deterministic, a few
//!   "forking" ones; the reward is 1 iff every token is accepted at its
//!   position (the whole response is checked);
//! - `per_position` and `factored`: the LLM-like policies of
//!   [`crate::positional`] (no previous-token dependence; a vocabulary up
//!   to 4,096 / 32,768 with controlled tails at the near-deterministic
//!   positions).

use crate::entropy::{entropy_from_lse, softmax_into, UpdateRule};
use crate::positional::{pick_correct, shift_for_mass};
pub use crate::positional::{CorrectRank, TailReward, TailShape};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Which policy parameterisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    #[default]
    Tabular,
    Linear,
    Sequence,
    /// One logit vector per (prompt, position), no previous-token table
    /// (`crate::positional`).
    PerPosition,
    /// `z = E·h_{m,l}`: a shared output embedding and a hidden vector per
    /// (prompt, position), both trained (`crate::positional`).
    Factored,
}

impl PolicyKind {
    /// The LLM-like policies whose positions do not depend on the previous token.
    pub fn is_positional(self) -> bool {
        matches!(self, PolicyKind::PerPosition | PolicyKind::Factored)
    }
}

/// Contexts per matrix product when the factored policy's exact entropy
/// computes logits in blocks (rounded up to whole prompts): 64 rows of K =
/// 32,768 logits are 16 MB.
const FACTORED_BLOCK: usize = 64;

/// How an update is computed from the rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// G sampled responses per prompt (GRPO as run).
    #[default]
    Sampled,
    /// The expected update with no sampling noise (tabular and linear only):
    /// every action enters with weight π_old(a) and the population advantage
    /// (the G → ∞ limit of the group statistics).
    Exact,
}

/// The `[bandit]` table of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BanditConfig {
    pub policy: PolicyKind,
    /// M.
    pub prompts: usize,
    /// K.
    pub actions: usize,
    /// Initial logits `~ N(0, logit_scale²)` (tabular, linear; sequence: at forks).
    pub logit_scale: f64,
    /// Size of the correct set (per prompt; per fork position in sequence mode).
    pub correct_size: usize,
    pub correct_rank: CorrectRank,
    /// Initial pass rate per prompt drawn uniformly from `[lo, hi]` by shifting
    /// the correct actions' logits (per fork in sequence mode: the per-fork
    /// rate is `p^(1/forks)`). Empty = as the logits give.
    pub pass_rate: Vec<f64>,
    pub update_rule: UpdateRule,
    pub sampling: Sampling,
    /// linear: feature dimension D.
    pub features: usize,
    /// sequence: response length L.
    pub length: usize,
    /// sequence: number of forking positions.
    pub forks: usize,
    /// sequence: logit margin of the accepted token at non-forking positions.
    pub det_margin: f64,
    /// sequence: scale of the shared (position, previous token) table.
    pub table_scale: f64,
    /// Explicit logits (tabular; one row per prompt). Empty = generated.
    pub logits: Vec<Vec<f64>>,
    /// Explicit correct sets (tabular; one list of action indices per prompt).
    pub correct: Vec<Vec<usize>>,
    /// Use this instance seed for every run seed (default: instance drawn from the run seed).
    pub instance_seed: Option<u64>,
    /// per_position, factored: candidates at a fork (0 = every token /
    /// the d − 1 head tokens).
    pub fork_width: usize,
    /// per_position, factored: probability mass off the top token at a
    /// near-deterministic position at T = 1 (and off the candidates at a
    /// fork when `fork_width` < K).
    pub tail_mass: f64,
    pub tail_shape: TailShape,
    /// Zipf exponent of `tail_shape = "zipf"`.
    pub tail_zipf: f64,
    pub tail_reward: TailReward,
    /// factored: embedding dimension d.
    pub embed_dim: usize,
}

impl Default for BanditConfig {
    fn default() -> Self {
        BanditConfig {
            policy: PolicyKind::Tabular,
            prompts: 64,
            actions: 16,
            logit_scale: 1.0,
            correct_size: 1,
            correct_rank: CorrectRank::Random,
            pass_rate: Vec::new(),
            update_rule: UpdateRule::Vanilla,
            sampling: Sampling::Sampled,
            features: 16,
            length: 8,
            forks: 2,
            det_margin: 6.0,
            table_scale: 0.5,
            logits: Vec::new(),
            correct: Vec::new(),
            instance_seed: None,
            fork_width: 0,
            tail_mass: 0.03,
            tail_shape: TailShape::Flat,
            tail_zipf: 1.0,
            tail_reward: TailReward::Zero,
            embed_dim: 16,
        }
    }
}

/// A policy with its fixed instance data. Parameters are one flat vector so
/// the optimizer is generic.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub kind: PolicyKind,
    pub m: usize,
    pub k: usize,
    /// Feature dimension (linear), embedding dimension (factored), else 0.
    pub d: usize,
    /// Response length (1 unless sequence, per_position or factored).
    pub l: usize,
    pub params: Vec<f64>,
    /// linear: features, M×D.
    pub x: Vec<f64>,
    /// linear: fixed per-prompt offsets, M×K.
    pub offset: Vec<f64>,
    /// Accepted tokens, M×L×K (empty for per_position and factored, which
    /// keep `correct` lists instead).
    pub accept: Vec<bool>,
    /// per_position, factored: fork positions, per-position "ignored by the
    /// reward" flags and correct lists (see [`crate::positional::Instance`]).
    pub fork_pos: Vec<usize>,
    pub ignored: Vec<bool>,
    pub correct: Vec<u32>,
    pub correct_start: Vec<usize>,
}

/// Previous-token index of the first position (a BOS row of the table).
pub fn bos(k: usize) -> usize {
    k
}

impl Policy {
    /// Build the instance of `cfg` from `rng` (already validated config).
    pub fn new(cfg: &BanditConfig, rng: &mut impl Rng) -> Policy {
        if !cfg.logits.is_empty() {
            let m = cfg.logits.len();
            let k = cfg.logits[0].len();
            let mut accept = vec![false; m * k];
            for (i, c) in cfg.correct.iter().enumerate() {
                for &a in c {
                    accept[i * k + a] = true;
                }
            }
            let params = cfg.logits.iter().flatten().copied().collect();
            return Policy {
                kind: PolicyKind::Tabular,
                m,
                k,
                d: 0,
                l: 1,
                params,
                x: vec![],
                offset: vec![],
                accept,
                fork_pos: vec![],
                ignored: vec![],
                correct: vec![],
                correct_start: vec![],
            };
        }
        let (m, k) = (cfg.prompts, cfg.actions);
        let normal = |rng: &mut dyn rand::RngCore| -> f64 { StandardNormal.sample(rng) };
        match cfg.policy {
            PolicyKind::Tabular | PolicyKind::Linear => {
                let d = if cfg.policy == PolicyKind::Linear {
                    cfg.features
                } else {
                    0
                };
                let (mut params, x) = if d > 0 {
                    let w: Vec<f64> = (0..k * d)
                        .map(|_| normal(rng) * cfg.logit_scale / (d as f64).sqrt())
                        .collect();
                    let x: Vec<f64> = (0..m * d).map(|_| normal(rng)).collect();
                    (w, x)
                } else {
                    (
                        (0..m * k).map(|_| normal(rng) * cfg.logit_scale).collect(),
                        vec![],
                    )
                };
                let mut offset = if d > 0 { vec![0.0; m * k] } else { vec![] };
                let mut accept = vec![false; m * k];
                let mut z = vec![0.0; k];
                for i in 0..m {
                    if d > 0 {
                        linear_logits(
                            &params,
                            &x[i * d..(i + 1) * d],
                            &offset[i * k..(i + 1) * k],
                            k,
                            d,
                            &mut z,
                        );
                    } else {
                        z.copy_from_slice(&params[i * k..(i + 1) * k]);
                    }
                    let set = pick_correct(&z, cfg.correct_size, cfg.correct_rank, rng);
                    for &a in &set {
                        accept[i * k + a] = true;
                    }
                    if cfg.pass_rate.len() == 2 {
                        let p = rng.random_range(cfg.pass_rate[0]..=cfg.pass_rate[1]);
                        let delta = shift_for_mass(&z, &accept[i * k..(i + 1) * k], p);
                        for &a in &set {
                            if d > 0 {
                                offset[i * k + a] += delta;
                            } else {
                                params[i * k + a] += delta;
                            }
                        }
                    }
                }
                Policy {
                    kind: cfg.policy,
                    m,
                    k,
                    d,
                    l: 1,
                    params,
                    x,
                    offset,
                    accept,
                    fork_pos: vec![],
                    ignored: vec![],
                    correct: vec![],
                    correct_start: vec![],
                }
            }
            PolicyKind::Sequence => {
                let l = cfg.length;
                // Table T: L × (K+1) × K (row K is BOS), then U: M × L × K.
                let t_len = l * (k + 1) * k;
                let mut params = vec![0.0; t_len + m * l * k];
                for v in params[..t_len].iter_mut() {
                    *v = normal(rng) * cfg.table_scale;
                }
                let mut accept = vec![false; m * l * k];
                // fork positions: the same for all prompts, spread over the response
                let forks: Vec<usize> = (0..cfg.forks)
                    .map(|j| (j * l) / cfg.forks.max(1) + (l / (2 * cfg.forks.max(1))))
                    .collect();
                let mut z = vec![0.0; k];
                for i in 0..m {
                    for pos in 0..l {
                        let u = t_len + (i * l + pos) * k;
                        if forks.contains(&pos) {
                            for zk in z.iter_mut() {
                                *zk = normal(rng) * cfg.logit_scale;
                            }
                            let set = pick_correct(&z, cfg.correct_size, cfg.correct_rank, rng);
                            for &a in &set {
                                accept[(i * l + pos) * k + a] = true;
                            }
                            if cfg.pass_rate.len() == 2 {
                                let p = rng
                                    .random_range(cfg.pass_rate[0]..=cfg.pass_rate[1])
                                    .powf(1.0 / cfg.forks as f64);
                                let delta = shift_for_mass(
                                    &z,
                                    &accept[(i * l + pos) * k..(i * l + pos + 1) * k],
                                    p,
                                );
                                for &a in &set {
                                    z[a] += delta;
                                }
                            }
                            params[u..u + k].copy_from_slice(&z);
                        } else {
                            let a = rng.random_range(0..k);
                            accept[(i * l + pos) * k + a] = true;
                            for j in 0..k {
                                params[u + j] = normal(rng) * 0.1;
                            }
                            params[u + a] += cfg.det_margin;
                        }
                    }
                }
                Policy {
                    kind: PolicyKind::Sequence,
                    m,
                    k,
                    d: 0,
                    l,
                    params,
                    x: vec![],
                    offset: vec![],
                    accept,
                    fork_pos: vec![],
                    ignored: vec![],
                    correct: vec![],
                    correct_start: vec![],
                }
            }
            PolicyKind::PerPosition | PolicyKind::Factored => {
                let factored = cfg.policy == PolicyKind::Factored;
                let spec = crate::positional::Spec {
                    factored,
                    m,
                    k,
                    l: cfg.length,
                    d: cfg.embed_dim,
                    forks: cfg.forks,
                    fork_width: cfg.fork_width,
                    logit_scale: cfg.logit_scale,
                    correct_size: cfg.correct_size,
                    correct_rank: cfg.correct_rank,
                    pass_rate: (cfg.pass_rate.len() == 2)
                        .then(|| (cfg.pass_rate[0], cfg.pass_rate[1])),
                    tail_mass: cfg.tail_mass,
                    tail_shape: cfg.tail_shape,
                    tail_zipf: cfg.tail_zipf,
                    tail_reward: cfg.tail_reward,
                };
                let inst = crate::positional::build(&spec, rng);
                Policy {
                    kind: cfg.policy,
                    m,
                    k,
                    d: if factored { cfg.embed_dim } else { 0 },
                    l: cfg.length,
                    params: inst.params,
                    x: vec![],
                    offset: vec![],
                    accept: vec![],
                    fork_pos: inst.fork_pos,
                    ignored: inst.ignored,
                    correct: inst.correct,
                    correct_start: inst.correct_start,
                }
            }
        }
    }

    /// Number of contexts' previous-token rows (K+1 in sequence mode, 1 otherwise).
    pub fn n_prev(&self) -> usize {
        if self.kind == PolicyKind::Sequence {
            self.k + 1
        } else {
            1
        }
    }

    /// The logits of a context without a copy where the parameters hold them
    /// as they are (the rows of [`Policy::grad_row`]); otherwise computed
    /// into `scratch` as [`Policy::logits`] does.
    #[inline]
    pub fn logits_view<'a>(
        &'a self,
        m: usize,
        pos: usize,
        prev: usize,
        scratch: &'a mut [f64],
    ) -> &'a [f64] {
        match self.grad_row(m, pos) {
            Some(r) => &self.params[r * self.k..(r + 1) * self.k],
            None => {
                self.logits(m, pos, prev, scratch);
                scratch
            }
        }
    }

    /// Logits of context (prompt `m`, position `pos`, previous token `prev`) into `out`.
    #[inline]
    pub fn logits(&self, m: usize, pos: usize, prev: usize, out: &mut [f64]) {
        let k = self.k;
        match self.kind {
            PolicyKind::Tabular => out.copy_from_slice(&self.params[m * k..(m + 1) * k]),
            PolicyKind::Linear => {
                let d = self.d;
                linear_logits(
                    &self.params,
                    &self.x[m * d..(m + 1) * d],
                    &self.offset[m * k..(m + 1) * k],
                    k,
                    d,
                    out,
                )
            }
            PolicyKind::Sequence => {
                let t = (pos * (k + 1) + prev) * k;
                let u = self.l * (k + 1) * k + (m * self.l + pos) * k;
                let (a, b) = (&self.params[t..t + k], &self.params[u..u + k]);
                for ((o, x), y) in out[..k].iter_mut().zip(a).zip(b) {
                    *o = x + y;
                }
            }
            PolicyKind::PerPosition => {
                let c = (m * self.l + pos) * k;
                out.copy_from_slice(&self.params[c..c + k]);
            }
            PolicyKind::Factored => {
                let d = self.d;
                let h = k * d + (m * self.l + pos) * d;
                crate::positional::factored_logits(
                    &self.params[..k * d],
                    &self.params[h..h + d],
                    out,
                );
            }
        }
    }

    /// Add `dz` (a gradient with respect to the context's logits) into the
    /// parameter gradient `grad`.
    #[inline]
    /// The row `r` such that the gradient of context (prompt `m`, position
    /// `pos`) lies in `grad[r·K..(r + 1)·K]` alone, for the policies whose
    /// contexts own disjoint rows of K parameters (tabular: the prompt's;
    /// per-position: the (prompt, position)'s); `None` for the others.
    pub fn grad_row(&self, m: usize, pos: usize) -> Option<usize> {
        match self.kind {
            PolicyKind::Tabular => Some(m),
            PolicyKind::PerPosition => Some(m * self.l + pos),
            _ => None,
        }
    }

    pub fn backward(&self, m: usize, pos: usize, prev: usize, dz: &[f64], grad: &mut [f64]) {
        let k = self.k;
        match self.kind {
            PolicyKind::Tabular => {
                for (g, d) in grad[m * k..(m + 1) * k].iter_mut().zip(dz) {
                    *g += d;
                }
            }
            PolicyKind::Linear => {
                let d = self.d;
                let x = &self.x[m * d..(m + 1) * d];
                for (j, &dzj) in dz.iter().enumerate() {
                    if dzj != 0.0 {
                        for (g, xi) in grad[j * d..(j + 1) * d].iter_mut().zip(x) {
                            *g += dzj * xi;
                        }
                    }
                }
            }
            PolicyKind::Sequence => {
                let t = (pos * (k + 1) + prev) * k;
                let u = self.l * (k + 1) * k + (m * self.l + pos) * k;
                for j in 0..k {
                    grad[t + j] += dz[j];
                    grad[u + j] += dz[j];
                }
            }
            PolicyKind::PerPosition => {
                let c = (m * self.l + pos) * k;
                for (g, d) in grad[c..c + k].iter_mut().zip(dz) {
                    *g += d;
                }
            }
            PolicyKind::Factored => {
                let d = self.d;
                let h = k * d + (m * self.l + pos) * d;
                let (ge, gh) = grad.split_at_mut(k * d);
                crate::positional::factored_backward(
                    &self.params[..k * d],
                    &self.params[h..h + d],
                    dz,
                    ge,
                    &mut gh[h - k * d..h - k * d + d],
                );
            }
        }
    }

    /// Logits of several contexts (`c = m·L + pos` of a positional policy)
    /// into `out` (one row of K per context). The factored policy computes
    /// them as one matrix product (`positional::factored_logits_many`;
    /// `h_scratch` holds the gathered hidden vectors); the others context
    /// by context, as [`Policy::logits`].
    pub fn logits_many(&self, ctxs: &[usize], h_scratch: &mut Vec<f64>, out: &mut [f64]) {
        let (k, l) = (self.k, self.l.max(1));
        if self.kind == PolicyKind::Factored {
            let d = self.d;
            h_scratch.clear();
            for &c in ctxs {
                h_scratch.extend_from_slice(&self.params[k * d + c * d..k * d + (c + 1) * d]);
            }
            crate::positional::factored_logits_many(&self.params[..k * d], h_scratch, d, out);
        } else {
            for (i, &c) in ctxs.iter().enumerate() {
                self.logits(c / l, c % l, 0, &mut out[i * k..(i + 1) * k]);
            }
        }
    }

    /// [`Policy::backward`] for several contexts of a positional policy,
    /// with their logit gradients `dz` (one row of K per context); the
    /// factored policy as two matrix products
    /// (`positional::factored_backward_many`), adding into `grad`.
    pub fn backward_many(
        &self,
        ctxs: &[usize],
        dz: &[f64],
        grad: &mut [f64],
        h_scratch: &mut Vec<f64>,
        gh_scratch: &mut Vec<f64>,
    ) {
        let (k, l) = (self.k, self.l.max(1));
        if self.kind == PolicyKind::Factored {
            let d = self.d;
            h_scratch.clear();
            for &c in ctxs {
                h_scratch.extend_from_slice(&self.params[k * d + c * d..k * d + (c + 1) * d]);
            }
            gh_scratch.clear();
            gh_scratch.resize(ctxs.len() * d, 0.0);
            let (ge, gh) = grad.split_at_mut(k * d);
            crate::positional::factored_backward_many(
                &self.params[..k * d],
                h_scratch,
                dz,
                d,
                ge,
                gh_scratch,
            );
            for (i, &c) in ctxs.iter().enumerate() {
                for (g, x) in gh[c * d..(c + 1) * d]
                    .iter_mut()
                    .zip(&gh_scratch[i * d..(i + 1) * d])
                {
                    *g += x;
                }
            }
        } else {
            for (i, &c) in ctxs.iter().enumerate() {
                self.backward(c / l, c % l, 0, &dz[i * k..(i + 1) * k], grad);
            }
        }
    }

    /// Whether token `a` is accepted at (prompt, position).
    #[inline]
    pub fn accepted(&self, m: usize, pos: usize, a: usize) -> bool {
        if self.kind.is_positional() {
            let c = m * self.l + pos;
            self.ignored[pos]
                || self.correct[self.correct_start[c]..self.correct_start[c + 1]]
                    .contains(&(a as u32))
        } else {
            self.accept[(m * self.l + pos) * self.k + a]
        }
    }

    /// Exact token-mean entropy at temperature `t` over all prompts, and the
    /// exact pass rate (probability the whole response is accepted), under the
    /// policy's own distribution of prefixes (sequence mode: forward dynamic
    /// programming over the previous token).
    pub fn exact_entropy_and_pass(&self, t: f64) -> (f64, f64) {
        let k = self.k;
        let mut z = vec![0.0; k];
        let mut p = vec![0.0; k];
        let (mut h_sum, mut pass_sum) = (0.0, 0.0);
        if self.kind.is_positional() {
            // positions are independent given the prompt: the token-mean
            // entropy is the mean of the positions' entropies, the pass
            // rate the product of the positions' accepted mass
            // the factored policy's logits in blocks of contexts (one matrix
            // product per block), the others' one context at a time
            let block = if self.kind == PolicyKind::Factored {
                FACTORED_BLOCK.div_ceil(self.l) * self.l
            } else {
                self.l
            };
            let mut zs = vec![0.0; if block > self.l { block * k } else { 0 }];
            let mut hs = Vec::new();
            let mut ctxs = Vec::with_capacity(block);
            for m in 0..self.m {
                let c0 = m * self.l;
                if block > self.l && c0 % block == 0 {
                    ctxs.clear();
                    ctxs.extend(c0..(c0 + block).min(self.m * self.l));
                    self.logits_many(&ctxs, &mut hs, &mut zs[..ctxs.len() * k]);
                }
                let (mut h_m, mut pass_m) = (0.0, 1.0);
                for pos in 0..self.l {
                    let z = if block > self.l {
                        let i = (c0 + pos) % block;
                        &zs[i * k..(i + 1) * k]
                    } else {
                        self.logits_view(m, pos, 0, &mut z)
                    };
                    let lse = softmax_into(z, t, &mut p);
                    h_m += entropy_from_lse(&p, z, t, lse);
                    if !self.ignored[pos] {
                        let c = m * self.l + pos;
                        pass_m *= self.correct[self.correct_start[c]..self.correct_start[c + 1]]
                            .iter()
                            .map(|&a| p[a as usize])
                            .sum::<f64>();
                    }
                }
                h_sum += h_m / self.l as f64;
                pass_sum += pass_m;
            }
            return (h_sum / self.m as f64, pass_sum / self.m as f64);
        }
        if self.kind != PolicyKind::Sequence {
            for m in 0..self.m {
                let z = self.logits_view(m, 0, 0, &mut z);
                let lse = softmax_into(z, t, &mut p);
                h_sum += entropy_from_lse(&p, z, t, lse);
                pass_sum += (0..k)
                    .filter(|&a| self.accepted(m, 0, a))
                    .map(|a| p[a])
                    .sum::<f64>();
            }
            return (h_sum / self.m as f64, pass_sum / self.m as f64);
        }
        let np = k + 1;
        let mut q = vec![0.0; np];
        let mut q_next = vec![0.0; np];
        let mut ok = vec![0.0; np];
        let mut ok_next = vec![0.0; np];
        for m in 0..self.m {
            q.iter_mut().for_each(|x| *x = 0.0);
            ok.iter_mut().for_each(|x| *x = 0.0);
            q[bos(k)] = 1.0;
            ok[bos(k)] = 1.0;
            let mut h_m = 0.0;
            for pos in 0..self.l {
                q_next.iter_mut().for_each(|x| *x = 0.0);
                ok_next.iter_mut().for_each(|x| *x = 0.0);
                for prev in 0..np {
                    if q[prev] == 0.0 && ok[prev] == 0.0 {
                        continue;
                    }
                    self.logits(m, pos, prev, &mut z);
                    let lse = softmax_into(&z, t, &mut p);
                    h_m += q[prev] * entropy_from_lse(&p, &z, t, lse);
                    for a in 0..k {
                        q_next[a] += q[prev] * p[a];
                        if self.accepted(m, pos, a) {
                            ok_next[a] += ok[prev] * p[a];
                        }
                    }
                }
                std::mem::swap(&mut q, &mut q_next);
                std::mem::swap(&mut ok, &mut ok_next);
            }
            h_sum += h_m / self.l as f64;
            pass_sum += ok.iter().sum::<f64>();
        }
        (h_sum / self.m as f64, pass_sum / self.m as f64)
    }
}

#[inline]
fn linear_logits(w: &[f64], x: &[f64], off: &[f64], k: usize, d: usize, out: &mut [f64]) {
    for j in 0..k {
        let row = &w[j * d..(j + 1) * d];
        out[j] = off[j] + row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    }
}

/// The logit gradient of one context from per-token coefficients, for the
/// update rule `rule` (docs/mathematics.md §4): with `c = ∂L/∂log π(a)` and
/// `d = ∂L/∂H` of the tokens sampled in this context,
/// vanilla `dz = Σc(e_a − π)/T`, sampled-logit `Σc·e_a/T`, natural
/// `Σc·e_a/(π_a T)`, plus `Σd·∂H/∂z`. `per_action[a]` holds `Σ_{t: a_t = a} c_t`.
#[allow(clippy::too_many_arguments)] // the hot loop's inputs, kept flat for speed
pub fn context_logit_grad(
    rule: UpdateRule,
    p: &[f64],
    t: f64,
    per_action: &[f64],
    sum_c: f64,
    sum_d: f64,
    h: f64,
    out: &mut [f64],
) {
    let inv_t = 1.0 / t;
    for j in 0..p.len() {
        let pj = p[j];
        let mut g = match rule {
            UpdateRule::Vanilla => per_action[j] - sum_c * pj,
            UpdateRule::SampledLogit => per_action[j],
            UpdateRule::Natural => {
                if per_action[j] != 0.0 {
                    per_action[j] / pj.max(1e-300)
                } else {
                    0.0
                }
            }
        };
        if sum_d != 0.0 && pj > 0.0 {
            g += sum_d * (-(pj * (pj.ln() + h)));
        }
        out[j] = g * inv_t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::entropy;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn pass_rate_shift_sets_the_mass() {
        let z = [0.3, -1.0, 2.0, 0.1];
        let c = [false, true, false, false];
        let d = shift_for_mass(&z, &c, 0.4);
        let mut z2 = z;
        z2[1] += d;
        let p = crate::entropy::softmax(&z2, 1.0);
        assert!((p[1] - 0.4).abs() < 1e-12);
    }

    #[test]
    fn sequence_exact_pass_rate_matches_enumeration() {
        // L = 3, K = 3: enumerate all 27 responses.
        let cfg = BanditConfig {
            policy: PolicyKind::Sequence,
            prompts: 2,
            actions: 3,
            length: 3,
            forks: 1,
            det_margin: 1.0,
            ..Default::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let pol = Policy::new(&cfg, &mut rng);
        let t = 0.8;
        let (h, pass) = pol.exact_entropy_and_pass(t);
        let (mut h_e, mut pass_e) = (0.0, 0.0);
        let mut z = vec![0.0; 3];
        let mut p = vec![0.0; 3];
        for m in 0..2 {
            for seq in 0..27usize {
                let toks = [seq % 3, (seq / 3) % 3, seq / 9];
                let (mut prob, mut hs, mut ok) = (1.0, 0.0, true);
                let mut prev = bos(3);
                for pos in 0..3 {
                    pol.logits(m, pos, prev, &mut z);
                    softmax_into(&z, t, &mut p);
                    hs += entropy(&p);
                    prob *= p[toks[pos]];
                    ok &= pol.accepted(m, pos, toks[pos]);
                    prev = toks[pos];
                }
                h_e += prob * hs / 3.0 / 2.0;
                if ok {
                    pass_e += prob / 2.0;
                }
            }
        }
        assert!((h - h_e).abs() < 1e-12, "{h} vs {h_e}");
        assert!((pass - pass_e).abs() < 1e-12, "{pass} vs {pass_e}");
    }
}
