//! `entropic._native`: the Python bindings of the entropic workspace, the
//! same Rust code the simulator and the LLM trainer run (docs/python.md).
//!
//! This module stays thin: numbers go in as contiguous 1-D `float64` numpy
//! arrays (the pure-Python layer `entropic/__init__.py` reshapes, masks and
//! converts), structured results come back as Python dicts built from the
//! Rust structs' serde form (so a field added in Rust shows up in Python
//! without a change here), and every Rust error becomes a `ValueError` with
//! the Rust error's sentence.
//!
//! pyo3's `extension-module` feature is switched on by maturin only
//! (`python/pyproject.toml`), so `cargo test --workspace` builds and links
//! this crate like any other.

use entropic_proofs::ident_power::randomized::PrbsDraw;
use entropic_proofs::ident_power::Coding;
use entropic_proofs::tune::{self, Columns, DesignSpec, Series};
use entropic_sim::composition::{self, Composition};
use entropic_sim::control::loss::{token_loss as rust_token_loss, LossConfig, TokenInputs};
use entropic_sim::control::{ControlConfig, Controller, Directive, Measurement};
use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyString};
use rand::SeedableRng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// A `ValueError` carrying `e`'s sentence.
fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A Rust value as a Python object (dicts, lists, floats, strings) through
/// its serde form and Python's `json` module. Non-finite floats appear as
/// the strings `"inf"`, `"-inf"`, `"NaN"` (the workspace's `exact_f64`
/// convention) where the struct uses it, and as `NaN`/`Infinity` floats
/// elsewhere.
fn to_py<'py, T: Serialize>(py: Python<'py>, x: &T) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(x).map_err(value_error)?;
    py.import("json")?.call_method1("loads", (text,))
}

/// A Python object (as `json.dumps` writes it, with non-finite floats
/// allowed) read into a Rust value; serde's message on failure.
fn from_py<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let text: String = obj
        .py()
        .import("json")?
        .call_method1("dumps", (obj,))?
        .extract()?;
    // json.dumps writes Infinity/NaN; serde_json reads neither, so spell
    // them as the strings our exact_f64 fields accept.
    let text = text
        .replace("-Infinity", "\"-inf\"")
        .replace("Infinity", "\"inf\"")
        .replace("NaN", "\"NaN\"");
    serde_json::from_str(&text).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// One keyword value as JSON: non-finite floats as the strings `exact_f64`
/// reads, everything else through `json.dumps`.
fn kw_to_json(v: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(f) = v.cast::<PyFloat>() {
        let x = f.value();
        if !x.is_finite() {
            return Ok(Value::String(format!("{x}")));
        }
    }
    if v.cast::<PyString>().is_ok() {
        return Ok(Value::String(v.extract()?));
    }
    from_py(v, "option")
}

/// A number as JSON for an `exact_f64` field.
fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or_else(|| Value::String(format!("{x}")), Value::Number)
}

/// A [`ControlConfig`] from keyword options over `base` (unknown keys and
/// wrong types refused by serde, ranges by `validate`); `who` names the
/// caller in the error, e.g. `EntropicController: key `control.kp`: ...`.
fn control_config(
    base: serde_json::Map<String, Value>,
    options: Option<&Bound<'_, PyDict>>,
    who: &str,
) -> PyResult<ControlConfig> {
    let mut map = base;
    if let Some(o) = options {
        for (k, v) in o.iter() {
            map.insert(k.extract::<String>()?, kw_to_json(&v)?);
        }
    }
    let cfg: ControlConfig = serde_json::from_value(Value::Object(map))
        .map_err(|e| PyValueError::new_err(format!("{who}: {e}")))?;
    cfg.validate(who, "control").map_err(value_error)?;
    Ok(cfg)
}

/// The EntroPIC controller (docs/mathematics.md §3) and the peer methods,
/// one controller step per `update`. See `entropic/_native.pyi`.
#[pyclass(name = "EntropicController", module = "entropic._native")]
pub struct PyController {
    inner: Controller,
}

#[pymethods]
impl PyController {
    #[new]
    #[pyo3(signature = (target, kp = 1.0, ki = 0.01, **options))]
    fn new(target: f64, kp: f64, ki: f64, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut base = serde_json::Map::new();
        base.insert("method".into(), Value::String("entropic".into()));
        base.insert("target".into(), num(target));
        base.insert("kp".into(), num(kp));
        base.insert("ki".into(), num(ki));
        let cfg = control_config(base, options, "EntropicController")?;
        Ok(PyController {
            inner: Controller::new(cfg),
        })
    }

    /// One controller step on the measured token-mean entropy; returns α.
    #[pyo3(signature = (entropy, sampled_nll = f64::NAN))]
    fn update(&mut self, entropy: f64, sampled_nll: f64) -> PyResult<f64> {
        if !entropy.is_finite() {
            return Err(PyValueError::new_err(format!(
                "entropy must be finite (got {entropy})"
            )));
        }
        Ok(self
            .inner
            .update(Measurement {
                entropy,
                sampled_nll,
            })
            .alpha)
    }

    #[getter]
    fn alpha(&self) -> f64 {
        self.inner.state.last.alpha
    }

    #[getter]
    fn entropy_coef(&self) -> f64 {
        self.inner.state.last.entropy_coef
    }

    #[getter]
    fn integral(&self) -> f64 {
        self.inner.state.integral
    }

    #[getter]
    fn steps(&self) -> usize {
        self.inner.state.steps
    }

    #[getter]
    fn last<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.state.last)
    }

    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.cfg)
    }

    fn state_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner)
    }

    fn load_state_dict(&mut self, state: &Bound<'_, PyAny>) -> PyResult<()> {
        let c: Controller = from_py(state, "load_state_dict")?;
        c.cfg
            .validate("load_state_dict", "cfg")
            .map_err(value_error)?;
        self.inner = c;
        Ok(())
    }

    #[staticmethod]
    fn from_state_dict(state: &Bound<'_, PyAny>) -> PyResult<Self> {
        let c: Controller = from_py(state, "from_state_dict")?;
        c.cfg
            .validate("from_state_dict", "cfg")
            .map_err(value_error)?;
        Ok(PyController { inner: c })
    }

    fn __repr__(&self) -> String {
        let c = &self.inner.cfg;
        let method = serde_json::to_value(c.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        format!(
            "EntropicController(method={method:?}, target={}, kp={}, ki={}, alpha_max={}, steps={}, integral={}, alpha={})",
            c.target,
            c.kp,
            c.ki,
            c.alpha_max,
            self.inner.state.steps,
            self.inner.state.integral,
            self.inner.state.last.alpha
        )
    }
}

/// The loss value, its gradient per token and the statistics of one
/// `token_loss` call.
#[pyclass(name = "TokenLoss", module = "entropic._native", get_all)]
pub struct PyTokenLoss {
    loss: f64,
    dlogp: Py<PyArray1<f64>>,
    dentropy: Py<PyArray1<f64>>,
    n_tokens: usize,
    n_hp: usize,
    hp_frac: f64,
    clip_frac: f64,
    kl: f64,
    n_selected: usize,
}

#[pymethods]
impl PyTokenLoss {
    fn __repr__(&self) -> String {
        format!(
            "TokenLoss(loss={}, n_tokens={}, n_hp={}, hp_frac={}, clip_frac={}, kl={})",
            self.loss, self.n_tokens, self.n_hp, self.hp_frac, self.clip_frac, self.kl
        )
    }
}

/// `sim::control::loss::token_loss` on 1-D arrays of valid tokens.
#[pyfunction]
#[pyo3(signature = (log_probs, old_log_probs, advantages, entropies, *, ref_log_probs = None,
    weights = None, controller = None, alpha = None, entropy_coef = None, eps_low = 0.2,
    eps_high = 0.2, dual_clip = 3.0, kl_coef = 0.0, seed = 0, **control))]
#[allow(clippy::too_many_arguments)]
fn token_loss(
    py: Python<'_>,
    log_probs: PyReadonlyArray1<'_, f64>,
    old_log_probs: PyReadonlyArray1<'_, f64>,
    advantages: PyReadonlyArray1<'_, f64>,
    entropies: PyReadonlyArray1<'_, f64>,
    ref_log_probs: Option<PyReadonlyArray1<'_, f64>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    controller: Option<PyRef<'_, PyController>>,
    alpha: Option<f64>,
    entropy_coef: Option<f64>,
    eps_low: f64,
    eps_high: f64,
    dual_clip: f64,
    kl_coef: f64,
    seed: u64,
    control: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyTokenLoss> {
    let (ctl, last) = match &controller {
        Some(c) => {
            if control.is_some_and(|d| !d.is_empty()) {
                return Err(PyValueError::new_err(
                    "token_loss: pass control options either through `controller` or as keywords, not both",
                ));
            }
            (c.inner.cfg.clone(), c.inner.state.last)
        }
        None => {
            let mut base = serde_json::Map::new();
            base.insert("method".into(), Value::String("entropic".into()));
            (
                control_config(base, control, "token_loss")?,
                Directive::default(),
            )
        }
    };
    let d = Directive {
        alpha: alpha.unwrap_or(last.alpha),
        entropy_coef: entropy_coef.unwrap_or(last.entropy_coef),
        ..last
    };
    if !d.alpha.is_finite() || !d.entropy_coef.is_finite() {
        return Err(PyValueError::new_err(format!(
            "token_loss: alpha and entropy_coef must be finite (got {}, {})",
            d.alpha, d.entropy_coef
        )));
    }
    let cfg = LossConfig {
        eps_low,
        eps_high,
        dual_clip,
        kl_coef,
    };
    cfg.validate("token_loss", "loss").map_err(value_error)?;
    let x = TokenInputs {
        adv: advantages.as_slice()?,
        logp: log_probs.as_slice()?,
        logp_old: old_log_probs.as_slice()?,
        logp_ref: match &ref_log_probs {
            Some(r) => Some(r.as_slice()?),
            None => None,
        },
        entropy: entropies.as_slice()?,
        weight: match &weights {
            Some(w) => Some(w.as_slice()?),
            None => None,
        },
    };
    let n = x.check().map_err(value_error)?;
    if let Some(w) = x.weight {
        if w.len() != n {
            return Err(PyValueError::new_err(format!(
                "token_loss: weights hold {} values for {n} tokens",
                w.len()
            )));
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let out = rust_token_loss(&cfg, &ctl, &d, &x, &mut rng);
    Ok(PyTokenLoss {
        loss: out.loss,
        dlogp: PyArray1::from_vec(py, out.dlogp).unbind(),
        dentropy: PyArray1::from_vec(py, out.dentropy).unbind(),
        n_tokens: out.stats.n_tokens,
        n_hp: out.stats.n_hp,
        hp_frac: out.stats.hp_frac,
        clip_frac: out.stats.clip_frac,
        kl: out.stats.kl,
        n_selected: out.stats.n_selected,
    })
}

/// A composition as a dict with NaN kept as a float (serde_json would
/// write it as null).
fn composition_dict<'py>(py: Python<'py>, c: &Composition) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("n_tokens", c.n_tokens)?;
    d.set_item("n_hp", c.n_hp)?;
    d.set_item("hp_frac", c.hp_frac)?;
    d.set_item("hp_entropy_share", c.hp_entropy_share)?;
    d.set_item("tail_mass_hp", c.tail_mass_hp)?;
    d.set_item("entropy_mean", c.entropy_mean)?;
    Ok(d)
}

/// `sim::composition::composition_from_logits` on an (N, V) array.
#[pyfunction]
#[pyo3(signature = (logits, tokens, tau = 0.95))]
fn composition_from_logits<'py>(
    py: Python<'py>,
    logits: PyReadonlyArray2<'py, f64>,
    tokens: PyReadonlyArray1<'py, i64>,
    tau: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let shape = logits.shape();
    let (rows, vocab) = (shape[0], shape[1]);
    let toks = tokens.as_slice()?;
    if rows != toks.len() {
        return Err(PyValueError::new_err(format!(
            "logits have {rows} rows but tokens hold {} ids",
            toks.len()
        )));
    }
    let ids = toks
        .iter()
        .enumerate()
        .map(|(t, &y)| {
            usize::try_from(y).map_err(|_| {
                PyValueError::new_err(format!(
                    "token {t}: id {y} is outside the vocabulary (size {vocab})"
                ))
            })
        })
        .collect::<PyResult<Vec<usize>>>()?;
    let c: Composition = composition::composition_from_logits(logits.as_slice()?, vocab, &ids, tau)
        .map_err(value_error)?;
    composition_dict(py, &c)
}

/// `sim::composition::composition` from per-token log π(y_t) and H_t.
#[pyfunction]
#[pyo3(signature = (log_probs, entropies, tau = 0.95))]
fn composition_from_token_stats<'py>(
    py: Python<'py>,
    log_probs: PyReadonlyArray1<'py, f64>,
    entropies: PyReadonlyArray1<'py, f64>,
    tau: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let c = composition::composition(log_probs.as_slice()?, entropies.as_slice()?, tau)
        .map_err(value_error)?;
    composition_dict(py, &c)
}

fn array_series(source: &str, e: Vec<f64>, a: Vec<f64>) -> Series {
    Series {
        source: source.into(),
        entropy_column: "entropy".into(),
        alpha_column: "alpha".into(),
        step: (0..e.len()).map(|t| t as f64).collect(),
        entropy: e,
        alpha: a,
        ..Series::default()
    }
}

/// The randomization design of `identify`'s `prbs_*` arguments (as `tune
/// identify --prbs-hold`); `prbs_start` or `prbs_steps` without
/// `prbs_hold` is refused, as the CLI refuses them (`lag_decay` serves
/// both unpaired designs). `coding` is "nrz" or "manchester"
/// (`--prbs-coding`).
fn prbs_design(
    alpha: &[f64],
    hold: Option<usize>,
    start: usize,
    steps: Option<usize>,
    coding: &str,
    lag_decay: f64,
) -> PyResult<Option<PrbsDraw>> {
    if !(0.0..1.0).contains(&lag_decay) {
        return Err(PyValueError::new_err(format!(
            "lag_decay must be in [0, 1) (got {lag_decay})"
        )));
    }
    let coding: Coding = coding.parse().map_err(PyValueError::new_err)?;
    match hold {
        None if start != 0 || steps.is_some() || coding != Coding::Nrz => Err(
            PyValueError::new_err("prbs_start, prbs_steps and prbs_coding need prbs_hold"),
        ),
        None => Ok(None),
        Some(h) => PrbsDraw::from_schedule(alpha, h, start, steps, coding)
            .map(Some)
            .map_err(value_error),
    }
}

/// `proofs::tune::identify_with_power` with the randomization design (if
/// any) and its lag, errors as ValueError: what `identify` and
/// `identify_log` share once their series are read.
fn identify_series(
    series: &Series,
    twin: Option<&Series>,
    delay: Option<usize>,
    draw: Option<&PrbsDraw>,
    lag_decay: f64,
) -> PyResult<tune::PowerIdentified> {
    tune::identify_with_power(series, twin, delay, draw, lag_decay).map_err(value_error)
}

/// `proofs::tune::identify_with_power` on arrays of H_t and α_t
/// (docs/mathematics.md §9): the paired estimator when `twin` (the plain
/// arm's entropy, same seed, α = 0) is given, else the unpaired
/// (Newey–West in differences) one, with α through a geometric lag of
/// decay `lag_decay` if given. Returns `fit`, `estimate` (with
/// `g_detectable`, the smallest g detected with 80% power), `open_loop`,
/// `delay_residuals` and `interval_caveat` (what the interval rests on
/// where it is approximate: the Newey–West design, or a paired one from
/// fewer than 4 seeds; else None); a g whose interval is not above
/// 0 raises, naming
/// the detectable g. `prbs_hold` (with `prbs_start`, default 0): α was a
/// PRBS drawn at random with that hold; the unpaired estimate then takes a
/// randomization interval (as `entropic tune identify --prbs-hold`);
/// `prbs_coding = "manchester"` when it was Manchester-coded.
#[pyfunction]
#[pyo3(signature = (entropy, alpha, delay = None, twin = None, prbs_hold = None, prbs_start = 0,
    prbs_steps = None, lag_decay = 0.0, prbs_coding = "nrz"))]
#[allow(clippy::too_many_arguments)]
fn identify<'py>(
    py: Python<'py>,
    entropy: PyReadonlyArray1<'py, f64>,
    alpha: PyReadonlyArray1<'py, f64>,
    delay: Option<usize>,
    twin: Option<PyReadonlyArray1<'py, f64>>,
    prbs_hold: Option<usize>,
    prbs_start: usize,
    prbs_steps: Option<usize>,
    lag_decay: f64,
    prbs_coding: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let (e, a) = (entropy.as_slice()?.to_vec(), alpha.as_slice()?.to_vec());
    let draw = prbs_design(
        &a,
        prbs_hold,
        prbs_start,
        prbs_steps,
        prbs_coding,
        lag_decay,
    )?;
    let series = array_series("arrays", e, a);
    let twin = match twin {
        Some(t) => {
            let t = t.as_slice()?.to_vec();
            let zeros = vec![0.0; t.len()];
            Some(array_series("twin", t, zeros))
        }
        None => None,
    };
    let id = identify_series(&series, twin.as_ref(), delay, draw.as_ref(), lag_decay)?;
    to_py(py, &id)
}

/// `proofs::tune::parse_log` + `identify_with_power` on a log's text (CSV
/// with a header, or our metrics.jsonl), with the plain twin's log text
/// `twin` for the paired design; returns the identification and the series
/// read (`series`), so the caller can recommend with its first entropy.
/// `prbs_hold`, `prbs_start`, `prbs_steps`, `prbs_coding`: as [`identify`]'s.
#[pyfunction]
#[pyo3(signature = (text, columns = None, delay = None, arm = None, seed = None, twin = None,
    prbs_hold = None, prbs_start = 0, prbs_steps = None, lag_decay = 0.0, prbs_coding = "nrz"))]
#[allow(clippy::too_many_arguments)]
fn identify_log<'py>(
    py: Python<'py>,
    text: &str,
    columns: Option<&str>,
    delay: Option<usize>,
    arm: Option<&str>,
    seed: Option<u64>,
    twin: Option<&str>,
    prbs_hold: Option<usize>,
    prbs_start: usize,
    prbs_steps: Option<usize>,
    lag_decay: f64,
    prbs_coding: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let cols = match columns {
        Some(c) => Columns::parse(c).map_err(value_error)?,
        None => Columns::default(),
    };
    // With a twin and no seed, a probe log of one run over several seeds is
    // paired seed by seed and pooled, as the CLI's `--twin` without
    // `--seed` (`tune::pair_seeds`); a PRBS design or a lag beside the twin
    // is refused first, as in the one-run case.
    if let (Some(t), None) = (twin, seed) {
        tune::check_twin_design(prbs_hold.is_some(), lag_decay).map_err(value_error)?;
        let coding: Coding = prbs_coding.parse().map_err(PyValueError::new_err)?;
        if prbs_start != 0 || prbs_steps.is_some() || coding != Coding::Nrz {
            return Err(PyValueError::new_err(
                "prbs_start, prbs_steps and prbs_coding need prbs_hold",
            ));
        }
        if let Some(pairs) = tune::pair_seeds(text, t, &cols, arm).map_err(value_error)? {
            let refs: Vec<(&Series, &Series)> = pairs.iter().map(|(p, q)| (p, q)).collect();
            let id = tune::identify_paired_seeds(&refs, delay).map_err(value_error)?;
            let out = serde_json::json!({ "identified": id, "series": pairs[0].0 });
            return to_py(py, &out);
        }
    }
    let series = tune::parse_log(text, &cols, arm, seed).map_err(value_error)?;
    // The twin is its own run: `arm` names the probe's arm (as the CLI's
    // `--twin`).
    let twin = match twin {
        Some(t) => Some(
            tune::parse_twin_log(t, &cols, seed)
                .map_err(|e| PyValueError::new_err(format!("twin: {e}")))?,
        ),
        None => None,
    };
    let draw = prbs_design(
        &series.alpha,
        prbs_hold,
        prbs_start,
        prbs_steps,
        prbs_coding,
        lag_decay,
    )?;
    let id = identify_series(&series, twin.as_ref(), delay, draw.as_ref(), lag_decay)?;
    let out = serde_json::json!({ "identified": id, "series": series });
    to_py(py, &out)
}

/// `proofs::tune::recommend` for a fit (a dict as `identify` returns under
/// `fit`) and a design spec; adds the scenario snippet and verl overrides.
#[pyfunction]
#[pyo3(signature = (fit, *, target, e0, settle = 50, band = None, alpha_max = 1.0,
    max_overshoot = 0.1, form = "before"))]
#[allow(clippy::too_many_arguments)]
fn recommend<'py>(
    py: Python<'py>,
    fit: &Bound<'py, PyAny>,
    target: f64,
    e0: f64,
    settle: usize,
    band: Option<f64>,
    alpha_max: f64,
    max_overshoot: f64,
    form: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let fit: entropic_proofs::ident::Fit = from_py(fit, "recommend: fit")?;
    let form = serde_json::from_value(Value::String(form.into())).map_err(|_| {
        PyValueError::new_err(format!(
            "recommend: form must be \"before\" or \"after\" (got {form:?})"
        ))
    })?;
    let spec = DesignSpec {
        settle,
        target,
        band,
        e0,
        alpha_max,
        form,
        max_overshoot,
    };
    let r = tune::recommend(&fit, &spec).map_err(value_error)?;
    let out = serde_json::json!({
        "recommendation": r,
        "scenario_snippet": tune::scenario_snippet(&r),
        "verl_overrides": tune::verl_overrides(&r),
    });
    to_py(py, &out)
}

/// `proofs::tune::probe_schedule`: the PRBS probe as `(steps, alpha)` pairs.
#[pyfunction]
#[pyo3(signature = (steps, amplitude = 0.5, center = 0.0, hold = tune::MAX_DELAY + 2))]
fn probe_schedule(steps: usize, amplitude: f64, center: f64, hold: usize) -> Vec<(usize, f64)> {
    tune::probe_schedule(steps, amplitude, center, hold)
}

/// The native module; the public API is `entropic` (see `__init__.py`).
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyController>()?;
    m.add_class::<PyTokenLoss>()?;
    m.add_function(wrap_pyfunction!(token_loss, m)?)?;
    m.add_function(wrap_pyfunction!(composition_from_logits, m)?)?;
    m.add_function(wrap_pyfunction!(composition_from_token_stats, m)?)?;
    m.add_function(wrap_pyfunction!(identify, m)?)?;
    m.add_function(wrap_pyfunction!(identify_log, m)?)?;
    m.add_function(wrap_pyfunction!(recommend, m)?)?;
    m.add_function(wrap_pyfunction!(probe_schedule, m)?)?;
    m.add("MAX_DELAY", tune::MAX_DELAY)?;
    Ok(())
}
