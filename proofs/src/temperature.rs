//! `temperature`: the paper's claim that EntroPIC is robust to the
//! sampling temperature. PI (official law and gains) at T ∈ {0.6, 0.8,
//! 1.0, 1.2} on both families, same target at every T (entropy measured at
//! the sampling temperature, docs/mathematics.md §1); a run agrees when it reaches the
//! target. See `proofs/temperature.md`.

use crate::closedloop::{self as cl, CellRun, Control, FailsWhen, Family, GrpoVary};
use crate::error::ProofsError;
use crate::verdict::{ClaimSection, Counterexample, Ctx, Mode};
use entropic_sim::report::markdown_table;

/// Claim id.
pub const CLAIM: &str = "temperature";

/// Target: as `thm-4-3`.
pub const TARGET: f64 = crate::thm43::TARGET;

const TEMPS: [f64; 4] = [0.6, 0.8, 1.0, 1.2];

fn grid(mode: Mode) -> (Vec<Family>, usize, usize, &'static [f64]) {
    match mode {
        Mode::Quick => (vec![Family::Tabular], 3, 200, &TEMPS[..]),
        Mode::Full => (Family::ALL.to_vec(), 16, 300, &TEMPS[..]),
    }
}

/// Runs the check.
pub fn check(ctx: &Ctx) -> Result<ClaimSection, ProofsError> {
    let (fams, seeds, steps, temps) = grid(ctx.mode);
    let mut verdicts = Vec::new();
    let mut rows = Vec::new();
    let mut md = format!(
        "PI (Kp 1, Ki 0.01, τ 0.95, |α| ≤ 1), target {TARGET} nats at every temperature, \
         on-policy, first learning rate of each family; plain GRPO (none) as reference.\n\n"
    );
    for fam in fams {
        let mut cells: Vec<CellRun> = Vec::new();
        for &t in temps {
            let grpo = GrpoVary {
                temperature: Some(t),
                ..GrpoVary::lr(fam.lrs()[0])
            };
            let labels = [("family", fam.name().to_string()), ("T", format!("{t:?}"))];
            let ctl = Control::entropic(TARGET, 1.0, 0.01);
            let pi = cl::run_cell(&cl::cell(fam, steps, grpo, &ctl, &labels)?, seeds)?;
            let none = cl::run_cell(
                &cl::cell(fam, steps, grpo, &Control::none(TARGET), &labels)?,
                seeds,
            )?;
            let r = |c: &CellRun| c.outcomes.iter().filter(|o| o.reached).count();
            rows.push(vec![
                fam.name().into(),
                format!("{t:?}"),
                cl::frac(r(&none), seeds),
                cl::frac(r(&pi), seeds),
                cl::f3(cl::mean_of(&none, |o| o.figs.final_entropy)),
                cl::f3(cl::mean_of(&pi, |o| o.figs.final_entropy)),
                cl::f3(cl::mean_of(&pi, |o| o.figs.alpha_saturated)),
            ]);
            cells.push(pi);
        }
        let refs: Vec<&CellRun> = cells.iter().collect();
        let mut v = cl::verdict(
            CLAIM,
            fam.name(),
            &refs,
            FailsWhen::NotReached,
            "PI reaches the target",
        );
        let name = format!("temperature_{}.svg", fam.name());
        let labels: Vec<String> = temps.iter().map(|t| format!("T {t}")).collect();
        let plot: Vec<(&str, &CellRun)> = labels.iter().map(String::as_str).zip(&cells).collect();
        v.figures.push(cl::plot_entropy(
            &ctx.out_dir,
            &name,
            &format!("temperature {}", fam.name()),
            &plot,
        )?);
        md.push_str(&format!("![]({name})\n\n"));
        verdicts.push(v);
    }
    md.push_str(&markdown_table(
        &[
            "family",
            "T",
            "none 'reached'",
            "PI reached",
            "none final H",
            "PI final H",
            "PI α saturated",
        ],
        &rows,
    ));
    md.push('\n');
    Ok(ClaimSection {
        claim: CLAIM.into(),
        title: "Robustness to the sampling temperature".into(),
        verdicts,
        markdown: md,
    })
}

/// Reruns a counterexample of this check; true when the failure recurs.
pub fn reproduce(cx: &Counterexample) -> Result<bool, ProofsError> {
    cl::reproduce(cx)
}
