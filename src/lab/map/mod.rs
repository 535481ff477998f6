//! `entropic map`: where EntroPIC acts (issue 18, items 2 and 3). For each
//! cell of [`cells::cells`] it runs plain GRPO, constant-α twins and
//! EntroPIC-PI arms ([`cells::arms`]), measures the controller's authority
//! by the paired design of docs/mathematics.md §9 and each PI arm's
//! outcome ([`classify::classify`]), and writes the cell to
//! `DIR/regime-map-cells/<id>.json` as soon as it finishes (atomically). The
//! Markdown, JSON and heatmaps are assembled from those files
//! ([`report::write`]), so an interrupted map (Ctrl-C, or `--max-cells`)
//! keeps its finished cells and `--resume` continues cell by cell with the
//! result of an uninterrupted run.
//!
//! - [`model`]: the shared types (cell, arm, results);
//! - [`cells`]: the grid, the arms and the translation to the simulator
//!   (the merge point with the new policies is [`cells::bandit_for`]);
//! - [`measure`]: one cell run and measured;
//! - [`classify`]: the outcome of a PI arm;
//! - [`report`]: the outputs.
pub mod cells;
pub mod classify;
pub mod measure;
pub mod model;
pub mod report;

use crate::error::InputError;
use model::{CellFile, CellSpec};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// The folder of finished cells inside the output folder (named for the
/// map, since the default output folder is `reports/`, shared with other
/// reports).
pub const CELLS_DIR: &str = "regime-map-cells";

/// Options of `entropic map`.
#[derive(Debug, Clone)]
pub struct MapOptions {
    pub quick: bool,
    pub out: PathBuf,
    /// Reuse the finished cells in `out/regime-map-cells/` whose inputs are this run's.
    pub resume: bool,
    /// Only the cells whose id contains one of these (comma-separated).
    pub cells: Option<String>,
    /// Compute at most this many cells in this invocation (the rest are
    /// left for `--resume`).
    pub max_cells: Option<usize>,
}

/// How a map run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapEnd {
    /// Every cell asked for is in the report.
    Complete { cells: usize, computed: usize },
    /// `--max-cells` reached; `done` of `planned` cells finished.
    Limited { done: usize, planned: usize },
    /// `stop` was set during a cell; `done` of `planned` finished.
    Interrupted { done: usize, planned: usize },
}

/// The cells of the grid this run asks for (`--cells` applied); an
/// `--cells` that matches none is an input error.
pub fn selected(opts: &MapOptions) -> Result<Vec<CellSpec>, InputError> {
    let grid = cells::cells(opts.quick);
    let Some(f) = &opts.cells else {
        return Ok(grid);
    };
    let pats: Vec<&str> = f
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let picked: Vec<CellSpec> = grid
        .iter()
        .filter(|c| pats.iter().any(|p| c.id.contains(p)))
        .cloned()
        .collect();
    if picked.is_empty() {
        let ids: Vec<&str> = grid.iter().map(|c| c.id.as_str()).collect();
        return Err(InputError(format!(
            "--cells {f}: matches no cell of the {} grid (cells: {})",
            if opts.quick { "quick" } else { "full" },
            ids.join(", ")
        )));
    }
    Ok(picked)
}

/// Of the reused cells `(id, revision of the build that computed it)`,
/// those another build computed, as `(id, its revision or "unknown")`: a
/// cell counts as this build's (`this`) only when both revisions are
/// known, equal and clean (a `-dirty` revision names no code). `--resume`
/// matches a cell by its inputs, so without this a resumed map could mix
/// cells computed by different code, e.g. before and after a change to the
/// identification, and say nothing; now the command warns and the report
/// names them (what to do stays the user's call: `entropic map` without
/// `--resume` gives one build's map).
pub fn other_builds<'a>(
    reused: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    this: Option<&str>,
) -> Vec<(String, String)> {
    let clean = |r: Option<&'a str>| r.filter(|r| !r.ends_with("-dirty"));
    let this = this.filter(|r| !r.ends_with("-dirty"));
    reused
        .into_iter()
        .filter(|&(_, rev)| this.is_none() || clean(rev) != this)
        .map(|(id, rev)| (id.to_string(), rev.unwrap_or("unknown").to_string()))
        .collect()
}

fn cell_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(CELLS_DIR).join(format!("{id}.json"))
}

/// A finished cell file for exactly `spec`, if there is one.
fn read_cell(dir: &Path, spec: &CellSpec) -> Option<CellFile> {
    let text = std::fs::read_to_string(cell_path(dir, &spec.id)).ok()?;
    let f: CellFile = serde_json::from_str(&text).ok()?;
    (f.spec == *spec).then_some(f)
}

/// Runs the map of `opts` (see the module doc); `stop` is checked before
/// every step of every seed; `progress` is told each cell as it starts;
/// `warn` is told when `--resume` reused cells of another build
/// ([`other_builds`]).
/// Refuses (input error, before any work) an `--out` that is a file and
/// a `--cells` that matches nothing.
pub fn run_map(
    opts: &MapOptions,
    stop: &AtomicBool,
    progress: &dyn Fn(&str),
    warn: &dyn Fn(&str),
) -> anyhow::Result<MapEnd> {
    let grid = selected(opts)?;
    let dir = &opts.out;
    if dir.exists() && !dir.is_dir() {
        return Err(InputError(format!("--out {}: is a file, not a folder", dir.display())).into());
    }
    let cells_dir = dir.join(CELLS_DIR);
    std::fs::create_dir_all(&cells_dir).map_err(|e| {
        InputError(format!(
            "--out {}: cannot create {}: {e}",
            dir.display(),
            cells_dir.display()
        ))
    })?;
    let this_build = crate::output::provenance().git_revision;
    let mut files: Vec<CellFile> = Vec::new();
    let mut reused: Vec<String> = Vec::new();
    let mut computed = 0;
    let mut end = None;
    for spec in &grid {
        if opts.resume {
            if let Some(f) = read_cell(dir, spec) {
                reused.push(f.spec.id.clone());
                files.push(f);
                continue;
            }
        }
        if opts.max_cells.is_some_and(|m| computed >= m) {
            end = Some(MapEnd::Limited {
                done: 0,
                planned: grid.len(),
            });
            break;
        }
        progress(&spec.id);
        let t = Instant::now();
        let Some(result) = measure::run_cell(spec, stop)? else {
            end = Some(MapEnd::Interrupted {
                done: 0,
                planned: grid.len(),
            });
            break;
        };
        let file = CellFile {
            spec: spec.clone(),
            result,
            seconds: t.elapsed().as_secs_f64(),
            threads: rayon::current_num_threads(),
            git_revision: this_build.clone(),
        };
        entropic_sim::atomic::write_atomic(
            &cell_path(dir, &spec.id),
            serde_json::to_string_pretty(&file)?.as_bytes(),
        )?;
        computed += 1;
        // read back, so a fresh and a resumed map assemble the same values
        files.push(read_cell(dir, spec).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: cannot read back the cell just written",
                cell_path(dir, &spec.id).display()
            )
        })?);
    }
    // a limited or interrupted run may still find later cells already done
    if end.is_some() && opts.resume {
        for spec in &grid {
            if !files.iter().any(|f| f.spec.id == spec.id) {
                if let Some(f) = read_cell(dir, spec) {
                    reused.push(f.spec.id.clone());
                    files.push(f);
                }
            }
        }
        files.sort_by_key(|f| grid.iter().position(|s| s.id == f.spec.id));
    }
    let mut notes = Vec::new();
    if opts.cells.is_some() {
        notes.push(format!(
            "Cells selected with `--cells {}`: {} of the {} grid.",
            opts.cells.as_deref().unwrap_or(""),
            grid.len(),
            if opts.quick { "quick" } else { "full" }
        ));
    }
    let others = other_builds(
        files
            .iter()
            .filter(|f| reused.contains(&f.spec.id))
            .map(|f| (f.spec.id.as_str(), f.git_revision.as_deref())),
        this_build.as_deref(),
    );
    if !others.is_empty() {
        let mut revs: Vec<&str> = others.iter().map(|o| o.1.as_str()).collect();
        revs.sort_unstable();
        revs.dedup();
        let msg = format!(
            "{} of the {} cells were reused by `--resume` from builds not shown to be this one (this build: {}; theirs: {}; a revision ending in `-dirty` had uncommitted changes and names no code): this map may mix the results of different code; `entropic map` without `--resume` recomputes every cell with one build.",
            others.len(),
            files.len(),
            this_build.as_deref().unwrap_or("revision unknown"),
            revs.join(", ")
        );
        warn(&msg);
        notes.push(format!("**Mixed builds.** {msg}"));
    }
    report::write(dir, &files, grid.len(), opts.quick, &notes)?;
    let done = files.len();
    Ok(match end {
        None => MapEnd::Complete {
            cells: done,
            computed,
        },
        Some(MapEnd::Limited { planned, .. }) => MapEnd::Limited { done, planned },
        Some(MapEnd::Interrupted { planned, .. }) => MapEnd::Interrupted { done, planned },
        Some(e) => e,
    })
}

#[cfg(test)]
mod tests {
    use super::other_builds;

    /// Only cells of this clean build go unnamed; an unknown, different or
    /// dirty revision on either side names the cell.
    #[test]
    fn other_builds_names_every_cell_not_provably_of_this_build() {
        let cells = [
            ("a", Some("abc")),
            ("b", Some("def")),
            ("c", None),
            ("d", Some("abc-dirty")),
        ];
        let ids = |this| {
            other_builds(cells, this)
                .into_iter()
                .map(|(id, rev)| format!("{id}:{rev}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(Some("abc")), ["b:def", "c:unknown", "d:abc-dirty"]);
        assert_eq!(ids(Some("def")), ["a:abc", "c:unknown", "d:abc-dirty"]);
        // a dirty or unknown build can vouch for no cell, itself included
        assert_eq!(ids(Some("abc-dirty")).len(), 4);
        assert_eq!(ids(None).len(), 4);
        assert!(other_builds([("a", Some("abc"))], Some("abc")).is_empty());
    }
}
