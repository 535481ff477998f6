//! Fused CPU kernels of the training path, each with its own backward pass
//! (candle 0.11.1's fused `rms_norm`, `rope` and `softmax_last_dim` have
//! none), for [`TrainOps::Fused`](crate::model::TrainOps):
//!
//! - [`rms_norm`]: `w · x / sqrt(mean(x²) + eps)` over the last dimension;
//! - [`rope`]: `x·cos + rotate_half(x)·sin` with per-row angles;
//! - [`masked_softmax`]: `softmax(scores·scale + bias)` over the last
//!   dimension, the bias broadcast over heads (no gradient: it is the mask);
//! - [`silu_mul`]: `silu(a) · b`, the gated MLP's product;
//! - [`logp_entropy`]: per row of logits at temperature t, the target's
//!   log-probability, the entropy and the logsumexp (the loss's inputs).
//!
//! The f32 paths take `exp` from the vectorised
//! [`entropic_sim::simd::exp_f32_in_place`] (within 2 ulp of the
//! correctly rounded value, the same bits on every vector width), the f64
//! paths from the C library.
//!
//! Why: the composed ops cost one graph node per primitive, each node a
//! full pass over its tensor forward and, in candle's backward, a zeroed
//! gradient buffer plus an add per contribution; each fused op is one pass
//! forward and one backward. The gradients are the analytical ones (each
//! backward kernel's comment gives its formula), not the composed graph's:
//! they agree with it to rounding (the tests below compare them with the
//! composed path in f64 to 1e-10), but not bit for bit, so a run with fused
//! ops is a different run from a composed one on the same seed.
//!
//! Rows are independent and each is computed by one thread in a fixed
//! order, so the results do not depend on the thread count; the one
//! reduction across rows (RMSNorm's weight gradient) runs serially.
//! CPU only, f32 and f64; other devices and dtypes keep the composed ops
//! (the model checks [`supported`] before choosing them).
use candle_core::{
    backend::BackendStorage, CpuStorage, CustomOp2, CustomOp3, DType, Device, Error, Layout,
    Result, Shape, Tensor,
};
use rayon::prelude::*;

/// Whether the fused kernels run on this device and dtype.
pub fn supported(dev: &Device, dtype: DType) -> bool {
    dev.is_cpu() && matches!(dtype, DType::F32 | DType::F64)
}

/// The float types the kernels are written for.
trait Real:
    Copy
    + Send
    + Sync
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
{
    const ZERO: Self;
    const ONE: Self;
    /// `x_i ← e^{x_i}` over a slice: f32 through the vectorised
    /// [`entropic_sim::simd::exp_f32_in_place`] (within 2 ulp, the same
    /// bits on every vector width), f64 through the C library's `exp`.
    fn exp_slice(x: &mut [Self]);
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn of(x: f64) -> Self;
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    fn storage(v: Vec<Self>) -> CpuStorage;
}

macro_rules! real {
    ($t:ty, $variant:ident, $exp_slice:expr) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn exp_slice(x: &mut [Self]) {
                $exp_slice(x)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn of(x: f64) -> Self {
                x as $t
            }
            fn slice(s: &CpuStorage) -> Option<&[Self]> {
                match s {
                    CpuStorage::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn storage(v: Vec<Self>) -> CpuStorage {
                CpuStorage::$variant(v)
            }
        }
    };
}
real!(f32, F32, entropic_sim::simd::exp_f32_in_place);
real!(f64, F64, |x: &mut [f64]| x
    .iter_mut()
    .for_each(|v| *v = v.exp()));

/// The contiguous data of an input, or an error naming the op.
fn data<'a, T: Real>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [T]> {
    let v = T::slice(s).ok_or_else(|| Error::Msg(format!("{op}: inputs of mixed dtypes")))?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => Err(Error::Msg(format!("{op}: input not contiguous"))),
    }
}

/// Rows handed to one task: at least 16k elements, so that small tensors
/// are not split into tasks that cost more than they compute.
fn rows_per_task(d: usize) -> usize {
    (16_384 / d.max(1)).max(1)
}

/// `name` and `cpu_fwd` of a custom op whose inputs are the listed
/// storage/layout pairs (two for `CustomOp2`, three for `CustomOp3`):
/// `$f::<f32>` or `$f::<f64>` by the first storage's dtype, called with the
/// pairs and then `$extra` (which reads the op as `$op`).
macro_rules! cpu_op {
    ($name:literal, $op:ident => $f:ident($($extra:expr),*), $s1:ident $l1:ident $($s:ident $l:ident)+) => {
        fn name(&self) -> &'static str {
            $name
        }
        fn cpu_fwd(
            &self,
            $s1: &CpuStorage,
            $l1: &Layout,
            $($s: &CpuStorage, $l: &Layout),+
        ) -> Result<(CpuStorage, Shape)> {
            #[allow(unused_variables)]
            let $op = self;
            match $s1 {
                CpuStorage::F32(_) => $f::<f32>($s1, $l1, $($s, $l,)+ $($extra),*),
                CpuStorage::F64(_) => $f::<f64>($s1, $l1, $($s, $l,)+ $($extra),*),
                other => Err(Error::Msg(format!(
                    "{}: unsupported dtype {:?}",
                    $name,
                    other.dtype()
                ))),
            }
        }
    };
}

// ---------------------------------------------------------------- RMSNorm

struct RmsNorm {
    eps: f64,
}

/// `w · x / sqrt(mean(x²) + eps)` over the last dimension of `x`; `w` has
/// that dimension's size.
pub fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> Result<Tensor> {
    if x.rank() == 0 || w.dims() != [x.dim(x.rank() - 1)?] || w.elem_count() == 0 {
        return Err(Error::Msg(format!(
            "rms_norm: x {:?} with weight {:?}",
            x.dims(),
            w.dims()
        )));
    }
    x.contiguous()?.apply_op2(&w.contiguous()?, RmsNorm { eps })
}

fn rms_fwd<T: Real>(
    x: &CpuStorage,
    lx: &Layout,
    w: &CpuStorage,
    lw: &Layout,
    eps: f64,
) -> Result<(CpuStorage, Shape)> {
    let (x, w) = (data::<T>(x, lx, "rms_norm")?, data::<T>(w, lw, "rms_norm")?);
    let n = w.len();
    if n == 0 || lx.dims().last() != Some(&n) {
        return Err(Error::Msg(
            "rms_norm: weight size is not the last dimension".into(),
        ));
    }
    let (nt, eps) = (T::of(n as f64), T::of(eps));
    let mut y = vec![T::ZERO; x.len()];
    y.par_chunks_mut(n * rows_per_task(n))
        .zip(x.par_chunks(n * rows_per_task(n)))
        .for_each(|(y, x)| {
            for (y, x) in y.chunks_mut(n).zip(x.chunks(n)) {
                let mut s = T::ZERO;
                for &v in x {
                    s += v * v;
                }
                let d = (s / nt + eps).sqrt();
                for ((y, &x), &w) in y.iter_mut().zip(x).zip(w) {
                    *y = x / d * w;
                }
            }
        });
    Ok((T::storage(y), lx.shape().clone()))
}

impl CustomOp2 for RmsNorm {
    cpu_op!("entropic-rms-norm", op => rms_fwd(op.eps), s1 l1 s2 l2);
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let n = w.elem_count();
        let rows = x.elem_count() / n;
        let out = x.apply_op3_no_bwd(w, &g.contiguous()?, &RmsNormBwd { eps: self.eps })?;
        let dx = out.narrow(0, 0, rows)?.reshape(x.shape())?;
        // its own D values: a view would keep the whole (rows + 1)·D buffer
        // alive as long as the weight's gradient (candle stores a first
        // contribution as it is, vendor/README.md)
        let dw = out
            .narrow(0, rows, 1)?
            .reshape(w.shape())?
            .force_contiguous()?;
        Ok((Some(dx), Some(dw)))
    }
}

/// Gradients of [`rms_norm`]: (rows + 1, D), the rows' dx then dw. With
/// d = sqrt(mean x² + eps), x̂ = x/d and u = g·w:
/// dx = (u − x̂·mean(u·x̂)) / d, dw = Σ_rows g·x̂.
struct RmsNormBwd {
    eps: f64,
}

fn rms_bwd<T: Real>(
    x: &CpuStorage,
    lx: &Layout,
    w: &CpuStorage,
    lw: &Layout,
    g: &CpuStorage,
    lg: &Layout,
    eps: f64,
) -> Result<(CpuStorage, Shape)> {
    let x = data::<T>(x, lx, "rms_norm backward")?;
    let w = data::<T>(w, lw, "rms_norm backward")?;
    let g = data::<T>(g, lg, "rms_norm backward")?;
    let n = w.len();
    let rows = x.len() / n;
    let (nt, eps) = (T::of(n as f64), T::of(eps));
    let mut out = vec![T::ZERO; x.len() + n];
    let mut ds = vec![T::ZERO; rows];
    let per = rows_per_task(n);
    out[..x.len()]
        .par_chunks_mut(n * per)
        .zip(ds.par_chunks_mut(per))
        .zip(x.par_chunks(n * per).zip(g.par_chunks(n * per)))
        .for_each(|((dx, ds), (x, g))| {
            for (((dx, d_out), x), g) in dx
                .chunks_mut(n)
                .zip(ds.iter_mut())
                .zip(x.chunks(n))
                .zip(g.chunks(n))
            {
                let mut s = T::ZERO;
                for &v in x {
                    s += v * v;
                }
                let d = (s / nt + eps).sqrt();
                let mut dot = T::ZERO;
                for ((&x, &g), &w) in x.iter().zip(g).zip(w) {
                    dot += g * w * (x / d);
                }
                let mean = dot / nt;
                for (((dx, &x), &g), &w) in dx.iter_mut().zip(x).zip(g).zip(w) {
                    *dx = (g * w - (x / d) * mean) / d;
                }
                *d_out = d;
            }
        });
    let dw = &mut out[x.len()..];
    for ((x, g), &d) in x.chunks(n).zip(g.chunks(n)).zip(&ds) {
        for ((dw, &x), &g) in dw.iter_mut().zip(x).zip(g) {
            *dw += g * (x / d);
        }
    }
    Ok((T::storage(out), Shape::from((rows + 1, n))))
}

impl CustomOp3 for RmsNormBwd {
    cpu_op!("entropic-rms-norm-bwd", op => rms_bwd(op.eps), s1 l1 s2 l2 s3 l3);
}

// ---------------------------------------------------------------- RoPE

struct Rope;

/// `x·[cos, cos] + rotate_half(x)·[sin, sin]` for `x` (B, H, L, hd) and
/// per-row angles `cos`, `sin` (B, L, hd/2); no gradient to the angles.
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let (b, _, l, hd) = x.dims4()?;
    if cos.dims() != [b, l, hd / 2] || sin.dims() != cos.dims() || hd % 2 != 0 || hd == 0 {
        return Err(Error::Msg(format!(
            "rope: x {:?} with angles {:?}",
            x.dims(),
            cos.dims()
        )));
    }
    x.contiguous()?
        .apply_op3(&cos.contiguous()?, &sin.contiguous()?, Rope)
}

/// Rotates every row of `x` (B, H, L, hd) by its angles, or by their
/// transpose (`transpose`, the backward pass): out₁ = x₁c − x₂s,
/// out₂ = x₂c + x₁s forward; x₁c + x₂s, x₂c − x₁s transposed.
fn rope_rows<T: Real>(x: &[T], c: &[T], s: &[T], dims: &[usize], transpose: bool) -> Vec<T> {
    let (h, l, hd) = (dims[1], dims[2], dims[3]);
    let half = hd / 2;
    let mut y = vec![T::ZERO; x.len()];
    let per = rows_per_task(hd);
    y.par_chunks_mut(hd * per)
        .zip(x.par_chunks(hd * per))
        .enumerate()
        .for_each(|(task, (y, x))| {
            for (i, (y, x)) in y.chunks_mut(hd).zip(x.chunks(hd)).enumerate() {
                let row = task * per + i;
                let (bi, li) = (row / (h * l), row % l);
                let a = (bi * l + li) * half;
                let (c, s) = (&c[a..a + half], &s[a..a + half]);
                let (x1, x2) = x.split_at(half);
                let (y1, y2) = y.split_at_mut(half);
                for k in 0..half {
                    if transpose {
                        y1[k] = x1[k] * c[k] + x2[k] * s[k];
                        y2[k] = x2[k] * c[k] - x1[k] * s[k];
                    } else {
                        y1[k] = x1[k] * c[k] - x2[k] * s[k];
                        y2[k] = x2[k] * c[k] + x1[k] * s[k];
                    }
                }
            }
        });
    y
}

fn rope_fwd<T: Real>(
    x: &CpuStorage,
    lx: &Layout,
    c: &CpuStorage,
    lc: &Layout,
    s: &CpuStorage,
    ls: &Layout,
    transpose: bool,
) -> Result<(CpuStorage, Shape)> {
    let y = rope_rows(
        data::<T>(x, lx, "rope")?,
        data::<T>(c, lc, "rope")?,
        data::<T>(s, ls, "rope")?,
        lx.dims(),
        transpose,
    );
    Ok((T::storage(y), lx.shape().clone()))
}

impl CustomOp3 for Rope {
    cpu_op!("entropic-rope", op => rope_fwd(false), s1 l1 s2 l2 s3 l3);
    fn bwd(
        &self,
        _x: &Tensor,
        c: &Tensor,
        s: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dx = g.contiguous()?.apply_op3_no_bwd(c, s, &RopeT)?;
        Ok((Some(dx), None, None))
    }
}

/// The transpose of [`Rope`]'s rotation (its backward pass).
struct RopeT;

impl CustomOp3 for RopeT {
    cpu_op!("entropic-rope-bwd", op => rope_fwd(true), s1 l1 s2 l2 s3 l3);
}

// ---------------------------------------------------------------- softmax

struct MaskedSoftmax {
    scale: f64,
}

/// `softmax(scores·scale + bias)` over the last dimension, `scores` (B, H,
/// Lq, Lk), `bias` (B, 1, Lq, Lk) shared by the heads; no gradient to the
/// bias.
pub fn masked_softmax(scores: &Tensor, bias: &Tensor, scale: f64) -> Result<Tensor> {
    let (b, _, lq, lk) = scores.dims4()?;
    if bias.dims() != [b, 1, lq, lk] || lk == 0 {
        return Err(Error::Msg(format!(
            "masked_softmax: scores {:?} with bias {:?}",
            scores.dims(),
            bias.dims()
        )));
    }
    scores
        .contiguous()?
        .apply_op2(&bias.contiguous()?, MaskedSoftmax { scale })
}

fn softmax_fwd<T: Real>(
    x: &CpuStorage,
    lx: &Layout,
    m: &CpuStorage,
    lm: &Layout,
    scale: f64,
) -> Result<(CpuStorage, Shape)> {
    let (x, m) = (
        data::<T>(x, lx, "masked_softmax")?,
        data::<T>(m, lm, "masked_softmax")?,
    );
    let dims = lx.dims();
    let (h, lq, lk) = (dims[1], dims[2], dims[3]);
    let scale = T::of(scale);
    let per = rows_per_task(lk);
    let mut y = vec![T::ZERO; x.len()];
    y.par_chunks_mut(lk * per)
        .zip(x.par_chunks(lk * per))
        .enumerate()
        .for_each(|(task, (y, x))| {
            for (i, (y, x)) in y.chunks_mut(lk).zip(x.chunks(lk)).enumerate() {
                let row = task * per + i;
                let (bi, qi) = (row / (h * lq), row % lq);
                let m = &m[(bi * lq + qi) * lk..][..lk];
                let mut max = T::of(f64::NEG_INFINITY);
                for ((y, &x), &m) in y.iter_mut().zip(x).zip(m) {
                    *y = x * scale + m;
                    if *y > max {
                        max = *y;
                    }
                }
                for y in y.iter_mut() {
                    *y = *y - max;
                }
                T::exp_slice(y);
                let mut sum = T::ZERO;
                for &y in y.iter() {
                    sum += y;
                }
                for y in y.iter_mut() {
                    *y = *y / sum;
                }
            }
        });
    Ok((T::storage(y), lx.shape().clone()))
}

impl CustomOp2 for MaskedSoftmax {
    cpu_op!("entropic-masked-softmax", op => softmax_fwd(op.scale), s1 l1 s2 l2);
    fn bwd(
        &self,
        _x: &Tensor,
        _m: &Tensor,
        y: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = y.apply_op2_no_bwd(&g.contiguous()?, &SoftmaxBwd { scale: self.scale })?;
        Ok((Some(dx), None))
    }
}

/// Gradient of [`masked_softmax`] from its output y: scale·y·(g − Σ g·y).
struct SoftmaxBwd {
    scale: f64,
}

fn softmax_bwd<T: Real>(
    y: &CpuStorage,
    ly: &Layout,
    g: &CpuStorage,
    lg: &Layout,
    scale: f64,
) -> Result<(CpuStorage, Shape)> {
    let (y, g) = (
        data::<T>(y, ly, "masked_softmax backward")?,
        data::<T>(g, lg, "masked_softmax backward")?,
    );
    let lk = ly.dims()[ly.dims().len() - 1];
    let scale = T::of(scale);
    let per = rows_per_task(lk);
    let mut dx = vec![T::ZERO; y.len()];
    dx.par_chunks_mut(lk * per)
        .zip(y.par_chunks(lk * per).zip(g.par_chunks(lk * per)))
        .for_each(|(dx, (y, g))| {
            for ((dx, y), g) in dx.chunks_mut(lk).zip(y.chunks(lk)).zip(g.chunks(lk)) {
                let mut dot = T::ZERO;
                for (&y, &g) in y.iter().zip(g) {
                    dot += y * g;
                }
                for ((dx, &y), &g) in dx.iter_mut().zip(y).zip(g) {
                    *dx = scale * (y * (g - dot));
                }
            }
        });
    Ok((T::storage(dx), ly.shape().clone()))
}

impl CustomOp2 for SoftmaxBwd {
    cpu_op!("entropic-masked-softmax-bwd", op => softmax_bwd(op.scale), s1 l1 s2 l2);
}

// ---------------------------------------------------------------- SiLU gate

struct SiluMul;

/// `silu(a) · b` (same shapes), silu(a) = a / (1 + exp(−a)).
pub fn silu_mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.dims() != b.dims() {
        return Err(Error::Msg(format!(
            "silu_mul: {:?} and {:?}",
            a.dims(),
            b.dims()
        )));
    }
    a.contiguous()?.apply_op2(&b.contiguous()?, SiluMul)
}

fn silu_fwd<T: Real>(
    a: &CpuStorage,
    la: &Layout,
    b: &CpuStorage,
    lb: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let (a, b) = (data::<T>(a, la, "silu_mul")?, data::<T>(b, lb, "silu_mul")?);
    let mut y = vec![T::ZERO; a.len()];
    let per = rows_per_task(1);
    y.par_chunks_mut(per)
        .zip(a.par_chunks(per).zip(b.par_chunks(per)))
        .for_each(|(y, (a, b))| {
            for (y, &a) in y.iter_mut().zip(a) {
                *y = -a;
            }
            T::exp_slice(y);
            for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
                *y = a / (T::ONE + *y) * b;
            }
        });
    Ok((T::storage(y), la.shape().clone()))
}

impl CustomOp2 for SiluMul {
    cpu_op!("entropic-silu-mul", op => silu_fwd(), s1 l1 s2 l2);
    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let n = a.elem_count();
        let out = a.apply_op3_no_bwd(b, &g.contiguous()?, &SiluMulBwd)?;
        let da = out.narrow(0, 0, n)?.reshape(a.shape())?;
        let db = out.narrow(0, n, n)?.reshape(b.shape())?;
        Ok((Some(da), Some(db)))
    }
}

/// Gradients of [`silu_mul`], (2N,): da then db. With σ = 1/(1 + exp(−a)):
/// da = g·b·σ·(1 + a·(1 − σ)), db = g·a·σ.
struct SiluMulBwd;

fn silu_bwd<T: Real>(
    a: &CpuStorage,
    la: &Layout,
    b: &CpuStorage,
    lb: &Layout,
    g: &CpuStorage,
    lg: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let a = data::<T>(a, la, "silu_mul backward")?;
    let b = data::<T>(b, lb, "silu_mul backward")?;
    let g = data::<T>(g, lg, "silu_mul backward")?;
    let n = a.len();
    let mut out = vec![T::ZERO; 2 * n];
    let (da, db) = out.split_at_mut(n);
    let per = rows_per_task(1);
    da.par_chunks_mut(per)
        .zip(db.par_chunks_mut(per))
        .zip(
            a.par_chunks(per)
                .zip(b.par_chunks(per))
                .zip(g.par_chunks(per)),
        )
        .for_each(|((da, db), ((a, b), g))| {
            for (da, &a) in da.iter_mut().zip(a) {
                *da = -a;
            }
            T::exp_slice(da);
            for ((((da, db), &a), &b), &g) in da.iter_mut().zip(db.iter_mut()).zip(a).zip(b).zip(g)
            {
                let s = T::ONE / (T::ONE + *da);
                *da = g * b * (s * (T::ONE + a * (T::ONE - s)));
                *db = g * (a * s);
            }
        });
    Ok((T::storage(out), Shape::from(2 * n)))
}

impl CustomOp3 for SiluMulBwd {
    cpu_op!("entropic-silu-mul-bwd", op => silu_bwd(), s1 l1 s2 l2 s3 l3);
}

// ------------------------------------------ log-prob of the target, entropy

/// [`logp_entropy`]: the temperature.
struct LogpEntropy {
    t: f64,
}

/// Per row of `logits` (…, V) at temperature `t`, with `z = logits / t`
/// and `π = softmax(z)`: `[log π(target), H(π), logsumexp(z)]`, shape
/// (…, 3); `targets` (…) u32 indexes the last dimension. One pass forward
/// (the maximum, then one `exp` per element into the row's own buffer)
/// and one backward, instead of candle's composed log-softmax (a max, a
/// subtraction, an `exp`, a sum, a log, a subtraction, a gather, and for
/// the entropy another `exp`, product and sum, each a graph node), which
/// is most of the loss's cost at a vocabulary of 1,024
/// ([`crate::sample::token_logp_entropy`] and the language-model loss use
/// it on the CPU). The third column is returned so the backward pass need
/// not recompute it; its gradient (π) is honoured too.
pub fn logp_entropy(logits: &Tensor, targets: &Tensor, t: f64) -> Result<Tensor> {
    let dims = logits.dims();
    let v = dims.last().copied().unwrap_or(0);
    if v == 0 || targets.dims() != &dims[..dims.len() - 1] || !(t > 0.0) {
        return Err(Error::Msg(format!(
            "logp_entropy: logits {:?}, targets {:?}, temperature {t}",
            dims,
            targets.dims()
        )));
    }
    // integer targets only (a float would be truncated), none negative
    match targets.dtype() {
        DType::U8 | DType::U32 => {}
        DType::I64 if targets.elem_count() == 0 => {}
        DType::I64 => {
            let min = targets.flatten_all()?.min(0)?.to_scalar::<i64>()?;
            if min < 0 {
                return Err(Error::Msg(format!("logp_entropy: negative target {min}")));
            }
        }
        other => {
            return Err(Error::Msg(format!(
                "logp_entropy: targets must be integers, got {other:?}"
            )))
        }
    }
    let mut out_dims = targets.dims().to_vec();
    out_dims.push(3);
    logits
        .contiguous()?
        .apply_op2(
            &targets.to_dtype(DType::U32)?.contiguous()?,
            LogpEntropy { t },
        )?
        .reshape(out_dims)
}

/// The target of row `row`, checked against the vocabulary.
fn target_of(tg: &[u32], row: usize, v: usize) -> Result<usize> {
    let y = tg[row] as usize;
    if y >= v {
        return Err(Error::Msg(format!(
            "logp_entropy: target {y} outside the vocabulary of {v}"
        )));
    }
    Ok(y)
}

fn logp_entropy_fwd<T: Real>(
    x: &CpuStorage,
    lx: &Layout,
    tg: &CpuStorage,
    ltg: &Layout,
    t: f64,
) -> Result<(CpuStorage, Shape)> {
    let x = data::<T>(x, lx, "logp_entropy")?;
    let tg = targets(tg, ltg)?;
    let v = lx.dims()[lx.dims().len() - 1];
    let rows = x.len() / v;
    let t = T::of(t);
    let per = rows_per_task(v);
    let mut out = vec![T::ZERO; 3 * rows];
    out.par_chunks_mut(3 * per)
        .zip(x.par_chunks(v * per))
        .enumerate()
        .try_for_each(|(task, (out, x))| -> Result<()> {
            // z = x/t once per row (the three passes below read it)
            let (mut z, mut e) = (vec![T::ZERO; v], vec![T::ZERO; v]);
            for (i, (o, x)) in out.chunks_mut(3).zip(x.chunks(v)).enumerate() {
                let y = target_of(tg, task * per + i, v)?;
                let mut max = T::of(f64::NEG_INFINITY);
                for (z, &x) in z.iter_mut().zip(x) {
                    *z = x / t;
                    if *z > max {
                        max = *z;
                    }
                }
                for (e, &z) in e.iter_mut().zip(&z) {
                    *e = z - max;
                }
                T::exp_slice(&mut e);
                let mut sum = T::ZERO;
                for &e in e.iter() {
                    sum += e;
                }
                let lse = max + sum.ln();
                // H = −Σ π·(z − lse), in the log-softmax form (no cancellation
                // between lse and Σ π·z)
                let mut h = T::ZERO;
                for (&e, &z) in e.iter().zip(&z) {
                    h += e / sum * (z - lse);
                }
                o[0] = z[y] - lse;
                o[1] = -h;
                o[2] = lse;
            }
            Ok(())
        })?;
    Ok((T::storage(out), Shape::from((rows, 3))))
}

/// The contiguous u32 targets.
fn targets<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [u32]> {
    let CpuStorage::U32(v) = s else {
        return Err(Error::Msg("logp_entropy: targets must be u32".into()));
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => Err(Error::Msg("logp_entropy: targets not contiguous".into())),
    }
}

impl CustomOp2 for LogpEntropy {
    cpu_op!("entropic-logp-entropy", op => logp_entropy_fwd(op.t), s1 l1 s2 l2);
    fn bwd(
        &self,
        x: &Tensor,
        tg: &Tensor,
        res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let rg = Tensor::cat(&[&res.detach(), &g.reshape(res.shape())?.detach()], 1)?;
        let dx = x.apply_op3_no_bwd(tg, &rg, &LogpEntropyBwd { t: self.t })?;
        Ok((Some(dx), None))
    }
}

/// Gradient of [`logp_entropy`] with respect to the logits, from the
/// output and its cotangent side by side (rows of 6: log π(y), H, lse,
/// then g_logp, g_H, g_lse). With π_k = exp(z_k − lse) and
/// ℓ_k = z_k − lse: ∂log π(y)/∂z_k = δ_ky − π_k, ∂H/∂z_k = −π_k(ℓ_k + H),
/// ∂lse/∂z_k = π_k; the logits' gradient is that over t.
struct LogpEntropyBwd {
    t: f64,
}

fn logp_entropy_bwd<T: Real>(
    x: &CpuStorage,
    lx: &Layout,
    tg: &CpuStorage,
    ltg: &Layout,
    rg: &CpuStorage,
    lrg: &Layout,
    t: f64,
) -> Result<(CpuStorage, Shape)> {
    let x = data::<T>(x, lx, "logp_entropy backward")?;
    let tg = targets(tg, ltg)?;
    let rg = data::<T>(rg, lrg, "logp_entropy backward")?;
    let v = lx.dims()[lx.dims().len() - 1];
    let t = T::of(t);
    let per = rows_per_task(v);
    let mut dx = vec![T::ZERO; x.len()];
    dx.par_chunks_mut(v * per)
        .zip(x.par_chunks(v * per).zip(rg.par_chunks(6 * per)))
        .enumerate()
        .try_for_each(|(task, (dx, (x, rg)))| -> Result<()> {
            let mut p = vec![T::ZERO; v];
            for (i, ((dx, x), r)) in dx
                .chunks_mut(v)
                .zip(x.chunks(v))
                .zip(rg.chunks(6))
                .enumerate()
            {
                let y = target_of(tg, task * per + i, v)?;
                let (h, lse, gl, gh, gs) = (r[1], r[2], r[3], r[4], r[5]);
                for ((dx, p), &x) in dx.iter_mut().zip(p.iter_mut()).zip(x) {
                    *dx = x / t - lse;
                    *p = *dx;
                }
                T::exp_slice(&mut p);
                for (dx, &p) in dx.iter_mut().zip(&p) {
                    let l = *dx;
                    *dx = (gs * p - gl * p - gh * (p * (l + h))) / t;
                }
                dx[y] += gl / t;
            }
            Ok(())
        })?;
    Ok((T::storage(dx), lx.shape().clone()))
}

impl CustomOp3 for LogpEntropyBwd {
    cpu_op!("entropic-logp-entropy-bwd", op => logp_entropy_bwd(op.t), s1 l1 s2 l2 s3 l3);
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Var, D};

    /// candle_nn's composed softmax over the last dimension, as the
    /// composed training path computes it.
    fn composed_softmax(x: &Tensor) -> Result<Tensor> {
        candle_nn::ops::softmax(x, D::Minus1)
    }

    fn randn(shape: &[usize], seed: u64) -> Tensor {
        // a fixed pseudo-random f64 tensor (no RNG state shared with candle)
        let n: usize = shape.iter().product();
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let v: Vec<f64> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
            })
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    /// Whether every element is finite (candle's `max` skips a NaN that is
    /// not the first element, so [`max_diff`] alone would miss one).
    fn finite(t: &Tensor) -> bool {
        t.flatten_all()
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            .to_vec1::<f64>()
            .unwrap()
            .iter()
            .all(|v| v.is_finite())
    }

    /// Largest |a − b| over two tensors of the same shape.
    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    }

    /// Output and gradients of `f` (fused) and `r` (composed) at the same
    /// inputs, with a random cotangent: all agree to `tol` in f64.
    fn check(
        inputs: &[Tensor],
        f: impl Fn(&[Tensor]) -> Result<Tensor>,
        r: impl Fn(&[Tensor]) -> Result<Tensor>,
        grads_of: &[usize],
        tol: f64,
    ) {
        let vars: Vec<Var> = inputs
            .iter()
            .map(|t| Var::from_tensor(t).unwrap())
            .collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let yf = f(&ts).unwrap();
        let yr = r(&ts).unwrap();
        assert!(finite(&yf), "fused output not finite");
        assert!(
            max_diff(&yf, &yr) < tol,
            "outputs differ by {}",
            max_diff(&yf, &yr)
        );
        let cot = randn(yf.dims(), 99);
        let gf = (&yf * &cot).unwrap().sum_all().unwrap().backward().unwrap();
        let gr = (&yr * &cot).unwrap().sum_all().unwrap().backward().unwrap();
        for &i in grads_of {
            let (a, b) = (gf.get(&ts[i]).unwrap(), gr.get(&ts[i]).unwrap());
            assert!(finite(a), "fused gradient {i} not finite");
            let d = max_diff(a, b);
            assert!(d < tol, "gradient {i} differs by {d}");
            // and it is not trivially zero
            assert!(
                b.abs()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap()
                    > 1e-3
            );
        }
    }

    /// The weight's gradient owns its D values instead of viewing the
    /// backward pass's (rows + 1)·D buffer (which it would keep alive).
    #[test]
    fn rms_norm_weight_gradient_does_not_pin_the_rows() {
        let x = Var::from_tensor(&randn(&[64, 8], 3)).unwrap();
        let w = Var::from_tensor(&randn(&[8], 4)).unwrap();
        let g = rms_norm(x.as_tensor(), w.as_tensor(), 1e-6)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let dw = g.get(w.as_tensor()).unwrap();
        let (storage, layout) = dw.storage_and_layout();
        let len = match &*storage {
            candle_core::Storage::Cpu(c) => c.as_slice::<f64>().unwrap().len(),
            _ => unreachable!("a CPU test"),
        };
        assert_eq!((len, layout.start_offset()), (8, 0));
    }

    #[test]
    fn rms_norm_matches_the_composed_op_and_its_gradients() {
        let x = randn(&[3, 5, 8], 1);
        let w = randn(&[8], 2);
        let eps = 1e-6;
        check(
            &[x, w],
            |t| rms_norm(&t[0], &t[1], eps),
            |t| {
                let var = t[0].sqr()?.mean_keepdim(D::Minus1)?;
                t[0].broadcast_div(&(var + eps)?.sqrt()?)?
                    .broadcast_mul(&t[1])
            },
            &[0, 1],
            1e-10,
        );
    }

    /// RoPE and the masked softmax at sizes that split into several tasks
    /// (`rows_per_task` rows each), where a row's broadcast angles or mask
    /// row are found from its task index: still the composed results.
    #[test]
    fn broadcast_rows_are_mapped_across_task_boundaries() {
        let (b, h, l, hd) = (2, 3, 700, 8);
        assert!(b * h * l > 2 * rows_per_task(hd));
        check_rope([b, h, l, hd], 11);
        let (lq, lk) = (700, 8);
        let scores = randn(&[b, h, lq, lk], 14);
        let m = randn(&[b, 1, lq, lk], 15);
        check(
            &[scores, m],
            |t| masked_softmax(&t[0], &t[1].detach(), 0.7),
            |t| composed_softmax(&(&t[0] * 0.7)?.broadcast_add(&t[1].detach())?),
            &[0],
            1e-12,
        );
    }

    /// Shapes the kernels cannot serve are errors, not silent misuse: a
    /// weight that divides the tensor but is not its last dimension, angles
    /// of the wrong length, a mask of another shape, unequal gate inputs.
    #[test]
    fn mismatched_shapes_are_errors() {
        let x = randn(&[2, 6], 1);
        assert!(rms_norm(&x, &randn(&[3], 2), 1e-6).is_err());
        assert!(rms_norm(&x, &randn(&[6], 2), 1e-6).is_ok());
        let q = randn(&[1, 2, 3, 4], 3);
        assert!(rope(&q, &randn(&[1, 3, 3], 4), &randn(&[1, 3, 3], 5)).is_err());
        assert!(masked_softmax(&randn(&[1, 2, 3, 3], 6), &randn(&[1, 2, 3, 3], 7), 1.0).is_err());
        assert!(silu_mul(&randn(&[2, 3], 8), &randn(&[3, 2], 9)).is_err());
    }

    /// RoPE against `x·[cos, cos] + rotate_half(x)·[sin, sin]` composed, for
    /// `x` of `dims` (B, H, L, hd) and random angles, from `seed`.
    fn check_rope(dims: [usize; 4], seed: u64) {
        let [b, _, l, hd] = dims;
        let x = randn(&dims, seed);
        let c = randn(&[b, l, hd / 2], seed + 1);
        let s = randn(&[b, l, hd / 2], seed + 2);
        check(
            &[x, c, s],
            |t| rope(&t[0], &t[1].detach(), &t[2].detach()),
            |t| {
                let c = Tensor::cat(&[&t[1], &t[1]], D::Minus1)?
                    .unsqueeze(1)?
                    .detach();
                let s = Tensor::cat(&[&t[2], &t[2]], D::Minus1)?
                    .unsqueeze(1)?
                    .detach();
                let x1 = t[0].narrow(D::Minus1, 0, hd / 2)?;
                let x2 = t[0].narrow(D::Minus1, hd / 2, hd / 2)?;
                let rot = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
                t[0].broadcast_mul(&c)? + rot.broadcast_mul(&s)?
            },
            &[0],
            1e-12,
        );
    }

    #[test]
    fn rope_matches_the_composed_op_and_its_gradient() {
        check_rope([2, 3, 4, 6], 3);
    }

    #[test]
    fn masked_softmax_matches_the_composed_op_and_its_gradient() {
        let x = randn(&[2, 3, 4, 5], 6);
        // a causal-like mask with one fully hidden row
        let mut m = vec![0.0f64; 2 * 4 * 5];
        for (i, v) in m.iter_mut().enumerate() {
            let (q, k) = ((i / 5) % 4, i % 5);
            if k > q + 1 || (i / 20 == 1 && q == 0) {
                *v = -1e9;
            }
        }
        let m = Tensor::from_vec(m, (2, 1, 4, 5), &Device::Cpu).unwrap();
        let scale = 0.35;
        check(
            &[x, m],
            |t| masked_softmax(&t[0], &t[1].detach(), scale),
            |t| composed_softmax(&(&t[0] * scale)?.broadcast_add(&t[1].detach())?),
            &[0],
            1e-12,
        );
    }

    /// The fused log-prob/entropy/logsumexp rows against candle's composed
    /// log-softmax, gather and `−Σ π·log π` at a temperature ≠ 1, with a
    /// cotangent on all three columns; rows large enough to split into
    /// several tasks, so a row's target is found from its task index.
    #[test]
    fn logp_entropy_matches_the_composed_ops_and_their_gradient() {
        let (b, l, v) = (3, 700, 48);
        assert!(b * l > 2 * rows_per_task(v));
        let x = (randn(&[b, l, v], 21) * 3.0).unwrap();
        let tg: Vec<u32> = (0..b * l).map(|i| ((i * 7919) % v) as u32).collect();
        let tg = Tensor::from_vec(tg, (b, l), &Device::Cpu).unwrap();
        let t = 0.7;
        check(
            &[x],
            |x| logp_entropy(&x[0], &tg, t),
            |x| {
                let lsm = candle_nn::ops::log_softmax(&(&x[0] / t)?, D::Minus1)?;
                let logp = lsm.gather(&tg.unsqueeze(D::Minus1)?, D::Minus1)?;
                let h = (lsm.exp()? * &lsm)?.sum_keepdim(D::Minus1)?.neg()?;
                let lse = (&x[0] / t)?.exp()?.sum_keepdim(D::Minus1)?.log()?;
                Tensor::cat(&[&logp, &h, &lse], D::Minus1)
            },
            &[0],
            1e-10,
        );
    }

    /// The f32 kernels (the vectorised `exp`) against the f64 kernels (the
    /// C library's) on the same inputs, outputs and input gradients: equal
    /// to f32 rounding (relative 1e-5 of the largest magnitude).
    #[test]
    fn f32_kernels_agree_with_f64_to_f32_rounding() {
        let run = |dtype: DType| -> Vec<Vec<f64>> {
            let a = Var::from_tensor(&randn(&[6, 40], 31).to_dtype(dtype).unwrap()).unwrap();
            let b = randn(&[6, 40], 32).to_dtype(dtype).unwrap();
            let s = Var::from_tensor(
                &(randn(&[2, 3, 4, 5], 33) * 4.0)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
            )
            .unwrap();
            let m = randn(&[2, 1, 4, 5], 34).to_dtype(dtype).unwrap();
            let tg = Tensor::new(&[3u32, 0, 39, 7, 7, 20], &Device::Cpu).unwrap();
            let y1 = silu_mul(a.as_tensor(), &b).unwrap();
            let y2 = masked_softmax(s.as_tensor(), &m, 0.6).unwrap();
            let y3 = logp_entropy(&(a.as_tensor() * 5.0).unwrap(), &tg, 0.8).unwrap();
            let loss = (y1.sqr().unwrap().sum_all().unwrap()
                + (y2.sqr().unwrap().sum_all().unwrap() + y3.sum_all().unwrap()).unwrap())
            .unwrap();
            let g = loss.backward().unwrap();
            let flat = |t: &Tensor| {
                t.flatten_all()
                    .unwrap()
                    .to_dtype(DType::F64)
                    .unwrap()
                    .to_vec1::<f64>()
                    .unwrap()
            };
            vec![
                flat(&y1),
                flat(&y2),
                flat(&y3),
                flat(g.get(a.as_tensor()).unwrap()),
                flat(g.get(s.as_tensor()).unwrap()),
            ]
        };
        let (lo, hi) = (run(DType::F32), run(DType::F64));
        for (i, (l, h)) in lo.iter().zip(&hi).enumerate() {
            let scale = h.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
            let d = l
                .iter()
                .zip(h)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                d <= 1e-5 * scale,
                "output {i}: f32 and f64 differ by {d} (scale {scale})"
            );
        }
    }

    /// A target outside the vocabulary, targets of another shape and a
    /// temperature ≤ 0 are errors.
    #[test]
    fn logp_entropy_refuses_bad_targets() {
        let x = randn(&[2, 3, 5], 1);
        let ok = Tensor::new(&[[0u32, 4, 2], [1, 1, 3]], &Device::Cpu).unwrap();
        assert!(logp_entropy(&x, &ok, 1.0).is_ok());
        let out = Tensor::new(&[[0u32, 5, 2], [1, 1, 3]], &Device::Cpu).unwrap();
        let e = logp_entropy(&x, &out, 1.0).unwrap_err().to_string();
        assert!(e.contains("target 5 outside the vocabulary of 5"), "{e}");
        assert!(logp_entropy(&x, &ok.narrow(1, 0, 2).unwrap(), 1.0).is_err());
        assert!(logp_entropy(&x, &ok, 0.0).is_err());
        let neg = Tensor::new(&[[0i64, -1, 2], [1, 1, 3]], &Device::Cpu).unwrap();
        let e = logp_entropy(&x, &neg, 1.0).unwrap_err().to_string();
        assert!(e.contains("negative target -1"), "{e}");
        let float = ok.to_dtype(DType::F32).unwrap();
        assert!(logp_entropy(&x, &float, 1.0).is_err());
    }

    #[test]
    fn silu_mul_matches_the_composed_op_and_its_gradients() {
        let a = randn(&[4, 7], 7);
        let b = randn(&[4, 7], 8);
        check(
            &[a, b],
            |t| silu_mul(&t[0], &t[1]),
            |t| candle_nn::ops::silu(&t[0])? * &t[1],
            &[0, 1],
            1e-12,
        );
    }

    /// The kernels give the same bits on one thread and on two (rows are
    /// each computed by one thread; the weight gradient's reduction is
    /// serial), at sizes that split into several tasks: all four in one
    /// graph, its output and the input and weight gradients compared.
    #[test]
    fn kernels_do_not_depend_on_the_thread_count() {
        let x = randn(&[8, 64, 128], 9).to_dtype(DType::F32).unwrap();
        let w = randn(&[128], 10).to_dtype(DType::F32).unwrap();
        let cs = randn(&[8, 64, 16], 16).to_dtype(DType::F32).unwrap();
        let bias = randn(&[8, 1, 64, 64], 17).to_dtype(DType::F32).unwrap();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let xv = Var::from_tensor(&x).unwrap();
                let wv = Var::from_tensor(&w).unwrap();
                let y = rms_norm(xv.as_tensor(), wv.as_tensor(), 1e-6).unwrap();
                let a = y.narrow(2, 0, 64).unwrap();
                let b = y.narrow(2, 64, 64).unwrap();
                let z = silu_mul(&a, &b).unwrap();
                // (8, 64, 64) → (8, 2, 64, 32): rope, then scores for the softmax
                let q = z.reshape((8, 64, 2, 32)).unwrap().transpose(1, 2).unwrap();
                let q = rope(&q, &cs, &cs.sin().unwrap()).unwrap();
                let scores = q.matmul(&q.t().unwrap()).unwrap();
                let p = masked_softmax(&scores, &bias, 0.2).unwrap();
                let z = p.matmul(&q).unwrap();
                let g = z.sqr().unwrap().sum_all().unwrap().backward().unwrap();
                let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                (
                    flat(&z),
                    flat(g.get(xv.as_tensor()).unwrap()),
                    flat(g.get(wv.as_tensor()).unwrap()),
                )
            })
        };
        let (one, two) = (run(1), run(2));
        assert!(one
            .0
            .iter()
            .zip(&two.0)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(one
            .1
            .iter()
            .zip(&two.1)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(one
            .2
            .iter()
            .zip(&two.2)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}
