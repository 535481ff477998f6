//! The default thread count of the transformer on the CPU.
//!
//! candle's CPU kernels and rayon's pool take their thread count from
//! `RAYON_NUM_THREADS`, else every core. The tiny models here are many
//! small ops per step, each split over all threads and waiting for the
//! slowest: when another process holds a core, every op waits a scheduler
//! slice for the descheduled worker, and a 2-core machine with one busy
//! process ran training at a sixth of its idle one-thread speed (`entropic
//! bench llm --contended`).
//!
//! So when the user has not set `RAYON_NUM_THREADS`, the LLM commands set
//! it, before any thread starts, to the cores that are free now: the
//! busy share of every core over [`SAMPLE_MS`] ms of `/proc/stat`,
//! `threads = clamp(cores − round(busy cores), 1, cores)`. Chosen over the
//! load average, which lags by a minute. The numbers do not depend on the
//! choice (candle's products and reductions split over output rows, and the
//! sampler's draws are keyed), only the speed; a set `RAYON_NUM_THREADS`
//! is always respected. Where `/proc/stat` cannot be read, nothing is set.
use std::time::Duration;

/// How long the CPU use is sampled.
pub const SAMPLE_MS: u64 = 200;

/// (busy, total) jiffies of all cores from `/proc/stat`'s `cpu` line.
fn jiffies() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 4 {
        return None;
    }
    let total: u64 = v.iter().sum();
    // idle + iowait
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// Threads for `cores` cores of which `busy_share` (0..1) is in use.
pub fn free_threads(cores: usize, busy_share: f64) -> usize {
    let busy = (busy_share.clamp(0.0, 1.0) * cores as f64).round() as usize;
    cores.saturating_sub(busy).clamp(1, cores.max(1))
}

/// Sets `RAYON_NUM_THREADS` as the module doc says; returns the count set
/// (`None`: the user's setting stands, or the CPU use is unknown). Call it
/// before anything starts a thread.
pub fn set_llm_default() -> Option<usize> {
    if std::env::var_os("RAYON_NUM_THREADS").is_some() {
        return None;
    }
    let cores = std::thread::available_parallelism().ok()?.get();
    if cores == 1 {
        return None;
    }
    let (b0, t0) = jiffies()?;
    std::thread::sleep(Duration::from_millis(SAMPLE_MS));
    let (b1, t1) = jiffies()?;
    if t1 <= t0 {
        return None;
    }
    let n = free_threads(cores, (b1 - b0) as f64 / (t1 - t0) as f64);
    // SAFETY of the call: single-threaded here (module doc), before any
    // thread of ours starts.
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::free_threads;

    #[test]
    fn free_threads_rounds_the_busy_cores() {
        assert_eq!(free_threads(2, 0.0), 2);
        assert_eq!(free_threads(2, 0.2), 2);
        assert_eq!(free_threads(2, 0.5), 1);
        assert_eq!(free_threads(2, 1.0), 1);
        assert_eq!(free_threads(16, 0.5), 8);
        assert_eq!(free_threads(4, 0.6), 2);
    }
}
