//! Run reports: SVG plots and Markdown tables written by `entropic_sim::report`.
use entropic_sim::figures::aggregate;
use entropic_sim::metrics::Record;
use entropic_sim::report::{
    fmt_est, line_plot_svg, markdown_table, ranking_table, write_run_report, ArmSeries,
};
use entropic_sim::stats::Estimate;
use std::path::PathBuf;

/// A fresh directory under cargo's per-target temporary directory.
fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `n` steps approaching `target` from `start` geometrically (rate 0.9),
/// offset per seed, with α and pass rate.
fn run(seed: u64, n: usize, start: f64, target: f64, exact: bool) -> Vec<Record> {
    (0..n)
        .map(|i| {
            let h = target + (start - target) * 0.9f64.powi(i as i32) + 0.01 * seed as f64;
            Record {
                arm: "x".into(),
                step: i,
                seed,
                entropy: h,
                entropy_exact: exact.then_some(h + 0.001),
                alpha: Some((0.1 * i as f64).min(1.0)),
                pass_rate: Some(i as f64 / n as f64),
                ..Record::default()
            }
        })
        .collect()
}

#[test]
fn svg_has_labels_and_handles_single_seed_nan_and_ragged_lengths() {
    let dir = tmp("svg_labels");
    let a: Vec<(u64, Vec<Record>)> = vec![
        (0, run(0, 50, 2.0, 1.0, false)),
        (1, run(1, 30, 2.0, 1.0, false)),
    ];
    let mut single = run(0, 40, 0.5, 1.0, false);
    single[5].entropy = f64::NAN;
    let b = vec![(0, single)];
    let arms = [
        ArmSeries {
            label: "entropic-pi".into(),
            per_seed: &a,
        },
        ArmSeries {
            label: "plain <grpo>".into(),
            per_seed: &b,
        },
    ];
    let path = dir.join("e.svg");
    line_plot_svg(
        &path,
        "Entropy",
        "nats",
        &arms,
        |r| Some(r.entropy),
        Some((1.0, "target")),
    )
    .unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    assert!(
        svg.contains("entropic-pi") && svg.contains("target"),
        "labels missing"
    );
    // The label is XML-escaped, so the SVG stays valid.
    assert!(svg.contains("plain &lt;grpo&gt;"), "escaped label missing");
    assert!(!svg.contains("NaN"), "NaN leaked into the SVG");
    assert!(!dir.join("e.svg.tmp").exists());
}

#[test]
fn long_series_are_downsampled_so_the_svg_stays_small() {
    let dir = tmp("svg_small");
    let a: Vec<(u64, Vec<Record>)> = (0..3)
        .map(|s| (s, run(s, 20_000, 2.0, 1.0, false)))
        .collect();
    let arms = [ArmSeries {
        label: "long".into(),
        per_seed: &a,
    }];
    let path = dir.join("long.svg");
    line_plot_svg(&path, "Entropy", "nats", &arms, |r| Some(r.entropy), None).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    // 400 line points + 800 band points at ≤ ~10 bytes each plus axes: well
    // under 40 kB; 20 000 points undownsampled would be ≥ 200 kB.
    assert!(size < 40_000, "SVG is {size} bytes");
}

#[test]
fn markdown_table_pads_escapes_and_aligns() {
    let t = markdown_table(
        &["arm", "|e|"],
        &[vec!["a".into(), "0.1".into()], vec!["long name".into()]],
    );
    // Widths: col 0 = max(3, 1, 9) = 9; col 1 = max("\|e\|" = 5, 3) = 5.
    let expected = "\
| arm       | \\|e\\| |
| --------- | ----- |
| a         | 0.1   |
| long name |       |
";
    assert_eq!(t, expected);
}

#[test]
fn fmt_est_formats_mean_and_interval() {
    let e = Estimate {
        mean: 0.031234,
        lo: 0.02712,
        hi: 0.03549,
        n: 5,
    };
    assert_eq!(fmt_est(&e, 3), "0.0312 [0.0271, 0.0355]");
    let none = Estimate {
        mean: f64::NAN,
        lo: f64::NAN,
        hi: f64::NAN,
        n: 0,
    };
    assert_eq!(fmt_est(&none, 3), "n/a");
}

#[test]
fn ranking_orders_by_final_error() {
    // "far" stops after 3 steps, still ~0.8 nats above the target (2 → 1 at
    // rate 0.9/step); "near" runs 200 steps and ends on the target. Given
    // far first, the ranking must put near first.
    let near: Vec<(u64, Vec<Record>)> = vec![(0, run(0, 200, 2.0, 1.0, false))];
    let far: Vec<(u64, Vec<Record>)> = vec![(0, run(0, 3, 2.0, 1.0, false))];
    let arms = vec![
        ("far".to_string(), aggregate(&far, 1.0, 1.0)),
        ("near".to_string(), aggregate(&near, 1.0, 1.0)),
    ];
    let t = ranking_table(&arms);
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines[2].starts_with("| 1    | near"), "{t}");
    assert!(lines[3].starts_with("| 2    | far"), "{t}");
}

#[test]
fn run_report_writes_markdown_and_plots() {
    let dir = tmp("run_report");
    let pi: Vec<(u64, Vec<Record>)> = (0..3).map(|s| (s, run(s, 100, 2.0, 1.0, true))).collect();
    let mut plain: Vec<(u64, Vec<Record>)> =
        (0..3).map(|s| (s, run(s, 100, 2.0, 0.5, true))).collect();
    for (_, recs) in &mut plain {
        for r in recs {
            r.alpha = None;
        }
    }
    let arms = vec![
        ("entropic".to_string(), aggregate(&pi, 1.0, 1.0)),
        ("grpo".to_string(), aggregate(&plain, 1.0, f64::INFINITY)),
    ];
    let series = [
        ArmSeries {
            label: "entropic".into(),
            per_seed: &pi,
        },
        ArmSeries {
            label: "grpo".into(),
            per_seed: &plain,
        },
    ];
    write_run_report(
        &dir,
        "Toy run",
        "EntroPIC holds entropy near the target;\nplain GRPO drifts.",
        &arms,
        &series,
        Some(1.0),
        &["a note".to_string()],
    )
    .unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.starts_with(
            "# Toy run\n\n> EntroPIC holds entropy near the target;\n> plain GRPO drifts.\n"
        ),
        "{md}"
    );
    for f in ["entropy", "entropy_exact", "alpha", "pass_rate"] {
        assert!(
            md.contains(&format!("![{f}]({f}.svg)")),
            "{f} not embedded:\n{md}"
        );
        assert!(dir.join(format!("{f}.svg")).exists(), "{f}.svg missing");
    }
    assert!(
        md.contains("| entropic ") && md.contains("| grpo ") && md.contains("- a note"),
        "{md}"
    );
    assert!(md.contains("on `entropy_exact`"), "{md}");
    // Every arm row counts its 3 seeds.
    let grpo_row = md.lines().find(|l| l.starts_with("| grpo")).unwrap();
    assert!(grpo_row.contains("| 3 "), "{grpo_row}");
}
