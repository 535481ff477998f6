//! The `--device` and `--dtype` flags shared by the `entropic llm`
//! commands (`cmd_llm`) and `llm diagnose` (`cmd_diagnose`): a module of
//! their own, so the two command modules do not import each other.
use clap::{Args, ValueEnum};
use entropic_llm::device::{self, DeviceChoice, Precision};

/// `--device`: where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    Cpu,
    /// CUDA GPU 0 (needs a binary built with the `cuda` feature).
    Cuda,
}

/// `--dtype`: the precision of weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DtypeArg {
    F32,
    /// bfloat16 (CUDA only).
    Bf16,
}

/// Where and in which precision a model runs.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    pub dtype: DtypeArg,
}

impl DeviceArgs {
    /// The candle device and dtype ([`device::resolve`]): `bf16` on the CPU
    /// and CUDA that cannot be opened are input errors.
    pub fn resolve(&self) -> entropic_llm::Result<(candle_core::Device, candle_core::DType)> {
        let d = match self.device {
            DeviceArg::Cpu => DeviceChoice::Cpu,
            DeviceArg::Cuda => DeviceChoice::Cuda(0),
        };
        let p = match self.dtype {
            DtypeArg::F32 => Precision::F32,
            DtypeArg::Bf16 => Precision::Bf16,
        };
        device::resolve(d, p)
    }
}
