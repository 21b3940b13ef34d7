//! The one directory walk of spoor: what `ingest`, packs, Sigma rule trees, `check` and jobs
//! read when they are given a directory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The files under `root` that `keep` accepts, in path order (a directory's entries by name,
/// depth first); `root` itself when it is a file, whatever `keep` says, since it was named.
/// Hidden entries (`.git`, `.state`) are not walked; a directory reached twice through links is
/// walked once, so a link loop ends. A root that does not exist is an error naming it; an
/// unreadable directory below it is too, since skipping it would lose what it holds.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("spoor-walk-doc-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("a/.git"))?;
/// for f in ["a/x.hunt", "a/.git/y.hunt", "b.hunt", "notes.md"] {
///     std::fs::write(dir.join(f), "")?;
/// }
/// let hunts = spoor_core::walk::files(&dir, |p| p.extension().is_some_and(|e| e == "hunt"))?;
/// assert_eq!(hunts, [dir.join("a/x.hunt"), dir.join("b.hunt")]);
/// assert_eq!(spoor_core::walk::files(&dir.join("notes.md"), |_| false)?, [dir.join("notes.md")]);
/// assert!(spoor_core::walk::files(&dir.join("missing"), |_| true).is_err());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn files(root: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
    if !meta.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    let mut walked = HashSet::new();
    while let Some(dir) = dirs.pop() {
        if !walked.insert(dir.canonicalize().map_err(|e| Error::io(&dir, e))?) {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if keep(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// [`files`] of each root, in the order given.
pub fn all_files(roots: &[PathBuf], keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for root in roots {
        out.extend(files(root, &keep)?);
    }
    Ok(out)
}
