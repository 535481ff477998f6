//! `entropic map`: the regime map (docs/design.md §5). Parses the flags,
//! installs the Ctrl-C handler and reports how the run ended; the work is
//! in [`crate::lab::map`].
use crate::interrupt;
use crate::lab::map::{run_map, MapEnd, MapOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `entropic map`.
#[derive(Debug, clap::Args)]
pub struct MapArgs {
    /// The quick grid: 3 cells, 100 steps, 3/2 seeds (tests and CI).
    #[arg(long)]
    pub quick: bool,
    /// Output folder: regime-map.md, regime-map.json, the SVG heatmaps and
    /// regime-map-cells/<id>.json (one file per finished cell) [default:
    /// reports for the full grid; runs/map-quick with --quick, runs/map-cells
    /// with --cells, so a reduced map never replaces the committed one].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep the finished cells in DIR/regime-map-cells/ whose inputs match this run's
    /// and compute only the others (cells computed by another build are reused
    /// with a warning, and the report names them).
    #[arg(long)]
    pub resume: bool,
    /// Only the cells whose id contains one of these comma-separated
    /// strings (e.g. `k16,sgd`); the report then covers those cells.
    #[arg(long, value_name = "IDS")]
    pub cells: Option<String>,
    /// Compute at most N cells in this run, then write the partial report
    /// (continue with --resume).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_cells: Option<u64>,
}

/// Runs the map; exit 0 when complete or stopped by `--max-cells`, 128 +
/// the signal number when interrupted (finished cells kept), 2 on bad
/// input.
pub fn run(args: &MapArgs) -> anyhow::Result<ExitCode> {
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(if args.quick {
            "runs/map-quick"
        } else if args.cells.is_some() {
            "runs/map-cells"
        } else {
            "reports"
        })
    });
    let opts = MapOptions {
        quick: args.quick,
        out: out.clone(),
        resume: args.resume,
        cells: args.cells.clone(),
        max_cells: args.max_cells.map(|n| n as usize),
    };
    // bad flags are refused before the handler is installed or any work
    crate::lab::map::selected(&opts)?;
    interrupt::install();
    let mixed = std::cell::Cell::new(false);
    let end = run_map(
        &opts,
        &interrupt::STOP,
        &|id| eprintln!("cell {id}"),
        &|w| {
            mixed.set(true);
            eprintln!("warning: {w}")
        },
    )?;
    let complete = matches!(end, MapEnd::Complete { .. });
    crate::output::write_stamp(
        &out.join("regime-map.md"),
        serde_json::json!({ "report": "map", "quick": args.quick, "complete": complete,
            "mixed_builds": mixed.get() }),
    )?;
    let dir = out.display();
    match end {
        MapEnd::Complete { cells, computed } => {
            eprintln!(
                "wrote the regime map to {dir} ({cells} cells, {computed} computed now, {} reused)",
                cells - computed
            );
            Ok(ExitCode::SUCCESS)
        }
        MapEnd::Limited { done, planned } => {
            eprintln!(
                "stopped after --max-cells: {done} of {planned} cells in {dir}/regime-map-cells; `entropic map --resume` (same flags) continues"
            );
            Ok(ExitCode::SUCCESS)
        }
        MapEnd::Interrupted { done, planned } => {
            let (name, num) = interrupt::received().unwrap_or(("signal", 2));
            eprintln!(
                "interrupted by {name}: kept {done} of {planned} finished cells in {dir}/regime-map-cells (report written, marked partial); `entropic map --resume` continues"
            );
            Ok(ExitCode::from((128 + num).clamp(0, 255) as u8))
        }
    }
}
