//! Optimizers over a flat parameter vector: SGD and dense Adam (every
//! parameter every step, as PyTorch's `torch.optim.Adam` does, moments
//! decaying even where the gradient is zero).

use serde::{Deserialize, Serialize};

/// Which optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    Sgd,
    #[default]
    Adam,
}

/// Optimizer state that saves and restores exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub step: u64,
    pub m: Vec<f64>,
    pub v: Vec<f64>,
}

impl Optimizer {
    pub fn new(kind: OptimizerKind, n: usize, lr: f64, beta1: f64, beta2: f64, eps: f64) -> Self {
        let (m, v) = match kind {
            OptimizerKind::Adam => (vec![0.0; n], vec![0.0; n]),
            OptimizerKind::Sgd => (Vec::new(), Vec::new()),
        };
        Optimizer {
            kind,
            lr,
            beta1,
            beta2,
            eps,
            step: 0,
            m,
            v,
        }
    }

    /// One step `params ← params − lr·update(grad)`.
    /// Adam (Kingma & Ba; PyTorch's form): `m ← β1 m + (1−β1) g`,
    /// `v ← β2 v + (1−β2) g²`, `m_hat = m/(1−β1^t)`, `v_hat = v/(1−β2^t)`,
    /// `θ ← θ − lr·m_hat/(√v_hat + ε)`.
    pub fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        self.step += 1;
        match self.kind {
            OptimizerKind::Sgd => {
                for (p, g) in params.iter_mut().zip(grad) {
                    *p -= self.lr * g;
                }
            }
            OptimizerKind::Adam => {
                let t = self.step as i32;
                let bc1 = 1.0 - self.beta1.powi(t);
                let bc2 = 1.0 - self.beta2.powi(t);
                let step_size = self.lr / bc1;
                let inv_sqrt_bc2 = 1.0 / bc2.sqrt();
                let c = AdamConsts {
                    b1: self.beta1,
                    b2: self.beta2,
                    eps: self.eps,
                    step_size,
                    inv_sqrt_bc2,
                };
                adam_dispatch(params, grad, &mut self.m, &mut self.v, &c);
            }
        }
    }
}

/// The per-step constants of the Adam update.
struct AdamConsts {
    b1: f64,
    b2: f64,
    eps: f64,
    step_size: f64,
    inv_sqrt_bc2: f64,
}

/// The Adam update, element by element. Every operation is IEEE-exact in
/// the same order whatever the vector width (no fused multiply-add: Rust
/// never contracts), so the wide versions below give the same bits.
#[inline(always)]
fn adam_loop(params: &mut [f64], grad: &[f64], m: &mut [f64], v: &mut [f64], c: &AdamConsts) {
    let (b1, b2, eps, step_size, inv_sqrt_bc2) = (c.b1, c.b2, c.eps, c.step_size, c.inv_sqrt_bc2);
    for (((p, &g), m), v) in params
        .iter_mut()
        .zip(grad)
        .zip(m.iter_mut())
        .zip(v.iter_mut())
    {
        *m = b1 * *m + (1.0 - b1) * g;
        *v = b2 * *v + (1.0 - b2) * g * g;
        let denom = v.sqrt() * inv_sqrt_bc2 + eps;
        *p -= step_size * *m / denom;
    }
}

crate::simd::dispatched! {
    /// [`adam_loop`] compiled for the widest vector unit the CPU has (runtime
    /// dispatch: the binary stays portable). Dense Adam over every parameter is
    /// the largest single cost of the tabular toy (docs/design.md: `bench sim`).
    fn adam_dispatch(params: &mut [f64], grad: &[f64], m: &mut [f64], v: &mut [f64], c: &AdamConsts) = adam_loop;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_matches_hand_computation() {
        // torch: p = [1.0]; g = 0.5 twice with lr 0.1, betas (0.9, 0.999), eps 1e-8
        // step 1: m = 0.05, v = 0.00025, m_hat = 0.5, v_hat = 0.25 → p = 1 − 0.1·0.5/0.5 = 0.9
        // step 2: m = 0.095, v = 0.00049975, m_hat = 0.5, v_hat = 0.25 → p = 0.8
        let mut o = Optimizer::new(OptimizerKind::Adam, 1, 0.1, 0.9, 0.999, 1e-8);
        let mut p = [1.0];
        o.step(&mut p, &[0.5]);
        assert!((p[0] - 0.9).abs() < 1e-7, "{p:?}");
        o.step(&mut p, &[0.5]);
        assert!((p[0] - 0.8).abs() < 1e-7, "{p:?}");
        // dense: a zero gradient still moves the parameter by the decayed moment
        // step 3: m = 0.0855, v = 0.000499250, m_hat = 0.0855/0.271 = 0.315498, v_hat = 0.16658
        // p = 0.8 − 0.1·0.315498/0.408142 = 0.722699
        o.step(&mut p, &[0.0]);
        assert!((p[0] - 0.722699).abs() < 1e-5, "{p:?}");
    }

    #[test]
    fn sgd_step() {
        let mut o = Optimizer::new(OptimizerKind::Sgd, 2, 0.5, 0.9, 0.999, 1e-8);
        let mut p = [1.0, -1.0];
        o.step(&mut p, &[2.0, -4.0]);
        assert_eq!(p, [0.0, 1.0]);
    }

    /// The vectorised update gives the same bits as the scalar loop.
    #[test]
    fn dispatched_adam_equals_the_scalar_loop_bit_for_bit() {
        let n = 1037; // not a multiple of any vector width
        let mut x = 0.3f64;
        let mut next = || {
            x = (x * 3.7 + 0.11).fract();
            x - 0.5
        };
        let grad: Vec<f64> = (0..n)
            .map(|i| if i % 3 == 0 { 0.0 } else { next() })
            .collect();
        let p0: Vec<f64> = (0..n).map(|_| next()).collect();
        let m0: Vec<f64> = (0..n).map(|_| next() * 0.1).collect();
        let v0: Vec<f64> = (0..n).map(|_| next().abs() * 0.01).collect();
        let c = AdamConsts {
            b1: 0.9,
            b2: 0.999,
            eps: 1e-8,
            step_size: 0.01 / (1.0 - 0.9f64.powi(3)),
            inv_sqrt_bc2: 1.0 / (1.0 - 0.999f64.powi(3)).sqrt(),
        };
        let (mut p1, mut m1, mut v1) = (p0.clone(), m0.clone(), v0.clone());
        adam_loop(&mut p1, &grad, &mut m1, &mut v1, &c);
        let (mut p2, mut m2, mut v2) = (p0, m0, v0);
        adam_dispatch(&mut p2, &grad, &mut m2, &mut v2, &c);
        let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&p1), bits(&p2));
        assert_eq!(bits(&m1), bits(&m2));
        assert_eq!(bits(&v1), bits(&v2));
    }
}
