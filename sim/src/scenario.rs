//! Scenario files (TOML): the top-level `[bandit]`, `[grpo]` and `[control]`
//! tables, a list of `[[arms]]` that override them on the same instances,
//! and an optional `[sweep]` of one key over a list of values. Loading checks
//! every key against [`crate::keys::KEYS`], its type, and its range, and
//! names the file, the key and the allowed range on any error.
//!
//! Over 600 lines: parsing, the expansion of arms and sweeps and the range
//! check of every key form one unit sharing the error helpers, and the
//! tests of each error path sit with them.

use crate::bandit::{BanditConfig, PolicyKind, Sampling};
use crate::control::ControlConfig;
use crate::error::SimError;
use crate::grpo::GrpoConfig;
use crate::keys::{doc, KEYS};
use crate::tomlmsg::article;
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml::{Table, Value};

/// One fully resolved run configuration (an arm at a sweep point).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub arm: String,
    /// `key=value` of the sweep point, if any.
    pub sweep: Option<String>,
    pub steps: usize,
    pub exact_every: usize,
    pub bandit: BanditConfig,
    pub grpo: GrpoConfig,
    pub control: ControlConfig,
}

impl Default for RunConfig {
    /// One arm `main`, no sweep, and the defaults a scenario file without
    /// `steps`/`exact_every` gets (300 steps, exact entropy every step);
    /// every section at its own `Default`.
    fn default() -> Self {
        RunConfig {
            arm: "main".into(),
            sweep: None,
            steps: 300,
            exact_every: 1,
            bandit: BanditConfig::default(),
            grpo: GrpoConfig::default(),
            control: ControlConfig::default(),
        }
    }
}

impl RunConfig {
    /// The range checks a scenario file gets ([`validate`]), for a config
    /// built in code as `RunConfig { .., ..Default::default() }`; `origin`
    /// names it in errors (where a file name would be).
    pub fn validated(self, origin: &str) -> Result<Self, SimError> {
        validate(origin, &self)?;
        Ok(self)
    }
}

/// A loaded, validated scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub expect: String,
    pub seeds: usize,
    pub runs: Vec<RunConfig>,
}

const TOP: &[&str] = &[
    "name",
    "expect",
    "seeds",
    "steps",
    "exact_every",
    "bandit",
    "grpo",
    "control",
    "arms",
    "sweep",
];

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Integer(_) => "integer",
        Value::Float(_) => "float",
        Value::Boolean(_) => "bool",
        Value::Datetime(_) => "datetime",
        Value::Array(_) => "array",
        Value::Table(_) => "table",
    }
}

/// The error for `key`, which no scenario key is, reported at `path`: the
/// keys allowed beside it.
fn unknown_key(file: &str, path: &str, key: &str) -> SimError {
    let prefix = key
        .rsplit_once('.')
        .map(|(p, _)| format!("{p}."))
        .unwrap_or_default();
    let allowed: Vec<&str> = KEYS
        .iter()
        .filter(|d| d.key.starts_with(&prefix) && !d.key[prefix.len()..].contains('.'))
        .map(|d| &d.key[prefix.len()..])
        .collect();
    SimError::input(
        file,
        path,
        format!("unknown key (allowed here: {})", allowed.join(", ")),
    )
}

fn check_value(file: &str, path: &str, key: &str, v: &Value) -> Result<(), SimError> {
    let Some(d) = doc(key) else {
        return Err(unknown_key(file, path, key));
    };
    let got = type_name(v);
    let ok =
        got == d.ty || (d.ty == "float" && got == "integer") || (d.ty == "table" && got == "table");
    if !ok {
        return Err(SimError::input(
            file,
            path,
            format!(
                "must be {} {} ({}), got {} {got}",
                article(d.ty),
                d.ty,
                d.range,
                article(got)
            ),
        ));
    }
    Ok(())
}

fn check_table(file: &str, path_prefix: &str, key_prefix: &str, t: &Table) -> Result<(), SimError> {
    for (k, v) in t {
        check_value(
            file,
            &format!("{path_prefix}{k}"),
            &format!("{key_prefix}{k}"),
            v,
        )?;
    }
    Ok(())
}

/// Integers written where floats are expected become floats, so serde accepts them.
fn floatify(key_prefix: &str, t: &mut Table) {
    for (k, v) in t.iter_mut() {
        if let (Some(d), Value::Integer(i)) = (doc(&format!("{key_prefix}{k}")), &*v) {
            if d.ty == "float" {
                *v = Value::Float(*i as f64);
            }
        }
    }
}

fn merge(base: &Table, over: Option<&Value>) -> Table {
    let mut out = base.clone();
    if let Some(Value::Table(o)) = over {
        for (k, v) in o {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Deserialise one section; errors name the key serde names inside it
/// (`control.method`).
fn de<T: for<'de> Deserialize<'de>>(file: &str, sec: &str, t: Table) -> Result<T, SimError> {
    T::deserialize(Value::Table(t)).map_err(|e| {
        let p = crate::tomlmsg::from_value(&e);
        let key = match &p.key {
            Some(k) => format!("{sec}.{k}"),
            None => sec.to_string(),
        };
        SimError::input(file, key, p.msg)
    })
}

fn get_table<'a>(file: &str, root: &'a Table, key: &str) -> Result<Option<&'a Table>, SimError> {
    match root.get(key) {
        None => Ok(None),
        Some(Value::Table(t)) => Ok(Some(t)),
        Some(v) => Err(SimError::input(
            file,
            key,
            format!(
                "must be a table, got {} {}",
                article(type_name(v)),
                type_name(v)
            ),
        )),
    }
}

fn usize_key(
    file: &str,
    root: &Table,
    key: &str,
    default: usize,
    lo: usize,
    hi: usize,
) -> Result<usize, SimError> {
    match root.get(key) {
        None => Ok(default),
        Some(Value::Integer(i)) if *i >= lo as i64 && *i <= hi as i64 => Ok(*i as usize),
        Some(v) => Err(SimError::input(
            file,
            key,
            format!("must be an integer in {lo}..={hi} (got {v})"),
        )),
    }
}

/// Load and validate a scenario file.
pub fn load(path: &Path) -> Result<Scenario, SimError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SimError::file(&file, format!("cannot read the file: {e}")))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "scenario".into());
    // A file with no key at all (empty, or only comments) is almost surely a
    // mistake; running the default scenario from it would hide that.
    if text.parse::<Table>().map(|t| t.is_empty()).unwrap_or(false) {
        return Err(SimError::file(
            &file,
            "empty scenario: the file sets no key (see `entropic scenario --keys`)",
        ));
    }
    parse(&file, &stem, &text)
}

/// Parse and validate scenario text (`file` names it in errors).
pub fn parse(file: &str, stem: &str, text: &str) -> Result<Scenario, SimError> {
    let root: Table = text.parse().map_err(|e: toml::de::Error| {
        let p = crate::tomlmsg::from_text(text, &e);
        SimError::file(file, p.sentence())
    })?;
    for (k, v) in &root {
        if !TOP.contains(&k.as_str()) {
            return Err(SimError::input(
                file,
                k,
                format!("unknown key (allowed at top level: {})", TOP.join(", ")),
            ));
        }
        if !matches!(k.as_str(), "bandit" | "grpo" | "control" | "arms" | "sweep") {
            check_value(file, k, k, v)?;
        }
    }
    let name = match root.get("name") {
        Some(Value::String(s)) => s.clone(),
        _ => stem.to_string(),
    };
    let expect = match root.get("expect") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let seeds = usize_key(file, &root, "seeds", 8, 1, 10_000)?;
    let steps = usize_key(file, &root, "steps", 300, 1, 1_000_000)?;
    let exact_every = usize_key(file, &root, "exact_every", 1, 0, steps)?;
    let mut base: [Table; 3] = Default::default();
    for (i, sec) in ["bandit", "grpo", "control"].iter().enumerate() {
        if let Some(t) = get_table(file, &root, sec)? {
            check_table(file, &format!("{sec}."), &format!("{sec}."), t)?;
            base[i] = t.clone();
        }
    }
    // arms
    let mut arms: Vec<(String, [Option<Value>; 3])> = Vec::new();
    match root.get("arms") {
        None => arms.push(("main".into(), [None, None, None])),
        Some(Value::Array(list)) if !list.is_empty() => {
            for (i, a) in list.iter().enumerate() {
                let p = format!("arms[{i}]");
                let Value::Table(t) = a else {
                    return Err(SimError::input(
                        file,
                        &p,
                        "must be a table with `name` and optional bandit/grpo/control tables",
                    ));
                };
                let name = match t.get("name") {
                    Some(Value::String(s))
                        if !s.is_empty()
                            && s.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
                    {
                        s.clone()
                    }
                    Some(v) => {
                        return Err(SimError::input(
                            file,
                            format!("{p}.name"),
                            format!(
                                "must be a non-empty string of letters, digits, - _ . (got {v})"
                            ),
                        ))
                    }
                    None => return Err(SimError::input(file, format!("{p}.name"), "is required")),
                };
                if arms.iter().any(|(n, _)| *n == name) {
                    return Err(SimError::input(
                        file,
                        format!("{p}.name"),
                        format!("duplicate arm name `{name}`"),
                    ));
                }
                let mut over: [Option<Value>; 3] = [None, None, None];
                for (k, v) in t {
                    match k.as_str() {
                        "name" => {}
                        "bandit" | "grpo" | "control" => {
                            let Value::Table(tt) = v else {
                                return Err(SimError::input(
                                    file,
                                    format!("{p}.{k}"),
                                    "must be a table",
                                ));
                            };
                            check_table(file, &format!("{p}.{k}."), &format!("{k}."), tt)?;
                            let idx = ["bandit", "grpo", "control"]
                                .iter()
                                .position(|s| s == k)
                                .unwrap_or(0);
                            over[idx] = Some(v.clone());
                        }
                        _ => {
                            return Err(SimError::input(
                                file,
                                format!("{p}.{k}"),
                                "unknown key (allowed in an arm: name, bandit, grpo, control)",
                            ))
                        }
                    }
                }
                arms.push((name, over));
            }
        }
        Some(v) => {
            return Err(SimError::input(
                file,
                "arms",
                format!("must be a non-empty array of tables (got {})", type_name(v)),
            ))
        }
    }
    // sweep
    let sweep: Option<(String, Vec<Value>)> = match get_table(file, &root, "sweep")? {
        None => None,
        Some(t) => {
            for k in t.keys() {
                if k != "key" && k != "values" {
                    return Err(SimError::input(
                        file,
                        format!("sweep.{k}"),
                        "unknown key (allowed: key, values)",
                    ));
                }
            }
            let key = match t.get("key") {
                Some(Value::String(s))
                    if s.starts_with("bandit.")
                        || s.starts_with("grpo.")
                        || s.starts_with("control.") =>
                {
                    s.clone()
                }
                v => {
                    let got = match v {
                        None => "nothing".to_string(),
                        Some(v) => format!("{v}"),
                    };
                    return Err(SimError::input(
                        file,
                        "sweep.key",
                        format!("must name a bandit., grpo. or control. key (got {got})"),
                    ));
                }
            };
            let values = match t.get("values") {
                Some(Value::Array(v)) if !v.is_empty() => v.clone(),
                _ => {
                    return Err(SimError::input(
                        file,
                        "sweep.values",
                        "must be a non-empty array",
                    ))
                }
            };
            // an unknown key is `sweep.key`'s fault, not its values'
            if doc(&key).is_none() {
                return Err(unknown_key(file, "sweep.key", &key));
            }
            for (i, v) in values.iter().enumerate() {
                check_value(file, &format!("sweep.values[{i}] ({key})"), &key, v)?;
            }
            Some((key, values))
        }
    };
    let points: Vec<Option<(String, Value)>> = match &sweep {
        None => vec![None],
        Some((k, vs)) => vs.iter().map(|v| Some((k.clone(), v.clone()))).collect(),
    };
    let mut runs = Vec::new();
    for (ai, (arm, over)) in arms.iter().enumerate() {
        for (pi, pt) in points.iter().enumerate() {
            let mut t: Vec<Table> = (0..3).map(|i| merge(&base[i], over[i].as_ref())).collect();
            let mut label = None;
            if let Some((key, v)) = pt {
                let (sec, sub) = key.split_once('.').unwrap_or(("control", key));
                let idx = ["bandit", "grpo", "control"]
                    .iter()
                    .position(|s| *s == sec)
                    .unwrap_or(2);
                t[idx].insert(sub.to_string(), v.clone());
                label = Some(format!("{sub}={}", fmt_value(v)));
            }
            for (i, sec) in ["bandit.", "grpo.", "control."].iter().enumerate() {
                floatify(sec, &mut t[i]);
            }
            let [tb, tg, tc]: [Table; 3] = t
                .try_into()
                .map_err(|_| SimError::Other("internal: sections".into()))?;
            // Where the user wrote `key` (`control.target`) for this arm and
            // sweep point: the sweep value, the arm's own table
            // (`arms[1].control.target`), else the top-level table (named
            // with the arm when there are several).
            let explicit_arms = root.contains_key("arms");
            let locate = |key: &str| -> (String, String) {
                if let Some((k, _)) = pt.as_ref().filter(|(k, _)| k == key) {
                    return (format!("sweep.values[{pi}] ({k})"), String::new());
                }
                let (sec, sub) = key.split_once('.').unwrap_or((key, ""));
                let sub = sub.split('[').next().unwrap_or(sub);
                let in_arm = ["bandit", "grpo", "control"]
                    .iter()
                    .position(|s| *s == sec)
                    .and_then(|i| over[i].as_ref())
                    .and_then(|v| v.as_table())
                    .is_some_and(|t| sub.is_empty() || t.contains_key(sub));
                if explicit_arms && in_arm {
                    (format!("arms[{ai}].{key}"), String::new())
                } else if explicit_arms && arms.len() > 1 {
                    (key.to_string(), format!(" (in arms[{ai}] `{arm}`)"))
                } else {
                    (key.to_string(), String::new())
                }
            };
            let relocate = |e: SimError| match e {
                SimError::Input { file, key, msg } => {
                    let (key, note) = locate(&key);
                    SimError::Input {
                        key,
                        file,
                        msg: format!("{msg}{note}"),
                    }
                }
                other => other,
            };
            let bandit: BanditConfig = de(file, "bandit", tb).map_err(relocate)?;
            let grpo: GrpoConfig = de(file, "grpo", tg).map_err(relocate)?;
            let control: ControlConfig = de(file, "control", tc).map_err(relocate)?;
            let rc = RunConfig {
                arm: arm.clone(),
                sweep: label,
                steps,
                exact_every,
                bandit,
                grpo,
                control,
            };
            validate(file, &rc).map_err(relocate)?;
            runs.push(rc);
        }
    }
    Ok(Scenario {
        name,
        expect,
        seeds,
        runs,
    })
}

fn fmt_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn range_err(file: &str, key: &str, range: &str, got: impl std::fmt::Display) -> SimError {
    SimError::input(file, key, format!("must be in {range} (got {got})"))
}

fn check_f(file: &str, key: &str, x: f64, ok: bool) -> Result<(), SimError> {
    if ok && !x.is_nan() {
        Ok(())
    } else {
        let range = doc(key).map(|d| d.range).unwrap_or("range");
        Err(range_err(file, key, range, x))
    }
}

fn check_u(file: &str, key: &str, x: usize, ok: bool) -> Result<(), SimError> {
    if ok {
        Ok(())
    } else {
        let range = doc(key).map(|d| d.range).unwrap_or("range");
        Err(range_err(file, key, range, x))
    }
}

/// The keys of the per_position and factored policies (crate::positional).
/// Keys of the other policies (`features`, `det_margin`, `table_scale`) are
/// ignored by these two, and these keys by the others (docs/scenarios.md).
fn validate_positional(file: &str, b: &BanditConfig, k: usize) -> Result<(), SimError> {
    let factored = b.policy == PolicyKind::Factored;
    check_f(
        file,
        "bandit.tail_mass",
        b.tail_mass,
        b.tail_mass > 0.0 && b.tail_mass < 1.0,
    )?;
    check_f(
        file,
        "bandit.tail_zipf",
        b.tail_zipf,
        (0.0..=10.0).contains(&b.tail_zipf),
    )?;
    if factored {
        let d = b.embed_dim;
        if !(2..=64).contains(&d) || d > k {
            return Err(range_err(
                file,
                "bandit.embed_dim",
                &format!("2..=64 and <= bandit.actions ({k})"),
                d,
            ));
        }
    }
    let w = b.fork_width;
    let wmax = if factored { b.embed_dim - 1 } else { k };
    if w != 0 && !(2..=wmax).contains(&w) {
        let what = if factored {
            "the d - 1 head tokens"
        } else {
            "bandit.actions"
        };
        return Err(range_err(
            file,
            "bandit.fork_width",
            &format!("0 or 2..={wmax} ({what})"),
            w,
        ));
    }
    let w_eff = match (w, factored) {
        (0, false) => k,
        (0, true) => b.embed_dim - 1,
        (w, _) => w,
    };
    if b.forks > 0 && b.correct_size >= w_eff {
        return Err(range_err(
            file,
            "bandit.correct_size",
            &format!("1..={} (below the {w_eff} candidates at a fork)", w_eff - 1),
            b.correct_size,
        ));
    }
    Ok(())
}

/// Range checks of a resolved run configuration.
pub fn validate(file: &str, rc: &RunConfig) -> Result<(), SimError> {
    let b = &rc.bandit;
    let g = &rc.grpo;
    let explicit = !b.logits.is_empty();
    let (m, k) = if explicit {
        (b.logits.len(), b.logits[0].len())
    } else {
        (b.prompts, b.actions)
    };
    if explicit {
        if b.policy != PolicyKind::Tabular {
            return Err(SimError::input(
                file,
                "bandit.logits",
                "explicit logits need policy = \"tabular\"",
            ));
        }
        for (i, row) in b.logits.iter().enumerate() {
            if row.len() != k || k < 2 || row.iter().any(|x| !x.is_finite()) {
                return Err(SimError::input(
                    file,
                    format!("bandit.logits[{i}]"),
                    format!("rows must be finite, of equal length >= 2 (row 0 has {k})"),
                ));
            }
        }
        if b.correct.len() != m {
            return Err(SimError::input(
                file,
                "bandit.correct",
                format!(
                    "must hold one list per row of logits ({m} rows, got {})",
                    b.correct.len()
                ),
            ));
        }
        for (i, c) in b.correct.iter().enumerate() {
            if c.is_empty() || c.iter().any(|&a| a >= k) {
                return Err(SimError::input(
                    file,
                    format!("bandit.correct[{i}]"),
                    format!("must be a non-empty list of indices < {k}"),
                ));
            }
        }
    } else if !b.correct.is_empty() {
        return Err(SimError::input(
            file,
            "bandit.correct",
            "explicit correct sets need explicit bandit.logits",
        ));
    }
    check_u(file, "bandit.prompts", m, (1..=1_000_000).contains(&m))?;
    let kmax = match b.policy {
        PolicyKind::Sequence => 32,
        PolicyKind::Factored => 32_768,
        _ => 4096,
    };
    check_u(file, "bandit.actions", k, (2..=kmax).contains(&k))?;
    check_f(
        file,
        "bandit.logit_scale",
        b.logit_scale,
        (0.0..=100.0).contains(&b.logit_scale),
    )?;
    check_u(
        file,
        "bandit.correct_size",
        b.correct_size,
        b.correct_size >= 1 && b.correct_size < k,
    )?;
    if b.policy.is_positional() {
        validate_positional(file, b, k)?;
    }
    if !b.pass_rate.is_empty() {
        let ok = b.pass_rate.len() == 2
            && b.pass_rate[0] > 0.0
            && b.pass_rate[0] <= b.pass_rate[1]
            && b.pass_rate[1] < 1.0;
        if !ok {
            return Err(SimError::input(
                file,
                "bandit.pass_rate",
                format!(
                    "must be [] or [lo, hi] with 0 < lo <= hi < 1 (got {:?})",
                    b.pass_rate
                ),
            ));
        }
    }
    check_u(
        file,
        "bandit.features",
        b.features,
        (1..=4096).contains(&b.features),
    )?;
    let lmax = if b.policy.is_positional() { 64 } else { 16 };
    check_u(
        file,
        "bandit.length",
        b.length,
        (1..=lmax).contains(&b.length),
    )?;
    check_u(file, "bandit.forks", b.forks, b.forks <= b.length)?;
    check_f(
        file,
        "bandit.det_margin",
        b.det_margin,
        (0.0..=50.0).contains(&b.det_margin),
    )?;
    check_f(
        file,
        "bandit.table_scale",
        b.table_scale,
        (0.0..=50.0).contains(&b.table_scale),
    )?;
    if b.sampling == Sampling::Exact
        && b.policy != PolicyKind::Tabular
        && b.policy != PolicyKind::Linear
    {
        return Err(SimError::input(
            file,
            "bandit.sampling",
            "exact sampling is available for tabular and linear policies only",
        ));
    }
    // the keys shared with the LLM trainer: one range each (crate::rl)
    g.rl()
        .check()
        .map_err(|e| range_err(file, &format!("grpo.{}", e.key), e.range, e.got))?;
    check_u(
        file,
        "grpo.batch_prompts",
        g.batch_prompts,
        g.batch_prompts <= m,
    )?;
    check_f(
        file,
        "grpo.mask_tau",
        g.mask_tau,
        g.mask_tau < 1.0 && g.mask_tau != 0.0 && g.mask_tau.is_finite(),
    )?;
    for (i, q) in g.mask.iter().enumerate() {
        if !["p_up", "p_down", "n_up", "n_down"].contains(&q.as_str()) {
            return Err(SimError::input(
                file,
                format!("grpo.mask[{i}]"),
                format!("must be one of p_up, p_down, n_up, n_down (got {q:?})"),
            ));
        }
    }
    let c = &rc.control;
    c.validate(file, "control")?;
    if let Some(msg) = c.target_above_max(k) {
        return Err(SimError::input(file, "control.target", msg));
    }
    Ok(())
}

/// `entropic bench sim`'s tabular configuration (M = 1024, K = 64, G = 8,
/// B = 256, vanilla rule, dense Adam, PI, 1000 steps, exact entropy every
/// 10), built as typed structs and validated like a scenario file; also
/// the `tabular_prof` example's, so the two cannot drift apart.
pub fn bench_tabular() -> Result<RunConfig, SimError> {
    let rc = RunConfig {
        arm: "main".into(),
        sweep: None,
        steps: 1000,
        exact_every: 10,
        bandit: BanditConfig {
            policy: PolicyKind::Tabular,
            prompts: 1024,
            actions: 64,
            logit_scale: 1.0,
            update_rule: crate::entropy::UpdateRule::Vanilla,
            ..Default::default()
        },
        grpo: GrpoConfig {
            group_size: 8,
            batch_prompts: 256,
            optimizer: crate::optim::OptimizerKind::Adam,
            lr: 0.01,
            ..Default::default()
        },
        control: ControlConfig {
            method: crate::control::Method::Entropic,
            kp: 1.0,
            ki: 0.01,
            target: 2.0,
            ..Default::default()
        },
    };
    validate("bench", &rc)?;
    Ok(rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse("t.toml", "t", text).unwrap_err().to_string()
    }

    #[test]
    fn defaults_load() {
        let s = parse("t.toml", "t", "").unwrap();
        assert_eq!(s.runs.len(), 1);
        assert_eq!(s.runs[0].arm, "main");
        assert_eq!(s.seeds, 8);
    }

    #[test]
    fn bad_input_names_file_key_and_range() {
        let e = err("[grpo]\nlr = -0.1\n");
        assert!(
            e.contains("t.toml") && e.contains("grpo.lr") && e.contains("(0, 100]"),
            "{e}"
        );
        let e = err("[grpo]\ngroup_size = 0\n");
        assert!(
            e.contains("grpo.group_size") && e.contains("2..=4096"),
            "{e}"
        );
        let e = err("[grpo]\nfoo = 1\n");
        assert!(
            e.contains("grpo.foo") && e.contains("unknown key") && e.contains("lr"),
            "{e}"
        );
        let e = err("[grpo]\nlr = \"fast\"\n");
        assert!(
            e.contains("grpo.lr") && e.contains("must be a float"),
            "{e}"
        );
        let e = err("[grpo]\nlr = nan\n");
        assert!(e.contains("grpo.lr"), "{e}");
        let e = err("[grpo]\ntemperature = inf\n");
        assert!(e.contains("grpo.temperature"), "{e}");
        let e = err("[bandit]\nactions = 4\n[control]\nmethod = \"entropic\"\ntarget = 2.0\n");
        assert!(e.contains("control.target") && e.contains("ln K"), "{e}");
        let e = err("[[arms]]\nname = \"a\"\ncontrol = { kp = \"x\" }\n");
        assert!(e.contains("arms[0].control.kp"), "{e}");
        let e = err("[control]\nmethod = \"magic\"\n");
        assert!(e.contains("control") && e.contains("magic"), "{e}");
        let e = err("seeds = 0\n");
        assert!(e.contains("seeds") && e.contains("1..=10000"), "{e}");
        let e = err("bandit = 3\n");
        assert!(e.contains("bandit") && e.contains("table"), "{e}");
    }

    #[test]
    fn arms_and_sweep_expand() {
        let s = parse(
            "t.toml",
            "t",
            "[control]\nmethod = \"entropic\"\ntarget = 1\n[[arms]]\nname = \"p\"\ncontrol = { ki = 0 }\n[[arms]]\nname = \"pi\"\n[sweep]\nkey = \"grpo.lr\"\nvalues = [0.01, 0.1]\n",
        )
        .unwrap();
        assert_eq!(s.runs.len(), 4);
        assert_eq!(s.runs[0].control.ki, 0.0);
        assert_eq!(s.runs[2].control.ki, 0.01);
        assert_eq!(s.runs[1].grpo.lr, 0.1);
        assert_eq!(s.runs[1].sweep.as_deref(), Some("lr=0.1"));
        assert_eq!(s.runs[0].control.target, 1.0);
        // a misspelled sweep key is the key's error, with the allowed names
        let e = err("[sweep]\nkey = \"grpo.temprature\"\nvalues = [1.0]\n");
        assert!(
            e.contains("key `sweep.key`") && e.contains("unknown key") && e.contains("temperature"),
            "{e}"
        );
        // a bad value of a known key stays the value's
        let e = err("[sweep]\nkey = \"grpo.lr\"\nvalues = [0.1, -1.0]\n");
        assert!(e.contains("sweep.values[1] (grpo.lr)"), "{e}");
    }

    /// The key reference lists exactly the fields of the config structs, with
    /// their defaults.
    #[test]
    fn key_reference_matches_the_structs() {
        let sections: [(&str, Value); 3] = [
            ("bandit", Value::try_from(BanditConfig::default()).unwrap()),
            ("grpo", Value::try_from(GrpoConfig::default()).unwrap()),
            (
                "control",
                Value::try_from(ControlConfig::default()).unwrap(),
            ),
        ];
        let mut from_structs: Vec<String> = Vec::new();
        for (sec, v) in &sections {
            let Value::Table(t) = v else {
                panic!("{sec} is not a table")
            };
            for (k, val) in t {
                let key = format!("{sec}.{k}");
                let d = doc(&key).unwrap_or_else(|| panic!("{key} is not documented in keys.rs"));
                let shown = match val {
                    Value::String(s) => format!("\"{s}\""),
                    Value::Float(f) if f.is_infinite() => "inf".into(),
                    Value::Float(f) => format!("{f:?}"),
                    other => other.to_string(),
                };
                let doc_default: String = d.default.to_string();
                let same = shown == doc_default
                    || doc_default
                        .parse::<f64>()
                        .ok()
                        .zip(shown.parse::<f64>().ok())
                        .is_some_and(|(a, b)| a == b);
                assert!(same, "{key}: default {shown} documented as {doc_default}");
                from_structs.push(key);
            }
        }
        from_structs.push("bandit.instance_seed".into()); // Option, absent when unset
        for d in KEYS {
            let sec = d.key.split('.').next().unwrap_or("");
            if ["bandit", "grpo", "control"].contains(&sec) {
                assert!(
                    from_structs.iter().any(|k| k == d.key),
                    "{} documented but not a field",
                    d.key
                );
            }
        }
    }

    #[test]
    fn docs_file_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/scenarios.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            on_disk,
            crate::keys::markdown(),
            "docs/scenarios.md is stale: run `entropic scenario --keys > docs/scenarios.md`"
        );
    }
}
