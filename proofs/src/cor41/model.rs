//! The instances and closed-form pieces of `cor-4-1` shared by its compute,
//! judge and render steps (constants, families, instances, the split
//! advantages, the finite step, the S terms and the claim's test).

use entropic_sim::bandit::{BanditConfig, CorrectRank, Policy, PolicyKind};
use entropic_sim::entropy::{cov_pi_logpi, entropy, expected_delta_z, softmax, UpdateRule};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Claim id in `verification.json`.
pub const CLAIM: &str = "cor-4-1";
/// Step size of the finite expected step (b) and of the GRPO step (c):
/// small enough that the first order dominates on most instances, large
/// enough to be a real step.
pub const ETA: f64 = 0.1;
/// Action counts, log-spaced 2..1024.
pub const KS: [usize; 10] = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// Standard deviations of the initial logits.
pub const SCALES: [f64; 4] = [0.5, 1.0, 2.0, 4.0];
/// Where the correct set sits in the ranking of the logits.
pub const RANKS: [CorrectRank; 4] = [
    CorrectRank::Mode,
    CorrectRank::Middle,
    CorrectRank::Rare,
    CorrectRank::Random,
];
/// Samples per group in part (c), as the authors' run script.
pub const GROUP: usize = 8;

/// One instance family of parts (a), (b): K, logit scale, rank of C, |C|.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Family {
    pub k: usize,
    pub scale: f64,
    pub rank: CorrectRank,
    pub correct_size: usize,
}

/// An instance: logits `z`, `π = softmax(z)`, membership of C.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub z: Vec<f64>,
    pub p: Vec<f64>,
    pub correct: Vec<bool>,
}

pub(super) fn rank_name(r: CorrectRank) -> &'static str {
    match r {
        CorrectRank::Mode => "mode",
        CorrectRank::Middle => "middle",
        CorrectRank::Rare => "rare",
        CorrectRank::Random => "random",
    }
}

/// Correct-set sizes of a K: 1, and `max(2, K/4)` for K ≥ 4 ("larger";
/// our choice: a quarter of the actions, the order of an LLM's set of
/// acceptable tokens at a fork is unknown).
pub fn sizes(k: usize) -> Vec<usize> {
    if k >= 4 {
        vec![1, (k / 4).max(2)]
    } else {
        vec![1]
    }
}

/// Every family of (a), (b), in report order (K, |C|, scale, rank).
pub fn families() -> Vec<Family> {
    let mut out = Vec::new();
    for &k in &KS {
        for correct_size in sizes(k) {
            for &scale in &SCALES {
                for &rank in &RANKS {
                    out.push(Family {
                        k,
                        scale,
                        rank,
                        correct_size,
                    });
                }
            }
        }
    }
    out
}

/// The instance of `f` for `seed`: the simulator's tabular instance with
/// one prompt (logits `~ N(0, scale²)`, C by rank), instance RNG = ChaCha8(seed).
pub fn instance(f: &Family, seed: u64) -> Instance {
    let cfg = BanditConfig {
        policy: PolicyKind::Tabular,
        prompts: 1,
        actions: f.k,
        logit_scale: f.scale,
        correct_size: f.correct_size.clamp(1, f.k - 1),
        correct_rank: f.rank,
        ..Default::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pol = Policy::new(&cfg, &mut rng);
    Instance {
        p: softmax(&pol.params, 1.0),
        z: pol.params,
        correct: pol.accept,
    }
}

/// Advantages of the positive-only (`1 − p` on C) and negative-only (`−p`
/// off C) updates (docs/mathematics.md §5).
pub fn split_advantages(p: &[f64], correct: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let pc: f64 = p
        .iter()
        .zip(correct)
        .filter(|(_, &c)| c)
        .map(|(x, _)| x)
        .sum();
    let pos = correct
        .iter()
        .map(|&c| if c { 1.0 - pc } else { 0.0 })
        .collect();
    let neg = correct.iter().map(|&c| if c { 0.0 } else { -pc }).collect();
    (pos, neg)
}

/// True entropy change of the finite expected step `z + E[Δz]` (docs/mathematics.md §4's
/// `E[Δz]`) with advantage function `adv`.
pub fn finite_step_dh(rule: UpdateRule, z: &[f64], adv: &[f64], eta: f64) -> f64 {
    let p = softmax(z, 1.0);
    let dz = expected_delta_z(rule, &p, adv, eta);
    let z1: Vec<f64> = z.iter().zip(&dz).map(|(a, b)| a + b).collect();
    entropy(&softmax(&z1, 1.0)) - entropy(&p)
}

/// `(S_C, S_¬C)` of docs/mathematics.md §5: `S_C = Σ_{j∈C} π_j²(log π_j + H)`, `S_¬C = c − S_C`.
pub fn s_terms(p: &[f64], correct: &[bool]) -> (f64, f64) {
    let h = entropy(p);
    let s_c: f64 = p
        .iter()
        .zip(correct)
        .filter(|(&x, &c)| c && x > 0.0)
        .map(|(&x, _)| x * x * (x.ln() + h))
        .sum();
    (s_c, cov_pi_logpi(p) - s_c)
}

/// The claim's statement on one pair of changes: `ΔH₊ < 0 < ΔH₋`.
pub fn holds(dp: f64, dn: f64) -> bool {
    dp < 0.0 && dn > 0.0
}
