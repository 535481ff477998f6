//! Helpers shared by the binary's integration tests (`mod common;` in each):
//! the binary under test, scratch folders, files and stderr, and the smoke
//! base model pretrained through the binary.
#![allow(dead_code)] // each test crate uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `entropic` binary built for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_entropic"))
}

/// A scratch folder, deleted (with its temporary parent) when dropped.
pub fn tmp(name: &str) -> entropic_sim::scratch::Scratch {
    entropic_sim::scratch::Scratch::created(name)
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// `entropic llm pretrain --config scenarios/llm-smoke.toml --out base`
/// (a few seconds), asserting it succeeded.
pub fn pretrain_smoke(base: &Path) {
    let o = bin()
        .args([
            "llm",
            "pretrain",
            "--config",
            "scenarios/llm-smoke.toml",
            "--out",
        ])
        .arg(base)
        .output()
        .expect("pretrain");
    assert!(o.status.success(), "pretrain: {}", stderr(&o));
}
