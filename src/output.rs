//! Output folders: checked before any work, written beside the final folder
//! and moved into place, and replaced only where an earlier `entropic run`
//! left a manifest of what it wrote (docs/robustness.md).
//!
//! - [`check_place`]: an `--out` that names a file, or where nothing can be
//!   created, is an input error (exit 2) before the simulation starts.
//! - [`Manifest`]: `.entropic-manifest.json`, the list of files a completed
//!   run wrote. Replacing a folder removes exactly those files; a non-empty
//!   folder without one is never touched, `--force` or not.
//! - [`move_into`]: moves every file of a staging folder into the final one,
//!   each with one rename.

use crate::error::InputError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest file a completed run leaves in its folder.
pub const MANIFEST: &str = ".entropic-manifest.json";

/// `DIR.partial` beside `DIR` (the name with `.partial` appended).
pub fn partial_of(dir: &Path) -> PathBuf {
    let mut name = dir
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "out".into());
    name.push(".partial");
    dir.with_file_name(name)
}

/// Refuses a path that exists and is not a folder, and a folder where no
/// file can be created (checked by creating and removing a probe file; the
/// folder itself is created when absent). `what` names the flag in the
/// message (`--out reports`).
pub fn check_place(dir: &Path, what: &str) -> Result<(), InputError> {
    if dir.exists() && !dir.is_dir() {
        return Err(InputError(format!(
            "{what}: {} is a file, not a folder",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        InputError(format!(
            "{what}: cannot create the folder {}: {}",
            dir.display(),
            io_reason(&e)
        ))
    })?;
    probe(dir).map_err(|e| {
        InputError(format!(
            "{what}: cannot write into {}: {}",
            dir.display(),
            io_reason(&e)
        ))
    })
}

/// Whether a file can be created in the folder `dir`: creates and removes
/// an empty probe file there.
fn probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".entropic-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// [`check_place`] without creating anything: refuses a path that exists
/// and is not a folder, a folder where no file can be written, and an
/// absent path whose nearest existing ancestor is a file or a folder
/// where nothing can be created (probed with a file created and removed
/// there). For commands that check more inputs after this one and must
/// leave no empty folder behind when those fail (`llm grpo`, `llm
/// pretrain`, `llm validate`).
pub fn check_creatable(dir: &Path, what: &str) -> Result<(), InputError> {
    if dir.is_dir() {
        return check_place(dir, what);
    }
    let cannot = |reason: String| {
        InputError(format!(
            "{what}: cannot create the folder {}: {reason}",
            dir.display()
        ))
    };
    // present, links included (a dangling link is not a place to create
    // a folder)
    let present = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    if present(dir) {
        return Err(InputError(format!(
            "{what}: {} is a file, not a folder",
            dir.display()
        )));
    }
    // the nearest ancestor that exists (the current folder for a relative
    // path with none)
    let mut up = dir.parent();
    while let Some(p) = up {
        if p.as_os_str().is_empty() || present(p) {
            break;
        }
        up = p.parent();
    }
    let base = match up {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !base.is_dir() {
        return Err(cannot(format!("{} is not a folder", base.display())));
    }
    probe(&base).map_err(|e| cannot(io_reason(&e)))
}

/// The OS reason of an I/O error without its `(os error N)` suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The files (relative paths, `/`-separated) a completed run wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Which command wrote the folder.
    pub written_by: String,
    pub files: Vec<String>,
}

impl Manifest {
    /// The manifest of `dir`, `None` when it has none; an unreadable or
    /// malformed one is an error (the folder is then left alone).
    pub fn read(dir: &Path) -> Result<Option<Manifest>, InputError> {
        let p = dir.join(MANIFEST);
        match std::fs::read_to_string(&p) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                InputError(format!(
                    "{}: not a manifest written by entropic ({e}); the folder is left as it is",
                    p.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(InputError(format!(
                "{}: cannot read: {}",
                p.display(),
                io_reason(&e)
            ))),
        }
    }

    /// Lists every file under `dir` (the manifest itself excluded) and
    /// writes the manifest there.
    pub fn write_listing(dir: &Path, written_by: &str) -> anyhow::Result<()> {
        let mut files = Vec::new();
        list_files(dir, dir, &mut files)?;
        files.retain(|f| f != MANIFEST);
        files.sort();
        let m = Manifest {
            written_by: written_by.to_string(),
            files,
        };
        entropic_sim::report::write_atomic(
            &dir.join(MANIFEST),
            serde_json::to_string_pretty(&m)?.as_bytes(),
        )?;
        Ok(())
    }

    /// Removes the listed files of `dir` and the manifest, then the folders
    /// that this leaves empty; files not listed stay. Paths that would leave
    /// `dir` (`..`, absolute) are skipped.
    pub fn remove_listed(&self, dir: &Path) -> anyhow::Result<()> {
        let mut parents = std::collections::BTreeSet::new();
        for f in &self.files {
            let rel = Path::new(f);
            let safe = rel
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !safe {
                continue;
            }
            let p = dir.join(rel);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => anyhow::bail!("{}: cannot remove: {}", p.display(), io_reason(&e)),
            }
            let mut a = rel.parent();
            while let Some(q) = a.filter(|q| !q.as_os_str().is_empty()) {
                parents.insert(q.to_path_buf());
                a = q.parent();
            }
        }
        let _ = std::fs::remove_file(dir.join(MANIFEST));
        // deepest first: a folder is tried after its subfolders
        let mut parents: Vec<PathBuf> = parents.into_iter().collect();
        parents.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for p in parents {
            let _ = std::fs::remove_dir(dir.join(p)); // only if empty
        }
        Ok(())
    }
}

/// Relative paths of every file under `dir`, recursively.
pub fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> anyhow::Result<()> {
    for e in std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            list_files(root, &p, out)?;
        } else {
            let rel = p.strip_prefix(root).unwrap_or(&p);
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// Whether `dir` holds anything.
pub fn non_empty(dir: &Path) -> bool {
    dir.read_dir()
        .map(|mut r| r.next().is_some())
        .unwrap_or(false)
}

/// Moves every file under `from` to the same relative path under `to`
/// (creating folders), each with one rename, then removes `from`. A file
/// already at a destination is replaced; other files of `to` stay.
pub fn move_into(from: &Path, to: &Path) -> anyhow::Result<()> {
    let mut files = Vec::new();
    list_files(from, from, &mut files)?;
    for f in &files {
        let (src, dst) = (from.join(f), to.join(f));
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| anyhow::anyhow!("{}: {}", parent.display(), io_reason(&e)))?;
        }
        std::fs::rename(&src, &dst).map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot move into place: {}",
                dst.display(),
                io_reason(&e)
            )
        })?;
    }
    std::fs::remove_dir_all(from)
        .map_err(|e| anyhow::anyhow!("{}: {}", from.display(), io_reason(&e)))?;
    Ok(())
}

/// Replaces the completed run's folder `dst` by `staged`: the files the
/// manifest of `dst` lists are removed first (files of `dst` it does not
/// list stay), then `staged` is renamed to `dst` when `dst` is gone or
/// empty, else its files are moved in one by one.
pub fn replace_with(staged: &Path, dst: &Path) -> anyhow::Result<()> {
    if dst.exists() {
        if let Some(m) = Manifest::read(dst)? {
            m.remove_listed(dst)?;
        }
        if !non_empty(dst) {
            std::fs::remove_dir(dst)
                .map_err(|e| anyhow::anyhow!("{}: {}", dst.display(), io_reason(&e)))?;
        }
    }
    if !dst.exists() {
        std::fs::rename(staged, dst).map_err(|e| {
            anyhow::anyhow!(
                "{} → {}: cannot move into place: {}",
                staged.display(),
                dst.display(),
                io_reason(&e)
            )
        })?;
        return Ok(());
    }
    move_into(staged, dst)
}

/// Provenance of an output this binary writes now (docs/robustness.md):
/// its version, the command line, the git revision it was built from when
/// the build knew it, the UTC time.
pub fn provenance() -> entropic_sim::provenance::Provenance {
    entropic_sim::provenance::Provenance::now(
        concat!("entropic ", env!("CARGO_PKG_VERSION")),
        option_env!("ENTROPIC_GIT_REV"),
    )
}

/// Writes `<report stem>.stamp.json` beside `report` (`report.md` →
/// `report.stamp.json`) holding [`provenance`] and `extra` fields.
pub fn write_stamp(report: &Path, extra: serde_json::Value) -> anyhow::Result<PathBuf> {
    let stem = report
        .file_stem()
        .map_or("report".into(), |s| s.to_string_lossy().to_string());
    let path = report.with_file_name(format!("{stem}.stamp.json"));
    let mut v = serde_json::json!({ "provenance": provenance() });
    if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    entropic_sim::atomic::write_atomic(&path, serde_json::to_string_pretty(&v)?.as_bytes())?;
    Ok(path)
}
