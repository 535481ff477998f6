//! Serde for `f64` fields that round-trips bit for bit, infinities and NaN
//! included, through serde_json and TOML.
//!
//! Why: serde_json writes `inf`/`NaN` as `null`, which it then refuses to
//! read back as `f64`; and without its `float_roundtrip` feature it parses
//! about one in eight 17-digit floats one ulp off. The workspace turns
//! `float_roundtrip` on (root `Cargo.toml`, `[workspace.dependencies]`), so
//! in this build finite numbers read back exactly and only the non-finite
//! values need the string form; the per-value check below keeps the
//! guarantee even for a build where the feature is off. Controller state
//! (the integral after thousands of steps) must restore exactly, and
//! `alpha_max = inf` / `dual_clip = inf` must survive a config written into
//! a report.
//!
//! Choice: a value is written as a plain number when serde_json, as built,
//! reads that number back to the same bits (every finite value with
//! `float_roundtrip`); otherwise as a string in Rust's shortest round-trip
//! form (`"1.2345678901234567e-1"`, `"inf"`, `"-inf"`, `"NaN"`), which
//! `str::parse::<f64>` reads exactly. Reading accepts a number, such a
//! string, or `null` (as NaN, what serde_json writes for a non-finite f64).
//! Use as `#[serde(with = "crate::control::exact_f64")]`.

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;

/// Whether serde_json, as built here, reads `x` back to the same bits.
fn json_reads_back(x: f64) -> bool {
    serde_json::to_string(&x)
        .ok()
        .and_then(|t| serde_json::from_str::<f64>(&t).ok())
        .is_some_and(|y| y.to_bits() == x.to_bits())
}

/// Writes `x` as a number when that is exact, else as a string (module doc).
pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() && json_reads_back(*x) {
        s.serialize_f64(*x)
    } else if x.is_nan() {
        s.serialize_str("NaN")
    } else if x.is_infinite() {
        s.serialize_str(if *x > 0.0 { "inf" } else { "-inf" })
    } else {
        s.serialize_str(&format!("{x:e}"))
    }
}

struct ExactF64;

impl Visitor<'_> for ExactF64 {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, or a string such as \"inf\" or \"1.5e-3\"")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        v.trim()
            .parse::<f64>()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
    fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }
    fn visit_none<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }
}

/// Reads what [`serialize`] writes (and any plain number).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(ExactF64)
}
