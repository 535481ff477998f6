//! One-line error messages from the TOML reader, shared by the scenario
//! loader and the LLM configs (docs/robustness.md): the `toml` crate reports
//! a syntax or type error as a multi-line snippet with serde's wording
//! (`invalid type: string "x", expected usize`, `expected struct GrpoParams`);
//! a user gets one line with the key, the line number and the allowed values
//! instead (`key `grpo.steps` (line 2): must be an integer (got a string "x")`).
//!
//! Chosen where nothing was specified: the key of an error found in text is
//! the last `[table]` header above the offending line joined with the key
//! written on that line; a syntax error names only the line and column.

/// An error located in a TOML text.
#[derive(Debug, Clone, PartialEq)]
pub struct TomlProblem {
    /// Dotted key (`grpo.steps`), when the error is about one key.
    pub key: Option<String>,
    /// 1-based line of the error, when known.
    pub line: Option<usize>,
    /// One line, serde's wording rewritten ([`plain`]).
    pub msg: String,
}

impl TomlProblem {
    /// `key `k` (line n): msg`, `line n: msg` or `msg`.
    pub fn sentence(&self) -> String {
        match (&self.key, self.line) {
            (Some(k), Some(l)) => format!("key `{k}` (line {l}): {}", self.msg),
            (Some(k), None) => format!("key `{k}`: {}", self.msg),
            (None, Some(l)) => format!("line {l}: {}", self.msg),
            (None, None) => self.msg.clone(),
        }
    }
}

/// The problem of `e`, raised while reading `text` (by `toml::from_str` or
/// `text.parse::<toml::Table>()`).
pub fn from_text(text: &str, e: &toml::de::Error) -> TomlProblem {
    let raw = e.message().trim();
    let Some(span) = e.span() else {
        let (key, msg) = split_keys(e);
        return TomlProblem {
            key,
            line: None,
            msg: plain(&msg),
        };
    };
    let start = span.start.min(text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    if is_syntax(raw) {
        return TomlProblem {
            key: None,
            line: None,
            msg: format!(
                "not valid TOML at line {line}, column {col}: {}",
                one_line(raw)
            ),
        };
    }
    let key = key_at(text, line);
    let mut msg = plain(raw);
    // the key is named already: "unknown key (allowed here: ...)"
    if key.is_some() {
        if let Some((_, rest)) = msg
            .strip_prefix("unknown key `")
            .and_then(|r| r.split_once("` "))
        {
            msg = format!("unknown key {rest}");
        }
    }
    TomlProblem {
        key,
        line: Some(line),
        msg,
    }
}

/// The problem of an error raised while deserialising a `toml::Value` (no
/// text, so no line): the field serde names (` in `policy``) and the message.
pub fn from_value(e: &toml::de::Error) -> TomlProblem {
    let (key, msg) = split_keys(e);
    TomlProblem {
        key,
        line: None,
        msg: plain(&msg),
    }
}

/// Whether serde's message is about the syntax rather than a value.
fn is_syntax(msg: &str) -> bool {
    let m = msg.trim_start();
    !(m.starts_with("unknown variant")
        || m.starts_with("unknown field")
        || m.starts_with("invalid type")
        || m.starts_with("invalid value")
        || m.starts_with("missing field")
        || m.starts_with("invalid length")
        || m.starts_with("duplicate field"))
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message and the key path serde appended (`... in `a.b``).
fn split_keys(e: &toml::de::Error) -> (Option<String>, String) {
    let msg = e.message().trim().to_string();
    let full = e.to_string().replace('\n', " ");
    let key = full
        .trim()
        .rsplit_once(" in `")
        .and_then(|(_, k)| k.strip_suffix('`'))
        .filter(|k| !k.is_empty() && !msg.ends_with(&format!(" in `{k}`")))
        .map(str::to_string);
    (key, one_line(&msg))
}

/// The dotted key written on `line` (1-based) of `text`, under the last
/// table header above it.
fn key_at(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?.trim();
    let header = |l: &str| -> Option<String> {
        let l = l.trim();
        let inner = l.strip_prefix("[[").and_then(|r| r.split_once("]]"));
        let inner = inner.or_else(|| l.strip_prefix('[').and_then(|r| r.split_once(']')));
        inner.map(|(h, _)| h.trim().to_string())
    };
    if let Some(h) = header(here) {
        return Some(h);
    }
    let key = here
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"'))?;
    if key.is_empty() {
        return None;
    }
    let table = lines[..line - 1].iter().rev().find_map(|l| header(l));
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

/// The backticked names of `list` (`` `a`, `b` `` or `` `a` or `b` ``),
/// comma-separated without backticks.
fn names(list: &str) -> String {
    list.replace(" or ", ", ").replace('`', "")
}

/// serde's wording as a sentence a user reads: enum values as "must be one
/// of a, b (got `x`)", fields as "unknown key", Rust type names as TOML ones.
pub fn plain(msg: &str) -> String {
    let msg = one_line(msg);
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        if let Some((got, tail)) = rest.split_once('`') {
            let list = tail
                .trim_start_matches(',')
                .trim()
                .trim_start_matches("expected")
                .trim()
                .trim_start_matches("one of")
                .trim();
            return format!("must be one of {} (got `{got}`)", names(list));
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some((got, tail)) = rest.split_once('`') {
            let list = tail
                .trim_start_matches(',')
                .trim()
                .trim_start_matches("expected")
                .trim()
                .trim_start_matches("one of")
                .trim();
            return if list.starts_with("there are no fields") || list.is_empty() {
                format!("unknown key `{got}` (this table takes no keys)")
            } else {
                format!("unknown key `{got}` (allowed here: {})", names(list))
            };
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        if let Some((f, _)) = rest.split_once('`') {
            return format!("key `{f}` is required");
        }
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some((got, want)) = rest.rsplit_once(", expected ") {
                return format!("must be {} (got {})", toml_type(want), got_value(got));
            }
        }
    }
    msg
}

/// A Rust/serde type description as the TOML type a user writes.
fn toml_type(want: &str) -> String {
    let w = want.trim();
    let is = |names: &[&str]| names.iter().any(|n| w == *n);
    if is(&["usize", "u64", "u32", "u16", "u8"]) {
        "an integer >= 0".into()
    } else if is(&["i64", "i32", "i16", "i8", "isize", "an integer", "integer"]) {
        "an integer".into()
    } else if is(&["f64", "f32", "a float", "float", "a number"]) {
        "a number".into()
    } else if is(&["a boolean", "bool", "boolean"]) {
        "true or false".into()
    } else if is(&[
        "a string",
        "string",
        "a borrowed string",
        "a character",
        "char",
    ]) {
        "a string".into()
    } else if w.starts_with("struct ") || w.starts_with("a map") || w == "map" {
        "a table".into()
    } else if w.starts_with("a sequence") || w == "sequence" || w.starts_with("a tuple") {
        "an array".into()
    } else if w.starts_with("enum ") {
        "one of its listed values (see the key reference)".into()
    } else {
        let s = w.trim_start_matches("an ").trim_start_matches("a ");
        format!("{} {s}", article(s))
    }
}

/// `a` or `an` before `word` (by its first letter).
pub fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some(c) if "aeiouAEIOU".contains(c) => "an",
        _ => "a",
    }
}

/// serde's description of the value found, in TOML words.
fn got_value(got: &str) -> String {
    let g = got.trim();
    let value = |p: &str| {
        g.strip_prefix(p)
            .map(|v| v.trim().trim_matches('`').to_string())
    };
    if let Some(v) = value("string ") {
        format!("a string {v}")
    } else if let Some(v) = value("floating point ") {
        format!("a float {v}")
    } else if let Some(v) = value("integer ") {
        format!("an integer {v}")
    } else if let Some(v) = value("boolean ") {
        format!("a bool {v}")
    } else if g == "sequence" {
        "an array".into()
    } else if g == "map" {
        "a table".into()
    } else {
        g.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct G {
        steps: usize,
        mode: Option<Mode>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    enum Mode {
        #[serde(rename = "sgd")]
        Sgd,
        #[serde(rename = "adam")]
        Adam,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct F {
        grpo: G,
    }

    fn prob(text: &str) -> TomlProblem {
        let e = toml::from_str::<F>(text).unwrap_err();
        from_text(text, &e)
    }

    #[test]
    fn messages_are_one_line_with_key_and_line() {
        let p = prob("[grpo]\nsteps = \"x\"\n");
        assert_eq!(p.key.as_deref(), Some("grpo.steps"));
        assert_eq!(p.line, Some(2));
        assert_eq!(p.msg, "must be an integer >= 0 (got a string \"x\")");
        let p = prob("[grpo]\nsteps = 1\nmode = \"foo\"\n");
        assert_eq!(p.key.as_deref(), Some("grpo.mode"));
        assert_eq!(p.msg, "must be one of sgd, adam (got `foo`)");
        let p = prob("[grpo]\nsteps = 1\nfoo = 2\n");
        assert_eq!(p.key.as_deref(), Some("grpo.foo"));
        assert_eq!(p.msg, "unknown key (allowed here: steps, mode)");
        let p = prob("grpo = 3\n");
        assert_eq!(p.key.as_deref(), Some("grpo"));
        assert_eq!(p.msg, "must be a table (got an integer 3)");
        let p = prob("[grpo]\nsteps = \n");
        assert_eq!((p.key, p.line), (None, None));
        assert!(
            p.msg.starts_with("not valid TOML at line 2, column 9: ") && !p.msg.contains('\n'),
            "{}",
            p.msg
        );
        assert_eq!(article("integer"), "an");
        assert_eq!(article("float"), "a");
    }

    #[test]
    fn value_errors_name_the_field() {
        let t: toml::Table = "steps = 1\nmode = \"x\"\n".parse().unwrap();
        let e = G::deserialize(toml::Value::Table(t)).unwrap_err();
        let p = from_value(&e);
        assert_eq!(p.key.as_deref(), Some("mode"), "{e}");
        assert_eq!(p.msg, "must be one of sgd, adam (got `x`)");
    }
    use serde::Deserialize;
}
