//! `entropic llm diagnose`, the map half (docs/diagnose.md §2–§4): where a
//! diagnosed checkpoint sits on the committed regime map (`entropic map`,
//! [`super::map`]) and what the nearest cell predicts for EntroPIC on it.
//! The measurement itself is `entropic_llm::diagnose::measure`; this module
//! reads a map, finds the nearest cells and turns the nearest one into a
//! prediction, with `tune`'s gain search (`entropic_proofs::tune::recommend`).
//!
//! Chosen where issue 13 is silent (docs/diagnose.md says why):
//! - **Features** of a cell: `ln K`, `hp_frac0`, `hp_entropy_share0`, `H0`
//!   (each at the cell's own temperature); of the model: `ln(vocab)` and
//!   its measured `hp_frac`, `hp_entropy_share` and token-mean entropy at
//!   the diagnosis temperature.
//! - **Spread:** each feature is divided by its *range* (max − min) over
//!   the map's cells, so a distance of 1 along one feature is the map's
//!   whole width there, and the outside rule below is in the same unit. A
//!   feature with zero range (every cell equal) is left out of the distance.
//! - **Distance:** Euclidean over the four standardised features; ties keep
//!   the map's order.
//! - **Outside the map:** a feature beyond `[min − m·range, max + m·range]`
//!   with `m =` [`OUTSIDE_MARGIN`] (10% of the range), on any feature. A
//!   152k vocabulary (ln K 11.9) is outside: the map's K spans 16–32,768
//!   (ln K 2.8–10.4, so the bound is 11.2).
//! - **Predictions** come from the nearest cell alone, labelled
//!   `extrapolated` when the model is outside the map; see [`Prediction`].
use super::map::model::{CellResult, Outcome, TargetLevel};
use crate::error::InputError;
use entropic_llm::diagnose::{Diagnosis, TokenPoint};
use entropic_proofs::ident::Fit;
use entropic_proofs::linear::IntegralForm;
use entropic_proofs::tune::{self, DesignSpec, Recommendation};
use entropic_sim::optim::OptimizerKind;
use entropic_sim::plot::{Key, Scatter, BLUE, RED};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The committed regime map (`reports/regime-map.json`), built into the
/// binary so `diagnose` works outside the repository.
pub const COMMITTED_MAP: &str = include_str!("../../reports/regime-map.json");

/// The outside-the-map margin, as a fraction of each feature's range.
pub const OUTSIDE_MARGIN: f64 = 0.1;

/// How many nearest cells are reported.
pub const NEIGHBOURS: usize = 3;

/// Names of the four features, in [`Features::as_array`] order.
pub const FEATURES: [&str; 4] = ["ln_vocab", "hp_frac", "hp_entropy_share", "entropy"];

/// The α clip of the official law, which the suggested gains assume.
const ALPHA_MAX: f64 = 1.0;

/// A map as read: its cells (those with every feature), where it came
/// from and the SHA-256 of its bytes.
#[derive(Debug, Clone)]
pub struct Map {
    pub source: String,
    pub sha256: String,
    pub complete: bool,
    pub cells: Vec<CellResult>,
}

#[derive(Deserialize)]
struct MapFile {
    complete: bool,
    cells: Vec<CellResult>,
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads a map's JSON (`source` names it in errors). Refused: text that is
/// not a regime map, and a map with no cell whose four features are finite.
/// Cells missing a feature are dropped (they cannot be placed).
pub fn read_map(text: &str, source: &str) -> Result<Map, InputError> {
    let f: MapFile = serde_json::from_str(text).map_err(|e| {
        InputError(format!(
            "{source}: not a regime map (entropic map's regime-map.json): {e}"
        ))
    })?;
    let cells: Vec<CellResult> = f
        .cells
        .into_iter()
        .filter(|c| cell_features(c).is_some())
        .collect();
    if cells.is_empty() {
        return Err(InputError(format!(
            "{source}: no cell with finite vocab, h0, hp_frac0 and hp_entropy_share0"
        )));
    }
    Ok(Map {
        source: source.into(),
        sha256: sha256_hex(text.as_bytes()),
        complete: f.complete,
        cells,
    })
}

/// The committed map ([`COMMITTED_MAP`]).
pub fn committed_map() -> Result<Map, InputError> {
    read_map(COMMITTED_MAP, "reports/regime-map.json (built in)")
}

/// The four features of a cell or a model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Features {
    pub ln_vocab: f64,
    pub hp_frac: f64,
    pub hp_entropy_share: f64,
    /// Token-mean entropy (nats) at the cell's or the diagnosis' temperature.
    pub entropy: f64,
}

impl Features {
    pub fn as_array(&self) -> [f64; 4] {
        [
            self.ln_vocab,
            self.hp_frac,
            self.hp_entropy_share,
            self.entropy,
        ]
    }
}

fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// A cell's features, if all are finite.
pub fn cell_features(c: &CellResult) -> Option<Features> {
    Some(Features {
        ln_vocab: (c.vocab > 0).then(|| (c.vocab as f64).ln())?,
        hp_frac: finite(c.hp_frac0)?,
        hp_entropy_share: finite(c.hp_entropy_share0)?,
        entropy: finite(c.h0)?,
    })
}

/// The cells' optimizer name (`adam`, `sgd`).
pub fn optimizer_name(o: OptimizerKind) -> String {
    serde_json::to_value(o)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// A diagnosed model's features.
pub fn model_features(d: &Diagnosis) -> Features {
    Features {
        ln_vocab: (d.vocab.max(1) as f64).ln(),
        hp_frac: d.composition.hp_frac,
        hp_entropy_share: d.composition.hp_entropy_share,
        entropy: d.composition.entropy_mean,
    }
}

/// One feature's extent over the map's cells.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Extent {
    pub feature: &'static str,
    pub min: f64,
    pub max: f64,
    /// `max − min`: the unit of the standardised distance.
    pub range: f64,
    /// The model's value.
    pub model: f64,
    /// Beyond `[min − m·range, max + m·range]` ([`OUTSIDE_MARGIN`]).
    pub outside: bool,
}

/// One of the nearest cells.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbour {
    pub id: String,
    /// Standardised Euclidean distance (module doc).
    pub distance: f64,
    pub vocab: usize,
    pub temperature: f64,
    pub optimizer: String,
    pub length: usize,
    pub features: Features,
}

/// Where the model sits on the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    /// The cells compared: those of this optimizer (None: all).
    pub optimizer: Option<String>,
    /// Cells compared.
    pub cells: usize,
    pub spread: &'static str,
    pub outside_margin: f64,
    pub extents: Vec<Extent>,
    /// Any feature outside ([`Extent::outside`]).
    pub outside: bool,
    /// The [`NEIGHBOURS`] nearest cells, nearest first.
    pub neighbours: Vec<Neighbour>,
}

/// Places `model` on the cells of `map` run with `optimizer` (all cells
/// when `None`; module doc: range-standardised Euclidean distance over
/// those cells, outside rule, ties in map order). The map's Adam and SGD
/// cells share their instances, so their features are equal: without the
/// filter each Adam cell ties with its SGD twin.
pub fn place(map: &Map, model: &Features, optimizer: Option<OptimizerKind>) -> Placement {
    let feats: Vec<(usize, [f64; 4])> = map
        .cells
        .iter()
        .enumerate()
        .filter(|(_, c)| optimizer.is_none_or(|o| c.optimizer == o))
        .filter_map(|(i, c)| cell_features(c).map(|f| (i, f.as_array())))
        .collect();
    let m = model.as_array();
    let extents: Vec<Extent> = (0..4)
        .map(|j| {
            let (min, max) = feats
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, f)| {
                    (a.min(f[j]), b.max(f[j]))
                });
            let range = max - min;
            let outside =
                !(m[j] >= min - OUTSIDE_MARGIN * range && m[j] <= max + OUTSIDE_MARGIN * range);
            Extent {
                feature: FEATURES[j],
                min,
                max,
                range,
                model: m[j],
                outside,
            }
        })
        .collect();
    let dist = |f: &[f64; 4]| -> f64 {
        extents
            .iter()
            .enumerate()
            .filter(|(_, e)| e.range > 0.0)
            .map(|(j, e)| ((f[j] - m[j]) / e.range).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let mut ranked: Vec<(usize, f64)> = feats.iter().map(|(i, f)| (*i, dist(f))).collect();
    // stable: equal distances keep the map's order
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let neighbours = ranked
        .iter()
        .take(NEIGHBOURS)
        .filter_map(|&(i, d)| {
            let c = &map.cells[i];
            Some(Neighbour {
                id: c.id.clone(),
                distance: d,
                vocab: c.vocab,
                temperature: c.temperature,
                optimizer: optimizer_name(c.optimizer),
                length: c.length,
                features: cell_features(c)?,
            })
        })
        .collect();
    Placement {
        optimizer: optimizer.map(optimizer_name),
        cells: feats.len(),
        spread: "range",
        outside_margin: OUTSIDE_MARGIN,
        outside: extents.iter().any(|e| e.outside),
        extents,
        neighbours,
    }
}

/// Suggested gains, or why there are none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gains {
    /// Target (nats) the gains are designed for.
    pub target: f64,
    /// Wanted settling step (updates of the cell's toy, not of the model).
    pub settle: usize,
    /// The cell's plant scaled to the model's entropy: `g`, `b` (nats per
    /// step) multiplied by `H_model / H0_cell`.
    pub g: f64,
    pub b: f64,
    /// `tune`'s recommendation (None when refused).
    pub recommendation: Option<Recommendation>,
    /// Why `tune` refused (e.g. `|b/g|` beyond the α clip).
    pub refused: Option<String>,
}

/// What the nearest cell predicts for EntroPIC on the model (a toy cell's
/// result, not a measurement of the model; docs/diagnose.md §4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The cell the prediction comes from, and its distance.
    pub cell: String,
    pub distance: f64,
    /// The model lies outside the map ([`Placement::outside`]).
    pub extrapolated: bool,
    /// The cell's temperature differs from the diagnosis temperature.
    pub temperature_differs: bool,
    /// Outcome of every PI arm of the cell (`pi-<gains>@<target>`).
    pub outcomes: BTreeMap<String, Outcome>,
    /// `g / |b|`: whether |α| ≤ 1 can beat plain GRPO's drift (≥ 1).
    pub g_over_abs_b: Option<f64>,
    /// Targets (fractions of the entropy) at which the official law held
    /// (`holds` or `holds-late`) in the cell, sorted.
    pub official_holds_fractions: Vec<f64>,
    /// Those fractions' range, in nats of the model's entropy (None when
    /// no official arm held).
    pub official_target_range: Option<[f64; 2]>,
    /// Targets tried for the official law, as fractions (sorted).
    pub official_tried_fractions: Vec<f64>,
    /// Suggested gains from `tune`'s method on the cell's plant.
    pub gains: Gains,
}

/// Settings of the gain suggestion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainSpec {
    /// Target in nats; `None`: the paper's fraction 0.10/0.12 of the
    /// model's entropy (the `paper` target of the map).
    pub target: Option<f64>,
    /// Wanted settling step.
    pub settle: usize,
    /// Largest overshoot accepted at any corner.
    pub max_overshoot: f64,
}

/// H_tar / H0 of a map arm's target name (`low`, `half`, `high`, `paper`).
fn target_fraction(name: &str) -> Option<f64> {
    [
        TargetLevel::Low,
        TargetLevel::Half,
        TargetLevel::High,
        TargetLevel::Paper,
    ]
    .into_iter()
    .find(|t| t.name() == name)
    .map(TargetLevel::fraction)
}

/// The cell's `(g, b)` with their intervals as the [`Fit`] `tune` takes,
/// all scaled by `scale` (docs/diagnose.md §4). The map records no R² and
/// no row count for its paired fit: `r2` is NaN (unknown; `recommend`
/// refuses only an R² known to be below its floor, and the map's interval
/// already says whether `g` is detectable) and `g_se`, `b_se` are the
/// intervals' half-widths over 1.96.
fn cell_fit(c: &CellResult, scale: f64) -> Option<Fit> {
    let (g, b) = (finite(c.g)?, finite(c.b)?);
    let gc = (finite(c.g_ci[0])?, finite(c.g_ci[1])?);
    let bc = (finite(c.b_ci[0])?, finite(c.b_ci[1])?);
    Some(Fit {
        b: b * scale,
        g: g * scale,
        d: 0,
        b_ci: (bc.0 * scale, bc.1 * scale),
        g_ci: (gc.0 * scale, gc.1 * scale),
        b_se: (bc.1 - bc.0) * scale / (2.0 * 1.96),
        g_se: (gc.1 - gc.0) * scale / (2.0 * 1.96),
        residual_rms: f64::NAN,
        n: 0,
        r2: f64::NAN,
        skipped_nan: 0,
    })
}

/// The prediction of the nearest cell of `placement` for a model whose
/// token-mean entropy is `h_model` at `temperature` (see [`Prediction`]).
/// `None` when the map has no cell.
///
/// Rules (docs/diagnose.md §4): the outcome classes are the cell's PI arms'
/// as they are; `g/|b|` is the cell's; the official target range is the
/// range of the fractions `H_tar/H0` at which `pi-official@<target>` held or
/// held late, applied to the model's entropy; the gains are `tune`'s
/// recommendation (`recommend`: integral before the error, α clip 1,
/// delay 0 as in the map's estimate) on the cell's `g`, `b` and intervals
/// scaled by `h_model / H0_cell`, which keeps the cell's relative drift and
/// authority (`b/H`, `g/H`) and so its `g/|b|`, for a target of
/// `spec.target` (default the paper's 0.10/0.12 of `h_model`).
pub fn predict(
    map: &Map,
    placement: &Placement,
    h_model: f64,
    temperature: f64,
    spec: &GainSpec,
) -> Option<Prediction> {
    let near = placement.neighbours.first()?;
    let c = map.cells.iter().find(|c| c.id == near.id)?;
    let outcomes: BTreeMap<String, Outcome> = c
        .arms
        .iter()
        .filter(|(k, _)| k.starts_with("pi-"))
        .filter_map(|(k, a)| a.outcome.map(|o| (k.clone(), o)))
        .collect();
    let g_over_abs_b = match (finite(c.g), finite(c.b)) {
        (Some(g), Some(b)) if b != 0.0 => Some(g / b.abs()),
        _ => None,
    };
    let mut tried = Vec::new();
    let mut held = Vec::new();
    for (k, o) in &outcomes {
        let Some(level) = k.strip_prefix("pi-official@") else {
            continue;
        };
        let Some(f) = target_fraction(level) else {
            continue;
        };
        tried.push(f);
        if matches!(o, Outcome::Holds | Outcome::HoldsLate) {
            held.push(f);
        }
    }
    tried.sort_by(f64::total_cmp);
    held.sort_by(f64::total_cmp);
    let official_target_range = match (held.first(), held.last()) {
        (Some(lo), Some(hi)) => Some([lo * h_model, hi * h_model]),
        _ => None,
    };
    let h0 = near.features.entropy;
    let scale = if h0 > 0.0 { h_model / h0 } else { f64::NAN };
    let target = spec
        .target
        .unwrap_or(TargetLevel::Paper.fraction() * h_model);
    let mut gains = Gains {
        target,
        settle: spec.settle,
        g: nan(c.g) * scale,
        b: nan(c.b) * scale,
        recommendation: None,
        refused: None,
    };
    match cell_fit(c, scale).filter(|_| scale.is_finite()) {
        None => gains.refused = Some(format!("cell {}: no finite g, b and intervals", c.id)),
        Some(fit) => {
            let ds = DesignSpec {
                settle: spec.settle,
                target,
                band: Some(0.1 * target),
                e0: h_model - target,
                alpha_max: ALPHA_MAX,
                form: IntegralForm::Before,
                max_overshoot: spec.max_overshoot,
            };
            match tune::recommend(&fit, &ds) {
                Ok(r) => gains.recommendation = Some(r),
                Err(e) => gains.refused = Some(format!("tune's gain search refuses: {e}")),
            }
        }
    }
    Some(Prediction {
        cell: c.id.clone(),
        distance: near.distance,
        extrapolated: placement.outside,
        temperature_differs: (c.temperature - temperature).abs() > 1e-9,
        outcomes,
        g_over_abs_b,
        official_holds_fractions: held,
        official_target_range,
        official_tried_fractions: tried,
        gains,
    })
}

fn nan(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

/// Bins of [`histogram_svg`].
pub const HIST_BINS: usize = 40;

/// Per-bin shares of all generated tokens, HP and non-HP apart, over
/// [`HIST_BINS`] equal bins from 0 to the largest entropy (to 1 nat when
/// every token has entropy 0): `(bin width, hp shares, other shares)`. The
/// two sum to the histogram of every token, and all bins to 1.
pub fn histogram(tokens: &[TokenPoint]) -> (f64, Vec<f64>, Vec<f64>) {
    let top = tokens
        .iter()
        .map(|t| t.entropy as f64)
        .filter(|h| h.is_finite())
        .fold(0.0, f64::max);
    let width = if top > 0.0 {
        top / HIST_BINS as f64
    } else {
        1.0 / HIST_BINS as f64
    };
    let (mut hp, mut other) = (vec![0.0; HIST_BINS], vec![0.0; HIST_BINS]);
    let n = tokens.len().max(1) as f64;
    for t in tokens.iter().filter(|t| t.entropy.is_finite()) {
        let b = ((t.entropy as f64 / width) as usize).min(HIST_BINS - 1);
        if t.hp {
            hp[b] += 1.0 / n;
        } else {
            other[b] += 1.0 / n;
        }
    }
    (width, hp, other)
}

/// Writes the histogram of per-token entropy, HP tokens and the others as
/// two step outlines (share of all generated tokens per bin; see
/// [`histogram`]), with title, axis labels and a legend.
pub fn histogram_svg(path: &Path, d: &Diagnosis) -> Result<(), entropic_sim::error::SimError> {
    let (w, hp, other) = histogram(&d.tokens);
    let steps = |ys: &[f64]| -> Vec<(f64, f64)> {
        let mut v = vec![(0.0, 0.0)];
        for (i, y) in ys.iter().enumerate() {
            v.push((i as f64 * w, *y));
            v.push(((i + 1) as f64 * w, *y));
        }
        v.push((ys.len() as f64 * w, 0.0));
        v
    };
    let top = hp.iter().chain(&other).cloned().fold(0.0, f64::max);
    let mut s = Scatter::new(
        &format!(
            "Per-token entropy at T = {} ({} tokens)",
            d.temperature, d.composition.n_tokens
        ),
        "token entropy H_t (nats)",
        "share of generated tokens",
        (0.0, HIST_BINS as f64 * w),
        (0.0, if top > 0.0 { 1.05 * top } else { 1.0 }),
    );
    s.polyline(&steps(&other), BLUE);
    s.polyline(&steps(&hp), RED);
    let hp_label = format!("HP tokens, τ = {}", d.tau);
    s.legend(&[
        (Key::Line, RED, hp_label.as_str()),
        (Key::Line, BLUE, "other tokens"),
    ]);
    s.write(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(vocab: usize, hp_frac: f64, share: f64, h: f64) -> Features {
        Features {
            ln_vocab: (vocab as f64).ln(),
            hp_frac,
            hp_entropy_share: share,
            entropy: h,
        }
    }

    /// The committed map reads; a cell's own features place it at distance
    /// 0 and inside; a 152k vocabulary is outside on ln K only; neighbours
    /// come sorted by distance.
    #[test]
    fn committed_map_places_its_own_cells_and_refuses_152k() {
        let map = committed_map().unwrap();
        assert_eq!(map.sha256.len(), 64);
        assert!(map.cells.len() >= 20, "{} cells", map.cells.len());
        let c = &map.cells[map.cells.len() / 2];
        let f = cell_features(c).unwrap();
        let p = place(&map, &f, Some(c.optimizer));
        assert_eq!(p.neighbours[0].id, c.id);
        assert_eq!(p.neighbours[0].distance, 0.0);
        // with every optimizer the cell ties with its twin of the other
        let all = place(&map, &f, None);
        assert_eq!(all.neighbours[0].distance, 0.0);
        assert!(all.cells > p.cells);
        assert!(!p.outside);
        assert_eq!(p.neighbours.len(), NEIGHBOURS);
        assert!(p
            .neighbours
            .windows(2)
            .all(|w| w[0].distance <= w[1].distance));
        let big = place(
            &map,
            &model(152_064, f.hp_frac, f.hp_entropy_share, f.entropy),
            None,
        );
        assert!(big.outside);
        let outs: Vec<&str> = big
            .extents
            .iter()
            .filter(|e| e.outside)
            .map(|e| e.feature)
            .collect();
        assert_eq!(outs, vec!["ln_vocab"]);
        // 10% of the range beyond the largest K is the boundary
        let e = &big.extents[0];
        let edge = e.max + OUTSIDE_MARGIN * e.range;
        let tiny = place(&map, &model(1, 0.0, 0.0, 0.0), None);
        assert!(tiny.extents[0].outside); // K = 1: ln K 0 < 2.77 − 0.76
        let just_in = model(1, f.hp_frac, f.hp_entropy_share, f.entropy);
        let mut ji = just_in;
        ji.ln_vocab = edge - 1e-9;
        assert!(!place(&map, &ji, None).outside);
        ji.ln_vocab = edge + 1e-9;
        assert!(place(&map, &ji, None).outside);
    }

    /// The prediction reads the nearest cell: on the features of a cell
    /// where the official law holds, the target range is the fractions
    /// that held (re-read from the cell's arms here) times the model's
    /// entropy; `g/|b|` is the cell's; the plant is scaled with the
    /// entropy; and where g < |b| `tune` refuses and says why.
    #[test]
    fn prediction_reads_the_nearest_cell() {
        let map = committed_map().unwrap();
        let c = map
            .cells
            .iter()
            .find(|c| {
                c.arms.iter().any(|(k, a)| {
                    k.starts_with("pi-official@") && a.outcome == Some(Outcome::Holds)
                })
            })
            .expect("a cell where the official law holds");
        let f = cell_features(c).unwrap();
        let p = place(&map, &f, Some(c.optimizer));
        let spec = GainSpec {
            target: None,
            settle: 50,
            max_overshoot: 0.1,
        };
        let h = 2.0 * f.entropy;
        let pr = predict(&map, &p, h, c.temperature, &spec).unwrap();
        assert_eq!(pr.cell, c.id);
        assert!(!pr.extrapolated && !pr.temperature_differs);
        let held: Vec<f64> = c
            .arms
            .iter()
            .filter_map(|(k, a)| {
                let f = target_fraction(k.strip_prefix("pi-official@")?)?;
                matches!(a.outcome, Some(Outcome::Holds | Outcome::HoldsLate)).then_some(f)
            })
            .collect();
        let lo = held.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = held.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let r = pr.official_target_range.unwrap();
        assert!((r[0] - lo * h).abs() < 1e-12 && (r[1] - hi * h).abs() < 1e-12);
        let gb = c.g.unwrap() / c.b.unwrap().abs();
        assert!((pr.g_over_abs_b.unwrap() - gb).abs() < 1e-12);
        // scaled plant: g and b doubled with the entropy, g/|b| kept
        assert!((pr.gains.g - 2.0 * c.g.unwrap()).abs() < 1e-15);
        assert!((pr.gains.g / pr.gains.b.abs() - gb).abs() < 1e-9);
        // g ≥ |b| there, so tune finds gains
        assert!(gb > 1.0);
        let rec = pr
            .gains
            .recommendation
            .as_ref()
            .expect(&format!("no gains: {:?}", pr.gains.refused));
        assert!(rec.kp > 0.0 && rec.ki > 0.0);
        // where |α| ≤ 1 cannot beat the drift, tune refuses and says so
        let weak = map
            .cells
            .iter()
            .find(|c| c.g.unwrap_or(0.0) < c.b.unwrap_or(0.0).abs())
            .unwrap();
        let pw = predict(
            &map,
            &place(&map, &cell_features(weak).unwrap(), Some(weak.optimizer)),
            weak.h0.unwrap(),
            weak.temperature,
            &spec,
        )
        .unwrap();
        assert!(pw.gains.recommendation.is_none());
        assert!(pw.gains.refused.is_some());
    }

    /// The two halves of the histogram sum to 1 and put each token in its
    /// bin by entropy and class.
    #[test]
    fn histogram_splits_and_sums_to_one() {
        let t = |e: f32, hp| TokenPoint { entropy: e, hp };
        let toks = [t(0.0, true), t(0.0, true), t(2.0, false), t(1.0, false)];
        let (w, hp, other) = histogram(&toks);
        assert!((w - 2.0 / HIST_BINS as f64).abs() < 1e-12);
        assert_eq!(hp[0], 0.5);
        assert_eq!(other[HIST_BINS - 1], 0.25);
        assert_eq!(other[HIST_BINS / 2], 0.25);
        let total: f64 = hp.iter().chain(&other).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_maps_are_refused_with_their_source() {
        let e = read_map("{}", "m.json").unwrap_err().0;
        assert!(e.starts_with("m.json: not a regime map"), "{e}");
        let e = read_map(r#"{"complete": true, "cells": []}"#, "m.json")
            .unwrap_err()
            .0;
        assert!(e.starts_with("m.json: no cell"), "{e}");
    }
}
