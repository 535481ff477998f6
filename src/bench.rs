//! `entropic bench sim`: sampled actions per second of the bandit GRPO loop
//! for the reference toy configuration (tabular, M=1024, K=64, G=8,
//! B=256, vanilla rule, dense Adam, PI controller, 1000 steps, the exact
//! all-prompt entropy every 10 steps), on 1 thread and on all threads.
//! "All threads" runs one independent seed per thread at once (seeds are the
//! unit of parallelism of `entropic run`), so its figure is the machine's
//! aggregate throughput. Medians of `runs` repetitions.
//!
//! Then the LLM-like policies of docs/mathematics.md §8 on 1 thread
//! (`runs` capped at 3 to keep the default run short): `per_position`
//! (K = 4,096) and `factored` (K = 32,768, d = 64), with sampled tokens per
//! second and a counted FLOP rate against a matrix-product peak measured in
//! the same run, in the same precision (f64) and thread count: nalgebra's
//! `DMatrix<f64>` product (matrixmultiply's dgemm, one thread), 384 × 384,
//! best of 5. FLOPs are counted, not measured: for `factored` the
//! `K × d` products (logits `E·h`: 2Kd per context for the rollout, 2Kd for
//! the training forward pass, 4Kd for the backward pass into E and h, 2Kd
//! per context of every exact evaluation); for `per_position`, which has no
//! matrix product, 15 per logit element and context per step (softmax and
//! entropy 5 each in the rollout and the forward pass, 5 for the logit
//! gradient and its accumulation) and 5 per element of an exact evaluation;
//! both add 10 per parameter per step for dense Adam. `exp` counts as one FLOP.

use entropic_sim::bandit::{BanditConfig, PolicyKind};
use entropic_sim::control::{ControlConfig, Method};
use entropic_sim::entropy::UpdateRule;
use entropic_sim::grpo::GrpoConfig;
use entropic_sim::optim::OptimizerKind;
use entropic_sim::runner::run_seed;
use entropic_sim::scenario::{validate, RunConfig};
use entropic_sim::stats::median;
use rayon::prelude::*;
use serde::Serialize;
use std::process::ExitCode;
use std::time::Instant;

/// An LLM-like bench configuration: 1 thread, few steps.
fn llm_like_config(factored: bool) -> Result<RunConfig, entropic_sim::SimError> {
    let (policy, k, m, b, steps) = if factored {
        (PolicyKind::Factored, 32_768, 16, 16, 4)
    } else {
        (PolicyKind::PerPosition, 4096, 64, 32, 20)
    };
    let rc = RunConfig {
        arm: "main".into(),
        sweep: None,
        steps,
        exact_every: 0,
        bandit: BanditConfig {
            policy,
            prompts: m,
            actions: k,
            length: 8,
            forks: 2,
            logit_scale: 2.0,
            pass_rate: vec![0.2, 0.6],
            tail_mass: 0.03,
            embed_dim: 64,
            update_rule: UpdateRule::Vanilla,
            ..Default::default()
        },
        grpo: GrpoConfig {
            group_size: 8,
            batch_prompts: b,
            optimizer: OptimizerKind::Adam,
            lr: 0.01,
            ..Default::default()
        },
        control: ControlConfig {
            method: Method::Entropic,
            kp: 1.0,
            ki: 0.01,
            target: 0.3,
            ..Default::default()
        },
    };
    validate("bench", &rc)?;
    Ok(rc)
}

/// Counted FLOPs of one seed's run of `rc` (see the module documentation).
fn counted_flops(rc: &RunConfig) -> f64 {
    let bd = &rc.bandit;
    let (k, l, m) = (bd.actions as f64, bd.length as f64, bd.prompts as f64);
    let ctx_step = rc.grpo.batch_prompts as f64 * l;
    let exact_evals = if rc.steps > 1 { 2.0 } else { 1.0 };
    let (per_ctx_step, per_ctx_exact, params) = match bd.policy {
        PolicyKind::Factored => {
            let d = bd.embed_dim as f64;
            (8.0 * k * d, 2.0 * k * d, k * d + m * l * d)
        }
        _ => (15.0 * k, 5.0 * k, m * l * k),
    };
    rc.steps as f64 * (ctx_step * per_ctx_step + 10.0 * params)
        + exact_evals * m * l * per_ctx_exact
}

/// The f64 matrix-product peak on the calling thread: nalgebra's product of
/// two 384 × 384 matrices, best of 5, in FLOP/s (2n³ per product).
fn matmul_peak_f64() -> f64 {
    let n = 384;
    let a = nalgebra::DMatrix::<f64>::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let b = nalgebra::DMatrix::<f64>::from_fn(n, n, |i, j| ((i * 5 + j) % 13) as f64 * 0.1);
    let mut best = f64::INFINITY;
    let mut check = 0.0;
    for _ in 0..5 {
        let t0 = Instant::now();
        let c = &a * &b;
        best = best.min(t0.elapsed().as_secs_f64());
        check += c[(n - 1, n - 1)];
    }
    std::hint::black_box(check);
    2.0 * (n as f64).powi(3) / best
}

#[derive(Serialize)]
struct BenchResult {
    bench: &'static str,
    config: &'static str,
    threads: usize,
    runs: usize,
    samples_per_run: u64,
    seconds_median: f64,
    seconds_all: Vec<f64>,
    sampled_actions_per_s: f64,
    sampled_actions_per_s_per_thread: f64,
    /// LLM-like rows: counted FLOP/s, the f64 matmul peak measured in this
    /// run on as many threads, and their ratio.
    #[serde(skip_serializing_if = "Option::is_none")]
    flops_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matmul_peak_flops_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peak_share: Option<f64>,
}

pub fn sim(json: bool, runs: usize) -> anyhow::Result<ExitCode> {
    let rc = &entropic_sim::scenario::bench_tabular()?;
    let per_seed = (rc.steps * rc.grpo.batch_prompts * rc.grpo.group_size) as u64;
    let all = rayon::current_num_threads();
    let mut out = Vec::new();
    for threads in [1, all] {
        if threads == all && all == 1 && !out.is_empty() {
            break;
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let mut secs = Vec::new();
        for r in 0..runs.max(1) {
            let t0 = Instant::now();
            let res: Vec<_> = pool.install(|| {
                (0..threads as u64)
                    .into_par_iter()
                    .map(|s| run_seed(rc, 1000 * r as u64 + s, &|| {}))
                    .collect()
            });
            secs.push(t0.elapsed().as_secs_f64());
            if let Some(e) = res.iter().find_map(|r| r.error.as_ref()) {
                anyhow::bail!("bench run failed: {e}");
            }
        }
        let all_secs = secs.clone();
        let med = median(&secs);
        let total = per_seed * threads as u64;
        out.push(BenchResult {
            bench: "sim",
            config:
                "tabular M=1024 K=64 G=8 B=256 vanilla adam PI 1000 steps exact entropy every 10",
            threads,
            runs: runs.max(1),
            samples_per_run: total,
            seconds_median: med,
            seconds_all: all_secs,
            sampled_actions_per_s: total as f64 / med,
            sampled_actions_per_s_per_thread: total as f64 / med / threads as f64,
            flops_per_s: None,
            matmul_peak_flops_per_s: None,
            peak_share: None,
        });
    }
    let peak = matmul_peak_f64();
    for (factored, config) in [
        (
            false,
            "per_position M=64 K=4096 L=8 forks=2 G=8 B=32 vanilla adam PI 20 steps, 1 thread",
        ),
        (
            true,
            "factored M=16 K=32768 d=64 L=8 forks=2 G=8 B=16 vanilla adam PI 4 steps, 1 thread",
        ),
    ] {
        let rc = &llm_like_config(factored)?;
        let tokens =
            (rc.steps * rc.grpo.batch_prompts * rc.grpo.group_size * rc.bandit.length) as u64;
        let mut secs = Vec::new();
        for r in 0..runs.clamp(1, 3) {
            let t0 = Instant::now();
            let res = run_seed(rc, r as u64, &|| {});
            secs.push(t0.elapsed().as_secs_f64());
            if let Some(e) = res.error.as_ref() {
                anyhow::bail!("bench run failed: {e}");
            }
        }
        let med = median(&secs);
        let flops = counted_flops(rc) / med;
        out.push(BenchResult {
            bench: "sim",
            config,
            threads: 1,
            runs: secs.len(),
            samples_per_run: tokens,
            seconds_median: med,
            seconds_all: secs,
            sampled_actions_per_s: tokens as f64 / med,
            sampled_actions_per_s_per_thread: tokens as f64 / med,
            flops_per_s: Some(flops),
            matmul_peak_flops_per_s: Some(peak),
            peak_share: Some(flops / peak),
        });
    }
    if json {
        for r in &out {
            println!("{}", serde_json::to_string(r)?);
        }
    } else {
        for r in &out {
            match (r.flops_per_s, r.matmul_peak_flops_per_s) {
                (Some(f), Some(p)) => println!(
                    "{}: {:.3} M sampled tokens/s, {:.2} GFLOP/s counted = {:.1}% of the f64 matmul peak {:.2} GFLOP/s (1 thread), median of {} runs of {:.3} s",
                    r.config,
                    r.sampled_actions_per_s / 1e6,
                    f / 1e9,
                    100.0 * f / p,
                    p / 1e9,
                    r.runs,
                    r.seconds_median
                ),
                _ => println!(
                    "{}, {} thread(s): {:.2} M sampled actions/s ({:.2} M/s per thread), median of {} runs of {:.3} s",
                    r.config,
                    r.threads,
                    r.sampled_actions_per_s / 1e6,
                    r.sampled_actions_per_s_per_thread / 1e6,
                    r.runs,
                    r.seconds_median
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The objects of `--json` output, one per non-empty line.
fn json_lines(text: &str) -> serde_json::Result<Vec<serde_json::Value>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect()
}

/// The figures `bench llm --contended` reads from one `bench llm --json`
/// child: training and generation tokens/s, and its thread count.
fn llm_child(threads: Option<usize>) -> anyhow::Result<(f64, f64, usize)> {
    let exe = std::env::current_exe()?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["bench", "llm", "--json"]);
    if let Some(t) = threads {
        cmd.env("RAYON_NUM_THREADS", t.to_string());
    }
    let out = cmd.output()?;
    if !out.status.success() {
        anyhow::bail!(
            "bench llm child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rows = json_lines(&String::from_utf8_lossy(&out.stdout))?;
    let get = |config: &str, key: &str| -> anyhow::Result<f64> {
        rows.iter()
            .find(|r| r["config"] == config)
            .and_then(|r| r[key].as_f64())
            .ok_or_else(|| anyhow::anyhow!("bench llm child: no {config}.{key}"))
    };
    Ok((
        get("train-64x48", "tokens_per_s")?,
        get("generate-64x32-kv", "tokens_per_s")?,
        get("train-64x48", "threads")? as usize,
    ))
}

/// `/proc/loadavg`'s first three fields ("n/a" where there is none).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

/// The busy process of `bench llm --contended`: one thread spinning on
/// arithmetic for at most `seconds` (its parent kills it sooner).
pub fn busy(seconds: u64) -> ExitCode {
    let end = Instant::now() + std::time::Duration::from_secs(seconds);
    let mut x = 1u64;
    while Instant::now() < end {
        for _ in 0..1_000_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    ExitCode::SUCCESS
}

/// Kills the busy child when dropped (also on an error or a panic).
struct Busy(std::process::Child);

impl Drop for Busy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The share of the idle one-thread throughput that training and
/// generation with the default thread count must keep beside one other
/// CPU-bound process.
pub const CONTENDED_FLOOR: f64 = 0.40;

/// `entropic bench llm --contended`: `bench llm` three times in child
/// processes: on one thread, idle; with the default thread count, idle;
/// and with the default thread count beside a busy process this command
/// starts (`entropic bench busy`, one spinning thread, killed afterwards).
/// Reports training and generation tokens/s of each and the contended
/// figure's share of the idle one-thread one, against
/// [`CONTENDED_FLOOR`]. "Idle" means no process of ours beside it: the
/// machine's own load average is printed before and after.
pub fn llm_contended(json: bool) -> anyhow::Result<ExitCode> {
    let load0 = loadavg();
    let one = llm_child(Some(1))?;
    let idle = llm_child(None)?;
    let exe = std::env::current_exe()?;
    let child = std::process::Command::new(exe)
        .args(["bench", "busy"])
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let guard = Busy(child);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let contended = llm_child(None)?;
    drop(guard);
    let load1 = loadavg();
    let rows = serde_json::json!([
        {"config": "train-64x48", "idle_1_thread": one.0, "idle_default": idle.0, "contended_default": contended.0,
         "default_threads": idle.2, "contended_threads": contended.2, "share_of_idle_1_thread": contended.0 / one.0, "floor": CONTENDED_FLOOR,
         "load_before": load0, "load_after": load1},
        {"config": "generate-64x32-kv", "idle_1_thread": one.1, "idle_default": idle.1, "contended_default": contended.1,
         "default_threads": idle.2, "contended_threads": contended.2, "share_of_idle_1_thread": contended.1 / one.1, "floor": CONTENDED_FLOOR,
         "load_before": load0, "load_after": load1},
    ]);
    if json {
        // one object per line, as `bench llm --json`
        for r in rows.as_array().into_iter().flatten() {
            println!("{r}");
        }
    } else {
        println!("load average before {load0}, after {load1}");
        for (name, i) in [("training", 0usize), ("generation", 1)] {
            let (a, b, c) = [(one.0, idle.0, contended.0), (one.1, idle.1, contended.1)][i];
            println!(
                "{name}: {a:.0} tokens/s idle on 1 thread; {b:.0} idle on {t} thread(s); {c:.0} on {u} thread(s) beside one busy process = {:.0}% of the idle 1-thread figure (floor {:.0}%)",
                100.0 * c / a,
                100.0 * CONTENDED_FLOOR,
                t = idle.2,
                u = contended.2
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::json_lines;

    /// `--json` output is read one object per line; blank lines are
    /// skipped and a broken line is an error, not a silent gap.
    #[test]
    fn json_lines_reads_one_object_per_line() {
        let rows = json_lines("{\"config\":\"a\",\"x\":1}\n\n{\"config\":\"b\",\"x\":2.5}\n")
            .expect("two objects");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["x"], 2.5);
        assert!(json_lines("{\"config\":\"a\"}\n{broken\n").is_err());
    }
}
