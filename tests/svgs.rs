//! The committed run reports' plots (reports/scenarios/**/*.svg, drawn by
//! `entropic_sim::plot::line_plot_svg`) read structurally: each has a
//! title, both axis labels, and a legend whose entries match the drawn
//! series: one entry per line colour drawn in the plot, each entry's
//! sample in that colour with its marker, and the dashed target line shown
//! dashed in the legend too. Parsed with string scanning of plotters' SVG
//! output (one element per line), no XML crate.
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
struct Svg {
    texts: Vec<(f64, f64, String, String)>, // x, y, attributes, content
    /// (stroke colour, stroke width, points)
    polylines: Vec<(String, u32, Vec<(f64, f64)>)>,
    /// rects with a black border and no fill: (x, y, w, h)
    frames: Vec<(f64, f64, f64, f64)>,
    /// markers: (kind, colour, x, y)
    marks: Vec<(String, String, f64, f64)>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    tag[i..].split('"').next().map(str::to_string)
}

fn num(tag: &str, name: &str) -> f64 {
    attr(tag, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn parse(text: &str) -> Svg {
    let mut s = Svg::default();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        let l = l.trim();
        if l.starts_with("<text") {
            let mut content = String::new();
            for c in lines.by_ref() {
                if c.trim() == "</text>" {
                    break;
                }
                content.push_str(c.trim());
            }
            s.texts
                .push((num(l, "x"), num(l, "y"), l.to_string(), content));
        } else if l.starts_with("<polyline") {
            let colour = attr(l, "stroke").unwrap_or_default();
            let width = num(l, "stroke-width") as u32;
            let pts: Vec<(f64, f64)> = attr(l, "points")
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| {
                    let (x, y) = p.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect();
            // a closed path is a hollow marker (triangle, diamond)
            if pts.len() > 3 && pts.first() == pts.last() {
                let (x, y) = pts[0];
                s.marks.push(("path".into(), colour, x, y));
            } else {
                s.polylines.push((colour, width, pts));
            }
        } else if l.starts_with("<rect") {
            if attr(l, "fill").as_deref() == Some("none")
                && attr(l, "stroke").as_deref() == Some("#000000")
            {
                s.frames
                    .push((num(l, "x"), num(l, "y"), num(l, "width"), num(l, "height")));
            } else if let Some(c) = attr(l, "fill").filter(|c| c != "#FFFFFF" && c != "none") {
                s.marks.push(("rect".into(), c, num(l, "x"), num(l, "y")));
            } else if let Some(c) = attr(l, "stroke").filter(|c| c != "#000000" && c != "none") {
                s.marks.push(("rect".into(), c, num(l, "x"), num(l, "y")));
            }
        } else if l.starts_with("<circle") {
            let c = attr(l, "fill")
                .filter(|c| c != "none")
                .or_else(|| attr(l, "stroke"))
                .unwrap_or_default();
            s.marks
                .push(("circle".into(), c, num(l, "cx"), num(l, "cy")));
        } else if l.starts_with("<polygon") {
            let c = attr(l, "fill").unwrap_or_default();
            let first = attr(l, "points").unwrap_or_default();
            let (x, y) = first
                .split_whitespace()
                .next()
                .and_then(|p| p.split_once(','))
                .and_then(|(x, y)| Some((x.parse().ok()?, y.parse().ok()?)))
                .unwrap_or((f64::NAN, f64::NAN));
            // the seed bands are polygons too, drawn with opacity < 1
            if attr(l, "opacity").as_deref() == Some("1") {
                s.marks.push(("polygon".into(), c, x, y));
            }
        }
    }
    s
}

fn svgs(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            svgs(&p, out);
        } else if p.extension().is_some_and(|x| x == "svg") {
            out.push(p);
        }
    }
}

/// Checks one run-report plot; returns the problems found.
fn check(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read svg");
    let s = parse(&text);
    let mut bad = Vec::new();
    // title: the topmost centred text; axis labels: the rotated one (y) and
    // `step` (x)
    let title = s
        .texts
        .iter()
        .filter(|t| t.2.contains("text-anchor=\"middle\"") && !t.2.contains("rotate"))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if !title.is_some_and(|t| t.1 < 40.0 && !t.3.is_empty()) {
        bad.push("no title".into());
    }
    if !s
        .texts
        .iter()
        .any(|t| t.2.contains("rotate(270") && !t.3.is_empty())
    {
        bad.push("no y-axis label".into());
    }
    if !s.texts.iter().any(|t| t.3 == "step") {
        bad.push("no x-axis label `step`".into());
    }
    // the legend: the black-bordered frame holding left-anchored texts
    let Some(&(lx, ly, lw, lh)) = s.frames.iter().find(|f| {
        s.texts
            .iter()
            .any(|t| t.2.contains("text-anchor=\"start\"") && inside(**f, (t.0, t.1)))
    }) else {
        bad.push("no legend".into());
        return bad;
    };
    let frame = (lx, ly, lw, lh);
    let entries: Vec<&(f64, f64, String, String)> = s
        .texts
        .iter()
        .filter(|t| t.2.contains("text-anchor=\"start\"") && inside(frame, (t.0, t.1)))
        .collect();
    let in_legend = |pts: &[(f64, f64)]| pts.iter().all(|p| inside(frame, *p));
    let mut drawn: Vec<&str> = s
        .polylines
        .iter()
        .filter(|(c, w, pts)| *w == 2 && c != "#000000" && !in_legend(pts))
        .map(|(c, _, _)| c.as_str())
        .collect();
    drawn.sort();
    drawn.dedup();
    let mut sampled: Vec<&str> = s
        .polylines
        .iter()
        .filter(|(c, w, pts)| *w == 2 && c != "#000000" && in_legend(pts))
        .map(|(c, _, _)| c.as_str())
        .collect();
    sampled.sort();
    // the target: black dashes (6 px) on one horizontal line
    let mut dash_rows: std::collections::BTreeMap<i64, usize> = Default::default();
    for (_, _, p) in s
        .polylines
        .iter()
        .filter(|(c, w, pts)| c == "#000000" && *w == 1 && pts.len() == 2 && !in_legend(pts))
    {
        let len = (p[1].0 - p[0].0).abs();
        if (p[0].1 - p[1].1).abs() < 0.5 && (4.0..=8.0).contains(&len) {
            *dash_rows.entry(p[0].1.round() as i64).or_default() += 1;
        }
    }
    let target_drawn = dash_rows.values().any(|&n| n > 3);
    let target_listed = entries.iter().any(|t| t.3 == "target");
    if target_drawn != target_listed {
        bad.push(format!(
            "target line drawn: {target_drawn}, in the legend: {target_listed}"
        ));
    }
    if target_listed {
        let dashes = s
            .polylines
            .iter()
            .filter(|(c, w, pts)| c == "#000000" && *w == 1 && in_legend(pts))
            .count();
        if dashes < 2 {
            bad.push("the target is dashed in the plot but solid in the legend".into());
        }
    }
    let series = entries.len() - usize::from(target_listed);
    if series != drawn.len() {
        bad.push(format!(
            "{} legend entries for {} drawn line colours {drawn:?}: {:?}",
            series,
            drawn.len(),
            entries.iter().map(|t| &t.3).collect::<Vec<_>>()
        ));
    }
    let mut unique = sampled.clone();
    unique.dedup();
    if unique != drawn || sampled.len() != drawn.len() {
        bad.push(format!(
            "legend samples {sampled:?} do not match the drawn colours {drawn:?}"
        ));
    }
    // every legend sample carries its series' marker, in its colour
    for c in &drawn {
        let marker = s
            .marks
            .iter()
            .any(|(_, mc, x, y)| mc == c && inside(frame, (*x, *y)));
        if !marker {
            bad.push(format!("legend entry of {c} has no marker"));
        }
    }
    bad
}

fn inside((x, y, w, h): (f64, f64, f64, f64), (px, py): (f64, f64)) -> bool {
    px >= x - 1.0 && px <= x + w + 1.0 && py >= y - 1.0 && py <= y + h + 1.0
}

#[test]
fn committed_run_report_plots_have_title_axes_and_a_matching_legend() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/scenarios");
    let mut files = Vec::new();
    svgs(&root, &mut files);
    files.sort();
    assert!(files.len() >= 7, "found only {files:?}");
    let problems: Vec<String> = files
        .iter()
        .flat_map(|f| {
            check(f)
                .into_iter()
                .map(move |p| format!("{}: {p}", f.display()))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checker itself catches what it is for: a legend with a solid target
/// and a series drawn but not listed.
#[test]
fn the_checker_finds_a_solid_target_and_an_unlisted_series() {
    let d = std::env::temp_dir().join(format!("svgs-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("mkdir");
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/scenarios/peers/entropy.svg");
    let text = std::fs::read_to_string(&good).expect("peers plot");
    assert!(check(&good).is_empty(), "{:?}", check(&good));
    // drop the legend's dashes after the first one (a solid-looking sample)
    let s = parse(&text);
    let frame = s.frames[0];
    let mut dashes_seen = 0;
    let solid: String = text
        .lines()
        .filter(|l| {
            let l = l.trim();
            if !l.starts_with("<polyline") || attr(l, "stroke").as_deref() != Some("#000000") {
                return true;
            }
            let pts: Vec<(f64, f64)> = attr(l, "points")
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| {
                    let (x, y) = p.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect();
            if pts.iter().all(|p| inside(frame, *p)) {
                dashes_seen += 1;
                dashes_seen == 1
            } else {
                true
            }
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let p = d.join("solid.svg");
    std::fs::write(&p, solid).expect("write");
    assert!(
        check(&p).iter().any(|m| m.contains("solid in the legend")),
        "{:?}",
        check(&p)
    );
    // remove the first legend label: a series drawn but not listed
    let mut removed = false;
    let mut out = String::new();
    let mut skip = 0;
    for l in text.lines() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if !removed && l.contains("text-anchor=\"start\"") {
            removed = true;
            skip = 2;
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    let p = d.join("unlisted.svg");
    std::fs::write(&p, out).expect("write");
    assert!(
        check(&p).iter().any(|m| m.contains("legend entries")),
        "{:?}",
        check(&p)
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Whether `step` is 1, 2, 2.5 or 5 times a power of ten.
fn round_step(step: f64) -> bool {
    if !(step.is_finite() && step > 0.0) {
        return false;
    }
    let m = step / 10f64.powf(step.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .any(|r| (m - r).abs() < 1e-6 * r)
}

/// The tick values of one axis (`anchor`: `end` for y, `middle` for x):
/// the texts that parse as numbers.
fn ticks(s: &Svg, anchor: &str) -> Vec<f64> {
    let key = format!("text-anchor=\"{anchor}\"");
    let mut v: Vec<f64> = s
        .texts
        .iter()
        .filter(|t| t.2.contains(&key) && !t.2.contains("rotate"))
        .filter_map(|t| t.3.replace('−', "-").parse::<f64>().ok())
        .collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// A title (the topmost centred text, near the top), a y-axis label
/// (rotated text) and an x-axis label (centred, non-numeric, below the
/// title): which of the three are missing.
fn missing_title_and_axis_labels(s: &Svg) -> Vec<String> {
    let mut bad: Vec<String> = Vec::new();
    let centred = |t: &&(f64, f64, String, String)| {
        t.2.contains("text-anchor=\"middle\"") && !t.2.contains("rotate")
    };
    let title = s
        .texts
        .iter()
        .filter(centred)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if !title.is_some_and(|t| t.1 < 40.0 && !t.3.is_empty()) {
        bad.push("no title".into());
    }
    if !s
        .texts
        .iter()
        .any(|t| t.2.contains("rotate(270") && !t.3.is_empty())
    {
        bad.push("no y-axis label".into());
    }
    if !s
        .texts
        .iter()
        .filter(centred)
        .any(|t| t.1 > 40.0 && !t.3.is_empty() && t.3.parse::<f64>().is_err())
    {
        bad.push("no x-axis label".into());
    }
    bad
}

/// Checks one of `verify`'s figures (line, rate and scatter plots); returns
/// the problems found: a title and both axis labels; a legend with entries
/// that lies right of every data point (never over data); round ticks
/// (steps of 1, 2, 2.5 or 5 × 10^k, every tick a multiple of its step); no
/// numeric y ticks on the controllability figures (a categorical axis);
/// no square legend sample for a series not drawn with squares; and, where
/// two or more line colours are drawn, markers on every line so lines lying
/// on each other stay distinct.
fn check_verify(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read svg");
    let s = parse(&text);
    let mut bad = missing_title_and_axis_labels(&s);
    for (axis, anchor) in [("x", "middle"), ("y", "end")] {
        let v = ticks(&s, anchor);
        if v.len() >= 2 {
            let step = v[1] - v[0];
            let even = v
                .windows(2)
                .all(|w| ((w[1] - w[0]) - step).abs() < 1e-6 * step.abs().max(1e-12));
            let multiples = v
                .iter()
                .all(|x| ((x / step).round() - x / step).abs() < 1e-6);
            if !(round_step(step) && even && multiples) {
                bad.push(format!("{axis} ticks not round: {v:?}"));
            }
        }
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with("controllability") && !ticks(&s, "end").is_empty() {
        bad.push(format!(
            "numeric ticks on the categorical y axis: {:?}",
            ticks(&s, "end")
        ));
    }
    let Some(&frame) = s.frames.iter().find(|f| {
        s.texts
            .iter()
            .any(|t| t.2.contains("text-anchor=\"start\"") && inside(**f, (t.0, t.1)))
    }) else {
        bad.push("no legend".into());
        return bad;
    };
    let in_legend = |pts: &[(f64, f64)]| pts.iter().all(|p| inside(frame, *p));
    let data_x = s
        .polylines
        .iter()
        .filter(|(c, w, pts)| *w == 2 && c != "#000000" && !in_legend(pts))
        .flat_map(|(_, _, pts)| pts.iter().map(|p| p.0))
        .chain(
            s.marks
                .iter()
                .filter(|m| !inside(frame, (m.2, m.3)))
                .map(|m| m.2),
        )
        .fold(f64::NEG_INFINITY, f64::max);
    if data_x >= frame.0 {
        bad.push(format!(
            "the legend (from x = {}) covers data (up to x = {data_x})",
            frame.0
        ));
    }
    for (kind, c, x, y) in &s.marks {
        if kind == "rect"
            && inside(frame, (*x, *y))
            && !s
                .marks
                .iter()
                .any(|m| m.0 == "rect" && &m.1 == c && !inside(frame, (m.2, m.3)))
        {
            bad.push(format!(
                "square legend sample for {c}, not drawn as squares"
            ));
        }
    }
    let mut lines: Vec<&str> = s
        .polylines
        .iter()
        .filter(|(c, w, pts)| *w == 2 && c != "#000000" && !in_legend(pts))
        .map(|(c, _, _)| c.as_str())
        .collect();
    lines.sort();
    lines.dedup();
    if lines.len() >= 2 {
        for c in &lines {
            if !s
                .marks
                .iter()
                .any(|m| m.1 == *c && !inside(frame, (m.2, m.3)))
            {
                bad.push(format!("the line of {c} has no markers"));
            }
        }
    }
    bad
}

/// `verify`'s committed figures (reports/*.svg; another folder of them
/// with `ENTROPIC_VERIFY_SVGS`, e.g. a fresh `entropic verify --out`).
/// `llm-validation-*.svg` (written by `entropic llm validate`) and
/// `trl-example.svg` (from the TRL peer script) live in reports/ too but
/// are not drawn by `verify`, so they are left out, and so are the regime
/// map's heatmaps (`regime-map-*.svg`, written by `entropic map`; checked
/// by `map_heatmaps_have_title_axes_and_the_grid_values`).
#[test]
fn verify_figures_have_title_axes_round_ticks_and_a_legend_off_the_data() {
    let root = std::env::var_os("ENTROPIC_VERIFY_SVGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("reports"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("read_dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !n.starts_with("llm-validation")
                && !n.starts_with("trl-")
                && !n.starts_with("regime-map-")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 20, "found only {files:?}");
    let problems: Vec<String> = files
        .iter()
        .flat_map(|f| {
            check_verify(f)
                .into_iter()
                .map(move |p| format!("{}: {p}", f.display()))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The verify checker catches non-round ticks (183, 366, 549).
#[test]
fn the_verify_checker_finds_non_round_ticks() {
    assert!(round_step(0.05) && round_step(200.0) && round_step(2.5));
    assert!(!round_step(183.0) && !round_step(0.3));
    let d = std::env::temp_dir().join(format!("svgs-ticks-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("mkdir");
    let mut text = String::from("<svg>\n");
    for (i, v) in ["0", "183", "366", "549"].iter().enumerate() {
        text.push_str(&format!(
            "<text x=\"{}\" y=\"400\" text-anchor=\"middle\">\n{v}\n</text>\n",
            100 + 100 * i
        ));
    }
    let p = d.join("ticks.svg");
    std::fs::write(&p, text).expect("write");
    let found = check_verify(&p);
    assert!(
        found.iter().any(|m| m.contains("x ticks not round")),
        "{found:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The committed regime map's heatmaps (`entropic map`): a title, both
/// axis labels, categorical ticks that are exactly the core grid's values
/// (vocabulary 16, 256, 4,096; tail mass 0.005, 0.03, 0.1) rather than
/// round numbers, and on the outcome maps a key naming the outcomes.
#[test]
fn map_heatmaps_have_title_axes_and_the_grid_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    for name in [
        "regime-map-outcome-adam.svg",
        "regime-map-outcome-sgd.svg",
        "regime-map-g-over-b-adam.svg",
        "regime-map-g-over-b-sgd.svg",
    ] {
        let text = std::fs::read_to_string(root.join(name)).expect("read svg");
        let s = parse(&text);
        let missing = missing_title_and_axis_labels(&s);
        assert!(missing.is_empty(), "{name}: {missing:?}");
        assert_eq!(
            ticks(&s, "middle"),
            vec![16.0, 256.0, 4096.0],
            "{name}: x ticks"
        );
        assert_eq!(ticks(&s, "end"), vec![0.005, 0.03, 0.1], "{name}: y ticks");
        if name.contains("outcome") {
            assert!(text.contains("no-authority"), "{name}: no outcome key");
        }
    }
}

/// `entropic llm diagnose --svg` on the transformers-written BPE fixture:
/// the per-token entropy histogram has a title, both axis labels (the
/// x axis in nats), a legend naming the HP and the other tokens, and one
/// line per class in the legend's colours.
#[test]
fn diagnose_histogram_has_title_axes_and_both_classes() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("llm/tests/fixtures/bpe-small");
    let dir = entropic_sim::scratch::Scratch::created("diagnose-svg");
    let svg = dir.join("h.svg");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_entropic"))
        .args(["llm", "diagnose", "--model"])
        .arg(&fixture)
        .arg("--prompts")
        .arg(fixture.join("prompts.jsonl"))
        .args(["--samples", "4", "--max-new-tokens", "6", "--svg"])
        .arg(&svg)
        .output()
        .expect("run diagnose");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&svg).expect("read svg");
    let s = parse(&text);
    let missing = missing_title_and_axis_labels(&s);
    assert!(missing.is_empty(), "{missing:?}");
    assert!(
        s.texts.iter().any(|t| t.3.contains("(nats)")),
        "no axis in nats"
    );
    for key in ["HP tokens, τ = 0.95", "other tokens"] {
        assert!(s.texts.iter().any(|t| t.3 == key), "no legend entry {key}");
    }
    let mut colours: Vec<&str> = s
        .polylines
        .iter()
        .filter(|(c, _, pts)| c != "#000000" && pts.len() > 4)
        .map(|(c, _, _)| c.as_str())
        .collect();
    colours.sort();
    colours.dedup();
    assert_eq!(colours.len(), 2, "drawn classes: {colours:?}");
}
