//! Confinement of the paths that hunt packs and job files name. Packs and job files are shared
//! and downloaded like rules are; running one must not make spoor read or write files outside
//! the directories the person running it allowed: a pack reads only files under its own root,
//! a job file only under its own directory and those given with `--allow`.
//!
//! A path is resolved the way the system will open it (symbolic links followed, `..` applied)
//! and must land inside a root; `../`, an absolute path or a link that leads elsewhere is refused
//! with the path as written, where it leads, and how to allow it.

use std::path::{Component, Path, PathBuf};

/// Directories, resolved, that named paths must stay inside.
#[derive(Debug, Clone)]
pub struct Roots {
    roots: Vec<PathBuf>,
    /// How to allow another directory, for the error message.
    how_to_allow: String,
}

impl Roots {
    /// `dirs` must exist. `how_to_allow` ends the error for a path outside them.
    pub fn new(dirs: &[PathBuf], how_to_allow: &str) -> Result<Roots, String> {
        let roots = dirs
            .iter()
            .map(|d| d.canonicalize().map_err(|e| format!("{}: {e}", d.display())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Roots { roots, how_to_allow: how_to_allow.to_string() })
    }

    /// Resolves `path` and checks that it stays inside a root; `what` names it in the error
    /// (`the store`, `sink path`). The path need not exist yet (a store or a sink's file).
    pub fn check(&self, what: &str, path: &Path) -> Result<PathBuf, String> {
        let resolved = resolve(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
        if self.roots.iter().any(|root| resolved.starts_with(root)) {
            return Ok(resolved);
        }
        let roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        let leads = if resolved == path { String::new() } else { format!(" (it leads to {})", resolved.display()) };
        Err(format!("{what} {}{leads} is outside {}: refused; {}", path.display(), roots.join(", "), self.how_to_allow))
    }
}

/// The absolute path the system would open: the longest existing prefix with its links
/// resolved, then the rest with `.` and `..` applied.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let mut base = loop {
        match existing.canonicalize() {
            Ok(base) => break base,
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                // `..` at the end of a missing path: resolve what is there lexically.
                _ => break PathBuf::from("/"),
            },
        }
    };
    for name in rest.into_iter().rev() {
        match Path::new(&name).components().next() {
            Some(Component::ParentDir) => {
                base.pop();
            }
            Some(Component::CurDir) | None => {}
            Some(_) => base.push(name),
        }
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_is_allowed_and_every_way_out_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("pack");
        std::fs::create_dir_all(root.join("hunts")).unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("hunts/link.hunt")).unwrap();
        let roots = Roots::new(std::slice::from_ref(&root), "allow it with --allow <dir>").unwrap();

        assert!(roots.check("hunt", &root.join("hunts/a.hunt")).is_ok());
        assert!(roots.check("store", &root.join("not/yet/there")).is_ok());
        assert!(roots.check("hunt", &root.join("hunts/../hunts/a.hunt")).is_ok());

        for escape in [root.join("../secret"), root.join("hunts/link.hunt"), PathBuf::from("/etc/passwd")] {
            let err = roots.check("hunt", &escape).unwrap_err();
            assert!(err.contains("is outside") && err.ends_with("allow it with --allow <dir>"), "{err}");
        }
        let err = roots.check("hunt", &root.join("hunts/link.hunt")).unwrap_err();
        assert!(err.contains("(it leads to ") && err.contains("secret)"), "{err}");
        assert!(roots.check("sink path", &root.join("missing/../../secret")).is_err());
    }
}
