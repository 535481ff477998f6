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
}
