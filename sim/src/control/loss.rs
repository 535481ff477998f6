//! Token-level policy loss with the entropy method's weighting, and its
//! gradient with respect to each token's log-probability and entropy.
//! Shared by the toy and the LLM trainer.
//!
//! [`token_loss`] is the whole objective: the PPO/GRPO clipped surrogate
//! (docs/peers.md §1, verl), the EntroPIC extra term (docs/mathematics.md §3), the peer methods
//! of docs/peers.md and the k3 KL, token-mean over N tokens, with its gradient.

use super::{clip, exact_f64, is_high_prob, ControlConfig, Directive, Method, Weighting};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// PPO/GRPO loss settings (verl defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossConfig {
    #[serde(with = "exact_f64")]
    pub eps_low: f64,
    #[serde(with = "exact_f64")]
    pub eps_high: f64,
    /// Dual-clip constant c for A < 0 (verl 3.0); `inf` disables it.
    #[serde(with = "exact_f64")]
    pub dual_clip: f64,
    /// β of the k3 KL to the reference policy (0 = off).
    #[serde(with = "exact_f64")]
    pub kl_coef: f64,
}

/// Token-level inputs of one optimizer step (N valid tokens).
#[derive(Debug, Clone, Copy)]
pub struct TokenInputs<'a> {
    /// Advantage of each token (its sequence's advantage).
    pub adv: &'a [f64],
    /// log π_θ(y_t) under the policy being updated (temperature-scaled).
    pub logp: &'a [f64],
    /// log π_old(y_t) under the behaviour policy that sampled it.
    pub logp_old: &'a [f64],
    /// log π_ref(y_t) for the KL term, if any.
    pub logp_ref: Option<&'a [f64]>,
    /// Full-distribution entropy at each token's position under π_θ.
    pub entropy: &'a [f64],
    /// Token weights (None = every token weight 1). The token-mean becomes
    /// `Σ w·ℓ / Σ w` and `|HP|` becomes `Σ_{HP} w`: the simulator's `exact`
    /// sampling passes `π_old(a)` here for the expected update. clip_cov and
    /// kl_cov select tokens by count and ignore weights in the selection.
    pub weight: Option<&'a [f64]>,
}

/// Summary numbers of one loss evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LossStats {
    pub n_tokens: usize,
    pub n_hp: usize,
    /// |HP| / N.
    pub hp_frac: f64,
    /// Σ_{HP} H_t / Σ_t H_t (weighted like `hp_frac`; NaN when the tokens
    /// carry no entropy or none are kept): the share of the entropy that sits
    /// at HP tokens (docs/mathematics.md §8).
    pub hp_entropy_share: f64,
    /// Mean over HP tokens of 1 − π(y_t) (weighted; NaN when |HP| = 0).
    pub tail_mass_hp: f64,
    /// Share of tokens whose PPO clip is active.
    pub clip_frac: f64,
    /// Token-mean k3 KL to the reference (0 when none).
    pub kl: f64,
    /// Tokens selected by clip_cov / kl_cov.
    pub n_selected: usize,
}

/// The loss and its gradient.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TokenLoss {
    pub loss: f64,
    /// ∂loss/∂logp_t.
    pub dlogp: Vec<f64>,
    /// ∂loss/∂H_t (entropy-bonus methods; zeros otherwise).
    pub dentropy: Vec<f64>,
    pub stats: LossStats,
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig {
            eps_low: 0.2,
            eps_high: 0.2,
            dual_clip: 3.0,
            kl_coef: 0.0,
        }
    }
}

impl TokenInputs<'_> {
    /// N, the number of tokens: the length of the shortest slice (`logp_ref`
    /// included when given). Slices of different lengths are a caller bug;
    /// [`token_loss`] then reads only the first N entries of each rather than
    /// panic. [`Self::check`] reports it.
    pub fn len(&self) -> usize {
        let n = self
            .adv
            .len()
            .min(self.logp.len())
            .min(self.logp_old.len())
            .min(self.entropy.len());
        self.logp_ref.map_or(n, |r| n.min(r.len()))
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// N if every slice has the same length, else an error naming the lengths.
    pub fn check(&self) -> Result<usize, crate::error::SimError> {
        let lens = [
            self.adv.len(),
            self.logp.len(),
            self.logp_old.len(),
            self.entropy.len(),
        ];
        let ref_ok = match self.logp_ref {
            Some(r) => r.len() == lens[0],
            None => true,
        };
        if lens.iter().all(|&l| l == lens[0]) && ref_ok {
            Ok(lens[0])
        } else {
            Err(crate::error::SimError::Other(format!(
                "token inputs of different lengths: adv, logp, logp_old, entropy = {lens:?}, logp_ref = {:?}",
                self.logp_ref.map(|r| r.len())
            )))
        }
    }
}

/// The exponent clamp of verl's ratio and k3 KL: `exp(clamp(x, ±20))`.
const LOG_CLAMP: f64 = 20.0;

/// One token's PPO term and its derivative in `logp`.
#[derive(Debug, Clone, Copy)]
struct PpoToken {
    /// `r = exp(clamp(logp − logp_old, ±20))`.
    ratio: f64,
    /// `∂r/∂logp`: r inside the clamp, 0 outside.
    dratio: f64,
    /// The per-token loss ℓ (clipped unless `clip = false`).
    pg_loss: f64,
    /// `∂ℓ/∂logp`, through the active branch only.
    dpg_loss: f64,
    /// Whether the clipped branch or the dual clip is active (ℓ is then flat).
    clipped: bool,
}

/// verl's per-token clipped surrogate with dual clip (docs/peers.md §1, trainer
/// conventions); `use_clip = false` gives the plain `−A·r` (kl_cov).
/// NaN inputs propagate into ℓ (see `clip`).
fn ppo_token(
    adv: f64,
    logp: f64,
    logp_old: f64,
    eps: (f64, f64),
    dual_clip: f64,
    use_clip: bool,
) -> PpoToken {
    let log_ratio = logp - logp_old;
    let ratio = clip(log_ratio, -LOG_CLAMP, LOG_CLAMP).exp();
    let dratio = if log_ratio.abs() <= LOG_CLAMP {
        ratio
    } else {
        0.0
    };
    let pg_loss1 = -adv * ratio;
    if !use_clip {
        return PpoToken {
            ratio,
            dratio,
            pg_loss: pg_loss1,
            dpg_loss: -adv * dratio,
            clipped: false,
        };
    }
    let clipped = clip(ratio, 1.0 - eps.0, 1.0 + eps.1);
    let pg_loss2 = -adv * clipped;
    let clip_pg_loss = if pg_loss2 > pg_loss1 {
        pg_loss2
    } else {
        pg_loss1
    };
    let pg_loss3 = -adv * dual_clip;
    let dual = adv < 0.0 && clip_pg_loss > pg_loss3;
    let pg_loss = if dual { pg_loss3 } else { clip_pg_loss };
    let is_clipped = pg_loss2 > pg_loss1 || dual;
    let dpg_loss = if is_clipped { 0.0 } else { -adv * dratio };
    PpoToken {
        ratio,
        dratio,
        pg_loss,
        dpg_loss,
        clipped: is_clipped,
    }
}

/// verl's `low_var_kl` (k3) of one token and its derivative in `logp`:
/// `x = clamp(logp_ref − logp, ±20)`, `kl = clamp(eˣ − x − 1, −10, 10)`,
/// `∂kl/∂logp = 1 − eˣ` where neither clamp binds, else 0.
fn k3(logp_ref: f64, logp: f64) -> (f64, f64) {
    let x = logp_ref - logp;
    let xc = clip(x, -LOG_CLAMP, LOG_CLAMP);
    let kl_raw = xc.exp() - xc - 1.0;
    let kl = clip(kl_raw, -10.0, 10.0);
    let inside = x.abs() <= LOG_CLAMP && kl_raw.abs() <= 10.0;
    (kl, if inside { 1.0 - xc.exp() } else { 0.0 })
}

/// The sign of `x`, 0 at ±0 (the subgradient `|x|` uses at 0).
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Means of the advantages and log-probabilities of the first `n` tokens.
fn means(x: &TokenInputs, n: usize) -> (f64, f64) {
    let inv = 1.0 / n as f64;
    let a = x.adv[..n].iter().sum::<f64>() * inv;
    let l = x.logp[..n].iter().sum::<f64>() * inv;
    (a, l)
}

/// Clip-Cov's selection (docs/peers.md §4, Cui et al. 2025): `Cov_i = (A_i − Ā)
/// (logp_i − mean logp)` over the N tokens (current policy); candidates are
/// tokens not already PPO-clipped (clipped branch or dual clip) with
/// `ω_low < Cov_i < ω_high`; `min(max(⌊r_c·N⌋, 1), #candidates)` of them
/// drawn uniformly without replacement from `rng`.
fn select_clip_cov<R: Rng + ?Sized>(
    ctl: &ControlConfig,
    x: &TokenInputs,
    n: usize,
    ppo: impl Fn(usize) -> PpoToken,
    rng: &mut R,
) -> Vec<bool> {
    let (mean_a, mean_l) = means(x, n);
    let candidates: Vec<usize> = (0..n)
        .filter(|&t| {
            let cov = (x.adv[t] - mean_a) * (x.logp[t] - mean_l);
            !ppo(t).clipped && ctl.clip_cov_low < cov && cov < ctl.clip_cov_high
        })
        .collect();
    let k = ((ctl.clip_cov_ratio * n as f64).floor() as usize)
        .max(1)
        .min(candidates.len());
    let mut selected = vec![false; n];
    if k > 0 {
        for i in rand::seq::index::sample(rng, candidates.len(), k) {
            selected[candidates[i]] = true;
        }
    }
    selected
}

/// KL-Cov's selection (docs/peers.md §5): the `k = max(1, ⌊N·ratio⌋)` tokens with the
/// largest `Cov_i` (as in Clip-Cov), ties to the lower index; partial
/// selection, O(N).
fn select_kl_cov(ctl: &ControlConfig, x: &TokenInputs, n: usize) -> Vec<bool> {
    let (mean_a, mean_l) = means(x, n);
    let k = ((ctl.kl_cov_ratio * n as f64).floor() as usize)
        .max(1)
        .min(n);
    let mut cov: Vec<(f64, usize)> = (0..n)
        .map(|t| ((x.adv[t] - mean_a) * (x.logp[t] - mean_l), t))
        .collect();
    if k < n {
        cov.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    }
    let mut selected = vec![false; n];
    for &(_, t) in &cov[..k] {
        selected[t] = true;
    }
    selected
}

/// The loss of one optimizer step over the N tokens of `x` and its gradient
/// (`dlogp` = ∂loss/∂logp_t, `dentropy` = ∂loss/∂H_t), token-mean (Σ/N):
///
/// * PPO (verl): `r = exp(clamp(logp − logp_old, ±20))`,
///   `ℓ = max(−A·r, −A·clip(r, 1−ε_low, 1+ε_high))`, for `A < 0`
///   `min(ℓ, −A·dual_clip)`; the gradient flows through the active branch
///   only (`∂r/∂logp = r`, 0 where the ±20 clamp binds). `clip_frac` = share
///   of tokens whose clipped branch or dual clip is active.
/// * entropic / probe (docs/mathematics.md §3): `+ α·Σ_{HP}(−r_t·|A_t|)/|HP|`
///   (official) or `/N` (plain), r unclipped; HP by [`is_high_prob`] under
///   the current `logp`; no term when `|HP| = 0`. `hp_frac`,
///   `hp_entropy_share` and `tail_mass_hp` are reported for every method
///   with the configured HP rule, over the kept tokens.
/// * entropy_bonus / adaptive_entropy: `− d.entropy_coef · mean H_t`.
/// * clip_cov (docs/peers.md §4): the selected tokens (`select_clip_cov`) lose
///   their loss and gradient but stay in N. Their scripts also set the PPO
///   clip to [0, 2]; that is `LossConfig`'s business, not changed here.
///   `clip_frac` stays the PPO clip share; the selection is `n_selected`.
/// * kl_cov (docs/peers.md §5): no PPO clip (nor dual clip) for this method: every
///   token `−A·r`, the top-k by Cov add `β·|logp − logp_old|` (unclamped
///   difference; gradient `β·sign`, 0 at 0).
/// * clip_higher (DAPO): `ε_high = ctl.clip_higher_eps_high`; dynamic
///   sampling's effect on the token-mean is modelled by treating tokens with
///   `A == 0` exactly as absent (not in N, no loss, no KL, zero gradient,
///   not in the stats). The caller still decides what to sample.
/// * KL (verl `low_var_kl`, k3), when `cfg.kl_coef > 0`:
///   `+ kl_coef · mean kl_t` (see `k3`); `stats.kl` is the token-mean k3
///   whenever `logp_ref` is given, also with `kl_coef = 0`.
///
/// α is read only for entropic/probe, `d.entropy_coef` only for the two
/// bonus methods. N = 0 (or every token dropped) gives loss 0 and zero
/// gradients. The RNG is used by clip_cov only; pass `&mut dyn RngCore` or
/// any `Rng`. Non-finite inputs propagate into the result, nothing panics.
pub fn token_loss<R: Rng + ?Sized>(
    cfg: &LossConfig,
    ctl: &ControlConfig,
    d: &Directive,
    x: &TokenInputs,
    rng: &mut R,
) -> TokenLoss {
    let n = x.len();
    let mut out = TokenLoss {
        loss: 0.0,
        dlogp: vec![0.0; n],
        dentropy: vec![0.0; n],
        stats: LossStats::default(),
    };
    let method = ctl.method;
    let kept = |t: usize| method != Method::ClipHigher || x.adv[t] != 0.0;
    let hp = |t: usize| is_high_prob(ctl, x.logp[t], x.entropy[t]);
    let wt = |t: usize| x.weight.map_or(1.0, |w| w[t]);
    let (n_kept, n_hp, w_kept, w_hp_sum) =
        (0..n)
            .filter(|&t| kept(t))
            .fold((0, 0, 0.0, 0.0), |(k, h, wk, wh), t| {
                let is_hp = hp(t);
                (
                    k + 1,
                    h + is_hp as usize,
                    wk + wt(t),
                    wh + if is_hp { wt(t) } else { 0.0 },
                )
            });
    if n_kept == 0 || w_kept <= 0.0 {
        out.stats.hp_entropy_share = f64::NAN;
        out.stats.tail_mass_hp = f64::NAN;
        return out;
    }
    // the entropy composition over the kept tokens, HP by the same rule
    let (mut h_w, mut h_hp_w, mut tail_hp_w) = (0.0, 0.0, 0.0);
    for t in (0..n).filter(|&t| kept(t)) {
        let (w, h) = (wt(t), x.entropy[t]);
        h_w += w * h;
        if hp(t) {
            h_hp_w += w * h;
            tail_hp_w += w * (1.0 - x.logp[t].exp());
        }
    }
    let inv_n = 1.0 / w_kept;
    let eps_high = if method == Method::ClipHigher {
        ctl.clip_higher_eps_high
    } else {
        cfg.eps_high
    };
    let ppo = |t: usize| {
        let eps = (cfg.eps_low, eps_high);
        ppo_token(
            x.adv[t],
            x.logp[t],
            x.logp_old[t],
            eps,
            cfg.dual_clip,
            method != Method::KlCov,
        )
    };
    // EntroPIC: the extra term is w_hp · Σ_{HP} (−r_t·|A_t|).
    let w_hp = match (method, ctl.weighting) {
        (Method::Entropic | Method::Probe, _) if n_hp == 0 => 0.0,
        (Method::Entropic | Method::Probe, Weighting::Official) => d.alpha / w_hp_sum,
        (Method::Entropic | Method::Probe, Weighting::Plain) => d.alpha * inv_n,
        _ => 0.0,
    };
    let kl_coef = if cfg.kl_coef > 0.0 { cfg.kl_coef } else { 0.0 };
    let coef = match method {
        Method::EntropyBonus | Method::AdaptiveEntropy => d.entropy_coef,
        _ => 0.0,
    };
    let selected = match method {
        Method::ClipCov => select_clip_cov(ctl, x, n, ppo, rng),
        Method::KlCov => select_kl_cov(ctl, x, n),
        _ => Vec::new(),
    };
    let (mut pg_sum, mut extra_sum, mut kl_sum, mut h_sum, mut w_clipped) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    for t in (0..n).filter(|&t| kept(t)) {
        let (adv, logp, h) = (x.adv[t], x.logp[t], x.entropy[t]);
        let is_selected = selected.get(t).copied().unwrap_or(false);
        let PpoToken {
            ratio,
            dratio,
            pg_loss,
            dpg_loss,
            clipped,
        } = ppo(t);
        let (pg_loss, dpg_loss) = match method {
            Method::ClipCov if is_selected => (0.0, 0.0),
            Method::KlCov if is_selected => {
                let delta = logp - x.logp_old[t];
                let beta = ctl.kl_cov_coef;
                (pg_loss + beta * delta.abs(), dpg_loss + beta * sign(delta))
            }
            _ => (pg_loss, dpg_loss),
        };
        let (extra, dextra) = if w_hp != 0.0 && hp(t) {
            (w_hp * (-ratio * adv.abs()), w_hp * (-dratio * adv.abs()))
        } else {
            (0.0, 0.0)
        };
        let (kl, dkl) = x.logp_ref.map_or((0.0, 0.0), |r| k3(r[t], logp));
        let w = wt(t);
        pg_sum += w * pg_loss;
        extra_sum += w * extra;
        kl_sum += w * kl;
        h_sum += w * h;
        w_clipped += if clipped { w } else { 0.0 };
        out.dlogp[t] = w * (dpg_loss * inv_n + dextra + kl_coef * dkl * inv_n);
        out.dentropy[t] = -w * coef * inv_n;
    }
    let pg_loss = pg_sum * inv_n;
    let kl = kl_sum * inv_n;
    let entropy = h_sum * inv_n;
    out.loss = pg_loss + extra_sum + kl_coef * kl - coef * entropy;
    out.stats = LossStats {
        n_tokens: n_kept,
        n_hp,
        hp_frac: w_hp_sum * inv_n,
        hp_entropy_share: if h_w > 0.0 { h_hp_w / h_w } else { f64::NAN },
        tail_mass_hp: if w_hp_sum > 0.0 {
            tail_hp_w / w_hp_sum
        } else {
            f64::NAN
        },
        clip_frac: w_clipped * inv_n,
        kl,
        n_selected: selected.iter().filter(|&&s| s).count(),
    };
    out
}
