//! The paper-like instance family (docs/mathematics.md §8.1): a
//! `per_position` bandit whose entropy composition at the rollout
//! temperature is the one the EntroPIC paper reports for its Qwen runs,
//! defined by measurement rather than by resemblance. One definition, used
//! by the regime map's paper-like cell (`entropic map`) and by the claim
//! checks' paper-like variants.
//!
//! What the paper reports, and what the family is required to meet (all at
//! the rollout temperature T = 0.6, τ = 0.95):
//! - token-mean entropy at the start in [0.10, 0.15] nats (paper ≈ 0.12;
//!   ≈ 0.33 at T = 1);
//! - at least 80% of the sampled tokens above τ (`hp_frac ≥ 0.8`);
//! - plain GRPO "flat, then collapsing". The criterion chosen here: the
//!   seeds' mean exact entropy stays within 10% of H0 for the first
//!   [`FLAT_STEPS`] updates and is below half of H0 by the end of the
//!   300-step horizon.
//!
//! What the family is (see [`paper_like`]): 64 prompts, vocabulary 256,
//! responses of 32 tokens with 2 forks of 8 candidates and 30
//! near-deterministic positions that leave 6% of their T = 1 mass to a
//! Zipf tail of exponent 2; a tail token at a near-deterministic position
//! fails the response (`tail_reward = "zero"`); initial pass rates per
//! prompt uniform in [0.005, 0.05] (the share of the fork candidates' mass
//! on the correct token is the square root); GRPO with G = 8, 32 prompts
//! per batch, T = 0.6, Adam at the map's learning rate 0.02.
//!
//! Measured (8 seeds, `entropic run` of the equivalent scenario; the
//! command is in docs/mathematics.md §8.1): at T = 0.6 the exact token-mean
//! entropy is 0.128 nats (seeds 0.123–0.130), `hp_frac` 0.933,
//! `hp_entropy_share` 0.25, `tail_mass_hp` 0.005, exact pass rate 0.019 and
//! 87% of the groups with zero advantage; at T = 1 the same instances have
//! 0.428 nats and no token above τ (the near-deterministic positions hold
//! 0.94 at T = 1, so they become high-probability only at T = 0.6, as
//! sampling at T = 0.6 sharpens an LLM's tokens). Plain GRPO (8 seeds, mean
//! exact entropy) stays within 10% of H0 for the first 75 updates (0.1286
//! at update 30, 0.1230 at 60), then collapses: 0.094 at update 100, below
//! 0.5·H0 from update 137, 0.018 (0.14·H0) at update 300, while its
//! pass rate climbs from 0.02 to 0.92 and `hp_frac` to 0.997.
//!
//! What the paper does not report, and how it was chosen here:
//! - the tail's mass and shape at the near-deterministic tokens, and
//!   `hp_entropy_share`: a flat tail nearly vanishes at T = 0.6 (its
//!   weights are raised to the power 1/T): the family with a flat tail of
//!   the same mass has 0.096 nats at T = 0.6, of which the HP tokens carry
//!   3.6%; a Zipf tail of exponent 2 keeps a quarter of the entropy on HP
//!   tokens at T = 0.6. The mass (6%) and exponent were set so that the entropy lands
//!   near the paper's 0.12 with `hp_frac` above 0.9;
//! - the vocabulary: 256, not the paper's ≈ 152k. With a Zipf exponent of
//!   2 the tail's entropy hardly depends on K (the Zipf sum converges):
//!   K = 4,096 measures 0.127 nats at T = 0.6 against 0.128 at K = 256, so
//!   the cheaper vocabulary stands for the larger;
//! - the initial pass rate: the paper's tasks are hard for its models at
//!   the start, and in this policy an early plateau appears only when few
//!   groups carry a signal (with initial pass rates in [0.1, 0.6] plain
//!   GRPO's entropy falls from the first update; in [0.005, 0.05] about
//!   one group in eight has a nonzero advantage and the entropy stays flat
//!   until the pass rate rises). The plateau is therefore a low-signal
//!   phase, which the paper's runs may or may not share; α acts through
//!   |A| and has little to act on while it lasts.
//! - The ratio of the entropies at T = 1 and T = 0.6 is 3.3 here against
//!   the paper's ≈ 2.75; the family does not match it more closely.
//!
//! Cost: about 10 ms of one core per update with the exact entropy every
//! update (measured on the loaded 2-core machine); the map's cell, 92
//! seed-runs of 300 updates, is about 28,000 updates.
use entropic_sim::bandit::{BanditConfig, PolicyKind, TailReward, TailShape};
use entropic_sim::grpo::GrpoConfig;
use entropic_sim::optim::OptimizerKind;

/// The rollout temperature of the family (the paper's).
pub const TEMPERATURE: f64 = 0.6;
/// The composition's entropy band at T = 0.6, nats.
pub const H0_BAND: (f64, f64) = (0.10, 0.15);
/// The least share of sampled tokens above τ = 0.95 at T = 0.6.
pub const HP_FRAC_MIN: f64 = 0.8;
/// Plain GRPO stays within 10% of H0 for at least this many updates (the
/// criterion; measured: 75).
pub const FLAT_STEPS: usize = 60;
/// The horizon of the collapse criterion and of the map's cells.
pub const HORIZON: usize = 300;
/// The target of the claim checks' paper-like variants with one target
/// (`cor-4-4`, `temperature`, `thm-4-3`): the paper's 0.1 nats, against
/// its start of 0.12 (the family starts at 0.128); plain GRPO passes it
/// near update 90 and keeps falling.
pub const TARGET: f64 = 0.1;

/// The paper-like family's bandit and GRPO configuration (module docs):
/// `per_position`, 64 prompts, K = 256, L = 32 with 2 forks of width 8,
/// tail 0.06 Zipf(2) and `tail_reward = "zero"`, initial pass rates in
/// [0.005, 0.05]; G = 8, 32 prompts per batch, T = 0.6, Adam at 0.02.
pub fn paper_like() -> (BanditConfig, GrpoConfig) {
    let bandit = BanditConfig {
        policy: PolicyKind::PerPosition,
        prompts: 64,
        actions: 256,
        length: 32,
        forks: 2,
        fork_width: 8,
        logit_scale: 1.0,
        pass_rate: vec![0.005, 0.05],
        tail_mass: 0.06,
        tail_shape: TailShape::Zipf,
        tail_zipf: 2.0,
        tail_reward: TailReward::Zero,
        ..BanditConfig::default()
    };
    let grpo = GrpoConfig {
        group_size: 8,
        batch_prompts: 32,
        temperature: TEMPERATURE,
        optimizer: OptimizerKind::Adam,
        lr: 0.02,
        ..GrpoConfig::default()
    };
    (bandit, grpo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use entropic_sim::control::ControlConfig;
    use entropic_sim::grpo::Trainer;

    /// The family's composition at init, measured on seeds 0–3: the exact
    /// token-mean entropy at T = 0.6 lies in [0.10, 0.15] and at least 80%
    /// of a first rollout's sampled tokens are above τ (the first step's
    /// `hp_frac`, computed on the initial policy's samples); at T = 1 the
    /// same instance has more entropy and no high-probability majority.
    /// The HP tokens carry at least 15% of the entropy (measured: 25%). A
    /// flat tail of the same mass fails the entropy band (the tail
    /// vanishes at T = 0.6), so the check can fail.
    #[test]
    fn composition_at_init_is_the_papers() {
        let (b, g) = paper_like();
        for seed in 0..4 {
            let mut tr = Trainer::new(&b, &g, &ControlConfig::default(), seed, "plain");
            let (h, _) = tr.policy.exact_entropy_and_pass(TEMPERATURE);
            assert!(
                (H0_BAND.0..=H0_BAND.1).contains(&h),
                "seed {seed}: H0 {h} at T = 0.6"
            );
            let (h1, _) = tr.policy.exact_entropy_and_pass(1.0);
            assert!(h1 > 2.0 * h, "seed {seed}: H at T = 1 {h1} vs {h}");
            let rec = tr.step(false).expect("step");
            let hp = rec.hp_frac.unwrap_or(f64::NAN);
            assert!(hp >= HP_FRAC_MIN, "seed {seed}: hp_frac {hp}");
            let share = rec.hp_entropy_share.unwrap_or(f64::NAN);
            assert!(share >= 0.15, "seed {seed}: hp_entropy_share {share}");
        }
        let flat = BanditConfig {
            tail_shape: TailShape::Flat,
            ..b.clone()
        };
        let tr = Trainer::new(&flat, &g, &ControlConfig::default(), 0, "flat");
        let (h, _) = tr.policy.exact_entropy_and_pass(TEMPERATURE);
        assert!(h < H0_BAND.0, "a flat tail keeps {h} nats at T = 0.6");
    }

    /// The dynamic part of the definition on two seeds, cut at 160 updates
    /// to keep the test short: plain GRPO's mean exact entropy stays within
    /// 10% of H0 for [`FLAT_STEPS`] updates and is below 0.5·H0 by update
    /// 160 (measured on 8 seeds: update 137). Under initial pass rates
    /// in [0.1, 0.6] (the core cells') the same instance leaves the 10% band
    /// before update 60, so the first half can fail.
    #[test]
    fn plain_grpo_is_flat_then_collapses() {
        let run = |b: &BanditConfig, g: &GrpoConfig, steps: usize| -> Vec<f64> {
            let mut mean = vec![0.0; steps + 1];
            for seed in 0..2u64 {
                let mut tr = Trainer::new(b, g, &ControlConfig::default(), seed, "plain");
                mean[0] += tr.policy.exact_entropy_and_pass(g.temperature).0 / 2.0;
                for h in mean.iter_mut().skip(1) {
                    tr.step(false).expect("step");
                    *h += tr.policy.exact_entropy_and_pass(g.temperature).0 / 2.0;
                }
            }
            mean
        };
        let (b, g) = paper_like();
        let h = run(&b, &g, 160);
        let flat = h[..=FLAT_STEPS]
            .iter()
            .all(|x| (x - h[0]).abs() <= 0.1 * h[0]);
        assert!(flat, "left the 10% band: {:?}", &h[..=FLAT_STEPS]);
        assert!(h[160] < 0.5 * h[0], "H0 {} at 160: {}", h[0], h[160]);
        let easy = BanditConfig {
            pass_rate: vec![0.1, 0.6],
            ..b
        };
        let h = run(&easy, &g, FLAT_STEPS);
        assert!(
            h.iter().any(|x| (x - h[0]).abs() > 0.1 * h[0]),
            "easy prompts stayed flat too: {h:?}"
        );
    }
}
