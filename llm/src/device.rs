//! Where and in which precision a model runs: [`DeviceChoice`] (CPU or a
//! CUDA GPU by ordinal) and [`Precision`] (f32, or bf16 on CUDA only),
//! resolved into candle's `Device` and `DType` by [`resolve`]. The binary's
//! `--device` / `--dtype` options and the `[validate]` presets' `device` /
//! `dtype` keys map onto these types; argument parsing stays in the binary.
use crate::error::{LlmError, Result};
use candle_core::{DType, Device};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Whether this build has the `cuda` feature (CUDA kernels compiled in).
pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

/// Matrix-product blocks smaller than this many multiply-adds run on one
/// thread on the CPU: [`set_cpu_matmul_threading`].
pub const CPU_MATMUL_THREADING_THRESHOLD: usize = 16 << 20;

/// Sets candle's CPU matmul backend (the `gemm` crate) to split a product
/// over threads only where a block of it (m · n-block · k-block, the
/// k-block at most a few hundred of the summed dimension) reaches
/// [`CPU_MATMUL_THREADING_THRESHOLD`] multiply-adds (gemm's default: 48·48·256
/// ≈ 0.59 M). A decoding step multiplies a few rows (one per sequence) by
/// each weight matrix, 1–4 M multiply-adds at the benchmark's shapes:
/// woken for each, the second thread cost more than it saved, and
/// generation on 2 threads ran slower than on 1 (`bench llm`, issue 14).
/// Measured on this project's 2-core machine (`examples/gen_threads.rs`, 2
/// threads, medians of 5, near-idle): the base shape's generation 5,586
/// tokens/s at the default and 6,885 / 6,600 / 6,832 at 4 / 8 / 16 M;
/// again after the cache and thread-pool changes of the same issue, 8,027
/// against 8,722 / 8,766 / 8,865 (the tiny shape, 64 rows: 14,556 against
/// 14,625 / 13,800 / 14,106, no difference beyond the noise). 16 M (about
/// 0.3 ms of one core) is the largest tried that cost nothing. Training's
/// forward products stay threaded (m = tokens: ≥ 1,664 rows); some of its
/// backward blocks do not (the weight gradients sum over tokens in
/// k-blocks: 3–14 M at the base shape), at no cost measured: the tiny
/// shape's training step on 2 threads (`examples/train_prof.rs`, three
/// alternating pairs) ran 7,417 / 7,582 / 7,572 tokens/s at gemm's default
/// and 7,788 / 7,559 / 7,757 at 16 M. gemm splits a product over
/// output tiles, each summing its whole k-block in the same order, so the
/// numbers do not depend on this (a test compares the bits of threaded and
/// unthreaded products). Process-wide; the binary calls it once for the
/// LLM commands.
pub fn set_cpu_matmul_threading() {
    gemm::set_threading_threshold(CPU_MATMUL_THREADING_THRESHOLD);
}

/// A device: the CPU, or CUDA GPU `ordinal`. Written `cpu`, `cuda`
/// (= `cuda:0`) or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DeviceChoice {
    #[default]
    Cpu,
    Cuda(usize),
}

/// The floating-point precision of weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    /// bfloat16, CUDA only (candle's CPU matmul has no bf16 path worth using).
    Bf16,
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(0) => f.write_str("cuda"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| format!("unknown device `{s}` (cpu, cuda, cuda:N)")),
        }
    }
}

impl TryFrom<String> for DeviceChoice {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
}

impl From<DeviceChoice> for String {
    fn from(d: DeviceChoice) -> String {
        d.to_string()
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        })
    }
}

impl Precision {
    /// candle's dtype.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
        }
    }
}

/// The candle device and dtype. CUDA that cannot be opened is an input
/// error on `--device`; bf16 on the CPU is an input error on `--dtype`.
pub fn resolve(device: DeviceChoice, precision: Precision) -> Result<(Device, DType)> {
    let dev = match device {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Cuda(n) => Device::new_cuda(n)
            .map_err(|e| LlmError::input("--device", format!("cuda unavailable: {e}")))?,
    };
    if precision == Precision::Bf16 && !dev.is_cuda() {
        return Err(LlmError::input("--dtype", "bf16 is supported on cuda only"));
    }
    Ok((dev, precision.dtype()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bf16_needs_cuda() {
        for s in ["cpu", "cuda", "cuda:3"] {
            assert_eq!(s.parse::<DeviceChoice>().unwrap().to_string(), s);
        }
        assert!("gpu".parse::<DeviceChoice>().is_err());
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        let e = resolve(DeviceChoice::Cpu, Precision::Bf16).unwrap_err();
        assert!(e.is_input() && e.to_string().contains("bf16"), "{e}");
        let (d, t) = resolve(DeviceChoice::Cpu, Precision::F32).unwrap();
        assert!(!d.is_cuda());
        assert_eq!(t, DType::F32);
    }

    /// gemm's threaded and unthreaded products give the same bits, so the
    /// threading threshold ([`super::set_cpu_matmul_threading`]) and the
    /// thread count change no number: the training and decoding shapes of
    /// `bench llm` (forward `x·Wᵀ`, weight gradient `gᵀ·x` summing over the
    /// tokens, a decoding step), with the threshold at 0 so that every
    /// block is split.
    #[test]
    fn threaded_products_equal_unthreaded_ones_bit_for_bit() {
        let mut x = 0.37f32;
        let mut next = move || {
            x = (x * 3.7 + 0.11).fract();
            x - 0.5
        };
        let before = gemm::get_threading_threshold();
        gemm::set_threading_threshold(0);
        // (m, n, k, rhs transposed)
        for (m, n, k, rhs_t) in [
            (3072, 512, 128, true),
            (128, 512, 1664, false),
            (16, 1024, 128, true),
        ] {
            let lhs: Vec<f32> = (0..m * k).map(|_| next()).collect();
            let rhs: Vec<f32> = (0..k * n).map(|_| next()).collect();
            // rhs as k × n, row-major, or its transpose's storage (n × k)
            let (rhs_cs, rhs_rs) = if rhs_t {
                (k as isize, 1)
            } else {
                (1, n as isize)
            };
            let run = |par: gemm::Parallelism| {
                let mut dst = vec![0f32; m * n];
                // SAFETY: every pointer covers its matrix with the strides given.
                unsafe {
                    gemm::gemm(
                        m,
                        n,
                        k,
                        dst.as_mut_ptr(),
                        1,
                        n as isize,
                        false,
                        lhs.as_ptr(),
                        1,
                        k as isize,
                        rhs.as_ptr(),
                        rhs_cs,
                        rhs_rs,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        par,
                    );
                }
                dst.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            let one = run(gemm::Parallelism::None);
            let two = run(gemm::Parallelism::Rayon(2));
            assert!(one == two, "{m}x{n}x{k}: threaded product differs");
        }
        gemm::set_threading_threshold(before);
    }
}
