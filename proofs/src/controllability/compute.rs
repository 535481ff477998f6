//! Compute step of `controllability`: every family's initial entropy and
//! the sweep's cells and their results; no verdict or text.

use super::model::{
    fractions, initial_entropy, run_cell, steps, Cell, CellResult, FAMILIES, MAX_TARGET_SHARE,
    PAPER_FAMILY, VARIANTS,
};
use crate::error::ProofsError;
use crate::verdict::Mode;
use rayon::prelude::*;

/// The sweep: `(family, initial entropy)` in [`FAMILIES`] order, the cells
/// and their results (same order).
pub(super) struct Sweep {
    pub h0s: Vec<(String, f64)>,
    pub cells: Vec<Cell>,
    pub results: Vec<CellResult>,
}

impl Sweep {
    /// The cells (with results) of one (family, variant, anti-windup).
    pub(super) fn here(&self, fam: &str, var: &str, aw: bool) -> Vec<(&Cell, &CellResult)> {
        self.cells
            .iter()
            .zip(&self.results)
            .filter(|(c, _)| c.family == *fam && c.variant == *var && c.anti_windup == aw)
            .collect()
    }
}

/// Builds the sweep of `mode` and runs every cell (in parallel, order
/// kept); full mode adds the paper-like family's official-variant cells
/// after the others.
pub(super) fn compute(mode: Mode) -> Result<Sweep, ProofsError> {
    let mut cells = Vec::new();
    let mut h0s = Vec::new();
    for &fam in FAMILIES {
        let h0 = initial_entropy(fam)?;
        h0s.push((fam.to_string(), h0));
        for &var in VARIANTS {
            for aw in [false, true] {
                for &f in fractions(mode) {
                    cells.push(Cell {
                        family: fam.to_string(),
                        variant: var.to_string(),
                        anti_windup: aw,
                        // rounded so the table and counterexamples read cleanly
                        // capped below ln K (every family has K = 16): a
                        // target above the maximum entropy is invalid input
                        target: ((f * h0).min(MAX_TARGET_SHARE * 16f64.ln()) * 1000.0).round()
                            / 1000.0,
                        steps: steps(mode, fam),
                    });
                }
            }
        }
    }
    if mode == Mode::Full {
        let fam = PAPER_FAMILY;
        let h0 = initial_entropy(fam)?;
        h0s.push((fam.to_string(), h0));
        for aw in [false, true] {
            for &f in fractions(mode) {
                cells.push(Cell {
                    family: fam.to_string(),
                    variant: "official".into(),
                    anti_windup: aw,
                    // rounded to 0.1 millinat: the family's entropy is ≈ 0.13
                    target: (f * h0 * 10_000.0).round() / 10_000.0,
                    steps: steps(mode, fam),
                });
            }
        }
    }
    let results: Vec<CellResult> = cells.par_iter().map(run_cell).collect::<Result<_, _>>()?;
    Ok(Sweep {
        h0s,
        cells,
        results,
    })
}
