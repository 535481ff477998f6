//! `entropic llm selftest [--cuda] [--bench] [--json]`: the smoke test of
//! `entropic_llm::selftest` on the CPU, and with `--cuda` on GPU 0 too.
//! Exit 0 when every check passes; 1 when a check fails or, with `--cuda`,
//! when there is no GPU or the binary was built without the `cuda` feature.
use clap::Args;
use entropic_llm::selftest;
use std::process::ExitCode;

/// Dense bf16 peak of an H100 SXM (and of the H200, the same GH100 chip):
/// 989 TFLOP/s without sparsity (NVIDIA's H100 datasheet).
pub const H100_BF16_PEAK_TFLOPS: f64 = 989.0;

/// Options of `entropic llm selftest` besides `--cuda`.
#[derive(Args, Debug)]
pub struct SelftestArgs {
    /// Also measure throughput (training and generation tokens/s, model FLOP
    /// utilisation): bf16 on the GPU with --cuda, else a tiny f32 model on the CPU.
    #[arg(long)]
    pub bench: bool,
    /// Peak the GPU utilisation is taken against, in TFLOP/s (default: the
    /// H100/H200 dense bf16 peak, 989).
    #[arg(long, default_value_t = H100_BF16_PEAK_TFLOPS)]
    pub peak_tflops: f64,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs the self-test.
pub fn run(cuda: bool, args: SelftestArgs) -> anyhow::Result<ExitCode> {
    let gpu = if cuda {
        match selftest::cuda_device(0) {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("llm selftest --cuda: FAILED: {e}");
                return Ok(ExitCode::from(1));
            }
        }
    } else {
        None
    };
    let mut report = selftest::run(gpu.as_ref())?;
    if args.bench {
        report.throughput = Some(selftest::bench(gpu.as_ref(), args.peak_tflops)?);
    }
    let ok = report.passed();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for c in &report.checks {
            println!(
                "{} {}: {}",
                if c.passed { "PASS" } else { "FAIL" },
                c.name,
                c.detail
            );
        }
        if let Some(t) = &report.throughput {
            println!(
                "throughput on {} ({}, {} parameters): training {:.0} tokens/s ({:.2} TFLOP/s), generation {:.0} tokens/s ({:.3} TFLOP/s)",
                t.device, t.dtype, t.params, t.train_tokens_per_s, t.train_tflops, t.gen_tokens_per_s, t.gen_tflops
            );
            if let (Some(p), Some(tm), Some(gm)) = (t.peak_tflops, t.train_mfu, t.gen_mfu) {
                println!(
                    "model FLOP utilisation against {p} TFLOP/s dense bf16: training {:.2}%, generation {:.3}%",
                    100.0 * tm,
                    100.0 * gm
                );
            }
        }
    }
    let n = report.checks.len();
    let failed = report.checks.iter().filter(|c| !c.passed).count();
    if ok {
        eprintln!(
            "llm selftest: all {n} checks passed on {}",
            report.devices.join(", ")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("llm selftest: FAILED: {failed} of {n} checks failed");
        Ok(ExitCode::from(1))
    }
}
