//! Randomization intervals for the unpaired estimator (docs/mathematics.md
//! §9): where the probe's schedule was drawn at random (a PRBS), the
//! draw itself is the reference distribution, so the interval needs no
//! model of the noise or of the drift's shape.
//!
//! Why: [`super::unpaired`]'s Newey–West interval is a variance model that
//! does not know the drift's shape. On the sampled toy the drift is not
//! constant (entropy falls fast, then slower), a PRBS correlates with that
//! curve by chance, and the placebo (the schedule used as a regressor on a
//! plain arm, true `g = 0`) covered 0 in only 169 and 176 of 200
//! repetitions with its first, prewhitened version, and still in only 164
//! under Adam with the current one at t quantiles (176 with its fixed-b
//! quantiles, [`super::fixed_b`]). A regression's HAC variance cannot
//! count a chance correlation with a smooth deterministic curve as noise;
//! re-drawing the schedule can.
//!
//! ## The test and its inversion (Fisher's randomization test)
//! Model: `H_t = H⁰_t − g·A_t`, where `H⁰` is the path the arm would have
//! taken with α = 0 (whatever its drift and noise), `A_t = Σ_{s<t} α_{s−d}`
//! the cumulative α of the schedule that ran, and the schedule drawn
//! independently of `H⁰`. Under the hypothesis `g = g₀`, `H⁰ = H + g₀·A` is
//! known, and any statistic `T(H⁰, schedule)` has, over fresh draws of the
//! schedule from the same design, exactly the distribution the observed one
//! was drawn from. The test rejects `g₀` when the observed statistic is in
//! either 2.5% tail of `M` re-draws (the two-sided randomization p-value
//! `2·min(#≤ + 1, #≥ + 1)/(M + 1)`, where `#≤` and `#≥` count the re-draws
//! at or below and at or above the observed statistic, a tie in both); the
//! interval is the hull of the `g₀` not rejected. At `g₀ = 0` (the
//! placebo) the test is exact for any drift and any noise, provided the
//! delay `d` and the lag are fixed before the fit (a delay selected on the
//! same log depends on the schedule: `tune identify --prbs-hold` therefore
//! needs `--delay`). Elsewhere it is approximate: it rests on the additive
//! model (a gain that changes with the state, or an optimizer that spreads
//! α's effect over later steps, makes the shifted path only approximately
//! schedule-free), and the prewhitening `θ` below, estimated from the
//! logged path, depends on the observed schedule once `g₀ ≠ 0`.
//!
//! A design needs at least [`MIN_BLOCKS`] PRBS blocks: with `B` blocks
//! there are `2^B` schedules, and a 5% two-sided test needs the observed
//! one to be able to sit beyond 2.5% of them on either side.
//!
//! ## The statistic
//! [`super::unpaired`]'s regression in differences, `ΔH_t = b − g·α_{t−d}
//! + u_t`, with an MA(1) prewhitening (as [`super::unpaired`]'s first
//! version had; the randomization makes it exact at `g₀ = 0` whatever its
//! `θ`, and it buys power): the filter `z̃_t = z_t − θ·z̃_{t−1}`
//! on `ΔH`, the intercept and α, with `θ` chosen once by conditional sum
//! of squares on the drift-only fit of the logged `ΔH` (so it does not
//! depend on the schedule, and at `g₀ = 0` the test stays exact); then the
//! OLS slope `T = x̃·ỹ / x̃·x̃`, `x̃` the filtered α with the filtered
//! intercept projected out. Linear in `ΔH`, so the re-draws' statistics at
//! every `g₀` follow from two dot products per draw (`u_j = T_j(ΔH)`,
//! `c_j = T_j(α_obs)`) and the whole interval from one sweep over their
//! breakpoints.
//!
//! Tried and rejected: the slope in levels (`H` on the cumulative α with an
//! intercept and a time trend), which estimates the same long-run gain as
//! [`super::paired`] and so would remove the regression in differences'
//! bias under Adam (whose momentum spreads α's effect over about ten
//! steps; the differences see 0.6 of it). Its re-draws are cumulative sums
//! of coin flips, random walks whose spurious correlation with the logged
//! one (`c_j`) is large: on the sampled toy (SGD, a PRBS per seed, 300
//! steps) its spread over repetitions was 6.5 times that of the statistic
//! in differences, with infinite interval ends in some, and its
//! `g_detectable` 0.75 of the 80%-power gain of its spread.
//!
//! **Lag.** Under Adam the momentum spreads one step's α over the next
//! steps with weights `(1 − β1)·β1^k`, so `ΔH_t` answers a smoothed α and
//! the slope on `α_{t−d}` itself is the immediate gain, about 0.6 of the
//! long-run one on the sampled toy. The regressor can be α filtered by a
//! geometric lag of decay `λ` (weights summing to 1, so `ĝ` is the long-run
//! gain); the lag is fixed before the fit, so the test stays exact at
//! `g₀ = 0`. On the sampled toy with `λ` = Adam's `β1` = 0.9 (chosen
//! first, as the optimizer's own figure) the estimate went from 0.60 to
//! 1.21 of the paired reference and covered it in 176 of 200; `λ = 0.8`
//! (tried after, as a sensitivity check, not adopted) gave 0.94 and 188.
//! Adam's second moment reshapes the response too, so no `λ` is exact.
//!
//! `g_se` is the spread of the statistic over the re-draws at `g₀ = ĝ`, and
//! `g_detectable = (z_{0.975} + z_{0.80})·g_se`, normal quantiles (the
//! re-draws' distribution is close to normal for a schedule of many
//! blocks). `b` is the intercept given `ĝ`, `mean(ΔH) + ĝ·mean(x)`, with
//! the half-width of [`super::unpaired_lagged`]'s interval for `b` with
//! the same lag (its Newey–West SE); `df` is the number of re-draws and `bandwidth` 0 (the
//! interval uses neither).
use super::*;

/// How a PRBS probe's schedule was drawn, for [`unpaired_randomized`]: the
/// α before `start` as logged (a prelude, held fixed in every re-draw);
/// from `start` on, for `len` steps (`None`: to the end of the log),
/// `center ± amplitude` by [`prbs`] with `min_hold` (or, with
/// `coding = Manchester`, by [`prbs_manchester`]); after those steps the
/// last level held (as a probe schedule shorter than its run holds its last
/// level). A draw that never switches is drawn again (it identifies
/// nothing; a user would draw again too).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrbsDraw {
    pub start: usize,
    pub len: Option<usize>,
    pub center: f64,
    pub amplitude: f64,
    pub min_hold: usize,
    pub coding: Coding,
}

/// Re-draws of the schedule behind every randomization interval: the
/// p-value's resolution is `1/(M + 1)` = 0.001, and the 2.5% tails hold 25
/// draws each.
pub const RANDOMIZATION_DRAWS: usize = 999;

/// Fewest PRBS blocks (coin flips: `min_hold` steps each, `2·min_hold`
/// Manchester-coded) a randomization interval accepts: `2^6 = 64`
/// schedules, so a 2.5% tail holds at least one other than the observed.
pub const MIN_BLOCKS: usize = 6;

impl PrbsDraw {
    /// A PRBS from step 0 to the end of the log (no prelude).
    pub const fn from_step_0(center: f64, amplitude: f64, min_hold: usize) -> PrbsDraw {
        PrbsDraw {
            start: 0,
            len: None,
            center,
            amplitude,
            min_hold,
            coding: Coding::Nrz,
        }
    }

    /// The same design with the coin flips coded by `coding`.
    pub const fn coded(self, coding: Coding) -> PrbsDraw {
        PrbsDraw { coding, ..self }
    }

    /// The PRBS's coin flips (blocks) in a log of `steps` steps.
    pub fn blocks(&self, steps: usize) -> usize {
        if self.min_hold == 0 {
            return 0;
        }
        self.prbs_len(steps)
            .div_ceil(self.coding.period(self.min_hold))
    }

    /// The PRBS's length in a log of `steps` steps.
    fn prbs_len(&self, steps: usize) -> usize {
        let rest = steps.saturating_sub(self.start);
        self.len.map_or(rest, |l| l.min(rest))
    }

    /// `steps` values of α: `prelude`'s first `start` values (as many as it
    /// has), then one PRBS drawn from `seed` for [`PrbsDraw::len`] steps
    /// (drawn again, with `seed + 1_000_000·k`, at most 64 times while it
    /// never switches; a design that cannot switch is returned as drawn),
    /// then its last level held.
    pub fn draw(&self, prelude: &[f64], steps: usize, seed: u64) -> Vec<f64> {
        let pre = self.start.min(steps).min(prelude.len());
        let mut out: Vec<f64> = prelude[..pre].to_vec();
        let n = self.prbs_len(steps).min(steps - pre);
        let can_switch = n > self.min_hold.max(1) && self.amplitude != 0.0;
        let mut s = seed;
        let coded = |s: u64| prbs_coded(n, self.amplitude, self.min_hold, s, self.coding);
        let mut p = coded(s);
        for _ in 0..64 {
            if !can_switch || p.iter().any(|&x| x != p[0]) {
                break;
            }
            s = s.wrapping_add(1_000_000);
            p = coded(s);
        }
        out.extend(p.iter().map(|x| self.center + x));
        let last = out.last().copied().unwrap_or(self.center);
        out.resize(steps, last);
        out
    }

    /// The design of a logged PRBS with a known `min_hold`, `start`, `len`
    /// and `coding`: its levels `center ± amplitude` read from `alpha` in
    /// those steps (exactly two finite values), then [`PrbsDraw::check`]ed.
    pub fn from_schedule(
        alpha: &[f64],
        min_hold: usize,
        start: usize,
        len: Option<usize>,
        coding: Coding,
    ) -> Result<PrbsDraw, IdentError> {
        let probe = PrbsDraw {
            start,
            len,
            center: 0.0,
            amplitude: 1.0,
            min_hold,
            coding,
        };
        let mut levels: Vec<f64> = alpha
            .iter()
            .skip(start)
            .take(probe.prbs_len(alpha.len()))
            .copied()
            .filter(|a| a.is_finite())
            .collect();
        levels.sort_by(f64::total_cmp);
        levels.dedup();
        if levels.len() != 2 {
            return Err(IdentError::NotADraw {
                why: format!(
                    "α after step {start} takes {} distinct value(s); a PRBS takes exactly 2",
                    levels.len()
                ),
            });
        }
        let draw = PrbsDraw {
            start,
            len,
            center: 0.5 * (levels[0] + levels[1]),
            amplitude: 0.5 * (levels[1] - levels[0]),
            min_hold,
            coding,
        };
        draw.check(alpha)?;
        Ok(draw)
    }

    /// Whether `alpha` can be a draw of this design: it has at least
    /// [`MIN_BLOCKS`] blocks; in the PRBS's steps every value is `center ±
    /// amplitude` and every level starts at a multiple of `min_hold` after
    /// `start`; Manchester-coded, the second `min_hold` steps of every
    /// coin's `2·min_hold` are the first's opposite; after them α holds the
    /// last level. A schedule that is not a draw of the design has no
    /// reference distribution here.
    pub fn check(&self, alpha: &[f64]) -> Result<(), IdentError> {
        let bad = |why: String| Err(IdentError::NotADraw { why });
        if !(self.amplitude.is_finite() && self.amplitude > 0.0 && self.center.is_finite()) {
            return bad(format!(
                "amplitude {} and center {} must be finite, the amplitude above 0",
                self.amplitude, self.center
            ));
        }
        let n = self.prbs_len(alpha.len());
        if let Some(l) = self
            .len
            .filter(|&l| self.start.saturating_add(l) > alpha.len())
        {
            return bad(format!(
                "start {} + length {l} runs past the log's {} steps",
                self.start,
                alpha.len()
            ));
        }
        let blocks = self.blocks(alpha.len());
        if blocks < MIN_BLOCKS {
            return bad(format!(
                "{n} PRBS steps from step {} with min_hold {} ({}) make {blocks} block(s); a \
                 randomization interval needs at least {MIN_BLOCKS} (2^{MIN_BLOCKS} possible \
                 schedules)",
                self.start,
                self.min_hold,
                self.coding.name()
            ));
        }
        let tol = 1e-9 * (self.center.abs() + self.amplitude);
        let end = self.start + n;
        for (i, &a) in alpha.iter().enumerate().skip(self.start) {
            if i >= end {
                if a != alpha[end - 1] {
                    return bad(format!(
                        "α = {a} at step {i}, after the PRBS's {n} steps, is not its last level {}",
                        alpha[end - 1]
                    ));
                }
                continue;
            }
            if ((a - self.center).abs() - self.amplitude).abs() > tol {
                return bad(format!(
                    "α = {a} at step {i} is not {} ± {}",
                    self.center, self.amplitude
                ));
            }
            let k = i - self.start;
            if i > self.start && a != alpha[i - 1] && k % self.min_hold != 0 {
                return bad(format!(
                    "α switches at step {i}, {k} steps after start {}: not a multiple of min_hold {}",
                    self.start, self.min_hold
                ));
            }
            let h = self.min_hold;
            let side = |v: f64| v > self.center;
            if self.coding == Coding::Manchester
                && (k / h) % 2 == 1
                && side(a) == side(alpha[i - h])
            {
                return bad(format!(
                    "α = {a} at step {i} is on the same side as α {h} steps before: \
                     Manchester-coded, the second half of every {}-step block is the first half's \
                     opposite (a run that went on after its PRBS: give the PRBS's length)",
                    self.coding.period(h)
                ));
            }
        }
        Ok(())
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The unpaired estimator with a randomization interval for `g` (module
/// doc): `ĝ` the prewhitened slope of `ΔH` on `x_t = (1 − λ)·Σ_k λ^k·α_{t−d−k}`
/// (`λ = lag`; `lag = 0` is `α_{t−d}` itself), its 95% interval and `g_detectable` from
/// [`RANDOMIZATION_DRAWS`] re-draws of the schedule from `draw` (seeded by
/// `seed`); `b` and its interval from [`unpaired`]. The schedule must be a
/// draw of `draw` ([`PrbsDraw::check`]). Rows whose entropy is not finite
/// are skipped and counted. An interval end that no re-draw can bound is
/// infinite: the design cannot say how large `g` is on that side.
pub fn unpaired_randomized(
    entropy: &[f64],
    alpha: &[f64],
    d: usize,
    lag: f64,
    draw: &PrbsDraw,
    seed: u64,
) -> Result<GainEstimate, IdentError> {
    if !(0.0..1.0).contains(&lag) {
        return Err(IdentError::BadLag { lag });
    }
    check_len(entropy.len(), alpha.len())?;
    check_alpha(alpha)?;
    draw.check(alpha)?;
    let base = unpaired_lagged(entropy, alpha, d, lag)?;
    // Rows t with a finite ΔH_t; θ from the drift-only fit of the log.
    let drows: Vec<usize> = (0..entropy.len().saturating_sub(1))
        .filter(|&t| (entropy[t + 1] - entropy[t]).is_finite())
        .collect();
    let dy: Vec<f64> = drows.iter().map(|&t| entropy[t + 1] - entropy[t]).collect();
    let skipped = entropy.len().saturating_sub(1) - drows.len();
    if drows.len() < crate::ident::MIN_ROWS {
        return Err(IdentError::TooFewSteps {
            rows: drows.len(),
            minimum: crate::ident::MIN_ROWS,
            skipped,
            d,
        });
    }
    let (_, _, theta) =
        drift_from_differences(&[entropy]).map_err(|e| with_context(e, d, skipped))?;
    // The MA(1) prewhitening filter of `prewhitened`, z̃_t = z_t − θ·z̃_{t−1}.
    let filter = |z: &[f64]| -> Vec<f64> {
        let mut out: Vec<f64> = Vec::with_capacity(z.len());
        for (i, &v) in z.iter().enumerate() {
            out.push(if i == 0 { v } else { v - theta * out[i - 1] });
        }
        out
    };
    let ones = filter(&vec![1.0; drows.len()]);
    let oo = dot(&ones, &ones);
    let y = filter(&dy);
    // x_t = (1 − λ)·Σ_k λ^k·α_{t−d−k} (α before step 0 is 0).
    let lagged = |a: &[f64]| -> Vec<f64> {
        let ema = geometric_lag(a, d, lag);
        drows.iter().map(|&t| ema[t]).collect()
    };
    let regressor = |a: &[f64]| -> Vec<f64> {
        let x = filter(&lagged(a));
        let k = dot(&x, &ones) / oo;
        x.iter().zip(&ones).map(|(x, o)| x - k * o).collect()
    };
    let x0 = regressor(alpha);
    let s00 = dot(&x0, &x0);
    if s00 <= 0.0 {
        return Err(IdentError::ConstantAlpha);
    }
    // The observed slope; g is its negative.
    let t0 = dot(&x0, &y) / s00;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut u, mut c) = (
        Vec::with_capacity(RANDOMIZATION_DRAWS),
        Vec::with_capacity(RANDOMIZATION_DRAWS),
    );
    let mut tries = 0;
    while u.len() < RANDOMIZATION_DRAWS {
        // A draw switches level (PrbsDraw::draw), so its filtered α is not
        // all intercept; the cap only guards a degenerate filter.
        tries += 1;
        if tries > 10 * RANDOMIZATION_DRAWS {
            return Err(IdentError::ConstantAlpha);
        }
        let xj = regressor(&draw.draw(alpha, alpha.len(), rng.random::<u64>()));
        let sjj = dot(&xj, &xj);
        if sjj > 0.0 {
            u.push(dot(&xj, &y) / sjj);
            c.push(dot(&xj, &x0) / sjj);
        }
    }
    let (lo, hi) = accepted_hull(t0, &u, &c);
    // Spread of the re-draws' statistic at the estimate (β₀ = t0).
    let at: Vec<f64> = u.iter().zip(&c).map(|(u, c)| u - t0 * c).collect();
    let m = at.iter().sum::<f64>() / at.len() as f64;
    let se = (at.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (at.len() - 1) as f64).sqrt();
    // b: the intercept given ĝ, with the Newey–West fit's half-width (same
    // lag); how much of the raw steps the fit explains (as unpaired reports
    // it).
    let g = -t0;
    let xs = lagged(alpha);
    let mean = dy.iter().sum::<f64>() / dy.len() as f64;
    let b = mean + g * xs.iter().sum::<f64>() / xs.len() as f64;
    let b_half = 0.5 * (base.b_ci.1 - base.b_ci.0);
    let sst: f64 = dy.iter().map(|v| (v - mean).powi(2)).sum();
    let ssr: f64 = dy
        .iter()
        .zip(&xs)
        .map(|(v, a)| (v - b + g * a).powi(2))
        .sum();
    Ok(GainEstimate {
        design: DesignKind::UnpairedRandomized {
            draws: RANDOMIZATION_DRAWS,
        },
        variance: VarianceSource::Randomization,
        g,
        g_se: se,
        g_ci: (-hi, -lo),
        g_detectable: (1.959_964 + 0.841_621) * se,
        n: drows.len(),
        r2: if sst > 0.0 { 1.0 - ssr / sst } else { 1.0 },
        residual_rms: (ssr / dy.len() as f64).sqrt(),
        b,
        b_ci: (b - b_half, b + b_half),
        df: RANDOMIZATION_DRAWS as f64,
        bandwidth: 0,
        ma1_theta: theta,
        skipped_nan: skipped,
        ..base
    })
}

/// The hull of the slopes `β₀` the randomization test does not reject at
/// 5%, two-sided: under `β₀` the observed statistic is `t0 − β₀` and draw
/// `j`'s is `u_j − β₀·c_j`, so draw `j` minus the observed is
/// `a_j + β₀·k_j` with `a_j = u_j − t0`, `k_j = 1 − c_j`. For `k_j > 0`
/// draw `j` is below the observed for `β₀` under its breakpoint `−a_j/k_j`
/// (below at `β₀ → −∞`, leaves there), for `k_j < 0` above it (enters
/// there); for `k_j = 0` it keeps its side (`a_j = 0`: a tie, counted on
/// both). One sweep over the sorted breakpoints counts, on every segment
/// between them, the draws at or below (`#≤`) and at or above (`#≥`) the
/// observed statistic; a segment is accepted when the p-value
/// `2·min(#≤ + 1, #≥ + 1)/(M + 1)` exceeds 0.05 (a draw exactly at a
/// breakpoint belongs to one segment's end; the segments are what count).
/// Open ends that are accepted give infinite bounds; no accepted segment
/// (possible only when nearly every draw ties) gives (−∞, ∞): the design
/// cannot bound the gain.
fn accepted_hull(t0: f64, u: &[f64], c: &[f64]) -> (f64, f64) {
    let m = u.len();
    // Strictly below and tied draws; the rest are strictly above.
    let (mut below, mut ties) = (0usize, 0usize);
    let mut events: Vec<(f64, i32)> = Vec::with_capacity(m);
    for (&uj, &cj) in u.iter().zip(c) {
        let (a, k) = (uj - t0, 1.0 - cj);
        if k == 0.0 {
            below += usize::from(a < 0.0);
            ties += usize::from(a == 0.0);
            continue;
        }
        let bp = -a / k;
        if k > 0.0 {
            below += 1;
            events.push((bp, -1));
        } else {
            events.push((bp, 1));
        }
    }
    let accept = |below: usize| {
        let le = below + ties;
        let ge = m - below;
        2.0 * ((le + 1).min(ge + 1)) as f64 / (m + 1) as f64 > 0.05
    };
    events.sort_by(|x, y| x.0.total_cmp(&y.0));
    let next = |i: usize| events.get(i).map_or(f64::INFINITY, |e| e.0);
    // The open segment (−∞, first breakpoint), then [bp_i, bp_{i+1}).
    let (mut lo, mut hi) = (None, None);
    if accept(below) {
        lo = Some(f64::NEG_INFINITY);
        hi = Some(next(0));
    }
    for (i, &(bp, delta)) in events.iter().enumerate() {
        below = (below as i64 + delta as i64) as usize;
        if accept(below) {
            lo.get_or_insert(bp);
            hi = Some(next(i + 1));
        }
    }
    (lo.unwrap_or(f64::NEG_INFINITY), hi.unwrap_or(f64::INFINITY))
}

#[cfg(test)]
mod tests {
    use super::accepted_hull;

    #[test]
    fn hull_counts_ties_on_both_sides_and_reports_unbounded_designs() {
        // 39 draws spread on both sides of the observed statistic (t0 = 0,
        // c = 0: draw j is u_j − β₀·0, the observed −β₀), none tied: the
        // accepted β₀ are those with −β₀ inside the draws' 2.5% tails.
        let u: Vec<f64> = (0..39).map(|j| j as f64 - 19.0).collect();
        let c = vec![0.0; 39];
        let (lo, hi) = accepted_hull(0.0, &u, &c);
        assert!(
            lo.is_finite() && hi.is_finite() && lo < 0.0 && hi > 0.0,
            "{lo} {hi}"
        );
        // Every draw ties with the observed (the design has one schedule):
        // nothing can be rejected, and nothing bounded.
        let (lo, hi) = accepted_hull(0.0, &[0.0; 39], &[1.0; 39]);
        assert_eq!((lo, hi), (f64::NEG_INFINITY, f64::INFINITY));
        // Ties count on both sides: 30 tied draws and 9 far below keep the
        // observed statistic central, so it is accepted everywhere too.
        let mut u2 = vec![0.0; 30];
        u2.extend([-100.0; 9]);
        let mut c2 = vec![1.0; 30];
        c2.extend([1.0; 9]);
        assert_eq!(
            accepted_hull(0.0, &u2, &c2),
            (f64::NEG_INFINITY, f64::INFINITY)
        );
    }
}
