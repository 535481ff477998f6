//! Where a batch's entropy sits (docs/mathematics.md §8): the share of
//! high-probability tokens, the share of the entropy they carry and the
//! probability mass they leave to the rest of the vocabulary, from the
//! sampled tokens' probabilities and the per-position entropies, or straight
//! from a batch of logits.
//!
//! Definitions, over the N tokens of the batch (HP = tokens whose sampled
//! token has `π(y_t) > τ`, the authors' threshold of docs/mathematics.md §3):
//!
//! * `hp_frac = |HP| / N`;
//! * `hp_entropy_share = Σ_{t∈HP} H_t / Σ_t H_t`;
//! * `tail_mass_hp = mean_{t∈HP} (1 − π(y_t))`;
//! * `entropy_mean = Σ_t H_t / N` (token-mean full-distribution entropy, the
//!   controller's input).
//!
//! Chosen where the definitions are silent: `hp_entropy_share` is NaN when
//! the batch carries no entropy at all (`Σ H = 0`, a 0/0), and
//! `tail_mass_hp` is NaN when `HP` is empty; both are "undefined", not 0.

use crate::error::SimError;
use serde::{Deserialize, Serialize};

/// The composition of one batch (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Composition {
    /// N, the tokens measured.
    pub n_tokens: usize,
    /// |HP|.
    pub n_hp: usize,
    pub hp_frac: f64,
    pub hp_entropy_share: f64,
    pub tail_mass_hp: f64,
    pub entropy_mean: f64,
}

/// The composition from per-token quantities: `logp[t] = log π(y_t)` of the
/// sampled token and `entropy[t] = H_t`, the full-distribution entropy at
/// that position (nats). Errors: different lengths, no tokens, `tau`
/// outside (0, 1), a non-finite entry.
pub fn composition(logp: &[f64], entropy: &[f64], tau: f64) -> Result<Composition, SimError> {
    if logp.len() != entropy.len() {
        return Err(SimError::Other(format!(
            "logp and entropy differ in length ({} and {})",
            logp.len(),
            entropy.len()
        )));
    }
    check_common(logp.len(), tau)?;
    if let Some(t) = (0..logp.len()).find(|&t| !logp[t].is_finite() || !entropy[t].is_finite()) {
        return Err(SimError::Other(format!(
            "token {t}: non-finite log-probability or entropy ({}, {})",
            logp[t], entropy[t]
        )));
    }
    let n = logp.len();
    let (mut n_hp, mut h_all, mut h_hp, mut tail) = (0usize, 0.0, 0.0, 0.0);
    for (&lp, &h) in logp.iter().zip(entropy) {
        h_all += h;
        let p = lp.exp();
        if p > tau {
            n_hp += 1;
            h_hp += h;
            tail += 1.0 - p;
        }
    }
    Ok(Composition {
        n_tokens: n,
        n_hp,
        hp_frac: n_hp as f64 / n as f64,
        hp_entropy_share: if h_all > 0.0 { h_hp / h_all } else { f64::NAN },
        tail_mass_hp: if n_hp > 0 {
            tail / n_hp as f64
        } else {
            f64::NAN
        },
        entropy_mean: h_all / n as f64,
    })
}

/// Checks shared by both entry points: at least one token, `0 < tau < 1`.
fn check_common(n: usize, tau: f64) -> Result<(), SimError> {
    if n == 0 {
        return Err(SimError::Other("no tokens: the batch is empty".into()));
    }
    if !(tau > 0.0 && tau < 1.0) {
        return Err(SimError::Other(format!(
            "tau must be in (0, 1) (got {tau})"
        )));
    }
    Ok(())
}

/// `(log π(y), H)` of one row of logits at temperature 1, by a max-shifted
/// log-sum-exp: `log π(y) = z_y − lse`, `H = lse − Σ_v π_v·z_v`.
fn row_stats(row: &[f64], y: usize) -> (f64, f64) {
    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = row.iter().map(|&z| (z - m).exp()).sum();
    let lse = m + s.ln();
    let mean_z: f64 = row.iter().map(|&z| (z - lse).exp() * z).sum();
    (row[y] - lse, (lse - mean_z).max(0.0))
}

/// The composition from a batch of logits: `logits` holds N rows of `vocab`
/// values (row-major; apply the sampling temperature before calling), and
/// `tokens[t]` is the token sampled at row t. Masked positions are the
/// caller's to drop (pass only valid rows). Errors: `vocab = 0`, a length
/// that is not `tokens.len() · vocab`, a token id `≥ vocab`, a non-finite
/// logit, and those of [`composition`].
pub fn composition_from_logits(
    logits: &[f64],
    vocab: usize,
    tokens: &[usize],
    tau: f64,
) -> Result<Composition, SimError> {
    if vocab == 0 {
        return Err(SimError::Other("vocab must be at least 1 (got 0)".into()));
    }
    check_common(tokens.len(), tau)?;
    if logits.len() != tokens.len() * vocab {
        return Err(SimError::Other(format!(
            "logits hold {} values; {} tokens × vocab {} need {}",
            logits.len(),
            tokens.len(),
            vocab,
            tokens.len() * vocab
        )));
    }
    if let Some((t, &y)) = tokens.iter().enumerate().find(|(_, &y)| y >= vocab) {
        return Err(SimError::Other(format!(
            "token {t}: id {y} is outside the vocabulary (size {vocab})"
        )));
    }
    if let Some(i) = logits.iter().position(|z| !z.is_finite()) {
        return Err(SimError::Other(format!(
            "token {}: non-finite logit at vocabulary index {}",
            i / vocab,
            i % vocab
        )));
    }
    let (logp, entropy): (Vec<f64>, Vec<f64>) = logits
        .chunks_exact(vocab)
        .zip(tokens)
        .map(|(row, &y)| row_stats(row, y))
        .unzip();
    composition(&logp, &entropy, tau)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Hand-computed: two positions over a vocabulary of 2.
    /// Row 0: logits (ln 0.98, ln 0.02), token 0: π = 0.98 > 0.95 → HP,
    /// H₀ = −0.98 ln 0.98 − 0.02 ln 0.02. Row 1: uniform, token 1: π = 0.5,
    /// H₁ = ln 2. So hp_frac = 1/2, share = H₀/(H₀+H₁), tail = 0.02.
    #[test]
    fn two_tokens_by_hand() {
        let logits = [0.98f64.ln(), 0.02f64.ln(), 0.0, 0.0];
        let c = composition_from_logits(&logits, 2, &[0, 1], 0.95).unwrap();
        let h0 = -0.98 * 0.98f64.ln() - 0.02 * 0.02f64.ln();
        let h1 = 2f64.ln();
        assert_eq!((c.n_tokens, c.n_hp), (2, 1));
        assert!(close(c.hp_frac, 0.5));
        assert!(close(c.hp_entropy_share, h0 / (h0 + h1)));
        assert!(close(c.tail_mass_hp, 0.02));
        assert!(close(c.entropy_mean, (h0 + h1) / 2.0));
    }

    /// Shifting a row of logits changes nothing (log-sum-exp), and no HP
    /// token leaves tail_mass_hp undefined.
    #[test]
    fn shift_invariant_and_empty_hp() {
        let a = composition_from_logits(&[1.0, 2.0, 3.0], 3, &[2], 0.95).unwrap();
        let b = composition_from_logits(&[101.0, 102.0, 103.0], 3, &[2], 0.95).unwrap();
        assert!(close(a.entropy_mean, b.entropy_mean));
        assert_eq!(a.n_hp, 0);
        assert!(a.tail_mass_hp.is_nan());
        assert!(close(a.hp_entropy_share, 0.0));
    }

    #[test]
    fn bad_inputs_are_refused() {
        let e = |r: Result<Composition, SimError>| r.unwrap_err().to_string();
        assert_eq!(
            e(composition_from_logits(&[0.0; 3], 2, &[0, 1], 0.95)),
            "logits hold 3 values; 2 tokens × vocab 2 need 4"
        );
        assert_eq!(
            e(composition_from_logits(&[0.0; 2], 2, &[2], 0.95)),
            "token 0: id 2 is outside the vocabulary (size 2)"
        );
        assert_eq!(
            e(composition(&[], &[], 0.95)),
            "no tokens: the batch is empty"
        );
        assert_eq!(
            e(composition(&[0.0], &[0.0], 1.0)),
            "tau must be in (0, 1) (got 1)"
        );
    }
}
