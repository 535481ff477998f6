//! `entropic bench sim`: sampled actions per second of the bandit GRPO loop
//! for the reference toy configuration (tabular, M=1024, K=64, G=8,
//! B=256, vanilla rule, dense Adam, PI controller, 1000 steps, the exact
//! all-prompt entropy every 10 steps), on 1 thread and on all threads.
//! "All threads" runs one independent seed per thread at once (seeds are the
//! unit of parallelism of `entropic run`), so its figure is the machine's
//! aggregate throughput. Medians of `runs` repetitions.

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

/// The reference configuration, built as typed structs and validated like
/// a scenario file.
fn bench_config() -> Result<RunConfig, entropic_sim::SimError> {
    let rc = RunConfig {
        arm: "main".into(),
        sweep: None,
        steps: 1000,
        exact_every: 10,
        bandit: BanditConfig {
            policy: PolicyKind::Tabular,
            prompts: 1024,
            actions: 64,
            logit_scale: 1.0,
            update_rule: UpdateRule::Vanilla,
            ..Default::default()
        },
        grpo: GrpoConfig {
            group_size: 8,
            batch_prompts: 256,
            optimizer: OptimizerKind::Adam,
            lr: 0.01,
            ..Default::default()
        },
        control: ControlConfig {
            method: Method::Entropic,
            kp: 1.0,
            ki: 0.01,
            target: 2.0,
            ..Default::default()
        },
    };
    validate("bench", &rc)?;
    Ok(rc)
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
}

pub fn sim(json: bool, runs: usize) -> anyhow::Result<ExitCode> {
    let rc = &bench_config()?;
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
        });
    }
    if json {
        for r in &out {
            println!("{}", serde_json::to_string(r)?);
        }
    } else {
        for r in &out {
            println!(
                "{:>2} thread(s): {:.2} M sampled actions/s ({:.2} M/s per thread), median of {} runs of {:.3} s",
                r.threads,
                r.sampled_actions_per_s / 1e6,
                r.sampled_actions_per_s_per_thread / 1e6,
                r.runs,
                r.seconds_median
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
