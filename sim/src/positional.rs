//! The LLM-like policies of the bandit (docs/mathematics.md §8): responses of
//! L tokens whose positions do not depend on the previous token, so a
//! response's probability, entropy and pass rate factor over positions and
//! are exact in closed form.
//!
//! - `per_position`: one trained logit vector per (prompt, position).
//! - `factored`: logits `z = E·h_{m,l}` from a shared output embedding `E`
//!   (K × d) and a hidden vector `h_{m,l}` (d) per (prompt, position), both
//!   trained, so an update at one position moves the tails everywhere, as an
//!   LLM's unembedding does.
//!
//! Positions are either forks or near-deterministic. The fork positions are
//! the same for every prompt, spread over the response as in sequence mode
//! (`j·L/F + L/(2F)` for fork j of F).
//!
//! Initial logits, at T = 1:
//! - near-deterministic position: one correct top token with probability
//!   `1 − tail_mass`; the other K − 1 tokens share `tail_mass` by
//!   `tail_shape` (`flat`: evenly; `zipf`: the r-th most likely gets weight
//!   `∝ r^(−tail_zipf)`). `per_position` draws the top token uniformly and a
//!   fresh random ranking of the tail per position; `factored` draws the top
//!   token among the d − 1 "head" tokens and uses one global ranking (a token
//!   frequency shared by every position).
//! - fork: `W = fork_width` candidate tokens with logits `~ N(0,
//!   logit_scale²)`, the correct set (`correct_size`, placed by
//!   `correct_rank`) among them, shifted so that the correct share of the
//!   candidates' mass is `p^(1/forks)` when `pass_rate` is given (as in
//!   sequence mode); when W < K the candidates together hold `1 − tail_mass`
//!   and the other K − W tokens the tail (shaped as above). `fork_width = 0`
//!   means every token is a candidate (`per_position`; no separate tail) or
//!   the d − 1 head tokens (`factored`).
//!
//! How the factored policy holds these exactly at init: coordinate 0 of
//! every `h` is 1 and column 0 of `E` holds the tail's log-weights `s_j`
//! (0 for flat, `−tail_zipf·ln rank_j` for Zipf); token `j < d − 1` (a head
//! token) has its own direction `E[j][1 + j] = c`, with
//! `c = √ln((1 − tail_mass)/tail_mass · (K − 1))` (the near-deterministic
//! logit offset split evenly between `E` and `h`); the other coordinates of
//! `E` start at 0. A position's `h` puts on each candidate's direction the
//! logit offset that gives it its mass (divided by c), so `z_j = s_j` off the
//! candidates and the tail mass and shape are exact at init (not only
//! approximately), as in `per_position`. Training then moves every
//! coordinate of `E` and `h`.
//!
//! The reward: a response is correct iff its token at every fork is in that
//! fork's correct set and, with `tail_reward = "zero"`, its token at every
//! near-deterministic position is the top token; with `"neutral"` the reward
//! ignores the near-deterministic positions.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Where the correct set sits in the initial ranking of the logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CorrectRank {
    /// Uniformly random actions.
    #[default]
    Random,
    /// The top actions.
    Mode,
    /// Around the median.
    Middle,
    /// The least likely actions.
    Rare,
}

/// How the tail mass of a position spreads over its tail tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TailShape {
    /// Evenly.
    #[default]
    Flat,
    /// The r-th tail token gets weight `∝ r^(−tail_zipf)`.
    Zipf,
}

/// What a tail token sampled at a near-deterministic position does to the reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TailReward {
    /// The response is wrong (as in an LLM).
    #[default]
    Zero,
    /// The reward ignores near-deterministic positions.
    Neutral,
}

/// The instance parameters of an LLM-like policy (already validated).
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub factored: bool,
    pub m: usize,
    pub k: usize,
    pub l: usize,
    /// Embedding dimension (factored), else ignored.
    pub d: usize,
    pub forks: usize,
    /// 0 = every token (per_position) or the d − 1 head tokens (factored).
    pub fork_width: usize,
    pub logit_scale: f64,
    pub correct_size: usize,
    pub correct_rank: CorrectRank,
    pub pass_rate: Option<(f64, f64)>,
    pub tail_mass: f64,
    pub tail_shape: TailShape,
    pub tail_zipf: f64,
    pub tail_reward: TailReward,
}

impl Spec {
    /// The number of candidates at a fork.
    pub fn fork_candidates(&self) -> usize {
        match (self.fork_width, self.factored) {
            (0, false) => self.k,
            (0, true) => self.d - 1,
            (w, _) => w,
        }
    }
}

/// A built instance: parameters and reward structure.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub params: Vec<f64>,
    /// The fork positions (ascending).
    pub fork_pos: Vec<usize>,
    /// Per position: the reward ignores it (near-deterministic with
    /// `tail_reward = "neutral"`).
    pub ignored: Vec<bool>,
    /// Correct tokens of context `c = m·L + pos` are
    /// `correct[correct_start[c]..correct_start[c + 1]]`.
    pub correct: Vec<u32>,
    pub correct_start: Vec<usize>,
}

/// Fork positions: fork j of F at `j·L/F + L/(2F)` (sequence mode's rule).
pub fn fork_positions(l: usize, forks: usize) -> Vec<usize> {
    let f = forks.max(1);
    (0..forks).map(|j| (j * l) / f + l / (2 * f)).collect()
}

fn normal(rng: &mut impl Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// Partial Fisher–Yates: the first `n` entries of `idx` become a uniform
/// random ordered selection.
fn shuffle_prefix(idx: &mut [usize], n: usize, rng: &mut impl Rng) {
    let len = idx.len();
    for i in 0..n.min(len) {
        let j = rng.random_range(i..len);
        idx.swap(i, j);
    }
}

/// The tail's log-weights, normalised to total mass `q`: `out[r] =
/// ln q + ln w_{r+1}` for ranks r = 0..n (flat: `w = 1/n`; Zipf: `w_r ∝ r^(−s)`).
fn tail_log_weights(n: usize, q: f64, shape: TailShape, s: f64, out: &mut Vec<f64>) {
    out.clear();
    match shape {
        TailShape::Flat => out.extend(std::iter::repeat_n(q.ln() - (n as f64).ln(), n)),
        TailShape::Zipf => {
            out.extend((1..=n).map(|r| -s * (r as f64).ln()));
            let lse = log_sum_exp(out);
            out.iter_mut().for_each(|x| *x += q.ln() - lse);
        }
    }
}

fn log_sum_exp(x: &[f64]) -> f64 {
    let mx = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    mx + x.iter().map(|v| (v - mx).exp()).sum::<f64>().ln()
}

/// Choose `size` actions by their rank in `z` (descending).
pub(crate) fn pick_correct(
    z: &[f64],
    size: usize,
    rank: CorrectRank,
    rng: &mut impl Rng,
) -> Vec<usize> {
    let k = z.len();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| z[b].total_cmp(&z[a]).then(a.cmp(&b)));
    match rank {
        CorrectRank::Mode => order[..size].to_vec(),
        CorrectRank::Rare => order[k - size..].to_vec(),
        CorrectRank::Middle => {
            let start = (k - size) / 2;
            order[start..start + size].to_vec()
        }
        CorrectRank::Random => {
            let mut idx: Vec<usize> = (0..k).collect();
            for i in 0..size {
                let j = rng.random_range(i..k);
                idx.swap(i, j);
            }
            idx[..size].to_vec()
        }
    }
}

/// Shift `δ` added to the correct logits so that `softmax(z)(C) = p` at T = 1:
/// `e^δ = p·S_¬C / ((1−p)·S_C)`.
pub(crate) fn shift_for_mass(z: &[f64], correct: &[bool], p: f64) -> f64 {
    let mx = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let (mut sc, mut sn) = (0.0, 0.0);
    for (&zj, &c) in z.iter().zip(correct) {
        if c {
            sc += (zj - mx).exp();
        } else {
            sn += (zj - mx).exp();
        }
    }
    (p * sn / ((1.0 - p) * sc)).ln()
}

/// A fork's candidate logits (`w` of them) with the correct set placed and
/// shifted: returns (logits, indices of the correct candidates).
fn fork_candidates(spec: &Spec, w: usize, rng: &mut impl Rng) -> (Vec<f64>, Vec<usize>) {
    let mut x: Vec<f64> = (0..w).map(|_| normal(rng) * spec.logit_scale).collect();
    let sel = pick_correct(&x, spec.correct_size, spec.correct_rank, rng);
    if let Some((lo, hi)) = spec.pass_rate {
        let p = rng
            .random_range(lo..=hi)
            .powf(1.0 / spec.forks.max(1) as f64);
        let mut mask = vec![false; w];
        sel.iter().for_each(|&i| mask[i] = true);
        let delta = shift_for_mass(&x, &mask, p);
        sel.iter().for_each(|&i| x[i] += delta);
    }
    (x, sel)
}

/// Build the instance of `spec` from `rng`. Parameters: `per_position`
/// M × L × K logits; `factored` E (K × d, row-major) then H (M × L × d).
pub fn build(spec: &Spec, rng: &mut impl Rng) -> Instance {
    let (m, k, l, d) = (spec.m, spec.k, spec.l, spec.d);
    let q = spec.tail_mass;
    let fork_pos = fork_positions(l, spec.forks);
    let is_fork: Vec<bool> = (0..l).map(|p| fork_pos.contains(&p)).collect();
    let ignored: Vec<bool> = is_fork
        .iter()
        .map(|&f| !f && spec.tail_reward == TailReward::Neutral)
        .collect();
    let mut correct = Vec::new();
    let mut correct_start = Vec::with_capacity(m * l + 1);
    let w = spec.fork_candidates();
    let mut tail = Vec::with_capacity(k);
    let mut idx: Vec<usize> = (0..k).collect();
    let params = if !spec.factored {
        let mut params = vec![0.0; m * l * k];
        let mut in_cand = vec![false; k];
        for c in 0..m * l {
            correct_start.push(correct.len());
            let z = &mut params[c * k..(c + 1) * k];
            if is_fork[c % l] {
                if w == k {
                    let (x, sel) = fork_candidates(spec, k, rng);
                    z.copy_from_slice(&x);
                    correct.extend(sel.iter().map(|&a| a as u32));
                    continue;
                }
                shuffle_prefix(&mut idx, w, rng);
                let (x, sel) = fork_candidates(spec, w, rng);
                let lse = log_sum_exp(&x);
                for (i, &tok) in idx[..w].iter().enumerate() {
                    z[tok] = x[i] - lse + (1.0 - q).ln();
                    in_cand[tok] = true;
                }
                correct.extend(sel.iter().map(|&i| idx[i] as u32));
                // the tail: the other tokens, in a random order for Zipf
                let mut rest: Vec<usize> = (0..k).filter(|&j| !in_cand[j]).collect();
                if spec.tail_shape == TailShape::Zipf {
                    let n = rest.len();
                    shuffle_prefix(&mut rest, n, rng);
                }
                tail_log_weights(rest.len(), q, spec.tail_shape, spec.tail_zipf, &mut tail);
                for (&tok, &lw) in rest.iter().zip(&tail) {
                    z[tok] = lw;
                }
                idx[..w].iter().for_each(|&tok| in_cand[tok] = false);
            } else {
                let a = rng.random_range(0..k);
                correct.push(a as u32);
                // tail order: the tokens other than a, shuffled for Zipf
                idx.iter_mut().enumerate().for_each(|(i, x)| *x = i);
                idx.swap(a, k - 1);
                if spec.tail_shape == TailShape::Zipf {
                    shuffle_prefix(&mut idx[..k - 1], k - 1, rng);
                }
                tail_log_weights(k - 1, q, spec.tail_shape, spec.tail_zipf, &mut tail);
                for (&tok, &lw) in idx[..k - 1].iter().zip(&tail) {
                    z[tok] = lw;
                }
                z[a] = (1.0 - q).ln();
            }
            idx.iter_mut().enumerate().for_each(|(i, x)| *x = i);
        }
        params
    } else {
        let n_head = d - 1;
        // global tail log-weights s_j (column 0 of E)
        let mut s = vec![0.0; k];
        if spec.tail_shape == TailShape::Zipf {
            let mut rank: Vec<usize> = (0..k).collect();
            shuffle_prefix(&mut rank, k, rng);
            for (r, &tok) in rank.iter().enumerate() {
                s[tok] = -spec.tail_zipf * ((r + 1) as f64).ln();
            }
        }
        let s_all: f64 = s.iter().map(|x| x.exp()).sum();
        // the head directions' length c: the near-deterministic logit offset
        // x (flat tail) is split evenly between E and h, c = √x, so that one
        // optimizer step of a given size moves z through E and h alike
        let scale = (((1.0 - q) / q) * (k - 1) as f64).ln().max(1.0).sqrt();
        let mut params = vec![0.0; k * d + m * l * d];
        for j in 0..k {
            params[j * d] = s[j];
            if j < n_head {
                params[j * d + 1 + j] = scale;
            }
        }
        let mut heads: Vec<usize> = (0..n_head).collect();
        for c in 0..m * l {
            correct_start.push(correct.len());
            let h = &mut params[k * d + c * d..k * d + (c + 1) * d];
            h[0] = 1.0;
            if is_fork[c % l] {
                shuffle_prefix(&mut heads, w, rng);
                let (x, sel) = fork_candidates(spec, w, rng);
                let lse = log_sum_exp(&x);
                let s_cand: f64 = heads[..w].iter().map(|&t| s[t].exp()).sum();
                let s_rest = s_all - s_cand;
                for (i, &tok) in heads[..w].iter().enumerate() {
                    h[1 + tok] = (x[i] - lse + ((1.0 - q) / q).ln() + s_rest.ln() - s[tok]) / scale;
                }
                correct.extend(sel.iter().map(|&i| heads[i] as u32));
            } else {
                let a = rng.random_range(0..n_head);
                correct.push(a as u32);
                h[1 + a] = (((1.0 - q) / q).ln() + (s_all - s[a].exp()).ln() - s[a]) / scale;
            }
        }
        params
    };
    correct_start.push(correct.len());
    Instance {
        params,
        fork_pos,
        ignored,
        correct,
        correct_start,
    }
}

/// Factored logits `out_j = E_j · h` (E row-major K × d). No allocation;
/// four partial sums per dot product, added in a fixed order, so the result
/// does not depend on the machine or on the vector unit it runs on
/// (`crate::simd`'s dispatch).
#[inline(always)]
fn factored_logits_body(e: &[f64], h: &[f64], out: &mut [f64]) {
    let d = h.len();
    let (h4, h_rest) = h.split_at(d - d % 4);
    for (o, row) in out.iter_mut().zip(e.chunks_exact(d)) {
        let (r4, r_rest) = row.split_at(d - d % 4);
        let mut acc = [0.0f64; 4];
        for (rc, hc) in r4.chunks_exact(4).zip(h4.chunks_exact(4)) {
            for i in 0..4 {
                acc[i] += rc[i] * hc[i];
            }
        }
        let tail: f64 = r_rest.iter().zip(h_rest).map(|(a, b)| a * b).sum();
        *o = (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail;
    }
}

crate::simd::dispatched! {
    /// Factored logits `out_j = E_j · h` (E row-major K × d), see
    /// `factored_logits_body`.
    pub fn factored_logits(e: &[f64], h: &[f64], out: &mut [f64]) = factored_logits_body;
}

/// Backward of [`factored_logits`]: `grad_E_j += dz_j·h`, `grad_h += Σ_j dz_j·E_j`.
#[inline(always)]
fn factored_backward_body(
    e: &[f64],
    h: &[f64],
    dz: &[f64],
    grad_e: &mut [f64],
    grad_h: &mut [f64],
) {
    let d = h.len();
    for ((&g, row), grow) in dz
        .iter()
        .zip(e.chunks_exact(d))
        .zip(grad_e.chunks_exact_mut(d))
    {
        if g != 0.0 {
            for ((ge, &hi), (gh, &ei)) in grow.iter_mut().zip(h).zip(grad_h.iter_mut().zip(row)) {
                *ge += g * hi;
                *gh += g * ei;
            }
        }
    }
}

crate::simd::dispatched! {
    /// Backward of [`factored_logits`]: `grad_E_j += dz_j·h`, `grad_h += Σ_j dz_j·E_j`.
    pub fn factored_backward(e: &[f64], h: &[f64], dz: &[f64], grad_e: &mut [f64], grad_h: &mut [f64]) = factored_backward_body;
}

/// Logits of `n` contexts at once, `out[i·K..(i + 1)·K] = E · h_i` for the
/// rows `h_i` of `hs` (n × d, row-major), as one matrix product
/// (`matrixmultiply`'s dgemm). At K = 32,768 the embedding E is 16 MB and
/// does not stay in cache: context by context ([`factored_logits`]) it is
/// read once per context, here once per block, which is what bounds the
/// factored policy's speed. The kernel adds in its own order: the same
/// bits for the same input on the same machine whatever the thread count
/// (the crate's threading feature is off), but not bit-equal to
/// [`factored_logits`] (nor, across CPUs with and without FMA, to itself).
pub fn factored_logits_many(e: &[f64], hs: &[f64], d: usize, out: &mut [f64]) {
    let n = hs.len() / d;
    let k = e.len() / d;
    assert!(hs.len() == n * d && e.len() == k * d && out.len() >= n * k);
    // SAFETY: A = hs (n × d, strides d, 1), B = Eᵀ (d × K: element (j, c)
    // at E[c·d + j], strides 1, d), C = out (n × K, strides K, 1); every
    // index stays inside the slices, whose lengths are checked above.
    unsafe {
        matrixmultiply::dgemm(
            n,
            d,
            k,
            1.0,
            hs.as_ptr(),
            d as isize,
            1,
            e.as_ptr(),
            1,
            d as isize,
            0.0,
            out.as_mut_ptr(),
            k as isize,
            1,
        );
    }
}

/// Backward of [`factored_logits_many`] for `n` contexts with logit
/// gradients `dz` (n × K): `grad_E += dzᵀ · hs` and `grad_hs = dz · E`
/// (n × d, overwritten), both as matrix products.
pub fn factored_backward_many(
    e: &[f64],
    hs: &[f64],
    dz: &[f64],
    d: usize,
    grad_e: &mut [f64],
    grad_hs: &mut [f64],
) {
    let n = hs.len() / d;
    let k = e.len() / d;
    assert!(hs.len() == n * d && e.len() == k * d && dz.len() >= n * k);
    assert!(grad_e.len() == k * d && grad_hs.len() >= n * d);
    // SAFETY: grad_E (K × d, strides d, 1) += A·B with A = dzᵀ (K × n:
    // element (c, i) at dz[i·K + c], strides 1, K) and B = hs (n × d,
    // strides d, 1); then grad_hs (n × d) = dz (n × K, strides K, 1) · E
    // (K × d, strides d, 1). Lengths checked above.
    unsafe {
        matrixmultiply::dgemm(
            k,
            n,
            d,
            1.0,
            dz.as_ptr(),
            1,
            k as isize,
            hs.as_ptr(),
            d as isize,
            1,
            1.0,
            grad_e.as_mut_ptr(),
            d as isize,
            1,
        );
        matrixmultiply::dgemm(
            n,
            k,
            d,
            1.0,
            dz.as_ptr(),
            k as isize,
            1,
            e.as_ptr(),
            d as isize,
            1,
            0.0,
            grad_hs.as_mut_ptr(),
            d as isize,
            1,
        );
    }
}
