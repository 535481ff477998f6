//! Render step of `fig-2-quadrants`: the section's Markdown and figures
//! from the runs and the judged sub-claims.

use super::compute::{value, Runs, SeedOut};
use super::judge::{decide, expected_sign, SubClaim};
use super::model::{Family, LINES, STEPS};
use crate::error::ProofsError;
use entropic_sim::entropy::Quadrant;
use entropic_sim::metrics::Record;
use entropic_sim::report::{fmt_sig, line_plot_svg, markdown_table, ArmSeries};
use std::fmt::Write as _;
use std::path::Path;

/// The statement and the token-occupancy table.
pub(super) fn intro(fams: &[Family], runs: &Runs) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Statement (Figure 2): P↑ lowers entropy, P↓ raises it, N↑ raises it, N↓ lowers it; \
         masking a quadrant removes its effect. Per quadrant q, paired on seeds: `only q` \
         (other three masked) must move entropy with q's sign after {STEPS} steps; `mask q` \
         must move `ΔH(mask q) − ΔH(base)` the other way. Sampled GRPO (G = 8, Adam), \
         exact entropy. A sub-claim *holds* when the 95% interval of the mean is on the \
         paper's side, is *opposite* when it is on the other side.\n"
    );
    let _ = writeln!(
        md,
        "Token shares per quadrant (nonzero advantage; rollouts of plain GRPO):\n"
    );
    let mut occ_rows = Vec::new();
    for (fi, f) in fams.iter().enumerate() {
        for (li, (lname, _)) in LINES.iter().enumerate() {
            let mut tot = [0u64; 5];
            for (jf, _, o) in runs.iter() {
                if jf == fi {
                    for (t, x) in tot.iter_mut().zip(o.occ[li]) {
                        *t += x;
                    }
                }
            }
            let nz: u64 = tot[..4].iter().sum();
            let mut row = vec![f.label.clone(), lname.to_string()];
            for x in &tot[..4] {
                row.push(fmt_sig(*x as f64 / nz.max(1) as f64, 3));
            }
            row.push(fmt_sig((tot[0] + tot[2]) as f64 / nz.max(1) as f64, 3));
            row.push(fmt_sig(tot[4] as f64 / (nz + tot[4]).max(1) as f64, 3));
            occ_rows.push(row);
        }
    }
    md.push_str(&markdown_table(
        &[
            "family",
            "line",
            "P↑",
            "P↓",
            "N↑",
            "N↓",
            "HP share",
            "zero-adv share",
        ],
        &occ_rows,
    ));
    md
}

/// The section of one (mode, line): heading, sub-claim table, figure.
pub(super) fn line_section(mode: &str, lname: &str, subs: &[SubClaim], fig: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "\n### {mode}, line {lname}\n");
    let rows: Vec<Vec<String>> = subs
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                if s.sign > 0.0 { "+" } else { "−" }.into(),
                s.est.clone(),
                format!("{}/{}", s.k, s.n),
                s.empty.to_string(),
                s.decision.to_string(),
            ]
        })
        .collect();
    md.push_str(&markdown_table(
        &[
            "sub-claim",
            "paper",
            "mean value [95% CI]",
            "runs with paper's sign",
            "empty runs",
            "mean",
        ],
        &rows,
    ));
    let _ = writeln!(md, "\n![]({fig})");
    md
}

/// Writes the figure of (mode, line number `li`) into `dir`: `H_t − H_0`
/// of base and every arm on the family shown (sequence, or the tabular
/// family with most HP tokens, scale 16); returns its file name.
pub(super) fn figure(
    dir: &Path,
    fams: &[Family],
    runs: &Runs,
    mode: &str,
    li: usize,
    lname: &str,
) -> Result<String, ProofsError> {
    let show = fams.iter().rposition(|f| f.mode == mode).unwrap_or(0);
    let pick = |sel: &dyn Fn(&SeedOut) -> &Vec<f64>| -> Vec<(u64, Vec<Record>)> {
        let picked: Vec<(u64, &Vec<f64>)> = runs
            .iter()
            .filter(|(fi, _, _)| *fi == show)
            .map(|(_, s, o)| (s, sel(o)))
            .collect();
        series(&picked)
    };
    let mut arms_data = vec![("base".to_string(), pick(&|o: &SeedOut| &o.base))];
    for q in 0..4 {
        arms_data.push((
            format!("only {}", Quadrant::ALL[q].name()),
            pick(&|o: &SeedOut| &o.only[li][q]),
        ));
    }
    for q in 0..4 {
        arms_data.push((
            format!("mask {}", Quadrant::ALL[q].name()),
            pick(&|o: &SeedOut| &o.mask[li][q]),
        ));
    }
    let arms: Vec<ArmSeries> = arms_data
        .iter()
        .map(|(label, ps)| ArmSeries {
            label: label.clone(),
            per_seed: ps,
        })
        .collect();
    let fig = format!("quadrants_{mode}_{lname}.svg");
    line_plot_svg(
        &dir.join(&fig),
        &format!("{}, line {lname}: H_t − H_0", fams[show].label),
        "entropy change (nats)",
        &arms,
        |r| r.entropy_exact,
        Some((0.0, "0")),
    )?;
    Ok(fig)
}

/// The per-tabular-family table: the decision of every sub-claim.
pub(super) fn per_family(fams: &[Family], runs: &Runs) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "\nPer tabular family (mean decision per sub-claim):\n");
    let mut fam_rows = Vec::new();
    for (fi, f) in fams.iter().enumerate().filter(|(_, f)| f.mode == "tabular") {
        for (li, (lname, _)) in LINES.iter().enumerate() {
            let mut row = vec![f.label.clone(), lname.to_string()];
            for only in [true, false] {
                for q in 0..4 {
                    let vals: Vec<f64> = runs
                        .iter()
                        .filter(|(j, _, _)| *j == fi)
                        .map(|(_, _, o)| value(o, li, q, only))
                        .filter(|v| *v != 0.0 && v.is_finite())
                        .collect();
                    row.push(decide(&vals, expected_sign(q, only)).0.to_string());
                }
            }
            fam_rows.push(row);
        }
    }
    let heads: Vec<String> = ["family", "line"]
        .iter()
        .map(|s| s.to_string())
        .chain([true, false].iter().flat_map(|&only| {
            Quadrant::ALL
                .iter()
                .map(move |q| format!("{} {}", if only { "only" } else { "mask" }, q.name()))
        }))
        .collect();
    let heads: Vec<&str> = heads.iter().map(|s| s.as_str()).collect();
    md.push_str(&markdown_table(&heads, &fam_rows));
    md
}

/// Records of `H_t − H_0` (in `entropy_exact`) for a plot, with step 0 at 0.
fn series(runs: &[(u64, &Vec<f64>)]) -> Vec<(u64, Vec<Record>)> {
    runs.iter()
        .map(|&(seed, dh)| {
            let recs = std::iter::once(0.0)
                .chain(dh.iter().copied())
                .enumerate()
                .map(|(step, h)| Record {
                    step,
                    seed,
                    entropy_exact: Some(h),
                    ..Default::default()
                })
                .collect();
            (seed, recs)
        })
        .collect()
}
