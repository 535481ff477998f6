//! The policy loss of one optimizer step in candle: the shared token loss of
//! `entropic_sim::control::loss::token_loss` (PPO clip, EntroPIC term, peer
//! methods, k3 KL, token-mean; one implementation for toy and LLM) turned
//! into a differentiable surrogate.
//!
//! `token_loss` returns, per token, `dlogp_t = ∂L/∂logp_t` and
//! `dentropy_t = ∂L/∂H_t`. With those as constant tensors,
//!
//! ```text
//! surrogate = Σ_t dlogp_t · logp_t + Σ_t dentropy_t · H_t
//! ```
//!
//! has, by the chain rule, the same gradient in the model parameters as L
//! (L depends on the parameters only through logp_t and H_t), so
//! `surrogate.backward()` back-propagates exactly the shared loss. Its value
//! is not L; [`PolicyLoss::loss`] carries L.
use crate::error::Result;
use candle_core::{DType, Tensor};
use entropic_sim::control::loss::{token_loss, LossConfig, TokenInputs, TokenLoss};
use entropic_sim::control::{ControlConfig, Directive};
use rand::Rng;

/// Per-token inputs that do not depend on the parameters being trained.
#[derive(Debug, Clone, Copy)]
pub struct TokenData<'a> {
    /// Advantage of each token (its sequence's).
    pub adv: &'a [f64],
    /// log π_old(y_t) under the behaviour policy, at the sampling temperature.
    pub logp_old: &'a [f64],
    /// log π_ref(y_t) of the frozen reference, when a KL term is used.
    pub logp_ref: Option<&'a [f64]>,
}

/// The differentiable surrogate and the shared loss it stands for.
pub struct PolicyLoss {
    /// Scalar tensor whose gradient is the shared loss's gradient.
    pub surrogate: Tensor,
    /// The shared loss: value, per-token derivatives and statistics.
    pub loss: TokenLoss,
}

/// Builds the surrogate of one optimizer step. `logp` and `entropy` are the
/// (N,) log-probabilities of the sampled tokens and the full-vocabulary
/// entropies at their positions, from the differentiable training forward
/// pass at the sampling temperature (so HP is judged under the policy being
/// updated, docs/mathematics.md §3). `rng` is used by clip_cov only.
pub fn policy_loss<R: Rng + ?Sized>(
    logp: &Tensor,
    entropy: &Tensor,
    data: &TokenData,
    loss_cfg: &LossConfig,
    ctl: &ControlConfig,
    directive: &Directive,
    rng: &mut R,
) -> Result<PolicyLoss> {
    let lp: Vec<f64> = logp.to_dtype(DType::F64)?.to_vec1()?;
    let h: Vec<f64> = entropy.to_dtype(DType::F64)?.to_vec1()?;
    let x = TokenInputs {
        adv: data.adv,
        logp: &lp,
        logp_old: data.logp_old,
        logp_ref: data.logp_ref,
        entropy: &h,
        weight: None,
    };
    x.check()?;
    let loss = token_loss(loss_cfg, ctl, directive, &x, rng);
    let dev = logp.device();
    let dt = logp.dtype();
    let c_logp = Tensor::new(loss.dlogp.as_slice(), dev)?.to_dtype(dt)?;
    let c_h = Tensor::new(loss.dentropy.as_slice(), dev)?.to_dtype(dt)?;
    // surrogate = Σ dlogp·logp + Σ dentropy·H (coefficients are constants)
    let surrogate = ((logp * &c_logp)?.sum_all()? + (entropy * &c_h)?.sum_all()?)?;
    Ok(PolicyLoss { surrogate, loss })
}
