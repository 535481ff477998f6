//! Scratch folders for tests and examples: `Scratch::new("name")` is
//! `<system temp>/entropic-XXXXXX/name` (not created; `Scratch::created`
//! creates it), and the whole temporary parent is deleted when the value
//! drops — also when a test fails — so test runs leave nothing in /tmp.
//! Derefs to [`Path`], so `d.join(..)`, `&d` as `&Path` and `.arg(&d)` work.
use std::ffi::OsStr;
use std::ops::Deref;
use std::path::{Path, PathBuf};

/// A folder under a fresh temporary directory, removed on drop.
#[derive(Debug)]
pub struct Scratch {
    _root: tempfile::TempDir,
    path: PathBuf,
}

impl Scratch {
    /// `<fresh temp dir>/name`, not yet created (for code that must create
    /// its output folder itself). Panics if the system temp dir is unusable
    /// (this is for tests).
    pub fn new(name: &str) -> Self {
        let root = tempfile::Builder::new()
            .prefix("entropic-")
            .tempdir()
            .expect("a temporary directory");
        let path = root.path().join(name);
        Scratch { _root: root, path }
    }

    /// As [`Scratch::new`], with the folder created.
    pub fn created(name: &str) -> Self {
        let s = Self::new(name);
        std::fs::create_dir_all(&s.path).expect("creating the scratch folder");
        s
    }
}

impl Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<OsStr> for Scratch {
    fn as_ref(&self) -> &OsStr {
        self.path.as_os_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_on_drop() {
        let s = Scratch::created("x");
        std::fs::write(s.join("f"), "1").unwrap();
        let parent = s.parent().unwrap().to_path_buf();
        assert!(parent.exists() && s.join("f").exists());
        drop(s);
        assert!(!parent.exists());
        assert!(!Scratch::new("y").exists(), "new() does not create");
    }
}
