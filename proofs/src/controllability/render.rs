//! Render step of `controllability`: the section's Markdown (method and
//! criterion, table, figure links) and one figure per family.

use super::compute::Sweep;
use super::judge::variant_name;
use super::model::{fractions, steps, FAMILIES, HOLD_TOL, PAPER_FAMILY, VARIANTS};
use crate::error::ProofsError;
use crate::verdict::Mode;
use entropic_sim::plot::{Key, Scatter, GREEN, RED};
use entropic_sim::report::{fmt_sig, markdown_table};
use std::path::Path;

/// The claim, method and criterion paragraphs.
pub(super) fn intro(mode: Mode, sw: &Sweep) -> String {
    format!(
        "**Claim (ours, docs/mathematics.md §5):** α is clipped to [−1, 1], so each weighting variant of \
         EntroPIC holds only some range of targets.\n\n\
         **Method.** Official gains (Kp 1, Ki 0.01, |α| ≤ 1), seed 0, targets at {:?} × the \
         family's initial entropy ({}); a target is *held* when the mean |H − H_tar| over the \
         last quarter is ≤ {HOLD_TOL} nats. Families: tabular high-entropy (64 prompts, 16 \
         actions, logit scale 1, Adam lr 0.05), tabular low-entropy (logit scale 4), sequence \
         (32 prompts, 16 actions, length 8, 2 forks, det margin 8, pass rate 0.1–0.6, Adam lr \
         0.02). Steps: {} tabular, {} sequence.{}\n\n\
         **Criterion.** A variant that holds every swept target in every family refutes the \
         claim; otherwise the verdict is conditional, with the held targets as its condition. \
         Rate = share of (family, target) cells held.\n\n",
        fractions(mode),
        sw.h0s
            .iter()
            .map(|(f, h)| format!("{f} {}", fmt_sig(*h, 3)))
            .collect::<Vec<_>>()
            .join(", "),
        steps(mode, "tabular"),
        steps(mode, "sequence"),
        if sw.cells.iter().any(|c| c.family == PAPER_FAMILY) {
            format!(
                " The paper-like family (docs/mathematics.md §8.1; full mode only, official \
                 variant with and without anti-windup, {} steps) holds a target within \
                 0.1·H_tar, its own verdicts.",
                steps(mode, PAPER_FAMILY)
            )
        } else {
            String::new()
        },
    )
}

/// The families of the sweep: [`FAMILIES`], then the paper-like family
/// when the sweep ran it.
fn families(sw: &Sweep) -> Vec<&'static str> {
    let mut f = FAMILIES.to_vec();
    if sw.cells.iter().any(|c| c.family == PAPER_FAMILY) {
        f.push(PAPER_FAMILY);
    }
    f
}

/// One row per (variant, anti-windup, family) that has cells.
fn rows(sw: &Sweep) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for &var in VARIANTS {
        for aw in [false, true] {
            for fam in families(sw) {
                let here = sw.here(fam, var, aw);
                if here.is_empty() {
                    continue;
                }
                let m = here.len().max(1) as f64;
                rows.push(vec![
                    variant_name(var, aw),
                    fam.to_string(),
                    here.iter()
                        .map(|(c, r)| {
                            format!("{}{}", fmt_sig(c.target, 2), if r.held { "✓" } else { "✗" })
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    here.iter()
                        .map(|(_, r)| fmt_sig(r.final_abs_err, 2))
                        .collect::<Vec<_>>()
                        .join(" "),
                    format!(
                        "{:.2}",
                        here.iter().map(|(_, r)| r.alpha_saturated).sum::<f64>() / m
                    ),
                    fmt_sig(
                        here.iter()
                            .map(|(_, r)| r.max_abs_integral)
                            .fold(0.0, f64::max),
                        3,
                    ),
                ]);
            }
        }
    }
    rows
}

/// The table, then each family's figure (written to `out_dir`) and link.
pub(super) fn table_and_figures(out_dir: &Path, sw: &Sweep) -> Result<String, ProofsError> {
    let mut md = markdown_table(
        &[
            "variant",
            "family",
            "targets (✓ held)",
            "final mean |e|",
            "α saturated (mean)",
            "max |I|",
        ],
        &rows(sw),
    );
    md.push('\n');
    for (fi, fam) in families(sw).into_iter().enumerate() {
        let name = format!("controllability-{fam}.svg");
        figure(out_dir, &name, fam, sw.h0s[fi].1, sw)?;
        md.push_str(&format!("![]({name})\n"));
    }
    Ok(md)
}

/// Held (green circle) / not held (red cross) per target and variant.
fn figure(out_dir: &Path, name: &str, fam: &str, h0: f64, sw: &Sweep) -> Result<(), ProofsError> {
    let xmax = sw
        .cells
        .iter()
        .filter(|c| c.family == fam)
        .map(|c| c.target)
        .fold(h0, f64::max)
        * 1.1;
    let rows = (VARIANTS.len() * 2) as f64;
    let within = if fam == PAPER_FAMILY {
        "0.1·H_tar".to_string()
    } else {
        format!("{HOLD_TOL} nats")
    };
    let mut plot = Scatter::new(
        &format!(
            "{fam}: targets held within {within} (initial H {})",
            fmt_sig(h0, 3)
        ),
        "target entropy (nats)",
        "variant",
        (0.0, xmax),
        (-0.5, rows),
    );
    for (vi, &var) in VARIANTS.iter().enumerate() {
        for (ai, aw) in [false, true].into_iter().enumerate() {
            let y = (vi * 2 + ai) as f64;
            plot.label(
                0.01 * xmax,
                y + 0.3,
                &format!("{var}{}", if aw { " +aw" } else { "" }),
            );
            for (c, r) in sw.cells.iter().zip(&sw.results) {
                if c.family == fam && c.variant == *var && c.anti_windup == aw {
                    if r.held {
                        plot.circle(c.target, y, GREEN, false);
                    } else {
                        plot.cross(c.target, y, RED);
                    }
                }
            }
        }
    }
    plot.categorical_y();
    plot.legend(&[(Key::Ring, GREEN, "held"), (Key::Cross, RED, "not held")]);
    Ok(plot.write(&out_dir.join(name))?)
}
