//! Atomic file writes: every report, plot and summary is written to
//! `path.tmp` and renamed, so an interrupted write never leaves half a file.
use crate::error::SimError;
use std::path::Path;

/// Writes `bytes` to `path` via `path.tmp` and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let io = |p: &Path, source| SimError::Io {
        path: p.display().to_string(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(|e| io(Path::new(&tmp), e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}
