//! Memory a run needs, estimated from its configuration before anything is
//! allocated, so a size inside the documented ranges that the machine
//! cannot hold is refused with the keys that make it large instead of
//! aborting on allocation.
//!
//! The estimate counts the arrays whose size grows with the configuration
//! (see [`crate::bandit::Policy::new`] and [`crate::grpo::Trainer::new`]):
//! the policy's parameters and instance data, the reference copy when
//! `grpo.kl_coef > 0`, the gradient and Adam's two moments, the batch
//! buffers, and the records kept for the report. Fixed-size state (a few
//! kilobytes) is left out, so the figure is a lower bound of the real use.
//! One estimate per policy that exists: tabular, linear and sequence.

use crate::bandit::PolicyKind;
use crate::optim::OptimizerKind;
use crate::scenario::RunConfig;

/// Bytes of one `f64`.
const F64: u64 = 8;
/// Bytes one [`crate::metrics::Record`] takes in memory with its strings
/// (a measured JSON line is about 300 bytes; the struct is of the same
/// order). Chosen generously: records of every seed are kept for the report.
pub const RECORD_BYTES: u64 = 512;

/// What one seed of `rc` needs while it runs, and which keys drive it.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Bytes of the policy, optimizer and batch buffers of one seed.
    pub per_seed: u64,
    /// Bytes of the records of one seed (kept until the report is written).
    pub records_per_seed: u64,
    /// The keys the size grows with (for the error message).
    pub keys: Vec<&'static str>,
}

/// `a·b·…` with saturation (a product that overflows is "too large" anyway).
fn prod(xs: &[u64]) -> u64 {
    xs.iter().fold(1u64, |a, &b| a.saturating_mul(b))
}

/// The estimate for one configuration (one arm or sweep point).
pub fn estimate(rc: &RunConfig) -> Estimate {
    let b = &rc.bandit;
    let explicit = !b.logits.is_empty();
    let (m, k) = if explicit {
        (
            b.logits.len() as u64,
            b.logits.first().map_or(0, |r| r.len()) as u64,
        )
    } else {
        (b.prompts as u64, b.actions as u64)
    };
    let kind = if explicit {
        PolicyKind::Tabular
    } else {
        b.policy
    };
    // (params, other instance bytes, keys)
    let (params, instance, keys): (u64, u64, Vec<&'static str>) = match kind {
        PolicyKind::Tabular => (
            prod(&[m, k]),
            prod(&[m, k]), // accept: one byte per (prompt, action)
            if explicit {
                vec!["bandit.logits"]
            } else {
                vec!["bandit.prompts", "bandit.actions"]
            },
        ),
        PolicyKind::Linear => {
            let d = b.features as u64;
            (
                prod(&[k, d]),
                // x (M×D f64), offset (M×K f64), accept (M×K bytes)
                prod(&[m, d, F64])
                    .saturating_add(prod(&[m, k, F64]))
                    .saturating_add(prod(&[m, k])),
                vec!["bandit.prompts", "bandit.actions", "bandit.features"],
            )
        }
        PolicyKind::PerPosition => {
            let l = b.length as u64;
            (
                prod(&[m, l, k]),
                // correct lists and their offsets: a few words per context
                prod(&[m, l, 4 * F64]),
                vec!["bandit.prompts", "bandit.actions", "bandit.length"],
            )
        }
        PolicyKind::Factored => {
            let (l, d) = (b.length as u64, b.embed_dim as u64);
            (
                prod(&[k, d]).saturating_add(prod(&[m, l, d])),
                prod(&[m, l, 4 * F64]),
                vec![
                    "bandit.prompts",
                    "bandit.actions",
                    "bandit.length",
                    "bandit.embed_dim",
                ],
            )
        }
        PolicyKind::Sequence => {
            let l = b.length as u64;
            (
                prod(&[l, k + 1, k]).saturating_add(prod(&[m, l, k])),
                prod(&[m, l, k]),
                vec!["bandit.prompts", "bandit.actions", "bandit.length"],
            )
        }
    };
    let policy = prod(&[params, F64]).saturating_add(instance);
    let copies = if rc.grpo.kl_coef > 0.0 { 2 } else { 1 };
    // gradient, plus Adam's first and second moments
    let opt = match rc.grpo.optimizer {
        OptimizerKind::Adam => 3,
        OptimizerKind::Sgd => 1,
    };
    // batch buffers: per sampled token a handful of scalars, plus the
    // probabilities of every action for single-token responses
    let tokens = prod(&[
        rc.grpo.batch_prompts as u64,
        rc.grpo.group_size as u64,
        b.length.max(1) as u64,
    ]);
    // per_position and factored keep one probability row per (prompt,
    // position) context, their G tokens stored together
    let prob_rows = if kind.is_positional() {
        prod(&[rc.grpo.batch_prompts as u64, b.length as u64])
    } else {
        tokens
    };
    let batch = prod(&[tokens, 8 * F64]).saturating_add(prod(&[prob_rows, k, F64]));
    let per_seed = prod(&[policy, copies])
        .saturating_add(prod(&[params, F64, opt]))
        .saturating_add(batch);
    Estimate {
        per_seed,
        records_per_seed: prod(&[rc.steps as u64, RECORD_BYTES]),
        keys,
    }
}

/// Peak bytes of running `rc` with `seeds` seeds on `threads` threads: the
/// seeds running at once hold their policy state, and the records of every
/// seed are kept.
pub fn peak_bytes(rc: &RunConfig, seeds: usize, threads: usize) -> u64 {
    let e = estimate(rc);
    let at_once = seeds.min(threads.max(1)) as u64;
    prod(&[e.per_seed, at_once]).saturating_add(prod(&[e.records_per_seed, seeds as u64]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    fn rc(text: &str) -> RunConfig {
        parse("t.toml", "t", text).expect("scenario").runs.remove(0)
    }

    #[test]
    fn the_issue_size_is_tens_of_gigabytes_and_a_small_one_is_small() {
        // 10^6 prompts × 4096 actions × 8 bytes = 32.8 GB of logits alone.
        let big = rc("[bandit]\nprompts = 1000000\nactions = 4096\n");
        let e = estimate(&big);
        assert!(e.per_seed > 32_768_000_000, "{}", e.per_seed);
        assert_eq!(e.keys, vec!["bandit.prompts", "bandit.actions"]);
        let small = rc("[bandit]\nprompts = 8\nactions = 4\n[grpo]\nbatch_prompts = 4\n");
        assert!(estimate(&small).per_seed < 1_000_000);
    }

    #[test]
    fn sequence_and_linear_name_their_own_keys() {
        let s = rc("[bandit]\npolicy = \"sequence\"\n");
        assert!(estimate(&s).keys.contains(&"bandit.length"));
        let l = rc("[bandit]\npolicy = \"linear\"\n");
        assert!(estimate(&l).keys.contains(&"bandit.features"));
    }
}
