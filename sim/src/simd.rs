//! Vector kernels with runtime dispatch: the same element-wise code compiled
//! for AVX-512, AVX2 or plain x86-64 (or any other target), chosen once per
//! process from what the CPU has, so one binary runs everywhere.
//!
//! **The same bits on every path.** Every kernel here is written so that the
//! vector width cannot change a result: element-wise operations are IEEE
//! operations in a fixed order (Rust never contracts `a * b + c` into a
//! fused multiply-add; where a kernel wants a fused one it says
//! `mul_add`, which is fused on every path — a hardware instruction where
//! the CPU has FMA, the C library's exact `fma` where it does not), and a
//! reduction keeps [`LANES`] partial sums that are added in a fixed tree at
//! the end, whatever the register width. `dispatched_kernels_agree_bit_for_bit`
//! checks this on the machine that runs the tests.
//!
//! [`exp`] is our own: the C library's `exp` is a function call per element,
//! which no compiler vectorises, and it was about a third of the per-position
//! policy's step (docs/design.md §9, `bench sim`). It is accurate to about
//! one unit in the last place (a degree-13 Taylor polynomial on
//! |r| ≤ ln2/2 after a two-part Cody–Waite reduction); it returns 0 below
//! −708.39 (where `exp` would be subnormal: no probability that small
//! matters here) and +∞ above 709.78, and NaN for NaN.
use std::sync::OnceLock;

/// Partial sums a reduction keeps (then added in a fixed tree).
pub const LANES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Avx512,
    Avx2,
    Plain,
}

fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Level::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Level::Avx2;
            }
        }
        Level::Plain
    })
}

/// Defines `pub fn $name(args) -> ret` that runs `$body(args)` compiled for
/// the widest vector unit the CPU has. `$body` must be `#[inline(always)]`.
macro_rules! dispatched {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) = $body:path;) => {
        $crate::simd::dispatched! {
            $(#[$meta])* $vis fn $name($($arg: $ty),*) -> () = $body;
        }
    };
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = $body:path;) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn wide512($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn wide256($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                match $crate::simd::level_is() {
                    // SAFETY: the CPU has these features (checked by `level`).
                    1 => return unsafe { wide512($($arg),*) },
                    // SAFETY: as above.
                    2 => return unsafe { wide256($($arg),*) },
                    _ => {}
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use dispatched;

/// 1: AVX-512 with FMA, 2: AVX2 with FMA, 0: neither (for [`dispatched`]).
#[doc(hidden)]
pub fn level_is() -> u8 {
    match level() {
        Level::Avx512 => 1,
        Level::Avx2 => 2,
        Level::Plain => 0,
    }
}

const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split in two (Cody–Waite): `LN2_HI` has its low 32 bits zero, so
/// `n · LN2_HI` is exact for |n| < 2^20.
const LN2_HI: f64 = 6.931_471_803_691_238_2e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// 1.5 · 2^52: adding it rounds to the nearest integer (ties to even) and
/// leaves that integer in the low bits.
const ROUNDER: f64 = 6_755_399_441_055_744.0;
const EXP_MIN: f64 = -708.39;
const EXP_MAX: f64 = 709.78;

/// `e^x`, element-wise code that vectorises (see the module docs for its
/// accuracy and range).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let t = x.mul_add(LOG2_E, ROUNDER);
    let n = t - ROUNDER;
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, x));
    // Horner on the Taylor coefficients 1/13! … 1/0!
    let mut p: f64 = 1.0 / 6_227_020_800.0;
    p = p.mul_add(r, 1.0 / 479_001_600.0);
    p = p.mul_add(r, 1.0 / 39_916_800.0);
    p = p.mul_add(r, 1.0 / 3_628_800.0);
    p = p.mul_add(r, 1.0 / 362_880.0);
    p = p.mul_add(r, 1.0 / 40_320.0);
    p = p.mul_add(r, 1.0 / 5_040.0);
    p = p.mul_add(r, 1.0 / 720.0);
    p = p.mul_add(r, 1.0 / 120.0);
    p = p.mul_add(r, 1.0 / 24.0);
    p = p.mul_add(r, 1.0 / 6.0);
    p = p.mul_add(r, 0.5);
    p = p.mul_add(r, 1.0);
    p = p.mul_add(r, 1.0);
    // 2^n from n's bits in t (valid for |n| ≤ 1023, which the range gives)
    let bits = (t
        .to_bits()
        .wrapping_sub(ROUNDER.to_bits())
        .wrapping_add(1023))
        << 52;
    let y = p * f64::from_bits(bits);
    if x < EXP_MIN {
        0.0
    } else if x > EXP_MAX {
        f64::INFINITY
    } else {
        y
    }
}

/// Adds [`LANES`] partial sums in a fixed tree.
#[inline(always)]
fn tree(acc: [f64; LANES]) -> f64 {
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// `out_i = exp(z_i · s − m)`; returns `Σ out_i` (lane sums). Two passes:
/// a plain element-wise loop is what the loop vectoriser turns into vector
/// code (with the lane sums inside, it stayed scalar).
#[inline(always)]
fn exp_affine_sum_body(z: &[f64], s: f64, m: f64, out: &mut [f64]) -> f64 {
    let n = z.len().min(out.len());
    let (z, out) = (&z[..n], &mut out[..n]);
    for (o, &x) in out.iter_mut().zip(z) {
        *o = exp(x * s - m);
    }
    sum_body(out)
}

#[inline(always)]
fn sum_body(x: &[f64]) -> f64 {
    let mut acc = [0.0; LANES];
    let split = x.len() - x.len() % LANES;
    for c in x[..split].chunks_exact(LANES) {
        for i in 0..LANES {
            acc[i] += c[i];
        }
    }
    for (i, &v) in x[split..].iter().enumerate() {
        acc[i] += v;
    }
    tree(acc)
}

dispatched! {
    /// `out_i = exp(z_i · s − m)` for every i; returns their sum, added in
    /// [`LANES`] partial sums (the same bits on every dispatch path).
    pub fn exp_affine_sum(z: &[f64], s: f64, m: f64, out: &mut [f64]) -> f64 = exp_affine_sum_body;
}

#[inline(always)]
fn dot_body(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0; LANES];
    let split = n - n % LANES;
    for (ac, bc) in a[..split]
        .chunks_exact(LANES)
        .zip(b[..split].chunks_exact(LANES))
    {
        for i in 0..LANES {
            acc[i] += ac[i] * bc[i];
        }
    }
    for (i, (&x, &y)) in a[split..].iter().zip(&b[split..]).enumerate() {
        acc[i] += x * y;
    }
    tree(acc)
}

dispatched! {
    /// `Σ a_i b_i` over the common length, in [`LANES`] partial sums.
    pub fn dot(a: &[f64], b: &[f64]) -> f64 = dot_body;
}

#[inline(always)]
fn max_body(x: &[f64]) -> f64 {
    let mut acc = [f64::NEG_INFINITY; LANES];
    let split = x.len() - x.len() % LANES;
    for c in x[..split].chunks_exact(LANES) {
        for i in 0..LANES {
            acc[i] = if c[i] > acc[i] { c[i] } else { acc[i] };
        }
    }
    for (i, &v) in x[split..].iter().enumerate() {
        acc[i] = if v > acc[i] { v } else { acc[i] };
    }
    acc.into_iter().fold(f64::NEG_INFINITY, f64::max)
}

dispatched! {
    /// The largest element ignoring NaN (−∞ for an empty slice), as
    /// `fold(−∞, f64::max)` gives.
    pub fn max(x: &[f64]) -> f64 = max_body;
}

/// 1.5 · 2^23: adding it to an f32 rounds to the nearest integer and leaves
/// that integer in the low mantissa bits.
const ROUNDER_F32: f32 = 12_582_912.0;
/// ln 2 in two parts for f32 (Cephes): `LN2_HI_F32` has 9 significant bits,
/// so `n · LN2_HI_F32` is exact for the |n| ≤ 127 the range allows.
const LN2_HI_F32: f32 = 0.693_359_4;
const LN2_LO_F32: f32 = -2.121_944_4e-4;
/// Below this, [`exp_f32`] returns 0: `e^x` is at most 1.0066 times f32's
/// smallest normal (ln 2^−126 = −87.3365), and subnormal results (down to
/// x ≈ −103.97) are flushed to 0, which no probability here needs.
const EXP_MIN_F32: f32 = -87.33;
/// Above this, `2^n` would need the exponent 128: [`exp_f32`] returns +∞
/// (the true value is finite up to 88.72, and a softmax or SiLU never
/// asks so high: softmax arguments are ≤ 0, and SiLU's `e^−a` that large
/// only multiplies the output by about 0).
const EXP_MAX_F32: f32 = 88.37;

/// `e^x` in f32, element-wise code that vectorises (the C library's `expf`
/// is a call per element): a Cody–Waite reduction to |r| ≤ ln2/2 and
/// Cephes' degree-5 minimax polynomial for `(e^r − 1 − r)/r²`, every step
/// a fused multiply-add or an IEEE operation, so every dispatch path gives
/// the same bits. Within 2 units in the last place of the correctly
/// rounded value (tested); 0 below −87.33 (flushing results at or near
/// f32's smallest normal and all subnormal ones), +∞ above 88.37, NaN for
/// NaN.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    let t = x.mul_add(std::f32::consts::LOG2_E, ROUNDER_F32);
    let n = t - ROUNDER_F32;
    let r = (-n).mul_add(LN2_LO_F32, (-n).mul_add(LN2_HI_F32, x));
    let mut p: f32 = 1.987_569_1e-4;
    p = p.mul_add(r, 1.398_2e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 5.000_000_1e-1);
    let e = (p * r).mul_add(r, r) + 1.0;
    // 2^n from n's bits in t (|n| ≤ 127 in the range kept)
    let bits = (t
        .to_bits()
        .wrapping_sub(ROUNDER_F32.to_bits())
        .wrapping_add(127))
        << 23;
    let y = e * f32::from_bits(bits);
    if x < EXP_MIN_F32 {
        0.0
    } else if x > EXP_MAX_F32 {
        f32::INFINITY
    } else {
        y
    }
}

#[inline(always)]
fn exp_f32_in_place_body(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = exp_f32(*v);
    }
}

dispatched! {
    /// `x_i ← e^{x_i}` ([`exp_f32`]) for every i, the same bits on every
    /// dispatch path (the LLM's fused f32 kernels, `entropic_llm::kernels`).
    pub fn exp_f32_in_place(x: &mut [f32]) = exp_f32_in_place_body;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn exp_is_within_two_ulp_of_the_libm_exp() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut worst = 0.0f64;
        for i in 0..200_000 {
            let x: f64 = if i % 2 == 0 {
                rng.random_range(-708.0..709.0)
            } else {
                rng.random_range(-40.0..1.0)
            };
            let (a, b) = (exp(x), x.exp());
            let ulp = (b.to_bits() as i64 - a.to_bits() as i64).unsigned_abs() as f64;
            worst = worst.max(ulp);
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(800.0), f64::INFINITY);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
    }

    /// [`exp_f32`] against the correctly rounded value (f64 `exp` rounded
    /// to f32) over the whole kept range and the softmax range, and at the
    /// range's edges and just outside them; the dispatched slice version
    /// gives the scalar bits (the widest path this CPU has against the
    /// scalar build; a CPU with AVX2 but not AVX-512 checks the AVX2 path).
    #[test]
    fn exp_f32_is_within_two_ulp_and_dispatch_keeps_its_bits() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut worst = 0u32;
        let xs: Vec<f32> = (0..400_000)
            .map(|i| {
                if i % 2 == 0 {
                    rng.random_range(-87.3f32..88.3)
                } else {
                    rng.random_range(-20.0f32..1.0)
                }
            })
            .collect();
        for &x in &xs {
            let (a, b) = (exp_f32(x), (x as f64).exp() as f32);
            worst = worst.max(a.to_bits().abs_diff(b.to_bits()));
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        // the edges of the kept range and their neighbours outside it
        for x in [EXP_MIN_F32, EXP_MAX_F32] {
            let (a, b) = (exp_f32(x), (x as f64).exp() as f32);
            assert!(a.to_bits().abs_diff(b.to_bits()) <= 2, "at {x}: {a} vs {b}");
            assert!(a.is_finite() && a > 0.0);
        }
        assert_eq!(exp_f32(EXP_MIN_F32.next_down()), 0.0);
        assert_eq!(exp_f32(EXP_MAX_F32.next_up()), f32::INFINITY);
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-100.0), 0.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(100.0), f32::INFINITY);
        assert!(exp_f32(f32::NAN).is_nan());
        for n in [0usize, 1, 15, 16, 17, 1000, 4099] {
            let mut v = xs[..n].to_vec();
            exp_f32_in_place(&mut v);
            assert!(v
                .iter()
                .zip(&xs[..n])
                .all(|(a, &x)| a.to_bits() == exp_f32(x).to_bits()));
        }
    }

    #[test]
    fn dispatched_kernels_agree_bit_for_bit() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for n in [0usize, 1, 7, 8, 9, 31, 257, 4099] {
            let z: Vec<f64> = (0..n).map(|_| rng.random_range(-30.0..5.0)).collect();
            let w: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut out = vec![0.0; n];
            let mut plain = vec![0.0; n];
            let s = exp_affine_sum(&z, 1.0 / 0.6, 2.0, &mut out);
            let s_plain = exp_affine_sum_body(&z, 1.0 / 0.6, 2.0, &mut plain);
            assert_eq!(s.to_bits(), s_plain.to_bits(), "n {n}");
            assert!(out
                .iter()
                .zip(&plain)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_eq!(dot(&z, &w).to_bits(), dot_body(&z, &w).to_bits());
            assert_eq!(max(&z).to_bits(), max_body(&z).to_bits());
            let direct = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(max(&z).to_bits(), direct.to_bits());
            let sum: f64 = out.iter().sum();
            assert!((s - sum).abs() <= 1e-12 * sum.abs().max(1.0));
        }
    }
}
