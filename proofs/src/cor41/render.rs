//! Render step of `cor-4-1`: the section's Markdown and figures from the
//! computed rows and the judged verdicts.

use super::compute::{GrpoRow, Row};
use super::judge::{cond_sl, ok, Expected, Grpo};
use super::model::{holds, rank_name, ETA, GROUP, KS, RANKS, SCALES};
use crate::error::ProofsError;
use entropic_sim::entropy::UpdateRule;
use entropic_sim::plot::rate_plot_svg;
use entropic_sim::report::{fmt_sig, markdown_table};
use std::fmt::Write as _;
use std::path::Path;

/// `rate (k/n)`, or `n/a` when `n = 0`.
fn pct(k: usize, n: usize) -> String {
    if n == 0 {
        "n/a".into()
    } else {
        format!("{} ({k}/{n})", fmt_sig(k as f64 / n as f64, 3))
    }
}

/// File name of rule `rule`'s figure.
pub(super) fn figure_name(rule: UpdateRule) -> String {
    format!("cor41_{}.svg", rule.name())
}

/// The finite-step rate against log2 K, one curve per rank of C (pooled
/// over |C| and scales), of rule number `ri`.
fn rate_curves(rows: &[Row], ri: usize) -> Vec<(String, Vec<(f64, f64)>)> {
    RANKS
        .iter()
        .map(|&rank| {
            let pts = KS
                .iter()
                .map(|&kk| {
                    let sel: Vec<&Row> = rows
                        .iter()
                        .filter(|r| r.fam.k == kk && r.fam.rank == rank)
                        .collect();
                    let kk_ok = sel.iter().filter(|r| ok(r, ri, "finite_step")).count();
                    ((kk as f64).log2(), kk_ok as f64 / sel.len().max(1) as f64)
                })
                .collect();
            (format!("C = {}", rank_name(rank)), pts)
        })
        .collect()
}

/// Writes the figure of every rule into `dir`.
pub(super) fn figures(dir: &Path, rows: &[Row]) -> Result<(), ProofsError> {
    for (ri, rule) in UpdateRule::ALL.iter().copied().enumerate() {
        rate_plot_svg(
            &dir.join(figure_name(rule)),
            &format!("Cor. 4.1, {}: share with ΔH₊<0<ΔH₋", rule.name()),
            "log2 K",
            &rate_curves(rows, ri),
        )?;
    }
    Ok(())
}

/// The section's Markdown: parts (a), (b) (`expected`, in rule × kind
/// order) and part (c) (`grpo`, in rule order).
pub(super) fn markdown(
    n_fams: usize,
    per: usize,
    rows: &[Row],
    expected: &[Expected],
    grows: &[GrpoRow],
    grpo: &[Grpo],
    groups: usize,
) -> String {
    let n = rows.len();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Statement: training only on positive (negative) samples lowers (raises) entropy \
         (binary reward, zero expected advantage). Tested as `ΔH₊ < 0 < ΔH₋` on one context, \
         C = correct set, advantage `1−p` on C (positive-only) and `−p` off C (negative-only), \
         over {n} instances ({n_fams} families × {per}: K ∈ 2..1024, logit scale ∈ {{0.5,1,2,4}}, \
         C = mode/middle/rare/random, |C| = 1 or max(2,K/4)); (a) first order, (b) finite \
         expected step η = {ETA}; (c) sampled GRPO, G = {GROUP}.\n"
    );
    let summary_rows: Vec<Vec<String>> = expected
        .iter()
        .map(|e| {
            let v = &e.verdict;
            vec![
                v.variant.clone(),
                format!("{:?}", v.verdict).to_lowercase(),
                pct(e.k, n),
                pct(e.pos_ok, n),
                pct(e.neg_ok, n),
                v.counterexample
                    .as_ref()
                    .map(|c| format!("seed {}: {}", c.seed, c.observed))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let _ = writeln!(md, "### (a), (b): one context, expected update\n");
    md.push_str(&markdown_table(
        &[
            "rule/variant",
            "verdict",
            "ΔH₊<0<ΔH₋",
            "ΔH₊<0",
            "ΔH₋>0",
            "smallest counterexample",
        ],
        &summary_rows,
    ));
    // rates per family (finite step), by rank × |C|
    let _ = writeln!(
        md,
        "\nRates per family (finite step, pooled over K and scales):\n"
    );
    let mut fam_rows = Vec::new();
    for rank in RANKS {
        for single in [true, false] {
            let sel: Vec<&Row> = rows
                .iter()
                .filter(|r| r.fam.rank == rank && (r.fam.correct_size == 1) == single)
                .collect();
            let mut row = vec![
                rank_name(rank).to_string(),
                if single { "1" } else { "max(2,K/4)" }.to_string(),
            ];
            for ri in 0..3 {
                let k = sel
                    .iter()
                    .filter(|r| holds(r.by_rule[ri].finite.0, r.by_rule[ri].finite.1))
                    .count();
                row.push(pct(k, sel.len()));
            }
            let kc = sel.iter().filter(|r| cond_sl(r)).count();
            row.push(pct(kc, sel.len()));
            fam_rows.push(row);
        }
    }
    md.push_str(&markdown_table(
        &[
            "C",
            "|C|",
            "vanilla",
            "sampled_logit",
            "natural",
            "S_C>0 and S_¬C>0",
        ],
        &fam_rows,
    ));
    let _ = writeln!(md, "\nBy logit scale (finite step, sampled_logit):\n");
    let scale_rows: Vec<Vec<String>> = SCALES
        .iter()
        .map(|&s| {
            let sel: Vec<&Row> = rows.iter().filter(|r| r.fam.scale == s).collect();
            let k = sel
                .iter()
                .filter(|r| holds(r.by_rule[1].finite.0, r.by_rule[1].finite.1))
                .count();
            vec![fmt_sig(s, 2), pct(k, sel.len())]
        })
        .collect();
    md.push_str(&markdown_table(&["scale", "sampled_logit"], &scale_rows));
    md.push('\n');
    for rule in UpdateRule::ALL {
        let _ = writeln!(md, "![]({})", figure_name(rule));
    }

    // (c) sampled GRPO
    let gn = grows.len();
    let _ = writeln!(
        md,
        "\n### (c) sampled GRPO, G = {GROUP}, one SGD step per group, {groups} groups per instance\n"
    );
    let grows_md: Vec<Vec<String>> = UpdateRule::ALL
        .iter()
        .zip(grpo)
        .enumerate()
        .map(|(ri, (rule, g))| {
            let ex = &grows[0].by_rule[ri];
            vec![
                rule.name().to_string(),
                format!("{:?}", g.verdict.verdict).to_lowercase(),
                pct(g.k, gn),
                pct(g.agree, gn),
                format!("{:.2e} / {:.2e}", ex.0.mean, ex.1.mean),
            ]
        })
        .collect();
    md.push_str(&markdown_table(
        &[
            "rule",
            "verdict",
            "ΔH₊<0<ΔH₋ (mean)",
            "agrees with G→∞",
            "docs/mathematics.md example ΔH₊ / ΔH₋",
        ],
        &grows_md,
    ));
    md
}
