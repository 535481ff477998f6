//! Keyed uniforms: a counter-based random number `u(key) ∈ [0, 1)` that is
//! a stateless hash of its key, used for every policy-dependent draw of the
//! toy's rollouts and of the LLM sampler.
//!
//! **Why keyed.** Two arms that differ only in α (a probe and its plain
//! twin, docs/mathematics.md §7) must draw the same random numbers wherever
//! their policies agree, so that their difference measures α's effect and
//! not the sampler's noise. With one sequential stream, anything that makes
//! one arm draw a different *number* of values (a row of the LLM batch that
//! stopped early and draws nothing, a peer method that draws in its loss, a
//! different branch) shifts every later draw of that arm, and the twins
//! stop being twins for the rest of the run. A keyed draw depends only on
//! its key, so a finished row or a different branch never moves another
//! draw.
//!
//! **The key** is `(seed, step, slot, sample, position)`: the run's seed,
//! the rollout batch's ordinal (the toy counts batches sampled, which equals
//! the training step when `lag = 0`), the prompt's *slot* in the batch (not
//! its id: the same prompt twice in one batch must not get identical draws),
//! the sample's index within its group, and the token position. The LLM
//! sampler keys a row by `slot·G + sample` in the slot coordinate.
//!
//! **The hash.** Each coordinate is folded in by one round of the 64-bit
//! SplitMix64 finalizer (Stafford's "Mix13", the output function of
//! `java.util.SplittableRandom`): `x ← mix(x ⊕ c·φ)` with φ the golden-ratio
//! increment. The last coordinate is added to the prefix SplitMix-style
//! (`mix(prefix + (c+1)·φ)`), which is SplitMix64's own output for a counter,
//! so consecutive positions of one sample are consecutive SplitMix64 outputs
//! of a stream seeded by the prefix. The top 53 bits become the mantissa of
//! the f64. [`Key`] exposes the prefix so a hot loop hashes the outer
//! coordinates once and pays one `mix` (two multiplies) per draw.
//!
//! **Why not ChaCha with `set_word_pos`.** Seeking a ChaCha stream per token
//! costs a key setup and a full block (64 bytes) per draw, about ten times a
//! `mix`; the sampler's hot loop draws one uniform per action (the toy aims
//! at 20 M actions/s per core).

/// Golden-ratio increment of SplitMix64 (2⁶⁴/φ, odd).
const PHI: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finalizer ("Mix13"): a bijection of u64 with full
/// avalanche.
#[inline(always)]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The top 53 bits of `h` as an f64 in `[0, 1)`.
#[inline(always)]
pub fn to_unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A partially hashed key: the coordinates folded in so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(u64);

impl Key {
    /// The root key of a run (or of one of its domains: callers derive
    /// separate roots for separate purposes with [`Key::child`]).
    #[inline]
    pub fn new(seed: u64) -> Key {
        Key(mix64(seed ^ 0x6A09_E667_F3BC_C908))
    }

    /// This key with one more coordinate folded in.
    #[inline(always)]
    pub fn child(self, c: u64) -> Key {
        Key(mix64(self.0 ^ c.wrapping_add(1).wrapping_mul(PHI)))
    }

    /// The 64-bit hash of this key extended by the last coordinate `c`.
    #[inline(always)]
    pub fn bits(self, c: u64) -> u64 {
        mix64(self.0.wrapping_add(c.wrapping_add(1).wrapping_mul(PHI)))
    }

    /// The uniform in `[0, 1)` of this key extended by the last coordinate `c`.
    #[inline(always)]
    pub fn uniform(self, c: u64) -> f64 {
        to_unit(self.bits(c))
    }

    /// The 64 bits of this key (e.g. to seed a ChaCha stream).
    pub fn value(self) -> u64 {
        self.0
    }
}

/// The keyed uniform `u(seed, step, slot, sample, position) ∈ [0, 1)`.
#[inline]
pub fn uniform(seed: u64, step: u64, slot: u64, sample: u64, position: u64) -> f64 {
    Key::new(seed)
        .child(step)
        .child(slot)
        .child(sample)
        .uniform(position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{ChiSquared, ContinuousCDF};

    const N: u64 = 100_000;
    const BINS: usize = 100;
    /// Fixed threshold: a p-value below this fails (one false failure in
    /// 10⁴ runs of a correct generator per test).
    const P_MIN: f64 = 1e-4;

    /// The chi-square goodness-of-fit p-value of `n` draws `f(i)` against
    /// the uniform distribution on `BINS` equal bins.
    fn chi_square_p(f: impl Fn(u64) -> f64) -> f64 {
        let mut counts = [0u64; BINS];
        for i in 0..N {
            let u = f(i);
            assert!((0.0..1.0).contains(&u), "u = {u} outside [0, 1)");
            counts[(u * BINS as f64) as usize] += 1;
        }
        let e = N as f64 / BINS as f64;
        let x2: f64 = counts.iter().map(|&c| (c as f64 - e).powi(2) / e).sum();
        let dist = ChiSquared::new((BINS - 1) as f64).expect("dof > 0");
        1.0 - dist.cdf(x2)
    }

    /// Each coordinate varying alone, the others fixed at arbitrary values.
    fn coordinates(u: impl Fn(u64, u64, u64, u64, u64) -> f64) -> Vec<(&'static str, f64)> {
        vec![
            ("seed", chi_square_p(|i| u(i, 7, 3, 2, 5))),
            ("step", chi_square_p(|i| u(42, i, 3, 2, 5))),
            ("slot", chi_square_p(|i| u(42, 7, i, 2, 5))),
            ("sample", chi_square_p(|i| u(42, 7, 3, i, 5))),
            ("position", chi_square_p(|i| u(42, 7, 3, 2, i))),
        ]
    }

    #[test]
    fn uniform_along_every_coordinate() {
        for (name, p) in coordinates(uniform) {
            assert!(p > P_MIN, "{name}: chi-square p = {p:e}");
        }
    }

    /// The same test fails for weak mixers, so it can fail: the identity
    /// (the coordinates XOR-ed, no hash) along every coordinate, and an
    /// XOR-only mix (the coordinates XOR-ed into a hashed seed, no
    /// finalizer after them) along every coordinate but the seed.
    #[test]
    fn chi_square_rejects_weak_mixers() {
        let identity = |s: u64, t: u64, j: u64, i: u64, l: u64| to_unit(s ^ t ^ j ^ i ^ l);
        for (name, p) in coordinates(identity) {
            assert!(p < P_MIN, "identity mixer passed along {name}: p = {p:e}");
        }
        let xor_only = |s: u64, t: u64, j: u64, i: u64, l: u64| to_unit(mix64(s) ^ t ^ j ^ i ^ l);
        for (name, p) in coordinates(xor_only) {
            if name == "seed" {
                assert!(p > P_MIN, "xor-only mixer failed along the seed: p = {p:e}");
            } else {
                assert!(p < P_MIN, "xor-only mixer passed along {name}: p = {p:e}");
            }
        }
    }

    /// Sample correlation of u(k) and u(k+1) for neighbouring keys along
    /// each coordinate: |r| < 4/√N (about 4 standard errors).
    #[test]
    fn neighbouring_keys_are_uncorrelated() {
        let n = N as usize;
        let corr = |f: &dyn Fn(u64) -> f64| {
            let xs: Vec<f64> = (0..=N).map(f).collect();
            let (a, b) = (&xs[..n], &xs[1..]);
            let (ma, mb) = (
                a.iter().sum::<f64>() / n as f64,
                b.iter().sum::<f64>() / n as f64,
            );
            let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
            let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
            let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
            cov / (va * vb).sqrt()
        };
        let bound = 4.0 / (N as f64).sqrt();
        let cases: [(&str, &dyn Fn(u64) -> f64); 5] = [
            ("seed", &|i| uniform(i, 7, 3, 2, 5)),
            ("step", &|i| uniform(42, i, 3, 2, 5)),
            ("slot", &|i| uniform(42, 7, i, 2, 5)),
            ("sample", &|i| uniform(42, 7, 3, i, 5)),
            ("position", &|i| uniform(42, 7, 3, 2, i)),
        ];
        for (name, f) in cases {
            let r = corr(f);
            assert!(
                r.abs() < bound,
                "{name}: lag-1 correlation {r} (bound {bound})"
            );
        }
    }

    /// Same key, same number; the prefix API equals the five-argument one;
    /// swapping two coordinates' values gives a different number.
    #[test]
    fn deterministic_and_order_sensitive() {
        let u = uniform(1, 2, 3, 4, 5);
        assert_eq!(u.to_bits(), uniform(1, 2, 3, 4, 5).to_bits());
        let k = Key::new(1).child(2).child(3).child(4);
        assert_eq!(u.to_bits(), k.uniform(5).to_bits());
        assert_ne!(u.to_bits(), uniform(1, 2, 4, 3, 5).to_bits());
        assert_ne!(u.to_bits(), uniform(1, 3, 2, 4, 5).to_bits());
        // The reference: SplitMix64 seeded with 0 returns 0xE220A8397B1DCDAF
        // first (Vigna's splitmix64.c; in Python:
        // `z = 0x9E3779B97F4A7C15; z = ((z ^ z>>30) * 0xBF58476D1CE4E5B9) % 2**64;
        //  z = ((z ^ z>>27) * 0x94D049BB133111EB) % 2**64; z ^ z>>31`).
        // A change of the hash moves every sampled number of the toy.
        assert_eq!(Key(0).bits(0), 0xE220_A839_7B1D_CDAF);
    }
}
